// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CheatCodes} from "./Vm.sol";
import {ModelRegistry} from "../../src/ModelRegistry.sol";
import {LicenseMarket} from "../../src/LicenseMarket.sol";
import {Lineages} from "../../src/Lineages.sol";
import {ImprovementTypes} from "../../src/ImprovementTypes.sol";

/// @dev Deploys the registry and the market, and builds, signs and submits claims with cheatcode keys.
abstract contract Fixture is CheatCodes {
    ModelRegistry internal registry;
    LicenseMarket internal market;

    uint256 internal constant CREATOR_PK = 0xC0FFEE;
    uint256 internal constant TRAINER_PK = 0xA11CE;
    uint256 internal constant V1_PK = 0xB0B;
    uint256 internal constant V2_PK = 0xCAFE;
    address internal creator;
    address internal trainer;
    address internal v1;
    address internal v2;
    uint256 private _cidCounter;

    constructor() {
        registry = new ModelRegistry();
        market = new LicenseMarket(registry);
        creator = vm.addr(CREATOR_PK);
        trainer = vm.addr(TRAINER_PK);
        v1 = vm.addr(V1_PK);
        v2 = vm.addr(V2_PK);
        vm.warp(1_700_000_000);
    }

    function params(bool higherIsBetter, uint64 genesisScore, uint16 epsBps) internal view returns (Lineages.LineageParams memory p) {
        address[] memory verifiers = new address[](2);
        verifiers[0] = v1;
        verifiers[1] = v2;
        p.name = "fuzz";
        p.evalDatasetCid = "bafyeval";
        p.metricName = higherIsBetter ? "top1_accuracy" : "bits_per_byte";
        p.higherIsBetter = higherIsBetter;
        p.genesisScore = genesisScore;
        p.epsilon = Lineages.EpsilonRule({startBps: epsBps, floorBps: epsBps, decayBpsPerDay: 0});
        p.minCommitAge = 60;
        p.verifiers = verifiers;
        p.quorum = 2;
        p.pricing = Lineages.Pricing({basePrice: 1 ether, pricePerPoint: 1 gwei, minPriceBps: 5_000, maxPriceBps: 20_000, royaltyBps: 500});
        p.shares = Lineages.Shares({ownerBps: 7_000, ancestorsBps: 2_000, creatorBps: 1_000});
    }

    function create(Lineages.LineageParams memory p) internal returns (uint256 id) {
        vm.prank(creator);
        id = registry.createLineage(p);
    }

    function nextCid() internal returns (string memory) {
        return string.concat("bafymodel", _toString(++_cidCounter));
    }

    /// @dev Commits a fresh CID for `who`, waits `wait` seconds, returns an unsigned claim.
    function draft(uint256 lineageId, uint256 parent, address who, uint64 score, uint256 wait)
        internal
        returns (ImprovementTypes.Improvement memory c, bytes32 salt)
    {
        string memory cid = nextCid();
        salt = keccak256(abi.encode(cid, "salt"));
        registry.commit(keccak256(abi.encode(cid, who, salt)));
        vm.warp(block.timestamp + wait);
        c = ImprovementTypes.Improvement({
            lineageId: lineageId,
            parentTokenId: parent,
            trainer: who,
            modelCid: cid,
            metadataCid: string.concat("meta-", cid),
            evaluationCid: string.concat("eval-", cid),
            score: score,
            nonce: registry.nonces(who),
            deadline: block.timestamp + 1 hours
        });
    }

    function sig(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    function trainerSig(uint256 pk, ImprovementTypes.Improvement memory c) internal view returns (bytes memory) {
        return sig(pk, registry.improvementDigest(c));
    }

    /// @dev Attestations by v1 and v2, sorted by address.
    function attestations(ImprovementTypes.Improvement memory c)
        internal
        view
        returns (ImprovementTypes.VerifierSignature[] memory list)
    {
        bytes32 digest = registry.attestationDigest(c);
        list = new ImprovementTypes.VerifierSignature[](2);
        (uint256 pkA, uint256 pkB) = v1 < v2 ? (V1_PK, V2_PK) : (V2_PK, V1_PK);
        list[0] = ImprovementTypes.VerifierSignature(vm.addr(pkA), sig(pkA, digest));
        list[1] = ImprovementTypes.VerifierSignature(vm.addr(pkB), sig(pkB, digest));
    }

    /// @dev A fully valid claim by `trainer`, minted; returns the token id.
    function mint(uint256 lineageId, uint256 parent, uint64 score) internal returns (uint256) {
        (ImprovementTypes.Improvement memory c, bytes32 salt) = draft(lineageId, parent, trainer, score, 61);
        return registry.claim(c, salt, trainerSig(TRAINER_PK, c), attestations(c));
    }

    function _toString(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        bytes memory b;
        while (v != 0) {
            b = abi.encodePacked(bytes1(uint8(48 + (v % 10))), b);
            v /= 10;
        }
        return string(b);
    }
}
