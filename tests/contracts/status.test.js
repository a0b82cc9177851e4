const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture, time } = require("@nomicfoundation/hardhat-network-helpers");
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

  it("counts a model against the quorum in force when it was registered, not a later one (issue 15)", async function () {
    const { registry, admin, owner, v1, v2, v3, modelId } = await loadFixture(h.deployWithModel);
    await registry.connect(v1).attest(h.attestation(modelId, h.Verdict.Valid));
    await expect(registry.connect(admin).setQuorum(1)).to.emit(registry, "QuorumChanged").withArgs(2, 1);
    // Lowering the quorum does not verify a model registered under quorum 2 with one verdict.
    expect(await statusOf(registry, modelId)).to.deep.include({ status: h.Status.Pending, valid: 1, quorum: 2 });
    const req2 = h.request("under-quorum-1");
    await registry.connect(owner).registerModel(req2);
    const model2 = await registry.computeModelId(owner.address, req2);
    await registry.connect(v1).attest(h.attestation(model2, h.Verdict.Valid));
    expect(await statusOf(registry, model2)).to.deep.include({ status: h.Status.Verified, quorum: 1 });
    // Raising it does not take Verified away from a model registered before.
    await registry.connect(admin).setQuorum(3);
    expect(await statusOf(registry, model2)).to.deep.include({ status: h.Status.Verified, quorum: 1 });
    await registry.connect(v2).attest(h.attestation(modelId, h.Verdict.Valid));
    await registry.connect(v3).attest(h.attestation(modelId, h.Verdict.Valid));
    expect(await statusOf(registry, modelId)).to.deep.include({ status: h.Status.Verified, valid: 3, quorum: 2 });
  });

  it("shows a removed verifier's verdict as not counted, with an event, and counts it again if re-granted (issue 15)", async function () {
    const { registry, admin, v1, v2, v3, modelId, VERIFIER_ROLE } = await loadFixture(h.deployWithModel);
    await registry.connect(v1).attest(h.attestation(modelId, h.Verdict.Valid));
    await registry.connect(v2).attest(h.attestation(modelId, h.Verdict.Valid));
    await registry.connect(v3).attest(h.attestation(modelId, h.Verdict.Invalid));
    const ts = await h.nextTimestamp();
    await expect(registry.connect(admin).revokeRole(VERIFIER_ROLE, v3.address))
      .to.emit(registry, "VerifierRemoved")
      .withArgs(v3.address, 1, ts);
    expect(await statusOf(registry, modelId)).to.deep.include({ status: h.Status.Verified, invalid: 0, ignored: 1 });
    expect((await registry.getAttestation(modelId, v3.address)).counted).to.equal(false);
    const listed = (await registry.getVerifiers()).map((v) => [v.account, Number(v.removedAt), Number(v.attestations)]);
    expect(listed).to.deep.equal([
      [v1.address, 0, 1],
      [v2.address, 0, 1],
      [v3.address, ts, 1],
    ]);
    await registry.connect(admin).setQuorum(1);
    await registry.connect(admin).revokeRole(VERIFIER_ROLE, v2.address);
    expect(await statusOf(registry, modelId)).to.deep.include({ status: h.Status.Pending, valid: 1, ignored: 2 });
    await registry.connect(admin).grantRole(VERIFIER_ROLE, v3.address);
    expect(await statusOf(registry, modelId)).to.deep.include({ status: h.Status.Disputed, invalid: 1, ignored: 1 });
    expect((await registry.getVerifiers()).length).to.equal(3); // re-granted, not listed twice
    // A removed verifier cannot attest anything new.
    const req2 = h.request("later");
    await registry.connect(admin).registerModel(req2);
    const model2 = await registry.computeModelId(admin.address, req2);
    await expect(registry.connect(v2).attest(h.attestation(model2)))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryUnauthorizedVerifier")
      .withArgs(v2.address);
  });
});

