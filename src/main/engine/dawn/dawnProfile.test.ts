import { describe, expect, it } from 'vitest';
import { summariseDawnProfile } from './dawnProfile.ts';
import type { KernelTraffic } from './session.ts';

// Three nodes: a split product (two dispatches), an elementwise kernel, and a fused attention kernel.
const traffic: KernelTraffic[] = [
  { kernel: 'Gemm', dispatches: 2, bytes: 3e6, flops: 2e9 },
  { kernel: 'Add', dispatches: 1, bytes: 12e6, flops: 0 },
  { kernel: 'CausalAttention', dispatches: 1, bytes: 1e6, flops: 1e9 },
];
const times = [
  { label: 'Gemm h [64,64] 8x8x8 K/2', ms: 0.15, node: 0 },
  { label: 'Gemm h [64,64] 8x8x8 K/2', ms: 0.05, node: 0 },
  { label: 'Add y [1000]', ms: 0.004, node: 1 },
  { label: 'CausalAttention a [4,8]', ms: 0.5, node: 2 },
];

describe('summariseDawnProfile', () => {
  it("sums a node's dispatches and reads each against its FLOPs or its bytes", () => {
    const s = summariseDawnProfile(times, traffic);
    expect(s.dispatches).toBe(4);
    expect(s.total_ms).toBeCloseTo(0.704, 6);
    // 2 GFLOP in 0.2 ms = 10 TFLOP/s; 12 MB in 0.004 ms = 3,000 GB/s
    expect(s.top_nodes).toEqual([
      { node: 'CausalAttention a [4,8]', ms: 0.5, tflop_per_s: 2, gb_per_s: 2 },
      { node: 'Gemm h [64,64] 8x8x8 K/2', ms: 0.2, tflop_per_s: 10, gb_per_s: 15 },
      { node: 'Add y [1000]', ms: 0.004, tflop_per_s: null, gb_per_s: 3000 },
    ]);
  });

  it('splits the time into products (TFLOP/s) and memory-bound kernels (GB/s), and by kernel kind', () => {
    const s = summariseDawnProfile(times, traffic);
    expect(s.products).toMatchObject({ nodes: 2, dispatches: 3, ms: 0.7, gflop: 3, tflop_per_s: 4.29 });
    expect(s.products.pct).toBeCloseTo(99.4, 1);
    expect(s.memory).toMatchObject({ nodes: 1, dispatches: 1, ms: 0.004, gb: 0.01, gb_per_s: 3000 });
    expect(s.memory.tflop_per_s).toBeNull();
    expect(s.by_kernel.map((k) => k.kernel)).toEqual(['CausalAttention', 'Gemm', 'Add']);
    expect(s.top_nodes.length).toBe(3);
    const topOne = summariseDawnProfile(times, traffic, 1);
    expect([topOne.top_nodes.length, topOne.by_kernel.length]).toEqual([1, 1]);
    // the totals still cover every kernel
    expect(topOne.products.ms + topOne.memory.ms).toBeCloseTo(0.704, 6);
  });

  it('refuses a dispatch whose node the session does not have', () => {
    expect(() => summariseDawnProfile([{ label: 'Mul z', ms: 1, node: 3 }], traffic)).toThrow(
      /Mul z.*node 3/,
    );
    expect(() => summariseDawnProfile([{ label: 'Mul z', ms: 1, node: -1 }], traffic)).toThrow(/node -1/);
  });
});
