#!/usr/bin/env python3
"""Step 001: deploy the ModelRegistry (idempotent) and record it in deploy/deployments/<chainId>.json.

A thin entry point over `zkdl.chain.deploy` (pure Python, uses the artifact shipped in the package;
no Node needed). The key comes from $ZKDL_DEPLOYER_KEY or an encrypted keystore
($ZKDL_DEPLOYER_KEYSTORE + $ZKDL_DEPLOYER_KEYSTORE_PASSWORD), never from the command line:

    ZKDL_DEPLOYER_KEY=0x... python deploy/001_model_registry.py --rpc http://127.0.0.1:8545 --quorum 2

Re-running it checks the recorded deployment and sends nothing; --redeploy replaces it.
"""

import sys
from pathlib import Path

# Run from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zkdl.chain.deploy import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
