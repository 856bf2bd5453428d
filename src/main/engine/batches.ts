import { readBatch, sampleBatch, type TokenSource } from './data.ts';
import { deriveSeed, Rng } from './rng.ts';
import type { TorchGenerator } from './torchRng.ts';

/**
 * Where a run's training and evaluation batches come from. The order of the draws decides which
 * batches a seed gives, so it is nanoGPT's (train.py) by default:
 *
 * - one generator (PyTorch's, `torch.manual_seed(seed)`) serves the initialisation, then every batch;
 * - `X, Y = get_batch('train')` is drawn once before the loop, and every (micro-)step trains on the
 *   batch drawn before it and then draws the next one (the prefetch);
 * - an evaluation (estimate_loss, at the top of an iteration, before its step) draws its batches from the
 *   same generator: evalIters batches of train, then evalIters of val;
 * - each batch is `torch.randint(len(split) − block_size, (batch_size,))`, the windows read in order.
 *
 * A checkpoint keeps the generator's state and the prefetched batch's offsets, so a resumed run draws
 * what the uninterrupted run would have drawn.
 */
export interface BatchStream {
  readonly kind: 'torch' | 'legacy';
  /** Writes the next training (micro-)batch into x and y. */
  nextTrain(x: Int32Array, y: Int32Array): void;
  /** A source of the evaluation batches of one split for the evaluation at `step` (called train first, then val). */
  evalBatches(step: number, split: 'train' | 'val'): (x: Int32Array, y: Int32Array) => void;
  /** What a checkpoint stores to continue the stream. */
  state(): BatchStreamState;
}

export interface BatchStreamState {
  rngState: string;
  /** Offsets of the prefetched training batch (nanoGPT order), or null (legacy runs draw on demand). */
  pendingBatch: number[] | null;
}

interface Splits {
  train: TokenSource;
  val: TokenSource;
  batch: number;
  block: number;
}

/** nanoGPT's order on PyTorch's generator (the default). */
export class TorchBatchStream implements BatchStream {
  readonly kind = 'torch';
  readonly #gen: TorchGenerator;
  readonly #s: Splits;
  #pending: number[];
  readonly #window: Int32Array;
  readonly #onDraw: ((split: 'train' | 'val', offsets: readonly number[]) => void) | undefined;

  /**
   * `gen` continues from wherever it is (after initParams for a new run). Without `pending` the first
   * training batch is drawn now, as train.py does before its loop. `onDraw` sees every draw's offsets
   * (for the parity checks).
   */
  constructor(
    gen: TorchGenerator,
    splits: Splits,
    pending: number[] | null = null,
    onDraw?: (split: 'train' | 'val', offsets: readonly number[]) => void,
  ) {
    this.#gen = gen;
    this.#s = splits;
    this.#onDraw = onDraw;
    this.#window = new Int32Array(splits.block + 1);
    if (pending && pending.length !== splits.batch)
      throw new Error(
        `the prefetched batch has ${pending.length} rows, the run's batch size is ${splits.batch}`,
      );
    this.#pending = pending ? [...pending] : this.#draw(splits.train);
  }

  /** torch.randint(len(split) − block_size, (batch_size,)). */
  #draw(src: TokenSource): number[] {
    const span = src.length - this.#s.block;
    const offsets = Array.from({ length: this.#s.batch }, () => this.#gen.randint(span));
    this.#onDraw?.(src === this.#s.train ? 'train' : 'val', offsets);
    return offsets;
  }

  nextTrain(x: Int32Array, y: Int32Array): void {
    readBatch(this.#s.train, this.#pending, this.#s.block, x, y, this.#window);
    this.#pending = this.#draw(this.#s.train);
  }

  evalBatches(_step: number, split: 'train' | 'val'): (x: Int32Array, y: Int32Array) => void {
    const src = this.#s[split];
    return (x, y) => readBatch(src, this.#draw(src), this.#s.block, x, y, this.#window);
  }

  state(): BatchStreamState {
    return { rngState: this.#gen.getState(), pendingBatch: [...this.#pending] };
  }
}

/**
 * The order of runs checkpointed before the PyTorch-compatible stream (checkpoint format 1): training
 * batches drawn on demand from an xoshiro128** generator, evaluation batches from generators derived
 * from the seed, the step and the split. Kept so that such runs resume exactly.
 */
export class LegacyBatchStream implements BatchStream {
  readonly kind = 'legacy';
  readonly #rng: Rng;
  readonly #seed: number;
  readonly #s: Splits;
  readonly #window: Int32Array;

  constructor(rng: Rng, seed: number, splits: Splits) {
    this.#rng = rng;
    this.#seed = seed;
    this.#s = splits;
    this.#window = new Int32Array(splits.block + 1);
  }

  nextTrain(x: Int32Array, y: Int32Array): void {
    sampleBatch(this.#rng, this.#s.train, this.#s.batch, this.#s.block, x, y, this.#window);
  }

  evalBatches(step: number, split: 'train' | 'val'): (x: Int32Array, y: Int32Array) => void {
    const rng = new Rng(deriveSeed(this.#seed, 'eval', step, split));
    const src = this.#s[split];
    return (x, y) => sampleBatch(rng, src, this.#s.batch, this.#s.block, x, y, this.#window);
  }

  state(): BatchStreamState {
    return { rngState: this.#rng.getState(), pendingBatch: null };
  }
}
