// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IModelRegistry} from "./IModelRegistry.sol";
import {Lineages} from "./Lineages.sol";

/**
 * @title LicenseMarket
 * @notice Licences of proven model versions, priced by their attested score.
 *
 * Suggested price (monotonic in the score's quality):
 *
 *     gain      = higherIsBetter ? max(score − genesisScore, 0) : max(genesisScore − score, 0)
 *     suggested = basePrice + pricePerPoint × gain
 *
 * The token owner may set a manual price in [suggested × minPriceBps, suggested × maxPriceBps] / 10 000.
 * `buyLicense` takes exactly the current price and splits it per the lineage's shares: the owner's share
 * to the token's owner, the ancestors' share equally to the owners of its nearest `MAX_ANCESTORS_PAID`
 * ancestors (to the lineage creator when there is none; rounding dust to the owner), and the creator's
 * share to the lineage creator. Nothing is sent during a purchase: every share is credited and paid out by
 * `withdraw` (pull payments, reentrancy-guarded, checks-effects-interactions).
 * @dev Licence counts and revenue per token, per lineage and per contributor are kept in state, and every
 * credit is an event, so a leaderboard can be read from either.
 */
contract LicenseMarket is ReentrancyGuard {
    /// @notice Ancestors beyond this depth share nothing of a sale.
    uint256 public constant MAX_ANCESTORS_PAID = 8;
    uint256 private constant BPS = 10_000;

    /// @notice Why an account was credited.
    uint8 public constant ROLE_OWNER = 0;
    uint8 public constant ROLE_ANCESTOR = 1;
    uint8 public constant ROLE_CREATOR = 2;

    /// @notice The model registry whose tokens are licensed.
    IModelRegistry public immutable registry;

    mapping(uint256 tokenId => uint256) private _manualPrice;
    mapping(uint256 tokenId => mapping(address licensee => bool)) private _hasLicense;
    mapping(address licensee => uint256) private _licensesHeld;
    mapping(uint256 tokenId => uint256) private _licenseCount;
    mapping(uint256 tokenId => uint256) private _tokenRevenue;
    mapping(uint256 lineageId => uint256) private _lineageLicenseCount;
    mapping(uint256 lineageId => uint256) private _lineageRevenue;
    mapping(address account => uint256) private _totalEarned;
    mapping(uint256 lineageId => mapping(address account => uint256)) private _earnedInLineage;
    mapping(address account => uint256) private _pending;
    uint256 private _totalLicenses;

    /// @notice A token owner set (price > 0) or cleared (price = 0) a manual price.
    event PriceSet(uint256 indexed tokenId, address indexed owner, uint256 price);
    /// @notice `licensee` bought a licence of `tokenId` for `price` wei.
    event LicenseBought(uint256 indexed tokenId, address indexed licensee, uint256 indexed lineageId, uint256 price);
    /// @notice `account` was credited `amount` wei from a sale of `tokenId` (role: 0 owner, 1 ancestor, 2 creator).
    event RevenueCredited(
        address indexed account, uint256 indexed tokenId, uint256 indexed lineageId, uint8 role, uint256 amount
    );
    /// @notice `account` withdrew `amount` wei.
    event Withdrawn(address indexed account, uint256 amount);

    error NotTokenOwner(uint256 tokenId, address caller);
    error PriceOutOfBounds(uint256 price, uint256 minPrice, uint256 maxPrice);
    error WrongPayment(uint256 sent, uint256 price);
    error AlreadyLicensed(uint256 tokenId, address licensee);
    error NothingToWithdraw(address account);

    /**
     * @param registry_ The model registry.
     */
    constructor(IModelRegistry registry_) {
        registry = registry_;
    }

    /**
     * @notice The suggested licence price for a score in a lineage (see the contract's formula).
     * @param lineageId The lineage.
     * @param score An integer score of the lineage's metric.
     * @return The price in wei.
     */
    function quotePrice(uint256 lineageId, uint64 score) public view returns (uint256) {
        (Lineages.Pricing memory pricing, uint64 genesisScore, bool higherIsBetter) = registry.lineagePricing(lineageId);
        return _suggested(pricing, genesisScore, higherIsBetter, score);
    }

    /**
     * @notice The suggested licence price of a token: `basePrice + pricePerPoint × gain` (see the contract).
     * @param tokenId The token.
     * @return The price in wei.
     */
    function suggestedPrice(uint256 tokenId) public view returns (uint256) {
        IModelRegistry.LicenseTerms memory t = registry.licenseTerms(tokenId);
        return _suggested(t.pricing, t.genesisScore, t.higherIsBetter, t.score);
    }

    /**
     * @notice The range a manual price must lie in.
     * @param tokenId The token.
     * @return minPrice suggested × minPriceBps / 10 000.
     * @return maxPrice suggested × maxPriceBps / 10 000.
     */
    function priceBounds(uint256 tokenId) public view returns (uint256 minPrice, uint256 maxPrice) {
        IModelRegistry.LicenseTerms memory t = registry.licenseTerms(tokenId);
        return _bounds(t);
    }

    /**
     * @notice The price `buyLicense` takes now: the manual price if one is set, else the suggested price.
     * @param tokenId The token.
     * @return The price in wei.
     */
    function priceOf(uint256 tokenId) public view returns (uint256) {
        uint256 manual = _manualPrice[tokenId];
        return manual != 0 ? manual : suggestedPrice(tokenId);
    }

    /**
     * @notice The manual price of a token, 0 when none is set.
     * @param tokenId The token.
     * @return The price in wei.
     */
    function manualPriceOf(uint256 tokenId) external view returns (uint256) {
        return _manualPrice[tokenId];
    }

    /**
     * @notice Sets a manual licence price, within the lineage's bounds around the suggested price; 0 returns
     * to the suggested price. Only the token's owner.
     * @param tokenId The token.
     * @param price The price in wei, or 0.
     */
    function setPrice(uint256 tokenId, uint256 price) external {
        IModelRegistry.LicenseTerms memory t = registry.licenseTerms(tokenId);
        if (msg.sender != t.owner) revert NotTokenOwner(tokenId, msg.sender);
        if (price != 0) {
            (uint256 minPrice, uint256 maxPrice) = _bounds(t);
            if (price < minPrice || price > maxPrice) revert PriceOutOfBounds(price, minPrice, maxPrice);
        }
        _manualPrice[tokenId] = price;
        emit PriceSet(tokenId, msg.sender, price);
    }

    /**
     * @notice Buys a licence of `tokenId` for the caller, paying exactly `priceOf(tokenId)`; the payment is
     * credited to the owner, the ancestors' owners and the lineage creator (see the contract).
     * @param tokenId The token.
     */
    function buyLicense(uint256 tokenId) external payable nonReentrant {
        IModelRegistry.LicenseTerms memory t = registry.licenseTerms(tokenId);
        uint256 manual = _manualPrice[tokenId];
        uint256 price = manual != 0 ? manual : _suggested(t.pricing, t.genesisScore, t.higherIsBetter, t.score);
        if (msg.value != price) revert WrongPayment(msg.value, price);
        if (_hasLicense[tokenId][msg.sender]) revert AlreadyLicensed(tokenId, msg.sender);

        _hasLicense[tokenId][msg.sender] = true;
        ++_licensesHeld[msg.sender];
        ++_licenseCount[tokenId];
        ++_lineageLicenseCount[t.lineageId];
        ++_totalLicenses;
        _tokenRevenue[tokenId] += price;
        _lineageRevenue[t.lineageId] += price;
        emit LicenseBought(tokenId, msg.sender, t.lineageId, price);

        uint256 creatorAmount = (price * t.shares.creatorBps) / BPS;
        uint256 ancestorsPool = (price * t.shares.ancestorsBps) / BPS;
        uint256 ancestorsPaid = 0;
        address[] memory ancestors = registry.ancestorOwners(tokenId, MAX_ANCESTORS_PAID);
        if (ancestors.length == 0) {
            creatorAmount += ancestorsPool;
        } else {
            uint256 each = ancestorsPool / ancestors.length;
            for (uint256 i = 0; i < ancestors.length; ++i) {
                _credit(ancestors[i], tokenId, t.lineageId, ROLE_ANCESTOR, each);
            }
            ancestorsPaid = each * ancestors.length;
        }
        _credit(t.lineageCreator, tokenId, t.lineageId, ROLE_CREATOR, creatorAmount);
        _credit(t.owner, tokenId, t.lineageId, ROLE_OWNER, price - creatorAmount - ancestorsPaid);
    }

    /**
     * @notice Sends the caller everything credited to it.
     */
    function withdraw() external nonReentrant {
        uint256 amount = _pending[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _pending[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    /**
     * @notice Wei credited to `account` and not yet withdrawn.
     * @param account The account.
     * @return The amount.
     */
    function pendingWithdrawal(address account) external view returns (uint256) {
        return _pending[account];
    }

    /**
     * @notice Whether `licensee` holds a licence of `tokenId`.
     * @param tokenId The token.
     * @param licensee The account.
     * @return True after a purchase.
     */
    function hasLicense(uint256 tokenId, address licensee) external view returns (bool) {
        return _hasLicense[tokenId][licensee];
    }

    /**
     * @notice How many licences an account holds (over all tokens).
     * @param licensee The account.
     * @return The count.
     */
    function licensesHeld(address licensee) external view returns (uint256) {
        return _licensesHeld[licensee];
    }

    /**
     * @notice Sales statistics of a token.
     * @param tokenId The token.
     * @return licenses Licences sold.
     * @return revenue Wei paid for them.
     */
    function tokenStats(uint256 tokenId) external view returns (uint256 licenses, uint256 revenue) {
        return (_licenseCount[tokenId], _tokenRevenue[tokenId]);
    }

    /**
     * @notice Sales statistics of a lineage.
     * @param lineageId The lineage.
     * @return licenses Licences sold over all its tokens.
     * @return revenue Wei paid for them.
     */
    function lineageStats(uint256 lineageId) external view returns (uint256 licenses, uint256 revenue) {
        return (_lineageLicenseCount[lineageId], _lineageRevenue[lineageId]);
    }

    /**
     * @notice Wei ever credited to `account` (withdrawn or not), overall and within one lineage.
     * @param account The contributor.
     * @param lineageId The lineage for the second value.
     * @return total Over all lineages.
     * @return inLineage Within `lineageId`.
     */
    function earnings(address account, uint256 lineageId) external view returns (uint256 total, uint256 inLineage) {
        return (_totalEarned[account], _earnedInLineage[lineageId][account]);
    }

    /**
     * @notice Licences sold over all tokens.
     * @return The count.
     */
    function totalLicenses() external view returns (uint256) {
        return _totalLicenses;
    }

    function _credit(address account, uint256 tokenId, uint256 lineageId, uint8 role, uint256 amount) private {
        if (amount == 0) return;
        _pending[account] += amount;
        _totalEarned[account] += amount;
        _earnedInLineage[lineageId][account] += amount;
        emit RevenueCredited(account, tokenId, lineageId, role, amount);
    }

    function _suggested(Lineages.Pricing memory pricing, uint64 genesisScore, bool higherIsBetter, uint64 score)
        private
        pure
        returns (uint256)
    {
        uint256 gain;
        if (higherIsBetter) gain = score > genesisScore ? score - genesisScore : 0;
        else gain = genesisScore > score ? genesisScore - score : 0;
        return uint256(pricing.basePrice) + uint256(pricing.pricePerPoint) * gain;
    }

    function _bounds(IModelRegistry.LicenseTerms memory t) private pure returns (uint256 minPrice, uint256 maxPrice) {
        uint256 suggested = _suggested(t.pricing, t.genesisScore, t.higherIsBetter, t.score);
        return ((suggested * t.pricing.minPriceBps) / BPS, (suggested * t.pricing.maxPriceBps) / BPS);
    }
}
