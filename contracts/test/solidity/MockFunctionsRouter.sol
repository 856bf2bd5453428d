// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IFunctionsClient} from "@chainlink/contracts/src/v0.8/functions/v1_0_0/interfaces/IFunctionsClient.sol";

/// @dev The two router calls a FunctionsClient makes, for unit tests: `sendRequest` records the request and
/// `fulfil` delivers an answer as the DON's router would (here a revert in the callback bubbles up).
contract MockFunctionsRouter {
    bytes public lastData;
    uint64 public lastSubscriptionId;
    uint16 public lastDataVersion;
    uint32 public lastCallbackGasLimit;
    bytes32 public lastDonId;
    uint256 public requestCount;

    function sendRequest(
        uint64 subscriptionId,
        bytes calldata data,
        uint16 dataVersion,
        uint32 callbackGasLimit,
        bytes32 donId
    ) external returns (bytes32 requestId) {
        lastData = data;
        lastSubscriptionId = subscriptionId;
        lastDataVersion = dataVersion;
        lastCallbackGasLimit = callbackGasLimit;
        lastDonId = donId;
        requestId = keccak256(abi.encode(msg.sender, ++requestCount));
    }

    function fulfil(address client, bytes32 requestId, bytes calldata response, bytes calldata err) external {
        IFunctionsClient(client).handleOracleFulfillment(requestId, response, err);
    }
}
