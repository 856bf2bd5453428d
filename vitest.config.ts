import { defineConfig } from 'vitest/config';

// Unit tests live next to the code they test; contract tests in contracts/; e2e (Playwright) is separate.
// *.gpu.test.ts need a WebGPU adapter: `npm run test:webgpu` runs them on software Vulkan (or a real GPU).
// *.matrix.test.ts need one with f16 subgroup matrices: `npm run test:webgpu-matrix` (Mesa 26's lavapipe, or a GPU).
const shared = { environment: 'node', pool: 'forks', testTimeout: 60_000, hookTimeout: 60_000 } as const;
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
    ],
  },
});
