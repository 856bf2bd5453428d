import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LegacyBatchStream, TorchBatchStream } from './batches.ts';
import { openTokens } from './data.ts';
import { deriveSeed, Rng } from './rng.ts';
import { TorchGenerator } from './torchRng.ts';

const dir = mkdtempSync(join(tmpdir(), 'xai-engine-batches-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tokenFile(name: string, n: number): string {
  const path = join(dir, name);
  writeFileSync(path, new Uint8Array(Uint16Array.from({ length: n }, (_, i) => i).buffer));
  return path;
}

describe('batch streams', () => {
  // token i is i, so a window's first token is its offset
  const train = openTokens(tokenFile('train.bin', 900), 'uint16');
  const val = openTokens(tokenFile('val.bin', 300), 'uint16');
  const splits = { train, val, batch: 4, block: 16 };
  const offsetsOf = (x: Int32Array) => Array.from({ length: 4 }, (_, b) => x[b * 16]!);

  it("draws in train.py's order from PyTorch's generator: prefetch, evaluation, step, prefetch", () => {
    // torch.manual_seed(11); then, as train.py: get_batch('train') before the loop, estimate_loss at
    // iteration 0 (2 train, 2 val batches), then each step's batch is the prefetched one, the next drawn after it
    const expected = {
      pre: [157, 831, 556, 655],
      evalTrain: [
        [133, 399, 161, 536],
        [481, 731, 738, 768],
      ],
      evalVal: [
        [225, 156, 100, 73],
        [12, 229, 232, 153],
      ],
      next: [
        [324, 342, 668, 205],
        [254, 381, 521, 851],
      ],
    };
    const draws: [string, readonly number[]][] = [];
    const s = new TorchBatchStream(new TorchGenerator(11), splits, null, (split, o) =>
      draws.push([split, o]),
    );
    expect(draws).toEqual([['train', expected.pre]]);
    const x = new Int32Array(64);
    const y = new Int32Array(64);
    for (const split of ['train', 'val'] as const) {
      const next = s.evalBatches(0, split);
      for (let i = 0; i < 2; i++) {
        next(x, y);
        expect(offsetsOf(x)).toEqual((split === 'train' ? expected.evalTrain : expected.evalVal)[i]);
        expect(y[0]).toBe(x[0]! + 1);
      }
    }
    const state = s.state();
    expect(state.pendingBatch).toEqual(expected.pre);
    s.nextTrain(x, y);
    expect(offsetsOf(x)).toEqual(expected.pre); // the batch drawn before the evaluation
    expect(Array.from(x.subarray(0, 16))).toEqual(Array.from({ length: 16 }, (_, i) => 157 + i));
    expect(Array.from(y.subarray(0, 16))).toEqual(Array.from({ length: 16 }, (_, i) => 158 + i));
    s.nextTrain(x, y);
    expect(offsetsOf(x)).toEqual(expected.next[0]);
    expect(s.state().pendingBatch).toEqual(expected.next[1]);

    // a stream restored from a state continues exactly
    const restored = new TorchBatchStream(new TorchGenerator(state.rngState), splits, state.pendingBatch);
    restored.nextTrain(x, y);
    expect(offsetsOf(x)).toEqual(expected.pre);
    restored.nextTrain(x, y);
    expect(offsetsOf(x)).toEqual(expected.next[0]);
    expect(() => new TorchBatchStream(new TorchGenerator(1), splits, [1, 2])).toThrow(/2 rows/);
  });

  it('the legacy stream (format-1 checkpoints): on-demand xoshiro batches, evaluation from derived seeds', () => {
    const s = new LegacyBatchStream(new Rng(42), 7, splits);
    const x = new Int32Array(64);
    const y = new Int32Array(64);
    s.nextTrain(x, y);
    const ref = new Rng(42);
    expect(offsetsOf(x)).toEqual(Array.from({ length: 4 }, () => ref.randint(884)));
    expect(s.state()).toEqual({ rngState: ref.getState(), pendingBatch: null });
    s.evalBatches(10, 'val')(x, y);
    const ev = new Rng(deriveSeed(7, 'eval', 10, 'val'));
    expect(offsetsOf(x)).toEqual(Array.from({ length: 4 }, () => ev.randint(284)));
    expect(s.state().rngState).toBe(ref.getState()); // evaluation leaves the training stream alone
  });
});
