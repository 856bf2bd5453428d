import { z } from 'zod';

/**
 * Where the contracts live on one chain. Kept per chain id: `<dataDir>/chain/deployments/<chainId>.json`
 * for the user's own deployments (the embedded chain's included), and `contracts/deployments/<chainId>.json`
 * in the repository for public networks the project deployed to.
 */
export const addressSchema = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x-prefixed 20-byte address');
export const uintStringSchema = z.string().regex(/^(0|[1-9][0-9]*)$/, 'an unsigned integer in decimal');

export const deploymentSchema = z.object({
  chainId: z.number().int().positive(),
  registry: addressSchema,
  market: addressSchema,
  /** Block of the registry's deployment: event scans start here. */
  deployBlock: uintStringSchema,
  deployer: addressSchema,
  deployedAt: z.string(),
  solcVersion: z.string(),
  /** keccak256 of the deployed creation code, to tell whether the running contracts match this build. */
  registryCodeHash: z.string(),
  marketCodeHash: z.string(),
});
export type Deployment = z.infer<typeof deploymentSchema>;

/** The chain id anvil uses (viem's `foundry` chain); the embedded chain always runs with it. */
export const EMBEDDED_CHAIN_ID = 31337;
