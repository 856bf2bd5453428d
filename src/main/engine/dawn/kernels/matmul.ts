import type { KernelGenerator } from '../kernel.ts';

export const matmulKernels: Record<string, KernelGenerator> = {};
