// Hardhat 2 for zkdl's contracts. It compiles OFFLINE with the npm `solc` package (solc-js/wasm):
// the subtask override below hands Hardhat the local compiler instead of downloading one.
// Compiler version and settings live in contracts/solc-settings.json, the single source shared with
// deploy/export-artifacts.js (the Python artifact) and the Python staleness test.
require("@nomicfoundation/hardhat-chai-matchers");
require("@nomicfoundation/hardhat-ethers");
const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");
const SOLC = require("./contracts/solc-settings.json");

const LOCAL_SOLC_VERSION = require("solc/package.json").version;
if (LOCAL_SOLC_VERSION !== SOLC.version) {
  throw new Error(
    `npm solc is ${LOCAL_SOLC_VERSION} but contracts/solc-settings.json pins ${SOLC.version}: run \`npm ci\``,
  );
}

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, hre, runSuper) => {
  if (args.solcVersion !== LOCAL_SOLC_VERSION) return runSuper(); // would download: fails offline
  const solc = require("solc");
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: args.solcVersion,
    longVersion: solc.version().replace(/\.Emscripten.*$/, ""),
  };
});

/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  solidity: { version: SOLC.version, settings: SOLC.settings },
  paths: { sources: "./contracts", tests: "./tests/contracts", cache: "./cache", artifacts: "./artifacts" },
  networks: { hardhat: { chainId: 31337 } },
  mocha: { timeout: 60000 },
};
