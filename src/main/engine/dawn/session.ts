import ort from 'onnxruntime-node';
import type { EngineSession } from '../device.ts';
import type { DType, Graph, GraphNode, Tensor } from '../graph/graph.ts';
import { dawnDevice, type DawnDevice } from './device.ts';
import { attentionFusionEnabled, fuseAttention } from './attentionFusion.ts';
import { fuseProductEpilogues } from './epilogueFusion.ts';
import { fusionEnabled, isLinearIndex, planFusion, type FusionContext } from './fusion.ts';
import { EXECUTOR_DOMAIN, edgesOf, liveNodes } from './graphEdit.ts';
import {
  attributeValue,
  kernelTypeOf,
  numelOf,
  type Epilogue,
  type Kernel,
  type KernelRequest,
  type KernelTensor,
} from './kernel.ts';
import { causalAttentionGradKernel, causalAttentionKernel } from './kernels/attention.ts';
import { fusedKernel, productEpilogue, reductionPrologue, withPrologue } from './kernels/fused.ts';
import { gemmKernelOf, matMulKernel, productProblem, type GemmChoice } from './kernels/matmul.ts';
import { kernelGenerators } from './kernels/index.ts';
import { layerNormGradKernel } from './kernels/reduce.ts';
import { fuseLayerNormGrads, LAYER_NORM_GRAD } from './layerNormFusion.ts';
import { pipelineFor } from './pipelines.ts';
import {
  describeTuning,
  productTuningEnabled,
  tuneProducts,
  tuningCachePath,
  type ProductTuningReport,
} from './productTuning.ts';
import { fuseReductionPrologues } from './prologueFusion.ts';
import { foldScalesIntoProducts } from './scaleFolding.ts';
import { foldTransposesIntoProducts } from './transposeFolding.ts';
import { envChoice } from '../../util/envChoice.ts';
import { GpuTensorTooLargeError, isGpuDeviceLost, isGpuSizeError } from '../gpuErrors.ts';
import { CheckedBuffers } from './checkedBuffers.ts';
import { planCopies, type Piece } from './flatCopies.ts';

/**
 * The engine's own WebGPU executor: runs a Graph (static shapes) with the WGSL kernels of kernels/, on the
 * Dawn device, behind the same EngineSession interface as ONNX Runtime's sessions, so the trainer, the
 * runner, evaluation and sampling use it unchanged.
 *
 * Compiled once per session:
 *  - views: Reshape, Squeeze, Unsqueeze, Flatten and Identity share their input's buffer (contiguous);
 *  - constant nodes (every input an initializer or another constant node: index ranges, masks) run once;
 *  - elementwise chains of one shape are one kernel each (fusion.ts): their intermediates are never stored, and
 *    a tensor other kernels read is recomputed by each from what it reads anyway where it can be;
 *  - causal self-attention and LayerNorm's input gradient are fused kernels of their own (attentionFusion.ts,
 *    layerNormFusion.ts);
 *  - a transpose of the last two axes that only feeds matrix products is read transposed by them instead, and a
 *    constant scale of their operand becomes a factor on their sums;
 *  - a matrix product whose result only feeds one elementwise kernel applies it as it stores (epilogueFusion.ts),
 *    and a reduction computes the elementwise kernel that only feeds it where it reads (prologueFusion.ts);
 *  - each f32 matrix product runs on the tile timed fastest for it on this GPU (productTuning.ts; the tiles give
 *    the same bits);
 *  - memory: every other intermediate takes a buffer from a free list when it is produced and gives it back
 *    after its last reader (a liveness plan), so the step's peak is about what the live activations need;
 *  - one pipeline per distinct WGSL source (cached for the device: the step, micro-step and evaluation
 *    graphs share most kernels) and one bind group per pass, made once: graph inputs are copied into the
 *    session's own input buffers each run (a device-to-device copy for gpu-buffer feeds), so no binding
 *    changes between runs;
 *  - an input only cut into pieces is copied straight into them, and an output only joined from pieces is copied
 *    together from them, so neither is ever bound and either may exceed the largest binding (flatCopies.ts: a
 *    GPU graph's flat vectors, flatChunks.ts).
 * Each run is one command buffer: the input copies, every kernel's passes in one compute pass, the copies
 * out. Outputs named in `gpuOutputs` come back as gpu-buffer tensors in buffers of their own (the runner
 * feeds them to the next step and disposes them, which returns them to a pool); the others are read back.
 */

type TypedArray = Float32Array | Int32Array | Uint32Array;

/** The operands of matrix products: fp32 (the default, CPU parity) or f16 on the matrix units, summed in f32. */
export type ProductPrecision = 'f32' | 'f16';

/** XAI_LINK_DAWN_PRECISION=f16 makes f16 products the default of every Dawn session of the process. */
export function productPrecision(env: NodeJS.ProcessEnv = process.env): ProductPrecision {
  return envChoice(env, 'XAI_LINK_DAWN_PRECISION', ['f32', 'f16']);
}

export interface DawnSessionOptions {
  readonly gpuOutputs?: readonly string[];
  readonly rewrite?: boolean;
  readonly attention?: boolean;
  readonly precision?: ProductPrecision;
  /**
   * Time the tilings of the graph's f32 products on this GPU and run each on its fastest (productTuning.ts);
   * by default on every adapter but a software one (XAI_LINK_DAWN_TUNE).
   */
  readonly tune?: boolean;
  /** Where tuned tiles are cached (null: this process only); by default the platform's cache folder. */
  readonly tuningCache?: string | null;
}

