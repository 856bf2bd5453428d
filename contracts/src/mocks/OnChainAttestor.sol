// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ModelRegistry} from "../ModelRegistry.sol";
import {ImprovementTypes} from "../ImprovementTypes.sol";

/**
 * @title OnChainAttestor (test helper)
 * @notice A contract verifier that attests in a transaction (the path an oracle consumer takes): once its
 * operator decides a claim holds, it calls `ModelRegistry.attest` with the claim's attestation digest.
 */
contract OnChainAttestor {
    /// @notice The registry this attestor attests to.
    ModelRegistry public immutable registry;
    /// @notice Who may make it attest.
    address public immutable operator;

    error NotOperator(address caller);

    /// @param registry_ The registry.
    /// @param operator_ Who may call `attestClaim`.
    constructor(ModelRegistry registry_, address operator_) {
        registry = registry_;
        operator = operator_;
    }

    /**
     * @notice Attests `c` on chain.
     * @param c The claim.
     */
    function attestClaim(ImprovementTypes.Improvement calldata c) external {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        registry.attest(registry.attestationDigest(c));
    }
}
