// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {LicenseMarket} from "../LicenseMarket.sol";

/**
 * @title ReentrantWithdrawer (test helper)
 * @notice An attacker that, credited by the market as a token owner, tries to withdraw again from inside the
 * payment it receives. With `swallow` it ignores the failed re-entry so the outer withdrawal can finish.
 */
contract ReentrantWithdrawer {
    LicenseMarket public immutable market;
    bool public immutable swallow;
    /// @notice How many times `receive` ran.
    uint256 public received;
    /// @notice Whether the re-entrant call succeeded (it must not).
    bool public reentered;

    /// @param market_ The market to attack.
    /// @param swallow_ Whether to ignore the failed re-entrant call.
    constructor(LicenseMarket market_, bool swallow_) {
        market = market_;
        swallow = swallow_;
    }

    /// @notice Starts the attack.
    function attack() external {
        market.withdraw();
    }

    receive() external payable {
        ++received;
        if (swallow) {
            try market.withdraw() {
                reentered = true;
            } catch {}
        } else {
            market.withdraw();
            reentered = true;
        }
    }
}
