/**
 * A readers–writer lock with a FIFO queue: once a writer waits, later readers queue behind it, so a
 * writer (switching networking on/off, stopping, garbage collection) is never starved by a stream of
 * readers (adds, reads, pins).
 */
export class RwLock {
  #readers = 0;
  #writer = false;
  readonly #queue: { write: boolean; grant: () => void }[] = [];

  read(): Promise<() => void> {
    return this.#acquire(false);
  }

  write(): Promise<() => void> {
    return this.#acquire(true);
  }

  get busy(): boolean {
    return this.#writer || this.#readers > 0;
  }

  #acquire(write: boolean): Promise<() => void> {
    return new Promise((resolve) => {
      this.#queue.push({
        write,
        grant: () => {
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            if (write) this.#writer = false;
            else this.#readers--;
            this.#pump();
          });
        },
      });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#queue.length > 0 && !this.#writer) {
      const next = this.#queue[0]!;
      if (next.write) {
        if (this.#readers > 0) return;
        this.#queue.shift();
        this.#writer = true;
        next.grant();
        return;
      }
      this.#queue.shift();
      this.#readers++;
      next.grant();
    }
  }
}

/** The shape of Helia's, bitswap's and unixfs's progress events (progress-events' ProgressEvent). */
export interface ProgressEventLike {
  type: string;
  detail?: unknown;
}

/**
 * Aborts a network fetch that makes no progress for `ms` (not one that merely takes long: a 10 GB
 * dataset may take an hour). Call touch() whenever a block or chunk arrives; pause() while the
 * consumer holds a chunk, so a slow consumer is not mistaken for a silent network.
 */
export class StallTimer {
  readonly signal: AbortSignal;
  readonly ms: number;
  timedOut = false;
  /** The last block asked of the network, named in the timeout error. */
  lastWanted: string | null = null;
  readonly #controller = new AbortController();
  #timer: NodeJS.Timeout | undefined;

  constructor(ms: number, parent?: AbortSignal) {
    this.ms = ms;
    this.signal = parent ? AbortSignal.any([this.#controller.signal, parent]) : this.#controller.signal;
    this.touch();
  }

  touch(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.timedOut = true;
      this.#controller.abort(new Error(`no progress for ${this.ms} ms`));
    }, this.ms);
    this.#timer.unref?.();
  }

  pause(): void {
    clearTimeout(this.#timer);
  }

  /** For Helia/unixfs `onProgress`: every event is progress; remember which block was wanted. */
  readonly onProgress = (evt: ProgressEventLike): void => {
    this.touch();
    if (evt.type.includes('providers:get') && evt.detail != null) this.lastWanted = String(evt.detail);
  };

  dispose(): void {
    clearTimeout(this.#timer);
  }
}
