/**
 * Constant scales folded into the products that read them (scaleFolding.ts), through the whole executor, against
 * ONNX Runtime's CPU provider: attention's q·(1/√d) into a MatMul that also reads kᵀ in place, a scaled Gemm
 * operand with a bias (which must not be scaled), and a scaled tensor something else reads too (kept).
 */
import { describe, expect, it } from 'vitest';
import { Graph } from '../graph/graph.ts';
import { expectRewritesExact, floats } from './testing/rewrites.ts';

describe('constant scales folded into matrix products', () => {
  it('q·(1/√d)·kᵀ, a scaled Gemm operand with a bias, and a scale read elsewhere', async () => {
    const [B, H, T, D] = [2, 3, 20, 8];
    const g = new Graph('scaled', { kernels: 'portable' });
    const q = g.input('q', 'float32', [B, H, T, D]);
    const k = g.input('k', 'float32', [B, H, T, D]);
    const qs = g.emit1('Mul', [q, g.scalar(1 / Math.sqrt(D))], [B, H, T, D], 'float32');
    const kT = g.emit1('Transpose', [k], [B, H, D, T], 'float32', { perm: { ints: [0, 1, 3, 2] } });
    g.output(g.emit1('MatMul', [qs, kT], [B, H, T, T], 'float32'), 'scores');
    // Gemm: 0.5·(3·x)·Wᵀ + bias — α and the folded scale multiply; the bias is added as is
    const x = g.input('x', 'float32', [24, 16]);
    const w = g.input('w', 'float32', [12, 16]);
    const bias = g.input('bias', 'float32', [12]);
    const x3 = g.emit1('Mul', [g.scalar(3), x], [24, 16], 'float32');
    g.output(
      g.emit1('Gemm', [x3, w, bias], [24, 12], 'float32', { transB: { int: 1 }, alpha: 0.5 }),
      'linear',
    );
    // read by a product and by an Exp: the Mul stays
    const x2 = g.emit1('Mul', [x, g.scalar(2)], [24, 16], 'float32');
    g.output(g.emit1('MatMul', [x2, g.input('v', 'float32', [16, 4])], [24, 4], 'float32'), 'xv');
    g.output(g.emit1('Exp', [x2], [24, 16], 'float32'), 'ex');
    const feeds = {
      q: floats([B, H, T, D], 1),
      k: floats([B, H, T, D], 2),
      x: floats([24, 16], 3),
      w: floats([12, 16], 4),
      bias: floats([12], 5),
      v: floats([16, 4], 6),
    };
    const { rewritten, plain } = await expectRewritesExact(g, feeds);
    expect(plain.dispatches - rewritten.dispatches).toBe(3);
  });
});
