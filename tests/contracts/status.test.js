const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture } = require("@nomicfoundation/hardhat-network-helpers");
const h = require("./helpers");

async function statusOf(registry, modelId) {
  const s = await registry.getStatus(modelId);
  return {
    status: Number(s.status),
    valid: Number(s.validCount),
    invalid: Number(s.invalidCount),
    ignored: Number(s.ignoredCount),
    quorum: Number(s.quorum),
    revokedAt: Number(s.revokedAt),
    verifiers: s.attestations.map((a) => a.verifier),
    verdicts: s.attestations.map((a) => Number(a.verdict)),
  };
}

describe("ModelRegistry: status", function () {
  it("is Pending below quorum and Verified at quorum of valid verdicts", async function () {
    const { registry, v1, v2, modelId } = await loadFixture(h.deployWithModel);
    expect(await statusOf(registry, modelId)).to.deep.include({ status: h.Status.Pending, valid: 0, quorum: 2 });
    await registry.connect(v1).attest(h.attestation(modelId, h.Verdict.Valid));
    expect(await statusOf(registry, modelId)).to.deep.include({ status: h.Status.Pending, valid: 1 });
    await registry.connect(v2).attest(h.attestation(modelId, h.Verdict.Valid));
    expect(await statusOf(registry, modelId)).to.deep.equal({
      status: h.Status.Verified,
      valid: 2,
      invalid: 0,
      ignored: 0,
      quorum: 2,
      revokedAt: 0,
      verifiers: [v1.address, v2.address],
      verdicts: [h.Verdict.Valid, h.Verdict.Valid],
    });
  });

  it("is Disputed as soon as one verdict is invalid, even past quorum", async function () {
    const { registry, v1, v2, v3, modelId } = await loadFixture(h.deployWithModel);
    await registry.connect(v1).attest(h.attestation(modelId, h.Verdict.Valid));
    await registry.connect(v2).attest(h.attestation(modelId, h.Verdict.Valid));
    await registry.connect(v3).attest(h.attestation(modelId, h.Verdict.Invalid));
    expect(await statusOf(registry, modelId)).to.deep.include({ status: h.Status.Disputed, valid: 2, invalid: 1 });
  });

  it("is Revoked after the owner revokes, whatever the verdicts, and stays Revoked", async function () {
    const { registry, v1, v2, owner, modelId } = await loadFixture(h.deployWithModel);
    await registry.connect(v1).attest(h.attestation(modelId, h.Verdict.Valid));
    await registry.connect(v2).attest(h.attestation(modelId, h.Verdict.Valid));
    const ts = await h.nextTimestamp();
    await expect(registry.connect(owner).revokeModel(modelId))
      .to.emit(registry, "ModelRevoked")
      .withArgs(modelId, owner.address, ts);
    expect(await statusOf(registry, modelId)).to.deep.include({ status: h.Status.Revoked, valid: 2, revokedAt: ts });
    expect((await registry.getModel(modelId)).revokedAt).to.equal(ts);
    await expect(registry.connect(owner).revokeModel(modelId))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryRevokedModel")
      .withArgs(modelId);
    // Nothing un-revokes: no function in the ABI can clear revokedAt.
    const names = registry.interface.fragments.filter((f) => f.type === "function").map((f) => f.name);
    expect(names.filter((n) => /unrevoke|restore|reinstate/i.test(n))).to.deep.equal([]);
  });

  it("lets only the owner revoke, and reverts for an unknown model", async function () {
    const { registry, stranger, admin, owner, modelId } = await loadFixture(h.deployWithModel);
    for (const who of [stranger, admin]) {
      await expect(registry.connect(who).revokeModel(modelId))
        .to.be.revertedWithCustomError(registry, "ZkdlRegistryNotModelOwner")
        .withArgs(modelId, who.address, owner.address);
    }
    const unknown = ethers.id("unknown");
    await expect(registry.connect(owner).revokeModel(unknown))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryUnknownModel")
      .withArgs(unknown);
    await expect(registry.getStatus(unknown))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryUnknownModel")
      .withArgs(unknown);
  });

  it("follows quorum changes", async function () {
    const { registry, admin, v1, v2, modelId } = await loadFixture(h.deployWithModel);
    await registry.connect(v1).attest(h.attestation(modelId, h.Verdict.Valid));
    await registry.connect(v2).attest(h.attestation(modelId, h.Verdict.Valid));
    await expect(registry.connect(admin).setQuorum(3)).to.emit(registry, "QuorumChanged").withArgs(2, 3);
    expect(await statusOf(registry, modelId)).to.deep.include({ status: h.Status.Pending, quorum: 3 });
    await registry.connect(admin).setQuorum(1);
    expect(await statusOf(registry, modelId)).to.deep.include({ status: h.Status.Verified, quorum: 1 });
  });

  it("stops counting a verifier whose role was revoked, and counts it again if re-granted", async function () {
    const { registry, admin, v1, v2, v3, modelId, VERIFIER_ROLE } = await loadFixture(h.deployWithModel);
    await registry.connect(v1).attest(h.attestation(modelId, h.Verdict.Valid));
    await registry.connect(v2).attest(h.attestation(modelId, h.Verdict.Valid));
    await registry.connect(v3).attest(h.attestation(modelId, h.Verdict.Invalid));
    await registry.connect(admin).revokeRole(VERIFIER_ROLE, v3.address);
    expect(await statusOf(registry, modelId)).to.deep.include({ status: h.Status.Verified, invalid: 0, ignored: 1 });
    await registry.connect(admin).revokeRole(VERIFIER_ROLE, v2.address);
    expect(await statusOf(registry, modelId)).to.deep.include({ status: h.Status.Pending, valid: 1, ignored: 2 });
    await registry.connect(admin).grantRole(VERIFIER_ROLE, v3.address);
    expect(await statusOf(registry, modelId)).to.deep.include({ status: h.Status.Disputed, invalid: 1, ignored: 1 });
    // A removed verifier cannot attest anything new.
    const req2 = h.request("later");
    await registry.connect(admin).registerModel(req2);
    const model2 = await registry.computeModelId(admin.address, req2.cWTDigest, req2.proofDigest);
    await expect(registry.connect(v2).attest(h.attestation(model2)))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryUnauthorizedVerifier")
      .withArgs(v2.address);
  });
});

