// SPDX-License-Identifier: Apache-2.0
// zkdl (contracts/IModelRegistry.sol)
pragma solidity ^0.8.20;

/**
 * @title IModelRegistry
 * @notice Registry (version 2) of data sets and of ML models whose training run was proven in zero
 * knowledge (zkdl), with attestations by a role-managed set of off-chain verifiers.
 * @dev The chain holds digests only (Keccak-256, bytes32): proofs are verified off-chain by the
 * verifiers, who attest valid or invalid. A model's id is the hash of its whole registration, so a
 * verdict is for one record. Bulky fields (URIs, the full requests) live in events; storage holds
 * what the rules and the indexes need. See docs/chain.md for the rules.
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

    /// @dev The on-chain indexes of models (each lists the models sharing one key, newest first).
    enum IndexKind {
        Owner, // key: the owner's address, left-padded to 32 bytes
        Dataset, // key: the C_data digest (the data set's id)
        Weights, // key: the C_WT digest (copies of the same final weights)
        Proof, // key: the proof digest (copies of the same bundle)
        Statement // key: the statement digest (a fine-tuned model's `parentDigest` names its parent's)
    }

    /// @dev What an owner registers. The C_* fields are Keccak-256 digests of the commitments to the
    /// data set (also the data set's id), the initial weights and the final weights; `parentDigest` is
    /// the statement digest of the model a fine-tuned run started from (zero if none).
    struct RegistrationRequest {
        bytes32 cDataDigest;
        bytes32 cW0Digest;
        bytes32 cWTDigest;
        bytes32 statementDigest;
        bytes32 proofDigest;
        bytes32 parentDigest;
        bytes32 verifierVersion;
        string bundleUri;
        string metadataUri;
    }

    /// @dev What storage keeps of a model (the rest is in its ModelRegistered event, whose fields hash to
    /// the id). `revokedAt` is 0 while the model is not revoked; `quorum` is the quorum in force at
    /// registration, the one its status is counted against; `seq` numbers models from 1.
    struct ModelRecord {
        address owner;
        uint40 registeredBlock;
        uint40 revokedAt;
        uint16 quorum;
        uint40 seq;
    }

    /// @dev What a data set's owner registers: the id (the C_data digest), the shape, the digest of the
    /// data set's range-proof file and the URI of its description.
    struct DatasetRequest {
        bytes32 datasetId;
        uint64 samples;
        uint32 features;
        uint32 classes;
        uint8 fracBits;
        bytes32 rangeProofDigest;
        string uri;
    }

    /// @dev A registered data set (its URI is in its DatasetRegistered event).
    struct DatasetRecord {
        address owner;
        uint40 registeredBlock;
        uint8 fracBits;
        uint32 classes;
        uint64 samples;
        uint32 features;
        bytes32 rangeProofDigest;
    }

    /// @dev What a verifier attests: a verdict on one model id (that is, on one whole registration).
    struct AttestationRequest {
        bytes32 modelId;
        Verdict verdict;
        bytes32 reportDigest;
    }

    /// @dev An attestation (one per verifier and model, final; its report digest is in its ModelAttested
    /// event). `counted` is false when the verifier was removed: its verdict no longer counts.
    /* solhint-disable-next-line gas-struct-packing */ // an ABI type, never stored: its field order is the ABI
    struct Attestation {
        address verifier;
        Verdict verdict;
        uint40 attestedAt;
        bool counted;
    }

    /// @dev A verifier, current or removed (`removedAt` 0 while it holds the role).
    struct Verifier {
        address account;
        uint40 grantedAt;
        uint40 removedAt;
        uint40 attestations;
    }

    /// @dev Everything a buyer needs about a model's verification, in one call. Counts include only
    /// attestations of current verifiers; those of removed verifiers are `ignoredCount`.
    struct ModelStatus {
        Status status;
        uint16 validCount;
        uint16 invalidCount;
        uint16 ignoredCount;
        uint16 quorum;
        uint40 revokedAt;
        Attestation[] attestations;
    }

    // ----------------------------------------------------------------------------------------------
    // Errors
    // ----------------------------------------------------------------------------------------------

    /// @dev A model with this id exists: the same owner already registered this very record.
    error ZkdlRegistryModelAlreadyRegistered(bytes32 modelId);
    /// @dev No model with this id is registered.
    error ZkdlRegistryUnknownModel(bytes32 modelId);
    /// @dev The model was revoked by its owner; it accepts no attestation and no second revocation.
    error ZkdlRegistryRevokedModel(bytes32 modelId);
    /// @dev Only the model's owner may do this.
    error ZkdlRegistryNotModelOwner(bytes32 modelId, address caller, address owner);
    /// @dev A required field (named) is zero or empty.
    error ZkdlRegistryMissingField(string field);
    /// @dev A URI field (named) is longer than the registry accepts.
    error ZkdlRegistryUriTooLong(string field, uint256 length, uint256 maxLength);
    /// @dev A data set with this id is registered already (one record per id: the first registrant's).
    error ZkdlRegistryDatasetAlreadyRegistered(bytes32 datasetId, address owner);
    /// @dev No data set with this id is registered.
    error ZkdlRegistryUnknownDataset(bytes32 datasetId);
    /// @dev A registration must pay the fee: the attestation fee times the number of verifiers.
    error ZkdlRegistryFeeTooLow(uint256 paid, uint256 required);
    /// @dev The account does not hold the verifier role.
    error ZkdlRegistryUnauthorizedVerifier(address account);
    /// @dev The verdict must be Valid or Invalid.
    error ZkdlRegistryInvalidVerdict(Verdict verdict);
    /// @dev This verifier already attested this model; verdicts are final.
    error ZkdlRegistryAlreadyAttested(bytes32 modelId, address verifier, Verdict verdict);
    /// @dev The account has no rewards to withdraw.
    error ZkdlRegistryNothingToWithdraw(address account);
    /// @dev Sending the rewards to `to` failed.
    error ZkdlRegistryWithdrawalFailed(address to, uint256 amount);
    /// @dev The signed message's deadline has passed.
    error ZkdlRegistryExpiredSignature(uint256 deadline, uint256 timestamp);
    /// @dev The signed message's deadline is further away than the registry's signature lifetime allows.
    error ZkdlRegistryDeadlineTooFar(uint256 deadline, uint256 maxDeadline);
    /// @dev The signer already used (or cancelled) this nonce.
    error ZkdlRegistryNonceAlreadyUsed(address signer, uint256 nonce);
    /// @dev The signature is not a valid EIP-712 signature by `signer` for this chain and registry.
    error ZkdlRegistryInvalidSignature(address signer);
    /// @dev The quorum must be between 1 and the number of verifiers (at least 1).
    error ZkdlRegistryInvalidQuorum(uint256 quorum, uint256 maxQuorum);
    /// @dev Removing this verifier would leave fewer verifiers than the quorum: lower the quorum first.
    error ZkdlRegistryQuorumAboveVerifiers(uint256 quorum, uint256 verifiers);
    /// @dev A verifier cannot renounce its role (that would withdraw its final verdicts): the admin removes it.
    error ZkdlRegistryRenounceForbidden(bytes32 role, address account);
    /// @dev A pause needs a default admin, who can always unpause and cannot leave while paused.
    error ZkdlRegistryUnpauserRequired();
    /// @dev The maximum signature lifetime must lie between the bounds.
    error ZkdlRegistryInvalidSignatureTtl(uint256 ttl, uint256 minTtl, uint256 maxTtl);
    /// @dev A page size must be between 1 and `maxLimit`.
    error ZkdlRegistryInvalidPageSize(uint256 limit, uint256 maxLimit);
    /// @dev A page offset must not exceed the list length (a cursor: the number of models).
    error ZkdlRegistryPageOutOfRange(uint256 offset, uint256 total);
    /// @dev The registry is paused: no registrations or attestations.
    error EnforcedPause();
    /// @dev The registry is not paused.
    error ExpectedPause();

    // ----------------------------------------------------------------------------------------------
    // Events
    // ----------------------------------------------------------------------------------------------

    /**
     * @notice A model was registered. Carries the full registration: its fields hash to the model id.
     * @param modelId The new model's id.
     * @param owner The model's owner.
     * @param parentDigest The parent's statement digest (indexed: "which models were fine-tuned from it?").
     * @param registration The registration as submitted.
     * @param submitter The account that sent the transaction (the owner or a relayer).
     * @param registeredAt The block timestamp of the registration.
     */
    event ModelRegistered(
        bytes32 indexed modelId,
        address indexed owner,
        bytes32 indexed parentDigest,
        RegistrationRequest registration,
        address submitter,
        uint40 registeredAt
    );
    /**
     * @notice A data set was registered.
     * @param datasetId The data set's id (its C_data digest).
     * @param owner The data set's owner (the registrant).
     * @param dataset The registration as submitted.
     * @param registeredAt The block timestamp of the registration.
     */
    event DatasetRegistered(bytes32 indexed datasetId, address indexed owner, DatasetRequest dataset, uint40 registeredAt);
    /**
     * @notice A verifier attested a model.
     * @param modelId The attested model (the hash of its whole registration).
     * @param verifier The verifier whose attestation this is.
     * @param verdict Valid or Invalid.
     * @param reportDigest The digest of the verifier's report.
     * @param submitter The account that sent the transaction (the verifier or a relayer).
     * @param attestedAt The block timestamp of the attestation.
     * @param reward The reward credited to the verifier (wei).
     */
    event ModelAttested(
        bytes32 indexed modelId,
        address indexed verifier,
        Verdict indexed verdict,
        bytes32 reportDigest,
        address submitter,
        uint40 attestedAt,
        uint256 reward
    );
    /* solhint-disable gas-indexed-events */ // indexing a field moves it into the topics: another event ABI
    /**
     * @notice The owner revoked a model (final).
     * @param modelId The revoked model.
     * @param owner The model's owner.
     * @param revokedAt The block timestamp of the revocation.
     */
    event ModelRevoked(bytes32 indexed modelId, address indexed owner, uint40 revokedAt);
    /**
     * @notice A verifier was removed: its verdicts stop counting (they are shown as from a removed verifier).
     * @param verifier The removed verifier.
     * @param attestations How many verdicts it had given (they no longer count).
     * @param removedAt The block timestamp of the removal.
     */
    event VerifierRemoved(address indexed verifier, uint40 attestations, uint40 removedAt);
    /**
     * @notice The quorum of valid attestations needed for Verified changed (for models registered from now on).
     * @param previousQuorum The quorum before.
     * @param newQuorum The quorum now.
     */
    event QuorumChanged(uint16 previousQuorum, uint16 newQuorum);
    /**
     * @notice The fee per verifier that a registration pays (and each attestation earns) changed.
     * @param previousFee The fee before (wei).
     * @param newFee The fee now (wei).
     */
    event AttestationFeeChanged(uint64 previousFee, uint64 newFee);
    /**
     * @notice The longest accepted signature lifetime changed.
     * @param previousTtl The lifetime before (seconds).
     * @param newTtl The lifetime now (seconds).
     */
    event MaxSignatureTtlChanged(uint32 previousTtl, uint32 newTtl);
    /**
     * @notice A verifier withdrew its rewards.
     * @param verifier The verifier.
     * @param to The recipient.
     * @param amount The amount (wei).
     */
    event RewardsWithdrawn(address indexed verifier, address to, uint256 amount);
    /**
     * @notice The registry was paused.
     * @param account The pauser.
     */
    event Paused(address account);
    /**
     * @notice The registry was unpaused.
     * @param account The pauser or admin.
     */
    event Unpaused(address account);
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
     * @notice Register a model owned by the caller, paying `registrationFee()`.
     * @dev Reverts `ZkdlRegistryModelAlreadyRegistered` on a retry. The data set need not be registered.
     * @param registration The digests and URIs of the proven training run.
     * @return modelId `computeModelId(msg.sender, registration)`.
     */
    function registerModel(RegistrationRequest calldata registration) external payable returns (bytes32 modelId);

    /**
     * @notice Register a model for `owner` with the owner's EIP-712 `Registration` signature, so that a
     * relayer can pay the gas and the fee.
     * @param owner The model owner and signer (an EOA, EIP-7702-delegated or not, or an ERC-1271 contract).
     * @param registration The signed registration.
     * @param nonce An unused nonce of `owner` (any order).
     * @param deadline Last valid block timestamp of the signature (at most `maxSignatureTtl()` ahead).
     * @param signature The owner's signature over the `Registration` typed message.
     * @return modelId `computeModelId(owner, registration)`.
     */
    function registerModelBySig(
        address owner,
        RegistrationRequest calldata registration,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external payable returns (bytes32 modelId);

    /**
     * @notice Withdraw a model (owner only). Final: nobody can un-revoke. Allowed while paused.
     * @param modelId The model to revoke.
     */
    function revokeModel(bytes32 modelId) external;

    /**
     * @notice Register a data set owned by the caller (one record per id: a second registration reverts).
     * @param dataset The id (C_data digest), shape, range-proof digest and description URI.
     */
    function registerDataset(DatasetRequest calldata dataset) external;

    // ----------------------------------------------------------------------------------------------
    // Attestations
    // ----------------------------------------------------------------------------------------------

    /**
     * @notice Attest a model as the calling verifier; credits the attestation fee to the caller.
     * @param attestation The model id, verdict and report digest.
     */
    function attest(AttestationRequest calldata attestation) external;

    /**
     * @notice Submit a verifier's EIP-712 `Attestation` signature; anyone may submit it.
     * @param verifier The verifier and signer (an EOA, EIP-7702-delegated or not, or an ERC-1271 contract).
     * @param attestation The signed attestation.
     * @param nonce An unused nonce of `verifier` (any order).
     * @param deadline Last valid block timestamp of the signature (at most `maxSignatureTtl()` ahead).
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

    /**
     * @notice Send the caller's attestation rewards to `to`.
     * @param to The recipient.
     * @return amount The amount sent (wei).
     */
    function withdrawRewards(address payable to) external returns (uint256 amount);

    // ----------------------------------------------------------------------------------------------
    // Administration
    // ----------------------------------------------------------------------------------------------

    /**
     * @notice Set the number of valid attestations that models registered from now on need (admin).
     * @param newQuorum Between 1 and the number of verifiers (at least 1).
     */
    function setQuorum(uint16 newQuorum) external;

    /**
     * @notice Set the fee per verifier: a registration pays it times the number of verifiers, and each
     * attestation credits it to its verifier (admin).
     * @param newFee The fee in wei.
     */
    function setAttestationFee(uint64 newFee) external;

    /**
     * @notice Set the longest accepted signature lifetime (admin).
     * @param newTtl Seconds, between `SIGNATURE_TTL_MIN` and `SIGNATURE_TTL_MAX`.
     */
    function setMaxSignatureTtl(uint32 newTtl) external;

    /// @notice Stop new registrations and attestations (pauser role; needs a default admin to exist).
    function pause() external;

    /// @notice Resume registrations and attestations (pauser role or the default admin).
    function unpause() external;

    // ----------------------------------------------------------------------------------------------
    // Reads
    // ----------------------------------------------------------------------------------------------

    /**
     * @notice The id a registration by `owner` gets on this chain and registry: the hash of the whole record.
     * @param owner The model's owner.
     * @param registration The registration (its URIs are not part of the id).
     * @return keccak256(abi.encode(chainid, registry, owner, cDataDigest, cW0Digest, cWTDigest,
     * statementDigest, proofDigest, parentDigest, verifierVersion)).
     */
    function computeModelId(address owner, RegistrationRequest calldata registration) external view returns (bytes32);

    /**
     * @notice Whether a model with this id is registered.
     * @param modelId The model id.
     * @return True if registered (revoked models included).
     */
    function modelExists(bytes32 modelId) external view returns (bool);

    /**
     * @notice What storage holds of a model. Reverts `ZkdlRegistryUnknownModel` for an unknown id.
     * @param modelId The model id.
     * @return The record (the registration itself is in the ModelRegistered event of `registeredBlock`).
     */
    function getModel(bytes32 modelId) external view returns (ModelRecord memory);

    /**
     * @notice A registered data set. Reverts `ZkdlRegistryUnknownDataset` for an unknown id.
     * @param datasetId The data set's id (its C_data digest).
     * @return The record.
     */
    function getDataset(bytes32 datasetId) external view returns (DatasetRecord memory);

    /**
     * @notice Whether a data set with this id is registered.
     * @param datasetId The data set's id.
     * @return True if registered.
     */
    function datasetExists(bytes32 datasetId) external view returns (bool);

    /**
     * @notice A model's status, counts and all its attestations, in one call (for buyers).
     * @dev Its cost grows with the number of accounts ever granted the verifier role.
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
     * @notice Every account ever granted the verifier role, with when it was granted and removed.
     * @return The verifiers, in the order they were first granted.
     */
    function getVerifiers() external view returns (Verifier[] memory);

    /**
     * @notice A page of all model ids, in registration order.
     * @param offset First index; must not exceed `total`.
     * @param limit Page size, 1 to `MAX_PAGE_SIZE`.
     * @return page The ids.
     * @return total The number of registered models.
     */
    function getModelIds(uint256 offset, uint256 limit) external view returns (bytes32[] memory page, uint256 total);

    /**
     * @notice A page of the models sharing one key (an owner, a data set, final weights, a proof or a
     * statement), newest first.
     * @param kind Which index.
     * @param key The key (an owner as its address left-padded to 32 bytes).
     * @param cursor 0 for the first page, else the `nextCursor` of the previous page.
     * @param limit Page size, 1 to `MAX_PAGE_SIZE`.
     * @return page The ids.
     * @return nextCursor The cursor of the next page (0: no more).
     * @return total The number of models with this key.
     */
    function getModelIdsBy(
        IndexKind kind,
        bytes32 key,
        uint256 cursor,
        uint256 limit
    ) external view returns (bytes32[] memory page, uint256 nextCursor, uint256 total);

    /**
     * @notice The earliest registered model sharing a key (the original among copies), and how many share it.
     * @param kind Which index.
     * @param key The key.
     * @return first The earliest model's id (zero if none).
     * @return total The number of models with this key.
     */
    function firstModelBy(IndexKind kind, bytes32 key) external view returns (bytes32 first, uint256 total);

    /**
     * @notice Whether `signer` has used or cancelled `nonce`.
     * @param signer The signer.
     * @param nonce The nonce.
     * @return True if used.
     */
    function nonceUsed(address signer, uint256 nonce) external view returns (bool);

    /// @notice The number of valid attestations that models registered now need to be Verified.
    /// @return The quorum.
    function quorum() external view returns (uint16);

    /// @notice The number of accounts holding the verifier role.
    /// @return The count.
    function verifierCount() external view returns (uint16);

    /// @notice The fee per verifier (wei): each attestation earns it, a registration pays it per verifier.
    /// @return The fee.
    function attestationFee() external view returns (uint64);

    /// @notice What a registration pays now: `attestationFee() * verifierCount()`.
    /// @return The fee in wei.
    function registrationFee() external view returns (uint256);

    /// @notice Fees paid in and not yet credited to a verifier.
    /// @return The pool in wei.
    function rewardPool() external view returns (uint256);

    /**
     * @notice A verifier's rewards not yet withdrawn.
     * @param verifier The verifier.
     * @return The amount in wei.
     */
    function rewardsOf(address verifier) external view returns (uint256);

    /// @notice The longest accepted signature lifetime: a deadline may be at most this far after the block time.
    /// @return Seconds.
    function maxSignatureTtl() external view returns (uint32);

    /// @notice Whether registrations and attestations are stopped.
    /// @return True while paused.
    function paused() external view returns (bool);

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

    /// @notice The registry's version (semver); clients refuse another major version.
    /// @return The version string.
    function version() external pure returns (string memory);
}
