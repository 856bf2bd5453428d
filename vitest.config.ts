import { defineConfig } from 'vitest/config';

// Unit tests live next to the code they test; contract tests in contracts/; e2e (Playwright) is separate.
// *.gpu.test.ts need a WebGPU adapter: `npm run test:webgpu` runs them on software Vulkan (or a real GPU).
// *.matrix.test.ts need one with f16 subgroup matrices: `npm run test:webgpu-matrix` (Mesa 26's lavapipe, or a GPU).
const shared = { environment: 'node', pool: 'forks', testTimeout: 60_000, hookTimeout: 60_000 } as const;
// The GPU tests of kernels that share workgroup memory between lanes (products, attention, row reductions, LayerNorm's
// gradient, the fused kernels' stores), run again by `npm run test:webgpu-races` with their lanes reversed. The training
// tests, which run the same kernels as whole graphs, take minutes more and stay in the natural order.
const RACE_CHECKED = [
  'src/main/engine/dawn/kernels/*.gpu.test.ts',
  'src/main/engine/dawn/attentionFusion.gpu.test.ts',
  'src/main/engine/dawn/epilogueFusion.gpu.test.ts',
  'src/main/engine/dawn/fusion.gpu.test.ts',
  'src/main/engine/dawn/layerNormFusion.gpu.test.ts',
  'src/main/engine/dawn/prologueFusion.gpu.test.ts',
];
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          include: [
            'src/**/*.test.ts',
            'src/**/*.test.tsx',
            'scripts/**/*.test.ts',
            'contracts/test/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**', 'src/**/*.gpu.test.ts', 'src/**/*.matrix.test.ts'],
        },
      },
      {
        test: {
          ...shared,
          name: 'webgpu',
          include: ['src/**/*.gpu.test.ts'],
          // one adapter, used by one file at a time
          fileParallelism: false,
        },
      },
      {
        // The kernels' own tests again with each workgroup's lanes in reverse order (dawn/laneOrder.ts): software
        // Vulkan runs lanes in order, so a missing barrier shows in one order or the other
        test: {
          ...shared,
          name: 'webgpu-races',
          include: RACE_CHECKED,
          // not the check that all six tilings give the same bits (100 s of compiling here): the tilings share one
          // generator, whose loads, barriers and double buffering the other product tests reach in this order
          exclude: ['src/main/engine/dawn/kernels/matmulTilings.gpu.test.ts'],
          env: { XAI_LINK_DAWN_LANE_ORDER: 'reversed' },
          fileParallelism: false,
        },
      },
      {
        test: {
          ...shared,
          name: 'webgpu-matrix',
          include: ['src/**/*.matrix.test.ts'],
          // `npm run test:webgpu-matrix` starts Node under Mesa 26's own C library (scripts/webgpu/env.ts --matrix):
          // a forked worker would start without it, a thread shares it
          pool: 'threads',
          fileParallelism: false,
        },
      },
      {
        test: {
          ...shared,
          name: 'webgpu-matrix-races',
          include: ['src/main/engine/dawn/kernels/*.matrix.test.ts'],
          env: { XAI_LINK_DAWN_LANE_ORDER: 'reversed' },
          pool: 'threads',
          fileParallelism: false,
        },
      },
    ],
  },
});
