// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./Fixture.sol";
import {ModelRegistry} from "../../src/ModelRegistry.sol";
import {Lineages} from "../../src/Lineages.sol";
import {Commitments} from "../../src/Commitments.sol";
import {ImprovementTypes} from "../../src/ImprovementTypes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @dev Fuzz and property tests of claims: every attack reverts with its own custom error, on random inputs.
contract ClaimsTest is Fixture {
    uint256 internal lineage;

    function setUp() public {
        lineage = create(params(false, 8_000_000, 100));
    }

    function testMintsAValidClaim() public {
        uint256 id = mint(lineage, 0, 7_000_000);
        assertTrue(registry.ownerOf(id) == trainer, "owner");
        assertEq(registry.getModel(id).score, 7_000_000, "score");
        assertEq(registry.getLineage(lineage).bestTokenId, id, "best");
    }

    function testFuzz_ForgedTrainerSignature(uint256 forgerPk) public {
        forgerPk = boundKey(forgerPk);
        vm.assume(forgerPk != TRAINER_PK);
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        bytes memory forged = trainerSig(forgerPk, c);
        ImprovementTypes.VerifierSignature[] memory atts = attestations(c);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InvalidTrainerSignature.selector, trainer));
        registry.claim(c, salt, forged, atts);
    }

    function testFuzz_TamperedScore(uint64 tampered) public {
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        vm.assume(tampered != c.score);
        bytes memory s = trainerSig(TRAINER_PK, c);
        ImprovementTypes.VerifierSignature[] memory atts = attestations(c);
        c.score = tampered;
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InvalidTrainerSignature.selector, trainer));
        registry.claim(c, salt, s, atts);
    }

    function testFuzz_ForgedVerifierSignature(uint256 forgerPk, bool first) public {
        forgerPk = boundKey(forgerPk);
        vm.assume(forgerPk != V1_PK && forgerPk != V2_PK);
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        ImprovementTypes.VerifierSignature[] memory atts = attestations(c);
        uint256 i = first ? 0 : 1;
        atts[i].signature = sig(forgerPk, registry.attestationDigest(c));
        bytes memory s = trainerSig(TRAINER_PK, c);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InvalidAttestation.selector, atts[i].verifier));
        registry.claim(c, salt, s, atts);
    }

    function testDuplicateVerifier() public {
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        ImprovementTypes.VerifierSignature[] memory atts = attestations(c);
        atts[1] = atts[0];
        bytes memory s = trainerSig(TRAINER_PK, c);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.DuplicateVerifier.selector, atts[0].verifier));
        registry.claim(c, salt, s, atts);
    }

    function testBelowQuorum() public {
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        ImprovementTypes.VerifierSignature[] memory all = attestations(c);
        ImprovementTypes.VerifierSignature[] memory one = new ImprovementTypes.VerifierSignature[](1);
        one[0] = all[0];
        bytes memory s = trainerSig(TRAINER_PK, c);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.QuorumNotMet.selector, 1, 2));
        registry.claim(c, salt, s, one);
    }

    function testReplayedNonce() public {
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        bytes memory s = trainerSig(TRAINER_PK, c);
        ImprovementTypes.VerifierSignature[] memory atts = attestations(c);
        registry.claim(c, salt, s, atts);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, trainer, 1));
        registry.claim(c, salt, s, atts);
    }

    function testSignatureForAnotherDeployment() public {
        ModelRegistry other = new ModelRegistry();
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        bytes memory s = sig(TRAINER_PK, other.improvementDigest(c));
        ImprovementTypes.VerifierSignature[] memory atts = attestations(c);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InvalidTrainerSignature.selector, trainer));
        registry.claim(c, salt, s, atts);
    }

    function testFuzz_SignatureForAnotherChain(uint64 otherChainId) public {
        vm.assume(otherChainId != block.chainid);
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        uint256 home = block.chainid;
        vm.chainId(otherChainId);
        bytes memory s = trainerSig(TRAINER_PK, c); // the same registry, seen from another chain
        ImprovementTypes.VerifierSignature[] memory atts = attestations(c);
        vm.chainId(home);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InvalidTrainerSignature.selector, trainer));
        registry.claim(c, salt, s, atts);
    }

    function testFuzz_Deadline(uint32 lateBy) public {
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        bytes memory s = trainerSig(TRAINER_PK, c);
        ImprovementTypes.VerifierSignature[] memory atts = attestations(c);
        uint256 late = c.deadline + 1 + lateBy;
        vm.warp(late);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ClaimExpired.selector, c.deadline, late));
        registry.claim(c, salt, s, atts);
    }

    function testFuzz_CommitAge(uint32 waited) public {
        waited = uint32(bound(waited, 0, 200));
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, waited);
        bytes memory s = trainerSig(TRAINER_PK, c);
        ImprovementTypes.VerifierSignature[] memory atts = attestations(c);
        if (waited < 60) {
            bytes32 commitment = keccak256(abi.encode(c.modelCid, trainer, salt));
            uint64 committed = registry.committedAt(commitment);
            vm.expectRevert(
                abi.encodeWithSelector(Commitments.CommitmentTooRecent.selector, commitment, committed, uint256(committed) + 60)
            );
        }
        registry.claim(c, salt, s, atts);
    }

    function testFuzz_ClaimWithoutCommit(bytes32 wrongSalt) public {
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        vm.assume(wrongSalt != salt);
        bytes memory s = trainerSig(TRAINER_PK, c);
        ImprovementTypes.VerifierSignature[] memory atts = attestations(c);
        bytes32 commitment = keccak256(abi.encode(c.modelCid, trainer, wrongSalt));
        vm.expectRevert(abi.encodeWithSelector(Commitments.CommitmentNotFound.selector, commitment));
        registry.claim(c, wrongSalt, s, atts);
    }

    function testCopiedCid() public {
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineage, 0, trainer, 7_000_000, 61);
        registry.claim(c, salt, trainerSig(TRAINER_PK, c), attestations(c));
        // The copier commits the same CID for itself and waits out the commit age.
        uint256 copierPk = 0xBAD;
        address copier = vm.addr(copierPk);
        bytes32 copySalt = keccak256("copy");
        registry.commit(keccak256(abi.encode(c.modelCid, copier, copySalt)));
        vm.warp(block.timestamp + 61);
        c.trainer = copier;
        c.nonce = 0;
        c.parentTokenId = 1;
        c.score = 1;
        c.deadline = block.timestamp + 1 hours;
        bytes memory s = trainerSig(copierPk, c);
        ImprovementTypes.VerifierSignature[] memory atts = attestations(c);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelCidAlreadyUsed.selector, c.modelCid));
        registry.claim(c, copySalt, s, atts);
    }

    /// @dev Property: a claim passes the ε rule iff score beats best by ε (relative, strict), both directions.
    function testFuzz_EpsilonRule(uint64 best, uint16 eps, uint64 score, bool higher, uint8 mode) public {
        (eps, score) = _steer(best, uint16(bound(eps, 0, 10_000)), score, higher, mode);
        uint256 id = create(params(higher, best, eps));
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(id, 0, trainer, score, 61);
        bytes memory s = trainerSig(TRAINER_PK, c);
        ImprovementTypes.VerifierSignature[] memory atts = attestations(c);
        if (!_beats(score, best, eps, higher)) {
            vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InsufficientImprovement.selector, score, best, uint256(eps)));
        }
        registry.claim(c, salt, s, atts);
    }

    /// @dev The rule, written independently of the contract.
    function _beats(uint256 x, uint256 b, uint256 eps, bool higher) private pure returns (bool) {
        return higher ? x > b && x * 10_000 >= b * (10_000 + eps) : x < b && x * 10_000 <= b * (10_000 - eps);
    }

    /// @dev Steers some runs to the edges: ε = 0, a score equal to the best, the exact threshold and its neighbours.
    function _steer(uint64 best, uint16 eps, uint64 score, bool higher, uint8 mode) private pure returns (uint16, uint64) {
        uint256 m = mode % 5;
        if (m == 1) return (0, best);
        if (m == 2) return (eps, best);
        if (m >= 3) {
            uint256 t = higher
                ? (uint256(best) * (10_000 + uint256(eps)) + 9_999) / 10_000
                : (uint256(best) * (10_000 - uint256(eps))) / 10_000;
            if (m == 4) t = higher ? (t > 0 ? t - 1 : 0) : t + 1;
            if (t <= type(uint64).max) score = uint64(t);
        }
        return (eps, score);
    }

    function testEqualScoreFailsEvenWithZeroEpsilon() public {
        for (uint256 h = 0; h < 2; ++h) {
            uint256 id = create(params(h == 1, 5_000_000, 0));
            (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(id, 0, trainer, 5_000_000, 61);
            bytes memory s = trainerSig(TRAINER_PK, c);
            ImprovementTypes.VerifierSignature[] memory atts = attestations(c);
            vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InsufficientImprovement.selector, c.score, c.score, 0));
            registry.claim(c, salt, s, atts);
        }
    }

    function testFuzz_UnauthorizedVerifierManagement(address caller, address verifier, uint16 quorum) public {
        vm.assume(caller != creator);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(Lineages.NotLineageCreator.selector, lineage, caller));
        registry.addVerifier(lineage, verifier);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(Lineages.NotLineageCreator.selector, lineage, caller));
        registry.removeVerifier(lineage, v1);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(Lineages.NotLineageCreator.selector, lineage, caller));
        registry.setQuorum(lineage, quorum);
    }

    function testFuzz_EpsilonDecay(uint32 elapsed) public {
        Lineages.LineageParams memory p = params(false, 8_000_000, 100);
        p.epsilon = Lineages.EpsilonRule({startBps: 100, floorBps: 10, decayBpsPerDay: 10});
        uint256 id = create(p);
        uint64 since = registry.getLineage(id).bestSince;
        uint256 expected = 100 - (uint256(elapsed) * 10 / 1 days >= 90 ? 90 : uint256(elapsed) * 10 / 1 days);
        assertEq(registry.requiredEpsilonBps(id, since + elapsed), expected, "epsilon");
        assertTrue(registry.requiredEpsilonBps(id, since + elapsed) >= 10, "floor");
    }
}
