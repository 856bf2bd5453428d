import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeOnnxModel, float32Raw, OnnxDataType } from '../../../shared/onnx/onnxModel.ts';
import type { ResolvedModelConfig } from '../../../shared/engine/config.ts';
import { gptParamLayout, initParams } from '../../engine/gpt.ts';
import { buildInferenceGraph } from '../../engine/graphs.ts';
import type { Tokenizer } from '../../../shared/tokenizers/tokenizer.ts';
import { writeModelPackage } from '../modelPackage.ts';

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

/**
 * A model package folder (the engine GPT's ONNX, its tokenizer and a card with a made-up 10-step loss
 * curve), as the claim and verifier tests publish it.
 */
export async function writeTestModelPackage(
  dir: string,
  o: { cfg: ResolvedModelConfig; tokenizer: Tokenizer; onnx: Uint8Array; name: string; seed: number },
): Promise<void> {
  const { cfg } = o;
  await writeModelPackage(dir, {
    onnx: o.onnx,
    tokenizer: o.tokenizer,
    card: {
      name: o.name,
      config: {
        nLayer: cfg.nLayer,
        nHead: cfg.nHead,
        nEmbd: cfg.nEmbd,
        blockSize: cfg.blockSize,
        vocabSize: cfg.vocabSize,
        bias: cfg.bias,
      },
      parameters: gptParamLayout(cfg).total,
      training: {
        iterations: 10,
        tokens: 1000,
        seed: o.seed,
        lossCurve: [
          { step: 0, train: 4.2, val: 4.2 },
          { step: 10, train: 4.1, val: 4.15 },
        ],
      },
      datasetCid: null,
      parentModelCid: null,
      checkpointCid: null,
    },
  });
}
