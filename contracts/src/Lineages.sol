// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

/**
 * @title Lineages
 * @notice A lineage is a competition around one evaluation: a metric measured on an evaluation dataset, a
 * genesis (baseline) model, the ε rule a new version must pass, the verifiers who reproduce evaluations,
 * and the licence pricing and revenue shares of its versions.
 * @dev Anyone may create a lineage. Its creator manages the verifier set and the quorum; everything else is
 * fixed at creation so that trainers and buyers know the rules they play by.
 */
abstract contract Lineages {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @dev Basis points: 10_000 = 100 %.
    uint256 internal constant BPS = 10_000;
    /// @dev Most verifiers a lineage may have, so that claims stay within a block's gas.
    uint256 public constant MAX_VERIFIERS = 32;

    /// @notice The minimum relative improvement over the current best, in basis points, decaying linearly
    /// with the time the best has stood (measured at the new model's commit) from `startBps` to `floorBps`.
    struct EpsilonRule {
        uint16 startBps;
        uint16 floorBps;
        /// @dev Basis points removed per day the best has stood; 0 keeps ε at `startBps`.
        uint16 decayBpsPerDay;
    }

    /// @notice Licence pricing: `suggested = basePrice + pricePerPoint × gain`, gain being the score's
    /// distance from the genesis score in the metric's better direction. A token owner may set a manual
    /// price within [suggested × minPriceBps, suggested × maxPriceBps] / 10 000.
    struct Pricing {
        uint128 basePrice;
        uint128 pricePerPoint;
        uint16 minPriceBps;
        uint16 maxPriceBps;
        /// @dev ERC-2981 royalty on resales of a token, paid to its trainer.
        uint16 royaltyBps;
    }

    /// @notice How a licence payment is split; the three shares add up to 10 000.
    struct Shares {
        /// @dev To the licensed token's current owner.
        uint16 ownerBps;
        /// @dev Equally to the owners of its ancestors (nearest first, at most `MAX_ANCESTORS_PAID`);
        /// to the lineage creator when the token has no ancestor token.
        uint16 ancestorsBps;
        /// @dev To the lineage creator.
        uint16 creatorBps;
    }

    /// @notice Everything needed to create a lineage.
    struct LineageParams {
        string name;
        string evalDatasetCid;
        string metricName;
        bool higherIsBetter;
        /// @dev May be empty (a pure baseline score); otherwise the CID can never be minted.
        string genesisModelCid;
        uint64 genesisScore;
        EpsilonRule epsilon;
        /// @dev Seconds a commitment must have existed before it can be revealed by a claim (>= 1).
        uint32 minCommitAge;
        address[] verifiers;
        uint16 quorum;
        Pricing pricing;
        Shares shares;
    }

    /// @notice A lineage as stored.
    struct Lineage {
        address creator;
        uint64 createdAt;
        bool higherIsBetter;
        uint16 quorum;
        uint32 minCommitAge;
        EpsilonRule epsilon;
        uint64 genesisScore;
        /// @dev Score of the current best model (the genesis score until the first token).
        uint64 bestScore;
        /// @dev When the current best was minted (the lineage's creation for the genesis).
        uint64 bestSince;
        /// @dev 0 while the genesis is the best.
        uint256 bestTokenId;
        uint256 modelCount;
        Pricing pricing;
        Shares shares;
        string name;
        string evalDatasetCid;
        string metricName;
        string genesisModelCid;
    }

    uint256 private _lineageCount;
    mapping(uint256 lineageId => Lineage) private _lineages;
    mapping(uint256 lineageId => EnumerableSet.AddressSet) private _verifiers;

    /// @notice A lineage was created.
    event LineageCreated(
        uint256 indexed lineageId,
        address indexed creator,
        string name,
        string metricName,
        bool higherIsBetter,
        string evalDatasetCid,
        string genesisModelCid,
        uint64 genesisScore
    );
    /// @notice A verifier joined a lineage.
    event VerifierAdded(uint256 indexed lineageId, address indexed verifier);
    /// @notice A verifier left a lineage.
    event VerifierRemoved(uint256 indexed lineageId, address indexed verifier);
    /// @notice A lineage's quorum changed.
    event QuorumChanged(uint256 indexed lineageId, uint16 quorum);

    error UnknownLineage(uint256 lineageId);
    error NotLineageCreator(uint256 lineageId, address caller);
    error EmptyLineageName();
    error InvalidEpsilon(uint16 startBps, uint16 floorBps);
    error InvalidMinCommitAge(uint32 minCommitAge);
    error InvalidPriceBounds(uint16 minPriceBps, uint16 maxPriceBps);
    error InvalidRoyalty(uint16 royaltyBps);
    error InvalidShares(uint256 sumBps);
    error InvalidQuorum(uint256 quorum, uint256 verifierCount);
    error InvalidVerifier(address verifier);
    error VerifierAlreadyRegistered(uint256 lineageId, address verifier);
    error VerifierNotRegistered(uint256 lineageId, address verifier);
    error TooManyVerifiers(uint256 count);

    modifier onlyLineageCreator(uint256 lineageId) {
        address creator = _lineageStorage(lineageId).creator;
        if (msg.sender != creator) revert NotLineageCreator(lineageId, msg.sender);
        _;
    }

    /**
     * @notice Creates a lineage; the caller becomes its creator.
     * @param p The lineage's rules (see `LineageParams`).
     * @return lineageId The new lineage's id (ids start at 1).
     */
    function createLineage(LineageParams calldata p) external returns (uint256 lineageId) {
        _validateParams(p);
        lineageId = ++_lineageCount;
        Lineage storage l = _lineages[lineageId];
        l.creator = msg.sender;
        l.createdAt = uint64(block.timestamp);
        l.higherIsBetter = p.higherIsBetter;
        l.quorum = p.quorum;
        l.minCommitAge = p.minCommitAge;
        l.epsilon = p.epsilon;
        l.genesisScore = p.genesisScore;
        l.bestScore = p.genesisScore;
        l.bestSince = uint64(block.timestamp);
        l.pricing = p.pricing;
        l.shares = p.shares;
        l.name = p.name;
        l.evalDatasetCid = p.evalDatasetCid;
        l.metricName = p.metricName;
        l.genesisModelCid = p.genesisModelCid;
        if (bytes(p.genesisModelCid).length != 0) _reserveGenesisCid(p.genesisModelCid);
        emit LineageCreated(
            lineageId,
            msg.sender,
            p.name,
            p.metricName,
            p.higherIsBetter,
            p.evalDatasetCid,
            p.genesisModelCid,
            p.genesisScore
        );
        for (uint256 i = 0; i < p.verifiers.length; ++i) _addVerifier(lineageId, p.verifiers[i]);
        emit QuorumChanged(lineageId, p.quorum);
    }

    /**
     * @notice Adds a verifier (an EOA, or a contract that attests through ERC-1271 or `attest`).
     * @dev Only the lineage creator.
     * @param lineageId The lineage.
     * @param verifier The verifier's address.
     */
    function addVerifier(uint256 lineageId, address verifier) external onlyLineageCreator(lineageId) {
        _addVerifier(lineageId, verifier);
    }

    /**
     * @notice Removes a verifier; the quorum must stay reachable.
     * @dev Only the lineage creator.
     * @param lineageId The lineage.
     * @param verifier The verifier's address.
     */
    function removeVerifier(uint256 lineageId, address verifier) external onlyLineageCreator(lineageId) {
        if (!_verifiers[lineageId].remove(verifier)) revert VerifierNotRegistered(lineageId, verifier);
        uint256 count = _verifiers[lineageId].length();
        uint16 quorum = _lineages[lineageId].quorum;
        if (quorum > count) revert InvalidQuorum(quorum, count);
        emit VerifierRemoved(lineageId, verifier);
    }

    /**
     * @notice Sets how many distinct verifiers must attest a claim.
     * @dev Only the lineage creator; 1 <= quorum <= number of verifiers.
     * @param lineageId The lineage.
     * @param quorum The new quorum.
     */
    function setQuorum(uint256 lineageId, uint16 quorum) external onlyLineageCreator(lineageId) {
        uint256 count = _verifiers[lineageId].length();
        if (quorum == 0 || quorum > count) revert InvalidQuorum(quorum, count);
        _lineages[lineageId].quorum = quorum;
        emit QuorumChanged(lineageId, quorum);
    }

    /**
     * @notice A lineage's rules and state.
     * @param lineageId The lineage.
     * @return The stored lineage (reverts `UnknownLineage` if it does not exist).
     */
    function getLineage(uint256 lineageId) external view returns (Lineage memory) {
        return _lineageStorage(lineageId);
    }

    /**
     * @notice A lineage's verifiers.
     * @param lineageId The lineage.
     * @return The verifier addresses, in no particular order.
     */
    function verifiersOf(uint256 lineageId) external view returns (address[] memory) {
        _lineageStorage(lineageId);
        return _verifiers[lineageId].values();
    }

    /**
     * @notice Whether `account` is a verifier of the lineage.
     * @param lineageId The lineage.
     * @param account The address to check.
     * @return True if registered.
     */
    function isVerifier(uint256 lineageId, address account) public view returns (bool) {
        return _verifiers[lineageId].contains(account);
    }

    /**
     * @notice How many lineages exist; their ids are 1..lineageCount.
     * @return The number of lineages.
     */
    function lineageCount() external view returns (uint256) {
        return _lineageCount;
    }

    /**
     * @notice The ε (basis points) a model committed at `committedAt` must beat the current best by.
     * @param lineageId The lineage.
     * @param committedAt The commit's block time.
     * @return The required relative improvement in basis points.
     */
    function requiredEpsilonBps(uint256 lineageId, uint64 committedAt) public view returns (uint256) {
        Lineage storage l = _lineageStorage(lineageId);
        return _epsilonAt(l.epsilon, l.bestSince, committedAt);
    }

    function _epsilonAt(EpsilonRule memory e, uint64 since, uint64 time) internal pure returns (uint256) {
        uint256 elapsed = time > since ? time - since : 0;
        uint256 decayed = (uint256(e.decayBpsPerDay) * elapsed) / 1 days;
        uint256 span = e.startBps - e.floorBps;
        return decayed >= span ? e.floorBps : e.startBps - decayed;
    }

    function _lineageStorage(uint256 lineageId) internal view returns (Lineage storage l) {
        l = _lineages[lineageId];
        if (l.creator == address(0)) revert UnknownLineage(lineageId);
    }

    function _verifierCount(uint256 lineageId) internal view returns (uint256) {
        return _verifiers[lineageId].length();
    }

    /// @dev Records a new best model of the lineage.
    function _recordBest(Lineage storage l, uint256 tokenId, uint64 score) internal {
        l.bestTokenId = tokenId;
        l.bestScore = score;
        l.bestSince = uint64(block.timestamp);
        ++l.modelCount;
    }

    /// @dev Marks the genesis model's CID as used so that it can never be minted.
    function _reserveGenesisCid(string calldata modelCid) internal virtual;

    function _addVerifier(uint256 lineageId, address verifier) private {
        if (verifier == address(0)) revert InvalidVerifier(verifier);
        if (!_verifiers[lineageId].add(verifier)) revert VerifierAlreadyRegistered(lineageId, verifier);
        uint256 count = _verifiers[lineageId].length();
        if (count > MAX_VERIFIERS) revert TooManyVerifiers(count);
        emit VerifierAdded(lineageId, verifier);
    }

    function _validateParams(LineageParams calldata p) private pure {
        if (bytes(p.name).length == 0) revert EmptyLineageName();
        EpsilonRule calldata e = p.epsilon;
        if (e.startBps > BPS || e.floorBps > e.startBps) revert InvalidEpsilon(e.startBps, e.floorBps);
        if (p.minCommitAge == 0) revert InvalidMinCommitAge(p.minCommitAge);
        Pricing calldata pr = p.pricing;
        if (pr.minPriceBps > BPS || pr.maxPriceBps < BPS) revert InvalidPriceBounds(pr.minPriceBps, pr.maxPriceBps);
        if (pr.royaltyBps > BPS) revert InvalidRoyalty(pr.royaltyBps);
        uint256 sum = uint256(p.shares.ownerBps) + p.shares.ancestorsBps + p.shares.creatorBps;
        if (sum != BPS) revert InvalidShares(sum);
        if (p.quorum == 0 || p.quorum > p.verifiers.length) revert InvalidQuorum(p.quorum, p.verifiers.length);
    }
}
