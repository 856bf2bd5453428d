/**
 * Fused elementwise kernels (fusion.ts, kernels/fused.ts) against ONNX Runtime's CPU provider running the same
 * graph node by node, and against our executor with fusion off: the chains a training step has (GELU, the dropout
 * mask's integer hash, AdamW-like updates with scalar constants and broadcast operands), the cases that must
 * not fuse (an intermediate read twice, a graph output, more operands than a kernel binds), and the tensors two
 * kernels recompute rather than one storing them (a dropout mask, GELU's Φ(x)).
 */
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Graph, type Tensor } from '../graph/graph.ts';
import { applyDropoutMask, hashDropoutMask } from '../graph/ops.ts';
import { randomFloats } from './testing/runKernel.ts';
import { expectRewritesExact, floats, type Feeds } from './testing/rewrites.ts';

/** Checks the graph both ways against the CPU; the rewritten and node-by-node dispatch counts. */
async function expectSameEverywhere(g: Graph, feeds: Feeds, tolerance = 1e-6): Promise<[number, number]> {
  const { rewritten, plain } = await expectRewritesExact(g, feeds, tolerance);
  return [rewritten.dispatches, plain.dispatches];
}

describe('fused elementwise kernels on Dawn', () => {
  it("GELU's chain with a broadcast bias is one kernel, exact against the CPU (vec4 and scalar lanes)", async () => {
    for (const [rows, cols] of [
      [64, 48],
      [5, 3],
    ] as const) {
      const g = new Graph('gelu', { kernels: 'portable' });
      const x = g.input('x', 'float32', [rows, cols]);
      const bias = g.input('bias', 'float32', [cols]);
      const h = g.emit1('Add', [x, bias], [rows, cols], 'float32');
      const scaled = g.emit1('Div', [h, g.scalar(Math.SQRT2)], [rows, cols], 'float32');
      const erf = g.emit1('Erf', [scaled], [rows, cols], 'float32');
      const onePlus = g.emit1('Add', [erf, g.scalar(1)], [rows, cols], 'float32');
      const half = g.emit1('Mul', [h, g.scalar(0.5)], [rows, cols], 'float32');
      g.output(g.emit1('Mul', [half, onePlus], [rows, cols], 'float32'), 'y');
      // h is read by Div and by Mul, both in the chain: it stays in a register too
      const [fused, plain] = await expectSameEverywhere(g, {
        x: floats([rows, cols], 1),
        bias: floats([cols], 2),
      });
      expect(plain).toBe(6);
      expect(fused).toBe(1);
    }
  });

  it("the dropout mask's integer hash, its comparison and the select fuse across types", async () => {
    const n = 4096;
    const g = new Graph('hash', { kernels: 'portable' });
    const counter = g.input('counter', 'uint32', [n]);
    const x = g.input('x', 'float32', [n]);
    const k1 = g.emit1('Mul', [counter, g.scalar(0x9e3779b1, 'uint32')], [n], 'uint32');
    const k2 = g.emit1('Add', [k1, g.scalar(0x7f4a7c15, 'uint32')], [n], 'uint32');
    const k3 = g.emit1('Mul', [k2, k2], [n], 'uint32'); // the same intermediate twice: still one kernel
    const k4 = g.emit1('Div', [k3, g.scalar(256, 'uint32')], [n], 'uint32');
    const u = g.emit1('Cast', [k4], [n], 'float32', { to: { int: 1 } });
    const unit = g.emit1('Mul', [u, g.scalar(2 ** -24)], [n], 'float32');
    const keep = g.emit1('Less', [unit, g.scalar(0.9)], [n], 'bool');
    const scaled = g.emit1('Mul', [x, g.scalar(1 / 0.9)], [n], 'float32');
    g.output(g.emit1('Where', [keep, scaled, g.scalar(0)], [n], 'float32'), 'y');
    const [fused, plain] = await expectSameEverywhere(g, {
      counter: new ort.Tensor(
        'uint32',
        Uint32Array.from({ length: n }, (_, i) => i * 7 + 3),
        [n],
      ),
      x: floats([n], 3),
    });
    expect(plain).toBe(9);
    expect(fused).toBe(1);
  });

  it('an intermediate that is also a graph output is stored, and its consumers still compute', async () => {
    const g = new Graph('pinned', { kernels: 'portable' });
    const a = g.input('a', 'float32', [32]);
    const b = g.input('b', 'float32', [32]);
    const s = g.emit1('Add', [a, b], [32], 'float32');
    const e = g.emit1('Exp', [s], [32], 'float32');
    g.output(e, 'e');
    g.output(g.emit1('Sqrt', [g.emit1('Mul', [e, e], [32], 'float32')], [32], 'float32'), 'y');
    const [fused, plain] = await expectSameEverywhere(g, { a: floats([32], 4), b: floats([32], 5) });
    expect(plain).toBe(4);
    expect(fused).toBe(2); // Add → Exp (stored: an output), then Mul → Sqrt
  });

  it('an intermediate broadcast into a larger shape is stored, not recomputed per element', async () => {
    const g = new Graph('broadcast', { kernels: 'portable' });
    const x = g.input('x', 'float32', [8, 16]);
    const r = g.input('r', 'float32', [8, 1]);
    const inv = g.emit1('Sqrt', [g.emit1('Add', [r, g.scalar(1e-5)], [8, 1], 'float32')], [8, 1], 'float32');
    g.output(g.emit1('Div', [x, inv], [8, 16], 'float32'), 'y');
    const [fused, plain] = await expectSameEverywhere(g, {
      x: floats([8, 16], 6),
      r: new ort.Tensor(
        'float32',
        Float32Array.from({ length: 8 }, (_, i) => i + 0.5),
        [8, 1],
      ),
    });
    expect(plain).toBe(3);
    expect(fused).toBe(2);
  });

  it('a chain reading more tensors than one kernel may bind is split, and still exact', async () => {
    const g = new Graph('wide', { kernels: 'portable' });
    const xs: Tensor[] = Array.from({ length: 12 }, (_, i) => g.input(`x${i}`, 'float32', [100]));
    let acc = xs[0]!;
    for (const x of xs.slice(1)) acc = g.emit1('Add', [acc, x], [100], 'float32');
    g.output(acc, 'y');
    const feeds = Object.fromEntries(xs.map((x, i) => [x.name, floats([100], 10 + i)]));
    const [fused, plain] = await expectSameEverywhere(g, feeds, 1e-6);
    expect(plain).toBe(11);
    expect(fused).toBe(2); // 12 inputs, at most 7 per kernel
  });

  it('AdamW-shaped updates (several outputs from shared operands) match the CPU', async () => {
    const n = 1000;
    const g = new Graph('adamw', { kernels: 'portable' });
    const p = g.input('p', 'float32', [n]);
    const grad = g.input('grad', 'float32', [n]);
    const m = g.input('m', 'float32', [n]);
    const v = g.input('v', 'float32', [n]);
    const lr = g.input('lr', 'float32', []);
    const f = (op: string, a: Tensor, b: Tensor) => g.emit1(op, [a, b], [n], 'float32');
    const m2 = f('Add', f('Mul', m, g.scalar(0.9)), f('Mul', grad, g.scalar(0.1)));
    const v2 = f('Add', f('Mul', v, g.scalar(0.99)), f('Mul', f('Mul', grad, grad), g.scalar(0.01)));
    const denom = f('Add', g.emit1('Sqrt', [v2], [n], 'float32'), g.scalar(1e-8));
    const step = f('Mul', f('Div', m2, denom), lr);
    const decayed = f('Mul', p, g.scalar(1 - 1e-3 * 0.1));
    g.output(f('Sub', decayed, step), 'p2');
    g.output(m2, 'm2');
    g.output(v2, 'v2');
    const feeds = {
      p: floats([n], 20),
      grad: floats([n], 21),
      m: floats([n], 22),
      v: new ort.Tensor('float32', Float32Array.from(randomFloats(n, 23), Math.abs), [n]),
      lr: new ort.Tensor('float32', Float32Array.of(3e-4), []),
    };
    const [fused, plain] = await expectSameEverywhere(g, feeds, 1e-6);
    expect(plain).toBe(13);
    expect(fused).toBe(3); // m2 and v2 are outputs, so stored; the parameter update reads them
  });

  it.each([
    ['vec4 lanes', [4, 3, 32, 32]],
    ['single lanes', [3, 5, 7]],
  ])(
    "a dropout mask's counter is computed in the kernel: same bits, one buffer fewer (%s)",
    async (_name, shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const g = new Graph('mask', { kernels: 'portable' });
      const x = g.input('x', 'float32', shape);
      const mask = hashDropoutMask(g, shape, 0.2, 77);
      g.output(applyDropoutMask(g, x, mask, 0.2), 'y');
      const feeds = {
        x: floats(shape, 30),
        dropout_key: new ort.Tensor('uint32', Uint32Array.of(123_456), []),
      };
      const { rewritten, plain } = await expectRewritesExact(g, feeds, 1e-6);
      expect(rewritten.dispatches).toBe(2); // key·K + seed (a scalar), then the hash, compare, select and Mul
      expect(plain.dispatches).toBeGreaterThan(10);
      // node by node keeps the counter [n] (computed once) and the hash's intermediates
      expect(plain.deviceBytes).toBeGreaterThanOrEqual(rewritten.deviceBytes + n * 4);
    },
  );

  it('a dropout mask applied forward and backward is recomputed by both kernels, never stored', async () => {
    const shape = [8, 64, 48];
    const n = shape.reduce((a, b) => a * b, 1);
    const g = new Graph('mask-twice', { kernels: 'portable' });
    const x = g.input('x', 'float32', shape);
    const dy = g.input('dy', 'float32', shape);
    const mask = hashDropoutMask(g, shape, 0.2, 5);
    g.output(applyDropoutMask(g, x, mask, 0.2), 'y');
    g.output(applyDropoutMask(g, dy, mask, 0.2), 'dx');
    const feeds = {
      x: floats(shape, 40),
      dy: floats(shape, 41),
      dropout_key: new ort.Tensor('uint32', Uint32Array.of(9), []),
    };
    const { rewritten } = await expectRewritesExact(g, feeds, 1e-6);
    // the key's scalar, then one kernel per application: no kernel writes the mask, no buffer holds it
    expect(rewritten.dispatches).toBe(3);
    // x, dy, y and dx, and the outputs' staging copies: six tensors of n floats; a stored mask would be a seventh
    expect(rewritten.deviceBytes).toBeLessThan(7 * n * 4);
  });

  it("GELU's Φ(x), kept from the forward for the backward, is recomputed from x by both", async () => {
    const shape = [16, 96];
    const n = shape.reduce((a, b) => a * b, 1);
    const g = new Graph('gelu-both-ways', { kernels: 'portable' });
    const x = g.input('x', 'float32', shape);
    const dy = g.input('dy', 'float32', shape);
    const f = (op: string, a: Tensor, b: Tensor) => g.emit1(op, [a, b], shape, 'float32');
    const erf = g.emit1('Erf', [f('Mul', x, g.scalar(Math.SQRT1_2))], shape, 'float32');
    const cdf = f('Add', f('Mul', erf, g.scalar(0.5)), g.scalar(0.5));
    g.output(f('Mul', x, cdf), 'y');
    const e = g.emit1('Exp', [f('Mul', f('Mul', x, g.scalar(-0.5)), x)], shape, 'float32');
    const pdf = f('Mul', f('Mul', x, g.scalar(1 / Math.sqrt(2 * Math.PI))), e);
    g.output(f('Mul', dy, f('Add', cdf, pdf)), 'dx');
    const { rewritten } = await expectRewritesExact(g, { x: floats(shape, 42), dy: floats(shape, 43) }, 1e-6);
    expect(rewritten.dispatches).toBe(2);
    expect(rewritten.deviceBytes).toBeLessThan(7 * n * 4); // x, dy, y, dx and two staging copies: no Φ(x)
  });

  it('a tensor whose chain reads what its other reader does not bind is stored, not recomputed', async () => {
    const g = new Graph('not-recomputed', { kernels: 'portable' });
    const [a, b, c] = ['a', 'b', 'c'].map((name) => g.input(name, 'float32', [256]));
    const t = g.emit1('Exp', [g.emit1('Add', [a!, b!], [256], 'float32')], [256], 'float32');
    g.output(g.emit1('Mul', [t, a!], [256], 'float32'), 'y1');
    // recomputing t here would read a and b, which this kernel does not read: t is written once, read twice
    g.output(g.emit1('Mul', [t, c!], [256], 'float32'), 'y2');
    const { rewritten } = await expectRewritesExact(g, {
      a: floats([256], 44),
      b: floats([256], 45),
      c: floats([256], 46),
    });
    expect(rewritten.dispatches).toBe(3);
  });
});
