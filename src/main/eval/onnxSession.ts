import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import {
  DEFAULT_ONNX_POLICY,
  inspectUntrustedOnnx,
  type OnnxModelFacts,
  type OnnxPolicy,
} from '../../shared/onnx/onnxPolicy.ts';
import type { Tokenizer } from '../../shared/tokenizers/tokenizer.ts';
import type { EvaluableModel } from './evaluator.ts';

/**
 * ONNX Runtime sessions for evaluation: CPU provider, one intra-op and one inter-op thread, sequential
 * execution, deterministic compute, a fixed optimisation level. Every model is checked by the ONNX
 * policy (src/shared/onnx/onnxPolicy.ts) before ONNX Runtime parses it, whoever it comes from.
 */
export const EVAL_GRAPH_OPTIMIZATION = 'all' as const;

export const evalSessionOptions: ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: EVAL_GRAPH_OPTIMIZATION,
  enableCpuMemArena: true,
  extra: { session: { use_deterministic_compute: '1' } },
};

let ortVersion: string | undefined;
/** The installed onnxruntime-node version (recorded in every report). */
export function onnxRuntimeVersion(): string {
  if (!ortVersion) {
    try {
      ortVersion = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string })
        .version;
    } catch {
      ortVersion = ort.env.versions?.common ?? 'unknown';
    }
  }
  return ortVersion;
}

export interface OnnxEvaluableModel extends EvaluableModel {
  readonly facts: OnnxModelFacts;
  release(): Promise<void>;
}

/**
 * Checks the bytes against the policy, then opens them in ONNX Runtime. `blockSize` comes from the model
 * card (the ONNX graph keeps its sequence dimension symbolic).
 */
export async function openEvaluableOnnx(
  bytes: Uint8Array,
  tokenizer: Tokenizer,
  blockSize: number,
  policy: OnnxPolicy = DEFAULT_ONNX_POLICY,
): Promise<OnnxEvaluableModel> {
  const facts = inspectUntrustedOnnx(bytes, policy);
  const session = await ort.InferenceSession.create(bytes, evalSessionOptions);
  const inputName = facts.input.name;
  const outputName = facts.output.name;
  return {
    facts,
    blockSize,
    vocabSize: facts.vocabSize,
    tokenizer,
    async run(ids, batch, seq) {
      const out = await session.run({ [inputName]: new ort.Tensor('int64', ids, [batch, seq]) }, [
        outputName,
      ]);
      const logits = out[outputName];
      if (!logits || logits.type !== 'float32')
        throw new Error(`the model did not return float logits as "${outputName}"`);
      return logits.data as Float32Array;
    },
    release: () => session.release(),
  };
}
