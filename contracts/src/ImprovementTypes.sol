// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title ImprovementTypes
 * @notice The EIP-712 messages of proof of model improvement, and how they hash.
 * @dev The same definitions live once in TypeScript (`src/shared/chain/eip712.ts`); a test checks that the
 * type strings below and the TypeScript ones produce the same digests.
 *
 * - `Improvement` is signed by the trainer: "my model `modelCid` scores `score` on the lineage's evaluation and
 *   improves on `parentTokenId`".
 * - `Attestation` is signed by a verifier: it wraps the whole `Improvement`, so a wallet shows the verifier
 *   every field, score included, that it vouches for. An attestation cannot be replayed for another claim: the
 *   claim carries the trainer's nonce and deadline.
 */
library ImprovementTypes {
    /// @notice A trainer's claim that a model improves on its parent.
    struct Improvement {
        uint256 lineageId;
        /// @dev The lineage's current best token, or 0 for the lineage's genesis model.
        uint256 parentTokenId;
        /// @dev Signs the claim (EOA or ERC-1271 contract) and receives the token.
        address trainer;
        string modelCid;
        /// @dev CID of the ERC-721 metadata JSON; tokenURI is `ipfs://<metadataCid>`.
        string metadataCid;
        /// @dev CID of the evaluation report the verifiers reproduced.
        string evaluationCid;
        /// @dev Integer score of the lineage's metric (the mapping from metric to integer is off-chain).
        uint64 score;
        /// @dev The trainer's next nonce (`ModelRegistry.nonces(trainer)`).
        uint256 nonce;
        /// @dev Unix time after which the claim can no longer be submitted.
        uint256 deadline;
    }

    /// @notice One verifier's attestation: an EIP-712 signature (ECDSA or ERC-1271) or, when `signature` is
    /// empty, an attestation the verifier made on chain beforehand with `ModelRegistry.attest`.
    struct VerifierSignature {
        address verifier;
        bytes signature;
    }

    string internal constant IMPROVEMENT_TYPE =
        "Improvement(uint256 lineageId,uint256 parentTokenId,address trainer,string modelCid,string metadataCid,string evaluationCid,uint64 score,uint256 nonce,uint256 deadline)";

    bytes32 internal constant IMPROVEMENT_TYPEHASH = keccak256(bytes(IMPROVEMENT_TYPE));

    bytes32 internal constant ATTESTATION_TYPEHASH =
        keccak256(abi.encodePacked("Attestation(Improvement claim)", IMPROVEMENT_TYPE));

    /// @dev EIP-712 `hashStruct(Improvement)`.
    function hashImprovement(Improvement calldata c) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                IMPROVEMENT_TYPEHASH,
                c.lineageId,
                c.parentTokenId,
                c.trainer,
                keccak256(bytes(c.modelCid)),
                keccak256(bytes(c.metadataCid)),
                keccak256(bytes(c.evaluationCid)),
                c.score,
                c.nonce,
                c.deadline
            )
        );
    }

    /// @dev EIP-712 `hashStruct(Attestation)` given `hashStruct(Improvement)`.
    function hashAttestation(bytes32 improvementStructHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(ATTESTATION_TYPEHASH, improvementStructHash));
    }

    /// @dev The commitment a trainer publishes before revealing `modelCid`.
    function commitment(string calldata modelCid, address trainer, bytes32 salt) internal pure returns (bytes32) {
        return keccak256(abi.encode(modelCid, trainer, salt));
    }
}
