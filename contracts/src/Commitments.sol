// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Commitments
 * @notice Commit–reveal for model CIDs. A trainer first publishes `keccak256(abi.encode(modelCid, trainer,
 * salt))`; the block time of that commit is the model's priority. A claim later reveals the CID and salt,
 * and must reveal a commitment older than the lineage's minimum commit age, so that someone who copies a
 * revealed CID cannot commit and claim it before the original claim lands.
 */
abstract contract Commitments {
    mapping(bytes32 commitment => uint64 committedAt) private _committedAt;

    /// @notice A commitment was published.
    event Committed(bytes32 indexed commitment, address indexed sender, uint64 committedAt);

    error AlreadyCommitted(bytes32 commitment);
    error CommitmentNotFound(bytes32 commitment);
    error CommitmentTooRecent(bytes32 commitment, uint64 committedAt, uint256 claimableAt);

    /**
     * @notice Publishes a commitment; anyone may send it (the trainer is inside the hash).
     * @param commitment `keccak256(abi.encode(string modelCid, address trainer, bytes32 salt))`.
     */
    function commit(bytes32 commitment) external {
        if (_committedAt[commitment] != 0) revert AlreadyCommitted(commitment);
        _committedAt[commitment] = uint64(block.timestamp);
        emit Committed(commitment, msg.sender, uint64(block.timestamp));
    }

    /**
     * @notice When a commitment was published.
     * @param commitment The commitment.
     * @return The block time of its commit, or 0 if it was never published.
     */
    function committedAt(bytes32 commitment) external view returns (uint64) {
        return _committedAt[commitment];
    }

    /**
     * @notice Computes a commitment the way `commit` and `claim` expect it.
     * @param modelCid The model's CID.
     * @param trainer The trainer who will sign the claim.
     * @param salt A secret random value.
     * @return The commitment.
     */
    function commitmentOf(string calldata modelCid, address trainer, bytes32 salt) external pure returns (bytes32) {
        return keccak256(abi.encode(modelCid, trainer, salt));
    }

    /// @dev Reverts unless `commitment` exists and is at least `minAge` seconds old; returns its time.
    function _checkCommitment(bytes32 commitment, uint32 minAge) internal view returns (uint64 time) {
        time = _committedAt[commitment];
        if (time == 0) revert CommitmentNotFound(commitment);
        uint256 claimableAt = uint256(time) + minAge;
        if (block.timestamp < claimableAt) revert CommitmentTooRecent(commitment, time, claimableAt);
    }
}
