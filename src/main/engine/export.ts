import { createHash } from 'node:crypto';
import ort from 'onnxruntime-node';
import type { ResolvedModelConfig } from '../../shared/engine/config.ts';
import { readOnnxMetadata } from '../../shared/onnx/onnxMetadata.ts';
import { loadTokenizer, type Tokenizer } from '../../shared/tokenizers/tokenizer.ts';
import { writeFileAtomic } from '../util/atomicWrite.ts';
import { loadCheckpoint, nanoGptModelArgs, type Checkpoint } from './checkpoint.ts';
import { sessionOptions, type DeviceName } from './device.ts';
import { generate } from './generate.ts';
import { gptParamLayout } from './gpt.ts';
import { buildInferenceGraph } from './graphs.ts';
import { Rng } from './rng.ts';
import { parseIdPrompt } from './trainer.ts';
import { readUserFile } from '../util/readUserFile.ts';

/**
 * Export: a checkpoint becomes a plain inference model, input_ids int64 [batch, seq ≤ blockSize] →
 * logits float32 [batch, seq, vocab], weights as initializers under their nanoGPT names. Any ONNX
 * runtime loads it. The metadata carries the model config (ours and nanoGPT's names), the tokenizer
 * (tokenizer.json, so the file generates text on its own) and where it came from.
 */
export const EXPORT_FORMAT = 'xai-link-gpt';

/**
 * Exported models are standard ONNX: default-domain operators only (no ONNX Runtime contrib kernels),
 * opset 17, IR version 8, which the reference checker of onnx 1.12 (Debian bookworm) and older runtimes
 * open. The engine's own training graphs keep whatever runs fastest.
 */
export const EXPORT_GRAPH = { kernels: 'portable', opset: 17 } as const;

export function exportModelBytes(ckpt: Checkpoint): Uint8Array {
  const g = buildInferenceGraph({
    model: ckpt.model,
    layout: ckpt.layout,
    weights: ckpt.state.params,
    ...EXPORT_GRAPH,
  });
  const tokenizer = ckpt.tokenizer ? JSON.stringify(ckpt.tokenizer) : '';
  const metadata: Record<string, string> = {
    format: EXPORT_FORMAT,
    format_version: '1',
    config: JSON.stringify(ckpt.model),
    model_args: JSON.stringify(nanoGptModelArgs(ckpt.model)),
    step: String(ckpt.state.step),
    val_loss: ckpt.state.valLoss === null ? '' : String(ckpt.state.valLoss),
    dataset: JSON.stringify(ckpt.dataset),
    exported_at: new Date().toISOString(),
    io: 'input_ids int64 [batch, seq<=block_size] -> logits float32 [batch, seq, vocab_size]',
  };
  if (tokenizer) {
    metadata.tokenizer = tokenizer;
    metadata.tokenizer_sha256 = createHash('sha256').update(tokenizer).digest('hex');
  }
  return g.encode({
    metadata,
    docString: `GPT (nanoGPT architecture) exported by XAI-Link at step ${ckpt.state.step}`,
  });
}

export async function exportCheckpoint(
  checkpointPath: string,
  outPath: string,
): Promise<{ path: string; bytes: number; step: number; params: number }> {
  const ckpt = loadCheckpoint(checkpointPath, { optimizer: false });
  const bytes = exportModelBytes(ckpt);
  await writeFileAtomic(outPath, bytes);
  return { path: outPath, bytes: bytes.length, step: ckpt.state.step, params: ckpt.layout.total };
}

export interface LoadedModel {
  session: ort.InferenceSession;
  model: ResolvedModelConfig;
  tokenizer: Tokenizer | null;
  step: number;
  source: 'checkpoint' | 'onnx';
}

/** Opens a checkpoint (.safetensors) or an exported model (.onnx) for generation. */
export async function loadForInference(
  path: string,
  opts: { device?: DeviceName; threads?: number } = {},
): Promise<LoadedModel> {
  const options = sessionOptions(opts.device ?? 'cpu', opts.threads ?? 1);
  if (path.endsWith('.onnx')) {
    // Protobuf's limit: an ONNX model with its weights inside is under 2 GiB.
    const bytes = readUserFile(path, 2 ** 31 - 1, 'an .onnx model exported by XAI-Link');
    const md = readOnnxMetadata(bytes);
    if (md.format !== EXPORT_FORMAT)
      throw new Error(`${path} was not exported by XAI-Link (no model config in its metadata)`);
    const model = JSON.parse(md.config!) as ResolvedModelConfig;
    const tokenizer = md.tokenizer ? await loadTokenizer(JSON.parse(md.tokenizer)) : null;
    const session = await ort.InferenceSession.create(bytes, options);
    return { session, model, tokenizer, step: Number(md.step ?? 0), source: 'onnx' };
  }
  const ckpt = loadCheckpoint(path, { optimizer: false });
  const bytes = buildInferenceGraph({
    model: ckpt.model,
    layout: gptParamLayout(ckpt.model),
    weights: ckpt.state.params,
  }).encode();
  const session = await ort.InferenceSession.create(bytes, options);
  const tokenizer = ckpt.tokenizer ? await loadTokenizer(ckpt.tokenizer) : null;
  return { session, model: ckpt.model, tokenizer, step: ckpt.state.step, source: 'checkpoint' };
}

export interface GenerateRequest {
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  seed?: number;
  onText?: (text: string) => void;
}

/** Generates a continuation of `prompt` (text, or token ids when the model has no tokenizer). */
export async function generateText(
  m: LoadedModel,
  r: GenerateRequest,
): Promise<{ text: string; tokens: number[] }> {
  const tok = m.tokenizer;
  let prompt = tok ? tok.encode(r.prompt) : parseIdPrompt(r.prompt);
  if (prompt.length === 0) {
    try {
      prompt = tok ? tok.encode('\n') : [0];
    } catch {
      prompt = [0];
    }
  }
  const tokens = await generate(m.session, {
    prompt,
    maxNewTokens: r.maxNewTokens,
    temperature: r.temperature,
    topK: r.topK,
    blockSize: m.model.blockSize,
    vocabSize: m.model.vocabSize,
    rng: new Rng(r.seed ?? Math.floor(Math.random() * 2 ** 32)),
    onToken: r.onText && tok ? (id) => void r.onText!(tok.decode([id])) : undefined,
  });
  return { text: tok ? tok.decode(tokens) : tokens.join(' '), tokens };
}
