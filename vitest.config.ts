import { defineConfig } from 'vitest/config';

// Unit tests live next to the code they test; contract tests in contracts/; e2e (Playwright) is separate.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'scripts/**/*.test.ts', 'contracts/test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
