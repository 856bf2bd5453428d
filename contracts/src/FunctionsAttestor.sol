// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {FunctionsClient} from "@chainlink/contracts/src/v0.8/functions/v1_0_0/FunctionsClient.sol";
import {FunctionsRequest} from "@chainlink/contracts/src/v0.8/functions/v1_0_0/libraries/FunctionsRequest.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {ModelRegistry} from "./ModelRegistry.sol";
import {ImprovementTypes} from "./ImprovementTypes.sol";

/**
 * @title FunctionsAttestor
 * @notice A lineage verifier backed by Chainlink Functions. For a claim, it sends a Functions request whose
 * JavaScript source (contracts/functions/attestClaim.js, uploaded with `setSource`) fetches the claim's
 * published evaluation report and verifier attestations by CID from an IPFS gateway, checks that they agree
 * with the claim, that each attestation's EIP-712 signature recovers to a registered verifier of the
 * lineage, and returns the score. When the DON's answer holds, the fulfilment attests the claim **on chain**
 * (`ModelRegistry.attest(attestationDigest(claim))`), so the claim lists this contract with an empty
 * signature and it counts once toward the lineage's quorum. A failed or mismatching answer is recorded with
 * its reason and attests nothing.
 * @dev Why an on-chain attestation rather than ERC-1271: the fulfilment is a transaction anyway, the
 * registry then holds the fact itself (`hasAttestedOnChain`), and nobody has to carry a signature for a
 * contract that cannot sign. This contract must be registered as a verifier of the lineage (`addVerifier`).
 *
 * Request arguments (`args`, all strings; the JavaScript source reads them in this order):
 *  0 format version ("1")      1 chain id                  2 registry              3 this attestor
 *  4 IPFS gateway URL prefix   5 lineage metric name       6 lineage verifiers, comma-separated
 *  7 minimum valid signatures  8 score tolerance          9-17 the claim: lineageId, parentTokenId,
 *  trainer, modelCid, metadataCid, evaluationCid, score, nonce, deadline   18.. attestation CIDs.
 * Response: `abi.encode(uint256 score, bytes32 attestationDigest, uint256 validSignatures)` (96 bytes).
 */
