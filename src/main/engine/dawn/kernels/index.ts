import type { KernelGenerator } from '../kernel.ts';
import { elementwiseKernels } from './elementwise.ts';
import { layoutKernels } from './layout.ts';
import { matmulKernels } from './matmul.ts';
import { reduceKernels } from './reduce.ts';

/** Every operator the Dawn executor runs with its own WGSL, by ONNX op type (views such as Reshape are the executor's). */
export const kernelGenerators: Readonly<Record<string, KernelGenerator>> = {
  ...elementwiseKernels,
  ...layoutKernels,
  ...matmulKernels,
  ...reduceKernels,
};
