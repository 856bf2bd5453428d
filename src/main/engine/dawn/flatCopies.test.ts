import { describe, expect, it } from 'vitest';
import { Graph, type Tensor } from '../graph/graph.ts';
import * as op from '../graph/ops.ts';
import { planCopies } from './flatCopies.ts';

const shapeOf = (t: Tensor) => t.shape as number[];
const plan = (g: Graph) => {
  const p = g.program();
  return { p, copies: planCopies(p.nodes, p, shapeOf, () => false) };
};
const names = (pieces: readonly { tensor: Tensor; offset: number }[] | undefined) =>
  (pieces ?? []).map((q) => [q.tensor.name, q.offset]);

describe('planCopies', () => {
  it('copies an input only split into its pieces, through a tree of Splits, at their byte offsets', () => {
    const g = new Graph('scatter', { kernels: 'portable' });
    const x = g.input('x', 'float32', [21]);
    // twelve parts: op.split makes a Split into groups, then a Split of each group (MAX_NODE_FAN 8)
    const parts = op.split(g, x, 0, [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 5]);
    parts.forEach((t, i) => g.output(g.emit1('Neg', [t], t.shape, 'float32'), `y${i}`));
    const { p, copies } = plan(g);
    const splits = p.nodes.filter((n) => n.opType === 'Split');
    expect(splits.length).toBeGreaterThan(1);
    expect(splits.every((n) => copies.copied.has(n))).toBe(true);
    const pieces = copies.scattered.get(x)!;
    expect(pieces.map((q) => q.tensor)).toEqual(parts);
    let at = 0;
    pieces.forEach((q) => {
      expect(q.offset).toBe(at);
      at += (q.tensor.shape[0] as number) * 4;
    });
    expect(copies.unbound.has(x)).toBe(true);
    for (const part of parts) expect(copies.unbound.has(part)).toBe(false);
  });

  it('copies an output only joined from pieces, through a tree of Concats', () => {
    const g = new Graph('gather', { kernels: 'portable' });
    const xs = Array.from({ length: 10 }, (_, i) =>
      g.emit1('Neg', [g.input(`x${i}`, 'float32', [i + 1])], [i + 1], 'float32'),
    );
    const y = g.output(op.concat(g, xs, 0), 'y');
    const { p, copies } = plan(g);
    expect(p.nodes.filter((n) => n.opType === 'Concat').every((n) => copies.copied.has(n))).toBe(true);
    const offsets = xs.map((_, i) => ((i * (i + 1)) / 2) * 4); // 1 + 2 + … + i floats before part i
    expect(names(copies.gathered.get(y))).toEqual(xs.map((t, i) => [t.name, offsets[i]]));
  });

  it('leaves to kernels what a kernel must read whole: another reader, a strided cut, an output read in the graph', () => {
    const g = new Graph('bound', { kernels: 'portable' });
    const a = g.input('a', 'float32', [6]);
    const [a0, a1] = op.split(g, a, 0, [2, 4]);
    g.output(g.emit1('Neg', [a], [6], 'float32'), 'negA'); // a is read whole too
    g.output(a0!, 'a0');
    g.output(a1!, 'a1');
    const b = g.input('b', 'float32', [2, 6]);
    const [b0, b1] = op.split(g, b, 1, [3, 3]); // along the second axis of two rows: strided
    g.output(op.concat(g, [b0!, b1!], 0), 'rows');
    const c = g.input('c', 'float32', [1, 6]);
    const cs = op.split(g, c, 1, [3, 3]); // the same cut of one row is contiguous
    const joined = op.concat(
      g,
      cs.map((t) => g.emit1('Neg', [t], t.shape, 'float32')),
      1,
    );
    g.output(joined, 'joined');
    g.output(g.emit1('Neg', [joined], joined.shape, 'float32'), 'negJoined'); // read again: not gathered
    const { copies } = plan(g);
    expect([...copies.scattered.keys()].map((t) => t.name)).toEqual(['c']);
    expect([...copies.gathered.keys()].map((t) => t.name)).toEqual(['rows']);
    expect(names(copies.gathered.get([...copies.gathered.keys()][0]!))).toEqual([
      [b0!.name, 0],
      [b1!.name, 6 * 4],
    ]);
  });
});
