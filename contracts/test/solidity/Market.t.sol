// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./Fixture.sol";
import {LicenseMarket} from "../../src/LicenseMarket.sol";
import {Lineages} from "../../src/Lineages.sol";

/// @dev Fuzz and property tests of the licence market.
contract MarketTest is Fixture {
    function _lineageWith(bool higher, uint64 genesis, uint128 base, uint128 perPoint, Lineages.Shares memory shares)
        internal
        returns (uint256)
    {
        Lineages.LineageParams memory p = params(higher, genesis, 0);
        p.pricing.basePrice = base;
        p.pricing.pricePerPoint = perPoint;
        p.shares = shares;
        return create(p);
    }

    /// @dev Property: a better score never gets a lower suggested price.
    function testFuzz_SuggestedPriceMonotonic(uint64 a, uint64 b, uint64 genesis, bool higher, uint128 base, uint64 perPoint)
        public
    {
        uint256 id = _lineageWith(higher, genesis, base, perPoint, Lineages.Shares(7_000, 2_000, 1_000));
        (uint64 worse, uint64 better) = higher ? (a < b ? (a, b) : (b, a)) : (a > b ? (a, b) : (b, a));
        assertTrue(market.quotePrice(id, better) >= market.quotePrice(id, worse), "monotonic");
        assertTrue(market.quotePrice(id, better) >= base, "at least base");
    }

    function testFuzz_ManualPriceBounds(uint256 price) public {
        uint256 id = _lineageWith(false, 8_000_000, 1 ether, 1 gwei, Lineages.Shares(7_000, 2_000, 1_000));
        uint256 tokenId = mint(id, 0, 7_000_000);
        (uint256 min, uint256 max) = market.priceBounds(tokenId);
        vm.prank(trainer);
        if (price != 0 && (price < min || price > max)) {
            vm.expectRevert(abi.encodeWithSelector(LicenseMarket.PriceOutOfBounds.selector, price, min, max));
        }
        market.setPrice(tokenId, price);
    }

    function testFuzz_SetPriceOnlyOwner(address caller) public {
        uint256 id = _lineageWith(false, 8_000_000, 1 ether, 1 gwei, Lineages.Shares(7_000, 2_000, 1_000));
        uint256 tokenId = mint(id, 0, 7_000_000);
        vm.assume(caller != trainer);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(LicenseMarket.NotTokenOwner.selector, tokenId, caller));
        market.setPrice(tokenId, 1 ether);
    }

    function testFuzz_WrongPayment(uint96 value) public {
        uint256 id = _lineageWith(false, 8_000_000, 1 ether, 1 gwei, Lineages.Shares(7_000, 2_000, 1_000));
        uint256 tokenId = mint(id, 0, 7_000_000);
        uint256 price = market.priceOf(tokenId);
        vm.assume(value != price);
        address buyer = address(0xB1);
        vm.deal(buyer, value);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(LicenseMarket.WrongPayment.selector, uint256(value), price));
        market.buyLicense{value: value}(tokenId);
    }

    /// @dev Property: every wei paid is credited to someone (owner, ancestors, creator), whatever the shares and depth.
    function testFuzz_RevenueConserved(uint16 ownerBps, uint16 ancestorsBps, uint8 depth, uint64 base) public {
        ownerBps = uint16(bound(ownerBps, 0, 10_000));
        ancestorsBps = uint16(bound(ancestorsBps, 0, 10_000 - ownerBps));
        depth = uint8(bound(depth, 1, 11));
        uint256 id = _lineageWith(false, 8_000_000, base, 3, Lineages.Shares(ownerBps, ancestorsBps, 10_000 - ownerBps - ancestorsBps));
        uint256 tokenId;
        uint64 score = 8_000_000;
        for (uint256 i = 0; i < depth; ++i) {
            score -= 100_000;
            tokenId = mint(id, tokenId, score);
        }
        uint256 price = market.priceOf(tokenId);
        address buyer = address(0xB1);
        vm.deal(buyer, price);
        vm.prank(buyer);
        market.buyLicense{value: price}(tokenId);
        uint256 credited = market.pendingWithdrawal(trainer) + market.pendingWithdrawal(creator);
        assertEq(credited, price, "conserved");
        assertEq(address(market).balance, price, "held");
        (uint256 licenses, uint256 revenue) = market.tokenStats(tokenId);
        assertEq(licenses, 1, "count");
        assertEq(revenue, price, "revenue");
    }
}
