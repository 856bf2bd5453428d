import type { KernelGenerator } from '../kernel.ts';

export const reduceKernels: Record<string, KernelGenerator> = {};
