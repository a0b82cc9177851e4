// SPDX-License-Identifier: Apache-2.0
// zkdl (contracts/ModelRegistry.sol)
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IModelRegistry} from "./IModelRegistry.sol";

/**
 * @title ModelRegistry
 * @notice zkdl model registry, version 2: owners register data sets and proven training runs, verifiers
 * attest them (paid from the registrations' fees), buyers read one status. See {IModelRegistry} and
 * docs/chain.md.
 * @dev Roles: the default admin (one account, transferred in two steps after a delay) manages roles,
 * the quorum, the fee and the signature lifetime; PAUSER_ROLE pauses; VERIFIER_ROLE attests.
 */
contract ModelRegistry is IModelRegistry, AccessControlDefaultAdminRules, EIP712 {
    /// @notice Accounts whose attestations count towards a model's status.
    bytes32 public constant VERIFIER_ROLE = keccak256("VERIFIER_ROLE");
    /// @notice Accounts that may pause and unpause registrations and attestations.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Largest page the list getters return, so a page always fits in an eth_call.
    uint256 public constant MAX_PAGE_SIZE = 100;
    /// @notice Longest accepted URI in bytes; bounds what every indexer must store per record.
    uint256 public constant MAX_URI_LENGTH = 2048;
    /// @notice Lower bound of the admin-set signature lifetime.
    uint32 public constant SIGNATURE_TTL_MIN = 1 hours;
    /// @notice Upper bound of the admin-set signature lifetime.
    uint32 public constant SIGNATURE_TTL_MAX = 365 days;

    /* solhint-disable gas-small-strings */ // EIP-712 fixes the type strings; they are hashed at compile time
    /// @notice EIP-712 type of a registration signed by the owner (strings are hashed, per EIP-712).
    bytes32 public constant REGISTRATION_TYPEHASH =
        keccak256(
            "Registration(address owner,bytes32 cDataDigest,bytes32 cW0Digest,bytes32 cWTDigest,"
            "bytes32 statementDigest,bytes32 proofDigest,bytes32 parentDigest,bytes32 verifierVersion,"
            "string bundleUri,string metadataUri,uint256 nonce,uint256 deadline)"
        );
    /// @notice EIP-712 type of an attestation. `modelId` is the hash of the whole registration, so the
    /// signature is for one record; the verifier's address is in the message so that one key's signature
    /// never counts for another ERC-1271 wallet it controls.
    bytes32 public constant ATTESTATION_TYPEHASH =
        keccak256(
            "Attestation(address verifier,bytes32 modelId,uint8 verdict,bytes32 reportDigest,uint256 nonce,"
            "uint256 deadline)"
        );
    /* solhint-enable gas-small-strings */

    /// @dev Everything the hot paths read, in one slot.
    struct Config {
        uint40 modelCount;
        uint80 rewardPool;
        uint64 attestationFee;
        uint16 quorum;
        uint16 verifierCount;
        bool paused;
        uint32 maxSignatureTtl;
    }

    /// @dev What storage keeps of a model, in one slot (its sequence number is in its link word).
    struct StoredModel {
        address owner;
        uint40 registeredBlock;
        uint40 revokedAt;
        uint16 quorum;
    }

    /// @dev One slot per verifier: `attestations` is bumped by each verdict (the slot is read anyway).
    struct VerifierState {
        uint40 grantedAt;
        uint40 removedAt;
        uint40 attestations;
        bool active;
        bool listed;
    }

    /// @dev Bits per model sequence number in the packed index words.
    uint256 private constant _SEQ_BITS = 40;
    uint256 private constant _SEQ_MASK = (1 << _SEQ_BITS) - 1;
    /// @dev Where a model's own sequence number sits in its link word, after the five index links.
    uint256 private constant _OWN_SEQ_SHIFT = 5 * _SEQ_BITS;

    Config private _config;
    mapping(bytes32 modelId => StoredModel) private _models;
    /// @dev seq (from 1) -> model id.
    mapping(uint256 seq => bytes32 modelId) private _modelIds;
    /// @dev Per model, for each index kind k, the seq of the previous model with the same key, in bits
    /// [40k, 40k + 40): the indexes are linked lists through these words, newest first; the model's own
    /// seq in bits [200, 240).
    mapping(bytes32 modelId => uint256 links) private _links;
    /// @dev Per index key (hash of kind and key): first seq | last seq << 40 | count << 80.
    mapping(bytes32 indexKey => uint256 head) private _heads;
    mapping(bytes32 datasetId => DatasetRecord) private _datasets;
    /// @dev Per model and verifier: verdict | attestedAt << 8 (0: no attestation).
    mapping(bytes32 modelId => mapping(address verifier => uint256 packed)) private _verdicts;
    mapping(address account => VerifierState) private _verifierStates;
    /// @dev Every account ever granted the verifier role, in order (removed ones stay: their verdicts are shown).
    address[] private _verifierList;
    mapping(address verifier => uint256 amount) private _rewards;
    /// @dev Unordered nonces: a relayer may submit signed messages in any order.
    mapping(address signer => mapping(uint256 nonce => bool used)) private _usedNonces;

    /**
     * @notice Deploys the registry with its admin, first verifiers and quorum.
     * @param admin The default admin (also a pauser).
     * @param adminDelay Seconds a default-admin transfer must wait after it was begun.
     * @param verifiers The first verifiers.
     * @param initialQuorum Valid attestations needed for Verified (1 to the number of verifiers, at least 1).
     */
    constructor(
        address admin,
        uint48 adminDelay,
        address[] memory verifiers,
        uint16 initialQuorum
    ) AccessControlDefaultAdminRules(adminDelay, admin) EIP712("ZkdlModelRegistry", "2") {
        _grantRole(PAUSER_ROLE, admin);
        for (uint256 i = 0; i < verifiers.length; ++i) _grantRole(VERIFIER_ROLE, verifiers[i]);
        _config.maxSignatureTtl = 30 days;
        emit MaxSignatureTtlChanged(0, 30 days);
        _setQuorum(initialQuorum);
    }

    // ----------------------------------------------------------------------------------------------
    // Registration
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc IModelRegistry
    function registerModel(RegistrationRequest calldata registration) external payable returns (bytes32 modelId) {
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
    ) external payable returns (bytes32 modelId) {
        _checkDeadline(deadline);
        // State checks come before the nonce, so a replayed signature reports the duplicate model.
        modelId = _checkRegistrable(owner, registration);
        _useNonce(owner, nonce);
        _checkSignature(owner, _hashRegistration(owner, registration, nonce, deadline), signature);
        _storeModel(modelId, owner, registration);
    }

    /// @inheritdoc IModelRegistry
    function revokeModel(bytes32 modelId) external {
        StoredModel storage model = _existingModel(modelId);
        if (model.owner != msg.sender) revert ZkdlRegistryNotModelOwner(modelId, msg.sender, model.owner);
        if (model.revokedAt != 0) revert ZkdlRegistryRevokedModel(modelId);
        uint40 now40 = uint40(block.timestamp);
        model.revokedAt = now40;
        emit ModelRevoked(modelId, msg.sender, now40);
    }

    /// @inheritdoc IModelRegistry
    function registerDataset(DatasetRequest calldata dataset) external {
        _requireNotPaused();
        DatasetRecord storage record = _datasets[dataset.datasetId];
        if (record.owner != address(0)) revert ZkdlRegistryDatasetAlreadyRegistered(dataset.datasetId, record.owner);
        if (dataset.datasetId == 0) revert ZkdlRegistryMissingField("datasetId");
        if (dataset.samples == 0) revert ZkdlRegistryMissingField("samples");
        if (dataset.features == 0) revert ZkdlRegistryMissingField("features");
        if (dataset.classes == 0) revert ZkdlRegistryMissingField("classes");
        if (dataset.rangeProofDigest == 0) revert ZkdlRegistryMissingField("rangeProofDigest");
        _checkUri("uri", dataset.uri, true);
        record.owner = msg.sender;
        record.registeredBlock = uint40(block.number);
        record.fracBits = dataset.fracBits;
        record.classes = dataset.classes;
        record.samples = dataset.samples;
        record.features = dataset.features;
        record.rangeProofDigest = dataset.rangeProofDigest;
        emit DatasetRegistered(dataset.datasetId, msg.sender, dataset, uint40(block.timestamp));
    }

    // ----------------------------------------------------------------------------------------------
    // Attestations
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc IModelRegistry
    function attest(AttestationRequest calldata attestation) external {
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
    ) external {
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

    /// @inheritdoc IModelRegistry
    function withdrawRewards(address payable to) external returns (uint256 amount) {
        amount = _rewards[msg.sender];
        if (amount == 0) revert ZkdlRegistryNothingToWithdraw(msg.sender);
        _rewards[msg.sender] = 0; // before the call: a re-entering recipient finds nothing left
        emit RewardsWithdrawn(msg.sender, to, amount);
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert ZkdlRegistryWithdrawalFailed(to, amount);
    }

    // ----------------------------------------------------------------------------------------------
    // Administration
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc IModelRegistry
    function setQuorum(uint16 newQuorum) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setQuorum(newQuorum);
    }

    /// @inheritdoc IModelRegistry
    function setAttestationFee(uint64 newFee) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit AttestationFeeChanged(_config.attestationFee, newFee);
        _config.attestationFee = newFee;
    }

    /// @inheritdoc IModelRegistry
    function setMaxSignatureTtl(uint32 newTtl) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newTtl < SIGNATURE_TTL_MIN || newTtl > SIGNATURE_TTL_MAX)
            revert ZkdlRegistryInvalidSignatureTtl(newTtl, SIGNATURE_TTL_MIN, SIGNATURE_TTL_MAX);
        emit MaxSignatureTtlChanged(_config.maxSignatureTtl, newTtl);
        _config.maxSignatureTtl = newTtl;
    }

    /// @inheritdoc IModelRegistry
    function pause() external onlyRole(PAUSER_ROLE) {
        _requireNotPaused();
        // The default admin can always unpause and cannot leave while paused: a pause always ends.
        if (defaultAdmin() == address(0)) revert ZkdlRegistryUnpauserRequired();
        _config.paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IModelRegistry
    function unpause() external {
        if (msg.sender != defaultAdmin()) _checkRole(PAUSER_ROLE);
        if (!_config.paused) revert ExpectedPause();
        _config.paused = false;
        emit Unpaused(msg.sender);
    }

    /**
     * @notice Renounce a role. Verifiers cannot (their verdicts are final: the admin removes them), and the
     * default admin cannot while the registry is paused (someone must be able to unpause).
     * @param role The role.
     * @param account The caller's own address (confirmation).
     */
    function renounceRole(bytes32 role, address account) public override {
        if (role == VERIFIER_ROLE) revert ZkdlRegistryRenounceForbidden(role, account);
        if (role == DEFAULT_ADMIN_ROLE && _config.paused) revert ZkdlRegistryUnpauserRequired();
        super.renounceRole(role, account);
    }

    // ----------------------------------------------------------------------------------------------
    // Reads
    // ----------------------------------------------------------------------------------------------

    /// @inheritdoc IModelRegistry
    function computeModelId(address owner, RegistrationRequest calldata r) public view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    block.chainid,
                    address(this),
                    owner,
                    r.cDataDigest,
                    r.cW0Digest,
                    r.cWTDigest,
                    r.statementDigest,
                    r.proofDigest,
                    r.parentDigest,
                    r.verifierVersion
                )
            );
    }

    /// @inheritdoc IModelRegistry
    function modelExists(bytes32 modelId) public view returns (bool) {
        return _models[modelId].owner != address(0);
    }

    /// @inheritdoc IModelRegistry
    function getModel(bytes32 modelId) external view returns (ModelRecord memory) {
        StoredModel storage m = _existingModel(modelId);
        uint40 seq = uint40((_links[modelId] >> _OWN_SEQ_SHIFT) & _SEQ_MASK);
        return ModelRecord(m.owner, m.registeredBlock, m.revokedAt, m.quorum, seq);
    }

    /// @inheritdoc IModelRegistry
    function getDataset(bytes32 datasetId) external view returns (DatasetRecord memory record) {
        record = _datasets[datasetId];
        if (record.owner == address(0)) revert ZkdlRegistryUnknownDataset(datasetId);
    }

    /// @inheritdoc IModelRegistry
    function datasetExists(bytes32 datasetId) external view returns (bool) {
        return _datasets[datasetId].owner != address(0);
    }

    /// @inheritdoc IModelRegistry
    function getStatus(bytes32 modelId) external view returns (ModelStatus memory view_) {
        StoredModel storage model = _existingModel(modelId);
        uint256 n = _verifierList.length;
        Attestation[] memory found = new Attestation[](n);
        uint256 count = 0;
        for (uint256 i = 0; i < n; ++i) {
            Attestation memory a = _attestationOf(modelId, _verifierList[i]);
            if (a.verdict == Verdict.None) continue;
            found[count] = a;
            ++count;
            if (!a.counted) ++view_.ignoredCount;
            else if (a.verdict == Verdict.Valid) ++view_.validCount;
            else ++view_.invalidCount;
        }
        /* solhint-disable-next-line no-inline-assembly */ // shrink the array to the attestations found
        assembly {
            mstore(found, count)
        }
        view_.attestations = found;
        view_.quorum = model.quorum;
        view_.revokedAt = model.revokedAt;
        if (model.revokedAt != 0) view_.status = Status.Revoked;
        else if (view_.invalidCount > 0) view_.status = Status.Disputed;
        /* solhint-disable-next-line gas-strict-inequalities */ // "at least quorum"; a strict form changes the code
        else if (view_.validCount >= view_.quorum) view_.status = Status.Verified;
        else view_.status = Status.Pending;
    }

    /// @inheritdoc IModelRegistry
    function getAttestation(bytes32 modelId, address verifier) external view returns (Attestation memory) {
        _existingModel(modelId);
        return _attestationOf(modelId, verifier);
    }

    /// @inheritdoc IModelRegistry
    function getVerifiers() external view returns (Verifier[] memory all) {
        all = new Verifier[](_verifierList.length);
        for (uint256 i = 0; i < all.length; ++i) {
            VerifierState storage s = _verifierStates[_verifierList[i]];
            all[i] = Verifier(_verifierList[i], s.grantedAt, s.removedAt, s.attestations);
        }
    }

    /// @inheritdoc IModelRegistry
    function getModelIds(uint256 offset, uint256 limit) external view returns (bytes32[] memory page, uint256 total) {
        total = _config.modelCount;
        if (limit == 0 || limit > MAX_PAGE_SIZE) revert ZkdlRegistryInvalidPageSize(limit, MAX_PAGE_SIZE);
        if (offset > total) revert ZkdlRegistryPageOutOfRange(offset, total);
        uint256 end = total - offset < limit ? total : offset + limit;
        page = new bytes32[](end - offset);
        for (uint256 i = offset; i < end; ++i) page[i - offset] = _modelIds[i + 1];
    }

    /// @inheritdoc IModelRegistry
    function getModelIdsBy(
        IndexKind kind,
        bytes32 key,
        uint256 cursor,
        uint256 limit
    ) external view returns (bytes32[] memory page, uint256 nextCursor, uint256 total) {
        if (limit == 0 || limit > MAX_PAGE_SIZE) revert ZkdlRegistryInvalidPageSize(limit, MAX_PAGE_SIZE);
        uint256 head = _heads[_indexKey(kind, key)];
        total = head >> (2 * _SEQ_BITS);
        uint256 seq = cursor == 0 ? (head >> _SEQ_BITS) & _SEQ_MASK : cursor;
        if (cursor > _config.modelCount) revert ZkdlRegistryPageOutOfRange(cursor, _config.modelCount);
        page = new bytes32[](limit < total ? limit : total);
        uint256 count = 0;
        while (seq != 0 && count < page.length) {
            bytes32 modelId = _modelIds[seq];
            page[count] = modelId;
            ++count;
            seq = (_links[modelId] >> (_SEQ_BITS * uint256(kind))) & _SEQ_MASK;
        }
        /* solhint-disable-next-line no-inline-assembly */ // shrink the array to the ids found
        assembly {
            mstore(page, count)
        }
        nextCursor = seq;
    }

    /// @inheritdoc IModelRegistry
    function firstModelBy(IndexKind kind, bytes32 key) external view returns (bytes32 first, uint256 total) {
        uint256 head = _heads[_indexKey(kind, key)];
        return (_modelIds[head & _SEQ_MASK], head >> (2 * _SEQ_BITS));
    }

    /// @inheritdoc IModelRegistry
    function nonceUsed(address signer, uint256 nonce) external view returns (bool) {
        return _usedNonces[signer][nonce];
    }

    /// @inheritdoc IModelRegistry
    function quorum() external view returns (uint16) {
        return _config.quorum;
    }

    /// @inheritdoc IModelRegistry
    function verifierCount() external view returns (uint16) {
        return _config.verifierCount;
    }

    /// @inheritdoc IModelRegistry
    function attestationFee() external view returns (uint64) {
        return _config.attestationFee;
    }

    /// @inheritdoc IModelRegistry
    function registrationFee() public view returns (uint256) {
        return uint256(_config.attestationFee) * _config.verifierCount;
    }

    /// @inheritdoc IModelRegistry
    function rewardPool() external view returns (uint256) {
        return _config.rewardPool;
    }

    /// @inheritdoc IModelRegistry
    function rewardsOf(address verifier) external view returns (uint256) {
        return _rewards[verifier];
    }

    /// @inheritdoc IModelRegistry
    function maxSignatureTtl() external view returns (uint32) {
        return _config.maxSignatureTtl;
    }

    /// @inheritdoc IModelRegistry
    function paused() external view returns (bool) {
        return _config.paused;
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
        return "2.0.0";
    }

    /**
     * @notice Whether the registry implements an interface (ERC-165).
     * @param interfaceId The ERC-165 interface identifier.
     * @return True for IModelRegistry and the interfaces of AccessControlDefaultAdminRules.
     */
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IModelRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    // ----------------------------------------------------------------------------------------------
    // Internals: registration
    // ----------------------------------------------------------------------------------------------

    /// @dev Validates a registration and its fee and returns its id; reverts if that id is taken.
    function _checkRegistrable(address owner, RegistrationRequest calldata r) private view returns (bytes32 modelId) {
        _requireNotPaused();
        if (r.cDataDigest == 0) revert ZkdlRegistryMissingField("cDataDigest");
        if (r.cW0Digest == 0) revert ZkdlRegistryMissingField("cW0Digest");
        if (r.cWTDigest == 0) revert ZkdlRegistryMissingField("cWTDigest");
        if (r.statementDigest == 0) revert ZkdlRegistryMissingField("statementDigest");
        if (r.proofDigest == 0) revert ZkdlRegistryMissingField("proofDigest");
        if (r.verifierVersion == 0) revert ZkdlRegistryMissingField("verifierVersion");
        _checkUri("bundleUri", r.bundleUri, true);
        _checkUri("metadataUri", r.metadataUri, false);
        uint256 fee = registrationFee();
        if (msg.value < fee) revert ZkdlRegistryFeeTooLow(msg.value, fee);
        modelId = computeModelId(owner, r);
        if (modelExists(modelId)) revert ZkdlRegistryModelAlreadyRegistered(modelId);
    }

    function _checkUri(string memory field, string calldata uri, bool required) private pure {
        uint256 length = bytes(uri).length;
        if (required && length == 0) revert ZkdlRegistryMissingField(field);
        if (length > MAX_URI_LENGTH) revert ZkdlRegistryUriTooLong(field, length, MAX_URI_LENGTH);
    }

    function _storeModel(bytes32 modelId, address owner, RegistrationRequest calldata r) private {
        Config storage c = _config;
        uint40 seq = c.modelCount + 1;
        c.modelCount = seq;
        if (msg.value != 0) c.rewardPool = SafeCast.toUint80(c.rewardPool + msg.value);
        _models[modelId] = StoredModel(owner, uint40(block.number), 0, c.quorum);
        _modelIds[seq] = modelId;
        _links[modelId] =
            (uint256(seq) << _OWN_SEQ_SHIFT) |
            _push(IndexKind.Owner, bytes32(uint256(uint160(owner))), seq) |
            _push(IndexKind.Dataset, r.cDataDigest, seq) |
            _push(IndexKind.Weights, r.cWTDigest, seq) |
            _push(IndexKind.Proof, r.proofDigest, seq) |
            _push(IndexKind.Statement, r.statementDigest, seq);
        emit ModelRegistered(modelId, owner, r.parentDigest, r, msg.sender, uint40(block.timestamp));
    }

    /// @dev Appends `seq` to the index of (`kind`, `key`); returns the previous newest seq, shifted into
    /// the kind's place of the model's link word.
    function _push(IndexKind kind, bytes32 key, uint256 seq) private returns (uint256) {
        bytes32 indexKey = _indexKey(kind, key);
        uint256 head = _heads[indexKey];
        uint256 previous = (head >> _SEQ_BITS) & _SEQ_MASK;
        uint256 first = previous == 0 ? seq : head & _SEQ_MASK;
        _heads[indexKey] = first | (seq << _SEQ_BITS) | (((head >> (2 * _SEQ_BITS)) + 1) << (2 * _SEQ_BITS));
        return previous << (_SEQ_BITS * uint256(kind));
    }

    function _indexKey(IndexKind kind, bytes32 key) private pure returns (bytes32) {
        return keccak256(abi.encode(kind, key));
    }

    function _existingModel(bytes32 modelId) private view returns (StoredModel storage model) {
        model = _models[modelId];
        if (model.owner == address(0)) revert ZkdlRegistryUnknownModel(modelId);
    }

    // ----------------------------------------------------------------------------------------------
    // Internals: attestations
    // ----------------------------------------------------------------------------------------------

    /// @dev Every rule an attestation must satisfy, except the signature.
    function _checkAttestable(address verifier, AttestationRequest calldata a) private view {
        _requireNotPaused();
        if (!_verifierStates[verifier].active) revert ZkdlRegistryUnauthorizedVerifier(verifier);
        if (a.verdict == Verdict.None) revert ZkdlRegistryInvalidVerdict(a.verdict);
        if (_existingModel(a.modelId).revokedAt != 0) revert ZkdlRegistryRevokedModel(a.modelId);
        uint256 packed = _verdicts[a.modelId][verifier];
        if (packed != 0) revert ZkdlRegistryAlreadyAttested(a.modelId, verifier, Verdict(uint8(packed)));
    }

    function _storeAttestation(address verifier, AttestationRequest calldata a) private {
        uint40 now40 = uint40(block.timestamp);
        _verdicts[a.modelId][verifier] = uint256(uint8(a.verdict)) | (uint256(now40) << 8);
        ++_verifierStates[verifier].attestations;
        // The verifier is paid for the work whatever the verdict, out of the fees registrations paid in.
        Config storage c = _config;
        uint256 reward = c.attestationFee < c.rewardPool ? c.attestationFee : c.rewardPool;
        if (reward != 0) {
            c.rewardPool -= uint80(reward);
            _rewards[verifier] += reward;
        }
        emit ModelAttested(a.modelId, verifier, a.verdict, a.reportDigest, msg.sender, now40, reward);
    }

    function _attestationOf(bytes32 modelId, address verifier) private view returns (Attestation memory) {
        uint256 packed = _verdicts[modelId][verifier];
        if (packed == 0) return Attestation(address(0), Verdict.None, 0, false);
        return Attestation(verifier, Verdict(uint8(packed)), uint40(packed >> 8), _verifierStates[verifier].active);
    }

    // ----------------------------------------------------------------------------------------------
    // Internals: roles, pause, signatures
    // ----------------------------------------------------------------------------------------------

    /// @dev Keeps the verifier list and count; the quorum never exceeds the verifier count (at least 1).
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (!granted || role != VERIFIER_ROLE) return granted;
        VerifierState storage s = _verifierStates[account];
        if (!s.listed) _verifierList.push(account);
        (s.grantedAt, s.removedAt, s.active, s.listed) = (uint40(block.timestamp), 0, true, true);
        ++_config.verifierCount;
    }

    /// @dev A removal is refused if fewer verifiers than the quorum would remain; it is announced with the
    /// number of verdicts that stop counting.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (!revoked || role != VERIFIER_ROLE) return revoked;
        Config storage c = _config;
        uint16 remaining = c.verifierCount - 1;
        if (c.quorum > (remaining == 0 ? 1 : remaining)) revert ZkdlRegistryQuorumAboveVerifiers(c.quorum, remaining);
        c.verifierCount = remaining;
        VerifierState storage s = _verifierStates[account];
        (s.active, s.removedAt) = (false, uint40(block.timestamp));
        emit VerifierRemoved(account, s.attestations, uint40(block.timestamp));
    }

    function _setQuorum(uint16 newQuorum) private {
        uint16 verifiers = _config.verifierCount;
        uint16 maxQuorum = verifiers == 0 ? 1 : verifiers;
        if (newQuorum == 0 || newQuorum > maxQuorum) revert ZkdlRegistryInvalidQuorum(newQuorum, maxQuorum);
        emit QuorumChanged(_config.quorum, newQuorum);
        _config.quorum = newQuorum;
    }

    function _requireNotPaused() private view {
        if (_config.paused) revert EnforcedPause();
    }

    function _checkDeadline(uint256 deadline) private view {
        if (block.timestamp > deadline) revert ZkdlRegistryExpiredSignature(deadline, block.timestamp);
        uint256 maxDeadline = block.timestamp + _config.maxSignatureTtl;
        if (deadline > maxDeadline) revert ZkdlRegistryDeadlineTooFar(deadline, maxDeadline);
    }

    function _useNonce(address signer, uint256 nonce) private {
        if (_usedNonces[signer][nonce]) revert ZkdlRegistryNonceAlreadyUsed(signer, nonce);
        _usedNonces[signer][nonce] = true;
        emit NonceUsed(signer, nonce);
    }

    /// @dev ECDSA first: an EOA's key, EIP-7702-delegated or not (its code is 0xef0100 || delegate), signs
    /// for it whatever the delegate implements; then ERC-1271 for contracts. The EIP-712 domain binds the
    /// chain id and the registry, so a signature made for another recovers another signer and fails here.
    function _checkSignature(address signer, bytes32 digest, bytes calldata signature) private view {
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return;
        if (signer.code.length == 0 || !SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature))
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
            r.statementDigest,
            r.proofDigest
        );
        bytes memory tail = abi.encode(
            r.parentDigest,
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
            abi.encode(ATTESTATION_TYPEHASH, verifier, a.modelId, uint8(a.verdict), a.reportDigest, nonce, deadline)
        );
        return _hashTypedDataV4(structHash);
    }
}
