const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture, time } = require("@nomicfoundation/hardhat-network-helpers");
const h = require("./helpers");

describe("ModelRegistry: attest (direct)", function () {
  it("stores the verdict and emits ModelAttested with the full data", async function () {
    const { registry, v1, modelId } = await loadFixture(h.deployWithModel);
    const att = h.attestation(modelId, h.Verdict.Valid);
    const ts = await h.nextTimestamp();
    await expect(registry.connect(v1).attest(att))
      .to.emit(registry, "ModelAttested")
      .withArgs(modelId, v1.address, h.Verdict.Valid, att.reportDigest, v1.address, ts, 0);
    const a = await registry.getAttestation(modelId, v1.address);
    expect([a.verifier, a.verdict, a.attestedAt, a.counted]).to.deep.equal([
      v1.address,
      BigInt(h.Verdict.Valid),
      BigInt(ts),
      true,
    ]);
  });

  it("returns verdict None for a verifier that has not attested", async function () {
    const { registry, v2, modelId } = await loadFixture(h.deployWithModel);
    const a = await registry.getAttestation(modelId, v2.address);
    expect(a.verdict).to.equal(h.Verdict.None);
    expect(a.verifier).to.equal(ethers.ZeroAddress);
  });

  it("rejects an account without the verifier role", async function () {
    const { registry, stranger, owner, modelId } = await loadFixture(h.deployWithModel);
    for (const who of [stranger, owner]) {
      await expect(registry.connect(who).attest(h.attestation(modelId)))
        .to.be.revertedWithCustomError(registry, "ZkdlRegistryUnauthorizedVerifier")
        .withArgs(who.address);
    }
  });

  it("makes a verdict final: a second verdict, either way, reverts", async function () {
    const { registry, v1, modelId } = await loadFixture(h.deployWithModel);
    await registry.connect(v1).attest(h.attestation(modelId, h.Verdict.Valid));
    for (const verdict of [h.Verdict.Valid, h.Verdict.Invalid]) {
      await expect(registry.connect(v1).attest(h.attestation(modelId, verdict)))
        .to.be.revertedWithCustomError(registry, "ZkdlRegistryAlreadyAttested")
        .withArgs(modelId, v1.address, h.Verdict.Valid);
    }
  });

  it("rejects verdict None and out-of-range verdicts", async function () {
    const { registry, v1, modelId } = await loadFixture(h.deployWithModel);
    await expect(registry.connect(v1).attest(h.attestation(modelId, h.Verdict.None)))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryInvalidVerdict")
      .withArgs(h.Verdict.None);
    // 3 is not an enum value: the ABI decoder rejects it before any rule runs (no revert data).
    const data = registry.interface.encodeFunctionData("attest", [h.attestation(modelId, 1)]);
    const bad = data.slice(0, 2 + 8 + 64) + ethers.toBeHex(3, 32).slice(2) + data.slice(2 + 8 + 128);
    await expect(v1.sendTransaction({ to: await registry.getAddress(), data: bad })).to.be.reverted;
  });

  it("rejects an unknown model and a revoked model", async function () {
    const { registry, v1, owner, modelId } = await loadFixture(h.deployWithModel);
    const unknown = ethers.id("unknown");
    await expect(registry.connect(v1).attest(h.attestation(unknown)))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryUnknownModel")
      .withArgs(unknown);
    await registry.connect(owner).revokeModel(modelId);
    await expect(registry.connect(v1).attest(h.attestation(modelId)))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryRevokedModel")
      .withArgs(modelId);
  });
});