/** Where a tensor's bytes are: a buffer of the session, shared by views. */
interface Slot {
  buffer: GPUBuffer | null;
  bytes: number;
  /** The node index after which the buffer can be reused (-1: never, for inputs, outputs, constants). */
  lastUse: number;
  pooled: boolean;
}

/** A byte range of a whole input or output that a buffer of its own holds (flatCopies.ts). */
interface SlotPiece {
  readonly slot: Slot;
  readonly offset: number;
}

/** A graph input: fed into its slot's buffer, or, cut into pieces by copies, into theirs (its slot has none). */
interface SessionInput {
  readonly tensor: Tensor;
  readonly slot: Slot;
  readonly pieces: readonly SlotPiece[];
}

/** A graph output: read from its slot's buffer, or joined from its pieces by copies. */
interface SessionOutput {
  readonly tensor: Tensor;
  readonly slot: Slot;
  readonly gpu: boolean;
  readonly staging: GPUBuffer | null;
  readonly pieces: readonly SlotPiece[];
}

interface Dispatch {
  /** The node it belongs to, for profiles: "MatMul attn/scores [4,2,16,16]". */
  label: string;
  /** That node's index in kernelTraffic (-1 for the constant nodes, which run once and are not profiled). */
  node: number;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: readonly [number, number, number];
}

/** What one node of a run costs in dispatches, modelled memory traffic and arithmetic (DawnSession.kernelTraffic). */
export interface KernelTraffic {
  readonly kernel: string;
  readonly dispatches: number;
  readonly bytes: number;
  /** Its products' floating-point operations (Kernel.flops); 0 for kernels that only move and combine values. */
  readonly flops: number;
}

/** One dispatch of a profiled run: its label, its GPU time, and its node's index in kernelTraffic. */
export interface DispatchTime {
  readonly label: string;
  readonly ms: number;
  readonly node: number;
}

/** A node one of the graph rewrites made: how to build its kernel, and what profiles call it. */
interface RewrittenNode {
  readonly label: string;
  readonly kernel: (request: KernelRequest) => Kernel;
}

const USAGE_STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
const VIEW_OPS = new Set(['Reshape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Identity']);

/** Bytes of a buffer for `bytes` of data: WebGPU copies and bindings want multiples of 4; 16 keeps vec4 loads in bounds. */
const padded = (bytes: number): number => Math.max(16, Math.ceil(bytes / 16) * 16);

function staticShape(t: Tensor): number[] {
  return t.shape.map((d) => {
    if (typeof d !== 'number')
      throw new Error(
        `tensor ${t.name} has a symbolic dimension "${d}": the WebGPU executor needs fixed shapes`,
      );
    return d;
  });
}

/** An initializer's values as numbers (int64 narrowed, bool as 0/1). */
function valuesOf(tensor: Tensor, raw: Uint8Array): number[] {
  const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
  switch (tensor.dtype) {
    case 'float32':
      return Array.from(new Float32Array(buf));
    case 'int64':
      return Array.from(new BigInt64Array(buf), Number);
    case 'int32':
      return Array.from(new Int32Array(buf));
    case 'uint32':
      return Array.from(new Uint32Array(buf));
    case 'bool':
      return Array.from(new Uint8Array(buf));
  }
}

/** Host values as the device stores them: int64 → i32, bool → u32. */
function deviceArray(dtype: DType, data: ArrayLike<number | bigint>): TypedArray {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    case 'int64':
      return Int32Array.from(data as ArrayLike<bigint>, (v) => Number(v));
    case 'int32':
      return data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>);
    case 'uint32':
      return data instanceof Uint32Array ? data : Uint32Array.from(data as ArrayLike<number>);
    case 'bool':
      return Uint32Array.from(data as ArrayLike<number>, (v) => (v ? 1 : 0));
  }
}

