import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { gradients } from './autodiff.ts';
import { gradCheck, type GradInput } from '../testing/gradcheck.ts';
import { Graph, GraphShapeError, type Tensor } from './graph.ts';
import * as op from './ops.ts';

/** Every differentiable op: analytic gradient (our backward, run by ONNX Runtime) vs central differences. */
async function expectGradOk(
  inputs: GradInput[],
  build: (g: Graph, xs: Tensor[]) => Tensor,
  opts: Parameters<typeof gradCheck>[2] = {},
) {
  const r = await gradCheck(inputs, build, opts);
  expect(r.checked).toBeGreaterThan(0);
  expect(r.failures, `worst: ${r.worst}`).toEqual([]);
}

describe('op gradients (finite differences through ONNX Runtime)', () => {
  it('add / sub with broadcasting', async () => {
    await expectGradOk(
      [
        { name: 'a', shape: [2, 3, 4] },
        { name: 'b', shape: [3, 1] },
      ],
      (g, [a, b]) => op.add(g, a!, b!),
    );
    await expectGradOk(
      [
        { name: 'a', shape: [4] },
        { name: 'b', shape: [2, 3, 4] },
      ],
      (g, [a, b]) => op.sub(g, a!, b!),
    );
  });

  it('mul / div / scale / neg', async () => {
    await expectGradOk(
      [
        { name: 'a', shape: [2, 3] },
        { name: 'b', shape: [1, 3] },
      ],
      (g, [a, b]) => op.mul(g, a!, b!),
    );
    const pos = Float32Array.from({ length: 6 }, (_, i) => 1 + 0.25 * i);
    await expectGradOk(
      [
        { name: 'a', shape: [2, 3] },
        { name: 'b', shape: [2, 3], values: pos },
      ],
      (g, [a, b]) => op.div(g, a!, b!),
    );
    await expectGradOk([{ name: 'a', shape: [5] }], (g, [a]) => op.neg(g, op.scale(g, a!, 3)));
  });

  it('matmul with every transpose combination, alpha and batch broadcasting', async () => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        await expectGradOk(
          [
            { name: 'a', shape: transA ? [2, 3, 4] : [2, 4, 3] },
            { name: 'b', shape: transB ? [5, 3] : [3, 5] },
          ],
          (g, [a, b]) => op.matmul(g, a!, b!, { transA, transB, alpha: 0.5 }),
        );
      }
    }
  });

  it('linear (Gemm, PyTorch [out, in] weight) with and without bias', async () => {
    await expectGradOk(
      [
        { name: 'x', shape: [4, 3] },
        { name: 'w', shape: [5, 3] },
        { name: 'b', shape: [5] },
      ],
      (g, [x, w, b]) => op.linear(g, x!, w!, b!),
    );
    await expectGradOk(
      [
        { name: 'x', shape: [4, 3] },
        { name: 'w', shape: [2, 3] },
      ],
      (g, [x, w]) => op.linear(g, x!, w!, null),
    );
  });

  it('reshape / transpose / split / concat / slice', async () => {
    await expectGradOk([{ name: 'x', shape: [2, 3, 4] }], (g, [x]) =>
      op.transpose(g, op.reshape(g, x!, [2, 3, 2, 2]), [0, 2, 3, 1]),
    );
    await expectGradOk([{ name: 'x', shape: [3, 6] }], (g, [x]) => {
      // q is unused: its part of ∂x must come back as zeros.
      const [p, , r] = op.split(g, x!, 1, [2, 1, 3]);
      return op.concat(g, [op.mul(g, p!, p!), r!], 1);
    });
    await expectGradOk([{ name: 'x', shape: [5, 3] }], (g, [x]) => op.slice(g, x!, 0, 1, 4));
  });

  it('gather (embedding) with repeated ids: scatter-add gradient', async () => {
    await expectGradOk(
      [
        { name: 'table', shape: [6, 3] },
        { name: 'ids', shape: [2, 4], dtype: 'int32', ints: [0, 2, 2, 5, 1, 2, 0, 0] },
      ],
      (g, [t, ids]) => op.gather(g, t!, ids!),
    );
  });

  it('layerNorm with and without bias', async () => {
    await expectGradOk(
      [
        { name: 'x', shape: [3, 5] },
        { name: 'w', shape: [5] },
        { name: 'b', shape: [5] },
      ],
      (g, [x, w, b]) => op.layerNorm(g, x!, w!, b!),
      { eps: 1e-2 },
    );
    await expectGradOk(
      [
        { name: 'x', shape: [2, 2, 4] },
        { name: 'w', shape: [4] },
      ],
      (g, [x, w]) => op.layerNorm(g, x!, w!, null),
    );
  });

  it('gelu (exact, erf)', async () => {
    await expectGradOk([{ name: 'x', shape: [3, 7] }], (g, [x]) => op.gelu(g, op.scale(g, x!, 2)));
  });

  it('softmax with a causal mask', async () => {
    await expectGradOk([{ name: 'x', shape: [2, 4, 4] }], (g, [x]) => {
      const mask = new Float32Array(16);
      for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) mask[i * 4 + j] = -Infinity;
      return op.softmax(g, op.add(g, x!, g.constant(mask, [4, 4], 'float32')), -1);
    });
  });

  it('cross-entropy (mean) against integer targets', async () => {
    await expectGradOk(
      [
        { name: 'z', shape: [5, 7] },
        { name: 't', shape: [5], dtype: 'int32', ints: [0, 6, 3, 3, 1] },
      ],
      (g, [z, t]) => op.crossEntropy(g, z!, t!),
    );
  });

  it('reductions: sum and mean, with and without keepdims', async () => {
    await expectGradOk([{ name: 'x', shape: [2, 3, 4] }], (g, [x]) => op.reduceSum(g, x!, [1], false));
    await expectGradOk([{ name: 'x', shape: [2, 3, 4] }], (g, [x]) => op.reduceMean(g, x!, [0, 2], true));
  });
});

