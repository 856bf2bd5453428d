import ort from 'onnxruntime-node';
import { expect } from 'vitest';
import type { Graph } from '../../graph/graph.ts';
import { DawnSession } from '../session.ts';
import { randomFloats } from './runKernel.ts';

/**
 * Tests of the executor's graph rewrites (fusion.ts and its siblings): a graph run by ONNX Runtime's CPU provider
 * (the reference), by our executor with its rewrites, and node by node.
 */

export type Feeds = Record<string, ort.Tensor>;

export const floats = (shape: number[], seed: number): ort.Tensor =>
  new ort.Tensor(
    'float32',
    randomFloats(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

/** max |got − want| / max(1, |want|) over two float tensors of the same length. */
export function worstRelativeError(got: ort.Tensor, want: ort.Tensor): number {
  const a = got.data as Float32Array;
  const b = want.data as Float32Array;
  expect(a.length).toBe(b.length);
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return w;
}

/** One run of the graph on Dawn, rewritten or node by node. */
export async function runOnDawn(
  g: Graph,
  feeds: Feeds,
  rewritten: boolean,
): Promise<{ out: Record<string, ort.Tensor>; dispatches: number; deviceBytes: number }> {
  const session = await DawnSession.create(g, { rewrite: rewritten });
  try {
    return {
      out: await session.run(feeds),
      dispatches: session.dispatchCount,
      deviceBytes: session.deviceBytes,
    };
  } finally {
    await session.release();
  }
}

/**
 * Runs the graph on the CPU and on Dawn both ways and checks every output against the CPU's: floats within
 * `tolerance` of |Δ| / max(1, |reference|), integers exactly. Returns both runs' dispatch counts and device bytes.
 */
export async function expectRewritesExact(
  g: Graph,
  feeds: Feeds,
  tolerance = 1e-5,
): Promise<{
  rewritten: { dispatches: number; deviceBytes: number };
  plain: { dispatches: number; deviceBytes: number };
}> {
  const cpu = await ort.InferenceSession.create(g.encode(), { executionProviders: ['cpu'] });
  let reference: Record<string, ort.Tensor>;
  try {
    reference = await cpu.run(feeds);
  } finally {
    await cpu.release();
  }
  const rewritten = await runOnDawn(g, feeds, true);
  const plain = await runOnDawn(g, feeds, false);
  for (const name of g.outputs.map((t) => t.name)) {
    const want = reference[name]!.data as Float32Array | Uint32Array;
    for (const run of [rewritten, plain]) {
      const got = run.out[name]!.data as Float32Array | Uint32Array;
      expect(got.length, name).toBe(want.length);
      if (want instanceof Float32Array) {
        let worst = 0;
        for (let i = 0; i < want.length; i++)
          worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
        expect(worst, name).toBeLessThanOrEqual(tolerance);
      } else expect(Array.from(got), name).toEqual(Array.from(want));
    }
  }
  return { rewritten, plain };
}

/** The dispatches a rewrite saves, after checking both ways against the CPU. */
export async function savedDispatches(g: Graph, feeds: Feeds, tolerance = 1e-5): Promise<number> {
  const { rewritten, plain } = await expectRewritesExact(g, feeds, tolerance);
  return plain.dispatches - rewritten.dispatches;
}
