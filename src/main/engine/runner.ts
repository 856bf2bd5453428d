import ort from 'onnxruntime-node';
import type { DeviceName, EngineSession } from './device.ts';
import { TRAIN_IO } from './graphs.ts';

/**
 * Runs training steps on one ONNX Runtime session and owns the state buffers.
 *
 * CPU: two sets of flat [P] buffers (params, m, v) ping-pong: step k reads set A and writes its
 * outputs straight into set B (pre-allocated fetches, no copies, no allocation per step), step k + 1
 * reads B and writes A.
 * GPU (WebGPU): the updated state stays on the device (`preferredOutputLocation: 'gpu-buffer'`) and
 * is fed back as is. Evaluation and sampling sessions on the same device read the parameters where they
 * are; only checkpoints download them, through a copy session (`download`): onnxruntime-node's
 * `Tensor.getData()` on a gpu-buffer tensor aborts the process (an uncaught native exception), while a
 * session whose outputs live on the CPU copies them out correctly.
 *
 * Portable graphs with dropout take a `dropout_key` per run: (t − 1)·K + k for micro-batch k of K in
 * optimizer step t, so every micro-batch has its own masks and a resumed run recomputes the same ones.
 */
export interface StepResult {
  loss: number;
  gradNorm: number;
}

interface CpuSet {
  p: Float32Array;
  m: Float32Array;
  v: Float32Array;
  tp: ort.Tensor;
  tm: ort.Tensor;
  tv: ort.Tensor;
}

export const GPU_STATE_OUTPUTS = [TRAIN_IO.paramsOut, TRAIN_IO.mOut, TRAIN_IO.vOut];

export class StepRunner {
  readonly device: DeviceName;
  readonly size: number;
  readonly batch: number;
  readonly block: number;
  readonly #step: EngineSession;
  readonly #micro: EngineSession | null;
  readonly #accum: number;
  readonly #gpu: boolean;
  readonly #sets: [CpuSet, CpuSet];
  #cur = 0;
  /** Device-resident state (GPU mode), or null while the CPU set holds the state. */
  #dev: { p: ort.Tensor; m: ort.Tensor; v: ort.Tensor } | null = null;
  readonly x: Int32Array;
  readonly y: Int32Array;
  readonly #tx: ort.Tensor;
  readonly #ty: ort.Tensor;
  readonly #lr = new Float32Array(1);
  readonly #t = new Float32Array(1);
  readonly #tlr: ort.Tensor;
  readonly #tt: ort.Tensor;
  readonly #loss = new Float32Array(1);
  readonly #gn = new Float32Array(1);
  readonly #tloss: ort.Tensor;
  readonly #tgn: ort.Tensor;
  readonly #gacc: [Float32Array, Float32Array] | null;
  readonly #tgacc: [ort.Tensor, ort.Tensor] | null;
  readonly #microLoss = new Float32Array(1);
  readonly #tMicroLoss: ort.Tensor;
  readonly #download: EngineSession | null;
  /** The dropout key fed to graphs that take one (null when the step graph has no dropout_key input). */
  readonly #key: Uint32Array | null;
  readonly #tkey: ort.Tensor | null;