describe('portable kernels (the GPU graphs): op gradients by finite differences', () => {
  const portable = { kernels: 'portable' } as const;

  it('matmul with every transpose combination and alpha: explicit Transpose + MatMul + Mul', async () => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        await expectGradOk(
          [
            { name: 'a', shape: transA ? [2, 3, 4] : [2, 4, 3] },
            { name: 'b', shape: transB ? [5, 3] : [3, 5] },
          ],
          (g, [a, b]) => op.matmul(g, a!, b!, { transA, transB, alpha: 0.5 }),
          portable,
        );
      }
    }
  });

  it('gather: scatter-add gradient with int32 ScatterElements', async () => {
    await expectGradOk(
      [
        { name: 'table', shape: [6, 3] },
        { name: 'ids', shape: [2, 4], dtype: 'int32', ints: [0, 2, 2, 5, 1, 2, 0, 0] },
      ],
      (g, [t, ids]) => op.gather(g, t!, ids!),
      portable,
    );
  });

  it('cross-entropy from ReduceMax / Exp / Log / GatherElements', async () => {
    await expectGradOk(
      [
        { name: 'z', shape: [5, 7] },
        { name: 't', shape: [5], dtype: 'int32', ints: [0, 6, 3, 3, 1] },
      ],
      (g, [z, t]) => op.crossEntropy(g, z!, t!),
      portable,
    );
  });

  it('cross-entropy: the same loss and gradient as SoftmaxCrossEntropyLoss, also for large logits', async () => {
    const z = Float32Array.from({ length: 4 * 9 }, (_, i) => Math.sin(i * 1.7) * (i % 2 ? 40 : 3));
    const t = Int32Array.from([8, 0, 4, 4]);
    const run = async (kernels: 'ort' | 'portable') => {
      const g = new Graph('ce', { kernels });
      const zi = g.input('z', 'float32', [4, 9], { requiresGrad: true });
      const ti = g.input('t', 'int32', [4]);
      const loss = op.crossEntropy(g, zi, ti);
      g.output(loss, 'loss');
      g.output(gradients(g, loss, [zi])[0]!, 'dz');
      const s = await ort.InferenceSession.create(g.encode());
      const out = await s.run({
        z: new ort.Tensor('float32', z, [4, 9]),
        t: new ort.Tensor('int32', t, [4]),
      });
      await s.release();
      return { loss: out.loss!.data[0] as number, dz: out.dz!.data as Float32Array };
    };
    const a = await run('ort');
    const b = await run('portable');
    expect(b.loss).toBeCloseTo(a.loss, 5);
    for (let i = 0; i < a.dz.length; i++) expect(b.dz[i]).toBeCloseTo(a.dz[i]!, 6);
  });

  it('dropout with a computed mask: gradient through the same mask', async () => {
    await expectGradOk([{ name: 'x', shape: [4, 6] }], (g, [x]) => op.dropout(g, x!, 0.3, 11), portable);
  });

  it('a portable graph refuses com.microsoft operators', () => {
    const g = new Graph('p', { kernels: 'portable' });
    const x = g.input('x', 'float32', [2]);
    expect(() => g.emit1('FusedMatMul', [x, x], [2], 'float32', {}, 'com.microsoft')).toThrow(
      /portable graph/,
    );
  });
});

