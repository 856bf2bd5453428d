import type { DispatchTime, KernelTraffic } from './session.ts';

/**
 * A kernel profile (DawnSession.profile) read against what each kernel has to do, so that one run on a GPU says
 * how far each kernel is from that GPU's limits, not only where the time goes. A product's measure is its
 * arithmetic rate (TFLOP/s, against the GPU's fp32 peak: about 67 TFLOP/s on an H100 or H200); every other
 * kernel's is its memory rate (GB/s, against the GPU's bandwidth: 3.35 TB/s on an H100, 4.8 on an H200), from
 * the bytes the session models it to move (each input and output once: a lower bound). The step's budget follows:
 * a kernel that runs far below both rates is where a step can still be won.
 */

/** What a group of kernels took, and the rates it reached. */
export interface ProfileGroup {
  readonly nodes: number;
  readonly dispatches: number;
  readonly ms: number;
  /** Share of all the kernels' time, %. */
  readonly pct: number;
  /** Arithmetic rate of its products; null where it has none. */
  readonly tflop_per_s: number | null;
  /** Modelled memory rate (bytes read and written once each). */
  readonly gb_per_s: number | null;
}

export interface DawnProfileSummary {
  readonly dispatches: number;
  readonly total_ms: number;
  /** The kernels that multiply matrices (products, fused attention): their TFLOP/s is what counts. */
  readonly products: ProfileGroup & { readonly gflop: number };
  /** The others (elementwise, reductions, layouts, the optimizer): their GB/s is what counts. */
  readonly memory: ProfileGroup & { readonly gb: number };
  /** By kernel kind ("Gemm+(Mul,Add)", "CausalAttention", "LayerNormGrad"…), the `top` that took most time. */
  readonly by_kernel: readonly (ProfileGroup & { readonly kernel: string })[];
  /** The `top` nodes that took longest, with their rates. */
  readonly top_nodes: readonly {
    readonly node: string;
    readonly ms: number;
    readonly tflop_per_s: number | null;
    readonly gb_per_s: number | null;
  }[];
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
/** Rates to three significant figures: a GPU's 12.3 TFLOP/s and a software adapter's 0.00223 alike. */
export const threeFigures = (x: number): number => Number(x.toPrecision(3));
const tflopPerS = (flops: number, ms: number) =>
  flops > 0 && ms > 0 ? threeFigures(flops / (ms * 1e9)) : null;
const gbPerS = (bytes: number, ms: number) => (ms > 0 ? threeFigures(bytes / (ms * 1e6)) : null);

interface Tally {
  nodes: Set<number>;
  dispatches: number;
  ms: number;
  bytes: number;
  flops: number;
}
const tally = (): Tally => ({ nodes: new Set(), dispatches: 0, ms: 0, bytes: 0, flops: 0 });

/**
 * Sums a profile's dispatches by node (a split product is two dispatches, attention's backward three), then by
 * kernel kind and into products and the rest. `traffic` is the profiled session's kernelTraffic: every
 * dispatch's `node` must index it.
 */
export function summariseDawnProfile(
  times: readonly DispatchTime[],
  traffic: readonly KernelTraffic[],
  top = 15,
): DawnProfileSummary {
  const byNode = new Map<number, { label: string; ms: number; dispatches: number }>();
  for (const t of times) {
    if (!Number.isInteger(t.node) || t.node < 0 || t.node >= traffic.length)
      throw new Error(
        `dispatch "${t.label}" names node ${t.node}, which the session's kernelTraffic does not have`,
      );
    const n = byNode.get(t.node) ?? { label: t.label, ms: 0, dispatches: 0 };
    n.ms += t.ms;
    n.dispatches += 1;
    byNode.set(t.node, n);
  }
  const total = times.reduce((sum, t) => sum + t.ms, 0);
  const products = tally();
  const memory = tally();
  const kinds = new Map<string, Tally>();
  for (const [index, n] of byNode) {
    const k = traffic[index]!;
    const kind = kinds.get(k.kernel) ?? tally();
    kinds.set(k.kernel, kind);
    for (const g of [kind, k.flops > 0 ? products : memory]) {
      g.nodes.add(index);
      g.dispatches += n.dispatches;
      g.ms += n.ms;
      g.bytes += k.bytes;
      g.flops += k.flops;
    }
  }
  const group = (g: Tally): ProfileGroup => ({
    nodes: g.nodes.size,
    dispatches: g.dispatches,
    ms: round(g.ms, 3),
    pct: total > 0 ? round((g.ms / total) * 100, 1) : 0,
    tflop_per_s: tflopPerS(g.flops, g.ms),
    gb_per_s: g.nodes.size > 0 ? gbPerS(g.bytes, g.ms) : null,
  });
  return {
    dispatches: times.length,
    total_ms: round(total, 3),
    products: { ...group(products), gflop: round(products.flops / 1e9, 1) },
    memory: { ...group(memory), gb: round(memory.bytes / 1e9, 2) },
    by_kernel: [...kinds]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, top)
      .map(([kernel, g]) => ({ kernel, ...group(g) })),
    top_nodes: [...byNode]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, top)
      .map(([index, n]) => ({
        node: n.label,
        ms: round(n.ms, 3),
        tflop_per_s: tflopPerS(traffic[index]!.flops, n.ms),
        gb_per_s: gbPerS(traffic[index]!.bytes, n.ms),
      })),
  };
}
