import type { Graph, Tensor } from './graph/graph.ts';
import * as op from './graph/ops.ts';
import type { ParamLayout } from './gpt.ts';

/**
 * The flat vectors of a GPU graph (parameters, AdamW's moments, the gradient) in pieces that one storage binding
 * holds.
 *
 * Why: a GPU kernel binds at most `maxStorageBufferBindingSize` bytes of a buffer: 128 MiB on software Vulkan (and
 * all WebGPU guarantees), about 2 GiB on Direct3D 12. A flat vector of P floats bound whole caps the model at that
 * many bytes: 33.5 M parameters on software Vulkan (gpt2-small has 85 M with characters, 124 M with GPT-2's
 * tokens), 537 M on Direct3D 12. Cut into pieces of whole parameter tensors, each piece fits, and AdamW, the
 * gradient's norm and the accumulation run piece by piece. The executor (dawn/session.ts) moves a graph input that
 * is only split, and a graph output that is only joined, with the run's buffer copies, which no binding limits: the
 * whole vector stays one buffer for the runner, the checkpoints and the safetensors files, and is never bound.
 * Only the largest single tensor (the embedding, vocab × width) and the buffer size still cap the model.
 *
 * A model whose vectors fit one piece gets exactly the graph it always had; so does every CPU graph.
 */

/** The bytes of one piece: what WebGPU guarantees a binding may hold. */
export const FLAT_CHUNK_BYTES = 128 * 2 ** 20;

/** Consecutive parameter tensors [first, end) of the layout: floats [offset, offset + size) of the flat vectors. */
export interface FlatChunk {
  readonly first: number;
  readonly end: number;
  readonly offset: number;
  readonly size: number;
}

/**
 * The layout's tensors, in order, grouped greedily into pieces of at most maxBytes (float32); a tensor larger than
 * that is a piece of its own (the executor then names it as too large for the adapter).
 */
export function flatChunks(
  layout: Pick<ParamLayout, 'specs'>,
  maxBytes: number = FLAT_CHUNK_BYTES,
): FlatChunk[] {
  if (!(maxBytes > 0)) throw new Error(`flatChunks: a piece needs a positive byte budget, not ${maxBytes}`);
  const chunks: FlatChunk[] = [];
  let first = 0;
  let offset = 0;
  let size = 0;
  layout.specs.forEach((s, i) => {
    if (size > 0 && (size + s.size) * 4 > maxBytes) {
      chunks.push({ first, end: i, offset, size });
      first = i;
      offset += size;
      size = 0;
    }
    size += s.size;
  });
  if (layout.specs.length > 0) chunks.push({ first, end: layout.specs.length, offset, size });
  return chunks;
}

/** x [P] as the chunks' pieces; x itself when there is one chunk (no node). */
export function splitFlat(g: Graph, x: Tensor, chunks: readonly FlatChunk[]): Tensor[] {
  return chunks.length === 1
    ? [x]
    : op.split(
        g,
        x,
        0,
        chunks.map((c) => c.size),
      );
}

/** The pieces joined back into one [P] vector; the piece itself when there is one. */
export function joinFlat(g: Graph, pieces: readonly Tensor[]): Tensor {
  return op.concat(g, pieces, 0);
}
