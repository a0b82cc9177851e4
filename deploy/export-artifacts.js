#!/usr/bin/env node
// Compiles the registry with the pinned npm `solc` (offline) and writes the artifact that the Python
// package ships, so Python never needs Node at run time:
//
//   node deploy/export-artifacts.js           write zkdl/chain/artifacts/ModelRegistry.json
//   node deploy/export-artifacts.js --check   recompile and exit 1 if the shipped artifact differs
//
// The provenance header holds a source fingerprint that zkdl/chain/artifacts.py recomputes from the
// same inputs (see `fingerprint` below); tests/chain/test_artifacts.py fails when they disagree.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const CONTRACT = "ModelRegistry";
const SOURCE_DIR = "contracts";
const EXCLUDED_DIR = "contracts/test/"; // test harnesses are not part of the shipped artifact
const OUT = path.join(ROOT, "zkdl", "chain", "artifacts", `${CONTRACT}.json`);

const sha256 = (data) => crypto.createHash("sha256").update(data).digest("hex");

/** JSON with sorted keys and no spaces: the same bytes as Python's json.dumps(sort_keys=True, separators=(",", ":")). */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Every .sol file under contracts/ except the test harnesses, as repo-relative POSIX paths, sorted. */
function sourceFiles() {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith(".sol") && !rel.startsWith(EXCLUDED_DIR)) found.push(rel);
    }
  };
  walk(SOURCE_DIR);
  return found.sort();
}

function pinnedVersion(pkg) {
  const pin = require(path.join(ROOT, "package.json")).devDependencies[pkg];
  const installed = require(path.join(ROOT, "node_modules", pkg, "package.json")).version;
  if (pin !== installed) throw new Error(`${pkg}: package.json pins ${pin} but ${installed} is installed: run \`npm ci\``);
  return pin;
}

/** The inputs that determine the artifact; zkdl/chain/artifacts.py computes the same digest. */
function fingerprint(solcSettings, openzeppelin, files) {
  const sources = Object.fromEntries(files.map((f) => [f, sha256(fs.readFileSync(path.join(ROOT, f)))]));
  const inputs = { solc: solcSettings, openzeppelin, sources };
  return { digest: sha256(canonical(inputs)), sources };
}

function compile(solcSettings, files) {
  const solc = require("solc");
  if (solc.version().split("+")[0] !== solcSettings.version) {
    throw new Error(`npm solc is ${solc.version()}, contracts/solc-settings.json wants ${solcSettings.version}`);
  }
  const input = {
    language: "Solidity",
    sources: Object.fromEntries(files.map((f) => [f, { content: fs.readFileSync(path.join(ROOT, f), "utf8") }])),
    settings: {
      ...solcSettings.settings,
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };
  const findImports = (p) => {
    const f = path.join(ROOT, "node_modules", p);
    return fs.existsSync(f) ? { contents: fs.readFileSync(f, "utf8") } : { error: `File not found: ${p}` };
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (out.errors || []).filter((e) => e.severity === "error");
  for (const e of out.errors || []) console.error(e.formattedMessage);
  if (errors.length) throw new Error(`solc reported ${errors.length} error(s)`);
  const c = out.contracts[`${SOURCE_DIR}/${CONTRACT}.sol`][CONTRACT];
  return { longVersion: solc.version(), abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`, deployed: `0x${c.evm.deployedBytecode.object}` };
}

function buildArtifact() {
  const solcSettings = require(path.join(ROOT, SOURCE_DIR, "solc-settings.json"));
  const openzeppelin = pinnedVersion("@openzeppelin/contracts");
  const files = sourceFiles();
  const fp = fingerprint(solcSettings, openzeppelin, files);
  const c = compile(solcSettings, files);
  return {
    _generated: "by deploy/export-artifacts.js from contracts/; do not edit by hand",
    provenance: {
      generator: "deploy/export-artifacts.js",
      compiler: `solc-js ${c.longVersion}`,
      solc: solcSettings,
      openzeppelin,
      sources: fp.sources,
      sourceFingerprint: fp.digest,
    },
    contractName: CONTRACT,
    abiHash: sha256(canonical(c.abi)),
    abi: c.abi,
    bytecode: c.bytecode,
    deployedBytecode: c.deployed,
  };
}

function main() {
  const check = process.argv.includes("--check");
  const artifact = buildArtifact();
  const text = `${JSON.stringify(artifact, null, 1)}\n`;
  if (check) {
    const shipped = fs.existsSync(OUT) ? fs.readFileSync(OUT, "utf8") : "";
    if (shipped !== text) {
      console.error(`${path.relative(ROOT, OUT)} is stale: run \`node deploy/export-artifacts.js\` and commit it`);
      process.exit(1);
    }
    console.log(`${path.relative(ROOT, OUT)} is up to date (fingerprint ${artifact.provenance.sourceFingerprint})`);
    return;
  }
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, text);
  const size = (artifact.deployedBytecode.length - 2) / 2;
  console.log(`wrote ${path.relative(ROOT, OUT)}: ${size} runtime bytes, fingerprint ${artifact.provenance.sourceFingerprint}`);
}

main();
