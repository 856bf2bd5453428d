import ort from 'onnxruntime-node';
import { gradients } from '../graph/autodiff.ts';
import { Graph, numel, type KernelSet, type Shape, type Tensor } from '../graph/graph.ts';
import { mul, reduceSum } from '../graph/ops.ts';
import { Rng } from '../rng.ts';

/**
 * Finite-difference gradient check through real ONNX Runtime.
 *
 * Builds L = Σ y ⊙ R for the op's output y and a fixed random R (so ∂L/∂y = R exercises every output
 * element with a different weight), asks autodiff for ∂L/∂x, runs forward + backward in one session,
 * then compares each checked coordinate with the central difference (L(x + εeᵢ) − L(x − εeᵢ)) / 2ε.
 */
export interface GradInput {
  name: string;
  shape: number[];
  /** Values; random N(0, 1) when omitted. */
  values?: Float32Array;
  dtype?: 'float32' | 'int64' | 'int32';
  /** Integer inputs (ids) take no gradient. */
  ints?: number[];
}

export interface GradCheckResult {
  checked: number;
  maxAbsErr: number;
  maxRelErr: number;
  worst: string;
  failures: string[];
}

export async function gradCheck(
  inputs: GradInput[],
  build: (g: Graph, xs: Tensor[]) => Tensor,
  opts: {
    eps?: number;
    atol?: number;
    rtol?: number;
    maxPerInput?: number;
    seed?: number;
    /** Builds the graph from portable kernels (the GPU graphs' op set); ONNX Runtime's CPU runs both. */
    kernels?: KernelSet;
  } = {},
): Promise<GradCheckResult> {
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 2e-3;
  const rtol = opts.rtol ?? 2e-2;
  const rng = new Rng(opts.seed ?? 1234);
  const g = new Graph('gradcheck', { kernels: opts.kernels });
  const xs = inputs.map((i) =>
    g.input(i.name, i.dtype ?? 'float32', i.shape, { requiresGrad: (i.dtype ?? 'float32') === 'float32' }),
  );
  const y = build(g, xs);
  const r = new Float32Array(numel(y.shape as Shape)!);
  for (let i = 0; i < r.length; i++) r[i] = rng.normal();
  const weights = g.constant(r, y.shape, 'float32', 'R');
  const loss = reduceSum(
    g,
    mul(g, y, weights),
    y.shape.map((_, i) => i),
    false,
  );
  g.output(loss, 'loss');
  const floatInputs = xs.filter((x) => x.dtype === 'float32');
  const grads = gradients(g, loss, floatInputs);
  grads.forEach((d, i) => g.output(d, `grad_${floatInputs[i]!.name}`));
  const session = await ort.InferenceSession.create(g.encode(), {
    intraOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const values = inputs.map((i) => {
    if (i.dtype && i.dtype !== 'float32') {
      return i.dtype === 'int64'
        ? BigInt64Array.from(i.ints!.map((v) => BigInt(v)))
        : Int32Array.from(i.ints!);
    }
    if (i.values) return Float32Array.from(i.values);
    const v = new Float32Array(i.shape.reduce((a, b) => a * b, 1));
    for (let k = 0; k < v.length; k++) v[k] = rng.normal();
    return v;
  });
  const feeds = () => {
    const f: Record<string, ort.Tensor> = {};
    // computed dropout masks: one fixed key, so every evaluation sees the same mask
    if (g.dropoutKey) f[g.dropoutKey.name] = new ort.Tensor('uint32', new Uint32Array([5]), []);
    inputs.forEach((inp, k) => {
      const dt = inp.dtype ?? 'float32';
      f[inp.name] = new ort.Tensor(dt, values[k]!, inp.shape);
    });
    return f;
  };
  const base = await session.run(feeds());
  const lossAt = async () => Number((await session.run(feeds(), ['loss'])).loss!.data[0]);
  const result: GradCheckResult = { checked: 0, maxAbsErr: 0, maxRelErr: 0, worst: '', failures: [] };
  for (let k = 0; k < inputs.length; k++) {
    const inp = inputs[k]!;
    if ((inp.dtype ?? 'float32') !== 'float32') continue;
    const v = values[k] as Float32Array;
    const analytic = base[`grad_${inp.name}`]!.data as Float32Array;
    const count = Math.min(v.length, opts.maxPerInput ?? 24);
    const idxs =
      v.length <= count
        ? [...Array(v.length).keys()]
        : Array.from({ length: count }, () => rng.randint(v.length));
    for (const i of idxs) {
      const orig = v[i]!;
      v[i] = orig + eps;
      const lp = await lossAt();
      v[i] = orig - eps;
      const lm = await lossAt();
      v[i] = orig;
      const fd = (lp - lm) / (2 * eps);
      const an = analytic[i]!;
      const abs = Math.abs(fd - an);
      const rel = abs / Math.max(1e-6, Math.abs(fd), Math.abs(an));
      result.checked++;
      if (abs > result.maxAbsErr) {
        result.maxAbsErr = abs;
        result.worst = `${inp.name}[${i}]: analytic ${an}, numeric ${fd}`;
      }
      result.maxRelErr = Math.max(result.maxRelErr, abs > atol ? rel : 0);
      if (abs > atol + rtol * Math.abs(fd))
        result.failures.push(`${inp.name}[${i}]: analytic ${an}, numeric ${fd}`);
    }
  }
  await session.release();
  return result;
}