describe('computed dropout masks (hashDropoutMask)', () => {
  async function masks(shape: number[], p: number, seed: number, keys: number[]): Promise<Uint8Array[]> {
    const g = new Graph('mask', { kernels: 'portable' });
    g.output(
      g.emit1('Cast', [op.hashDropoutMask(g, shape, p, seed)], shape, 'bool', { to: { int: 9 } }),
      'keep',
    );
    const s = await ort.InferenceSession.create(g.encode());
    const out: Uint8Array[] = [];
    for (const key of keys) {
      const r = await s.run({ [op.DROPOUT_KEY_INPUT]: new ort.Tensor('uint32', new Uint32Array([key]), []) });
      out.push(Uint8Array.from(r.keep!.data as unknown as ArrayLike<number>, Number));
    }
    await s.release();
    return out;
  }

  it('keeps 1 − p of the elements, the same bits for the same (seed, key), new ones for another key or seed', async () => {
    const n = 200_000;
    const [k0, k0again, k1] = await masks([n], 0.1, 42, [0, 0, 1]);
    const [other] = await masks([n], 0.1, 43, [0]);
    const kept = (m: Uint8Array) => m.reduce((a, b) => a + b, 0) / n;
    expect(Math.abs(kept(k0!) - 0.9)).toBeLessThan(0.004);
    expect(Math.abs(kept(k1!) - 0.9)).toBeLessThan(0.004);
    expect(k0again).toEqual(k0);
    const agree = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + (v === b[i] ? 1 : 0), 0) / n;
    // independent masks agree on p² + (1 − p)² = 0.82 of the elements
    expect(Math.abs(agree(k0!, k1!) - 0.82)).toBeLessThan(0.005);
    expect(Math.abs(agree(k0!, other!) - 0.82)).toBeLessThan(0.005);
  });

  it('neighbouring elements are independent (no stripes along rows or columns)', async () => {
    const [m] = await masks([400, 500], 0.5, 7, [3]);
    let right = 0;
    let down = 0;
    let pairs = 0;
    for (let r = 0; r < 399; r++)
      for (let c = 0; c < 499; c++) {
        const v = m![r * 500 + c]!;
        right += v === m![r * 500 + c + 1] ? 1 : 0;
        down += v === m![(r + 1) * 500 + c] ? 1 : 0;
        pairs++;
      }
    expect(Math.abs(right / pairs - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(down / pairs - 0.5)).toBeLessThan(0.01);
  });
});

describe('gradient checking itself', () => {
  it('catches a wrong backward (a deliberately broken op)', async () => {
    // y = x², with a backward that forgets the factor 2
    const broken = (g: Graph, x: Tensor) => {
      const y = g.emit1('Mul', [x, x], x.shape, 'float32');
      g.record('broken', [x], [y], ([dy]) => [op.mul(g, dy!, x)]);
      return y;
    };
    const r = await gradCheck([{ name: 'x', shape: [4] }], (g, [x]) => broken(g, x!));
    expect(r.failures.length).toBe(4);
  });

  it('dropout: kept elements scaled by 1/(1−p), gradient through the same mask', async () => {
    const g = new Graph('dropout');
    const n = 4000;
    const x = g.input('x', 'float32', [n], { requiresGrad: true });
    const y = op.dropout(g, x, 0.25, 7);
    const r = g.constant(
      Float32Array.from({ length: n }, (_, i) => (i % 5) + 1),
      [n],
      'float32',
    );
    const loss = op.reduceSum(g, op.mul(g, y, r), [0], false);
    g.output(y, 'y');
    g.output(gradients(g, loss, [x])[0]!, 'dx');
    const s = await ort.InferenceSession.create(g.encode());
    const out = await s.run({ x: new ort.Tensor('float32', new Float32Array(n).fill(3), [n]) });
    const yv = out.y!.data as Float32Array;
    const dx = out.dx!.data as Float32Array;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const on = yv[i] !== 0;
      if (on) kept++;
      expect(yv[i]).toBeCloseTo(on ? 3 / 0.75 : 0, 5);
      expect(dx[i]).toBeCloseTo(on ? ((i % 5) + 1) / 0.75 : 0, 5);
    }
    expect(kept / n).toBeGreaterThan(0.72);
    expect(kept / n).toBeLessThan(0.78);
    await s.release();
  });
});

describe('graph shape checks', () => {
  it('rejects mismatched matmul / linear / broadcast shapes at build time with the shapes in the message', () => {
    const g = new Graph('bad');
    const a = g.input('a', 'float32', [4, 3], { requiresGrad: true });
    const b = g.input('b', 'float32', [4, 5]);
    expect(() => op.matmul(g, a, b)).toThrow(GraphShapeError);
    expect(() => op.matmul(g, a, b)).toThrow(/inner dimensions differ.*3 vs 4/);
    expect(() => op.linear(g, a, b, null)).toThrow(/3 features but weight b\[4,5\] expects 5/);
    expect(() => op.add(g, a, b)).toThrow(/do not broadcast/);
    expect(() => op.reshape(g, a, [5, 2])).toThrow(/12 elements/);
    expect(() => op.layerNorm(g, a, b, null)).toThrow(/weight b\[4,5\] must be \[3\]/);
  });
});
