import { z } from 'zod';
import { event, request } from './contract.ts';
import { addressSchema, deploymentSchema, uintStringSchema } from '../chain/deployment.ts';

/**
 * The chain domain: the embedded chain (anvil) or a configured RPC network, the contracts' lineages, the
 * marketplace of minted model versions, licences, earnings and the leaderboard.
 *
 * Reads work everywhere. Writes here are for the CLI and the headless host: they sign with an anvil dev
 * account (embedded chain only) or a key read from an environment variable in the main process (never
 * sent over the API, never written to disk). In the desktop app, writes go through the user's wallet in
 * the renderer (wagmi): `chain.contracts` gives it the chain id, RPC URL, addresses and EIP-712 domain, and
 * the ABIs come from src/shared/chain/abis.ts.
 *
 * Wei amounts and scores are decimal strings (they exceed JavaScript's safe integers).
 */
const weiSchema = uintStringSchema;
const envVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

/** A JSON-RPC reply as the endpoint gave it: errors are data here (viem decodes reverts from them). */
export const rpcReplySchema = z.union([
  z.object({ error: z.object({ code: z.number(), message: z.string(), data: z.unknown().optional() }) }),
  z.object({ result: z.unknown() }),
]);
export type RpcReply = z.infer<typeof rpcReplySchema>;

/** Who signs a write. */
export const signerSchema = z.union([
  /** One of anvil's unlocked dev accounts (0-9); embedded chain only. */
  z.strictObject({ devAccount: z.number().int().min(0).max(9) }),
  /** A 0x-prefixed private key in this environment variable of the main process. */
  z.strictObject({ keyEnv: envVarName }),
]);
export type Signer = z.infer<typeof signerSchema>;
const signerParam = signerSchema.default({ devAccount: 0 });

export const networkSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('embedded') }),
  z.strictObject({ kind: z.literal('rpc'), rpcUrl: z.url({ protocol: /^https?$/ }) }),
]);
export type Network = z.infer<typeof networkSchema>;

export const chainStatusSchema = z.object({
  network: networkSchema,
  /** The RPC endpoint answers. */
  running: z.boolean(),
  chainId: z.number().int().nullable(),
  rpcUrl: z.string().nullable(),
  blockNumber: uintStringSchema.nullable(),
  embedded: z
    .object({
      stateFile: z.string(),
      logFile: z.string(),
      pid: z.number().int().nullable(),
      port: z.number().int().nullable(),
      /** Started by this process (stopped when it exits) rather than found running. */
      ownedByThisProcess: z.boolean(),
    })
    .nullable(),
  deployment: deploymentSchema.nullable(),
  /** Whether the deployed code is this build's (null when nothing is deployed or the chain is down). */
  contractsUpToDate: z.boolean().nullable(),
});
export type ChainStatus = z.infer<typeof chainStatusSchema>;

export const contractsInfoSchema = z.object({
  chainId: z.number().int(),
  rpcUrl: z.string(),
  registry: addressSchema,
  market: addressSchema,
  deployBlock: uintStringSchema,
  /** The EIP-712 domain claims and attestations are signed under (see src/shared/chain/eip712.ts). */
  domain: z.object({
    name: z.string(),
    version: z.string(),
    chainId: z.number().int(),
    verifyingContract: addressSchema,
  }),
  /** anvil's unlocked dev accounts on the embedded chain; empty elsewhere. */
  devAccounts: z.array(addressSchema),
});
export type ContractsInfo = z.infer<typeof contractsInfoSchema>;

const bps = z.number().int().min(0).max(10_000);

