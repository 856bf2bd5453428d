// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {Lineages} from "./Lineages.sol";

/**
 * @title IModelRegistry
 * @notice What the licence market (and any other add-on) reads from the model registry.
 */
interface IModelRegistry is IERC721 {
    /// @notice What a licence sale needs to know about a token and its lineage.
    struct LicenseTerms {
        uint256 lineageId;
        uint64 score;
        uint64 genesisScore;
        bool higherIsBetter;
        address owner;
        address lineageCreator;
        Lineages.Pricing pricing;
        Lineages.Shares shares;
    }

    /**
     * @notice The terms a licence of `tokenId` is sold under.
     * @param tokenId A minted token.
     * @return The token's lineage, score, owner and the lineage's pricing and shares.
     */
    function licenseTerms(uint256 tokenId) external view returns (LicenseTerms memory);

    /**
     * @notice Pricing and direction of a lineage, for quoting a price for any score.
     * @param lineageId The lineage.
     * @return pricing The lineage's pricing.
     * @return genesisScore The genesis score prices are measured from.
     * @return higherIsBetter The metric's direction.
     */
    function lineagePricing(uint256 lineageId)
        external
        view
        returns (Lineages.Pricing memory pricing, uint64 genesisScore, bool higherIsBetter);

    /**
     * @notice Current owners of a token's ancestors, parent first.
     * @param tokenId A minted token.
     * @param maxDepth How many generations at most.
     * @return owners One address per ancestor token (the genesis model is not a token).
     */
    function ancestorOwners(uint256 tokenId, uint256 maxDepth) external view returns (address[] memory owners);
}
