import { createHash } from 'node:crypto';
import type { ResolvedModelConfig } from '../../shared/engine/config.ts';
import { loadTokenizer, type Tokenizer } from '../../shared/tokenizers/tokenizer.ts';
import { loadCheckpoint, nanoGptModelArgs } from '../engine/checkpoint.ts';
import { EXPORT_FORMAT } from '../engine/export.ts';
import type { ParamLayout } from '../engine/gpt.ts';
import { EXPORT_GRAPH } from '../engine/export.ts';
import { buildInferenceGraph } from '../engine/graphs.ts';

/**
 * From a training checkpoint to the inference ONNX model of a model package, through the engine's own
 * graph code (buildInferenceGraph: input_ids int64 [batch, seq ≤ blockSize] → logits), so the exported
 * operators are exactly the engine's. The metadata uses the keys of the engine's export (engine/export.ts:
 * format, config, model_args, step, tokenizer), so `xai-link sample` reads a package's model.onnx, but
 * leaves out what would make the bytes differ between two exports of one checkpoint (the export time) or
 * publish a local path (the dataset reference): the same checkpoint always gives the same model CID.
 */
export interface ExportedModel {
  onnx: Uint8Array;
  model: ResolvedModelConfig;
  parameters: number;
  tokenizer: Tokenizer;
  step: number;
  tokensSeen: number;
  trainLoss: number | null;
  valLoss: number | null;
  seed: number;
  /** When the checkpoint was written (the package's createdAt, so the same checkpoint gives the same CID). */
  createdAt: string;
}

export function buildOnnxFromWeights(
  model: ResolvedModelConfig,
  layout: ParamLayout,
  weights: Float32Array,
  tokenizer: Tokenizer,
  step: number,
): Uint8Array {
  const tokenizerJson = JSON.stringify(tokenizer.toFile());
  const metadata: Record<string, string> = {
    format: EXPORT_FORMAT,
    format_version: '1',
    config: JSON.stringify(model),
    model_args: JSON.stringify(nanoGptModelArgs(model)),
    step: String(step),
    tokenizer: tokenizerJson,
    tokenizer_sha256: createHash('sha256').update(tokenizerJson).digest('hex'),
  };
  return buildInferenceGraph({ model, layout, weights, ...EXPORT_GRAPH }).encode({
    metadata,
    docString: `GPT (nanoGPT architecture) exported by XAI-Link at step ${step}`,
  });
}

/** Loads a checkpoint (parameters only) and builds its inference model. */
export async function exportCheckpoint(path: string): Promise<ExportedModel> {
  const ck = loadCheckpoint(path, { optimizer: false });
  if (!ck.tokenizer) throw new Error(`${path} carries no tokenizer: it cannot be evaluated on text`);
  const tokenizer = await loadTokenizer(ck.tokenizer);
  return {
    onnx: buildOnnxFromWeights(ck.model, ck.layout, ck.state.params, tokenizer, ck.state.step),
    model: ck.model,
    parameters: ck.layout.total,
    tokenizer,
    step: ck.state.step,
    tokensSeen: ck.state.tokensSeen,
    trainLoss: ck.state.trainLoss,
    valLoss: ck.state.valLoss,
    seed: ck.config.train.seed,
    createdAt: ck.createdAt || new Date(0).toISOString(),
  };
}