export const lineageParamsSchema = z.strictObject({
  name: z.string().min(1).max(200),
  evalDatasetCid: z.string().max(200),
  metricName: z.string().min(1).max(100).default('bits_per_byte'),
  /** false for bits per byte (lower is better), true for accuracy. */
  higherIsBetter: z.boolean().default(false),
  genesisModelCid: z.string().max(200).default(''),
  /** The baseline score the first version must beat (integer, see docs/contracts.md "Scores"). */
  genesisScore: uintStringSchema,
  epsilon: z
    .strictObject({ startBps: bps, floorBps: bps, decayBpsPerDay: z.number().int().min(0).max(65_535) })
    .default({ startBps: 100, floorBps: 10, decayBpsPerDay: 10 }),
  minCommitAge: z.number().int().min(1).max(4_294_967_295).default(60),
  verifiers: z.array(addressSchema).min(1).max(32),
  quorum: z.number().int().min(1).max(32).default(1),
  pricing: z
    .strictObject({
      basePriceWei: weiSchema.default('1000000000000000'),
      pricePerPointWei: weiSchema.default('1000000000'),
      minPriceBps: bps.default(5_000),
      maxPriceBps: z.number().int().min(10_000).max(65_535).default(20_000),
      royaltyBps: bps.default(500),
    })
    .prefault({}),
  shares: z
    .strictObject({ ownerBps: bps, ancestorsBps: bps, creatorBps: bps })
    .default({ ownerBps: 7_000, ancestorsBps: 2_000, creatorBps: 1_000 }),
});
export type LineageParamsInput = z.input<typeof lineageParamsSchema>;
export type LineageParams = z.output<typeof lineageParamsSchema>;

export const lineageSchema = z.object({
  lineageId: z.number().int().positive(),
  name: z.string(),
  creator: addressSchema,
  createdAt: z.number().int(),
  metricName: z.string(),
  higherIsBetter: z.boolean(),
  evalDatasetCid: z.string(),
  genesisModelCid: z.string(),
  genesisScore: uintStringSchema,
  /** 0 while the genesis model is the best. */
  bestTokenId: z.number().int().nonnegative(),
  bestScore: uintStringSchema,
  bestSince: z.number().int(),
  modelCount: z.number().int().nonnegative(),
  epsilon: z.object({ startBps: z.number(), floorBps: z.number(), decayBpsPerDay: z.number() }),
  /** ε a model committed now would need. */
  currentEpsilonBps: z.number().int(),
  /** The weakest score a model committed now would need (null: none can pass). */
  scoreToBeat: uintStringSchema.nullable(),
  minCommitAge: z.number().int(),
  verifiers: z.array(addressSchema),
  quorum: z.number().int(),
  pricing: z.object({
    basePriceWei: weiSchema,
    pricePerPointWei: weiSchema,
    minPriceBps: z.number(),
    maxPriceBps: z.number(),
    royaltyBps: z.number(),
  }),
  shares: z.object({ ownerBps: z.number(), ancestorsBps: z.number(), creatorBps: z.number() }),
  licences: z.number().int().nonnegative(),
  revenueWei: weiSchema,
});
export type LineageView = z.infer<typeof lineageSchema>;

export const tokenSchema = z.object({
  tokenId: z.number().int().positive(),
  lineageId: z.number().int().positive(),
  version: z.number().int().positive(),
  /** 0 when the parent is the lineage's genesis model. */
  parentTokenId: z.number().int().nonnegative(),
  trainer: addressSchema,
  owner: addressSchema,
  score: uintStringSchema,
  modelCid: z.string(),
  metadataCid: z.string(),
  evaluationCid: z.string(),
  tokenURI: z.string(),
  committedAt: z.number().int(),
  mintedAt: z.number().int(),
  isBest: z.boolean(),
  suggestedPriceWei: weiSchema,
  /** null when the owner has not set one. */
  manualPriceWei: weiSchema.nullable(),
  /** What `licence.buy` pays now. */
  priceWei: weiSchema,
  minPriceWei: weiSchema,
  maxPriceWei: weiSchema,
  licences: z.number().int().nonnegative(),
  revenueWei: weiSchema,
});
export type TokenView = z.infer<typeof tokenSchema>;

export const licenceSchema = z.object({
  tokenId: z.number().int().positive(),
  lineageId: z.number().int().positive(),
  licensee: addressSchema,
  priceWei: weiSchema,
  blockNumber: uintStringSchema,
  txHash: z.string(),
});
export type LicenceView = z.infer<typeof licenceSchema>;

export const earningsSchema = z.object({
  account: addressSchema,
  /** Credited and not yet withdrawn. */
  pendingWei: weiSchema,
  /** Ever credited (withdrawn or not). */
  totalWei: weiSchema,
  byLineage: z.array(z.object({ lineageId: z.number().int().positive(), earnedWei: weiSchema })),
});
export type EarningsView = z.infer<typeof earningsSchema>;

