import type { KernelGenerator } from '../kernel.ts';

export const layoutKernels: Record<string, KernelGenerator> = {};
