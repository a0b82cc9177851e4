"""zkdl on Ethereum: the ModelRegistry contract's artifact, a typed client, EIP-712 signing,
deployment records and the embedded (in-process) chain. See docs/chain.md."""

from .artifacts import Artifact, load_artifact
from .client import AttestedEvent, RegisteredEvent, RegistryClient
from .deploy import Deployment, client_from_deployment, deploy_registry, ensure_deployed, read_deployment
from .eip712 import SignedAttestation, SignedRegistration, random_nonce, sign_attestation, sign_registration
from .embedded import embedded_accounts, embedded_chain
from .errors import RegistryError
from .structs import (
    Attestation,
    AttestationRequest,
    Model,
    ModelStatus,
    Page,
    Registered,
    RegistrationRequest,
    Status,
    TxOutcome,
    Verdict,
)

__all__ = [
    "Artifact",
    "Attestation",
    "AttestationRequest",
    "AttestedEvent",
    "Deployment",
    "Model",
    "ModelStatus",
    "Page",
    "Registered",
    "RegisteredEvent",
    "RegistrationRequest",
    "RegistryClient",
    "RegistryError",
    "SignedAttestation",
    "SignedRegistration",
    "Status",
    "TxOutcome",
    "Verdict",
    "client_from_deployment",
    "deploy_registry",
    "embedded_accounts",
    "embedded_chain",
    "ensure_deployed",
    "load_artifact",
    "random_nonce",
    "read_deployment",
    "sign_attestation",
    "sign_registration",
]
