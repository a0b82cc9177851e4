// SPDX-License-Identifier: Apache-2.0
// zkdl (contracts/IModelRegistry.sol)
pragma solidity ^0.8.20;

/**
 * @title IModelRegistry
 * @notice Registry of ML models whose training run was proven in zero knowledge (zkdl), with
 * attestations by a role-managed set of off-chain verifiers.
 * @dev The chain holds digests only (Keccak-256, bytes32): the proof itself is verified off-chain
 * by the verifiers, who attest valid or invalid. See docs/chain.md for the rules.
 */
interface IModelRegistry {
    /// @dev A verifier's verdict. `None` is never stored: it marks "no attestation".
    enum Verdict {
        None,
        Valid,
        Invalid
    }

    /// @dev Status of a model for buyers. Precedence: Revoked > Disputed > Verified > Pending.
    enum Status {
        Pending,
        Verified,
        Disputed,
        Revoked
    }

    /// @dev What an owner registers. The three C_* fields are Keccak-256 digests of the
    /// commitments to the data set, the initial weights and the final weights.
    struct RegistrationRequest {
        bytes32 cDataDigest;
        bytes32 cW0Digest;
        bytes32 cWTDigest;
        bytes32 statementDigest;
        bytes32 proofDigest;
        bytes32 verifierVersion;
        string bundleUri;
        string metadataUri;
    }

    /// @dev A registered model. `revokedAt` is 0 while the model is not revoked.
    struct Model {
        address owner;
        uint48 registeredAt;
        uint48 revokedAt;
        bytes32 cDataDigest;
        bytes32 cW0Digest;
        bytes32 cWTDigest;
        bytes32 statementDigest;
        bytes32 proofDigest;
        bytes32 verifierVersion;
        string bundleUri;
        string metadataUri;
    }

    /// @dev What a verifier attests. `verifierVersion` must equal the model's.
    struct AttestationRequest {
        bytes32 modelId;
        Verdict verdict;
        bytes32 verifierVersion;
        bytes32 reportDigest;
    }

    /// @dev An attestation (one per verifier and model, final). `verifierVersion` is the model's.
    /* solhint-disable-next-line gas-struct-packing */ // an ABI type, never stored: its field order is the ABI
    struct Attestation {
        address verifier;
        Verdict verdict;
        uint48 attestedAt;
        bytes32 verifierVersion;
        bytes32 reportDigest;
    }

    /// @dev Everything a buyer needs about a model's verification, in one call. Counts include only
    /// attestations whose verifier still holds the verifier role; the others are `ignoredCount`.
    struct ModelStatus {
        Status status;
        uint32 validCount;
        uint32 invalidCount;
        uint32 ignoredCount;
        uint32 quorum;
        uint48 revokedAt;
        Attestation[] attestations;
    }

    // ----------------------------------------------------------------------------------------------
    // Errors
    // ----------------------------------------------------------------------------------------------

    /// @dev A model with this id exists: the same owner already registered this (C_WT, proof) pair.
    error ZkdlRegistryModelAlreadyRegistered(bytes32 modelId);
    /// @dev No model with this id is registered.
    error ZkdlRegistryUnknownModel(bytes32 modelId);
    /// @dev The model was revoked by its owner; it accepts no attestation and no second revocation.
    error ZkdlRegistryRevokedModel(bytes32 modelId);
    /// @dev Only the model's owner may do this.
    error ZkdlRegistryNotModelOwner(bytes32 modelId, address caller, address owner);
    /// @dev A required registration field (named) is zero or empty.
    error ZkdlRegistryMissingField(string field);
    /// @dev A URI field (named) is longer than the registry accepts.
    error ZkdlRegistryUriTooLong(string field, uint256 length, uint256 maxLength);
    /// @dev The account does not hold the verifier role.
    error ZkdlRegistryUnauthorizedVerifier(address account);
    /// @dev The verdict must be Valid or Invalid.
    error ZkdlRegistryInvalidVerdict(Verdict verdict);
    /// @dev The attestation's verifier version differs from the version the model was registered for.
    error ZkdlRegistryVerifierVersionMismatch(bytes32 modelId, bytes32 expected, bytes32 actual);
    /// @dev This verifier already attested this model; verdicts are final.
    error ZkdlRegistryAlreadyAttested(bytes32 modelId, address verifier, Verdict verdict);
    /// @dev The signed message's deadline has passed.
    error ZkdlRegistryExpiredSignature(uint256 deadline, uint256 timestamp);
    /// @dev The signer already used (or cancelled) this nonce.
    error ZkdlRegistryNonceAlreadyUsed(address signer, uint256 nonce);
    /// @dev The signature is not a valid EIP-712 signature by `signer` for this chain and registry.
    error ZkdlRegistryInvalidSignature(address signer);
    /// @dev The quorum must be at least 1.
    error ZkdlRegistryInvalidQuorum(uint256 quorum);
    /// @dev The admin passed to the constructor must not be the zero address.
    error ZkdlRegistryInvalidAdmin(address admin);
    /// @dev A page size must be between 1 and `maxLimit`.
    error ZkdlRegistryInvalidPageSize(uint256 limit, uint256 maxLimit);
    /// @dev A page offset must not exceed the list length.
    error ZkdlRegistryPageOutOfRange(uint256 offset, uint256 total);