  constructor(o: {
    device: DeviceName;
    step: EngineSession;
    micro: EngineSession | null;
    size: number;
    batch: number;
    block: number;
    accum: number;
    gpuState: boolean;
    /** Copies params, adam_m, adam_v to CPU outputs (buildStateCopyGraph); required with gpuState. */
    download?: EngineSession;
    /** The starting state (adopted as the first buffer set, not copied); zeros when omitted. */
    initial?: { params: Float32Array; m: Float32Array; v: Float32Array };
  }) {
    this.device = o.device;
    this.size = o.size;
    this.batch = o.batch;
    this.block = o.block;
    this.#step = o.step;
    this.#micro = o.micro;
    this.#accum = o.accum;
    this.#gpu = o.gpuState;
    if (o.gpuState && !o.download)
      throw new Error('StepRunner: device-resident state needs a download session');
    this.#download = o.download ?? null;
    if (o.step.inputNames.includes(TRAIN_IO.dropoutKey)) {
      this.#key = new Uint32Array(1);
      this.#tkey = new ort.Tensor('uint32', this.#key, []);
    } else {
      this.#key = null;
      this.#tkey = null;
    }
    const mk = (n: number, init?: { params: Float32Array; m: Float32Array; v: Float32Array }): CpuSet => {
      const p = init?.params ?? new Float32Array(n);
      const m = init?.m ?? new Float32Array(n);
      const v = init?.v ?? new Float32Array(n);
      if (p.length !== n || m.length !== n || v.length !== n)
        throw new Error(`StepRunner: state of the wrong size (expected ${n})`);
      return { p, m, v, tp: this.#f32(p), tm: this.#f32(m), tv: this.#f32(v) };
    };
    // On the GPU path the state lives on the device after the first step: one CPU set is enough.
    this.#sets = [mk(o.size, o.initial), mk(o.gpuState ? 0 : o.size)];
    this.x = new Int32Array(o.batch * o.block);
    this.y = new Int32Array(o.batch * o.block);
    this.#tx = new ort.Tensor('int32', this.x, [o.batch, o.block]);
    this.#ty = new ort.Tensor('int32', this.y, [o.batch, o.block]);
    this.#tlr = new ort.Tensor('float32', this.#lr, []);
    this.#tt = new ort.Tensor('float32', this.#t, []);
    this.#tloss = new ort.Tensor('float32', this.#loss, []);
    this.#tgn = new ort.Tensor('float32', this.#gn, []);
    this.#tMicroLoss = new ort.Tensor('float32', this.#microLoss, []);
    if (o.accum > 1) {
      const a = new Float32Array(o.size);
      const b = new Float32Array(o.size);
      this.#gacc = [a, b];
      this.#tgacc = [this.#f32(a), this.#f32(b)];
    } else {
      this.#gacc = null;
      this.#tgacc = null;
    }
  }

  #f32(a: Float32Array): ort.Tensor {
    return new ort.Tensor('float32', a, [a.length]);
  }

  /** Loads parameters and optimizer moments (copied into the runner's buffers). */
  setState(params: Float32Array, m: Float32Array, v: Float32Array): void {
    this.#disposeDevice();
    const s = this.#sets[this.#cur]!;
    s.p.set(params);
    s.m.set(m);
    s.v.set(v);
  }

