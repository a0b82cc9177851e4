// The artifact shipped to Python must be exactly what Hardhat compiles and tests here.
const { expect } = require("chai");
const path = require("path");

describe("ModelRegistry: shipped Python artifact", function () {
  it("has the ABI and bytecode Hardhat compiled (else run `node deploy/export-artifacts.js`)", async function () {
    const shipped = require(path.join(__dirname, "..", "..", "zkdl", "chain", "artifacts", "ModelRegistry.json"));
    const compiled = await hre.artifacts.readArtifact("ModelRegistry");
    expect(shipped.abi, "abi").to.deep.equal(compiled.abi);
    expect(shipped.bytecode, "bytecode").to.equal(compiled.bytecode);
    expect(shipped.deployedBytecode, "deployedBytecode").to.equal(compiled.deployedBytecode);
  });
});