    // ----------------------------------------------------------------------------------------------
    // Events
    // ----------------------------------------------------------------------------------------------

    /**
     * @notice A model was registered. Carries the full registration so indexers need no extra call.
     * @param modelId The new model's id.
     * @param owner The model's owner.
     * @param cWTDigest The digest of the final-weights commitment (indexed, so buyers can find a model by it).
     * @param registration The registration as submitted.
     * @param submitter The account that sent the transaction (the owner or a relayer).
     * @param registeredAt The block timestamp of the registration.
     */
    event ModelRegistered(
        bytes32 indexed modelId,
        address indexed owner,
        bytes32 indexed cWTDigest,
        RegistrationRequest registration,
        address submitter,
        uint48 registeredAt
    );
    /**
     * @notice A verifier attested a model.
     * @param modelId The attested model.
     * @param verifier The verifier whose attestation this is.
     * @param verdict Valid or Invalid.
     * @param verifierVersion The verifier version (the model's).
     * @param reportDigest The digest of the verifier's report.
     * @param submitter The account that sent the transaction (the verifier or a relayer).
     * @param attestedAt The block timestamp of the attestation.
     */
    event ModelAttested(
        bytes32 indexed modelId,
        address indexed verifier,
        Verdict indexed verdict,
        bytes32 verifierVersion,
        bytes32 reportDigest,
        address submitter,
        uint48 attestedAt
    );
    /* solhint-disable gas-indexed-events */ // indexing a field moves it into the topics: another event ABI
    /**
     * @notice The owner revoked a model (final).
     * @param modelId The revoked model.
     * @param owner The model's owner.
     * @param revokedAt The block timestamp of the revocation.
     */
    event ModelRevoked(bytes32 indexed modelId, address indexed owner, uint48 revokedAt);
    /**
     * @notice The quorum of valid attestations needed for Verified changed.
     * @param previousQuorum The quorum before.
     * @param newQuorum The quorum now.
     */
    event QuorumChanged(uint32 previousQuorum, uint32 newQuorum);
    /* solhint-enable gas-indexed-events */
    /**
     * @notice A signer's nonce was consumed by a signed message or cancelled.
     * @param signer The signer.
     * @param nonce The nonce.
     */
    event NonceUsed(address indexed signer, uint256 indexed nonce);

    // ----------------------------------------------------------------------------------------------
    // Registration
    // ----------------------------------------------------------------------------------------------

    /**
     * @notice Register a model owned by the caller.
     * @dev Reverts `ZkdlRegistryModelAlreadyRegistered` on a retry (same owner, C_WT and proof).
     * @param registration The digests and URIs of the proven training run.
     * @return modelId `computeModelId(msg.sender, cWTDigest, proofDigest)`.
     */
    function registerModel(RegistrationRequest calldata registration) external returns (bytes32 modelId);

    /**
     * @notice Register a model for `owner` with the owner's EIP-712 `Registration` signature, so that a
     * relayer can pay the gas.
     * @param owner The model owner and signer (an EOA or an ERC-1271 contract).
     * @param registration The signed registration.
     * @param nonce An unused nonce of `owner` (any order).
     * @param deadline Last valid block timestamp of the signature.
     * @param signature The owner's signature over the `Registration` typed message.
     * @return modelId `computeModelId(owner, cWTDigest, proofDigest)`.
     */
    function registerModelBySig(
        address owner,
        RegistrationRequest calldata registration,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 modelId);

    /**
     * @notice Withdraw a model (owner only). Final: nobody can un-revoke. Allowed while paused.
     * @param modelId The model to revoke.
     */
    function revokeModel(bytes32 modelId) external;

    // ----------------------------------------------------------------------------------------------
    // Attestations
    // ----------------------------------------------------------------------------------------------

    /**
     * @notice Attest a model as the calling verifier.
     * @param attestation The model id, verdict, verifier version and report digest.
     */
    function attest(AttestationRequest calldata attestation) external;

