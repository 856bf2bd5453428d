import {
  GraphShapeError,
  sameShape,
  shapeToString,
  type Graph,
  type TapeEntry,
  type Tensor,
} from './graph.ts';
import { zeros } from './ops.ts';

/**
 * Reverse-mode automatic differentiation over the graph's tape.
 *
 * The tape holds every differentiable op in the order it was built (a topological order). Walking it
 * backwards, each op whose outputs received a gradient runs its backward closure, which emits the
 * nodes computing its inputs' gradients; a tensor used by several ops accumulates the sum of their
 * contributions (multivariate chain rule). The emitted nodes join the same graph, so forward, loss
 * and backward run as one ONNX graph.
 *
 * @param seed ∂L/∂loss, a scalar tensor; 1 when omitted.
 * @returns ∂loss/∂w for each tensor in `wrt` (zeros for a tensor the loss does not depend on).
 */
export function gradients(g: Graph, loss: Tensor, wrt: readonly Tensor[], seed?: Tensor): Tensor[] {
  if (loss.rank !== 0) throw new GraphShapeError(`gradients: the loss ${loss} must be a scalar`);
  if (!loss.requiresGrad) {
    throw new GraphShapeError(
      `gradients: the loss ${loss} does not depend on any input that requires a gradient`,
    );
  }
  const grads = backprop(g, g.tape, new Map([[loss, seed ?? g.scalar(1)]]));
  return wrt.map((w) => grads.get(w) ?? zeros(g, w.shape));
}

/**
 * The reverse pass over `tape` from the given output gradients; returns every gradient it reached.
 * Also used on the local tape of a recomputed (checkpointed) segment.
 *
 * `eager`: tensors (parameters) whose gradients must be computed as soon as possible. ONNX Runtime
 * orders nodes by a depth-first walk back from the outputs, so a weight gradient, needed only by the
 * final update, would run after the rest of the backward pass and keep its inputs (activations)
 * alive until then. Each such gradient is tied into the same op's activation gradient as
 * `dx + 0·Σ dW[0]`, which puts it on the critical path.
 */
export function backprop(
  g: Graph,
  tape: readonly TapeEntry[],
  seeds: Map<Tensor, Tensor>,
  eager?: ReadonlySet<Tensor>,
): Map<Tensor, Tensor> {
  const grads = new Map(seeds);
  const wasRecording = g.recording;
  g.recording = false;
  try {
    for (let i = tape.length - 1; i >= 0; i--) {
      const entry = tape[i]!;
      const gOut = entry.outputs.map((o) => grads.get(o) ?? null);
      if (gOut.every((d) => d === null)) continue;
      const gIn = g.scope(`grad.${entry.op}`, () => {
        const d = entry.backward(gOut);
        return eager ? tieEagerGradients(g, entry.inputs, d, eager) : d;
      });
      entry.inputs.forEach((input, j) => {
        const d = gIn[j];
        if (!d || !input.requiresGrad) return;
        if (!sameShape(d.shape, input.shape)) {
          throw new GraphShapeError(
            `gradients: ${entry.op} produced a gradient of shape ${shapeToString(d.shape)} for ${input} (a bug in the op's backward)`,
          );
        }
        const prev = grads.get(input);
        grads.set(input, prev ? g.emit1('Add', [prev, d], input.shape, 'float32') : d);
      });
    }
  } finally {
    g.recording = wasRecording;
  }
  return grads;
}

/** The first element of a tensor, as a tensor of the same rank with every dimension 1. */
function firstElement(g: Graph, t: Tensor, rank = t.rank): Tensor {
  const one = g.emit1(
    'Slice',
    [t, g.vector(t.shape.map(() => 0)), g.vector(t.shape.map(() => 1))],
    t.shape.map(() => 1),
    'float32',
  );
  if (rank === t.rank) return one;
  const shape = new Array<number>(rank).fill(1);
  return g.emit1('Reshape', [one, g.vector(shape)], shape, 'float32');
}

