/**
 * Transposes folded into the products that read them (transposeFolding.ts), through the whole executor: the
 * attention pattern (q·kᵀ, then Pᵀ·dY) against ONNX Runtime's CPU provider, with a transpose that something
 * else also reads (kept) and one that is a graph output (kept).
 */
import { describe, expect, it } from 'vitest';
import { Graph } from '../graph/graph.ts';
import { expectRewritesExact, floats } from './testing/rewrites.ts';

describe('transposes folded into matrix products', () => {
  it('attention: kᵀ and Pᵀ are read in place; a transpose read elsewhere or output is kept', async () => {
    const [B, H, T, D] = [2, 3, 20, 8];
    const g = new Graph('attention', { kernels: 'portable' });
    const q = g.input('q', 'float32', [B, H, T, D]);
    const k = g.input('k', 'float32', [B, H, T, D]);
    const dy = g.input('dy', 'float32', [B, H, T, D]);
    const kT = g.emit1('Transpose', [k], [B, H, D, T], 'float32', { perm: { ints: [0, 1, 3, 2] } });
    const scores = g.emit1('MatMul', [q, kT], [B, H, T, T], 'float32');
    const p = g.emit1('Softmax', [scores], [B, H, T, T], 'float32', { axis: { int: -1 } });
    const pT = g.emit1('Transpose', [p], [B, H, T, T], 'float32', { perm: { ints: [0, 1, 3, 2] } });
    g.output(g.emit1('MatMul', [pT, dy], [B, H, T, D], 'float32'), 'dv');
    // read by a product and by an Add: the product reads q in place, the Add the stored transpose
    const qT = g.emit1('Transpose', [q], [B, H, D, T], 'float32', { perm: { ints: [0, 1, 3, 2] } });
    g.output(g.emit1('MatMul', [dy, qT], [B, H, T, T], 'float32'), 'dyq');
    g.output(g.emit1('Add', [qT, qT], [B, H, D, T], 'float32'), 'q2');
    // a graph output is computed even when a product could read around it
    const dyT = g.emit1('Transpose', [dy], [B, H, D, T], 'float32', { perm: { ints: [0, 1, 3, 2] } });
    g.output(dyT, 'dyT');
    g.output(g.emit1('MatMul', [dyT, q], [B, H, D, D], 'float32'), 'g');
    const feeds = { q: floats([B, H, T, D], 1), k: floats([B, H, T, D], 2), dy: floats([B, H, T, D], 3) };

    const { rewritten, plain } = await expectRewritesExact(g, feeds);
    expect(plain.dispatches - rewritten.dispatches).toBe(2);
  });
});