/** Buffers handed out with gpu-buffer outputs come back here when the tensor is disposed. */
class BufferPool {
  readonly #free = new Map<number, GPUBuffer[]>();
  readonly buffers: CheckedBuffers;
  constructor(device: GPUDevice) {
    this.buffers = new CheckedBuffers(device);
  }
  take(bytes: number): GPUBuffer {
    const size = padded(bytes);
    return this.#free.get(size)?.pop() ?? this.buffers.create({ size, usage: USAGE_STORAGE() });
  }
  give(buffer: GPUBuffer): void {
    const list = this.#free.get(buffer.size) ?? [];
    list.push(buffer);
    this.#free.set(buffer.size, list);
  }
  destroy(): void {
    for (const list of this.#free.values()) for (const b of list) b.destroy();
    this.#free.clear();
  }
}

export class DawnSession implements EngineSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly #dev: DawnDevice;
  /** The graph's name, for errors. */
  readonly #name: string;
  readonly #inputs: SessionInput[];
  readonly #outputs: SessionOutput[];
  readonly #dispatches: Dispatch[];
  readonly #constantDispatches: Dispatch[];
  readonly #owned: GPUBuffer[];
  readonly #pool: BufferPool;
  /**
   * Per node run (in run order): its kernel (the op, or what a rewrite made of it, e.g. "Gemm+(Mul,Add)"), its
   * dispatches, the bytes it reads and writes if it reads its inputs and writes its outputs once (a model of
   * the memory traffic: tiles read twice or kept in cache are not counted), and its products' FLOPs.
   */
  readonly kernelTraffic: readonly KernelTraffic[];
  /** How the products' tiles were chosen (productTuning.ts); null when they were not tuned. */
  readonly productTuning: ProductTuningReport | null;
  #constantsReady = false;
  #released = false;
  /** Runs are serialized: the staging buffers and input buffers are the session's. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(parts: {
    dev: DawnDevice;
    name: string;
    inputs: SessionInput[];
    outputs: SessionOutput[];
    dispatches: Dispatch[];
    constantDispatches: Dispatch[];
    owned: GPUBuffer[];
    kernelTraffic: KernelTraffic[];
    productTuning: ProductTuningReport | null;
  }) {
    this.#dev = parts.dev;
    this.#name = parts.name;
    this.#inputs = parts.inputs;
    this.#outputs = parts.outputs;
    this.#dispatches = parts.dispatches;
    this.#constantDispatches = parts.constantDispatches;
    this.#owned = parts.owned;
    this.kernelTraffic = parts.kernelTraffic;
    this.productTuning = parts.productTuning;
    this.#pool = new BufferPool(parts.dev.device);
    this.inputNames = parts.inputs.map((i) => i.tensor.name);
    this.outputNames = parts.outputs.map((o) => o.tensor.name);
  }

  /** Bytes a run's kernels read and write (the sum of kernelTraffic). */
  get trafficBytes(): number {
    return this.kernelTraffic.reduce((sum, k) => sum + k.bytes, 0);
  }

  /** Floating-point operations of a run's products (the sum of kernelTraffic's flops). */
  get productFlops(): number {
    return this.kernelTraffic.reduce((sum, k) => sum + k.flops, 0);
  }

  /** The number of kernel dispatches one run makes (constant nodes excluded). */
  get dispatchCount(): number {
    return this.#dispatches.length;
  }

  /** Each dispatch's label (the kernel, its first output and that output's shape), in run order. */
  get dispatchLabels(): string[] {
    return this.#dispatches.map((d) => d.label);
  }

  /** Bytes of the device buffers the session holds (parameters, activations by the memory plan, staging). */
  get deviceBytes(): number {
    return this.#owned.reduce((sum, b) => sum + b.size, 0);
  }

  /**
   * `rewrite` false runs every ONNX node as its own kernel (no fusion, nothing folded); by default the graph is
   * rewritten unless XAI_LINK_DAWN_FUSION=0 (fusion.ts). `attention` false keeps a rewritten graph's attention
   * unfused (by default fused unless XAI_LINK_DAWN_ATTENTION=0, attentionFusion.ts). `precision` 'f16' multiplies
   * on the adapter's matrix units with f16 operands (kernels/matmulSubgroup.ts); by default XAI_LINK_DAWN_PRECISION,
   * else 'f32'.
   */
  static async create(graph: Graph, opts: DawnSessionOptions = {}): Promise<DawnSession> {
    const rewrite = opts.rewrite ?? fusionEnabled();
    const attention = rewrite && (opts.attention ?? attentionFusionEnabled());
    try {
      return await DawnSession.#build(graph, { ...opts, rewrite, attention });
    } catch (e) {
      // The fused attention kernels are the largest shaders the executor makes: should a driver refuse them, the
      // step still runs, with the attention unfused, and says so (an explicit `attention` option is obeyed).
      // A step too large for the GPU is as large with the attention unfused (larger): that is the error to give.
      if (
        isGpuDeviceLost(e) ||
        isGpuSizeError(e) ||
        !attention ||
        opts.attention !== undefined ||
        graph.attentionSites.length === 0
      )
        throw e;
      const session = await DawnSession.#build(graph, { ...opts, rewrite, attention: false });
      session.attentionFallback = (e as Error).message.split('\n')[0]!;
      console.warn(`the fused attention kernels failed (${session.attentionFallback}); running it unfused`);
      return session;
    }
  }

  /** Why this session runs its attention unfused although fusion was on (see create); null when it did not. */
  attentionFallback: string | null = null;

  /** The adapter, for the run's log: which GPU trains, where a machine has several (XAI_LINK_GPU_ADAPTER). */
  get adapter(): string {
    return this.#dev.software ? `${this.#dev.adapter} (a software adapter)` : this.#dev.adapter;
  }

  /** For the run's log: how the products' tiles were chosen, and a fallback to unfused attention. */
  get note(): string | null {
    const parts: string[] = [];
    if (this.productTuning) parts.push(describeTuning(this.productTuning));
    if (this.attentionFallback) parts.push(`Attention runs unfused: ${this.attentionFallback}.`);
    return parts.length > 0 ? parts.join(' ') : null;
  }