describe("ModelRegistry: administration", function () {
  it("lets only the admin set the quorum, and never to zero", async function () {
    const { registry, admin, stranger, v1 } = await loadFixture(h.deployRegistry);
    for (const who of [stranger, v1]) {
      await expect(registry.connect(who).setQuorum(1))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(who.address, ethers.ZeroHash);
    }
    await expect(registry.connect(admin).setQuorum(0))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryInvalidQuorum")
      .withArgs(0);
  });

  it("lets only the admin manage verifiers, and lists them", async function () {
    const { registry, admin, stranger, v1, v2, v3, VERIFIER_ROLE } = await loadFixture(h.deployRegistry);
    await expect(registry.connect(stranger).grantRole(VERIFIER_ROLE, stranger.address))
      .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
      .withArgs(stranger.address, ethers.ZeroHash);
    expect(await registry.getRoleMembers(VERIFIER_ROLE)).to.deep.equal([v1.address, v2.address, v3.address]);
    await expect(registry.connect(admin).revokeRole(VERIFIER_ROLE, v2.address))
      .to.emit(registry, "RoleRevoked")
      .withArgs(VERIFIER_ROLE, v2.address, admin.address);
    expect(await registry.getRoleMemberCount(VERIFIER_ROLE)).to.equal(2);
    await expect(registry.connect(v1).renounceRole(VERIFIER_ROLE, v3.address)).to.be.revertedWithCustomError(
      registry,
      "AccessControlBadConfirmation",
    );
    await expect(registry.connect(v1).renounceRole(VERIFIER_ROLE, v1.address))
      .to.emit(registry, "RoleRevoked")
      .withArgs(VERIFIER_ROLE, v1.address, v1.address);
  });
});

describe("ModelRegistry: pause", function () {
  async function pausedWithModel() {
    const f = await h.deployWithModel();
    await f.registry.connect(f.admin).pause();
    return f;
  }

  it("lets only the pauser pause and unpause", async function () {
    const { registry, admin, stranger, PAUSER_ROLE } = await loadFixture(h.deployRegistry);
    await expect(registry.connect(stranger).pause())
      .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
      .withArgs(stranger.address, PAUSER_ROLE);
    await expect(registry.connect(admin).pause()).to.emit(registry, "Paused").withArgs(admin.address);
    await expect(registry.connect(stranger).unpause())
      .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
      .withArgs(stranger.address, PAUSER_ROLE);
    await expect(registry.connect(admin).pause()).to.be.revertedWithCustomError(registry, "EnforcedPause");
    await expect(registry.connect(admin).unpause()).to.emit(registry, "Unpaused").withArgs(admin.address);
    await expect(registry.connect(admin).unpause()).to.be.revertedWithCustomError(registry, "ExpectedPause");
  });

  it("blocks registrations and attestations, direct and by signature", async function () {
    const f = await loadFixture(pausedWithModel);
    const { registry, owner, v1, relayer, modelId } = f;
    await expect(registry.connect(owner).registerModel(h.request("p"))).to.be.revertedWithCustomError(
      registry,
      "EnforcedPause",
    );
    const deadline = await h.deadlineIn();
    const req = h.request("p2");
    const rsig = await h.signRegistration(owner, registry, owner.address, req, 1n, deadline);
    await expect(
      registry.connect(relayer).registerModelBySig(owner.address, req, 1n, deadline, rsig),
    ).to.be.revertedWithCustomError(registry, "EnforcedPause");
    const att = h.attestation(modelId);
    await expect(registry.connect(v1).attest(att)).to.be.revertedWithCustomError(registry, "EnforcedPause");
    const asig = await h.signAttestation(v1, registry, v1.address, att, 1n, deadline);
    await expect(registry.connect(relayer).attestBySig(v1.address, att, 1n, deadline, asig)).to.be.revertedWithCustomError(
      registry,
      "EnforcedPause",
    );
    // After unpausing the very same signatures go through.
    await registry.connect(f.admin).unpause();
    await expect(registry.connect(relayer).registerModelBySig(owner.address, req, 1n, deadline, rsig)).to.emit(
      registry,
      "ModelRegistered",
    );
    await expect(registry.connect(relayer).attestBySig(v1.address, att, 1n, deadline, asig)).to.emit(
      registry,
      "ModelAttested",
    );
  });

  it("keeps reads, revocation and nonce cancellation open", async function () {
    const { registry, owner, modelId } = await loadFixture(pausedWithModel);
    expect((await registry.getModel(modelId)).owner).to.equal(owner.address);
    expect((await registry.getStatus(modelId)).status).to.equal(h.Status.Pending);
    expect((await registry.getModelIds(0, 1))[1]).to.equal(1n);
    await expect(registry.connect(owner).revokeModel(modelId)).to.emit(registry, "ModelRevoked");
    await expect(registry.connect(owner).cancelNonce(1n)).to.emit(registry, "NonceUsed").withArgs(owner.address, 1n);
  });
});

