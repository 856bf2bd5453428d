import { describe, expect, it } from 'vitest';
import { causalMask } from '../gpt.ts';
import { gradCheck } from '../testing/gradcheck.ts';
import { causalSelfAttention, type AttentionDropout } from './attention.ts';
import { gradients } from './autodiff.ts';
import { Graph, type KernelSet, type Tensor } from './graph.ts';
import * as op from './ops.ts';

const shape = [1, 2, 5, 4];

function dropoutOf(g: Graph, p: number, seed: number): AttentionDropout | null {
  return p > 0 ? { p, seed, apply: (x) => op.dropoutWithMask(g, x, p, seed).y } : null;
}

function attention(g: Graph, [q, k, v]: Tensor[], p = 0): Tensor {
  const T = shape[2]!;
  const mask = g.constant(causalMask(T), [T, T], 'float32');
  return causalSelfAttention(g, q!, k!, v!, { scale: 0.5, mask, dropout: dropoutOf(g, p, 21) });
}

/** The same attention written as its ops, each differentiated on its own (what the graphs held before). */
function attentionByOps(g: Graph, [q, k, v]: Tensor[], p = 0): Tensor {
  const T = shape[2]!;
  const mask = g.constant(causalMask(T), [T, T], 'float32');
  let att = op.softmax(g, op.add(g, op.matmul(g, q!, k!, { transB: true, alpha: 0.5 }), mask), -1);
  const drop = dropoutOf(g, p, 21);
  if (drop) att = drop.apply(att);
  return op.matmul(g, att, v!);
}

const inputs = ['q', 'k', 'v'].map((name) => ({ name, shape }));

describe('causal self-attention as one differentiable op', () => {
  it.each([
    ['ort', 0],
    ['portable', 0],
    ['portable', 0.3],
  ] as const)(
    'gradients of q, k, v match finite differences (%s kernels, dropout %s)',
    async (kernels, p) => {
      const r = await gradCheck(inputs, (g, xs) => attention(g, xs, p), { kernels });
      expect(r.checked).toBeGreaterThan(0);
      expect(r.failures, `worst: ${r.worst}`).toEqual([]);
    },
  );

  it.each(['ort', 'portable'] as KernelSet[])(
    'emits the very nodes its ops emit one by one, forward and backward (%s kernels)',
    (kernels) => {
      const opTypes = (build: typeof attention) => {
        const g = new Graph('a', { kernels });
        const xs = inputs.map((i) => g.input(i.name, 'float32', i.shape, { requiresGrad: true }));
        const y = build(g, xs, 0.2);
        const loss = op.reduceSum(g, y, [0, 1, 2, 3], false);
        gradients(g, loss, xs).forEach((d, i) => g.output(d, `d${i}`));
        return g.toModel().graph.nodes.map((n) => n.opType);
      };
      expect(opTypes(attention)).toEqual(opTypes(attentionByOps));
    },
  );

  it('a portable graph records the site, with its gradients once differentiated; an ort graph records none', () => {
    const build = (kernels: KernelSet) => {
      const g = new Graph('a', { kernels });
      const xs = inputs.map((i) => g.input(i.name, 'float32', i.shape, { requiresGrad: true }));
      const y = attention(g, xs, 0.2);
      const grads = gradients(g, op.reduceSum(g, y, [0, 1, 2, 3], false), xs);
      return { g, xs, y, grads };
    };
    const { g, xs, y, grads } = build('portable');
    expect(g.attentionSites).toHaveLength(1);
    const site = g.attentionSites[0]!;
    expect([site.q, site.k, site.v, site.y]).toEqual([...xs, y]);
    expect(site.scale).toBe(0.5);
    expect(site.dropout).toMatchObject({ p: 0.2, seed: 21, key: g.dropoutKey });
    expect([site.grad?.dq, site.grad?.dk, site.grad?.dv]).toEqual(grads);
    expect(build('ort').g.attentionSites).toHaveLength(0);
  });
});
