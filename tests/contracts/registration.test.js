const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture, time } = require("@nomicfoundation/hardhat-network-helpers");
const h = require("./helpers");

describe("ModelRegistry: deployment", function () {
  it("grants the admin roles, sets the quorum and reports its version", async function () {
    const { registry, admin, PAUSER_ROLE } = await loadFixture(h.deployRegistry);
    expect(await registry.hasRole(ethers.ZeroHash, admin.address)).to.equal(true);
    expect(await registry.hasRole(PAUSER_ROLE, admin.address)).to.equal(true);
    expect(await registry.quorum()).to.equal(h.QUORUM);
    expect(await registry.version()).to.equal("2.0.0");
    expect(await registry.defaultAdmin()).to.equal(admin.address);
    expect(await registry.defaultAdminDelay()).to.equal(h.ADMIN_DELAY);
    expect(await registry.verifierCount()).to.equal(3);
    expect(await registry.maxSignatureTtl()).to.equal(30 * 24 * 3600);
    expect(await registry.paused()).to.equal(false);
  });

  it("emits QuorumChanged(0, quorum) from the constructor", async function () {
    const [admin, a, b, c] = await ethers.getSigners();
    const registry = await h.deploy(admin.address, [a.address, b.address, c.address], 3);
    await expect(registry.deploymentTransaction()).to.emit(registry, "QuorumChanged").withArgs(0, 3);
  });

  it("rejects a zero admin, a zero quorum and a quorum above its verifiers", async function () {
    const [admin, a] = await ethers.getSigners();
    const factory = await ethers.getContractFactory("ModelRegistry");
    await expect(factory.deploy(ethers.ZeroAddress, h.ADMIN_DELAY, [], 1))
      .to.be.revertedWithCustomError(factory, "AccessControlInvalidDefaultAdmin")
      .withArgs(ethers.ZeroAddress);
    await expect(factory.deploy(admin.address, h.ADMIN_DELAY, [], 0))
      .to.be.revertedWithCustomError(factory, "ZkdlRegistryInvalidQuorum")
      .withArgs(0, 1);
    await expect(factory.deploy(admin.address, h.ADMIN_DELAY, [a.address], 2))
      .to.be.revertedWithCustomError(factory, "ZkdlRegistryInvalidQuorum")
      .withArgs(2, 1);
  });

  it("exposes its EIP-712 domain (ERC-5267) and ERC-165 interfaces", async function () {
    const { registry, chainId } = await loadFixture(h.deployRegistry);
    const d = await registry.eip712Domain();
    expect(d.name).to.equal("ZkdlModelRegistry");
    expect(d.version).to.equal("2");
    expect(d.chainId).to.equal(chainId);
    expect(d.verifyingContract).to.equal(await registry.getAddress());
    expect(await registry.supportsInterface("0x7965db0b")).to.equal(true); // IAccessControl
    expect(await registry.supportsInterface("0xffffffff")).to.equal(false);
  });
});

