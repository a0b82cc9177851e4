// Shared fixtures and EIP-712 helpers for the ModelRegistry tests.
const { ethers } = require("hardhat");
const { time } = require("@nomicfoundation/hardhat-network-helpers");
const { anyUint } = require("@nomicfoundation/hardhat-chai-matchers/withArgs");

const Verdict = { None: 0, Valid: 1, Invalid: 2 };
const Status = { Pending: 0, Verified: 1, Disputed: 2, Revoked: 3 };
const QUORUM = 2;
const ADMIN_DELAY = 3 * 24 * 3600; // seconds a default-admin transfer waits
const VERSION = ethers.id("zkdl-verifier/1");
const IndexKind = { Owner: 0, Dataset: 1, Weights: 2, Proof: 3, Statement: 4 };

// EIP-712 types, exactly as declared by the contract's typehashes (docs/chain.md).
const REGISTRATION_TYPES = {
  Registration: [
    { name: "owner", type: "address" },
    { name: "cDataDigest", type: "bytes32" },
    { name: "cW0Digest", type: "bytes32" },
    { name: "cWTDigest", type: "bytes32" },
    { name: "statementDigest", type: "bytes32" },
    { name: "proofDigest", type: "bytes32" },
    { name: "parentDigest", type: "bytes32" },
    { name: "verifierVersion", type: "bytes32" },
    { name: "bundleUri", type: "string" },
    { name: "metadataUri", type: "string" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};
const ATTESTATION_TYPES = {
  Attestation: [
    { name: "verifier", type: "address" },
    { name: "modelId", type: "bytes32" },
    { name: "verdict", type: "uint8" },
    { name: "reportDigest", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/** A registration request; `tag` makes the digests distinct per model. */
function request(tag = "m0", overrides = {}) {
  return {
    cDataDigest: ethers.id(`${tag}/C_data`),
    cW0Digest: ethers.id(`${tag}/C_W0`),
    cWTDigest: ethers.id(`${tag}/C_WT`),
    statementDigest: ethers.id(`${tag}/statement`),
    proofDigest: ethers.id(`${tag}/proof`),
    parentDigest: ethers.ZeroHash,
    verifierVersion: VERSION,
    bundleUri: `file:///bundles/${tag}.zkdl`,
    metadataUri: `ipfs://meta/${tag}`,
    ...overrides,
  };
}

/** The request as the tuple ethers decodes from the ModelRegistered event. */
function requestTuple(r) {
  return [
    r.cDataDigest,
    r.cW0Digest,
    r.cWTDigest,
    r.statementDigest,
    r.proofDigest,
    r.parentDigest,
    r.verifierVersion,
    r.bundleUri,
    r.metadataUri,
  ];
}

/** The model id formula of docs/chain.md (the hash of the whole record), computed off-chain. */
function modelIdOf(chainId, registry, owner, r) {
  return ethers.keccak256(
    ethers.AbiCoder.defaultAbiCoder().encode(
      ["uint256", "address", "address", "bytes32", "bytes32", "bytes32", "bytes32", "bytes32", "bytes32", "bytes32"],
      [chainId, registry, owner, r.cDataDigest, r.cW0Digest, r.cWTDigest, r.statementDigest, r.proofDigest, r.parentDigest, r.verifierVersion],
    ),
  );
}

/** A data-set registration; `tag` makes the id distinct. */
function dataset(tag = "d0", overrides = {}) {
  return {
    datasetId: ethers.id(`${tag}/C_data`),
    samples: 1797n,
    features: 64,
    classes: 10,
    fracBits: 8,
    rangeProofDigest: ethers.id(`${tag}/range-proof`),
    uri: `ipfs://datasets/${tag}.json`,
    ...overrides,
  };
}

async function domainOf(registry, overrides = {}) {
  const { chainId } = await ethers.provider.getNetwork();
  return {
    name: "ZkdlModelRegistry",
    version: "2",
    chainId,
    verifyingContract: await registry.getAddress(),
    ...overrides,
  };
}

async function signRegistration(signer, registry, owner, req, nonce, deadline, domainOverrides = {}) {
  const domain = await domainOf(registry, domainOverrides);
  return signer.signTypedData(domain, REGISTRATION_TYPES, { owner, ...req, nonce, deadline });
}

async function signAttestation(signer, registry, verifier, att, nonce, deadline, domainOverrides = {}) {
  const domain = await domainOf(registry, domainOverrides);
  return signer.signTypedData(domain, ATTESTATION_TYPES, { verifier, ...att, nonce, deadline });
}

/** An attestation request for `modelId`. */
function attestation(modelId, verdict = Verdict.Valid, overrides = {}) {
  return { modelId, verdict, reportDigest: ethers.id(`report/${modelId}/${verdict}`), ...overrides };
}

async function deadlineIn(seconds = 3600) {
  return BigInt(await time.latest()) + BigInt(seconds);
}

/** Fixes the next block's timestamp so that events and stored times can be checked exactly. */
async function nextTimestamp() {
  const ts = (await time.latest()) + 10;
  await time.setNextBlockTimestamp(ts);
  return ts;
}

/** Deploys a registry: `admin`, the admin delay, the first verifiers and the quorum. */
async function deploy(admin, verifiers = [], quorum = 1) {
  return ethers.deployContract("ModelRegistry", [admin, ADMIN_DELAY, verifiers, quorum]);
}

/** Base fixture: a registry (quorum 2) with three verifiers, an owner, a relayer and a stranger. */
async function deployRegistry() {
  const [admin, v1, v2, v3, owner, relayer, stranger, other] = await ethers.getSigners();
  const registry = await deploy(admin.address, [v1.address, v2.address, v3.address], QUORUM);
  const VERIFIER_ROLE = await registry.VERIFIER_ROLE();
  const PAUSER_ROLE = await registry.PAUSER_ROLE();
  const { chainId } = await ethers.provider.getNetwork();
  return { registry, admin, v1, v2, v3, owner, relayer, stranger, other, VERIFIER_ROLE, PAUSER_ROLE, chainId };
}

/** Base fixture plus one model registered by `owner`. */
async function deployWithModel() {
  const f = await deployRegistry();
  const req = request("m0");
  await f.registry.connect(f.owner).registerModel(req);
  const modelId = await f.registry.computeModelId(f.owner.address, req);
  return { ...f, req, modelId };
}

module.exports = {
  anyUint,
  Verdict,
  Status,
  QUORUM,
  ADMIN_DELAY,
  VERSION,
  IndexKind,
  REGISTRATION_TYPES,
  ATTESTATION_TYPES,
  request,
  requestTuple,
  modelIdOf,
  dataset,
  deploy,
  domainOf,
  signRegistration,
  signAttestation,
  attestation,
  deadlineIn,
  nextTimestamp,
  deployRegistry,
  deployWithModel,
};
