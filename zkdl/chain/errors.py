"""Typed errors of the chain package, rooted at `RegistryError`.

Contract reverts carry ABI-encoded custom errors. `decode_revert()` maps their 4-byte selector,
through the artifact's ABI, to one subclass per Solidity error; each says what went wrong (with the
decoded arguments) and what to do. Subclasses also inherit the matching built-in (`ValueError`,
`PermissionError`, `LookupError`) so callers can catch broadly.
"""

from __future__ import annotations

import ast
from typing import Any, ClassVar

from eth_abi import decode as abi_decode
from eth_utils import decode_hex, encode_hex, keccak, to_checksum_address

from ..errors import EXIT_UNUSABLE, ZkdlError


class RegistryError(ZkdlError):
    """Root of every error raised by `zkdl.chain` (a `ZkdlError`, so the CLI prints `user_message`).

    `code` is stable (the Solidity error name for reverts), `fields` holds decoded arguments by
    name, `message` says what went wrong and `hint` what to do; `user_message` is both.
    """

    code = "RegistryError"  # like ZkdlError.code: an attribute subclasses override, not a ClassVar
    template: ClassVar[str] = "registry error"
    default_hint: ClassVar[str] = ""

    def __init__(self, message: str | None = None, hint: str | None = None, **fields: Any) -> None:
        self.fields = fields
        self.hint = self.default_hint if hint is None else hint
        self.message = message if message is not None else self.template.format(**fields)
        super().__init__(f"{self.message}. {self.hint}" if self.hint else self.message)

    def __getattr__(self, name: str) -> Any:
        # Decoded revert arguments read as attributes: err.modelId, err.nonce, ...
        fields = self.__dict__.get("fields", {})
        if name in fields:
            return fields[name]
        raise AttributeError(name)


class ArtifactError(RegistryError):
    """The shipped contract artifact is missing or inconsistent."""

    code = "ArtifactError"

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message, hint)


class DeploymentError(RegistryError):
    """A deployment could not be made, found or trusted (record, key, code at the address)."""

    code = "DeploymentError"
    exit_code = EXIT_UNUSABLE

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message, hint)


class TransactionRevertedError(RegistryError):
    """A transaction was mined but failed (status 0) although its gas estimate succeeded."""

    code = "TransactionReverted"
    template = "transaction {txHash} was mined but reverted"
    default_hint = "the chain state changed between estimate and inclusion; re-read the state and retry"


class UnknownRevertError(RegistryError):
    """A revert whose data matches no error of the registry ABI (e.g. out of gas, a bad enum value)."""

    code = "UnknownRevert"
    template = "the call reverted with unrecognised data {data}"
    default_hint = "check the arguments (enum values, encodings) and that the address is a ModelRegistry"


# -- one class per Solidity error --------------------------------------------------------------------

_BY_NAME: dict[str, type[RegistryError]] = {}


def _solidity(name: str):
    def register(cls: type[RegistryError]) -> type[RegistryError]:
        cls.code = name
        _BY_NAME[name] = cls
        return cls

    return register


@_solidity("ZkdlRegistryModelAlreadyRegistered")
class ModelAlreadyRegisteredError(RegistryError):
    """The same owner already registered this (C_WT digest, proof digest) pair."""

    template = "model {modelId} is already registered"
    default_hint = "a retried registration is already done: read it with get_model(model_id)"


@_solidity("ZkdlRegistryUnknownModel")
class UnknownModelError(RegistryError, LookupError):
    """No model has this id."""

    template = "no model {modelId} is registered on this registry"
    default_hint = "check the model id, the chain and the registry address"


@_solidity("ZkdlRegistryRevokedModel")
class RevokedModelError(RegistryError):
    """The model was revoked by its owner (final)."""

    template = "model {modelId} was revoked by its owner"
    default_hint = "a revoked model accepts no attestation and cannot be revoked again"


@_solidity("ZkdlRegistryNotModelOwner")
class NotModelOwnerError(RegistryError, PermissionError):
    """Only the model's owner may do this."""

    template = "{caller} is not the owner of model {modelId} (owner: {owner})"
    default_hint = "send the transaction from the owner's account"