describe("ModelRegistry: registerModel", function () {
  it("stores every field, derives the documented id and emits the full registration", async function () {
    const { registry, owner, chainId } = await loadFixture(h.deployRegistry);
    const req = h.request("a");
    const id = h.modelIdOf(chainId, await registry.getAddress(), owner.address, req);
    expect(await registry.computeModelId(owner.address, req)).to.equal(id);
    expect(await registry.modelExists(id)).to.equal(false);

    const ts = await h.nextTimestamp();
    const tx = registry.connect(owner).registerModel(req);
    await expect(tx)
      .to.emit(registry, "ModelRegistered")
      .withArgs(id, owner.address, req.parentDigest, h.requestTuple(req), owner.address, ts);

    const m = await registry.getModel(id);
    expect(m.owner).to.equal(owner.address);
    expect(m.registeredBlock).to.equal((await (await tx).wait()).blockNumber);
    expect(m.revokedAt).to.equal(0);
    expect(m.quorum).to.equal(h.QUORUM);
    expect(m.seq).to.equal(1);
    expect(await registry.modelExists(id)).to.equal(true);
    expect(await registry.getModelIds(0, 10)).to.deep.equal([[id], 1n]);
    const ownerKey = ethers.zeroPadValue(owner.address, 32);
    expect(await registry.getModelIdsBy(h.IndexKind.Owner, ownerKey, 0, 10)).to.deep.equal([[id], 0n, 1n]);
  });

  it("returns the model id from a static call", async function () {
    const { registry, owner, chainId } = await loadFixture(h.deployRegistry);
    const req = h.request("b");
    const id = h.modelIdOf(chainId, await registry.getAddress(), owner.address, req);
    expect(await registry.connect(owner).registerModel.staticCall(req)).to.equal(id);
  });

  it("recognises a retried registration with ZkdlRegistryModelAlreadyRegistered", async function () {
    const { registry, owner, req, modelId } = await loadFixture(h.deployWithModel);
    await expect(registry.connect(owner).registerModel(req))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryModelAlreadyRegistered")
      .withArgs(modelId);
    // A different bundle URI does not make it a new model: the id binds the owner and every digest, not URIs.
    await expect(registry.connect(owner).registerModel({ ...req, bundleUri: "file:///elsewhere" }))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryModelAlreadyRegistered")
      .withArgs(modelId);
  });

  it("gives another owner registering the same digests another id (no id squatting)", async function () {
    const { registry, stranger, req, modelId } = await loadFixture(h.deployWithModel);
    const strangerId = await registry.computeModelId(stranger.address, req);
    expect(strangerId).to.not.equal(modelId);
    await expect(registry.connect(stranger).registerModel(req))
      .to.emit(registry, "ModelRegistered")
      .withArgs(strangerId, stranger.address, req.parentDigest, h.requestTuple(req), stranger.address, h.anyUint);
    expect((await registry.getModel(modelId)).owner).to.not.equal(stranger.address);
  });

  for (const field of ["cDataDigest", "cW0Digest", "cWTDigest", "statementDigest", "proofDigest", "verifierVersion"]) {
    it(`rejects a zero ${field} with ZkdlRegistryMissingField`, async function () {
      const { registry, owner } = await loadFixture(h.deployRegistry);
      await expect(registry.connect(owner).registerModel(h.request("z", { [field]: ethers.ZeroHash })))
        .to.be.revertedWithCustomError(registry, "ZkdlRegistryMissingField")
        .withArgs(field);
    });
  }

  it("rejects an empty bundle URI but accepts an empty metadata URI", async function () {
    const { registry, owner } = await loadFixture(h.deployRegistry);
    await expect(registry.connect(owner).registerModel(h.request("u", { bundleUri: "" })))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryMissingField")
      .withArgs("bundleUri");
    await expect(registry.connect(owner).registerModel(h.request("u", { metadataUri: "" }))).to.emit(
      registry,
      "ModelRegistered",
    );
  });

  it("rejects URIs longer than MAX_URI_LENGTH and accepts exactly the maximum", async function () {
    const { registry, owner } = await loadFixture(h.deployRegistry);
    const max = Number(await registry.MAX_URI_LENGTH());
    await expect(registry.connect(owner).registerModel(h.request("l", { bundleUri: "b".repeat(max + 1) })))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryUriTooLong")
      .withArgs("bundleUri", max + 1, max);
    await expect(registry.connect(owner).registerModel(h.request("l", { metadataUri: "m".repeat(max + 1) })))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryUriTooLong")
      .withArgs("metadataUri", max + 1, max);
    await expect(registry.connect(owner).registerModel(h.request("l", { bundleUri: "b".repeat(max) }))).to.emit(
      registry,
      "ModelRegistered",
    );
  });

  it("reverts getModel for an unknown id", async function () {
    const { registry } = await loadFixture(h.deployRegistry);
    const unknown = ethers.id("nope");
    await expect(registry.getModel(unknown))
      .to.be.revertedWithCustomError(registry, "ZkdlRegistryUnknownModel")
      .withArgs(unknown);
  });
});