contract FunctionsAttestor is FunctionsClient, Ownable2Step {
    using FunctionsRequest for FunctionsRequest.Request;

    /// @notice Version of the argument layout above (args[0]).
    string public constant ARGS_VERSION = "1";
    /// @notice Most attestation CIDs per request: a Functions execution may make 5 HTTP requests, one of
    /// which fetches the evaluation report.
    uint256 public constant MAX_ATTESTATION_CIDS = 4;
    /// @notice Longest failure detail kept in storage (the full text is in the event).
    uint256 public constant MAX_DETAIL_BYTES = 128;
    /// @notice Size of a well-formed DON response.
    uint256 public constant RESPONSE_BYTES = 96;
    /// @notice Largest source: it is stored as the code of a data contract (EIP-170: 24 576 bytes, one of
    /// which is a STOP guard).
    uint256 public constant MAX_SOURCE_BYTES = 24_575;

    /// @notice Where a request stands.
    enum Status {
        None,
        Pending,
        Attested,
        Failed
    }

    /// @notice Why a request attested nothing.
    enum Failure {
        None,
        /// @dev The source threw (missing content, bad signature, unknown verifier, score mismatch, …) or the
        /// DON failed; `detail` holds its message.
        OracleError,
        /// @dev The response is not 96 bytes.
        MalformedResponse,
        /// @dev The source checked another claim than the one requested.
        DigestMismatch,
        /// @dev The source returned another score than the claim's.
        ScoreMismatch,
        /// @dev Fewer valid verifier signatures than `minSignatures`.
        TooFewSignatures
    }

    /// @notice What a request uses; set by the owner.
    struct Config {
        /// @dev The DON, e.g. bytes32("fun-ethereum-sepolia-1").
        bytes32 donId;
        /// @dev The Functions subscription that pays (this contract must be one of its consumers).
        uint64 subscriptionId;
        /// @dev Gas for `fulfillRequest` (the network caps it: 300 000 on the public DONs).
        uint32 callbackGasLimit;
        /// @dev Valid signatures of other lineage verifiers the source must find (>= 1).
        uint16 minSignatures;
        /// @dev Largest difference between the report's score and a verifier's recomputed score.
        uint32 scoreTolerance;
        /// @dev Prefix a CID is appended to, e.g. "https://ipfs.io/ipfs/".
        string gatewayUrl;
    }

    /// @notice One attestation request and its outcome.
    struct AttestationRequest {
        bytes32 digest;
        uint256 lineageId;
        address requester;
        uint64 score;
        uint16 minSignatures;
        Status status;
        Failure failure;
        uint64 requestedAt;
        uint64 fulfilledAt;
        /// @dev The score the DON returned (also on a mismatch).
        uint64 reportedScore;
        /// @dev Valid verifier signatures the DON counted.
        uint16 signatures;
        /// @dev The failure's message, truncated to MAX_DETAIL_BYTES.
        string detail;
    }

    /// @notice The registry this contract attests to.
    ModelRegistry public immutable registry;

    Config private _config;
    /// @notice The data contract whose code is the JavaScript source ("SSTORE2": a request reads it with one
    /// EXTCODECOPY instead of hundreds of SLOADs).
    address public sourcePointer;
    /// @notice keccak256 of the JavaScript source (to compare with contracts/functions/attestClaim.js).
    bytes32 public sourceHash;
    /// @notice When true anyone may request an attestation (paid by the subscription); otherwise only the
    /// owner and approved requesters.
    bool public openRequests;
    /// @notice Accounts allowed to send requests while `openRequests` is false.
    mapping(address account => bool) public isRequester;
    mapping(bytes32 requestId => AttestationRequest) private _requests;
    /// @notice The latest request sent for an attestation digest (0 if none).
    mapping(bytes32 attestationDigest => bytes32 requestId) public latestRequest;

    /// @notice The request configuration changed.
    event ConfigUpdated(
        bytes32 donId,
        uint64 subscriptionId,
        uint32 callbackGasLimit,
        uint16 minSignatures,
        uint32 scoreTolerance,
        string gatewayUrl
    );
    /// @notice The JavaScript source changed.
    event SourceUpdated(bytes32 indexed sourceHash, uint256 length);
    /// @notice `account` may (or may no longer) send requests.
    event RequesterSet(address indexed account, bool allowed);
    /// @notice Requests became open to anyone, or restricted again.
    event OpenRequestsSet(bool open);
    /// @notice A Functions request was sent for a claim.
    event AttestationRequested(
        bytes32 indexed requestId,
        bytes32 indexed attestationDigest,
        uint256 indexed lineageId,
        address requester,
        uint64 score,
        uint256 attestationCids
    );
    /// @notice The DON confirmed the claim and this contract attested it on the registry.
    event OracleAttested(bytes32 indexed requestId, bytes32 indexed attestationDigest, uint64 score, uint256 signatures);
    /// @notice The request failed or its answer did not match the claim: nothing was attested.
    event OracleRefused(bytes32 indexed requestId, bytes32 indexed attestationDigest, Failure failure, bytes detail);

    error NotConfigured();
    error InvalidConfig();
    error EmptySource();
    error SourceTooLarge(uint256 length, uint256 max);
    error SourceStoreFailed();
    error NotRequester(address caller);
    error NotALineageVerifier(uint256 lineageId);
    error ClaimExpired(uint256 deadline, uint256 timestamp);
    error AttestationCidCount(uint256 count, uint256 min, uint256 max);
    error AlreadyAttested(bytes32 attestationDigest);
    error RequestNotPending(bytes32 requestId);

    /**
     * @param router_ The Chainlink Functions router of this network.
     * @param registry_ The ModelRegistry to attest to.
     * @param initialOwner Who configures the contract (source, DON, subscription, requesters).
     */
    constructor(address router_, ModelRegistry registry_, address initialOwner)
        FunctionsClient(router_)
        Ownable(initialOwner)
    {
        registry = registry_;
    }

    // ---- owner ----

    /**
     * @notice Sets the DON, subscription, callback gas, signature minimum, tolerance and IPFS gateway.
     * @param c The configuration (non-zero DON id, subscription and gas; minSignatures 1..MAX_ATTESTATION_CIDS;
     * a gateway URL).
     */
    function setConfig(Config calldata c) external onlyOwner {
        if (
            c.donId == bytes32(0) || c.subscriptionId == 0 || c.callbackGasLimit == 0 || c.minSignatures == 0
                || c.minSignatures > MAX_ATTESTATION_CIDS || bytes(c.gatewayUrl).length == 0
        ) revert InvalidConfig();
        _config = c;
        emit ConfigUpdated(
            c.donId, c.subscriptionId, c.callbackGasLimit, c.minSignatures, c.scoreTolerance, c.gatewayUrl
        );
    }

    /**
     * @notice Uploads the JavaScript source every request runs (contracts/functions/attestClaim.js).
     * @dev Stored as the runtime code of a new data contract (`sourcePointer`).
     * @param source_ The source code (inline; a Functions request may be at most 30 KB in all).
     */
    function setSource(string calldata source_) external onlyOwner {
        uint256 len = bytes(source_).length;
        if (len == 0) revert EmptySource();
        if (len > MAX_SOURCE_BYTES) revert SourceTooLarge(len, MAX_SOURCE_BYTES);
        // Creation code: PUSH2 size, DUP1, PUSH1 10, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN;
        // then the runtime code: STOP (nobody can call into the data) followed by the source.
        bytes memory init = abi.encodePacked(hex"61", uint16(len + 1), hex"80600a3d393df300", source_);
        address pointer;
        assembly ("memory-safe") {
            pointer := create(0, add(init, 0x20), mload(init))
        }
        if (pointer == address(0)) revert SourceStoreFailed();
        sourcePointer = pointer;
        sourceHash = keccak256(bytes(source_));
        emit SourceUpdated(sourceHash, len);
    }

    /**
     * @notice Allows or disallows an account to send requests.
     * @param account The account.
     * @param allowed Whether it may.
     */
    function setRequester(address account, bool allowed) external onlyOwner {
        isRequester[account] = allowed;
        emit RequesterSet(account, allowed);
    }

    /**
     * @notice Opens requests to anyone (each costs the subscription LINK) or restricts them again.
     * @param open Whether anyone may request.
     */
    function setOpenRequests(bool open) external onlyOwner {
        openRequests = open;
        emit OpenRequestsSet(open);
    }

    // ---- requests ----

    /**
     * @notice Asks the DON to check a claim against its published evaluation report and attestations, and
     * to attest it if they agree.
     * @dev Reverts unless this contract is a verifier of the claim's lineage, the claim is not expired and
     * not yet attested by this contract, and between `minSignatures` and MAX_ATTESTATION_CIDS CIDs are given.
     * @param c The claim (the trainer's `Improvement`; its `evaluationCid` names the report).
     * @param attestationCids CIDs of attestation JSON files ("xai-link-attestation") of other verifiers.
     * @return requestId The Functions request id.
     */
    function requestAttestation(ImprovementTypes.Improvement calldata c, string[] calldata attestationCids)
        external
        returns (bytes32 requestId)
    {
        if (!openRequests && msg.sender != owner() && !isRequester[msg.sender]) revert NotRequester(msg.sender);
        Config memory cfg = _config;
        if (cfg.subscriptionId == 0 || sourcePointer == address(0)) revert NotConfigured();
        if (block.timestamp > c.deadline) revert ClaimExpired(c.deadline, block.timestamp);
        uint256 n = attestationCids.length;
        if (n < cfg.minSignatures || n > MAX_ATTESTATION_CIDS) {
            revert AttestationCidCount(n, cfg.minSignatures, MAX_ATTESTATION_CIDS);
        }
        if (!registry.isVerifier(c.lineageId, address(this))) revert NotALineageVerifier(c.lineageId);
        bytes32 digest = registry.attestationDigest(c);
        if (registry.hasAttestedOnChain(address(this), digest)) revert AlreadyAttested(digest);

        FunctionsRequest.Request memory req;
        req.initializeRequestForInlineJavaScript(_loadSource());
        req.setArgs(_args(c, cfg, attestationCids));
        requestId = _sendRequest(req.encodeCBOR(), cfg.subscriptionId, cfg.callbackGasLimit, cfg.donId);

        AttestationRequest storage r = _requests[requestId];
        r.digest = digest;
        r.lineageId = c.lineageId;
        r.requester = msg.sender;
        r.score = c.score;
        r.minSignatures = cfg.minSignatures;
        r.status = Status.Pending;
        r.requestedAt = uint64(block.timestamp);
        latestRequest[digest] = requestId;
        emit AttestationRequested(requestId, digest, c.lineageId, msg.sender, c.score, n);
    }

    // ---- reads ----

    /**
     * @notice A request and its outcome.
     * @param requestId The Functions request id.
     * @return The stored request (status None for an unknown id).
     */
    function getRequest(bytes32 requestId) external view returns (AttestationRequest memory) {
        return _requests[requestId];
    }

    /**
     * @notice The request configuration.
     * @return The configuration (subscriptionId 0 while not configured).
     */
    function config() external view returns (Config memory) {
        return _config;
    }

    /**
     * @notice The JavaScript source requests run.
     * @return The source code.
     */
    function source() external view returns (string memory) {
        return _loadSource();
    }

    /**
     * @notice The router this client accepts fulfilments from.
     * @return The Functions router.
     */
    function router() external view returns (address) {
        return address(i_router);
    }

    // ---- fulfilment (only the router reaches it, through FunctionsClient.handleOracleFulfillment) ----

    /// @dev Records the outcome; attests on the registry only when the DON's answer matches the request.
    function fulfillRequest(bytes32 requestId, bytes memory response, bytes memory err) internal override {
        AttestationRequest storage r = _requests[requestId];
        if (r.status != Status.Pending) revert RequestNotPending(requestId);
        r.fulfilledAt = uint64(block.timestamp);
        if (err.length > 0) return _refuse(requestId, r, Failure.OracleError, err);
        if (response.length != RESPONSE_BYTES) return _refuse(requestId, r, Failure.MalformedResponse, "");
        (uint256 score, bytes32 digest, uint256 signatures) = abi.decode(response, (uint256, bytes32, uint256));
        r.reportedScore = score > type(uint64).max ? type(uint64).max : uint64(score);
        r.signatures = signatures > type(uint16).max ? type(uint16).max : uint16(signatures);
        if (digest != r.digest) return _refuse(requestId, r, Failure.DigestMismatch, "");
        if (score != r.score) return _refuse(requestId, r, Failure.ScoreMismatch, "");
        if (signatures < r.minSignatures) return _refuse(requestId, r, Failure.TooFewSignatures, "");
        r.status = Status.Attested;
        emit OracleAttested(requestId, r.digest, r.score, signatures);
        registry.attest(r.digest);
    }

    function _loadSource() private view returns (string memory text) {
        address pointer = sourcePointer;
        uint256 size = pointer.code.length;
        if (size == 0) return "";
        bytes memory data = new bytes(size - 1);
        assembly ("memory-safe") {
            extcodecopy(pointer, add(data, 0x20), 1, sub(size, 1))
        }
        return string(data);
    }

    function _refuse(bytes32 requestId, AttestationRequest storage r, Failure failure, bytes memory detail) private {
        r.status = Status.Failed;
        r.failure = failure;
        if (detail.length > 0) {
            uint256 len = detail.length > MAX_DETAIL_BYTES ? MAX_DETAIL_BYTES : detail.length;
            bytes memory kept = new bytes(len);
            for (uint256 i = 0; i < len; ++i) {
                kept[i] = detail[i];
            }
            r.detail = string(kept);
        }
        emit OracleRefused(requestId, r.digest, failure, detail);
    }

    function _args(ImprovementTypes.Improvement calldata c, Config memory cfg, string[] calldata cids)
        private
        view
        returns (string[] memory a)
    {
        a = new string[](18 + cids.length);
        a[0] = ARGS_VERSION;
        a[1] = Strings.toString(block.chainid);
        a[2] = Strings.toHexString(address(registry));
        a[3] = Strings.toHexString(address(this));
        a[4] = cfg.gatewayUrl;
        a[5] = registry.getLineage(c.lineageId).metricName;
        a[6] = _joinAddresses(registry.verifiersOf(c.lineageId));
        a[7] = Strings.toString(cfg.minSignatures);
        a[8] = Strings.toString(cfg.scoreTolerance);
        a[9] = Strings.toString(c.lineageId);
        a[10] = Strings.toString(c.parentTokenId);
        a[11] = Strings.toHexString(c.trainer);
        a[12] = c.modelCid;
        a[13] = c.metadataCid;
        a[14] = c.evaluationCid;
        a[15] = Strings.toString(c.score);
        a[16] = Strings.toString(c.nonce);
        a[17] = Strings.toString(c.deadline);
        for (uint256 i = 0; i < cids.length; ++i) {
            a[18 + i] = cids[i];
        }
    }

    function _joinAddresses(address[] memory list) private pure returns (string memory out) {
        for (uint256 i = 0; i < list.length; ++i) {
            out = i == 0 ? Strings.toHexString(list[i]) : string.concat(out, ",", Strings.toHexString(list[i]));
        }
    }
}
