// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IModelRegistry} from "./IModelRegistry.sol";
import {ImprovementTypes} from "./ImprovementTypes.sol";
import {Lineages} from "./Lineages.sol";
import {Commitments} from "./Commitments.sol";
import {VerificationRequests} from "./VerificationRequests.sol";

/**
 * @title ModelRegistry
 * @notice Proof of model improvement. A model version becomes an ERC-721 token only when a claim proves it
 * beats its lineage's current best by the lineage's ε: the trainer signs an EIP-712 `Improvement`, at least
 * `quorum` distinct registered verifiers attest the same claim (EIP-712 `Attestation`, checked with
 * OpenZeppelin's SignatureChecker so a verifier may be a contract through ERC-1271, or attested on chain
 * with `attest`), the model CID was committed earlier than the lineage's minimum commit age, and the CID has
 * never been minted. Claims are announced to verifiers on chain (`VerificationRequests`). The token's URI is `ipfs://<metadataCid>`; its score, parent and lineage are recorded.
 * @dev The EIP-712 domain is ("XAI-Link", "1", chainId, this contract), so a signature is valid on one chain
 * and one deployment only.
 */
contract ModelRegistry is
    ERC721,
    ERC2981,
    EIP712,
    Nonces,
    Lineages,
    VerificationRequests,
    Commitments,
    IModelRegistry
{
    /// @notice A minted model version.
    struct Model {
        uint256 lineageId;
        /// @dev 0 when the parent is the lineage's genesis model.
        uint256 parentTokenId;
        address trainer;
        uint64 score;
        /// @dev 1 for the first token of a lineage, parent's version + 1 after.
        uint32 version;
        uint64 committedAt;
        uint64 mintedAt;
        string modelCid;
        string metadataCid;
        string evaluationCid;
    }

    uint256 private _modelCount;
    mapping(uint256 tokenId => Model) private _models;
    mapping(bytes32 modelCidHash => bool) private _usedModelCids;
    mapping(address verifier => mapping(bytes32 attestationDigest => bool)) private _onChainAttestations;

    /// @notice A model version was proven and minted to its trainer.
    event ModelMinted(
        uint256 indexed tokenId,
        uint256 indexed lineageId,
        address indexed trainer,
        uint256 parentTokenId,
        uint64 score,
        string modelCid,
        string metadataCid,
        string evaluationCid
    );
    /// @notice `verifier` was one of the attestations counted for `tokenId`'s claim.
    event ClaimAttested(uint256 indexed tokenId, address indexed verifier);
    /// @notice `verifier` attested a claim on chain (instead of signing it).
    event AttestationApproved(address indexed verifier, bytes32 indexed attestationDigest);

    error EmptyCid();
    error ClaimExpired(uint256 deadline, uint256 timestamp);
    error InvalidTrainerSignature(address trainer);
    error ModelCidAlreadyUsed(string modelCid);
    error StaleParent(uint256 parentTokenId, uint256 bestTokenId);
    error InsufficientImprovement(uint64 score, uint64 bestScore, uint256 epsilonBps);
    error QuorumNotMet(uint256 attestations, uint256 quorum);
    error UnsortedVerifiers();
    error DuplicateVerifier(address verifier);
    error SelfAttestation(address verifier);
    error NotAVerifier(uint256 lineageId, address verifier);
    error InvalidAttestation(address verifier);

    constructor() ERC721("XAI-Link Model", "XAIM") EIP712("XAI-Link", "1") {}

    /**
     * @notice Mints a proven model version to its trainer. Anyone may submit a claim (a relayer, the trainer).
     * @param c The trainer's signed `Improvement`.
     * @param salt The salt of the trainer's earlier commitment to `c.modelCid`.
     * @param trainerSignature The trainer's EIP-712 signature of `c` (or ERC-1271 signature).
     * @param attestations At least `quorum` attestations of `c`, sorted by strictly increasing verifier address.
     * @return tokenId The new token's id.
     */
    function claim(
        ImprovementTypes.Improvement calldata c,
        bytes32 salt,
        bytes calldata trainerSignature,
        ImprovementTypes.VerifierSignature[] calldata attestations
    ) external returns (uint256 tokenId) {
        if (block.timestamp > c.deadline) revert ClaimExpired(c.deadline, block.timestamp);
        if (bytes(c.modelCid).length == 0 || bytes(c.metadataCid).length == 0 || bytes(c.evaluationCid).length == 0) {
            revert EmptyCid();
        }
        Lineage storage l = _lineageStorage(c.lineageId);
        bytes32 structHash = ImprovementTypes.hashImprovement(c);
        if (!SignatureChecker.isValidSignatureNowCalldata(c.trainer, _hashTypedDataV4(structHash), trainerSignature)) {
            revert InvalidTrainerSignature(c.trainer);
        }
        _useCheckedNonce(c.trainer, c.nonce);
        bytes32 cidHash = keccak256(bytes(c.modelCid));
        if (_usedModelCids[cidHash]) revert ModelCidAlreadyUsed(c.modelCid);
        uint64 committed = _checkCommitment(ImprovementTypes.commitment(c.modelCid, c.trainer, salt), l.minCommitAge);
        _checkImprovement(l, c, committed);
        _checkAttestations(
            c.lineageId,
            l.quorum,
            c.trainer,
            _hashTypedDataV4(ImprovementTypes.hashAttestation(structHash)),
            attestations
        );
        _usedModelCids[cidHash] = true;
        tokenId = _mintModel(l, c, committed);
        for (uint256 i = 0; i < attestations.length; ++i) emit ClaimAttested(tokenId, attestations[i].verifier);
    }

    /**
     * @notice Attests a claim on chain: the caller vouches for the `Attestation` whose EIP-712 digest is
     * `attestationDigest` (see `attestationDigest`). A claim then counts the caller's attestation when its
     * entry has an empty signature. Meant for contract verifiers (an oracle consumer) that would rather
     * attest in a transaction than implement ERC-1271; EOAs may use it too.
     * @param digest The `Attestation` digest under this contract's domain.
     */
    function attest(bytes32 digest) external {
        _onChainAttestations[msg.sender][digest] = true;
        emit AttestationApproved(msg.sender, digest);
    }

    /**
     * @notice Whether `verifier` attested `digest` on chain.
     * @param verifier The verifier.
     * @param digest The `Attestation` digest.
     * @return True after `attest(digest)` from `verifier`.
     */
    function hasAttestedOnChain(address verifier, bytes32 digest) external view returns (bool) {
        return _onChainAttestations[verifier][digest];
    }

    /**
     * @notice The EIP-712 digest the trainer signs for `c`.
     * @param c The claim.
     * @return The digest under this contract's domain.
     */
    function improvementDigest(ImprovementTypes.Improvement calldata c) external view returns (bytes32) {
        return _hashTypedDataV4(ImprovementTypes.hashImprovement(c));
    }

    /**
     * @notice The EIP-712 digest a verifier signs (or passes to `attest`) for `c`.
     * @param c The claim.
     * @return The digest under this contract's domain.
     */
    function attestationDigest(ImprovementTypes.Improvement calldata c) external view returns (bytes32) {
        return _hashTypedDataV4(ImprovementTypes.hashAttestation(ImprovementTypes.hashImprovement(c)));
    }

    /**
     * @notice Whether a model CID was minted (or is a lineage's genesis); such a CID can never be claimed.
     * @param modelCid The CID.
     * @return True if used.
     */
    function isModelCidUsed(string calldata modelCid) external view returns (bool) {
        return _usedModelCids[keccak256(bytes(modelCid))];
    }

    /**
     * @notice A minted model's record.
     * @param tokenId The token.
     * @return The record (reverts `ERC721NonexistentToken` for an unknown token).
     */
    function getModel(uint256 tokenId) external view returns (Model memory) {
        _requireOwned(tokenId);
        return _models[tokenId];
    }

    /**
     * @notice How many tokens were minted; their ids are 1..totalMinted.
     * @return The number of tokens.
     */
    function totalMinted() external view returns (uint256) {
        return _modelCount;
    }

    /**
     * @notice The token's metadata: `ipfs://<metadataCid>`.
     * @param tokenId The token.
     * @return The URI.
     */
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        _requireOwned(tokenId);
        return string.concat("ipfs://", _models[tokenId].metadataCid);
    }

    /// @inheritdoc IModelRegistry
    function licenseTerms(uint256 tokenId) external view returns (LicenseTerms memory t) {
        address owner = _requireOwned(tokenId);
        Model storage m = _models[tokenId];
        Lineage storage l = _lineageStorage(m.lineageId);
        t = LicenseTerms({
            lineageId: m.lineageId,
            score: m.score,
            genesisScore: l.genesisScore,
            higherIsBetter: l.higherIsBetter,
            owner: owner,
            lineageCreator: l.creator,
            pricing: l.pricing,
            shares: l.shares
        });
    }

    /// @inheritdoc IModelRegistry
    function lineagePricing(uint256 lineageId)
        external
        view
        returns (Pricing memory pricing, uint64 genesisScore, bool higherIsBetter)
    {
        Lineage storage l = _lineageStorage(lineageId);
        return (l.pricing, l.genesisScore, l.higherIsBetter);
    }

    /// @inheritdoc IModelRegistry
    function ancestorOwners(uint256 tokenId, uint256 maxDepth) external view returns (address[] memory owners) {
        _requireOwned(tokenId);
        owners = new address[](maxDepth);
        uint256 n = 0;
        uint256 current = _models[tokenId].parentTokenId;
        while (current != 0 && n < maxDepth) {
            owners[n++] = _ownerOf(current);
            current = _models[current].parentTokenId;
        }
        assembly ("memory-safe") {
            mstore(owners, n)
        }
    }

    /**
     * @notice ERC-165.
     * @param interfaceId The interface.
     * @return True for ERC-165, ERC-721 (+ metadata) and ERC-2981.
     */
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, ERC2981, IERC165) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    function _reserveGenesisCid(string calldata modelCid) internal override {
        bytes32 cidHash = keccak256(bytes(modelCid));
        if (_usedModelCids[cidHash]) revert ModelCidAlreadyUsed(modelCid);
        _usedModelCids[cidHash] = true;
    }

    function _checkImprovement(Lineage storage l, ImprovementTypes.Improvement calldata c, uint64 committed)
        private
        view
    {
        if (c.parentTokenId != l.bestTokenId) revert StaleParent(c.parentTokenId, l.bestTokenId);
        uint256 eps = _epsilonAt(l.epsilon, l.bestSince, committed);
        uint256 best = l.bestScore;
        uint256 score = c.score;
        bool ok = l.higherIsBetter
            ? score > best && score * BPS >= best * (BPS + eps)
            : score < best && score * BPS <= best * (BPS - eps);
        if (!ok) revert InsufficientImprovement(c.score, l.bestScore, eps);
    }

    function _checkAttestations(
        uint256 lineageId,
        uint256 quorum,
        address trainer,
        bytes32 digest,
        ImprovementTypes.VerifierSignature[] calldata attestations
    ) private view {
        if (attestations.length < quorum) revert QuorumNotMet(attestations.length, quorum);
        address previous = address(0);
        for (uint256 i = 0; i < attestations.length; ++i) {
            address verifier = attestations[i].verifier;
            if (i != 0) {
                if (verifier == previous) revert DuplicateVerifier(verifier);
                if (verifier < previous) revert UnsortedVerifiers();
            }
            if (verifier == trainer) revert SelfAttestation(verifier);
            if (!isVerifier(lineageId, verifier)) revert NotAVerifier(lineageId, verifier);
            bytes calldata signature = attestations[i].signature;
            bool valid = signature.length == 0
                ? _onChainAttestations[verifier][digest]
                : SignatureChecker.isValidSignatureNowCalldata(verifier, digest, signature);
            if (!valid) revert InvalidAttestation(verifier);
            previous = verifier;
        }
    }

    function _mintModel(Lineage storage l, ImprovementTypes.Improvement calldata c, uint64 committed)
        private
        returns (uint256 tokenId)
    {
        tokenId = ++_modelCount;
        Model storage m = _models[tokenId];
        m.lineageId = c.lineageId;
        m.parentTokenId = c.parentTokenId;
        m.trainer = c.trainer;
        m.score = c.score;
        m.version = c.parentTokenId == 0 ? 1 : _models[c.parentTokenId].version + 1;
        m.committedAt = committed;
        m.mintedAt = uint64(block.timestamp);
        m.modelCid = c.modelCid;
        m.metadataCid = c.metadataCid;
        m.evaluationCid = c.evaluationCid;
        _recordBest(l, tokenId, c.score);
        _setTokenRoyalty(tokenId, c.trainer, l.pricing.royaltyBps);
        emit ModelMinted(
            tokenId, c.lineageId, c.trainer, c.parentTokenId, c.score, c.modelCid, c.metadataCid, c.evaluationCid
        );
        // The trainer signed this claim, so it expects the token: plain _mint, no receiver callback.
        _mint(c.trainer, tokenId);
    }
}
