import ort from 'onnxruntime-node';
import { sessionOptions } from './device.ts';
import { Graph } from './graph/graph.ts';

/**
 * The product timed: [4,096, 768] · [768, 768] (4.8 GFLOP), a Linear layer of gpt2-small's width. Of the shapes
 * tried on the 2-core dev VM it ran the fastest (157 GFLOP/s; 1,024³ 114, baby's [16,384, 384] · [384, 1,536] 103,
 * cpu-tiny's [768, 128] · [128, 512] 60), so the floor it gives stays under a real step's time.
 */
const [M, K, N] = [4096, 768, 768];

/**
 * GFLOP/s at which ONNX Runtime's CPU provider multiplies float32 matrices here with `threads` threads: the best of
 * three runs of one product after a warm-up (about 0.2 s on two cores). A training step's products reach no more
 * than this, and its other work is slower still, so `step FLOPs / rate` is a floor under the CPU's step time:
 * `--device auto` uses it to leave out a CPU that cannot win without running a step of it (selectDevice).
 */
export async function cpuProductGflops(threads: number): Promise<number> {
  const g = new Graph('cpu_product_rate');
  const a = g.input('a', 'float32', [M, K]);
  const b = g.input('b', 'float32', [K, N]);
  g.output(g.emit1('MatMul', [a, b], [M, N], 'float32'), 'c');
  const session = await ort.InferenceSession.create(g.encode(), sessionOptions('cpu', threads));
  try {
    // the values do not matter to the speed (no denormals)
    const feeds = {
      a: new ort.Tensor('float32', new Float32Array(M * K).fill(0.5), [M, K]),
      b: new ort.Tensor('float32', new Float32Array(K * N).fill(0.25), [K, N]),
    };
    let best = Infinity;
    for (let run = 0; run < 4; run++) {
      const t0 = performance.now();
      const out = await session.run(feeds);
      const ms = performance.now() - t0;
      out.c!.dispose();
      if (run > 0) best = Math.min(best, ms);
    }
    return (2 * M * K * N) / (best * 1e6);
  } finally {
    await session.release();
  }
}
