// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Lineages} from "./Lineages.sol";

/**
 * @title VerificationRequests
 * @notice How trainers and verifiers on different machines find each other through the chain alone. A
 * trainer announces a signed claim (its CID on IPFS) with `requestVerification`; the lineage's verifiers
 * follow `VerificationRequested` events, fetch the claim by CID, re-run it, and either attest on chain or
 * say why they refuse with `declineVerification`.
 * @dev Nothing is stored: both functions only emit an event, so an announcement costs little gas and
 * obliges nobody (a verifier may ignore it, and a claim that was never announced can still be attested).
 * Spam is rate-limited by gas; verifiers check every claim before spending more than a read on it.
 */
abstract contract VerificationRequests is Lineages {
    /// @dev Longest claim CID accepted (a CIDv1 base32 SHA-256 is 59 characters).
    uint256 public constant MAX_CLAIM_CID_LENGTH = 128;
    /// @dev Longest refusal reason accepted, in bytes.
    uint256 public constant MAX_REASON_LENGTH = 1024;

    /// @notice `requester` asks the verifiers of `lineageId` to check the claim published at `claimCid`,
    /// whose `Attestation` digest is (says the requester) `attestationDigest`.
    event VerificationRequested(
        uint256 indexed lineageId,
        bytes32 indexed attestationDigest,
        address indexed requester,
        string claimCid
    );
    /// @notice Verifier `verifier` of `lineageId` re-ran the claim with `attestationDigest` and refuses it.
    event VerificationDeclined(
        uint256 indexed lineageId,
        bytes32 indexed attestationDigest,
        address indexed verifier,
        string reason
    );

    error InvalidClaimCid(uint256 length);
    error InvalidReason(uint256 length);
    error NotLineageVerifier(uint256 lineageId, address caller);

    /**
     * @notice Announces a claim to a lineage's verifiers. Open to anyone (usually the trainer or a relayer);
     * verifiers check the claim itself, so a false digest or a bad claim only wastes the sender's gas.
     * @param lineageId The lineage the claim improves (must exist).
     * @param attestationDigest The claim's `Attestation` digest (see `attestationDigest`), for de-duplication.
     * @param claimCid The CID of the claim JSON on IPFS (1 to `MAX_CLAIM_CID_LENGTH` bytes).
     */
    function requestVerification(uint256 lineageId, bytes32 attestationDigest, string calldata claimCid)
        external
    {
        _lineageStorage(lineageId);
        uint256 n = bytes(claimCid).length;
        if (n == 0 || n > MAX_CLAIM_CID_LENGTH) revert InvalidClaimCid(n);
        emit VerificationRequested(lineageId, attestationDigest, msg.sender, claimCid);
    }

    /**
     * @notice A verifier of the lineage publishes why it refuses a claim, so that the trainer learns the
     * reason without any channel outside the protocol. Records nothing; refusing never blocks a claim that
     * other verifiers attest.
     * @param lineageId The claim's lineage; the caller must be one of its verifiers.
     * @param attestationDigest The refused claim's `Attestation` digest.
     * @param reason A short reason (1 to `MAX_REASON_LENGTH` bytes), e.g. "score-mismatch: …".
     */
    function declineVerification(uint256 lineageId, bytes32 attestationDigest, string calldata reason) external {
        _lineageStorage(lineageId);
        if (!isVerifier(lineageId, msg.sender)) revert NotLineageVerifier(lineageId, msg.sender);
        uint256 n = bytes(reason).length;
        if (n == 0 || n > MAX_REASON_LENGTH) revert InvalidReason(n);
        emit VerificationDeclined(lineageId, attestationDigest, msg.sender, reason);
    }
}
