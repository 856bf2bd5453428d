/**
 * Matrix products that apply their elementwise consumer as they store (epilogueFusion.ts, productEpilogue in
 * kernels/fused.ts) against ONNX Runtime's CPU provider and our executor node by node: vec4 and scalar stores,
 * ragged tiles, a broadcast operand in the epilogue, split K (the epilogue in the sum pass), a dropout mask the
 * epilogue recomputes from the element's index and a uint32 key, and the products that must keep their output
 * (read twice, a graph output).
 */
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Graph, type Tensor } from '../graph/graph.ts';
import { applyDropoutMask, hashDropoutMask } from '../graph/ops.ts';
import { expectRewritesExact, floats, savedDispatches } from './testing/rewrites.ts';

/** GELU as the graphs write it (x·½·(1 + erf(x/√2))): five nodes that fuse into one chain. */
function gelu(g: Graph, x: Tensor): Tensor {
  const s = x.shape;
  const erf = g.emit1('Erf', [g.emit1('Div', [x, g.scalar(Math.SQRT2)], s, 'float32')], s, 'float32');
  const onePlus = g.emit1('Add', [erf, g.scalar(1)], s, 'float32');
  return g.emit1('Mul', [g.emit1('Mul', [x, g.scalar(0.5)], s, 'float32'), onePlus], s, 'float32');
}

describe('matrix products with an elementwise epilogue', () => {
  it.each([
    ['vec4 stores, whole tiles', 64, 48, 32],
    ['scalar stores, ragged tiles', 37, 30, 21],
  ])('Linear (Gemm x·Wᵀ + b) then GELU: one kernel (%s)', async (_name, rows, k, n) => {
    const g = new Graph('linear_gelu', { kernels: 'portable' });
    const x = g.input('x', 'float32', [rows, k]);
    const w = g.input('w', 'float32', [n, k]);
    const b = g.input('b', 'float32', [n]);
    const h = g.emit1('Gemm', [x, w, b], [rows, n], 'float32', { transB: { int: 1 } });
    g.output(gelu(g, h), 'y');
    const feeds = { x: floats([rows, k], 1), w: floats([n, k], 2), b: floats([n], 3) };
    expect(await savedDispatches(g, feeds)).toBe(5); // the product and the five GELU nodes are one kernel
  });

  it('attention scores with the causal mask broadcast over batch and heads, then Softmax', async () => {
    const [B, H, T, D] = [2, 3, 20, 8];
    const g = new Graph('scores', { kernels: 'portable' });
    const q = g.input('q', 'float32', [B, H, T, D]);
    const kT = g.input('kT', 'float32', [B, H, D, T]);
    const mask = g.input('mask', 'float32', [T, T]);
    const scores = g.emit1('MatMul', [q, kT], [B, H, T, T], 'float32');
    const masked = g.emit1('Add', [scores, mask], [B, H, T, T], 'float32');
    g.output(g.emit1('Softmax', [masked], [B, H, T, T], 'float32', { axis: { int: -1 } }), 'p');
    const causal = Float32Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0));
    const feeds = {
      q: floats([B, H, T, D], 4),
      kT: floats([B, H, D, T], 5),
      mask: new ort.Tensor('float32', causal, [T, T]),
    };
    expect(await savedDispatches(g, feeds)).toBe(1);
  });

  it('a weight gradient with K split across workgroups applies its epilogue in the sum pass', async () => {
    const [rows, k, n] = [2048, 24, 20];
    const g = new Graph('grad', { kernels: 'portable' });
    const dy = g.input('dy', 'float32', [rows, k]);
    const x = g.input('x', 'float32', [rows, n]);
    const acc = g.input('acc', 'float32', [k, n]);
    const dw = g.emit1('Gemm', [dy, x], [k, n], 'float32', { transA: { int: 1 } });
    const scaled = g.emit1('Mul', [dw, g.scalar(0.25)], [k, n], 'float32');
    g.output(g.emit1('Add', [scaled, acc], [k, n], 'float32'), 'acc_out');
    const feeds = { dy: floats([rows, k], 6), x: floats([rows, n], 7), acc: floats([k, n], 8) };
    expect(await savedDispatches(g, feeds)).toBe(2);
  });

  it('a product read by two kernels, or that is a graph output, keeps its output', async () => {
    const g = new Graph('kept', { kernels: 'portable' });
    const a = g.input('a', 'float32', [16, 12]);
    const b = g.input('b', 'float32', [12, 8]);
    const p1 = g.emit1('MatMul', [a, b], [16, 8], 'float32');
    g.output(g.emit1('Exp', [p1], [16, 8], 'float32'), 'e');
    g.output(g.emit1('ReduceSum', [p1, g.vector([1])], [16, 1], 'float32', { keepdims: { int: 1 } }), 's');
    const p2 = g.emit1('MatMul', [a, b], [16, 8], 'float32');
    g.output(p2, 'p2');
    g.output(g.emit1('Sqrt', [g.emit1('Mul', [p2, p2], [16, 8], 'float32')], [16, 8], 'float32'), 'r');
    const feeds = { a: floats([16, 12], 9), b: floats([12, 8], 10) };
    expect(await savedDispatches(g, feeds)).toBe(1); // only Mul → Sqrt fuse; both products store
  });

  it.each([
    ['vec4 stores', 64, 32, 48],
    ['scalar stores, ragged tiles', 33, 20, 30],
  ])(
    "a Linear into dropout and a residual add recomputes the mask as it stores; the backward's copy too (%s)",
    async (_name, rows, k, n) => {
      const g = new Graph('linear_dropout', { kernels: 'portable' });
      const x = g.input('x', 'float32', [rows, k]);
      const w = g.input('w', 'float32', [n, k]);
      const residual = g.input('residual', 'float32', [rows, n]);
      const dy = g.input('dy', 'float32', [rows, n]);
      const h = g.emit1('Gemm', [x, w], [rows, n], 'float32', { transB: { int: 1 } });
      const mask = hashDropoutMask(g, [rows, n], 0.3, 11);
      const dropped = applyDropoutMask(g, h, mask, 0.3);
      g.output(g.emit1('Add', [residual, dropped], [rows, n], 'float32'), 'y');
      g.output(applyDropoutMask(g, dy, mask, 0.3), 'dh'); // the backward's use of the same mask
      const feeds = {
        x: floats([rows, k], 7),
        w: floats([n, k], 8),
        residual: floats([rows, n], 9),
        dy: floats([rows, n], 10),
        dropout_key: new ort.Tensor('uint32', Uint32Array.of(3), []),
      };
      const { rewritten } = await expectRewritesExact(g, feeds, 1e-5);
      // the key's scalar, the product with mask, dropout and add in its store, the backward's masked dy
      expect(rewritten.dispatches).toBe(3);
    },
  );
});
