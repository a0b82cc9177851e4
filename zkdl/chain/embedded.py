"""The embedded chain: eth-tester + py-evm in process, zero set-up (the default for demos and tests).

It is ephemeral: every `embedded_chain()` is a fresh chain, so deployments on it are never recorded.
"""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import EthereumTesterProvider, Web3


def embedded_chain() -> Web3:
    """A Web3 on a fresh in-process chain whose `w3.eth.accounts` are unlocked and funded.

    Their private keys, for signing EIP-712 messages or raw transactions, come from
    `embedded_accounts()` in the same order.
    """
    return Web3(EthereumTesterProvider())


def embedded_accounts() -> list[LocalAccount]:
    """The funded accounts of every embedded chain, as signing accounts (same order as w3.eth.accounts)."""
    # Imported here: eth-tester is only needed when the embedded chain is used.
    from eth_tester.backends.pyevm.main import get_default_account_keys

    return [Account.from_key(key.to_bytes()) for key in get_default_account_keys()]
