/**
 * A summary of an ONNX Runtime profile (the Chrome-trace JSON that `enableProfiling` writes): where a
 * session's run spends its time, by op type and by node, over the runs after the warm-up ones. With an
 * accelerator, node times are what the host spends issuing each kernel; GPU-side kernel events, when
 * the provider records them (any category other than Session, Node and Api), are summed separately.
 */
interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string; provider?: string };
}

export interface ProfileRow {
  name: string;
  ms: number;
  pct: number;
  count: number;
}

export interface ProfileSummary {
  runs: number;
  /** Median wall time of one run, ms. */
  runMs: number;
  nodeEvents: number;
  byOpType: (ProfileRow & { opType: string })[];
  topNodes: (ProfileRow & { opType: string })[];
  /** Provider-recorded kernel events (GPU time), by name; empty when the provider records none. */
  kernels: ProfileRow[];
}

export function summariseProfile(
  trace: unknown,
  opts: { skipRuns?: number; top?: number } = {},
): ProfileSummary {
  if (!Array.isArray(trace)) throw new Error('an ONNX Runtime profile is a JSON array of trace events');
  const events = trace as TraceEvent[];
  const runs = events
    .filter((e) => e.cat === 'Session' && e.name === 'model_run' && typeof e.ts === 'number')
    .sort((a, b) => a.ts! - b.ts!);
  const kept = runs.slice(Math.min(opts.skipRuns ?? 0, Math.max(0, runs.length - 1)));
  const inKept = (e: TraceEvent) =>
    kept.length === 0 || kept.some((r) => e.ts! >= r.ts! && e.ts! <= r.ts! + (r.dur ?? 0));
  const nodes = events.filter(
    (e) => e.cat === 'Node' && e.name?.endsWith('_kernel_time') && typeof e.dur === 'number' && inKept(e),
  );
  const total = nodes.reduce((s, e) => s + e.dur!, 0) || 1;
  const group = <K extends string>(items: TraceEvent[], key: (e: TraceEvent) => K, denominator: number) => {
    const m = new Map<K, { us: number; count: number; sample: TraceEvent }>();
    for (const e of items) {
      const k = key(e);
      const cur = m.get(k) ?? { us: 0, count: 0, sample: e };
      cur.us += e.dur!;
      cur.count++;
      m.set(k, cur);
    }
    return [...m.entries()]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, opts.top ?? 15)
      .map(([name, v]) => ({
        name,
        ms: Math.round(v.us / 10) / 100,
        pct: Math.round((v.us / denominator) * 1000) / 10,
        count: v.count,
        opType: v.sample.args?.op_name ?? '?',
      }));
  };
  const kernelEvents = events.filter(
    (e) =>
      e.cat !== undefined &&
      !['Session', 'Node', 'Api'].includes(e.cat) &&
      typeof e.dur === 'number' &&
      inKept(e),
  );
  const kernelTotal = kernelEvents.reduce((s, e) => s + e.dur!, 0) || 1;
  const durations = kept.map((r) => r.dur ?? 0).sort((a, b) => a - b);
  return {
    runs: kept.length,
    runMs: durations.length ? Math.round(durations[Math.floor(durations.length / 2)]! / 10) / 100 : 0,
    nodeEvents: nodes.length,
    byOpType: group(nodes, (e) => e.args?.op_name ?? '?', total).map((r) => ({ ...r, opType: r.name })),
    topNodes: group(nodes, (e) => e.name!.replace(/_kernel_time$/, ''), total),
    kernels: group(kernelEvents, (e) => e.name ?? '?', kernelTotal).map(({ opType: _o, ...r }) => r),
  };
}
