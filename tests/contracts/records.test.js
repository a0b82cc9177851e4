// Data sets, the indexes (copies, lineage, models per data set), records bound to verdicts,
// EIP-7702 signers and the fee that pays the verifiers.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture } = require("@nomicfoundation/hardhat-network-helpers");
const h = require("./helpers");
const { anyValue } = require("@nomicfoundation/hardhat-chai-matchers/withArgs");

function datasetTuple(d) {
  return [d.datasetId, d.samples, d.features, d.classes, d.fracBits, d.rangeProofDigest, d.uri];
}

describe("ModelRegistry: data sets", function () {
  it("registers a data set for its sender, with every field in the event", async function () {
    const { registry, owner } = await loadFixture(h.deployRegistry);
    const d = h.dataset("digits");
    expect(await registry.datasetExists(d.datasetId)).to.equal(false);
    const ts = await h.nextTimestamp();
    const tx = registry.connect(owner).registerDataset(d);
    await expect(tx).to.emit(registry, "DatasetRegistered").withArgs(d.datasetId, owner.address, datasetTuple(d), ts);
    const r = await registry.getDataset(d.datasetId);
    expect([r.owner, r.samples, r.features, r.classes, r.fracBits, r.rangeProofDigest]).to.deep.equal([
      owner.address,
      d.samples,
      BigInt(d.features),
      BigInt(d.classes),
      BigInt(d.fracBits),
      d.rangeProofDigest,
    ]);
    expect(r.registeredBlock).to.equal((await (await tx).wait()).blockNumber);
    expect(await registry.datasetExists(d.datasetId)).to.equal(true);
  });

  it("keeps the first registrant's record: a second registration of the id is refused", async function () {
    const { registry, owner, stranger } = await loadFixture(h.deployRegistry);
    const d = h.dataset("once");
    await registry.connect(owner).registerDataset(d);
    for (const who of [owner, stranger]) {
      await expect(registry.connect(who).registerDataset({ ...d, uri: "ipfs://other" }))
        .to.be.revertedWithCustomError(registry, "ZkdlRegistryDatasetAlreadyRegistered")
        .withArgs(d.datasetId, owner.address);
    }
  });

  for (const [field, zero] of [
    ["datasetId", ethers.ZeroHash],
    ["samples", 0n],
    ["features", 0],
    ["classes", 0],
    ["rangeProofDigest", ethers.ZeroHash],
    ["uri", ""],
  ]) {
    it(`rejects a data set without ${field}`, async function () {
      const { registry, owner } = await loadFixture(h.deployRegistry);
      await expect(registry.connect(owner).registerDataset(h.dataset("z", { [field]: zero })))
        .to.be.revertedWithCustomError(registry, "ZkdlRegistryMissingField")
        .withArgs(field);
    });
  }

  it("rejects an unknown data set and a too long URI", async function () {
    const { registry, owner } = await loadFixture(h.deployRegistry);
    const unknown = ethers.id("unknown");
    await expect(registry.getDataset(unknown))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryUnknownDataset")
      .withArgs(unknown);
    const max = Number(await registry.MAX_URI_LENGTH());
    await expect(registry.connect(owner).registerDataset(h.dataset("u", { uri: "u".repeat(max + 1) })))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryUriTooLong")
      .withArgs("uri", max + 1, max);
  });

  it("lists the models trained on a data set, registered or not", async function () {
    const { registry, owner, other } = await loadFixture(h.deployRegistry);
    const d = h.dataset("shared");
    const a = h.request("a", { cDataDigest: d.datasetId });
    const b = h.request("b", { cDataDigest: d.datasetId });
    await registry.connect(owner).registerModel(a); // before the data set's record: allowed
    await registry.connect(other).registerDataset(d);
    await registry.connect(other).registerModel(b);
    const ids = [await registry.computeModelId(other.address, b), await registry.computeModelId(owner.address, a)];
    expect(await registry.getModelIdsBy(h.IndexKind.Dataset, d.datasetId, 0, 10)).to.deep.equal([ids, 0n, 2n]);
    expect(await registry.firstModelBy(h.IndexKind.Dataset, d.datasetId)).to.deep.equal([ids[1], 2n]);
  });
});

