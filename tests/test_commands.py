"""The one error and exit-status policy of the `zkdl` subcommands (zkdl.commands, zkdl.errors):
each error family carries its exit status, foreign errors join the tree, anything else is a bug."""

from __future__ import annotations

import json

import pytest

from zkdl import _kernels
from zkdl.chain.errors import DeploymentError, UnknownModelError
from zkdl.chain.keys import AccountKeyError
from zkdl.chain.register import RegistrationIncompleteError
from zkdl.commands import run_guarded
from zkdl.errors import (
    EXIT_FAILED,
    EXIT_UNUSABLE,
    DataError,
    KernelError,
    RunFormatError,
    SpecError,
    TrainingOverflowError,
    UnusableInputError,
    ZkdlError,
)
from zkdl.market.check import UnusableWeightsError
from zkdl.market.connect import ChainConfigError
from zkdl.market.ids import ModelIdError
from zkdl.proof.bundle import BundleFormatError
from zkdl.proof.registration import OpeningFormatError
from zkdl.store import BundleTooLargeError, IntegrityError, StoreError, UnsupportedUriError


@pytest.mark.parametrize(
    "family",
    [
        BundleFormatError,
        OpeningFormatError,
        ModelIdError,
        ChainConfigError,
        AccountKeyError,
        DeploymentError,
        SpecError,
        DataError,
        RunFormatError,
        UnusableInputError,
        UnusableWeightsError,
        StoreError,
        IntegrityError,
        BundleTooLargeError,
        UnsupportedUriError,
    ],
)
def test_input_that_cannot_be_used_exits_2(family):
    assert family.exit_code == EXIT_UNUSABLE


@pytest.mark.parametrize("family", [ZkdlError, TrainingOverflowError, UnknownModelError, RegistrationIncompleteError, KernelError])
def test_a_failure_or_a_no_exits_1(family):
    assert family.exit_code == EXIT_FAILED  # not finished yet (an OSError) is an answer, not unusable input


def _raise(exc: BaseException):
    def work() -> int:
        raise exc

    return work


def _failure(error: ZkdlError, unusable: bool) -> dict:
    return {"usable": not unusable, "error": error.code, "reason": error.user_message}


def test_every_command_exits_with_the_family_status(capsys):
    status = run_guarded("check", _raise(ModelIdError("not a model id")), failure_json=_failure)
    out, err = capsys.readouterr()
    assert status == 2 and err == "zkdl check: unusable input: not a model id\n"
    assert json.loads(out) == {"usable": False, "error": "model-id", "reason": "not a model id"}
    assert run_guarded("check", _raise(DataError("no rows"))) == 2
    assert capsys.readouterr().err == "zkdl check: unusable input: no rows\n"
    assert run_guarded("train", _raise(SpecError("range_bits must lie in [8, 64]"))) == 2
    assert capsys.readouterr() == ("", "zkdl train: unusable input: range_bits must lie in [8, 64]\n")
    overflow = TrainingOverflowError(layer=0, step=1, tensor="Z", bits_needed=65, bits_allowed=64, scale_exp=16)
    assert run_guarded("train", _raise(overflow)) == 1
    assert capsys.readouterr().err.startswith("zkdl train: error: ")


def test_foreign_errors_join_the_tree_and_bugs_keep_their_traceback(capsys):
    assert run_guarded("provenance", _raise(FileNotFoundError(2, "gone")), failure_json=_failure) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["error"] == "FileNotFoundError"
    assert err == "zkdl provenance: unusable input: lost the node or a file: FileNotFoundError: [Errno 2] gone\n"
    assert run_guarded("verify", _raise(_kernels.KernelError("length mismatch"))) == 1
    assert capsys.readouterr().err == "zkdl verify: error: a native kernel refused its input: length mismatch\n"
    with pytest.raises(TypeError):
        run_guarded("verify", _raise(TypeError("a bug")))


def test_a_reader_that_goes_away_is_not_reported_as_a_lost_node():
    """`zkdl inspect ID | head -3`: the write fails with a broken pipe, an OSError, which must not be
    mistaken for an unreachable node: no message, status 1."""
    import subprocess
    import sys

    script = "import sys; from zkdl.commands import run_guarded\n" + "def w():\n    raise BrokenPipeError(32, 'Broken pipe')\n"
    script += "sys.exit(run_guarded('inspect', w))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr == "" and done.stdout == ""


@pytest.mark.parametrize(
    "argv, says",
    [
        (["prove"], "$ZKDL_OWNER_KEY"),
        (["register"], "default $ZKDL_OWNER_KEY, then $ZKDL_OWNER_KEYSTORE"),
        (["dataset", "register"], "default $ZKDL_OWNER_KEY, then $ZKDL_OWNER_KEYSTORE"),
        (["admin", "deploy"], "default $ZKDL_DEPLOYER_KEY, then $ZKDL_DEPLOYER_KEYSTORE"),
        (["admin", "grant-verifier"], "default $ZKDL_ADMIN_KEY, then $ZKDL_ADMIN_KEYSTORE, then $ZKDL_DEPLOYER_KEY"),
        (["admin", "revoke-model"], "default $ZKDL_OWNER_KEY"),
        (["serve"], "the verifier's $ZKDL_VERIFIER_KEY"),
        (["serve"], "$ZKDL_<SETTING> (e.g. $ZKDL_RPC_URL, $ZKDL_DEPLOYMENTS_DIR)"),
        (["train"], "your own .csv (numeric feature columns, then the label: class numbers or names; a header optional)"),
    ],
)
def test_the_help_says_what_a_newcomer_must_set(argv, says, capsys):
    """Where a command's key comes from, and what a data file holds, are in its --help (not only in an error)."""
    from zkdl.cli import build_parser

    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*argv, "--help"])
    assert done.value.code == 0
    assert says in " ".join(capsys.readouterr().out.split())