describe("ModelRegistry: pagination", function () {
  async function fiveModels() {
    const f = await h.deployRegistry();
    const ids = [];
    for (let i = 0; i < 5; i++) {
      const who = i % 2 === 0 ? f.owner : f.other; // owner: 0, 2, 4; other: 1, 3
      const req = h.request(`page${i}`);
      await f.registry.connect(who).registerModel(req);
      ids.push(await f.registry.computeModelId(who.address, req.cWTDigest, req.proofDigest));
    }
    for (const v of [f.v1, f.v2, f.v3]) await f.registry.connect(v).attest(h.attestation(ids[0]));
    return { ...f, ids };
  }

  it("pages all model ids in registration order", async function () {
    const { registry, ids } = await loadFixture(fiveModels);
    expect(await registry.getModelIds(0, 2)).to.deep.equal([ids.slice(0, 2), 5n]);
    expect(await registry.getModelIds(2, 2)).to.deep.equal([ids.slice(2, 4), 5n]);
    expect(await registry.getModelIds(4, 2)).to.deep.equal([ids.slice(4), 5n]);
    expect(await registry.getModelIds(5, 2)).to.deep.equal([[], 5n]);
    expect(await registry.getModelIds(0, 100)).to.deep.equal([ids, 5n]);
  });

  it("pages one owner's model ids", async function () {
    const { registry, owner, other, stranger, ids } = await loadFixture(fiveModels);
    expect(await registry.getModelIdsByOwner(owner.address, 0, 10)).to.deep.equal([[ids[0], ids[2], ids[4]], 3n]);
    expect(await registry.getModelIdsByOwner(other.address, 1, 10)).to.deep.equal([[ids[3]], 2n]);
    expect(await registry.getModelIdsByOwner(stranger.address, 0, 1)).to.deep.equal([[], 0n]);
  });

  it("pages a model's attestations", async function () {
    const { registry, v1, v2, v3, ids } = await loadFixture(fiveModels);
    const [page, total] = await registry.getAttestations(ids[0], 1, 5);
    expect(total).to.equal(3n);
    expect(page.map((a) => a.verifier)).to.deep.equal([v2.address, v3.address]);
    expect((await registry.getAttestations(ids[0], 0, 1))[0].map((a) => a.verifier)).to.deep.equal([v1.address]);
    expect(await registry.getAttestations(ids[1], 0, 1)).to.deep.equal([[], 0n]);
    await expect(registry.getAttestations(ids[0], 4, 1))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryPageOutOfRange")
      .withArgs(4, 3);
    const unknown = ethers.id("unknown");
    await expect(registry.getAttestations(unknown, 0, 1))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryUnknownModel")
      .withArgs(unknown);
  });

  it("rejects an offset past the end and page sizes of 0 or above MAX_PAGE_SIZE", async function () {
    const { registry, owner } = await loadFixture(fiveModels);
    const max = await registry.MAX_PAGE_SIZE();
    await expect(registry.getModelIds(6, 1))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryPageOutOfRange")
      .withArgs(6, 5);
    await expect(registry.getModelIds(ethers.MaxUint256, 1))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryPageOutOfRange")
      .withArgs(ethers.MaxUint256, 5);
    await expect(registry.getModelIdsByOwner(owner.address, 4, 1))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryPageOutOfRange")
      .withArgs(4, 3);
    for (const limit of [0n, max + 1n, ethers.MaxUint256]) {
      await expect(registry.getModelIds(0, limit))
        .to.be.revertedWithCustomError(registry, "ZkdlRegistryInvalidPageSize")
        .withArgs(limit, max);
    }
  });
});