describe("ModelRegistry: copies and lineage (issue 14)", function () {
  async function original() {
    const f = await h.deployRegistry();
    const req = h.request("orig");
    await f.registry.connect(f.owner).registerModel(req);
    const id = await f.registry.computeModelId(f.owner.address, req);
    return { ...f, req, id };
  }

  it("lists every registration of the same proof and final weights, and names the earliest", async function () {
    const { registry, stranger, other, req, id } = await loadFixture(original);
    await registry.connect(stranger).registerModel(req); // a copy of the bundle under another owner
    const copy = await registry.computeModelId(stranger.address, req);
    const reproof = h.request("reproof", { cWTDigest: req.cWTDigest }); // same weights, another proof
    await registry.connect(other).registerModel(reproof);
    const third = await registry.computeModelId(other.address, reproof);
    expect(await registry.firstModelBy(h.IndexKind.Proof, req.proofDigest)).to.deep.equal([id, 2n]);
    expect(await registry.getModelIdsBy(h.IndexKind.Proof, req.proofDigest, 0, 10)).to.deep.equal([[copy, id], 0n, 2n]);
    expect(await registry.firstModelBy(h.IndexKind.Weights, req.cWTDigest)).to.deep.equal([id, 3n]);
    expect((await registry.getModelIdsBy(h.IndexKind.Weights, req.cWTDigest, 0, 10))[0]).to.deep.equal([third, copy, id]);
    expect(await registry.firstModelBy(h.IndexKind.Proof, ethers.id("none"))).to.deep.equal([ethers.ZeroHash, 0n]);
  });

  it("records a fine-tuned model's parent, found through the statement index", async function () {
    const { registry, other, req, id } = await loadFixture(original);
    const child = h.request("child", { parentDigest: req.statementDigest, cW0Digest: req.cWTDigest });
    const childId = await registry.computeModelId(other.address, child);
    await expect(registry.connect(other).registerModel(child))
      .to.emit(registry, "ModelRegistered")
      .withArgs(childId, other.address, req.statementDigest, h.requestTuple(child), other.address, h.anyUint);
    expect(await registry.getModelIdsBy(h.IndexKind.Statement, child.parentDigest, 0, 10)).to.deep.equal([[id], 0n, 1n]);
    const children = await registry.queryFilter(registry.filters.ModelRegistered(null, null, req.statementDigest));
    expect(children.map((e) => e.args.modelId)).to.deep.equal([childId]);
  });
});

