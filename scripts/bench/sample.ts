/**
 * npm run bench:sample [-- --preset baby] [--vocab 50304] [--device cpu|webgpu|dawn] [--tokens 32]
 *
 * Sampling during training, as the trainer does it (the flat parameters fed to an inference graph, the window
 * padded to the context on a GPU): milliseconds per new token with the graph that returns only the sampled
 * position's logits (buildInferenceGraph's `position`, what the trainer uses) against the one that returns every
 * position's, from the same weights, prompt and seed. Prints both, their ratio, whether they drew the same tokens,
 * then one JSON line. On a machine without a GPU run the GPU devices through `node scripts/webgpu/env.ts`.
 */
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { configFromPreset, presetIdSchema, resolveModelConfig } from '../../src/shared/engine/config.ts';
import { DawnSession } from '../../src/main/engine/dawn/session.ts';
import { sessionOptions, type EngineSession } from '../../src/main/engine/device.ts';
import { generate } from '../../src/main/engine/generate.ts';
import { gptParamLayout, initParams } from '../../src/main/engine/gpt.ts';
import { buildInferenceGraph, INFERENCE_IO } from '../../src/main/engine/graphs.ts';
import { Rng } from '../../src/main/engine/rng.ts';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'baby' },
    vocab: { type: 'string', default: '50304' },
    device: { type: 'string', default: 'cpu' },
    tokens: { type: 'string', default: '32' },
    threads: { type: 'string', default: '2' },
  },
});
const preset = presetIdSchema.parse(values.preset);
const device = values.device;
const vocab = Number(values.vocab);
const tokens = Number(values.tokens);
if (
  !['cpu', 'webgpu', 'dawn'].includes(device) ||
  ![vocab, tokens].every((n) => Number.isInteger(n) && n >= 1)
) {
  console.error('--device takes cpu, webgpu or dawn; --vocab and --tokens positive integers');
  process.exit(2);
}
const model = resolveModelConfig(configFromPreset(preset), { vocabSize: vocab });
const layout = gptParamLayout(model);
const T = model.blockSize;
const gpu = device !== 'cpu';
const params = new ort.Tensor('float32', initParams(layout, 1), [layout.total]);

async function session(position: boolean): Promise<EngineSession> {
  const graph = buildInferenceGraph({
    model,
    layout,
    weights: 'input',
    kernels: gpu ? 'portable' : 'ort',
    position,
    ...(gpu ? { fixed: { batch: 1, seq: T } } : {}),
  });
  if (device === 'dawn') return DawnSession.create(graph);
  return ort.InferenceSession.create(
    graph.encode(),
    sessionOptions(device as 'cpu' | 'webgpu', Number(values.threads)),
  );
}

/** ms per token over `tokens` new tokens after a prompt of half the context (so the window grows, then slides). */
async function time(position: boolean): Promise<{ msPerToken: number; drawn: number[] }> {
  const s = await session(position);
  const prompt = Array.from({ length: T / 2 }, (_, i) => (i * 7) % vocab);
  const run = (n: number) =>
    generate(s, {
      prompt,
      maxNewTokens: n,
      temperature: 1,
      topK: 200,
      blockSize: T,
      vocabSize: vocab,
      rng: new Rng(1),
      extraFeeds: { [INFERENCE_IO.params]: params },
      padTo: gpu ? T : undefined,
    });
  await run(2); // warm-up
  const t0 = performance.now();
  const drawn = await run(tokens);
  const msPerToken = (performance.now() - t0) / tokens;
  await s.release();
  return { msPerToken: Math.round(msPerToken * 100) / 100, drawn };
}

let every: Awaited<ReturnType<typeof time>>;
let one: typeof every;
try {
  every = await time(false);
  one = await time(true);
} catch (e) {
  // one line, so that the device check's FAIL says why (a stack trace's last lines would not)
  console.error(`bench:sample: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
const speedup = Math.round((every.msPerToken / one.msPerToken) * 100) / 100;
const same = every.drawn.filter((t, i) => t === one.drawn[i]).length;
console.log(
  `every position's logits: ${every.msPerToken} ms a token (${preset}, vocabulary ${vocab}, ${device})`,
);
console.log(`one position's logits:   ${one.msPerToken} ms a token: ${speedup}× as fast`);
console.log(`the same token drawn at ${same} of ${tokens} steps`);
console.log(
  JSON.stringify({
    bench: 'sample',
    preset,
    vocab,
    device,
    tokens,
    every_ms_per_token: every.msPerToken,
    one_ms_per_token: one.msPerToken,
    speedup,
    same_tokens: same,
  }),
);
process.exit(0);
