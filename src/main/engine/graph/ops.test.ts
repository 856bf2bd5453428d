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
