import type { GraphNode, Tensor } from '../graph/graph.ts';
import { edgesOf } from './graphEdit.ts';
import { attributeValue, numelOf } from './kernel.ts';

/**
 * Which Split and Concat nodes of a graph the run's buffer copies can stand in for, so that the whole tensor they
 * cut or join is never bound by a kernel.
 *
 * Why: a kernel binds at most `maxStorageBufferBindingSize` bytes of a buffer (128 MiB on software Vulkan), but a
 * buffer copy has no such limit. A GPU graph's flat vectors (parameters, AdamW's moments, the accumulated
 * gradient) are larger than one binding for models above 33.5 M parameters there; the graph cuts them into pieces
 * that fit (flatChunks.ts). Cutting an input that nothing else reads is then the upload's work: each piece is
 * copied from its byte range of the fed buffer into a buffer of its own. Joining pieces into an output that nothing
 * else reads is the read-back's: each is copied into its range of the handed buffer. The whole vector exists only
 * in the runner's buffer, as before, and costs no extra copy on the device either: the Split and Concat kernels
 * that did this moved the same bytes.
 *
 * A Split or Concat qualifies when its parts are contiguous byte ranges of the whole (every axis before the one
 * it cuts is 1), and recursively through op.split's and op.concat's trees of narrow nodes (ops.ts MAX_NODE_FAN).
 */

/** A tensor that holds bytes [offset, offset + its size) of a whole one. */
export interface Piece {
  readonly tensor: Tensor;
  /** Bytes into the whole tensor (four bytes an element: the device stores every type in 32 bits). */
  readonly offset: number;
}

export interface CopyPlan {
  /** Graph inputs whose pieces the upload copies from the feed: the inputs themselves have no buffer. */
  readonly scattered: ReadonlyMap<Tensor, readonly Piece[]>;
  /** Graph outputs copied together from their pieces after the kernels: no buffer of their own either. */
  readonly gathered: ReadonlyMap<Tensor, readonly Piece[]>;
  /** The Split and Concat nodes the copies stand in for: they run no kernel. */
  readonly copied: ReadonlySet<GraphNode>;
  /** Every tensor no buffer holds: those inputs and outputs, and the intermediate parts of nested nodes. */
  readonly unbound: ReadonlySet<Tensor>;
}

/**
 * `shapeOf` gives a tensor's static shape; `rewritten` tells nodes a graph rewrite made (their opType is not the
 * ONNX op's).
 */
export function planCopies(
  nodes: readonly GraphNode[],
  graph: { readonly inputs: readonly Tensor[]; readonly outputs: readonly Tensor[] },
  shapeOf: (t: Tensor) => number[],
  rewritten: (n: GraphNode) => boolean,
): CopyPlan {
  const { consumers: readers, producer } = edgesOf(nodes);
  const isOutput = new Set(graph.outputs);
  const bytesOf = (t: Tensor) => numelOf(shapeOf(t)) * 4;
  /** A default-domain Split or Concat whose parts are contiguous ranges of `whole`. */
  const cutsContiguously = (n: GraphNode, opType: 'Split' | 'Concat', whole: Tensor) => {
    if (n.opType !== opType || (n.domain !== '' && n.domain !== 'ai.onnx') || rewritten(n)) return false;
    const shape = shapeOf(whole);
    const raw = n.attributes.axis === undefined ? 0 : attributeValue(n.attributes.axis);
    if (typeof raw !== 'number') return false;
    const axis = raw < 0 ? raw + shape.length : raw;
    return shape.slice(0, axis).every((d) => d === 1);
  };

  const scattered = new Map<Tensor, Piece[]>();
  const gathered = new Map<Tensor, Piece[]>();
  const copied = new Set<GraphNode>();
  const unbound = new Set<Tensor>();

  /** A tensor only cut, each time as `whole` of its Split (a Split reads its sizes as its second input). */
  const onlySplit = (t: Tensor) => {
    const rs = [...(readers.get(t) ?? [])];
    return (
      rs.length > 0 &&
      !isOutput.has(t) &&
      rs.every((n) => n.inputs[0] === t && !n.inputs.slice(1).includes(t) && cutsContiguously(n, 'Split', t))
    );
  };
  const scatter = (t: Tensor, offset: number, pieces: Piece[]) => {
    if (!onlySplit(t)) {
      pieces.push({ tensor: t, offset });
      return;
    }
    unbound.add(t);
    for (const n of readers.get(t)!) {
      copied.add(n);
      let at = offset;
      for (const part of n.outputs) {
        scatter(part, at, pieces);
        at += bytesOf(part);
      }
    }
  };
  for (const t of graph.inputs) {
    if (!onlySplit(t)) continue;
    const pieces: Piece[] = [];
    scatter(t, 0, pieces);
    scattered.set(t, pieces);
  }

  /** A tensor made by a contiguous Concat and read by nothing but `reader` (once), or nothing at all. */
  const joined = (t: Tensor, reader: GraphNode | null) => {
    const n = producer.get(t);
    if (!n || !cutsContiguously(n, 'Concat', t) || n.inputs.some((i) => i === null)) return false;
    const rs = readers.get(t);
    return reader === null ? !rs : rs?.size === 1 && rs.has(reader) && !isOutput.has(t);
  };
  const gather = (t: Tensor, offset: number, pieces: Piece[]) => {
    const n = producer.get(t)!;
    unbound.add(t);
    copied.add(n);
    let at = offset;
    for (const part of n.inputs as Tensor[]) {
      if (joined(part, n) && n.inputs.filter((i) => i === part).length === 1) gather(part, at, pieces);
      else pieces.push({ tensor: part, offset: at });
      at += bytesOf(part);
    }
  };
  for (const t of new Set(graph.outputs)) {
    if (graph.outputs.filter((o) => o === t).length > 1 || graph.inputs.includes(t) || !joined(t, null))
      continue;
    const pieces: Piece[] = [];
    gather(t, 0, pieces);
    gathered.set(t, pieces);
  }
  return { scattered, gathered, copied, unbound };
}