describe("ModelRegistry: a verdict is for one record (issue 15)", function () {
  it("does not land a verdict signed for one record on another record after a reorg", async function () {
    const f = await loadFixture(h.deployRegistry);
    const snapshot = await ethers.provider.send("evm_snapshot", []);
    const signedFor = h.request("record-a");
    await f.registry.connect(f.owner).registerModel(signedFor);
    const idA = await f.registry.computeModelId(f.owner.address, signedFor);
    const att = h.attestation(idA, h.Verdict.Valid);
    const deadline = await h.deadlineIn();
    const sig = await h.signAttestation(f.v1, f.registry, f.v1.address, att, 1n, deadline);
    // The reorg: the registration of A is gone, the same owner's B (same C_WT and proof, other
    // statement and data) takes its place.
    await ethers.provider.send("evm_revert", [snapshot]);
    const other = h.request("record-b", { cWTDigest: signedFor.cWTDigest, proofDigest: signedFor.proofDigest });
    await f.registry.connect(f.owner).registerModel(other);
    const idB = await f.registry.computeModelId(f.owner.address, other);
    expect(idB).to.not.equal(idA);
    await expect(f.registry.attestBySig(f.v1.address, att, 1n, deadline, sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryUnknownModel")
      .withArgs(idA);
    await expect(f.registry.attestBySig(f.v1.address, { ...att, modelId: idB }, 1n, deadline, sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryInvalidSignature")
      .withArgs(f.v1.address);
    expect((await f.registry.getStatus(idB)).attestations).to.deep.equal([]);
  });

  it("gives a different id to every change of any digest, the parent or the verifier version", async function () {
    const { registry, owner } = await loadFixture(h.deployRegistry);
    const base = h.request("base");
    const baseId = await registry.computeModelId(owner.address, base);
    const fields = ["cDataDigest", "cW0Digest", "cWTDigest", "statementDigest", "proofDigest", "parentDigest", "verifierVersion"];
    for (const field of fields) {
      const changed = await registry.computeModelId(owner.address, { ...base, [field]: ethers.id(`other/${field}`) });
      expect(changed, field).to.not.equal(baseId);
    }
    const sameRecord = await registry.computeModelId(owner.address, { ...base, bundleUri: "https://mirror", metadataUri: "" });
    expect(sameRecord).to.equal(baseId);
  });
});

describe("ModelRegistry: EIP-7702 signers (issue 15)", function () {
  it("accepts the ECDSA signature of a verifier whose EOA is delegated to a contract without ERC-1271", async function () {
    const f = await loadFixture(h.deployWithModel);
    const delegate = await ethers.deployContract("DelegateWithoutErc1271Mock");
    const verifier = ethers.Wallet.createRandom().connect(ethers.provider);
    await f.registry.connect(f.admin).grantRole(f.VERIFIER_ROLE, verifier.address);
    // A real EIP-7702 authorization, carried by another account's type-4 transaction.
    const { chainId } = await ethers.provider.getNetwork();
    const auth = await verifier.authorize({ address: await delegate.getAddress(), nonce: 0, chainId });
    await (await f.relayer.sendTransaction({ type: 4, to: f.relayer.address, authorizationList: [auth], gasLimit: 100_000 })).wait();
    const designator = ethers.concat(["0xef0100", await delegate.getAddress()]).toLowerCase();
    expect(await ethers.provider.getCode(verifier.address)).to.equal(designator);

    const att = h.attestation(f.modelId);
    const deadline = await h.deadlineIn();
    // Another key's signature fails for it (ECDSA recovers another address, and the delegate has no ERC-1271)...
    const forged = await h.signAttestation(f.stranger, f.registry, verifier.address, att, 2n, deadline);
    await expect(f.registry.attestBySig(verifier.address, att, 2n, deadline, forged))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryInvalidSignature")
      .withArgs(verifier.address);
    // ...its own key's signature counts.
    const sig = await h.signAttestation(verifier, f.registry, verifier.address, att, 1n, deadline);
    await expect(f.registry.connect(f.relayer).attestBySig(verifier.address, att, 1n, deadline, sig))
      .to.emit(f.registry, "ModelAttested")
      .withArgs(f.modelId, verifier.address, h.Verdict.Valid, att.reportDigest, f.relayer.address, h.anyUint, 0);
  });
});

describe("ModelRegistry: the fee pays the verifiers (issue 15)", function () {
  const FEE = ethers.parseUnits("1", "gwei") * 100_000n;

  async function withFee() {
    const f = await h.deployRegistry();
    await expect(f.registry.connect(f.admin).setAttestationFee(FEE)).to.emit(f.registry, "AttestationFeeChanged").withArgs(0, FEE);
    return f;
  }

  it("charges the fee per verifier and refuses less", async function () {
    const { registry, owner } = await loadFixture(withFee);
    const fee = await registry.registrationFee();
    expect(fee).to.equal(FEE * 3n);
    await expect(registry.connect(owner).registerModel(h.request("cheap"), { value: fee - 1n }))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryFeeTooLow")
      .withArgs(fee - 1n, fee);
    await registry.connect(owner).registerModel(h.request("paid"), { value: fee + 5n }); // overpaid: to the pool
    expect(await registry.rewardPool()).to.equal(fee + 5n);
    expect(await ethers.provider.getBalance(await registry.getAddress())).to.equal(fee + 5n);
  });

  it("credits each verdict's verifier out of the pool, valid or invalid, and lets it withdraw", async function () {
    const { registry, owner, v1, v2, stranger } = await loadFixture(withFee);
    const req = h.request("junk");
    await registry.connect(owner).registerModel(req, { value: await registry.registrationFee() });
    const id = await registry.computeModelId(owner.address, req);
    await expect(registry.connect(v1).attest(h.attestation(id, h.Verdict.Invalid)))
      .to.emit(registry, "ModelAttested")
      .withArgs(id, v1.address, h.Verdict.Invalid, anyValue, v1.address, h.anyUint, FEE);
    await registry.connect(v2).attest(h.attestation(id, h.Verdict.Valid));
    expect(await registry.rewardsOf(v1.address)).to.equal(FEE);
    expect(await registry.rewardPool()).to.equal(FEE);
    await expect(registry.connect(v1).withdrawRewards(stranger.address)).to.changeEtherBalances(
      [stranger, registry],
      [FEE, -FEE],
    );
    expect(await registry.rewardsOf(v1.address)).to.equal(0);
    await expect(registry.connect(v1).withdrawRewards(v1.address))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryNothingToWithdraw")
      .withArgs(v1.address);
  });

  it("never credits more than the pool holds", async function () {
    const { registry, admin, owner, v1, v2 } = await loadFixture(h.deployRegistry);
    const free = h.request("free");
    await registry.connect(owner).registerModel(free); // fee 0: nothing in the pool
    const id = await registry.computeModelId(owner.address, free);
    await registry.connect(admin).setAttestationFee(FEE);
    await expect(registry.connect(v1).attest(h.attestation(id)))
      .to.emit(registry, "ModelAttested")
      .withArgs(id, v1.address, h.Verdict.Valid, anyValue, v1.address, h.anyUint, 0);
    await registry.connect(owner).registerModel(h.request("paid"), { value: await registry.registrationFee() });
    await registry.connect(v2).attest(h.attestation(id));
    expect(await registry.rewardsOf(v2.address)).to.equal(FEE);
    expect(await registry.rewardPool()).to.equal(FEE * 2n);
  });

  it("lets only the admin set the fee and the signature lifetime, within bounds", async function () {
    const { registry, admin, stranger } = await loadFixture(h.deployRegistry);
    await expect(registry.connect(stranger).setAttestationFee(1))
      .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
      .withArgs(stranger.address, ethers.ZeroHash);
    await expect(registry.connect(stranger).setMaxSignatureTtl(7200))
      .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
      .withArgs(stranger.address, ethers.ZeroHash);
    const [min, max] = [await registry.SIGNATURE_TTL_MIN(), await registry.SIGNATURE_TTL_MAX()];
    for (const bad of [0n, min - 1n, max + 1n]) {
      await expect(registry.connect(admin).setMaxSignatureTtl(bad))
        .to.be.revertedWithCustomError(registry, "ZkdlRegistryInvalidSignatureTtl")
        .withArgs(bad, min, max);
    }
    await expect(registry.connect(admin).setMaxSignatureTtl(7200))
      .to.emit(registry, "MaxSignatureTtlChanged")
      .withArgs(30 * 24 * 3600, 7200);
  });
});
