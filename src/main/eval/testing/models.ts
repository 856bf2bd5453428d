import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeOnnxModel, float32Raw, OnnxDataType } from '../../../shared/onnx/onnxModel.ts';
import type { ResolvedModelConfig } from '../../../shared/engine/config.ts';
import { gptParamLayout, initParams } from '../../engine/gpt.ts';
import { buildInferenceGraph } from '../../engine/graphs.ts';

/**
 * Real ONNX models for the evaluation and verification tests: a bigram model whose losses can be worked out
 * by hand, and the engine's GPT exported by its own graph code (so the ONNX policy sees exactly the
 * operators the engine emits).
 */

const here = dirname(fileURLToPath(import.meta.url));

/** The tiny-shakespeare copy bundled with the app (resources/tinyshakespeare.txt). */
export function bundledShakespeare(): string {
  return readFileSync(resolve(here, '../../../../resources/tinyshakespeare.txt'), 'utf8');
}

/** logits[b, t] = table[input_ids[b, t]]: a bigram model in the engine's interface. */
export function bigramOnnx(table: Float32Array, vocab: number): Uint8Array {
  if (table.length !== vocab * vocab) throw new Error('bigramOnnx: table must be vocab × vocab');
  return encodeOnnxModel({
    opsets: [{ domain: '', version: 18 }],
    graph: {
      name: 'bigram',
      nodes: [
        {
          opType: 'Gather',
          inputs: ['table', 'input_ids'],
          outputs: ['logits'],
          attributes: { axis: { int: 0 } },
        },
      ],
      inputs: [{ name: 'input_ids', elemType: OnnxDataType.INT64, shape: ['batch', 'seq'] }],
      outputs: [{ name: 'logits', elemType: OnnxDataType.FLOAT, shape: ['batch', 'seq', vocab] }],
      initializers: [
        { name: 'table', dataType: OnnxDataType.FLOAT, dims: [vocab, vocab], raw: float32Raw(table) },
      ],
    },
  });
}

/** The engine's GPT (nanoGPT parameters drawn with its initialisation) exported by its inference graph. */
export function engineGptOnnx(model: ResolvedModelConfig, seed = 1, weights?: Float32Array): Uint8Array {
  const layout = gptParamLayout(model);
  return buildInferenceGraph({ model, layout, weights: weights ?? initParams(layout, seed) }).encode();
}

export const TINY_GPT: Omit<ResolvedModelConfig, 'vocabSize'> = {
  nLayer: 2,
  nHead: 2,
  nEmbd: 32,
  blockSize: 32,
  dropout: 0,
  bias: false,
};
