import { expect, it } from 'vitest';
import { cpuProductGflops } from './cpuProductRate.ts';

it('measures the rate this CPU multiplies float32 matrices at, in GFLOP/s', async () => {
  const t0 = performance.now();
  const gflops = await cpuProductGflops(1);
  // one core of anything that runs Node multiplies at more than 1 GFLOP/s, and none at 10 TFLOP/s
  expect(gflops).toBeGreaterThan(1);
  expect(gflops).toBeLessThan(10_000);
  // cheap enough to ask before every auto choice
  expect(performance.now() - t0).toBeLessThan(10_000);
});