  /** `rewrite` and `attention` as create decided them. */
  static async #build(
    graph: Graph,
    opts: DawnSessionOptions & { rewrite: boolean; attention: boolean },
  ): Promise<DawnSession> {
    const dev = await dawnDevice();
    const { device } = dev;
    const precision = opts.precision ?? productPrecision();
    if (precision === 'f16' && !dev.subgroupMatrix)
      throw new Error(
        `f16 products need a GPU whose WebGPU adapter offers f16 subgroup matrices (tensor cores) with one ` +
          `subgroup size; ${dev.adapter} does not: train in f32 (unset XAI_LINK_DAWN_PRECISION)`,
      );
    let productChoice: GemmChoice = precision === 'f16' ? { subgroupMatrix: dev.subgroupMatrix! } : {};
    // The kernels that may store through an elementwise epilogue (epilogueFusion.ts): the products, at this
    // session's precision, and LayerNormGrad.
    const epilogueTakers: Record<string, (req: KernelRequest, post?: Epilogue) => Kernel> = {
      MatMul: (req, post) => matMulKernel(req, productChoice, post),
      Gemm: (req, post) => gemmKernelOf(req, productChoice, post),
      [LAYER_NORM_GRAD]: layerNormGradKernel,
    };
    const program = graph.program();
    const owned: GPUBuffer[] = [];
    const allocated = new CheckedBuffers(device);
    const newBuffer = (bytes: number): GPUBuffer => {
      const b = allocated.create({ size: padded(bytes), usage: USAGE_STORAGE() });
      owned.push(b);
      return b;
    };
    // before the kernels compile (seconds): a step that does not fit says so at once
    const checkMemory = () =>
      allocated.check(dev.adapter, graph.name).catch((e: unknown) => {
        for (const b of owned) b.destroy();
        throw e;
      });
    const bytesOf = (t: Tensor) => numelOf(staticShape(t)) * 4;
    const slots = new Map<Tensor, Slot>();
    const fixed = (t: Tensor): Slot => ({ buffer: null, bytes: bytesOf(t), lastUse: -1, pooled: false });

    // Inputs, initializers and their values.
    for (const t of program.inputs) slots.set(t, fixed(t));
    const constantValues = new Map<Tensor, number[]>();
    const constant = new Set<Tensor>();
    for (const { tensor, raw } of program.initializers) {
      const slot = fixed(tensor);
      slot.buffer = newBuffer(slot.bytes);
      const values = valuesOf(tensor, raw);
      device.queue.writeBuffer(slot.buffer, 0, deviceArray(tensor.dtype, values));
      slots.set(tensor, slot);
      constant.add(tensor);
      if (values.length <= 64) constantValues.set(tensor, values);
    }

    // Transposes and constant scales that only feed products are folded into them (transposeFolding.ts,
    // scaleFolding.ts); constant nodes are marked; views share their source's slot.
    const optimise = opts.rewrite;
    const graphOutputs = new Set(program.outputs);
    const isOutput = (t: Tensor) => graphOutputs.has(t);
    const scalarOf = (t: Tensor) => {
      const v = constantValues.get(t);
      return v?.length === 1 ? v[0]! : null;
    };
    // Each causal self-attention runs as one kernel forward and one backward (attentionFusion.ts), each
    // LayerNorm's input gradient as one row kernel (layerNormFusion.ts).
    const rewrites = new Map<GraphNode, RewrittenNode>();
    const withAttention = opts.attention ? fuseAttention(program.nodes, program.attention) : program.nodes;
    const withFusedKernels = optimise
      ? fuseLayerNormGrads(withAttention, program.layerNormGrads)
      : withAttention;
    const fusedKernels: Record<string, (req: KernelRequest) => Kernel> = {
      CausalAttention: causalAttentionKernel,
      CausalAttentionGrad: causalAttentionGradKernel,
      [LAYER_NORM_GRAD]: (req) => layerNormGradKernel(req),
    };
    for (const n of withFusedKernels)
      if (n.domain === EXECUTOR_DOMAIN) rewrites.set(n, { label: n.opType, kernel: fusedKernels[n.opType]! });
    const programNodes = optimise
      ? liveNodes(
          foldScalesIntoProducts(foldTransposesIntoProducts(withFusedKernels, isOutput), isOutput, scalarOf),
          program.outputs,
        )
      : program.nodes;
    const isView = (n: GraphNode) => VIEW_OPS.has(n.opType) && n.inputs[0] !== null;
    for (const n of programNodes) {
      if (n.inputs.every((t) => t === null || constant.has(t))) for (const o of n.outputs) constant.add(o);
    }
    const requestOf = (node: GraphNode): KernelRequest => {
      const attributes: Record<string, number | number[] | string> = {};
      for (const [k, v] of Object.entries(node.attributes)) attributes[k] = attributeValue(v);
      return {
        opType: node.opType,
        inputs: node.inputs.map((t) => (t ? { shape: staticShape(t), type: kernelTypeOf(t.dtype) } : null)),
        outputs: node.outputs.map((t) => ({ shape: staticShape(t), type: kernelTypeOf(t.dtype) })),
        attributes,
        constants: node.inputs.map((t) => (t ? (constantValues.get(t) ?? null) : null)),
      };
    };
    // Chains of elementwise nodes become one kernel each (fusion.ts), then join the reduction they feed
    // (prologueFusion.ts) or the product that feeds them (epilogueFusion.ts). Each node a rewrite made has its
    // own kernel builder and profile label; nodes nothing reads any more (a counter the kernels now compute)
    // are not run.
    let nodes = programNodes;
    /** Nodes a rewrite made that store through an epilogue: the op whose kernel they run (a product or LayerNormGrad). */
    const epilogueOps = new Map<GraphNode, string>();
    if (optimise) {
      const { producer } = edgesOf(programNodes);
      const ctx: FusionContext = {
        fixed: (t) => constant.has(t) || isOutput(t),
        excluded: (n) => isView(n) || n.outputs.every((o) => constant.has(o)),
        scalarOf,
        isLinearIndex: (t) => isLinearIndex(t, producer, isView, scalarOf),
        requestOf,
      };
      const plan = planFusion(programNodes, ctx);
      // a chain every reader now recomputes is read by nothing: out before it counts as a reader below
      const planned = liveNodes(plan.nodes, program.outputs);
      const intoReductions = fuseReductionPrologues(planned, plan.groups, ctx);
      const withEpilogues = fuseProductEpilogues(intoReductions.nodes, plan.groups, ctx);
      for (const [node, g] of plan.groups)
        rewrites.set(node, {
          label: `Fused(${g.nodes.map((n) => n.opType).join(',')})`,
          kernel: (req) => fusedKernel(req.inputs as KernelTensor[], g.members),
        });
      for (const [node, p] of intoReductions.prologues)
        rewrites.set(node, {
          label: `(${p.members.map((m) => m.request.opType).join(',')})+${p.reduction.opType}`,
          kernel: (req) => {
            const reduction: KernelRequest = {
              ...req,
              opType: p.reduction.opType,
              inputs: [{ shape: staticShape(p.reduction.inputs[0]!), type: 'f32' }, ...req.inputs.slice(1)],
            };
            return withPrologue(
              kernelGenerators[reduction.opType]!(reduction),
              reductionPrologue(req.inputs, p.members),
            );
          },
        });
      for (const [node, e] of withEpilogues.epilogues) {
        epilogueOps.set(node, e.product.opType);
        rewrites.set(node, {
          label: `${e.product.opType}+(${e.members.map((m) => m.request.opType).join(',')})`,
          kernel: (req) =>
            epilogueTakers[e.product.opType]!(
              { ...req, opType: e.product.opType },
              productEpilogue(req.inputs, e.members),
            ),
        });
      }
      nodes = liveNodes(withEpilogues.nodes, program.outputs);
    }
    // Inputs only cut into pieces and outputs only joined from them are moved by the run's copies (flatCopies.ts).
    const copies = planCopies(nodes, program, staticShape, (n) => rewrites.has(n));
    // A tensor larger than one storage binding cannot be bound: say which and by how much, before Dawn does.
    const limit = device.limits.maxStorageBufferBindingSize;
    for (const n of nodes) {
      if (isView(n) || copies.copied.has(n)) continue;
      for (const t of [...n.inputs, ...n.outputs]) {
        if (!t || bytesOf(t) <= limit) continue;
        for (const b of owned) b.destroy();
        throw new GpuTensorTooLargeError(dev.adapter, t.name, staticShape(t), bytesOf(t), limit);
      }
    }
    // An input or output, pieces or not, is one buffer: the runner's (parameters, moments), or the read-back's.
    const largestBuffer = device.limits.maxBufferSize;
    for (const t of [...program.inputs, ...program.outputs]) {
      if (bytesOf(t) <= largestBuffer) continue;
      for (const b of owned) b.destroy();
      throw new GpuTensorTooLargeError(
        dev.adapter,
        t.name,
        staticShape(t),
        bytesOf(t),
        largestBuffer,
        'buffer',
      );
    }
    // Each f32 product on the tile measured fastest for it on this GPU (productTuning.ts).
    let productTuning: ProductTuningReport | null = null;
    if (precision === 'f32' && (opts.tune ?? productTuningEnabled(dev.adapter))) {
      const problems = [];
      for (const n of nodes) {
        const op = epilogueOps.get(n) ?? (rewrites.has(n) ? null : n.opType);
        if ((op !== 'MatMul' && op !== 'Gemm') || n.outputs.every((o) => constant.has(o))) continue;
        try {
          problems.push(productProblem({ ...requestOf(n), opType: op }));
        } catch {
          // a form the kernels do not take: building its kernel below says so
        }
      }
      const tuned = await tuneProducts(
        dev,
        problems,
        opts.tuningCache === undefined ? tuningCachePath() : opts.tuningCache,
      );
      productChoice = { ...productChoice, tilingFor: tuned.tilingFor };
      productTuning = tuned.report;
    }
    // Last reader of each slot (views extend their source's life).
    const order = new Map<GraphNode, number>(nodes.map((n, i) => [n, i]));
    const slotOf = new Map<Tensor, Tensor>(); // tensor → the tensor that owns its bytes
    const root = (t: Tensor): Tensor => slotOf.get(t) ?? t;
    for (const n of nodes) if (isView(n)) slotOf.set(n.outputs[0]!, root(n.inputs[0]!));
    const lastUse = new Map<Tensor, number>();
    for (const n of nodes)
      for (const t of n.inputs)
        if (t) lastUse.set(root(t), Math.max(lastUse.get(root(t)) ?? -1, order.get(n)!));
    const pinned = new Set<Tensor>([...program.outputs].map(root));
    // the pieces of a joined output are read by the copies after every kernel
    for (const pieces of copies.gathered.values()) for (const p of pieces) pinned.add(root(p.tensor));

    // Memory plan: walk the nodes in order, taking buffers from a free list (exact padded sizes).
    const free = new Map<number, GPUBuffer[]>();
    const take = (bytes: number): GPUBuffer => free.get(padded(bytes))?.pop() ?? newBuffer(bytes);
    const give = (b: GPUBuffer) => {
      const list = free.get(b.size) ?? [];
      list.push(b);
      free.set(b.size, list);
    };
    const releaseAt = new Map<number, GPUBuffer[]>();
    const requests: {
      node: GraphNode;
      index: number;
      request: KernelRequest;
      kernel: Kernel;
      scratch: GPUBuffer[];
    }[] = [];
    for (const [index, node] of nodes.entries()) {
      if (isView(node) || copies.copied.has(node)) continue;
      const rewrite = rewrites.get(node);
      const generate =
        node.opType === 'MatMul' || node.opType === 'Gemm'
          ? epilogueTakers[node.opType]
          : kernelGenerators[node.opType];
      if (!rewrite && (!generate || (node.domain !== '' && node.domain !== 'ai.onnx')))
        throw new Error(`the WebGPU kernels have no ${node.domain ? `${node.domain}.` : ''}${node.opType}`);
      for (const o of node.outputs) {
        const slot = fixed(o);
        const long = constant.has(o) || pinned.has(o) || !lastUse.has(o);
        slot.buffer = long ? newBuffer(slot.bytes) : take(slot.bytes);
        slots.set(o, slot);
        if (!long) {
          const at = lastUse.get(o)!;
          releaseAt.set(at, [...(releaseAt.get(at) ?? []), slot.buffer]);
        }
      }
      const request = requestOf(node);
      let kernel: Kernel;
      try {
        kernel = rewrite ? rewrite.kernel(request) : generate!(request);
      } catch (e) {
        const shapes = request.inputs.map((i) => (i ? `${i.type}[${i.shape.join(',')}]` : '-')).join(', ');
        throw new Error(
          `${(e as Error).message} (node ${node.outputs[0]?.name}: ${rewrite?.label ?? node.opType}(${shapes}))`,
          { cause: e },
        );
      }
      // scratch lives for the node only: the passes run before any later node's
      const scratch = (kernel.scratchBytes ?? []).map((bytes) => take(bytes));
      for (const b of scratch) give(b);
      requests.push({ node, index, request, kernel, scratch });
      for (const b of releaseAt.get(index) ?? []) give(b);
    }
    // Views take their source's buffer; inputs get theirs, or their pieces do; what the copies join has none.
    for (const t of program.inputs)
      if (!copies.scattered.has(t)) slots.get(t)!.buffer = newBuffer(slots.get(t)!.bytes);
    for (const pieces of copies.scattered.values())
      for (const { tensor } of pieces) {
        const slot = fixed(tensor);
        slot.buffer = newBuffer(slot.bytes);
        slots.set(tensor, slot);
      }
    for (const t of copies.unbound) if (!slots.has(t)) slots.set(t, fixed(t));
    for (const n of nodes) if (isView(n)) slots.set(n.outputs[0]!, slots.get(root(n.inputs[0]!))!);

    await checkMemory();

    const slotPieces = (pieces: readonly Piece[] = []): SlotPiece[] =>
      pieces.map((p) => ({ slot: slots.get(p.tensor)!, offset: p.offset }));

    // Pipelines (compiled concurrently) and bind groups.
    const gpuOutputs = new Set(opts.gpuOutputs ?? []);
    device.pushErrorScope('validation');
    const built = await Promise.all(
      requests.map(async ({ node, request, kernel, scratch }) => {
        const buffers: (GPUBuffer | null)[] = [
          ...node.inputs.map((t) => (t ? slots.get(t)!.buffer : null)),
          ...node.outputs.map((t) => slots.get(t)!.buffer),
          ...scratch,
        ];
        const what = `${node.opType} (${node.outputs[0]?.name})`;
        const op = rewrites.get(node)?.label ?? node.opType;
        const variant = kernel.variant ? ` ${kernel.variant}` : '';
        const label = `${op} ${node.outputs[0]?.name ?? ''} [${request.outputs[0]?.shape.join(',') ?? ''}]${variant}`;
        return Promise.all(
          kernel.passes.map(async (pass): Promise<Dispatch> => {
            const pipeline = await pipelineFor(device, pass.code, what);
            const bindGroup = device.createBindGroup({
              layout: pipeline.getBindGroupLayout(0),
              entries: pass.bindings.map((binding) => {
                const buffer = buffers[binding];
                if (!buffer)
                  throw new Error(
                    `${what}: a pass binds ${binding}, which ${request.opType} has no tensor for`,
                  );
                return { binding, resource: { buffer } };
              }),
            });
            return { label, node: -1, pipeline, bindGroup, workgroups: pass.workgroups };
          }),
        );
      }),
    );
    const invalid = await device.popErrorScope();
    // a lost device reports no errors: its calls do nothing
    const gone = dev.lostError();
    if (gone) throw gone;
    if (invalid) {
      for (const b of owned) b.destroy();
      throw new Error(`the WebGPU executor could not prepare ${graph.name}: ${invalid.message}`);
    }
    const dispatches: Dispatch[] = [];
    const constantDispatches: Dispatch[] = [];
    const kernelTraffic: KernelTraffic[] = [];
    requests.forEach(({ node, kernel }, i) => {
      const once = node.outputs.every((o) => constant.has(o));
      if (once) {
        constantDispatches.push(...built[i]!);
        return;
      }
      dispatches.push(...built[i]!.map((d) => ({ ...d, node: kernelTraffic.length })));
      let bytes = 0;
      for (const t of [...node.inputs, ...node.outputs]) if (t) bytes += bytesOf(t);
      kernelTraffic.push({
        kernel: rewrites.get(node)?.label ?? node.opType,
        dispatches: built[i]!.length,
        bytes,
        flops: kernel.flops ?? 0,
      });
    });
    const outputs = program.outputs.map((tensor) => {
      const gpu = gpuOutputs.has(tensor.name);
      const slot = slots.get(tensor)!;
      const staging = gpu
        ? null
        : allocated.create({
            size: padded(slot.bytes),
            usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
          });
      if (staging) owned.push(staging);
      return { tensor, slot, gpu, staging, pieces: slotPieces(copies.gathered.get(tensor)) };
    });
    await checkMemory();
    return new DawnSession({
      dev,
      name: graph.name,
      inputs: program.inputs.map((tensor) => ({
        tensor,
        slot: slots.get(tensor)!,
        pieces: slotPieces(copies.scattered.get(tensor)),
      })),
      outputs,
      dispatches,
      constantDispatches,
      owned,
      kernelTraffic,
      productTuning,
    });
  }

  run(
    feeds: Record<string, ort.Tensor>,
    fetches?: ort.InferenceSession.FetchesType,
  ): Promise<Record<string, ort.Tensor>> {
    const next = this.#queue.then(() => this.#run(feeds, fetches));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #run(
    feeds: Record<string, ort.Tensor>,
    fetches?: ort.InferenceSession.FetchesType,
  ): Promise<Record<string, ort.Tensor>> {
    if (this.#released) throw new Error('the WebGPU session was released');
    const gone = this.#dev.lostError();
    if (gone) throw gone;
    try {
      return await this.#submitAndRead(feeds, fetches);
    } catch (e) {
      throw await this.#lossBehind(e);
    }
  }

  /**
   * On a lost device, submissions do nothing and every read is refused with a bare AbortError, which may come
   * before the loss itself is reported: the loss, when it follows within a second, is the error to give.
   */
  async #lossBehind(e: unknown): Promise<unknown> {
    if ((e as { name?: unknown } | null)?.name !== 'AbortError') return e;
    const lost = await Promise.race([
      this.#dev.lost,
      new Promise<null>((resolve) => setTimeout(resolve, 1000, null).unref()),
    ]);
    return lost ?? e;
  }

  async #submitAndRead(
    feeds: Record<string, ort.Tensor>,
    fetches?: ort.InferenceSession.FetchesType,
  ): Promise<Record<string, ort.Tensor>> {
    const { device } = this.#dev;
    const encoder = device.createCommandEncoder();
    this.#upload(encoder, feeds);
    const pass = encoder.beginComputePass();
    const dispatch = (d: Dispatch) => {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    };
    if (!this.#constantsReady) this.#constantDispatches.forEach(dispatch);
    this.#dispatches.forEach(dispatch);
    pass.end();

    const wanted =
      fetches === undefined ? null : new Set(Array.isArray(fetches) ? fetches : Object.keys(fetches));
    const chosen = this.#outputs.filter((o) => !wanted || wanted.has(o.tensor.name));
    const handed: { name: string; buffer: GPUBuffer; tensor: Tensor }[] = [];
    for (const o of chosen) {
      const into = o.gpu ? this.#pool.take(o.slot.bytes) : o.staging!;
      if (o.gpu) handed.push({ name: o.tensor.name, buffer: into, tensor: o.tensor });
      if (o.pieces.length === 0) encoder.copyBufferToBuffer(o.slot.buffer!, 0, into, 0, padded(o.slot.bytes));
      for (const p of o.pieces) encoder.copyBufferToBuffer(p.slot.buffer!, 0, into, p.offset, p.slot.bytes);
    }
    device.pushErrorScope('validation');
    device.queue.submit([encoder.finish()]);
    const invalid = device.popErrorScope();
    // a gpu-buffer output the GPU had no memory for: that, not the copy into it that failed, is the error
    await this.#pool.buffers.check(
      this.#dev.adapter,
      `the outputs of ${this.#name}`,
      () => this.deviceBytes + this.#pool.buffers.bytes,
    );
    const error = await invalid;
    if (error) throw new Error(`WebGPU run failed: ${error.message}`);
    this.#constantsReady = true;

    const result: Record<string, ort.Tensor> = {};
    for (const h of handed) {
      const pool = this.#pool;
      result[h.name] = ort.Tensor.fromGpuBuffer(h.buffer as never, {
        dataType: h.tensor.dtype === 'float32' ? 'float32' : (h.tensor.dtype as 'int32'),
        dims: staticShape(h.tensor),
        dispose: () => pool.give(h.buffer),
      });
    }
    await Promise.all(
      chosen
        .filter((o) => !o.gpu)
        .map(async (o) => {
          await o.staging!.mapAsync(GPUMapMode.READ);
          const bytes = o.staging!.getMappedRange(0, padded(o.slot.bytes)).slice(0, o.slot.bytes);
          o.staging!.unmap();
          const into =
            fetches && !Array.isArray(fetches)
              ? (fetches as Record<string, ort.Tensor | null>)[o.tensor.name]
              : null;
          result[o.tensor.name] = hostTensor(o.tensor, bytes, into ?? null);
        }),
    );
    return result;
  }

  /**
   * One run with GPU timestamps around every dispatch (each in its own compute pass, so a little slower than
   * a plain run): where the step's time goes, kernel by kernel. Needs the adapter's timestamp-query feature.
   * Each dispatch names its node in kernelTraffic, whose bytes and FLOPs turn times into rates (dawnProfile.ts).
   */
  async profile(feeds: Record<string, ort.Tensor>): Promise<DispatchTime[]> {
    if (!this.#dev.features.includes('timestamp-query'))
      throw new Error(`the adapter (${this.#dev.adapter}) has no timestamp queries: no kernel profile`);
    await this.run(feeds, []); // constants computed, pipelines warm
    const { device } = this.#dev;
    const times: DispatchTime[] = [];
    const chunk = 2048; // WebGPU allows 4096 queries per set: two per dispatch
    for (let start = 0; start < this.#dispatches.length; start += chunk) {
      const part = this.#dispatches.slice(start, start + chunk);
      const querySet = device.createQuerySet({ type: 'timestamp', count: part.length * 2 });
      const resolved = device.createBuffer({
        size: part.length * 16,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      const read = device.createBuffer({
        size: part.length * 16,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      const encoder = device.createCommandEncoder();
      this.#upload(encoder, feeds);
      // the dispatches before this chunk run untimed, so the chunk sees the data it would in a real run
      if (start > 0) {
        const pass = encoder.beginComputePass();
        for (const d of this.#dispatches.slice(0, start)) {
          pass.setPipeline(d.pipeline);
          pass.setBindGroup(0, d.bindGroup);
          pass.dispatchWorkgroups(...d.workgroups);
        }
        pass.end();
      }
      part.forEach((d, i) => {
        const pass = encoder.beginComputePass({
          timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
        });
        pass.setPipeline(d.pipeline);
        pass.setBindGroup(0, d.bindGroup);
        pass.dispatchWorkgroups(...d.workgroups);
        pass.end();
      });
      encoder.resolveQuerySet(querySet, 0, part.length * 2, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, read, 0, part.length * 16);
      device.queue.submit([encoder.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const ns = new BigInt64Array(read.getMappedRange().slice(0));
      read.unmap();
      part.forEach((d, i) =>
        times.push({ label: d.label, ms: Number(ns[2 * i + 1]! - ns[2 * i]!) / 1e6, node: d.node }),
      );
      for (const o of [querySet, resolved, read]) o.destroy();
    }
    return times;
  }

  /** Writes CPU feeds into the session's input buffers and encodes the copies of gpu-buffer feeds. */
  #upload(encoder: GPUCommandEncoder, feeds: Record<string, ort.Tensor>): void {
    const { device } = this.#dev;
    for (const { tensor, slot, pieces } of this.#inputs) {
      const feed = feeds[tensor.name];
      if (!feed) throw new Error(`input "${tensor.name}" is missing`);
      const want = staticShape(tensor);
      if (feed.dims.length !== want.length || feed.dims.some((d, i) => d !== want[i]))
        throw new Error(
          `input "${tensor.name}" has shape [${feed.dims.join(', ')}], the graph takes [${want.join(', ')}]`,
        );
      const parts = pieces.length > 0 ? pieces : [{ slot, offset: 0 }];
      if (feed.location === 'gpu-buffer') {
        const from = feed.gpuBuffer as unknown as GPUBuffer;
        for (const p of parts) encoder.copyBufferToBuffer(from, p.offset, p.slot.buffer!, 0, p.slot.bytes);
      } else {
        const data = deviceArray(tensor.dtype, feed.data as ArrayLike<number | bigint>);
        for (const p of parts)
          device.queue.writeBuffer(p.slot.buffer!, 0, data.buffer, data.byteOffset + p.offset, p.slot.bytes);
      }
    }
  }

  async release(): Promise<void> {
    await this.#queue;
    if (this.#released) return;
    this.#released = true;
    for (const b of this.#owned) b.destroy();
    this.#pool.destroy();
  }
}

/** A CPU tensor of the graph's type from the device's bytes, written into `into` when the caller gave one. */
function hostTensor(tensor: Tensor, bytes: ArrayBuffer, into: ort.Tensor | null): ort.Tensor {
  const dims = staticShape(tensor);
  let data: Float32Array | Int32Array | Uint32Array | BigInt64Array | Uint8Array;
  switch (tensor.dtype) {
    case 'float32':
      data = new Float32Array(bytes);
      break;
    case 'int32':
      data = new Int32Array(bytes);
      break;
    case 'uint32':
      data = new Uint32Array(bytes);
      break;
    case 'int64':
      data = BigInt64Array.from(new Int32Array(bytes), (v) => BigInt(v));
      break;
    case 'bool':
      data = Uint8Array.from(new Uint32Array(bytes));
      break;
  }
  if (into) {
    (into.data as typeof data).set(data as never);
    return into;
  }
  return new ort.Tensor(tensor.dtype === 'float32' ? 'float32' : tensor.dtype, data as never, dims);
}