    /**
     * @notice Submit a verifier's EIP-712 `Attestation` signature; anyone may submit it.
     * @param verifier The verifier and signer (an EOA or an ERC-1271 contract).
     * @param attestation The signed attestation.
     * @param nonce An unused nonce of `verifier` (any order).
     * @param deadline Last valid block timestamp of the signature.
     * @param signature The verifier's signature over the `Attestation` typed message.
     */
    function attestBySig(
        address verifier,
        AttestationRequest calldata attestation,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice Invalidate one of the caller's nonces, so that a message signed with it can never be used.
     * @param nonce The nonce to cancel.
     */
    function cancelNonce(uint256 nonce) external;

    // ----------------------------------------------------------------------------------------------
    // Administration
    // ----------------------------------------------------------------------------------------------

    /**
     * @notice Set the number of valid attestations a model needs to be Verified (admin role).
     * @param newQuorum At least 1.
     */
    function setQuorum(uint32 newQuorum) external;

    /// @notice Stop new registrations and attestations (pauser role). Reads and revocations stay open.
    function pause() external;

    /// @notice Resume registrations and attestations (pauser role).
    function unpause() external;

    // ----------------------------------------------------------------------------------------------
    // Reads
    // ----------------------------------------------------------------------------------------------

    /**
     * @notice The id a registration by `owner` of (`cWTDigest`, `proofDigest`) gets on this chain and registry.
     * @param owner The model's owner.
     * @param cWTDigest The digest of the final-weights commitment.
     * @param proofDigest The digest of the proof bundle.
     * @return keccak256(abi.encode(block.chainid, address(this), owner, cWTDigest, proofDigest)).
     */
    function computeModelId(address owner, bytes32 cWTDigest, bytes32 proofDigest) external view returns (bytes32);

    /**
     * @notice Whether a model with this id is registered.
     * @param modelId The model id.
     * @return True if registered (revoked models included).
     */
    function modelExists(bytes32 modelId) external view returns (bool);

    /**
     * @notice A registered model. Reverts `ZkdlRegistryUnknownModel` for an unknown id.
     * @param modelId The model id.
     * @return The stored model.
     */
    function getModel(bytes32 modelId) external view returns (Model memory);

    /**
     * @notice A model's status, counts and all its attestations, in one call (for buyers).
     * @dev Its cost grows with the number of attestations, which is at most the number of accounts ever
     * granted the verifier role.
     * @param modelId The model id.
     * @return The status view.
     */
    function getStatus(bytes32 modelId) external view returns (ModelStatus memory);

    /**
     * @notice A verifier's attestation on a model (`verdict == None` if it has not attested).
     * @param modelId The model id.
     * @param verifier The verifier.
     * @return The attestation.
     */
    function getAttestation(bytes32 modelId, address verifier) external view returns (Attestation memory);

    /**
     * @notice A page of a model's attestations, in submission order.
     * @param modelId The model id.
     * @param offset First index; must not exceed `total`.
     * @param limit Page size, 1 to `MAX_PAGE_SIZE`.
     * @return page The attestations.
     * @return total The number of attestations.
     */
    function getAttestations(
        bytes32 modelId,
        uint256 offset,
        uint256 limit
    ) external view returns (Attestation[] memory page, uint256 total);

    /**
     * @notice A page of all model ids, in registration order.
     * @param offset First index; must not exceed `total`.
     * @param limit Page size, 1 to `MAX_PAGE_SIZE`.
     * @return page The ids.
     * @return total The number of registered models.
     */
    function getModelIds(uint256 offset, uint256 limit) external view returns (bytes32[] memory page, uint256 total);

    /**
     * @notice A page of one owner's model ids, in registration order.
     * @param owner The owner.
     * @param offset First index; must not exceed `total`.
     * @param limit Page size, 1 to `MAX_PAGE_SIZE`.
     * @return page The ids.
     * @return total The number of models of `owner`.
     */
    function getModelIdsByOwner(
        address owner,
        uint256 offset,
        uint256 limit
    ) external view returns (bytes32[] memory page, uint256 total);

    /**
     * @notice Whether `signer` has used or cancelled `nonce`.
     * @param signer The signer.
     * @param nonce The nonce.
     * @return True if used.
     */
    function nonceUsed(address signer, uint256 nonce) external view returns (bool);

    /// @notice The number of valid attestations a model needs to be Verified.
    /// @return The quorum.
    function quorum() external view returns (uint32);

    /**
     * @notice The EIP-712 digest a registration signature signs (for clients to cross-check).
     * @param owner The model owner and signer.
     * @param registration The registration.
     * @param nonce The signer's nonce.
     * @param deadline Last valid block timestamp of the signature.
     * @return The typed-data hash.
     */
    function hashRegistration(
        address owner,
        RegistrationRequest calldata registration,
        uint256 nonce,
        uint256 deadline
    ) external view returns (bytes32);

    /**
     * @notice The EIP-712 digest an attestation signature signs (for clients to cross-check).
     * @param verifier The verifier and signer.
     * @param attestation The attestation.
     * @param nonce The signer's nonce.
     * @param deadline Last valid block timestamp of the signature.
     * @return The typed-data hash.
     */
    function hashAttestation(
        address verifier,
        AttestationRequest calldata attestation,
        uint256 nonce,
        uint256 deadline
    ) external view returns (bytes32);

    /// @notice The registry's version (semver).
    /// @return The version string.
    function version() external pure returns (string memory);
}
