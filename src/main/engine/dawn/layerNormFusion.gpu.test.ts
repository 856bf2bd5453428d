/**
 * LayerNorm's input gradient as one row kernel (layerNormFusion.ts, kernels/reduce.ts layerNormGradKernel) against
 * ONNX Runtime's CPU provider running the graph's own nodes, and against our executor node by node: rows that the
 * workgroup divides and ragged ones, with and without a bias, and the residual stream's gradient added as the
 * kernel stores (an epilogue), as in a GPT block.
 */
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { gradients } from '../graph/autodiff.ts';
import { Graph } from '../graph/graph.ts';
import * as op from '../graph/ops.ts';
import { DawnSession } from './session.ts';
import { floats, runOnDawn, worstRelativeError as worst, type Feeds } from './testing/rewrites.ts';

/**
 * y = LayerNorm(x)·w (+ b), optionally x + y as a residual block does; L = Σ out ⊙ dy, so the gradients are those
 * of a backward pass handed dy. Outputs dx, dw (and db).
 */
function layerNormGraph(rows: number, c: number, opts: { bias: boolean; residual: boolean }) {
  const g = new Graph('layer_norm', { kernels: 'portable' });
  const x = g.input('x', 'float32', [rows, c], { requiresGrad: true });
  const w = g.input('w', 'float32', [c], { requiresGrad: true });
  const b = opts.bias ? g.input('b', 'float32', [c], { requiresGrad: true }) : null;
  const dy = g.input('dy', 'float32', [rows, c]);
  const y = op.layerNorm(g, x, w, b);
  const out = opts.residual ? op.add(g, x, y) : y;
  const loss = op.reduceSum(g, op.mul(g, out, dy), [0, 1], false);
  const [dx, dw, db] = gradients(g, loss, b ? [x, w, b] : [x, w]);
  g.output(dx!, 'dx');
  g.output(dw!, 'dw');
  if (db) g.output(db, 'db');
  const feeds: Feeds = {
    x: floats([rows, c], 11),
    w: floats([c], 12),
    dy: floats([rows, c], 13),
  };
  if (b) feeds.b = floats([c], 14);
  return { g, feeds };
}

async function labelsOf(g: Graph): Promise<string[]> {
  const session = await DawnSession.create(g);
  try {
    return session.dispatchLabels;
  } finally {
    await session.release();
  }
}

describe("LayerNorm's input gradient as one row kernel on Dawn", () => {
  it.each([
    ['rows of 384 (6 per thread), residual, no bias', 40, 384, false, true],
    ['ragged rows of 50 (a workgroup of 64), bias', 33, 50, true, false],
    ['rows of 1000 (8 per thread, the last ragged), bias, residual', 9, 1000, true, true],
  ] as const)('equals the graph on the CPU: %s', async (_name, rows, c, bias, residual) => {
    const { g, feeds } = layerNormGraph(rows, c, { bias, residual });
    const cpu = await ort.InferenceSession.create(g.encode(), { executionProviders: ['cpu'] });
    const want = await cpu.run(feeds);
    await cpu.release();
    const fused = await runOnDawn(g, feeds, true);
    const plain = await runOnDawn(g, feeds, false);
    for (const name of g.outputs.map((t) => t.name)) {
      expect(worst(fused.out[name]!, want[name]!), name).toBeLessThanOrEqual(1e-5);
      expect(worst(plain.out[name]!, want[name]!), name).toBeLessThanOrEqual(1e-5);
    }
    // gw = dy·w, its row means and their combination are not run: ∂x is one row kernel, which adds the residual's
    // gradient as it stores; x̂ is computed where ∂w's reduction reads it
    expect((await labelsOf(g)).map((l) => l.split(' ')[0])).toEqual([
      'LayerNormalization',
      'Mul', // ∂L/∂out = dy, through the loss's Mul
      '(Sub,Mul,Mul)+ReduceSum',
      ...(bias ? ['ReduceSum'] : []),
      residual ? 'LayerNormGrad+(Add)' : 'LayerNormGrad',
    ]);
    expect(fused.dispatches).toBeLessThan(plain.dispatches);
  });

  it('a LayerNorm gradient that nothing reads is not computed (w frozen, x not differentiated)', async () => {
    const g = new Graph('frozen', { kernels: 'portable' });
    const x = g.input('x', 'float32', [8, 16]);
    const w = g.input('w', 'float32', [16], { requiresGrad: true });
    const loss = op.reduceSum(g, op.layerNorm(g, x, w, null), [0, 1], false);
    g.output(gradients(g, loss, [w])[0]!, 'dw');
    expect(g.layerNormGradSites).toEqual([]); // no ∂x, so no site
    const labels = await labelsOf(g);
    expect(labels.some((l) => l.startsWith('LayerNormGrad'))).toBe(false);
  });
});