@_solidity("ZkdlRegistryMissingField")
class MissingFieldError(RegistryError, ValueError):
    """A required registration field is zero or empty."""

    template = "registration field {field} is zero or empty"
    default_hint = "fill in every digest, the verifier version and the bundle URI"


@_solidity("ZkdlRegistryUriTooLong")
class UriTooLongError(RegistryError, ValueError):
    """A URI exceeds the registry's maximum length."""

    template = "{field} is {length} bytes long, the registry accepts at most {maxLength}"
    default_hint = "use a shorter (e.g. content-addressed) URI"


@_solidity("ZkdlRegistryUnauthorizedVerifier")
class UnauthorizedVerifierError(RegistryError, PermissionError):
    """The account does not hold the verifier role."""

    template = "{account} is not an authorised verifier"
    default_hint = "ask the registry admin to grant VERIFIER_ROLE, or sign with a verifier key"


@_solidity("ZkdlRegistryInvalidVerdict")
class InvalidVerdictError(RegistryError, ValueError):
    """The verdict must be VALID or INVALID."""

    template = "verdict {verdict} is not allowed"
    default_hint = "attest Verdict.VALID or Verdict.INVALID"


@_solidity("ZkdlRegistryAlreadyAttested")
class AlreadyAttestedError(RegistryError):
    """This verifier already attested this model; verdicts are final."""

    template = "verifier {verifier} already attested model {modelId} (verdict {verdict})"
    default_hint = "verdicts are final; a retried attestation is already done"


@_solidity("ZkdlRegistryExpiredSignature")
class ExpiredSignatureError(RegistryError):
    """The signed message's deadline has passed."""

    template = "the signature expired at {deadline} (block time {timestamp})"
    default_hint = "have the signer sign again with a later deadline"


@_solidity("ZkdlRegistryNonceAlreadyUsed")
class NonceAlreadyUsedError(RegistryError):
    """The signer already used or cancelled this nonce."""

    template = "nonce {nonce} of {signer} is already used or cancelled"
    default_hint = "sign again with a fresh nonce (random_nonce())"


@_solidity("ZkdlRegistryInvalidSignature")
class InvalidSignatureError(RegistryError, ValueError):
    """The signature is not `signer`'s EIP-712 signature for this chain and registry."""

    template = "the signature is not a valid signature by {signer} for this chain and registry"
    default_hint = "sign the exact message with the signer's key and this registry's EIP-712 domain"


@_solidity("ZkdlRegistryInvalidQuorum")
class InvalidQuorumError(RegistryError, ValueError):
    """The quorum must be between 1 and the number of verifiers (at least 1)."""

    template = "quorum {quorum} is not allowed: it must be between 1 and {maxQuorum} (the number of verifiers)"
    default_hint = "grant more verifiers first, or choose a smaller quorum"


@_solidity("ZkdlRegistryQuorumAboveVerifiers")
class QuorumAboveVerifiersError(RegistryError, ValueError):
    """Removing the verifier would leave fewer verifiers than the quorum."""

    template = "removing the verifier would leave {verifiers} verifier(s) for a quorum of {quorum}"
    default_hint = "lower the quorum first (set_quorum), then remove the verifier"


@_solidity("ZkdlRegistryRenounceForbidden")
class RenounceForbiddenError(RegistryError, PermissionError):
    """A verifier cannot renounce its role: its verdicts are final."""

    template = "{account} cannot renounce role {role}: a verifier's verdicts are final"
    default_hint = "ask the registry admin to remove the verifier (its verdicts are then shown as from a removed verifier)"


@_solidity("ZkdlRegistryUnpauserRequired")
class UnpauserRequiredError(RegistryError):
    """A pause needs a default admin, who cannot leave while the registry is paused."""

    template = "the registry needs a default admin able to unpause (pause needs one; the admin cannot leave while paused)"
    default_hint = "unpause first, or keep (or appoint) a default admin"