const contributorSchema = z.object({
  rank: z.number().int().positive(),
  account: addressSchema,
  earnedWei: weiSchema,
  /** Versions this account trained (minted). */
  modelsTrained: z.number().int().nonnegative(),
  /** Licences sold of the tokens it trained. */
  licencesOfItsModels: z.number().int().nonnegative(),
  /**
   * In a lineage: the best score of the versions it trained, in the lineage's metric direction, and that
   * version. null for an account that trained none (a creator paid its share), and always null overall:
   * scores of different lineages measure different things and do not compare — see `lineagesLed`.
   */
  bestScore: uintStringSchema.nullable(),
  bestTokenId: z.number().int().positive().nullable(),
  /** Lineages whose current best version it trained (0 or 1 within a lineage). */
  lineagesLed: z.number().int().nonnegative(),
});
export type ContributorView = z.infer<typeof contributorSchema>;

const rankedModelSchema = z.object({
  rank: z.number().int().positive(),
  tokenId: z.number().int().positive(),
  version: z.number().int().positive(),
  trainer: addressSchema,
  owner: addressSchema,
  score: uintStringSchema,
  licences: z.number().int().nonnegative(),
  revenueWei: weiSchema,
  priceWei: weiSchema,
});

export const leaderboardSchema = z.object({
  chainId: z.number().int(),
  blockNumber: uintStringSchema,
  lineages: z.array(
    z.object({
      lineageId: z.number().int().positive(),
      name: z.string(),
      metricName: z.string(),
      higherIsBetter: z.boolean(),
      bestTokenId: z.number().int().nonnegative(),
      bestScore: uintStringSchema,
      licences: z.number().int().nonnegative(),
      revenueWei: weiSchema,
      /** Best first. */
      models: z.array(rankedModelSchema),
      /** Highest earnings in this lineage first. */
      contributors: z.array(contributorSchema),
    }),
  ),
  overall: z.object({
    licences: z.number().int().nonnegative(),
    revenueWei: weiSchema,
    contributors: z.array(contributorSchema),
  }),
});
export type Leaderboard = z.infer<typeof leaderboardSchema>;

const txResult = z.object({ txHash: z.string() });