describe("ModelRegistry: attestBySig", function () {
  async function signedAtt(f, overrides = {}) {
    const att = overrides.att ?? h.attestation(f.modelId, h.Verdict.Valid);
    const nonce = overrides.nonce ?? 1n;
    const deadline = overrides.deadline ?? (await h.deadlineIn());
    const verifier = overrides.verifier ?? f.v1.address;
    const signer = overrides.signer ?? f.v1;
    const sig = await h.signAttestation(signer, f.registry, verifier, att, nonce, deadline, overrides.domain);
    return { att, nonce, deadline, verifier, sig };
  }

  it("accepts a verifier's signature submitted by anyone", async function () {
    const f = await loadFixture(h.deployWithModel);
    const s = await signedAtt(f);
    const ts = await h.nextTimestamp();
    const tx = f.registry.connect(f.relayer).attestBySig(s.verifier, s.att, s.nonce, s.deadline, s.sig);
    await expect(tx)
      .to.emit(f.registry, "ModelAttested")
      .withArgs(f.modelId, f.v1.address, h.Verdict.Valid, s.att.reportDigest, f.relayer.address, ts, 0);
    await expect(tx).to.emit(f.registry, "NonceUsed").withArgs(f.v1.address, s.nonce);
    expect((await f.registry.getAttestation(f.modelId, f.v1.address)).verdict).to.equal(h.Verdict.Valid);
  });

  it("signs the digest the contract computes (hashAttestation)", async function () {
    const f = await loadFixture(h.deployWithModel);
    const att = h.attestation(f.modelId, h.Verdict.Invalid);
    const expected = ethers.TypedDataEncoder.hash(await h.domainOf(f.registry), h.ATTESTATION_TYPES, {
      verifier: f.v2.address,
      ...att,
      nonce: 4n,
      deadline: 5n,
    });
    expect(await f.registry.hashAttestation(f.v2.address, att, 4n, 5n)).to.equal(expected);
  });

  it("rejects a replayed signature: the verdict is final", async function () {
    const f = await loadFixture(h.deployWithModel);
    const s = await signedAtt(f);
    await f.registry.attestBySig(s.verifier, s.att, s.nonce, s.deadline, s.sig);
    await expect(f.registry.connect(f.stranger).attestBySig(s.verifier, s.att, s.nonce, s.deadline, s.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryAlreadyAttested")
      .withArgs(f.modelId, f.v1.address, h.Verdict.Valid);
  });

  it("rejects a signature replayed onto another model", async function () {
    const f = await loadFixture(h.deployWithModel);
    const req2 = h.request("second");
    await f.registry.connect(f.owner).registerModel(req2);
    const model2 = await f.registry.computeModelId(f.owner.address, req2);
    const s = await signedAtt(f);
    await expect(f.registry.attestBySig(s.verifier, { ...s.att, modelId: model2 }, s.nonce, s.deadline, s.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryInvalidSignature")
      .withArgs(f.v1.address);
  });

  it("rejects a used nonce on a different message, and a cancelled nonce", async function () {
    const f = await loadFixture(h.deployWithModel);
    const req2 = h.request("second");
    await f.registry.connect(f.owner).registerModel(req2);
    const model2 = await f.registry.computeModelId(f.owner.address, req2);
    const s = await signedAtt(f, { nonce: 42n });
    await f.registry.attestBySig(s.verifier, s.att, s.nonce, s.deadline, s.sig);
    const s2 = await signedAtt(f, { nonce: 42n, att: h.attestation(model2) });
    await expect(f.registry.attestBySig(s2.verifier, s2.att, s2.nonce, s2.deadline, s2.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryNonceAlreadyUsed")
      .withArgs(f.v1.address, 42n);
    await f.registry.connect(f.v1).cancelNonce(43n);
    const s3 = await signedAtt(f, { nonce: 43n, att: h.attestation(model2) });
    await expect(f.registry.attestBySig(s3.verifier, s3.att, s3.nonce, s3.deadline, s3.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryNonceAlreadyUsed")
      .withArgs(f.v1.address, 43n);
  });

  it("rejects a deadline further away than the registry's signature lifetime (issue 15)", async function () {
    const f = await loadFixture(h.deployWithModel);
    const ttl = BigInt(await f.registry.maxSignatureTtl());
    for (const far of [ethers.MaxUint256, null]) {
      const ts = BigInt(await time.latest()) + 10n;
      const deadline = far ?? ts + ttl + 1n;
      const s = await signedAtt(f, { deadline });
      await time.setNextBlockTimestamp(ts);
      await expect(f.registry.attestBySig(s.verifier, s.att, s.nonce, s.deadline, s.sig))
        .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryDeadlineTooFar")
        .withArgs(deadline, ts + ttl);
    }
    const ts = BigInt(await time.latest()) + 10n;
    const s = await signedAtt(f, { deadline: ts + ttl });
    await time.setNextBlockTimestamp(ts);
    await expect(f.registry.attestBySig(s.verifier, s.att, s.nonce, s.deadline, s.sig)).to.emit(f.registry, "ModelAttested");
  });

  it("rejects an expired deadline", async function () {
    const f = await loadFixture(h.deployWithModel);
    const deadline = BigInt(await time.latest()) + 60n;
    const s = await signedAtt(f, { deadline });
    await time.setNextBlockTimestamp(deadline + 5n);
    await expect(f.registry.attestBySig(s.verifier, s.att, s.nonce, s.deadline, s.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryExpiredSignature")
      .withArgs(deadline, deadline + 5n);
  });

  it("rejects signatures made for another chain or another registry", async function () {
    const f = await loadFixture(h.deployWithModel);
    const wrongChain = await signedAtt(f, { domain: { chainId: 5n } });
    await expect(f.registry.attestBySig(f.v1.address, wrongChain.att, 1n, wrongChain.deadline, wrongChain.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryInvalidSignature")
      .withArgs(f.v1.address);
    const wrongRegistry = await signedAtt(f, { domain: { verifyingContract: f.other.address } });
    await expect(
      f.registry.attestBySig(f.v1.address, wrongRegistry.att, 1n, wrongRegistry.deadline, wrongRegistry.sig),
    )
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryInvalidSignature")
      .withArgs(f.v1.address);
  });

  it("rejects a signer without the verifier role and a forged verifier signature", async function () {
    const f = await loadFixture(h.deployWithModel);
    const notVerifier = await signedAtt(f, { verifier: f.stranger.address, signer: f.stranger });
    await expect(f.registry.attestBySig(f.stranger.address, notVerifier.att, 1n, notVerifier.deadline, notVerifier.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryUnauthorizedVerifier")
      .withArgs(f.stranger.address);
    const forged = await signedAtt(f, { signer: f.stranger }); // claims to be v1
    await expect(f.registry.attestBySig(f.v1.address, forged.att, 1n, forged.deadline, forged.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryInvalidSignature")
      .withArgs(f.v1.address);
    // v1's genuine signature does not count for v2.
    const genuine = await signedAtt(f);
    await expect(f.registry.attestBySig(f.v2.address, genuine.att, 1n, genuine.deadline, genuine.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryInvalidSignature")
      .withArgs(f.v2.address);
  });

  it("accepts an ERC-1271 contract wallet as verifier", async function () {
    const f = await loadFixture(h.deployWithModel);
    const wallet = await ethers.deployContract("ERC1271WalletMock", [f.stranger.address]);
    const walletAddr = await wallet.getAddress();
    await f.registry.connect(f.admin).grantRole(f.VERIFIER_ROLE, walletAddr);
    const s = await signedAtt(f, { verifier: walletAddr, signer: f.stranger });
    await expect(f.registry.connect(f.relayer).attestBySig(walletAddr, s.att, s.nonce, s.deadline, s.sig))
      .to.emit(f.registry, "ModelAttested")
      .withArgs(f.modelId, walletAddr, h.Verdict.Valid, s.att.reportDigest, f.relayer.address, h.anyUint, 0);
  });
});