@_solidity("ZkdlRegistryInvalidSignatureTtl")
class InvalidSignatureTtlError(RegistryError, ValueError):
    """The maximum signature lifetime is out of its bounds."""

    template = "a signature lifetime of {ttl} s is not between {minTtl} and {maxTtl} s"
    default_hint = "choose a lifetime within the bounds"


@_solidity("ZkdlRegistryDeadlineTooFar")
class DeadlineTooFarError(RegistryError, ValueError):
    """The signed message's deadline is further away than the registry's signature lifetime."""

    template = "the signature's deadline {deadline} is after {maxDeadline}, the latest the registry accepts now"
    default_hint = "sign again with a deadline within the registry's max_signature_ttl()"


@_solidity("ZkdlRegistryDatasetAlreadyRegistered")
class DatasetAlreadyRegisteredError(RegistryError):
    """A data set with this id is registered already (one record per id: the first registrant's)."""

    template = "data set {datasetId} is already registered by {owner}"
    default_hint = "read it with get_dataset(dataset_id); a data set has one record, its first registrant's"


@_solidity("ZkdlRegistryUnknownDataset")
class UnknownDatasetError(RegistryError, LookupError):
    """No data set has this id."""

    template = "no data set {datasetId} is registered on this registry"
    default_hint = "the data set's owner registers it (zkdl dataset register); models may name it before"


@_solidity("ZkdlRegistryFeeTooLow")
class FeeTooLowError(RegistryError, ValueError):
    """A registration paid less than the fee (the attestation fee times the number of verifiers)."""

    template = "the registration paid {paid} wei, the fee is {required} wei"
    default_hint = "send registration_fee() with the registration (the verifier set or the fee may have changed)"


@_solidity("ZkdlRegistryNothingToWithdraw")
class NothingToWithdrawError(RegistryError):
    """The account has no rewards to withdraw."""

    template = "{account} has no rewards to withdraw"
    default_hint = "rewards accrue with each attestation while a fee is set"


@_solidity("ZkdlRegistryWithdrawalFailed")
class WithdrawalFailedError(RegistryError):
    """Sending the rewards failed (the recipient refused them)."""

    template = "sending {amount} wei to {to} failed"
    default_hint = "withdraw to an account that accepts ether"


@_solidity("ZkdlRegistryInvalidPageSize")
class InvalidPageSizeError(RegistryError, ValueError):
    """A page size is 0 or above the maximum."""

    template = "page size {limit} is not between 1 and {maxLimit}"
    default_hint = "request pages of 1 to MAX_PAGE_SIZE items"


@_solidity("ZkdlRegistryPageOutOfRange")
class PageOutOfRangeError(RegistryError, IndexError):
    """A page offset is past the end of the list."""

    template = "offset {offset} is past the end of a list of {total}"
    default_hint = "use an offset of at most the list's total"


@_solidity("AccessControlUnauthorizedAccount")
class UnauthorizedAccountError(RegistryError, PermissionError):
    """The account lacks the role the function needs (admin or pauser)."""

    template = "{account} lacks role {neededRole}"
    default_hint = "send from an account holding that role (DEFAULT_ADMIN_ROLE is 0x00…00)"


@_solidity("AccessControlBadConfirmation")
class BadConfirmationError(RegistryError, ValueError):
    """renounceRole must be called by the account itself."""

    template = "an account can only renounce its own roles"
    default_hint = "pass the sender's own address as callerConfirmation"


@_solidity("AccessControlEnforcedDefaultAdminRules")
class DefaultAdminRulesError(RegistryError, PermissionError):
    """The default admin changes only through the two-step transfer."""

    template = "the default admin role is granted and revoked only by the two-step, delayed transfer"
    default_hint = "begin_admin_transfer(new_admin), wait the delay, then the new admin accepts"


@_solidity("AccessControlEnforcedDefaultAdminDelay")
class DefaultAdminDelayError(RegistryError):
    """The admin transfer's delay has not passed (or none was scheduled)."""

    template = "the default-admin transfer is not due yet (scheduled for {schedule})"
    default_hint = "wait until the scheduled time (block time), then accept"