describe("ModelRegistry: administration", function () {
  it("lets only the admin set the quorum, never to zero nor above the number of verifiers (issue 15)", async function () {
    const { registry, admin, stranger, v1 } = await loadFixture(h.deployRegistry);
    for (const who of [stranger, v1]) {
      await expect(registry.connect(who).setQuorum(1))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(who.address, ethers.ZeroHash);
    }
    await expect(registry.connect(admin).setQuorum(0))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryInvalidQuorum")
      .withArgs(0, 3);
    for (const q of [4, 50]) {
      await expect(registry.connect(admin).setQuorum(q))
        .to.be.revertedWithCustomError(registry, "ZkdlRegistryInvalidQuorum")
        .withArgs(q, 3);
    }
    await expect(registry.connect(admin).setQuorum(3)).to.emit(registry, "QuorumChanged").withArgs(2, 3);
  });

  it("refuses to remove a verifier when fewer than the quorum would remain (issue 15)", async function () {
    const { registry, admin, v1, v2, v3, VERIFIER_ROLE } = await loadFixture(h.deployRegistry);
    await registry.connect(admin).revokeRole(VERIFIER_ROLE, v3.address); // 2 left, quorum 2
    await expect(registry.connect(admin).revokeRole(VERIFIER_ROLE, v2.address))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryQuorumAboveVerifiers")
      .withArgs(2, 1);
    await registry.connect(admin).setQuorum(1);
    await registry.connect(admin).revokeRole(VERIFIER_ROLE, v2.address);
    await registry.connect(admin).revokeRole(VERIFIER_ROLE, v1.address); // quorum 1 with none left: nothing verifies
    expect(await registry.verifierCount()).to.equal(0);
    await expect(registry.connect(admin).setQuorum(2))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryInvalidQuorum")
      .withArgs(2, 1);
  });

  it("lets only the admin manage verifiers, lists them, and never lets a verifier renounce (issue 15)", async function () {
    const { registry, admin, stranger, v1, v2, v3, VERIFIER_ROLE } = await loadFixture(h.deployRegistry);
    await expect(registry.connect(stranger).grantRole(VERIFIER_ROLE, stranger.address))
      .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
      .withArgs(stranger.address, ethers.ZeroHash);
    expect((await registry.getVerifiers()).map((v) => v.account)).to.deep.equal([v1.address, v2.address, v3.address]);
    await expect(registry.connect(admin).revokeRole(VERIFIER_ROLE, v2.address))
      .to.emit(registry, "RoleRevoked")
      .withArgs(VERIFIER_ROLE, v2.address, admin.address);
    expect(await registry.verifierCount()).to.equal(2);
    // A verifier withdrawing its "final" verdicts by renouncing: refused.
    await expect(registry.connect(v1).renounceRole(VERIFIER_ROLE, v1.address))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryRenounceForbidden")
      .withArgs(VERIFIER_ROLE, v1.address);
    expect(await registry.hasRole(VERIFIER_ROLE, v1.address)).to.equal(true);
  });

  it("transfers the admin role only in two steps, after the delay", async function () {
    const { registry, admin, stranger } = await loadFixture(h.deployRegistry);
    await expect(registry.connect(admin).grantRole(ethers.ZeroHash, stranger.address)).to.be.revertedWithCustomError(
      registry,
      "AccessControlEnforcedDefaultAdminRules",
    );
    await registry.connect(admin).beginDefaultAdminTransfer(stranger.address);
    const [, schedule] = await registry.pendingDefaultAdmin();
    await expect(registry.connect(stranger).acceptDefaultAdminTransfer())
      .to.be.revertedWithCustomError(registry, "AccessControlEnforcedDefaultAdminDelay")
      .withArgs(schedule);
    await time.increaseTo(schedule + 1n);
    await registry.connect(stranger).acceptDefaultAdminTransfer();
    expect(await registry.defaultAdmin()).to.equal(stranger.address);
    expect(await registry.hasRole(ethers.ZeroHash, admin.address)).to.equal(false);
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

  it("is never left paused with nobody able to unpause (issue 15)", async function () {
    const { registry, admin, stranger, PAUSER_ROLE } = await loadFixture(h.deployRegistry);
    await registry.connect(admin).grantRole(PAUSER_ROLE, stranger.address);
    await registry.connect(stranger).pause();
    // The admin unpauses even without the pauser role, and cannot leave while paused.
    await registry.connect(admin).renounceRole(PAUSER_ROLE, admin.address);
    await registry.connect(admin).beginDefaultAdminTransfer(ethers.ZeroAddress);
    const [, schedule] = await registry.pendingDefaultAdmin();
    await time.increaseTo(schedule + 1n);
    await expect(registry.connect(admin).renounceRole(ethers.ZeroHash, admin.address)).to.be.revertedWithCustomError(
      registry,
      "ZkdlRegistryUnpauserRequired",
    );
    await registry.connect(stranger).renounceRole(PAUSER_ROLE, stranger.address); // no pauser left
    await expect(registry.connect(admin).unpause()).to.emit(registry, "Unpaused").withArgs(admin.address);
    // Unpaused, the admin may leave; a pauser may then no longer pause (nobody could unpause).
    await registry.connect(admin).grantRole(PAUSER_ROLE, stranger.address);
    await registry.connect(admin).renounceRole(ethers.ZeroHash, admin.address);
    expect(await registry.defaultAdmin()).to.equal(ethers.ZeroAddress);
    await expect(registry.connect(stranger).pause()).to.be.revertedWithCustomError(registry, "ZkdlRegistryUnpauserRequired");
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

  it("blocks data-set registrations", async function () {
    const { registry, owner } = await loadFixture(pausedWithModel);
    await expect(registry.connect(owner).registerDataset(h.dataset())).to.be.revertedWithCustomError(registry, "EnforcedPause");
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
      ids.push(await f.registry.computeModelId(who.address, req));
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

  it("pages one owner's model ids, newest first, with a cursor", async function () {
    const { registry, owner, other, stranger, ids } = await loadFixture(fiveModels);
    const key = (a) => ethers.zeroPadValue(a.address, 32);
    expect(await registry.getModelIdsBy(h.IndexKind.Owner, key(owner), 0, 10)).to.deep.equal([[ids[4], ids[2], ids[0]], 0n, 3n]);
    const [page, next, total] = await registry.getModelIdsBy(h.IndexKind.Owner, key(other), 0, 1);
    expect([page, total]).to.deep.equal([[ids[3]], 2n]);
    expect(await registry.getModelIdsBy(h.IndexKind.Owner, key(other), next, 1)).to.deep.equal([[ids[1]], 0n, 2n]);
    expect(await registry.getModelIdsBy(h.IndexKind.Owner, key(stranger), 0, 1)).to.deep.equal([[], 0n, 0n]);
    await expect(registry.getModelIdsBy(h.IndexKind.Owner, key(owner), 6, 1))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryPageOutOfRange")
      .withArgs(6, 5);
  });

  it("lists a model's attestations in getStatus", async function () {
    const { registry, v1, v2, v3, ids } = await loadFixture(fiveModels);
    expect((await statusOf(registry, ids[0])).verifiers).to.deep.equal([v1.address, v2.address, v3.address]);
    expect((await statusOf(registry, ids[1])).verifiers).to.deep.equal([]);
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
    for (const limit of [0n, max + 1n, ethers.MaxUint256]) {
      await expect(registry.getModelIds(0, limit))
        .to.be.revertedWithCustomError(registry, "ZkdlRegistryInvalidPageSize")
        .withArgs(limit, max);
      await expect(registry.getModelIdsBy(h.IndexKind.Owner, ethers.zeroPadValue(owner.address, 32), 0, limit))
        .to.be.revertedWithCustomError(registry, "ZkdlRegistryInvalidPageSize")
        .withArgs(limit, max);
    }
  });
});
