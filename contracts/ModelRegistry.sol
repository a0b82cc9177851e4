// SPDX-License-Identifier: Apache-2.0
// zkdl (contracts/ModelRegistry.sol)
pragma solidity 0.8.30;

import {AccessControlEnumerable} from "@openzeppelin/contracts/access/extensions/AccessControlEnumerable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IModelRegistry} from "./IModelRegistry.sol";

/**
 * @title ModelRegistry
 * @notice zkdl model registry: owners register proven training runs (digests + bundle URI), verifiers
 * attest them, buyers read one status. See {IModelRegistry} and docs/chain.md.
 * @dev Roles: DEFAULT_ADMIN_ROLE manages roles and the quorum; PAUSER_ROLE pauses; VERIFIER_ROLE attests.
 * AccessControlEnumerable makes the verifier set listable on-chain (getRoleMembers).
 */
contract ModelRegistry is IModelRegistry, AccessControlEnumerable, EIP712, Pausable {
    /// @notice Accounts whose attestations count towards a model's status.
    bytes32 public constant VERIFIER_ROLE = keccak256("VERIFIER_ROLE");
    /// @notice Accounts that may pause and unpause registrations and attestations.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Largest page the list getters return, so a page always fits in an eth_call.
    uint256 public constant MAX_PAGE_SIZE = 100;
    /// @notice Longest accepted URI in bytes; bounds what every indexer must store per model.
    uint256 public constant MAX_URI_LENGTH = 2048;

    /* solhint-disable gas-small-strings */ // EIP-712 fixes the type strings; they are hashed at compile time
    /// @notice EIP-712 type of a registration signed by the owner (strings are hashed, per EIP-712).
    bytes32 public constant REGISTRATION_TYPEHASH =
        keccak256(
            "Registration(address owner,bytes32 cDataDigest,bytes32 cW0Digest,bytes32 cWTDigest,"
            "bytes32 statementDigest,bytes32 proofDigest,bytes32 verifierVersion,string bundleUri,"
            "string metadataUri,uint256 nonce,uint256 deadline)"
        );
    /// @notice EIP-712 type of an attestation. The verifier's address is part of the message so that one
    /// signature can never count for another ERC-1271 wallet controlled by the same key.
    bytes32 public constant ATTESTATION_TYPEHASH =
        keccak256(
            "Attestation(address verifier,bytes32 modelId,uint8 verdict,bytes32 verifierVersion,"
            "bytes32 reportDigest,uint256 nonce,uint256 deadline)"
        );
    /* solhint-enable gas-small-strings */

    mapping(bytes32 modelId => Model) private _models;
    bytes32[] private _modelIds;
    mapping(address owner => bytes32[] modelIds) private _modelIdsByOwner;
    /// @dev Stored form of an attestation: its verifier version always equals the model's (a rule of
    /// `_checkAttestable`), so it is not stored again, saving one storage slot per attestation.
    /* solhint-disable-next-line gas-struct-packing */ // two slots already: the rule counts the enum as a whole slot
    struct StoredAttestation {
        address verifier;
        Verdict verdict;
        uint48 attestedAt;
        bytes32 reportDigest;
    }

    mapping(bytes32 modelId => StoredAttestation[]) private _attestations;
    /// @dev Index + 1 of a verifier's attestation in `_attestations[modelId]`; 0 means none.
    mapping(bytes32 modelId => mapping(address verifier => uint256 slot)) private _attestationSlot;
    /// @dev Unordered nonces: a relayer may submit signed messages in any order.
    mapping(address signer => mapping(uint256 nonce => bool used)) private _usedNonces;
    uint32 private _quorum;

    /**
     * @notice Deploys the registry with its first admin and quorum.
     * @param admin Receives DEFAULT_ADMIN_ROLE and PAUSER_ROLE.
     * @param initialQuorum Valid attestations needed for Verified (at least 1).
     */
    constructor(address admin, uint32 initialQuorum) EIP712("ZkdlModelRegistry", "1") {
        if (admin == address(0)) revert ZkdlRegistryInvalidAdmin(admin);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        _setQuorum(initialQuorum);
    }

    // ----------------------------------------------------------------------------------------------
    // Registration
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc IModelRegistry
    function registerModel(
        RegistrationRequest calldata registration
    ) external whenNotPaused returns (bytes32 modelId) {
        modelId = _checkRegistrable(msg.sender, registration);
        _storeModel(modelId, msg.sender, registration);
    }

    /// @inheritdoc IModelRegistry
    function registerModelBySig(
        address owner,
        RegistrationRequest calldata registration,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external whenNotPaused returns (bytes32 modelId) {
        _checkDeadline(deadline);
        // State checks come before the nonce, so a replayed signature reports the duplicate model.
        modelId = _checkRegistrable(owner, registration);
        _useNonce(owner, nonce);
        _checkSignature(owner, _hashRegistration(owner, registration, nonce, deadline), signature);
        _storeModel(modelId, owner, registration);
    }

    /// @inheritdoc IModelRegistry
    function revokeModel(bytes32 modelId) external {
        Model storage model = _existingModel(modelId);
        if (model.owner != msg.sender) revert ZkdlRegistryNotModelOwner(modelId, msg.sender, model.owner);
        if (model.revokedAt != 0) revert ZkdlRegistryRevokedModel(modelId);
        uint48 now48 = uint48(block.timestamp);
        model.revokedAt = now48;
        emit ModelRevoked(modelId, msg.sender, now48);
    }

    // ----------------------------------------------------------------------------------------------
    // Attestations
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc IModelRegistry
    function attest(AttestationRequest calldata attestation) external whenNotPaused {
        _checkAttestable(msg.sender, attestation);
        _storeAttestation(msg.sender, attestation);
    }

    /// @inheritdoc IModelRegistry
    function attestBySig(
        address verifier,
        AttestationRequest calldata attestation,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external whenNotPaused {
        _checkDeadline(deadline);
        // State checks come before the nonce, so a replayed signature reports the final verdict.
        _checkAttestable(verifier, attestation);
        _useNonce(verifier, nonce);
        _checkSignature(verifier, _hashAttestation(verifier, attestation, nonce, deadline), signature);
        _storeAttestation(verifier, attestation);
    }

    /// @inheritdoc IModelRegistry
    function cancelNonce(uint256 nonce) external {
        _useNonce(msg.sender, nonce);
    }

    // ----------------------------------------------------------------------------------------------
    // Administration
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc IModelRegistry
    function setQuorum(uint32 newQuorum) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setQuorum(newQuorum);
    }

    /// @inheritdoc IModelRegistry
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IModelRegistry
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ----------------------------------------------------------------------------------------------
    // Reads
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc IModelRegistry
    function computeModelId(address owner, bytes32 cWTDigest, bytes32 proofDigest) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), owner, cWTDigest, proofDigest));
    }

    /// @inheritdoc IModelRegistry
    function modelExists(bytes32 modelId) public view returns (bool) {
        return _models[modelId].owner != address(0);
    }

    /// @inheritdoc IModelRegistry
    function getModel(bytes32 modelId) external view returns (Model memory) {
        return _existingModel(modelId);
    }

    /// @inheritdoc IModelRegistry
    function getStatus(bytes32 modelId) external view returns (ModelStatus memory view_) {
        Model storage model = _existingModel(modelId);
        StoredAttestation[] storage stored = _attestations[modelId];
        view_.attestations = new Attestation[](stored.length);
        view_.quorum = _quorum;
        view_.revokedAt = model.revokedAt;
        for (uint256 i = 0; i < stored.length; ++i) {
            Attestation memory a = _expand(stored[i], model.verifierVersion);
            view_.attestations[i] = a;
            // A verifier removed from the role (e.g. a leaked key) stops counting, both ways.
            if (!hasRole(VERIFIER_ROLE, a.verifier)) ++view_.ignoredCount;
            else if (a.verdict == Verdict.Valid) ++view_.validCount;
            else ++view_.invalidCount;
        }
        if (model.revokedAt != 0) view_.status = Status.Revoked;
        else if (view_.invalidCount > 0) view_.status = Status.Disputed;
        /* solhint-disable-next-line gas-strict-inequalities */ // "at least quorum"; a strict form changes the code
        else if (view_.validCount >= view_.quorum) view_.status = Status.Verified;
        else view_.status = Status.Pending;
    }

    /// @inheritdoc IModelRegistry
    function getAttestation(bytes32 modelId, address verifier) external view returns (Attestation memory) {
        Model storage model = _existingModel(modelId);
        uint256 slot = _attestationSlot[modelId][verifier];
        if (slot == 0) return Attestation(address(0), Verdict.None, 0, bytes32(0), bytes32(0));
        return _expand(_attestations[modelId][slot - 1], model.verifierVersion);
    }

    /// @inheritdoc IModelRegistry
    function getAttestations(
        bytes32 modelId,
        uint256 offset,
        uint256 limit
    ) external view returns (Attestation[] memory page, uint256 total) {
        bytes32 modelVersion = _existingModel(modelId).verifierVersion;
        StoredAttestation[] storage all = _attestations[modelId];
        total = all.length;
        uint256 end = _pageEnd(offset, limit, total);
        page = new Attestation[](end - offset);
        for (uint256 i = offset; i < end; ++i) page[i - offset] = _expand(all[i], modelVersion);
    }

    /// @inheritdoc IModelRegistry
    function getModelIds(uint256 offset, uint256 limit) external view returns (bytes32[] memory, uint256) {
        return _pageIds(_modelIds, offset, limit);
    }

    /// @inheritdoc IModelRegistry
    function getModelIdsByOwner(
        address owner,
        uint256 offset,
        uint256 limit
    ) external view returns (bytes32[] memory, uint256) {
        return _pageIds(_modelIdsByOwner[owner], offset, limit);
    }

    /// @inheritdoc IModelRegistry
    function nonceUsed(address signer, uint256 nonce) external view returns (bool) {
        return _usedNonces[signer][nonce];
    }

    /// @inheritdoc IModelRegistry
    function quorum() external view returns (uint32) {
        return _quorum;
    }

    /// @inheritdoc IModelRegistry
    function hashRegistration(
        address owner,
        RegistrationRequest calldata registration,
        uint256 nonce,
        uint256 deadline
    ) external view returns (bytes32) {
        return _hashRegistration(owner, registration, nonce, deadline);
    }

    /// @inheritdoc IModelRegistry
    function hashAttestation(
        address verifier,
        AttestationRequest calldata attestation,
        uint256 nonce,
        uint256 deadline
    ) external view returns (bytes32) {
        return _hashAttestation(verifier, attestation, nonce, deadline);
    }

    /// @inheritdoc IModelRegistry
    function version() external pure returns (string memory) {
        return "1.0.0";
    }

    /**
     * @notice Whether the registry implements an interface (ERC-165).
     * @param interfaceId The ERC-165 interface identifier.
     * @return True for IModelRegistry and the interfaces of AccessControlEnumerable.
     */
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IModelRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    // ----------------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------------

    /// @dev Validates a registration and returns its id; reverts if that id is taken.
    function _checkRegistrable(
        address owner,
        RegistrationRequest calldata registration
    ) private view returns (bytes32 modelId) {
        _checkRegistrationFields(registration);
        modelId = computeModelId(owner, registration.cWTDigest, registration.proofDigest);
        if (modelExists(modelId)) revert ZkdlRegistryModelAlreadyRegistered(modelId);
    }

    function _checkRegistrationFields(RegistrationRequest calldata r) private pure {
        if (r.cDataDigest == 0) revert ZkdlRegistryMissingField("cDataDigest");
        if (r.cW0Digest == 0) revert ZkdlRegistryMissingField("cW0Digest");
        if (r.cWTDigest == 0) revert ZkdlRegistryMissingField("cWTDigest");
        if (r.statementDigest == 0) revert ZkdlRegistryMissingField("statementDigest");
        if (r.proofDigest == 0) revert ZkdlRegistryMissingField("proofDigest");
        if (r.verifierVersion == 0) revert ZkdlRegistryMissingField("verifierVersion");
        if (bytes(r.bundleUri).length == 0) revert ZkdlRegistryMissingField("bundleUri");
        if (bytes(r.bundleUri).length > MAX_URI_LENGTH)
            revert ZkdlRegistryUriTooLong("bundleUri", bytes(r.bundleUri).length, MAX_URI_LENGTH);
        if (bytes(r.metadataUri).length > MAX_URI_LENGTH)
            revert ZkdlRegistryUriTooLong("metadataUri", bytes(r.metadataUri).length, MAX_URI_LENGTH);
    }

    function _storeModel(bytes32 modelId, address owner, RegistrationRequest calldata r) private {
        Model storage model = _models[modelId];
        uint48 now48 = uint48(block.timestamp);
        model.owner = owner;
        model.registeredAt = now48;
        model.cDataDigest = r.cDataDigest;
        model.cW0Digest = r.cW0Digest;
        model.cWTDigest = r.cWTDigest;
        model.statementDigest = r.statementDigest;
        model.proofDigest = r.proofDigest;
        model.verifierVersion = r.verifierVersion;
        model.bundleUri = r.bundleUri;
        model.metadataUri = r.metadataUri;
        _modelIds.push(modelId);
        _modelIdsByOwner[owner].push(modelId);
        emit ModelRegistered(modelId, owner, r.cWTDigest, r, msg.sender, now48);
    }

    /// @dev Every rule an attestation must satisfy, except the signature.
    function _checkAttestable(address verifier, AttestationRequest calldata a) private view {
        if (!hasRole(VERIFIER_ROLE, verifier)) revert ZkdlRegistryUnauthorizedVerifier(verifier);
        if (a.verdict == Verdict.None) revert ZkdlRegistryInvalidVerdict(a.verdict);
        Model storage model = _existingModel(a.modelId);
        if (model.revokedAt != 0) revert ZkdlRegistryRevokedModel(a.modelId);
        if (model.verifierVersion != a.verifierVersion)
            revert ZkdlRegistryVerifierVersionMismatch(a.modelId, model.verifierVersion, a.verifierVersion);
        uint256 slot = _attestationSlot[a.modelId][verifier];
        if (slot != 0)
            revert ZkdlRegistryAlreadyAttested(a.modelId, verifier, _attestations[a.modelId][slot - 1].verdict);
    }

    function _storeAttestation(address verifier, AttestationRequest calldata a) private {
        uint48 now48 = uint48(block.timestamp);
        StoredAttestation[] storage list = _attestations[a.modelId];
        list.push(StoredAttestation(verifier, a.verdict, now48, a.reportDigest));
        _attestationSlot[a.modelId][verifier] = list.length;
        emit ModelAttested(a.modelId, verifier, a.verdict, a.verifierVersion, a.reportDigest, msg.sender, now48);
    }

    function _expand(StoredAttestation storage s, bytes32 verifierVersion) private view returns (Attestation memory) {
        return Attestation(s.verifier, s.verdict, s.attestedAt, verifierVersion, s.reportDigest);
    }

    function _existingModel(bytes32 modelId) private view returns (Model storage model) {
        model = _models[modelId];
        if (model.owner == address(0)) revert ZkdlRegistryUnknownModel(modelId);
    }

    function _checkDeadline(uint256 deadline) private view {
        if (block.timestamp > deadline) revert ZkdlRegistryExpiredSignature(deadline, block.timestamp);
    }

    function _useNonce(address signer, uint256 nonce) private {
        if (_usedNonces[signer][nonce]) revert ZkdlRegistryNonceAlreadyUsed(signer, nonce);
        _usedNonces[signer][nonce] = true;
        emit NonceUsed(signer, nonce);
    }

    /// @dev EOA (ECDSA) or ERC-1271 contract signatures. The EIP-712 domain binds chain id and registry
    /// address, so a signature made for another chain or registry recovers another signer and fails here.
    function _checkSignature(address signer, bytes32 digest, bytes calldata signature) private view {
        if (!SignatureChecker.isValidSignatureNowCalldata(signer, digest, signature))
            revert ZkdlRegistryInvalidSignature(signer);
    }

    function _hashRegistration(
        address owner,
        RegistrationRequest calldata r,
        uint256 nonce,
        uint256 deadline
    ) private view returns (bytes32) {
        // Encoded in two halves only to stay within the stack limit; the bytes equal one abi.encode.
        bytes memory head = abi.encode(
            REGISTRATION_TYPEHASH,
            owner,
            r.cDataDigest,
            r.cW0Digest,
            r.cWTDigest,
            r.statementDigest
        );
        bytes memory tail = abi.encode(
            r.proofDigest,
            r.verifierVersion,
            keccak256(bytes(r.bundleUri)),
            keccak256(bytes(r.metadataUri)),
            nonce,
            deadline
        );
        return _hashTypedDataV4(keccak256(bytes.concat(head, tail)));
    }

    function _hashAttestation(
        address verifier,
        AttestationRequest calldata a,
        uint256 nonce,
        uint256 deadline
    ) private view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                ATTESTATION_TYPEHASH,
                verifier,
                a.modelId,
                uint8(a.verdict),
                a.verifierVersion,
                a.reportDigest,
                nonce,
                deadline
            )
        );
        return _hashTypedDataV4(structHash);
    }

    function _setQuorum(uint32 newQuorum) private {
        if (newQuorum == 0) revert ZkdlRegistryInvalidQuorum(newQuorum);
        uint32 previous = _quorum;
        _quorum = newQuorum;
        emit QuorumChanged(previous, newQuorum);
    }

    function _pageIds(
        bytes32[] storage all,
        uint256 offset,
        uint256 limit
    ) private view returns (bytes32[] memory page, uint256 total) {
        total = all.length;
        uint256 end = _pageEnd(offset, limit, total);
        page = new bytes32[](end - offset);
        for (uint256 i = offset; i < end; ++i) page[i - offset] = all[i];
    }

    /// @dev Checks a page request and returns its exclusive end index.
    function _pageEnd(uint256 offset, uint256 limit, uint256 total) private pure returns (uint256) {
        if (limit == 0 || limit > MAX_PAGE_SIZE) revert ZkdlRegistryInvalidPageSize(limit, MAX_PAGE_SIZE);
        if (offset > total) revert ZkdlRegistryPageOutOfRange(offset, total);
        return total - offset < limit ? total : offset + limit;
    }
}