describe("ModelRegistry: registerModelBySig", function () {
  async function signed(f, tag = "s", nonce = 7n, overrides = {}) {
    const req = h.request(tag);
    const deadline = overrides.deadline ?? (await h.deadlineIn());
    const signer = overrides.signer ?? f.owner;
    const sig = await h.signRegistration(signer, f.registry, f.owner.address, req, nonce, deadline, overrides.domain);
    const id = await f.registry.computeModelId(f.owner.address, req);
    return { req, deadline, sig, nonce, id };
  }

  it("registers for the owner when a relayer submits, and consumes the nonce", async function () {
    const f = await loadFixture(h.deployRegistry);
    const { req, deadline, sig, nonce, id } = await signed(f);
    const ts = await h.nextTimestamp();
    const tx = f.registry.connect(f.relayer).registerModelBySig(f.owner.address, req, nonce, deadline, sig);
    await expect(tx)
      .to.emit(f.registry, "ModelRegistered")
      .withArgs(id, f.owner.address, req.parentDigest, h.requestTuple(req), f.relayer.address, ts);
    await expect(tx).to.emit(f.registry, "NonceUsed").withArgs(f.owner.address, nonce);
    expect((await f.registry.getModel(id)).owner).to.equal(f.owner.address);
    expect(await f.registry.nonceUsed(f.owner.address, nonce)).to.equal(true);
    const relayerKey = ethers.zeroPadValue(f.relayer.address, 32);
    expect(await f.registry.getModelIdsBy(h.IndexKind.Owner, relayerKey, 0, 1)).to.deep.equal([[], 0n, 0n]);
  });

  it("signs the digest the contract computes (hashRegistration)", async function () {
    const f = await loadFixture(h.deployRegistry);
    const req = h.request("hash");
    const domain = await h.domainOf(f.registry);
    const expected = ethers.TypedDataEncoder.hash(domain, h.REGISTRATION_TYPES, {
      owner: f.owner.address,
      ...req,
      nonce: 3n,
      deadline: 99n,
    });
    expect(await f.registry.hashRegistration(f.owner.address, req, 3n, 99n)).to.equal(expected);
  });

  it("rejects a replayed signature as a duplicate registration", async function () {
    const f = await loadFixture(h.deployRegistry);
    const { req, deadline, sig, nonce, id } = await signed(f);
    await f.registry.connect(f.relayer).registerModelBySig(f.owner.address, req, nonce, deadline, sig);
    await expect(f.registry.connect(f.stranger).registerModelBySig(f.owner.address, req, nonce, deadline, sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryModelAlreadyRegistered")
      .withArgs(id);
  });

  it("rejects a second message signed with a used nonce", async function () {
    const f = await loadFixture(h.deployRegistry);
    const first = await signed(f, "n1", 5n);
    await f.registry.registerModelBySig(f.owner.address, first.req, 5n, first.deadline, first.sig);
    const second = await signed(f, "n2", 5n);
    await expect(f.registry.registerModelBySig(f.owner.address, second.req, 5n, second.deadline, second.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryNonceAlreadyUsed")
      .withArgs(f.owner.address, 5n);
  });

  it("lets the owner cancel a signed registration by cancelling its nonce", async function () {
    const f = await loadFixture(h.deployRegistry);
    const s = await signed(f, "c", 11n);
    await expect(f.registry.connect(f.owner).cancelNonce(11n))
      .to.emit(f.registry, "NonceUsed")
      .withArgs(f.owner.address, 11n);
    await expect(f.registry.registerModelBySig(f.owner.address, s.req, 11n, s.deadline, s.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryNonceAlreadyUsed")
      .withArgs(f.owner.address, 11n);
    await expect(f.registry.connect(f.owner).cancelNonce(11n))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryNonceAlreadyUsed")
      .withArgs(f.owner.address, 11n);
  });

  it("rejects an expired deadline and accepts a deadline equal to the block time", async function () {
    const f = await loadFixture(h.deployRegistry);
    const deadline = BigInt(await time.latest()) + 100n;
    const s = await signed(f, "d", 1n, { deadline });
    await time.setNextBlockTimestamp(deadline + 1n);
    await expect(f.registry.registerModelBySig(f.owner.address, s.req, 1n, deadline, s.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryExpiredSignature")
      .withArgs(deadline, deadline + 1n);

    const deadline2 = BigInt(await time.latest()) + 100n;
    const s2 = await signed(f, "d2", 2n, { deadline: deadline2 });
    await time.setNextBlockTimestamp(deadline2);
    await expect(f.registry.registerModelBySig(f.owner.address, s2.req, 2n, deadline2, s2.sig)).to.emit(
      f.registry,
      "ModelRegistered",
    );
  });

  it("rejects a signature made for another chain", async function () {
    const f = await loadFixture(h.deployRegistry);
    const s = await signed(f, "chain", 1n, { domain: { chainId: 1n } });
    await expect(f.registry.registerModelBySig(f.owner.address, s.req, 1n, s.deadline, s.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryInvalidSignature")
      .withArgs(f.owner.address);
  });

  it("rejects a signature made for another registry", async function () {
    const f = await loadFixture(h.deployRegistry);
    const otherRegistry = await h.deploy(f.admin.address);
    const s = await signed(f, "reg", 1n, { domain: { verifyingContract: await otherRegistry.getAddress() } });
    await expect(f.registry.registerModelBySig(f.owner.address, s.req, 1n, s.deadline, s.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryInvalidSignature")
      .withArgs(f.owner.address);
    // The same signature is good on the registry it was made for.
    await expect(otherRegistry.registerModelBySig(f.owner.address, s.req, 1n, s.deadline, s.sig)).to.emit(
      otherRegistry,
      "ModelRegistered",
    );
  });

  it("rejects a signature by another key and a tampered field", async function () {
    const f = await loadFixture(h.deployRegistry);
    const forged = await signed(f, "forged", 1n, { signer: f.stranger });
    await expect(f.registry.registerModelBySig(f.owner.address, forged.req, 1n, forged.deadline, forged.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryInvalidSignature")
      .withArgs(f.owner.address);
    const s = await signed(f, "tamper", 2n);
    const tampered = { ...s.req, bundleUri: "https://attacker.example/bundle" };
    await expect(f.registry.registerModelBySig(f.owner.address, tampered, 2n, s.deadline, s.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryInvalidSignature")
      .withArgs(f.owner.address);
    await expect(f.registry.registerModelBySig(f.owner.address, s.req, 2n, s.deadline + 1n, s.sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryInvalidSignature")
      .withArgs(f.owner.address);
  });

  it("does not consume the nonce when the signature is invalid", async function () {
    const f = await loadFixture(h.deployRegistry);
    const forged = await signed(f, "f", 9n, { signer: f.stranger });
    await expect(
      f.registry.registerModelBySig(f.owner.address, forged.req, 9n, forged.deadline, forged.sig),
    ).to.be.revertedWithCustomError(f.registry, "ZkdlRegistryInvalidSignature");
    expect(await f.registry.nonceUsed(f.owner.address, 9n)).to.equal(false);
  });

  it("accepts an ERC-1271 contract wallet as owner", async function () {
    const f = await loadFixture(h.deployRegistry);
    const wallet = await ethers.deployContract("ERC1271WalletMock", [f.owner.address]);
    const walletAddr = await wallet.getAddress();
    const req = h.request("wallet");
    const deadline = await h.deadlineIn();
    const sig = await h.signRegistration(f.owner, f.registry, walletAddr, req, 1n, deadline);
    const id = await f.registry.computeModelId(walletAddr, req);
    await expect(f.registry.connect(f.relayer).registerModelBySig(walletAddr, req, 1n, deadline, sig))
      .to.emit(f.registry, "ModelRegistered")
      .withArgs(id, walletAddr, req.parentDigest, h.requestTuple(req), f.relayer.address, h.anyUint);
    // The EOA's signature for the wallet does not register for the EOA itself.
    await expect(f.registry.registerModelBySig(f.owner.address, h.request("w2"), 2n, deadline, sig))
      .to.be.revertedWithCustomError(f.registry, "ZkdlRegistryInvalidSignature")
      .withArgs(f.owner.address);
  });
});