function tieEagerGradients(
  g: Graph,
  inputs: readonly Tensor[],
  gIn: (Tensor | null | undefined)[],
  eager: ReadonlySet<Tensor>,
): (Tensor | null | undefined)[] {
  const target = inputs.findIndex((x, j) => !eager.has(x) && x.requiresGrad && gIn[j]);
  if (target < 0) return gIn;
  const dx = gIn[target]!;
  let tie: Tensor | null = null;
  inputs.forEach((x, j) => {
    const d = gIn[j];
    if (!d || !eager.has(x)) return;
    const e = firstElement(g, d, dx.rank);
    tie = tie ? g.emit1('Add', [tie, e], e.shape, 'float32') : e;
  });
  if (!tie) return gIn;
  const zero = g.emit1('Mul', [tie, g.scalar(0)], (tie as Tensor).shape, 'float32');
  const out = [...gIn];
  out[target] = g.emit1('Add', [dx, zero], dx.shape, 'float32');
  return out;
}

/**
 * Activation checkpointing (gradient checkpointing, Chen et al. 2016): `fn` runs forward without
 * recording its internals, so none of its intermediate activations are kept for the backward pass.
 * In the backward pass the segment is rebuilt from its inputs and differentiated locally: the memory
 * of one segment instead of all of them, for one extra forward pass.
 *
 * The rebuilt copy reads its activations through `x + 0·(dy[0] + b)`: a data dependency on the
 * segment's incoming gradient, so ONNX Runtime can neither merge the copy with the original (common
 * subexpression elimination) nor run it before the backward pass reaches the segment. `b` is a scalar
 * made of one element of each parameter gradient of the segment differentiated before (the one
 * above): ONNX Runtime orders nodes by a depth-first walk from the outputs, which would otherwise put
 * every weight gradient (needed only by the final update) after the whole backward pass and keep
 * every recomputed activation alive until then.
 *
 * `fn` is called twice (`replay` false, then true); anything random in it (dropout) must replay the
 * first call's draws on the second.
 *
 * @param acts the activations the segment reads (rebuilt through the dependency)
 * @param params the parameters it reads (their gradients flow out of the segment too)
 */
export function checkpoint(
  g: Graph,
  name: string,
  acts: readonly Tensor[],
  params: readonly Tensor[],
  fn: (acts: readonly Tensor[], replay: boolean) => Tensor,
): Tensor {
  const wasRecording = g.recording;
  g.recording = false;
  let out: Tensor;
  try {
    out = g.scope(name, () => fn(acts, false));
  } finally {
    g.recording = wasRecording;
  }
  const inputs = [...acts, ...params];
  if (!g.recording || !inputs.some((t) => t.requiresGrad)) return out;
  out.requiresGrad = true;
  g.tape.push({
    op: `checkpoint.${name}`,
    inputs,
    outputs: [out],
    backward: ([dy]) => {
      // 0·dy[0,…,0], broadcast: ties the recomputation to the backward pass (a scalar dy is its own first element)
      const first =
        dy!.rank === 0
          ? dy!
          : g.emit1(
              'Slice',
              [dy!, g.vector(dy!.shape.map(() => 0)), g.vector(dy!.shape.map(() => 1))],
              dy!.shape.map(() => 1),
              'float32',
            );
      const barrier = g.checkpointBarrier;
      const dep = barrier ? g.emit1('Add', [first, barrier], first.shape, 'float32') : first;
      const zero = g.emit1('Mul', [dep, g.scalar(0)], first.shape, 'float32');
      const replayed = acts.map((x) => {
        const r = g.emit1('Add', [x, zero], x.shape, 'float32');
        r.requiresGrad = x.requiresGrad;
        return r;
      });
      const saved = g.tape;
      const local: TapeEntry[] = [];
      let rebuilt: Tensor;
      g.tape = local;
      g.recording = true;
      try {
        rebuilt = g.scope(`${name}.recompute`, () => fn(replayed, true));
      } finally {
        g.tape = saved;
        g.recording = false;
      }
      const grads = backprop(g, local, new Map([[rebuilt, dy!]]), new Set(params));
      // the barrier for the next segment: Σ of the first element of each parameter gradient
      let b: Tensor | null = null;
      for (const p of params) {
        const d = grads.get(p);
        if (!d) continue;
        const s = firstElement(g, d, first.rank);
        b = b ? g.emit1('Add', [b, s], first.shape, 'float32') : s;
      }
      g.checkpointBarrier = b;
      return [...replayed, ...params].map((t) => grads.get(t) ?? null);
    },
  });
  return out;
}
