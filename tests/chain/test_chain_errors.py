"""Revert decoding: raw data -> typed errors, for the shapes eth-tester and JSON-RPC nodes raise."""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak
from web3.exceptions import ContractCustomError

from zkdl.chain import errors as E
from zkdl.chain import load_artifact
from zkdl.errors import ZkdlError


def _revert(signature: str, types: list[str], values: list) -> bytes:
    return keccak(text=signature)[:4] + abi_encode(types, values)


@pytest.fixture(scope="module")
def decoder():
    return E.RevertDecoder(load_artifact().abi)


def test_decodes_arguments_by_name(decoder):
    data = _revert(
        "ZkdlRegistryNotModelOwner(bytes32,address,address)",
        ["bytes32", "address", "address"],
        [b"\x11" * 32, "0x" + "22" * 20, "0x" + "33" * 20],
    )
    err = decoder.decode(data)
    assert isinstance(err, E.NotModelOwnerError) and isinstance(err, PermissionError)
    assert err.modelId == "0x" + "11" * 32 and err.owner.lower() == "0x" + "33" * 20
    assert err.code == "ZkdlRegistryNotModelOwner"
    assert "is not the owner of model" in err.message and err.hint in str(err)


def test_every_error_is_a_registry_error_and_a_zkdl_error(decoder):
    for name, cls in E.error_classes().items():
        assert issubclass(cls, E.RegistryError) and issubclass(cls, ZkdlError), name
        assert cls.__doc__, f"{name} needs a docstring"
    err = decoder.decode(_revert("EnforcedPause()", [], []))
    assert isinstance(err, E.RegistryPausedError) and "paused" in err.user_message


def test_unknown_selector_and_empty_data(decoder):
    err = decoder.decode(bytes.fromhex("deadbeef") + bytes(32))
    assert isinstance(err, E.UnknownRevertError) and err.data.startswith("0xdeadbeef")
    assert isinstance(decoder.decode(b""), E.UnknownRevertError)


def test_revert_data_from_a_json_rpc_node_error():
    data = _revert("ZkdlRegistryInvalidQuorum(uint256,uint256)", ["uint256", "uint256"], [0, 1])
    exc = ContractCustomError("0x" + data.hex(), data="0x" + data.hex())
    assert E.revert_data(exc) == data


def test_revert_data_from_eth_tester_message_and_context():
    data = _revert("ZkdlRegistryInvalidQuorum(uint256,uint256)", ["uint256", "uint256"], [0, 1])
    # web3's eth-tester provider re-raises with the bytes' repr in the message...
    assert E.revert_data(Exception(f"execution reverted: {data!r}")) == data
    # ...while the original exception, with the bytes themselves, is its __context__.
    try:
        try:
            raise Exception(data)
        except Exception:
            raise Exception("execution reverted: <unparseable>")  # noqa: B904 - the implicit __context__ is the case tested
    except Exception as exc:
        assert E.revert_data(exc) == data


def test_non_revert_errors_carry_no_data():
    assert E.revert_data(ConnectionError("node down")) is None


def test_every_error_of_the_abi_has_its_class():
    abi_errors = {e["name"] for e in load_artifact().abi if e["type"] == "error"}
    assert abi_errors == set(E.error_classes())
