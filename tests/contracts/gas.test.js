// Gas figures for the operations relayers pay for. Printed as a table; the targets of issue 15 make a
// regression fail the suite. Measured in the costliest case: a fee is due (so each verdict credits a
// reward), and the first model of its owner on a data set nobody registered (every index key is new).
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture } = require("@nomicfoundation/hardhat-network-helpers");
const h = require("./helpers");

const CEILINGS = {
  "deploy ModelRegistry": 5_500_000,
  "registerDataset": 160_000,
  "registerModel (direct)": 250_000,
  "registerModel (owner's 2nd, same data)": 250_000,
  "registerModelBySig (relayed)": 280_000,
  "attest (direct, 1st verdict)": 100_000,
  "attestBySig (relayed, 2nd verdict)": 120_000,
  "revokeModel": 35_000,
};
const FEE_GAS = 120_000n; // the fee per verifier pays for an attestation of up to this much gas

async function receiptOf(txPromise) {
  return (await txPromise).wait();
}

async function gasOf(txPromise) {
  return Number((await receiptOf(txPromise)).gasUsed);
}

// URIs of realistic length: a content-addressed bundle path and a metadata URI.
function uris(tag) {
  return {
    bundleUri: `file:///var/lib/zkdl/bundles/${ethers.id(tag).slice(2)}.zkdl`,
    metadataUri: `ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/${tag}.json`,
  };
}

/** The fee that covers an attestation of FEE_GAS at the next block's maximum gas price. */
async function feeCoveringAttestations() {
  const { maxFeePerGas } = await ethers.provider.getFeeData();
  return FEE_GAS * maxFeePerGas;
}

describe("ModelRegistry: gas report", function () {
  it("stays under the gas targets (figures printed)", async function () {
    const f = await loadFixture(h.deployRegistry);
    await f.registry.connect(f.admin).setAttestationFee(await feeCoveringAttestations());
    const value = await f.registry.registrationFee();
    const figures = {};
    const fresh = await h.deploy(f.admin.address, [f.v1.address, f.v2.address, f.v3.address], 2);
    figures["deploy ModelRegistry"] = Number((await fresh.deploymentTransaction().wait()).gasUsed);
    figures["registerDataset"] = await gasOf(f.registry.connect(f.other).registerDataset(h.dataset("gas")));

    const req = h.request("gas1", uris("gas1"));
    figures["registerModel (direct)"] = await gasOf(f.registry.connect(f.owner).registerModel(req, { value }));
    const modelId = await f.registry.computeModelId(f.owner.address, req);
    const again = h.request("gas1b", { ...uris("gas1b"), cDataDigest: req.cDataDigest });
    figures["registerModel (owner's 2nd, same data)"] = await gasOf(f.registry.connect(f.owner).registerModel(again, { value }));

    const req2 = h.request("gas2", uris("gas2"));
    const deadline = await h.deadlineIn();
    const rsig = await h.signRegistration(f.stranger, f.registry, f.stranger.address, req2, 1n, deadline);
    figures["registerModelBySig (relayed)"] = await gasOf(
      f.registry.connect(f.relayer).registerModelBySig(f.stranger.address, req2, 1n, deadline, rsig, { value }),
    );

    figures["attest (direct, 1st verdict)"] = await gasOf(f.registry.connect(f.v1).attest(h.attestation(modelId)));
    const att = h.attestation(modelId);
    const asig = await h.signAttestation(f.v2, f.registry, f.v2.address, att, 1n, deadline);
    figures["attestBySig (relayed, 2nd verdict)"] = await gasOf(
      f.registry.connect(f.relayer).attestBySig(f.v2.address, att, 1n, deadline, asig),
    );
    figures["revokeModel"] = await gasOf(f.registry.connect(f.owner).revokeModel(modelId));

    console.log(`\n      gas used (bundleUri ${req.bundleUri.length} B, metadataUri ${req.metadataUri.length} B):`);
    for (const [op, gas] of Object.entries(figures)) {
      console.log(`        ${op.padEnd(38)} ${String(gas).padStart(9)}   (ceiling ${CEILINGS[op]})`);
    }
    for (const [op, gas] of Object.entries(figures)) expect(gas, op).to.be.at.most(CEILINGS[op]);
  });

  it("makes a junk registration cost its sender more than all verifiers together spend on it (issue 15)", async function () {
    const f = await loadFixture(h.deployRegistry);
    await f.registry.connect(f.admin).setAttestationFee(await feeCoveringAttestations());
    const fee = await f.registry.attestationFee();
    const value = await f.registry.registrationFee();
    const junk = h.request("junk", uris("junk"));
    const reg = await receiptOf(f.registry.connect(f.stranger).registerModel(junk, { value }));
    const attacker = reg.gasUsed * reg.gasPrice + value;
    const id = await f.registry.computeModelId(f.stranger.address, junk);
    let defenders = 0n;
    const lines = [];
    for (const [i, v] of [f.v1, f.v2, f.v3].entries()) {
      const r = await receiptOf(f.registry.connect(v).attest(h.attestation(id, h.Verdict.Invalid)));
      const spent = r.gasUsed * r.gasPrice - fee; // the reward is credited in the same transaction
      expect(spent, `verifier ${i + 1} is out of pocket`).to.be.at.most(0n);
      defenders += spent;
      lines.push(`        verifier ${i + 1}: ${r.gasUsed} gas, net ${ethers.formatEther(spent)} ETH after its reward`);
    }
    console.log(`\n      junk registration: ${reg.gasUsed} gas + fee ${ethers.formatEther(value)} ETH = ${ethers.formatEther(attacker)} ETH`);
    for (const line of lines) console.log(line);
    expect(attacker).to.be.above(defenders);
    expect(attacker).to.be.above(3n * FEE_GAS * reg.gasPrice); // more than three attestations' gas
  });

  it("keeps the runtime bytecode under the EIP-170 limit (24,576 bytes)", async function () {
    const art = await hre.artifacts.readArtifact("ModelRegistry");
    const size = (art.deployedBytecode.length - 2) / 2;
    console.log(`      ModelRegistry runtime size: ${size} bytes`);
    expect(size).to.be.below(24_576);
  });
});
