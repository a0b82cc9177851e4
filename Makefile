# Every target does its own set-up on a fresh machine and is idempotent: file stamps make a second
# run skip what has not changed (cargo and npm then have nothing to do).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps
KERNEL_SOURCES := kernels/Cargo.toml $(wildcard kernels/Cargo.lock) $(shell find kernels/src -name '*.rs')
EXT := $(STAMPS)/kernels
export HARDHAT_DISABLE_TELEMETRY_PROMPT := true

.PHONY: all setup demo test lint lint-python lint-rust lint-solidity test-rust test-python test-contracts golden mutation bench bench-deps bench-ezkl clean

all: setup

setup: $(EXT)

# The venv with the project's Python dependencies (and maturin, which builds the extension).
$(STAMPS)/venv: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 'maturin>=1.8,<2'
	$(VENV)/bin/maturin develop --release --extras dev
	mkdir -p $(STAMPS) && touch $@

# The native extension zkdl._kernels, rebuilt in place only when a kernel source changed.
$(EXT): $(STAMPS)/venv $(KERNEL_SOURCES)
	$(VENV)/bin/maturin develop --release --skip-install
	touch $@

# Node packages: Hardhat 2 with the npm solc (offline compiles) and anvil, the real node for tests.
$(STAMPS)/npm: package.json package-lock.json
	npm ci --no-audit --no-fund
	mkdir -p $(STAMPS) && touch $@

# Headless Chromium for the provenance-page test (Debian's package; root or sudo installs it).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_SAYS = echo "make: $(1) is missing: installing Debian's $(2) package with apt-get$(if $(SUDO), through sudo) ($(3))"
$(STAMPS)/chromium:
	command -v chromium >/dev/null || ($(call APT_SAYS,chromium,chromium,about 155 MB: the provenance-page test) \
		&& $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium)
	mkdir -p $(STAMPS) && touch $@

# The PostgreSQL server (initdb, pg_ctl) for the PostgreSQL store tests, unless it is already there
# (on PATH or in Debian's /usr/lib/postgresql/<version>/bin). Debian's package; root or sudo installs it.
$(STAMPS)/postgresql:
	(PATH="$$PATH$$(printf ':%s' /usr/lib/postgresql/*/bin)"; command -v initdb && command -v pg_ctl) >/dev/null \
		|| ($(call APT_SAYS,the PostgreSQL server,postgresql,the PostgreSQL store tests) \
			&& $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q postgresql)
	mkdir -p $(STAMPS) && touch $@

demo: setup
	$(VENV)/bin/zkdl demo

test: lint test-rust test-contracts test-python

# Linters, clean with warnings as errors; a suppression in the sources says why on its line (the
# rules ruff skips are listed with their reasons in pyproject.toml).
lint: lint-python lint-rust lint-solidity

lint-python: $(STAMPS)/venv
	$(VENV)/bin/ruff check zkdl tests scripts bench
	$(VENV)/bin/ruff format --check zkdl tests scripts bench
	$(VENV)/bin/mypy

# Clippy with the Python bindings, so the extension's code is linted too; pyo3's build script asks
# the venv's interpreter for its configuration, as in the extension build.
lint-rust: $(STAMPS)/venv
	cargo fmt --manifest-path kernels/Cargo.toml -- --check
	PYO3_PYTHON=$(abspath $(PY)) cargo clippy --release --manifest-path kernels/Cargo.toml --all-targets --features python -- -D warnings

# --disc: no update check (offline machines); --noPoster: no advertisement in the output.
lint-solidity: $(STAMPS)/npm
	npx solhint --disc --noPoster --max-warnings 0 'contracts/**/*.sol'

test-rust:
	# Its own target dir: the extension build (other features) would otherwise overwrite the cdylib
	# and make every second run recompile the crate.
	cargo test --release --manifest-path kernels/Cargo.toml --target-dir kernels/target/tests

test-contracts: $(STAMPS)/npm
	npx hardhat test

test-python: setup $(STAMPS)/npm $(STAMPS)/chromium $(STAMPS)/postgresql
	$(PY) -m pytest

# The verifier's mutants (tests/mutants.toml), one at a time in a scratch copy, against the proof
# tests: fails unless every one is killed. Run it before resolving an issue that touches
# zkdl/proof/. Options through MUTATION_ARGS, e.g. make mutation MUTATION_ARGS='--jobs 2'.
mutation: setup
	$(PY) scripts/mutation.py $(MUTATION_ARGS)

# Regenerates tests/vectors/golden.zkdl: only with a bump of the proof version (see the script).
golden: setup
	$(PY) -m scripts.golden_bundle

bench: setup
	$(PY) bench/kernels.py

# ezkl and onnx, only for bench/ezkl_mlp.py (the side-by-side with ezkl's proof of inference).
bench-deps: $(STAMPS)/venv
	$(VENV)/bin/pip install -q -r bench/requirements-ezkl.txt

bench-ezkl: setup bench-deps
	$(PY) bench/ezkl_mlp.py

clean:
	rm -rf $(VENV) $(STAMPS) kernels/target zkdl/_kernels*.so node_modules artifacts cache
