import { describe, expect, it } from 'vitest';
import { causalMask } from '../gpt.ts';
import { gradCheck } from '../testing/gradcheck.ts';
import { causalSelfAttention, type AttentionDropout } from './attention.ts';
import { gradients } from './autodiff.ts';
import { Graph, type KernelSet, type Tensor } from './graph.ts';
import * as op from './ops.ts';

// B = 2 sequences of T = 5, H = 2 heads of D = 4: qkv [B·T, 3·H·D]
const [B, T, H, D] = [2, 5, 2, 4];
const qkvShape = [B * T, 3 * H * D];

function dropoutOf(g: Graph, p: number, seed: number): AttentionDropout | null {
  return p > 0 ? { p, seed, apply: (x) => op.dropoutWithMask(g, x, p, seed).y } : null;
}

function attention(g: Graph, qkv: Tensor, p = 0): Tensor {
  const mask = g.constant(causalMask(T), [T, T], 'float32');
  return causalSelfAttention(g, qkv, {
    batch: B,
    seq: T,
    heads: H,
    scale: 0.5,
    mask,
    dropout: dropoutOf(g, p, 21),
  });
}

/** The same attention written as its ops, each differentiated on its own (what the graphs held before). */
function attentionByOps(g: Graph, qkv: Tensor, p = 0): Tensor {
  const mask = g.constant(causalMask(T), [T, T], 'float32');
  const heads = op.transpose(g, op.reshape(g, qkv, [B, T, 3, H, D]), [2, 0, 3, 1, 4]);
  const [q, k, v] = op.split(g, heads, 0, [1, 1, 1]).map((t) => op.reshape(g, t, [B, H, T, D]));
  let att = op.softmax(g, op.add(g, op.matmul(g, q!, k!, { transB: true, alpha: 0.5 }), mask), -1);
  const drop = dropoutOf(g, p, 21);
  if (drop) att = drop.apply(att);
  const y = op.matmul(g, att, v!);
  return op.reshape(g, op.transpose(g, y, [0, 2, 1, 3]), [-1, H * D]);
}

describe('causal self-attention as one differentiable op', () => {
  it.each([
    ['ort', 0],
    ['portable', 0],
    ['portable', 0.3],
  ] as const)(
    'the gradient of qkv matches finite differences (%s kernels, dropout %s)',
    async (kernels, p) => {
      const r = await gradCheck([{ name: 'qkv', shape: qkvShape }], (g, [qkv]) => attention(g, qkv!, p), {
        kernels,
        maxPerInput: 40,
      });
      expect(r.checked).toBeGreaterThan(0);
      expect(r.failures, `worst: ${r.worst}`).toEqual([]);
    },
  );

  it.each(['ort', 'portable'] as KernelSet[])(
    'emits the very nodes its ops emit one by one, forward and backward (%s kernels)',
    (kernels) => {
      const opTypes = (build: typeof attention) => {
        const g = new Graph('a', { kernels });
        const qkv = g.input('qkv', 'float32', qkvShape, { requiresGrad: true });
        const y = build(g, qkv, 0.2);
        const loss = op.reduceSum(g, y, [0, 1], false);
        g.output(gradients(g, loss, [qkv])[0]!, 'dqkv');
        return g.toModel().graph.nodes.map((n) => n.opType);
      };
      expect(opTypes(attention)).toEqual(opTypes(attentionByOps));
    },
  );

  it('a portable graph records the site, with its gradient once differentiated; an ort graph records none', () => {
    const build = (kernels: KernelSet) => {
      const g = new Graph('a', { kernels });
      const qkv = g.input('qkv', 'float32', qkvShape, { requiresGrad: true });
      const y = attention(g, qkv, 0.2);
      const [dqkv] = gradients(g, op.reduceSum(g, y, [0, 1], false), [qkv]);
      return { g, qkv, y, dqkv };
    };
    const { g, qkv, y, dqkv } = build('portable');
    expect(g.attentionSites).toHaveLength(1);
    const site = g.attentionSites[0]!;
    expect(site).toMatchObject({ qkv, y, heads: H, seq: T, scale: 0.5 });
    expect(y.shape).toEqual([B * T, H * D]);
    expect(site.dropout).toMatchObject({ p: 0.2, seed: 21, key: g.dropoutKey });
    expect(site.grad?.dqkv).toBe(dqkv);
    expect(build('ort').g.attentionSites).toHaveLength(0);
  });
});
