// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./Fixture.sol";
import {Lineages} from "../../src/Lineages.sol";
import {VerificationRequests} from "../../src/VerificationRequests.sol";
import {ImprovementTypes} from "../../src/ImprovementTypes.sol";

/// @dev Announcing claims on chain: open to anyone, obliges nobody, and never needed to mint.
contract VerificationRequestsTest is Fixture {
    uint256 internal lineage;

    event VerificationRequested(
        uint256 indexed lineageId, bytes32 indexed attestationDigest, address indexed requester, string claimCid
    );
    event VerificationDeclined(
        uint256 indexed lineageId, bytes32 indexed attestationDigest, address indexed verifier, string reason
    );

    function setUp() public {
        lineage = create(params(false, 8_000_000, 100));
    }

    function testFuzz_AnyoneMayAnnounce(address requester, bytes32 digest) public {
        vm.expectEmit(true, true, true, true, address(registry));
        emit VerificationRequested(lineage, digest, requester, "bafyclaim");
        vm.prank(requester);
        registry.requestVerification(lineage, digest, "bafyclaim");
    }

    function testAnnouncingAnUnknownLineageReverts() public {
        vm.expectRevert(abi.encodeWithSelector(Lineages.UnknownLineage.selector, 99));
        registry.requestVerification(99, bytes32(0), "bafyclaim");
    }

    function testFuzz_ClaimCidLength(uint16 n) public {
        uint256 len = bound(n, 0, 300);
        bytes memory cid = new bytes(len);
        for (uint256 i = 0; i < len; ++i) cid[i] = "a";
        if (len == 0 || len > registry.MAX_CLAIM_CID_LENGTH()) {
            vm.expectRevert(abi.encodeWithSelector(VerificationRequests.InvalidClaimCid.selector, len));
        }
        registry.requestVerification(lineage, bytes32(0), string(cid));
    }

    /// @dev Spam: a thousand announcements change no state a claim depends on, and a claim mints as before.
    function testSpamObligesNobody() public {
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        bytes32 digest = registry.attestationDigest(c);
        for (uint256 i = 0; i < 1000; ++i) {
            vm.prank(address(uint160(0x5000 + i)));
            registry.requestVerification(lineage, digest, "bafyspam");
        }
        assertEq(registry.getLineage(lineage).modelCount, 0, "no model");
        assertTrue(!registry.hasAttestedOnChain(v1, digest), "no attestation");
        uint256 id = registry.claim(c, salt, trainerSig(TRAINER_PK, c), attestations(c));
        assertEq(id, 1, "minted");
    }

    /// @dev A claim that was never announced is attested on chain and minted as before.
    function testUnannouncedClaimIsAttestedOnChainAndMinted() public {
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        bytes32 digest = registry.attestationDigest(c);
        ImprovementTypes.VerifierSignature[] memory atts = attestations(c);
        for (uint256 i = 0; i < atts.length; ++i) {
            vm.prank(atts[i].verifier);
            registry.attest(digest);
            atts[i].signature = "";
        }
        uint256 id = registry.claim(c, salt, trainerSig(TRAINER_PK, c), atts);
        assertTrue(registry.ownerOf(id) == trainer, "owner");
    }

    function testVerifierDeclines() public {
        vm.expectEmit(true, true, true, true, address(registry));
        emit VerificationDeclined(lineage, bytes32(uint256(7)), v1, "score-mismatch");
        vm.prank(v1);
        registry.declineVerification(lineage, bytes32(uint256(7)), "score-mismatch");
    }

    function testFuzz_OnlyVerifiersDecline(address caller) public {
        vm.assume(caller != v1 && caller != v2);
        vm.expectRevert(abi.encodeWithSelector(VerificationRequests.NotLineageVerifier.selector, lineage, caller));
        vm.prank(caller);
        registry.declineVerification(lineage, bytes32(0), "no");
    }

    function testDeclineNeedsAReason() public {
        vm.expectRevert(abi.encodeWithSelector(VerificationRequests.InvalidReason.selector, 0));
        vm.prank(v1);
        registry.declineVerification(lineage, bytes32(0), "");
    }

    /// @dev A refusal blocks nothing: the other verifiers' attestations still mint the claim.
    function testDeclineDoesNotBlockAClaim() public {
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        bytes32 digest = registry.attestationDigest(c);
        vm.prank(v1);
        registry.declineVerification(lineage, digest, "busy");
        uint256 id = registry.claim(c, salt, trainerSig(TRAINER_PK, c), attestations(c));
        assertEq(id, 1, "minted");
    }
}
