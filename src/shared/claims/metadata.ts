import { z } from 'zod';
import { formatScore } from '../eval/metrics.ts';

/**
 * The token's metadata (ERC-721 Metadata JSON Schema, with OpenSea-style `attributes`), published to IPFS;
 * `tokenURI = ipfs://<metadataCid>`. `image` is the loss-curve SVG (lossCurveSvg.ts) on IPFS.
 * `properties` repeats the attributes as typed fields for programs (the verifier, the UI).
 */
export const metadataPropertiesSchema = z.object({
  lineageId: z.number().int().positive(),
  lineageName: z.string(),
  /** Version this token will have: the parent's + 1, 1 for the first. */
  version: z.number().int().positive(),
  /** 0 when the parent is the genesis model. */
  parentTokenId: z.number().int().nonnegative(),
  metric: z.string(),
  /** Decimal uint64 (see src/shared/eval/metrics.ts). */
  score: z.string(),
  value: z.number(),
  parameters: z.number().int().nonnegative(),
  trainingTokens: z.number().int().nonnegative(),
  tokenizer: z.string(),
  datasetCid: z.string().nullable(),
  evaluationCid: z.string(),
  evaluationTextCid: z.string(),
  pipelineCid: z.string().nullable(),
  modelCid: z.string(),
  checkpointCid: z.string().nullable(),
  trainer: z.string(),
});
export type MetadataProperties = z.infer<typeof metadataPropertiesSchema>;

export const tokenMetadataSchema = z.object({
  name: z.string(),
  description: z.string(),
  image: z.string(),
  external_url: z.string().optional(),
  attributes: z.array(
    z.object({
      trait_type: z.string(),
      value: z.union([z.string(), z.number()]),
      display_type: z.string().optional(),
    }),
  ),
  properties: metadataPropertiesSchema,
});
export type TokenMetadata = z.infer<typeof tokenMetadataSchema>;

export function buildTokenMetadata(
  p: MetadataProperties & { name: string; description?: string; imageCid: string },
): TokenMetadata {
  const { name, description, imageCid, ...props } = p;
  const parsed = metadataPropertiesSchema.parse(props);
  const attr = (trait_type: string, value: string | number | null, display_type?: string) =>
    value === null ? [] : [{ trait_type, value, ...(display_type ? { display_type } : {}) }];
  return {
    name,
    description:
      description ??
      `Version ${parsed.version} of the lineage "${parsed.lineageName}": a GPT model whose ${parsed.metric} of ${formatScore(BigInt(parsed.score))} was reproduced by the lineage's verifiers before this token was minted.`,
    image: `ipfs://${imageCid}`,
    attributes: [
      ...attr('lineage', parsed.lineageName),
      ...attr('lineage id', parsed.lineageId, 'number'),
      ...attr('version', parsed.version, 'number'),
      ...attr('parent token', parsed.parentTokenId, 'number'),
      ...attr('metric', parsed.metric),
      ...attr('score', parsed.value, 'number'),
      ...attr('parameters', parsed.parameters, 'number'),
      ...attr('training tokens', parsed.trainingTokens, 'number'),
      ...attr('tokenizer', parsed.tokenizer),
      ...attr('dataset CID', parsed.datasetCid),
      ...attr('evaluation CID', parsed.evaluationCid),
      ...attr('evaluation text CID', parsed.evaluationTextCid),
      ...attr('pipeline CID', parsed.pipelineCid),
      ...attr('ONNX model CID', parsed.modelCid),
      ...attr('checkpoint CID', parsed.checkpointCid),
      ...attr('trainer', parsed.trainer),
    ],
    properties: parsed,
  };
}