@_solidity("AccessControlInvalidDefaultAdmin")
class InvalidAdminError(RegistryError, ValueError):
    """The default admin cannot be this address (zero at deployment, or not the pending admin)."""

    template = "{defaultAdmin} cannot become the default admin"
    default_hint = "deploy with a real admin address; only the pending admin accepts a transfer"


@_solidity("SafeCastOverflowedUintDowncast")
class AmountTooLargeError(RegistryError, ValueError):
    """A value does not fit the registry's storage (e.g. an absurd fee payment)."""

    template = "value {value} does not fit in {bits} bits"
    default_hint = "send a smaller amount"


@_solidity("EnforcedPause")
class RegistryPausedError(RegistryError):
    """The registry is paused: no new registrations or attestations."""

    template = "the registry is paused"
    default_hint = "wait until a pauser unpauses it; reads and revocations still work"


@_solidity("ExpectedPause")
class RegistryNotPausedError(RegistryError):
    """unpause() was called while the registry is not paused."""

    template = "the registry is not paused"
    default_hint = "nothing to do"


@_solidity("InvalidShortString")
class InvalidShortStringError(RegistryError):
    """OpenZeppelin ShortStrings error (EIP-712 name/version); unreachable with the fixed domain."""

    template = "invalid short string"


@_solidity("StringTooLong")
class StringTooLongError(RegistryError):
    """OpenZeppelin ShortStrings error (EIP-712 name/version); unreachable with the fixed domain."""

    template = "string too long: {str}"


class RegistryVersionError(RegistryError):
    """The contract is a registry of another major version than this zkdl speaks."""

    code = "RegistryVersion"
    exit_code = EXIT_UNUSABLE


def error_classes() -> dict[str, type[RegistryError]]:
    """Solidity error name -> Python class."""
    return dict(_BY_NAME)


# -- decoding -----------------------------------------------------------------------------------------


def _plain(abi_type: str, value: Any) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type.startswith("bytes"):
        return encode_hex(value)
    return value


class RevertDecoder:
    """Decodes revert data through the custom errors of one ABI."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self._errors: dict[bytes, dict[str, Any]] = {}
        for entry in abi:
            if entry["type"] == "error":
                sig = f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"
                self._errors[keccak(text=sig)[:4]] = entry

    def decode(self, data: bytes) -> RegistryError:
        """The typed error for `data`; `UnknownRevertError` if no ABI error matches."""
        entry = self._errors.get(bytes(data[:4]))
        if entry is None:
            return UnknownRevertError(data=encode_hex(data))
        types = [i["type"] for i in entry["inputs"]]
        values = abi_decode(types, bytes(data[4:]))
        fields = {i["name"]: _plain(t, v) for i, t, v in zip(entry["inputs"], types, values)}
        cls = _BY_NAME.get(entry["name"])
        if cls is None:  # an ABI error without a Python class: still typed enough to act on
            return UnknownRevertError(f"the call reverted with {entry['name']}{fields}", data=encode_hex(data))
        return cls(**fields)


def revert_data(exc: BaseException) -> bytes | None:
    """Extract raw revert data from what web3 raised, for eth-tester and for JSON-RPC nodes.

    * JSON-RPC nodes (anvil, geth, hardhat): web3 raises `ContractCustomError`/`ContractLogicError`
      whose `.data` is the 0x-hex revert data.
    * eth-tester: web3 re-raises `TransactionFailed("execution reverted: b'...'")`; the original
      exception (its `__context__`) holds the bytes, and the message holds their repr as a fallback.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        data = getattr(current, "data", None)
        if isinstance(data, (bytes, bytearray)) and data:
            return bytes(data)
        if isinstance(data, str) and data.startswith("0x"):
            return decode_hex(data)
        for arg in getattr(current, "args", ()):
            if isinstance(arg, (bytes, bytearray)):
                return bytes(arg)
            if isinstance(arg, str) and arg.startswith("execution reverted: b"):
                try:
                    return bytes(ast.literal_eval(arg[len("execution reverted: ") :]))
                except (ValueError, SyntaxError):
                    pass
        current = current.__cause__ or current.__context__
    return None
