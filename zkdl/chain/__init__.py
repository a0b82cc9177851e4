"""zkdl on Ethereum: the ModelRegistry contract's artifact, a typed client, EIP-712 signing,
deployment records and the embedded (in-process) chain. See docs/chain.md."""

from .artifacts import Artifact, load_artifact
from .client import SUPPORTED_MAJOR, AttestedEvent, RegisteredEvent, RegistryClient, model_id_for
from .deploy import Deployment, client_from_deployment, deploy_registry, ensure_deployed, read_deployment
from .eip712 import SignedAttestation, SignedRegistration, random_nonce, sign_attestation, sign_registration
from .embedded import embedded_accounts, embedded_chain
from .errors import RegistryError, RegistryVersionError
from .structs import (
    Attestation,
    AttestationRequest,
    CursorPage,
    Dataset,
    DatasetRequest,
    IndexKind,
    Model,
    ModelRecord,
    ModelStatus,
    Page,
    Registered,
    RegistrationRequest,
    Status,
    TxOutcome,
    Verdict,
    VerifierInfo,
    owner_key,
)

__all__ = [
    "SUPPORTED_MAJOR",
    "Artifact",
    "Attestation",
    "AttestationRequest",
    "AttestedEvent",
    "CursorPage",
    "Dataset",
    "DatasetRequest",
    "Deployment",
    "IndexKind",
    "Model",
    "ModelRecord",
    "ModelStatus",
    "Page",
    "Registered",
    "RegisteredEvent",
    "RegistrationRequest",
    "RegistryClient",
    "RegistryError",
    "RegistryVersionError",
    "SignedAttestation",
    "SignedRegistration",
    "Status",
    "TxOutcome",
    "Verdict",
    "VerifierInfo",
    "client_from_deployment",
    "deploy_registry",
    "embedded_accounts",
    "embedded_chain",
    "ensure_deployed",
    "load_artifact",
    "model_id_for",
    "owner_key",
    "random_nonce",
    "read_deployment",
    "sign_attestation",
    "sign_registration",
]
