// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/**
 * @title ERC1271Verifier (test helper)
 * @notice A contract verifier, like a one-owner multisig: a signature is valid when its owner's key made it.
 */
contract ERC1271Verifier is IERC1271 {
    /// @notice The key whose signatures this contract accepts.
    address public immutable owner;

    /// @param owner_ The signing key.
    constructor(address owner_) {
        owner = owner_;
    }

    /**
     * @notice ERC-1271: valid when `owner` signed `hash`.
     * @param hash The signed digest.
     * @param signature The owner's ECDSA signature.
     * @return magicValue `IERC1271.isValidSignature.selector` if valid, 0xffffffff otherwise.
     */
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4 magicValue) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == owner ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}
