import { z } from 'zod';
import { request } from './contract.ts';
import { pipelineRunResultSchema, pipelineSchema, stageNames } from '../pipelines/pipeline.ts';

/**
 * Pipelines (src/shared/pipelines/pipeline.ts): prepare → train → evaluate → publish → claim, content-
 * addressed and resumable. `pipelines.run` is a job whose progress events carry the stage name; the CLI
 * (`xai-link run`), the app and the headless host all use this one runner. `demo.run` is the one-command
 * demo (`xai-link demo`).
 */
const pipelineSource = z.union([
  z.strictObject({ file: z.string().min(1).max(4096) }),
  z.strictObject({ pipeline: pipelineSchema }),
]);

export const demoSummarySchema = z.object({
  ok: z.boolean(),
  seconds: z.number(),
  dataDir: z.string(),
  input: z.string(),
  chain: z.object({
    chainId: z.number().int(),
    rpcUrl: z.string(),
    registry: z.string(),
    market: z.string(),
  }),
  accounts: z.object({ creator: z.string(), trainer: z.string(), verifier: z.string(), buyer: z.string() }),
  lineage: z.object({
    lineageId: z.number().int(),
    name: z.string(),
    metric: z.string(),
    evalTextCid: z.string(),
    genesisScore: z.string(),
  }),
  versions: z.array(
    z.object({
      version: z.number().int(),
      tokenId: z.number().int(),
      iterations: z.number().int(),
      modelCid: z.string(),
      checkpointCid: z.string(),
      evaluationCid: z.string(),
      metadataCid: z.string().nullable(),
      claimCid: z.string().nullable(),
      pipelineCid: z.string(),
      bitsPerByte: z.number(),
      score: z.string(),
      suggestedPriceWei: z.string(),
      stages: z.array(z.object({ stage: z.string(), status: z.string(), seconds: z.number() })),
    }),
  ),
  licence: z.object({
    tokenId: z.number().int(),
    buyer: z.string(),
    priceWei: z.string(),
    txHash: z.string().nullable(),
    alreadyHeld: z.boolean(),
  }),
  withdrawals: z.array(z.object({ account: z.string(), role: z.string(), amountWei: z.string() })),
  balances: z.array(
    z.object({ role: z.string(), account: z.string(), balanceWei: z.string(), earnedWei: z.string() }),
  ),
  leaderboard: z.array(
    z.object({
      rank: z.number().int(),
      tokenId: z.number().int(),
      version: z.number().int(),
      score: z.string(),
      licences: z.number().int(),
      revenueWei: z.string(),
      priceWei: z.string(),
    }),
  ),
});
export type DemoSummary = z.infer<typeof demoSummarySchema>;

export const pipelinesRequests = {
  'pipelines.validate': request({
    description: 'Checks a pipeline file against the schema; returns it with defaults filled in.',
    params: z.strictObject({ source: pipelineSource }),
    result: pipelineSchema,
  }),
  'pipelines.run': request({
    description:
      'Runs a pipeline as a job: stages whose inputs are unchanged are skipped, an interrupted stage resumes. Progress events name the stage.',
    params: z.strictObject({
      source: pipelineSource,
      force: z.boolean().default(false),
      until: z.enum(stageNames).optional(),
    }),
    result: pipelineRunResultSchema,
  }),
  'pipelines.example': request({
    description:
      'Where the example pipeline (docs/examples/pipeline.json) is on the machine running XAI-Link: validate or run it by this path, so its relative input paths resolve against its own folder.',
    params: z.strictObject({}),
    result: z.object({ file: z.string() }),
  }),
  'demo.run': request({
    description:
      'The one-command demo, offline on the embedded chain and IPFS node: prepare tiny-shakespeare, create a lineage, train v1, prove and mint it, continue to v2, prove and mint it, buy a licence of v2, withdraw, leaderboard. A job.',
    params: z.strictObject({
      /** Training steps of v1, and of v2 on top of v1. */
      iters: z.number().int().min(1).max(100_000).default(200),
      /** Text to train and evaluate on (default: the bundled resources/tinyshakespeare.txt). */
      input: z.string().min(1).optional(),
      /** Forget cached stages (the chain keeps its tokens). */
      force: z.boolean().default(false),
    }),
    result: demoSummarySchema,
  }),
};
