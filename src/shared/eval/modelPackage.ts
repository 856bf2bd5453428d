import { z } from 'zod';

/**
 * A model package: what a model CID names. A UnixFS directory with
 *
 *   model.onnx      the inference model exported by the engine (input_ids int64 [batch, seq] → logits
 *                   float [batch, seq, vocab]), checked by src/shared/onnx/onnxPolicy.ts before it runs;
 *   tokenizer.json  the tokenizer it was trained with (src/shared/tokenizers, the dataset's file);
 *   model.json      this card: architecture, sizes, SHA-256 of the two files, and where it came from.
 *
 * Everything a verifier needs to re-run an evaluation is behind the one CID. The training checkpoint
 * (parameters + optimizer state, safetensors) is published separately; the card names its CID, so training
 * can continue from a model CID alone.
 */
export const MODEL_PACKAGE_FILES = {
  onnx: 'model.onnx',
  tokenizer: 'tokenizer.json',
  card: 'model.json',
} as const;
export const MODEL_CARD_FORMAT = 'xai-link-model';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex');
const posInt = z.number().int().positive();

export const lossPointSchema = z.object({
  step: z.number().int().nonnegative(),
  train: z.number().nullable(),
  val: z.number().nullable(),
});
export type LossPoint = z.infer<typeof lossPointSchema>;

export const modelCardSchema = z.object({
  format: z.literal(MODEL_CARD_FORMAT),
  version: z.literal(1),
  name: z.string().min(1).max(200),
  architecture: z.literal('gpt'),
  config: z.object({
    nLayer: posInt,
    nHead: posInt,
    nEmbd: posInt,
    blockSize: posInt,
    vocabSize: posInt,
    bias: z.boolean(),
  }),
  parameters: z.number().int().nonnegative(),
  onnx: z.object({ sha256: sha256Hex, bytes: z.number().int().positive() }),
  tokenizer: z.object({ kind: z.string(), vocabSize: posInt, sha256: sha256Hex }),
  training: z
    .object({
      /** Optimizer steps of this version (cumulative when continued from a parent). */
      iterations: z.number().int().nonnegative(),
      /** Tokens seen in training (cumulative). */
      tokens: z.number().int().nonnegative(),
      seed: z.number().int().nonnegative().nullable(),
      lossCurve: z.array(lossPointSchema).max(10_000),
    })
    .nullable(),
  /** The prepared dataset it was trained on (CID of the dataset directory), when published. */
  datasetCid: z.string().nullable(),
  /** The model package it was continued from. */
  parentModelCid: z.string().nullable(),
  /** The training checkpoint (safetensors: parameters + optimizer state) this model was exported from. */
  checkpointCid: z.string().nullable(),
  createdAt: z.string(),
});
export type ModelCard = z.infer<typeof modelCardSchema>;
