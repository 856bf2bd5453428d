/**
 * Reductions that compute their elementwise input where they read it (prologueFusion.ts, reductionPrologue in
 * kernels/fused.ts) against ONNX Runtime's CPU provider and our executor node by node: Softmax over ragged rows,
 * LayerNormalization without a bias and with its mean and inverse deviation, a ReduceSum whose long rows take
 * several passes (only the first reads the input), a strided ReduceMean, and an input read twice (kept).
 */
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Graph } from '../graph/graph.ts';
import { floats, savedDispatches } from './testing/rewrites.ts';

describe('reductions with an elementwise prologue', () => {
  it('Softmax of scores plus a broadcast causal mask, rows of a ragged length', async () => {
    const [B, T] = [3, 45];
    const g = new Graph('softmax', { kernels: 'portable' });
    const s = g.input('s', 'float32', [B, T, T]);
    const mask = g.input('mask', 'float32', [T, T]);
    const masked = g.emit1(
      'Add',
      [g.emit1('Mul', [s, g.scalar(0.125)], [B, T, T], 'float32'), mask],
      [B, T, T],
      'float32',
    );
    g.output(g.emit1('Softmax', [masked], [B, T, T], 'float32', { axis: { int: -1 } }), 'p');
    const causal = Float32Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0));
    const feeds = { s: floats([B, T, T], 1), mask: new ort.Tensor('float32', causal, [T, T]) };
    expect(await savedDispatches(g, feeds)).toBe(2); // Mul → Add fused, then into the Softmax
  });

  it('LayerNormalization of a residual sum, no bias, with its mean and inverse deviation', async () => {
    const [N, C] = [10, 48];
    const g = new Graph('layernorm', { kernels: 'portable' });
    const x = g.input('x', 'float32', [N, C]);
    const r = g.input('r', 'float32', [N, C]);
    const w = g.input('w', 'float32', [C]);
    const sum = g.emit1('Add', [x, r], [N, C], 'float32');
    const [y, mean, inv] = g.emit(
      'LayerNormalization',
      [sum, w],
      [
        { shape: [N, C], dtype: 'float32' },
        { shape: [N, 1], dtype: 'float32' },
        { shape: [N, 1], dtype: 'float32' },
      ],
      { axis: { int: -1 }, epsilon: 1e-5 },
    );
    g.output(y!, 'y');
    g.output(mean!, 'mean');
    g.output(inv!, 'inv');
    const feeds = { x: floats([N, C], 2), r: floats([N, C], 3), w: floats([C], 4) };
    expect(await savedDispatches(g, feeds)).toBe(1);
  });

  it('a ReduceSum over rows long enough for several passes reads the prologue in the first only', async () => {
    const [rows, len] = [2, 20_000];
    const g = new Graph('long', { kernels: 'portable' });
    const a = g.input('a', 'float32', [rows, len]);
    const b = g.input('b', 'float32', [len]);
    const prod = g.emit1('Mul', [a, b], [rows, len], 'float32');
    g.output(
      g.emit1('ReduceSum', [prod, g.vector([1])], [rows, 1], 'float32', { keepdims: { int: 1 } }),
      's',
    );
    const feeds = { a: floats([rows, len], 5), b: floats([len], 6) };
    expect(await savedDispatches(g, feeds)).toBe(1);
  });

  it('a ReduceMean over the leading axis (a strided reduction) and an input read twice (kept)', async () => {
    const [N, C] = [64, 24];
    const g = new Graph('strided', { kernels: 'portable' });
    const dy = g.input('dy', 'float32', [N, C]);
    const x = g.input('x', 'float32', [N, C]);
    const prod = g.emit1('Mul', [dy, x], [N, C], 'float32');
    g.output(g.emit1('ReduceMean', [prod, g.vector([0])], [1, C], 'float32', { keepdims: { int: 1 } }), 'm');
    const sq = g.emit1('Mul', [dy, dy], [N, C], 'float32');
    g.output(g.emit1('ReduceSum', [sq, g.vector([1])], [N, 1], 'float32', { keepdims: { int: 1 } }), 's');
    g.output(g.emit1('Exp', [sq], [N, C], 'float32'), 'e');
    const feeds = { dy: floats([N, C], 7), x: floats([N, C], 8) };
    expect(await savedDispatches(g, feeds)).toBe(1); // dy·x into the ReduceMean; dy² stays (Exp reads it too)
  });
});
