"""Signing keys, loaded one way for every role: the model owner, a relayer, the deployer, a verifier.

A role's key is ``$ZKDL_<ROLE>_KEY`` (0x-hex), else an encrypted keystore file (the caller's, else
``$ZKDL_<ROLE>_KEYSTORE``) whose password is ``$ZKDL_<ROLE>_KEYSTORE_PASSWORD``. Keys never come
from command-line arguments or config files (shell history, `ps`, config repositories), and an
unusable key is never echoed back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, overload

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ..errors import EXIT_UNUSABLE, ZkdlError


class AccountKeyError(ZkdlError, ValueError):
    """A private key is missing or unusable (never echoes the key)."""

    code = "key"
    exit_code = EXIT_UNUSABLE


def key_variables(role: str) -> tuple[str, str, str]:
    """The environment variables of `role`'s key: (key, keystore file, keystore password)."""
    prefix = f"ZKDL_{role.upper()}"
    return f"{prefix}_KEY", f"{prefix}_KEYSTORE", f"{prefix}_KEYSTORE_PASSWORD"


def keystore_help(role: str, then: str = "") -> str:
    """The help of a command's ``--keystore``: besides the file, where `role`'s key comes from without it."""
    key, keystore, password = key_variables(role)
    return f"the {role}'s encrypted keystore (password in ${password}); default ${key}, then ${keystore}{then}"


@overload
def load_account(
    role: str, env: Mapping[str, str] | None = None, *, keystore: str | Path | None = None, required: Literal[True] = True
) -> LocalAccount: ...


@overload
def load_account(
    role: str, env: Mapping[str, str] | None = None, *, keystore: str | Path | None = None, required: bool
) -> LocalAccount | None: ...


def load_account(
    role: str, env: Mapping[str, str] | None = None, *, keystore: str | Path | None = None, required: bool = True
) -> LocalAccount | None:
    """`role`'s signing account from the environment `env` (default `os.environ`) or a keystore
    (`keystore` wins over the environment's). None when nothing is configured and `required` is False."""
    env = os.environ if env is None else env
    key_var, keystore_var, password_var = key_variables(role)
    if env.get(key_var):
        try:
            return Account.from_key(env[key_var].strip())
        except Exception:
            raise AccountKeyError(f"${key_var} is not a valid private key: set it to a 0x-hex 32-byte key") from None
    path = keystore or env.get(keystore_var)
    if not path:
        if not required:
            return None
        raise AccountKeyError(
            f"no {role} key: set ${key_var} (0x-hex private key), or ${keystore_var} and ${password_var} (an encrypted keystore)"
        )
    if password_var not in env:
        raise AccountKeyError(f"keystore {path} needs a password: set ${password_var}")
    try:
        key = Account.decrypt(json.loads(Path(path).read_text("utf-8")), env[password_var])
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise AccountKeyError(f"cannot decrypt keystore {path}: {type(exc).__name__}: check the file and the password") from None
    return Account.from_key(key)
