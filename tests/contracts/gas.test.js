// Gas figures for the operations relayers pay for. Printed as a table; the ceilings make a
// regression fail the suite (they sit about 10 % above the measured figures of docs/chain.md).
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture } = require("@nomicfoundation/hardhat-network-helpers");
const h = require("./helpers");

const CEILINGS = {
  "deploy ModelRegistry": 3_600_000,
  "registerModel (direct)": 530_000,
  "registerModelBySig (relayed)": 535_000,
  "attest (direct, 1st verdict)": 140_000,
  "attestBySig (relayed, 2nd verdict)": 160_000,
  "revokeModel": 35_000,
};

async function gasOf(txPromise) {
  return Number((await (await txPromise).wait()).gasUsed);
}

describe("ModelRegistry: gas report", function () {
  it("stays under the gas ceilings (figures printed)", async function () {
    const f = await loadFixture(h.deployRegistry);
    const figures = {};
    const fresh = await ethers.deployContract("ModelRegistry", [f.admin.address, 2]);
    figures["deploy ModelRegistry"] = Number((await fresh.deploymentTransaction().wait()).gasUsed);

    // URIs of realistic length: a content-addressed bundle path and a metadata URI.
    const uris = (tag) => ({
      bundleUri: `file:///var/lib/zkdl/bundles/${ethers.id(tag).slice(2)}.zkdl`,
      metadataUri: `ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/${tag}.json`,
    });
    const req = h.request("gas1", uris("gas1"));
    figures["registerModel (direct)"] = await gasOf(f.registry.connect(f.owner).registerModel(req));
    const modelId = await f.registry.computeModelId(f.owner.address, req.cWTDigest, req.proofDigest);

    const req2 = h.request("gas2", uris("gas2"));
    const deadline = await h.deadlineIn();
    const rsig = await h.signRegistration(f.owner, f.registry, f.owner.address, req2, 1n, deadline);
    figures["registerModelBySig (relayed)"] = await gasOf(
      f.registry.connect(f.relayer).registerModelBySig(f.owner.address, req2, 1n, deadline, rsig),
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
    for (const [op, gas] of Object.entries(figures)) expect(gas, op).to.be.below(CEILINGS[op]);
  });

  it("keeps the runtime bytecode under the EIP-170 limit (24,576 bytes)", async function () {
    const art = await hre.artifacts.readArtifact("ModelRegistry");
    const size = (art.deployedBytecode.length - 2) / 2;
    console.log(`      ModelRegistry runtime size: ${size} bytes`);
    expect(size).to.be.below(24_576);
  });
});