  /**
   * The current state on the CPU. On the CPU path these are views of the live buffers, valid until
   * the step after next; copy them to keep them longer.
   */
  async state(): Promise<{ params: Float32Array; m: Float32Array; v: Float32Array }> {
    if (this.#dev) {
      const out = await this.#download!.run({
        [TRAIN_IO.params]: this.#dev.p,
        [TRAIN_IO.m]: this.#dev.m,
        [TRAIN_IO.v]: this.#dev.v,
      });
      return {
        params: out[TRAIN_IO.paramsOut]!.data as Float32Array,
        m: out[TRAIN_IO.mOut]!.data as Float32Array,
        v: out[TRAIN_IO.vOut]!.data as Float32Array,
      };
    }
    const s = this.#sets[this.#cur]!;
    return { params: s.p, m: s.m, v: s.v };
  }

  /**
   * The current parameters for the evaluation and sampling sessions (which run on the same device):
   * on the GPU path the device tensor itself, valid until the next step.
   */
  async paramsTensor(): Promise<ort.Tensor> {
    if (this.#dev) return this.#dev.p;
    return this.#sets[this.#cur]!.tp;
  }

  /**
   * One optimizer step: `fill(x, y)` writes each micro-batch into the runner's id buffers.
   * Returns the mean micro-batch loss and the gradient norm before clipping.
   */
  async step(lr: number, t: number, fill: (x: Int32Array, y: Int32Array) => void): Promise<StepResult> {
    this.#lr[0] = lr;
    this.#t[0] = t;
    let lossSum = 0;
    let accIn: ort.Tensor | null = null;
    if (this.#gacc && this.#tgacc && this.#micro) {
      this.#gacc[0].fill(0);
      accIn = this.#tgacc[0];
      for (let k = 0; k < this.#accum - 1; k++) {
        fill(this.x, this.y);
        const out = this.#tgacc[(k + 1) % 2]!;
        const src = this.#dev ? this.#dev.p : this.#sets[this.#cur]!.tp;
        const feeds: Record<string, ort.Tensor> = {
          [TRAIN_IO.params]: src,
          [TRAIN_IO.idx]: this.#tx,
          [TRAIN_IO.targets]: this.#ty,
          [TRAIN_IO.gradAcc]: accIn,
        };
        this.#setKey(feeds, t, k);
        if (this.#gpu) {
          // the accumulator stays on the device too: each micro-step's output is the next one's input
          const r = await this.#micro.run(feeds, [TRAIN_IO.gradAccOut, TRAIN_IO.loss]);
          if (accIn.location === 'gpu-buffer') accIn.dispose();
          accIn = r[TRAIN_IO.gradAccOut]!;
          lossSum += Number(r[TRAIN_IO.loss]!.data[0]);
          continue;
        }
        await this.#micro.run(feeds, { [TRAIN_IO.gradAccOut]: out, [TRAIN_IO.loss]: this.#tMicroLoss });
        lossSum += this.#microLoss[0]!;
        accIn = out;
      }
    }
    fill(this.x, this.y);
    const feeds: Record<string, ort.Tensor> = {
      [TRAIN_IO.idx]: this.#tx,
      [TRAIN_IO.targets]: this.#ty,
      [TRAIN_IO.lr]: this.#tlr,
      [TRAIN_IO.step]: this.#tt,
    };
    if (accIn) feeds[TRAIN_IO.gradAcc] = accIn;
    this.#setKey(feeds, t, this.#accum - 1);
    if (this.#gpu) {
      const src = this.#dev ?? {
        p: this.#sets[this.#cur]!.tp,
        m: this.#sets[this.#cur]!.tm,
        v: this.#sets[this.#cur]!.tv,
      };
      feeds[TRAIN_IO.params] = src.p;
      feeds[TRAIN_IO.m] = src.m;
      feeds[TRAIN_IO.v] = src.v;
      const out = await this.#step.run(feeds, [...GPU_STATE_OUTPUTS, TRAIN_IO.loss, TRAIN_IO.gradNorm]);
      this.#disposeDevice();
      if (accIn?.location === 'gpu-buffer') accIn.dispose();
      this.#dev = { p: out[TRAIN_IO.paramsOut]!, m: out[TRAIN_IO.mOut]!, v: out[TRAIN_IO.vOut]! };
      // loss and grad_norm are CPU outputs (never getData() on a gpu-buffer tensor: see above)
      const loss = Number(out[TRAIN_IO.loss]!.data[0]);
      const gradNorm = Number(out[TRAIN_IO.gradNorm]!.data[0]);
      return { loss: (lossSum + loss) / this.#accum, gradNorm };
    }
    const src = this.#sets[this.#cur]!;
    const dst = this.#sets[1 - this.#cur]!;
    feeds[TRAIN_IO.params] = src.tp;
    feeds[TRAIN_IO.m] = src.tm;
    feeds[TRAIN_IO.v] = src.tv;
    await this.#step.run(feeds, {
      [TRAIN_IO.paramsOut]: dst.tp,
      [TRAIN_IO.mOut]: dst.tm,
      [TRAIN_IO.vOut]: dst.tv,
      [TRAIN_IO.loss]: this.#tloss,
      [TRAIN_IO.gradNorm]: this.#tgn,
    });
    this.#cur = 1 - this.#cur;
    return { loss: (lossSum + this.#loss[0]!) / this.#accum, gradNorm: this.#gn[0]! };
  }

  #setKey(feeds: Record<string, ort.Tensor>, t: number, micro: number): void {
    if (!this.#key || !this.#tkey) return;
    this.#key[0] = ((t - 1) * this.#accum + micro) >>> 0;
    feeds[TRAIN_IO.dropoutKey] = this.#tkey;
  }

  #disposeDevice(): void {
    if (!this.#dev) return;
    this.#dev.p.dispose();
    this.#dev.m.dispose();
    this.#dev.v.dispose();
    this.#dev = null;
  }

  async release(): Promise<void> {
    this.#disposeDevice();
    await this.#step.release();
    await this.#micro?.release();
    await this.#download?.release();
  }
}
