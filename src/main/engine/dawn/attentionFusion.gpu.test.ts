/**
 * Causal self-attention as fused kernels (attentionFusion.ts, kernels/attention.ts) against ONNX Runtime's CPU
 * provider running the unfused graph, and against our executor with the attention left unfused: y and the
 * gradient of the packed qkv, with and without dropout, ragged and multi-tile sequences, several head sizes.
 */
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { causalMask } from '../gpt.ts';
import { causalSelfAttention } from '../graph/attention.ts';
import { gradients } from '../graph/autodiff.ts';
import { Graph } from '../graph/graph.ts';
import * as op from '../graph/ops.ts';
import { DawnSession } from './session.ts';
import { floats, worstRelativeError as worst, type Feeds } from './testing/rewrites.ts';

/** Attention of H heads of D over sequences of T, B of them: qkv [B·T, 3·H·D] in, y [B·T, H·D] and dqkv out. */
function attentionGraph([B, H, T, D]: [number, number, number, number], p: number, scale = 1 / Math.sqrt(D)) {
  const g = new Graph('attention', { kernels: 'portable' });
  const qkv = g.input('qkv', 'float32', [B * T, 3 * H * D], { requiresGrad: true });
  const dyIn = g.input('dy', 'float32', [B * T, H * D]);
  const mask = g.constant(causalMask(T), [T, T], 'float32', 'causal_mask');
  const seed = 0x5eed1234;
  const dropout = p > 0 ? { p, seed, apply: (x: typeof qkv) => op.dropoutWithMask(g, x, p, seed).y } : null;
  const y = causalSelfAttention(g, qkv, { batch: B, seq: T, heads: H, scale, mask, dropout });
  g.output(y, 'y');
  // L = Σ y ⊙ dy, so ∂L/∂y = dy
  const loss = op.reduceSum(g, op.mul(g, y, dyIn), [0, 1], false);
  g.output(gradients(g, loss, [qkv])[0]!, 'dqkv');
  const feeds: Feeds = { qkv: floats([B * T, 3 * H * D], 1), dy: floats([B * T, H * D], 4) };
  if (p > 0) feeds.dropout_key = new ort.Tensor('uint32', Uint32Array.from([7]), []);
  return { g, feeds };
}

async function runDawn(g: Graph, feeds: Feeds, attention: boolean) {
  const session = await DawnSession.create(g, { rewrite: true, attention });
  try {
    const out = await session.run(feeds);
    const flopsOf = (kernel: string) =>
      session.kernelTraffic.filter((k) => k.kernel === kernel).reduce((sum, k) => sum + k.flops, 0);
    return {
      out,
      dispatches: session.dispatchCount,
      labels: session.dispatchLabels,
      flops: session.productFlops,
      flopsOf,
    };
  } finally {
    await session.release();
  }
}

describe('fused causal self-attention on Dawn', () => {
  it.each([
    ['one tile, no dropout', [2, 3, 20, 8], 0],
    ['ragged multi-workgroup sequence, dropout 0.3', [1, 2, 100, 16], 0.3],
    ['head size 64 (two key tiles per 64 rows), dropout 0.1', [1, 2, 70, 64], 0.1],
    ['head size 12, dropout 0.5', [1, 3, 65, 12], 0.5],
  ] as const)('equals the unfused graph on the CPU: %s', async (_name, shape, p) => {
    const { g, feeds } = attentionGraph([...shape], p);
    const cpu = await ort.InferenceSession.create(g.encode(), { executionProviders: ['cpu'] });
    const want = await cpu.run(feeds);
    await cpu.release();
    const fused = await runDawn(g, feeds, true);
    const unfused = await runDawn(g, feeds, false);
    for (const name of ['y', 'dqkv']) {
      expect(worst(fused.out[name]!, want[name]!), name).toBeLessThanOrEqual(2e-5);
      expect(worst(unfused.out[name]!, want[name]!), name).toBeLessThanOrEqual(2e-5);
    }
    // the fused graph runs the attention as 1 + 3 passes: no [B, H, T, T] tensor and no per-head copy
    // ([3, B, H, T, D], [B, H, T, D]) is made
    expect(fused.labels.filter((l) => l.startsWith('CausalAttention ')).length).toBe(1);
    expect(fused.labels.filter((l) => l.startsWith('CausalAttentionGrad ')).length).toBe(3);
    expect(fused.labels.filter((l) => / \[(\d+,){3,}\d+\]( |$)/.test(l))).toEqual([]);
    expect(fused.dispatches).toBeLessThan(unfused.dispatches);
    // what profiles divide by: the unfused graph multiplies all T² pairs in 6 products (2 forward, 4 backward),
    // the fused kernels the T(T+1)/2 causal ones in 2 forward and 8 backward (the scores recomputed)
    const [B, H, T, D] = shape;
    expect(unfused.flops).toBe(6 * 2 * B * H * T * T * D);
    const causalPairs = (B * H * T * (T + 1)) / 2;
    expect(fused.flopsOf('CausalAttention')).toBe(2 * 2 * D * causalPairs);
    expect(fused.flopsOf('CausalAttentionGrad')).toBe(8 * 2 * D * causalPairs);
    expect(fused.flops).toBe(10 * 2 * D * causalPairs);
  });

  it('dropout changes y where the mask drops (the fused kernel applies the mask, not just the scale)', async () => {
    const withDrop = attentionGraph([1, 2, 40, 8], 0.5);
    const without = attentionGraph([1, 2, 40, 8], 0);
    const a = (await runDawn(withDrop.g, withDrop.feeds, true)).out.y!;
    const b = (await runDawn(without.g, without.feeds, true)).out.y!;
    expect(worst(a, b)).toBeGreaterThan(0.1);
  });

  it('a fused kernel that cannot be built falls back to the unfused attention, and says why', async () => {
    // a scale the kernel generator refuses (NaN has no WGSL literal); the unfused graph computes NaN
    const { g } = attentionGraph([1, 2, 8, 4], 0, NaN);
    const session = await DawnSession.create(g);
    try {
      expect(session.attentionFallback).toMatch(/CausalAttention(Grad)?: a missing scale/);
      expect(session.note).toMatch(/^Attention runs unfused: CausalAttention(Grad)?: a missing scale/);
      expect(session.dispatchLabels.some((l) => l.startsWith('CausalAttention'))).toBe(false);
    } finally {
      await session.release();
    }
    await expect(DawnSession.create(g, { attention: true })).rejects.toThrow(/a missing scale/);
  });

  it('a head size the kernels do not take keeps the unfused nodes, and is still exact', async () => {
    const { g, feeds } = attentionGraph([1, 2, 24, 6], 0.2);
    const cpu = await ort.InferenceSession.create(g.encode(), { executionProviders: ['cpu'] });
    const want = await cpu.run(feeds);
    await cpu.release();
    const run = await runDawn(g, feeds, true);
    expect(run.labels.some((l) => l.startsWith('CausalAttention'))).toBe(false);
    for (const name of ['y', 'dqkv'])
      expect(worst(run.out[name]!, want[name]!), name).toBeLessThanOrEqual(2e-5);
  });
});
