// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./Fixture.sol";
import {MockFunctionsRouter} from "./MockFunctionsRouter.sol";
import {FunctionsAttestor} from "../../src/FunctionsAttestor.sol";
import {ModelRegistry} from "../../src/ModelRegistry.sol";
import {Lineages} from "../../src/Lineages.sol";
import {ImprovementTypes} from "../../src/ImprovementTypes.sol";
import {FunctionsClient} from "@chainlink/contracts/src/v0.8/functions/v1_0_0/FunctionsClient.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @dev FunctionsAttestor with a mock router: requests, every fulfilment outcome, the guards, and a claim
/// minted with the attestor counted toward the quorum.
contract FunctionsAttestorTest is Fixture {
    MockFunctionsRouter internal router;
    FunctionsAttestor internal attestor;
    uint256 internal lineage;
    address internal operator;
    string internal constant SOURCE = "return Functions.encodeUint256(1);";

    function setUp() public {
        operator = vm.addr(0x0DE);
        router = new MockFunctionsRouter();
        attestor = new FunctionsAttestor(address(router), registry, operator);
        vm.prank(operator);
        attestor.setConfig(config(1));
        vm.prank(operator);
        attestor.setSource(SOURCE);
        Lineages.LineageParams memory p = params(false, 8_000_000, 100);
        p.verifiers[1] = address(attestor);
        lineage = create(p);
    }

    function config(uint16 minSignatures) internal pure returns (FunctionsAttestor.Config memory) {
        return FunctionsAttestor.Config({
            donId: bytes32("local-functions-testnet"),
            subscriptionId: 7,
            callbackGasLimit: 300_000,
            minSignatures: minSignatures,
            scoreTolerance: 1_000,
            gatewayUrl: "http://127.0.0.1:8080/ipfs/"
        });
    }

    function cids(uint256 n) internal pure returns (string[] memory list) {
        list = new string[](n);
        for (uint256 i = 0; i < n; ++i) {
            list[i] = "bafkreiattestation";
        }
    }

    function copy(ImprovementTypes.Improvement memory c) internal pure returns (ImprovementTypes.Improvement memory) {
        return abi.decode(abi.encode(c), (ImprovementTypes.Improvement));
    }

    function request(ImprovementTypes.Improvement memory c) internal returns (bytes32 id) {
        vm.prank(operator);
        id = attestor.requestAttestation(c, cids(1));
    }

    function answer(uint256 score, bytes32 digest, uint256 signatures) internal pure returns (bytes memory) {
        return abi.encode(score, digest, signatures);
    }

    /// @dev v1's signature and the attestor's on-chain attestation, sorted by address.
    function withAttestor(ImprovementTypes.Improvement memory c)
        internal
        view
        returns (ImprovementTypes.VerifierSignature[] memory list)
    {
        list = new ImprovementTypes.VerifierSignature[](2);
        ImprovementTypes.VerifierSignature memory a = ImprovementTypes.VerifierSignature(v1, sig(V1_PK, registry.attestationDigest(c)));
        ImprovementTypes.VerifierSignature memory b = ImprovementTypes.VerifierSignature(address(attestor), "");
        (list[0], list[1]) = v1 < address(attestor) ? (a, b) : (b, a);
    }

    function assertNothingAttested(ImprovementTypes.Improvement memory c, bytes32 salt) internal {
        assertTrue(!registry.hasAttestedOnChain(address(attestor), registry.attestationDigest(c)), "attested");
        bytes memory s = trainerSig(TRAINER_PK, c);
        ImprovementTypes.VerifierSignature[] memory atts = withAttestor(c);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InvalidAttestation.selector, address(attestor)));
        registry.claim(c, salt, s, atts);
    }

    function testRequestIsSentAndRecorded() public {
        (ImprovementTypes.Improvement memory c,) = draft(lineage, 0, trainer, 7_000_000, 61);
        bytes32 id = request(c);
        assertEq(router.lastSubscriptionId(), 7, "subscription");
        assertEq(router.lastCallbackGasLimit(), 300_000, "gas");
        assertTrue(router.lastDonId() == bytes32("local-functions-testnet"), "don");
        assertEq(router.lastDataVersion(), 1, "data version");
        assertTrue(router.lastData().length > bytes(SOURCE).length, "cbor");
        FunctionsAttestor.AttestationRequest memory r = attestor.getRequest(id);
        assertTrue(r.status == FunctionsAttestor.Status.Pending, "pending");
        assertTrue(r.digest == registry.attestationDigest(c), "digest");
        assertEq(r.score, 7_000_000, "score");
        assertEq(r.lineageId, lineage, "lineage");
        assertTrue(r.requester == operator, "requester");
        assertTrue(attestor.latestRequest(r.digest) == id, "latest");
    }

    function testFulfilmentAttestsAndTheClaimMints() public {
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        bytes32 id = request(c);
        bytes32 digest = registry.attestationDigest(c);
        router.fulfil(address(attestor), id, answer(7_000_000, digest, 1), "");
        FunctionsAttestor.AttestationRequest memory r = attestor.getRequest(id);
        assertTrue(r.status == FunctionsAttestor.Status.Attested, "attested");
        assertEq(r.signatures, 1, "signatures");
        assertTrue(registry.hasAttestedOnChain(address(attestor), digest), "on chain");
        uint256 tokenId = registry.claim(c, salt, trainerSig(TRAINER_PK, c), withAttestor(c));
        assertTrue(registry.ownerOf(tokenId) == trainer, "minted");
    }

    function testOnlyTheRouterFulfils() public {
        (ImprovementTypes.Improvement memory c,) = draft(lineage, 0, trainer, 7_000_000, 61);
        bytes32 id = request(c);
        bytes memory response = answer(7_000_000, registry.attestationDigest(c), 1);
        vm.expectRevert(FunctionsClient.OnlyRouterCanFulfill.selector);
        attestor.handleOracleFulfillment(id, response, "");
    }

    function testOracleErrorIsRecordedAndAttestsNothing() public {
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        bytes32 id = request(c);
        router.fulfil(address(attestor), id, "", bytes("missing-content: bafkreix (404)"));
        FunctionsAttestor.AttestationRequest memory r = attestor.getRequest(id);
        assertTrue(r.status == FunctionsAttestor.Status.Failed, "failed");
        assertTrue(r.failure == FunctionsAttestor.Failure.OracleError, "failure");
        assertTrue(keccak256(bytes(r.detail)) == keccak256("missing-content: bafkreix (404)"), "detail");
        assertNothingAttested(c, salt);
    }

    function testLongErrorIsTruncatedInStorage() public {
        (ImprovementTypes.Improvement memory c,) = draft(lineage, 0, trainer, 7_000_000, 61);
        bytes32 id = request(c);
        bytes memory err = new bytes(250);
        for (uint256 i = 0; i < err.length; ++i) {
            err[i] = "x";
        }
        router.fulfil(address(attestor), id, "", err);
        assertEq(bytes(attestor.getRequest(id).detail).length, attestor.MAX_DETAIL_BYTES(), "truncated");
    }

    function testMismatchingAnswersAttestNothing() public {
        FunctionsAttestor.Failure[4] memory expected = [
            FunctionsAttestor.Failure.ScoreMismatch,
            FunctionsAttestor.Failure.DigestMismatch,
            FunctionsAttestor.Failure.MalformedResponse,
            FunctionsAttestor.Failure.TooFewSignatures
        ];
        for (uint256 k = 0; k < expected.length; ++k) {
            (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
            bytes32 id = request(c);
            bytes32 digest = registry.attestationDigest(c);
            bytes memory response = k == 0
                ? answer(7_100_000, digest, 1)
                : k == 1 ? answer(7_000_000, keccak256("another claim"), 1) : k == 2 ? abi.encode(uint256(7_000_000)) : answer(7_000_000, digest, 0);
            router.fulfil(address(attestor), id, response, "");
            FunctionsAttestor.AttestationRequest memory r = attestor.getRequest(id);
            assertTrue(r.status == FunctionsAttestor.Status.Failed, "failed");
            assertTrue(r.failure == expected[k], "failure code");
            if (k == 0) assertEq(r.reportedScore, 7_100_000, "reported score");
            assertNothingAttested(c, salt);
        }
    }

    function testAFulfilledRequestCannotBeFulfilledAgain() public {
        (ImprovementTypes.Improvement memory c,) = draft(lineage, 0, trainer, 7_000_000, 61);
        bytes32 id = request(c);
        bytes32 digest = registry.attestationDigest(c);
        router.fulfil(address(attestor), id, "", "error");
        vm.expectRevert(abi.encodeWithSelector(FunctionsAttestor.RequestNotPending.selector, id));
        router.fulfil(address(attestor), id, answer(7_000_000, digest, 1), "");
        vm.expectRevert(abi.encodeWithSelector(FunctionsAttestor.RequestNotPending.selector, bytes32("unknown")));
        router.fulfil(address(attestor), bytes32("unknown"), answer(7_000_000, digest, 1), "");
    }

    function testRequestGuards() public {
        (ImprovementTypes.Improvement memory c,) = draft(lineage, 0, trainer, 7_000_000, 61);
        address stranger = vm.addr(0x5757);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(FunctionsAttestor.NotRequester.selector, stranger));
        attestor.requestAttestation(c, cids(1));

        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(FunctionsAttestor.AttestationCidCount.selector, 0, 1, 4));
        attestor.requestAttestation(c, cids(0));
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(FunctionsAttestor.AttestationCidCount.selector, 5, 1, 4));
        attestor.requestAttestation(c, cids(5));

        ImprovementTypes.Improvement memory late = copy(c);
        late.deadline = block.timestamp - 1;
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(FunctionsAttestor.ClaimExpired.selector, late.deadline, block.timestamp));
        attestor.requestAttestation(late, cids(1));

        uint256 other = create(params(false, 8_000_000, 100));
        ImprovementTypes.Improvement memory elsewhere = copy(c);
        elsewhere.lineageId = other;
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(FunctionsAttestor.NotALineageVerifier.selector, other));
        attestor.requestAttestation(elsewhere, cids(1));

        bytes32 id = request(c);
        bytes32 digest = registry.attestationDigest(c);
        router.fulfil(address(attestor), id, answer(7_000_000, digest, 1), "");
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(FunctionsAttestor.AlreadyAttested.selector, digest));
        attestor.requestAttestation(c, cids(1));

        FunctionsAttestor fresh = new FunctionsAttestor(address(router), registry, operator);
        vm.prank(operator);
        vm.expectRevert(FunctionsAttestor.NotConfigured.selector);
        fresh.requestAttestation(c, cids(1));
    }

    function testRequestersAndOpenRequests() public {
        (ImprovementTypes.Improvement memory c,) = draft(lineage, 0, trainer, 7_000_000, 61);
        address stranger = vm.addr(0x5757);
        vm.prank(operator);
        attestor.setRequester(stranger, true);
        vm.prank(stranger);
        attestor.requestAttestation(c, cids(1));
        vm.prank(operator);
        attestor.setRequester(stranger, false);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(FunctionsAttestor.NotRequester.selector, stranger));
        attestor.requestAttestation(c, cids(1));
        vm.prank(operator);
        attestor.setOpenRequests(true);
        vm.prank(stranger);
        attestor.requestAttestation(c, cids(1));
        assertEq(router.requestCount(), 2, "requests");
    }

    function testOnlyTheOwnerConfigures() public {
        address stranger = vm.addr(0x5757);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        attestor.setConfig(config(1));
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        attestor.setSource("x");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        attestor.setRequester(stranger, true);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        attestor.setOpenRequests(true);

        FunctionsAttestor.Config memory bad = config(0);
        vm.prank(operator);
        vm.expectRevert(FunctionsAttestor.InvalidConfig.selector);
        attestor.setConfig(bad);
        bad = config(5);
        vm.prank(operator);
        vm.expectRevert(FunctionsAttestor.InvalidConfig.selector);
        attestor.setConfig(bad);
        vm.prank(operator);
        vm.expectRevert(FunctionsAttestor.EmptySource.selector);
        attestor.setSource("");
    }

    function testSourceIsStoredAsCode() public view {
        assertTrue(keccak256(bytes(attestor.source())) == keccak256(bytes(SOURCE)), "source");
        assertTrue(attestor.sourceHash() == keccak256(bytes(SOURCE)), "hash");
        assertEq(attestor.sourcePointer().code.length, bytes(SOURCE).length + 1, "code");
        assertTrue(attestor.router() == address(router), "router");
    }
}