export const chainRequests = {
  'chain.status': request({
    description:
      'The configured network, whether it answers, the embedded chain process and the contracts deployed there.',
    params: z.strictObject({}),
    result: chainStatusSchema,
  }),
  'chain.start': request({
    description:
      'Starts the embedded chain (anvil on 127.0.0.1, state in <dataDir>/chain) unless it runs, and deploys the contracts on first start. On an RPC network, checks that it answers.',
    params: z.strictObject({
      /** Keep anvil running after this process exits (the CLI's `chain start`). */
      detached: z.boolean().default(false),
    }),
    result: chainStatusSchema,
  }),
  'chain.stop': request({
    description:
      'Stops the embedded chain; anvil writes its state first, so a restart finds the same tokens.',
    params: z.strictObject({}),
    result: z.object({ stopped: z.boolean() }),
  }),
  'chain.configure': request({
    description: 'Chooses the network: the embedded chain (default) or an RPC URL (e.g. Sepolia).',
    params: z.strictObject({ network: networkSchema }),
    result: chainStatusSchema,
  }),
  'chain.deploy': request({
    description:
      'Deploys ModelRegistry and LicenseMarket to the configured network (or `rpcUrl`) and records their addresses per chain id. Refuses when contracts are already deployed there unless `force`.',
    params: z.strictObject({
      rpcUrl: z.url({ protocol: /^https?$/ }).optional(),
      force: z.boolean().default(false),
      signer: signerParam,
      /** Also write contracts/deployments/<chainId>.json in a source checkout (never for the embedded chain). */
      recordInRepo: z.boolean().default(true),
    }),
    result: deploymentSchema,
  }),
  'chain.rpc': request({
    description:
      "Forwards one JSON-RPC call to the configured network for the UI's wallet, so the page needs no direct connection to the RPC endpoint (eth_*, net_*, web3_*; evm_mine on the embedded chain).",
    params: z.strictObject({
      method: z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'a JSON-RPC method name'),
      params: z.array(z.unknown()).max(32).default([]),
    }),
    result: rpcReplySchema,
  }),
  'chain.contracts': request({
    description:
      'What a wallet needs to write to the contracts: chain id, RPC URL, addresses and EIP-712 domain.',
    params: z.strictObject({}),
    result: contractsInfoSchema,
  }),
  'lineage.create': request({
    description: 'Creates a lineage; the signer becomes its creator.',
    params: z.strictObject({ params: lineageParamsSchema, signer: signerParam }),
    result: z.object({ lineageId: z.number().int().positive(), txHash: z.string() }),
  }),
  'lineage.get': request({
    description: "A lineage's rules, verifiers, current best and sales.",
    params: z.strictObject({ lineageId: z.number().int().positive() }),
    result: lineageSchema,
  }),
  'lineage.list': request({
    description: 'Every lineage, newest first.',
    params: z.strictObject({}),
    result: z.array(lineageSchema),
  }),
  'lineage.addVerifier': request({
    description: 'Adds a verifier to a lineage (its creator only).',
    params: z.strictObject({
      lineageId: z.number().int().positive(),
      verifier: addressSchema,
      signer: signerParam,
    }),
    result: txResult,
  }),
  'lineage.removeVerifier': request({
    description: 'Removes a verifier from a lineage (its creator only).',
    params: z.strictObject({
      lineageId: z.number().int().positive(),
      verifier: addressSchema,
      signer: signerParam,
    }),
    result: txResult,
  }),
  'lineage.setQuorum': request({
    description: 'Sets how many verifiers must attest a claim (the lineage creator only).',
    params: z.strictObject({
      lineageId: z.number().int().positive(),
      quorum: z.number().int().min(1).max(32),
      signer: signerParam,
    }),
    result: txResult,
  }),
  'tokens.list': request({
    description: 'The marketplace: minted model versions with score and prices, newest first.',
    params: z.strictObject({
      lineageId: z.number().int().positive().optional(),
      owner: addressSchema.optional(),
      offset: z.number().int().nonnegative().default(0),
      limit: z.number().int().min(1).max(500).default(100),
    }),
    result: z.object({ total: z.number().int().nonnegative(), tokens: z.array(tokenSchema) }),
  }),
  'tokens.get': request({
    description: 'One minted model version.',
    params: z.strictObject({ tokenId: z.number().int().positive() }),
    result: tokenSchema,
  }),
  'tokens.setPrice': request({
    description:
      "Sets a manual licence price within the lineage's bounds (0 returns to the suggested price); owner only.",
    params: z.strictObject({
      tokenId: z.number().int().positive(),
      priceWei: weiSchema,
      signer: signerParam,
    }),
    result: txResult,
  }),
  'licence.buy': request({
    description:
      'Buys a licence of a token at its current price; the payment is credited to owner, ancestors and creator.',
    params: z.strictObject({ tokenId: z.number().int().positive(), signer: signerParam }),
    result: z.object({
      txHash: z.string(),
      tokenId: z.number().int(),
      licensee: addressSchema,
      priceWei: weiSchema,
    }),
  }),
  'licence.list': request({
    description: 'Licences bought by an account (or all licences), newest first.',
    params: z.strictObject({ licensee: addressSchema.optional() }),
    result: z.array(licenceSchema),
  }),
  'earnings.get': request({
    description: "An account's earnings: pending (withdrawable) and lifetime, per lineage.",
    params: z.strictObject({ account: addressSchema }),
    result: earningsSchema,
  }),
  'earnings.withdraw': request({
    description: "Withdraws the signer's pending earnings.",
    params: z.strictObject({ signer: signerParam }),
    result: z.object({ txHash: z.string(), account: addressSchema, amountWei: weiSchema }),
  }),
  'leaderboard.get': request({
    description:
      'Models ranked by score and contributors ranked by earnings, per lineage and overall, read from chain state and events.',
    params: z.strictObject({ lineageId: z.number().int().positive().optional() }),
    result: leaderboardSchema,
  }),
};

export const chainEvents = {
  'chain.changed': event({
    description: 'The chain started, stopped, was reconfigured or got new contracts.',
    payload: z.object({
      running: z.boolean(),
      chainId: z.number().int().nullable(),
      rpcUrl: z.string().nullable(),
    }),
  }),
};
