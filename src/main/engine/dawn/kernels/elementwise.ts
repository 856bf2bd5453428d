import type { KernelGenerator } from '../kernel.ts';

export const elementwiseKernels: Record<string, KernelGenerator> = {};
