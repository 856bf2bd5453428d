import {
  encodeOnnxModel,
  OnnxDataType,
  type OnnxAttributeValue,
  type OnnxDataTypeCode,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from '../../../shared/onnx/onnxModel.ts';

/**
 * A small ONNX graph builder with build-time shape checking and a tape for reverse-mode autodiff.
 *
 * Tensors are symbolic: a name, a shape and an element type. A dimension is either a number (fixed at
 * build time: the training graph is fully static) or a string naming a symbolic dimension ("batch",
 * "seq": the exported inference graph). Ops (see ops.ts) compute their output shapes here, at build
 * time, and throw a `GraphShapeError` naming the op and the shapes when they do not fit, so a wrong
 * model fails while it is built, not deep inside ONNX Runtime.
 *
 * Each differentiable op records a backward closure on the tape (`Graph.record`); `gradients()` in
 * autodiff.ts walks the tape in reverse and emits the backward nodes into the same graph.
 */
export type Dim = number | string;
export type Shape = readonly Dim[];
export type DType = 'float32' | 'int64' | 'int32' | 'uint32' | 'bool';

const onnxTypeOf: Record<DType, OnnxDataTypeCode> = {
  float32: OnnxDataType.FLOAT,
  int64: OnnxDataType.INT64,
  int32: OnnxDataType.INT32,
  uint32: OnnxDataType.UINT32,
  bool: OnnxDataType.BOOL,
};

/**
 * Which kernels a graph is built from.
 *  - 'ort': anything ONNX Runtime's CPU provider runs fastest, contrib operators included
 *    (com.microsoft FusedMatMul folds transposes and scales into the GEMM; Dropout and
 *    SoftmaxCrossEntropyLoss are single kernels there).
 *  - 'portable': default-domain operators only, each of which ONNX Runtime's WebGPU provider implements
 *    itself (explicit Transpose + MatMul, dropout masks from an integer hash, cross-entropy from
 *    ReduceMax/Exp/Log/GatherElements), so no node falls back to the CPU; any ONNX runtime opens it.
 */
export type KernelSet = 'ort' | 'portable';

export interface GraphOptions {
  /** Default-domain opset (17 for the exported model: the reference checker and older runtimes). */
  opset?: number;
  kernels?: KernelSet;
}

/** The ONNX IR version that goes with an opset (onnx/helper.py's VERSION_TABLE: opset 17 → IR 8, 18 → IR 8, 21 → IR 10). */
export function irVersionFor(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

export class GraphShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphShapeError';
  }
}

export class Tensor {
  name: string;
  readonly shape: Shape;
  readonly dtype: DType;
  /** True when a gradient flows to this tensor (it depends on a parameter). */
  requiresGrad = false;

  constructor(name: string, shape: Shape, dtype: DType) {
    this.name = name;
    this.shape = shape;
    this.dtype = dtype;
  }

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `${this.name}[${this.shape.join(',')}]`;
  }
}

export interface GraphNode {
  opType: string;
  domain: string;
  inputs: (Tensor | null)[];
  outputs: Tensor[];
  attributes: Record<string, OnnxAttributeValue>;
}

export interface GraphProgram {
  readonly nodes: readonly GraphNode[];
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly initializers: readonly { readonly tensor: Tensor; readonly raw: Uint8Array }[];
  /** The graph's causal self-attentions (graph/attention.ts), for a backend that runs each as one kernel. */
  readonly attention: readonly AttentionSite[];
  /** The input gradients of its LayerNorms (ops.ts layerNorm), for a backend that computes each in one kernel. */
  readonly layerNormGrads: readonly LayerNormGradSite[];
}

/**
 * The input gradient of one LayerNorm over the last axis (ops.ts layerNorm), ∂x = (1/σ)·(g − mean(g) − x̂ ⊙ mean(g ⊙ x̂))
 * with g = dy ⊙ w and x̂ = (x − μ)/σ: the graph holds it as ONNX nodes (what ONNX Runtime runs), and a backend with
 * a row kernel for it (dawn/layerNormFusion.ts) replaces the node that produces `dx`.
 */
export interface LayerNormGradSite {
  readonly x: Tensor;
  readonly w: Tensor;
  /** The forward's row mean μ and 1/σ, [..., 1]. */
  readonly mean: Tensor;
  readonly invStd: Tensor;
  readonly dy: Tensor;
  readonly dx: Tensor;
}

/**
 * One causal self-attention of a portable graph (graph/attention.ts): the packed projections qkv [B·T, 3C] in,
 * y = dropout(softmax(scale·q·kᵀ + causal mask))·v per head out, its heads side by side [B·T, C]. The graph holds
 * it as ONNX nodes (what ONNX Runtime runs); a backend with a fused attention kernel (dawn/attentionFusion.ts)
 * replaces the nodes that produce `y` and, once differentiated, `dqkv` with its own.
 */
export interface AttentionSite {
  readonly qkv: Tensor;
  readonly y: Tensor;
  readonly heads: number;
  /** T: the sequence length (rows of qkv are B·T). */
  readonly seq: Dim;
  readonly scale: number;
  /** The computed dropout mask's probability, site seed and step key (ops.ts hashDropoutMask); null: none. */
  readonly dropout: { readonly p: number; readonly seed: number; readonly key: Tensor } | null;
  /** Set when the backward pass is built: ∂L/∂y and the gradient it gives qkv (null where none flows). */
  grad: { dy: Tensor; dqkv: Tensor | null } | null;
}

/** A backward closure: gradients of the outputs (null where none flows) → gradients of the inputs. */
export type BackwardFn = (gradOutputs: (Tensor | null)[]) => (Tensor | null | undefined)[];

export interface TapeEntry {
  op: string;
  inputs: Tensor[];
  outputs: Tensor[];
  backward: BackwardFn;
}

export function shapeToString(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** Number of elements when every dimension is known, else null. */
export function numel(shape: Shape): number | null {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return n;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Normalises a possibly negative axis for a tensor of the given rank. */
export function normAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new GraphShapeError(`${what}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export class Graph {
  readonly name: string;
  readonly opset: number;
  readonly #nodes: GraphNode[] = [];
  readonly #inputs: Tensor[] = [];
  readonly #outputs: Tensor[] = [];
  readonly #initializers: { tensor: Tensor; raw: Uint8Array }[] = [];
  readonly #constCache = new Map<string, Tensor>();
  readonly #dimSources = new Map<string, { tensor: Tensor; axis: number }>();
  readonly #dimTensors = new Map<string, Tensor>();
  readonly #names = new Set<string>();
  #counter = 0;
  #scope: string[] = [];
  /** The differentiable ops in build order (swapped for a local tape while a checkpointed segment is rebuilt). */
  tape: TapeEntry[] = [];
  /** Off while backward nodes are emitted: gradients of gradients are never needed. */
  recording = true;
  /**
   * A scalar that depends on the parameter gradients of the last checkpointed segment differentiated
   * (see autodiff.ts checkpoint): the next segment's recomputation waits for it.
   */
  checkpointBarrier: Tensor | null = null;
  /** The per-step key of computed dropout masks (ops.ts hashDropoutMask), once a portable graph needs one. */
  dropoutKey: Tensor | null = null;
  /** Causal self-attentions built into a portable graph (graph/attention.ts), in build order. */
  readonly attentionSites: AttentionSite[] = [];
  /** LayerNorm input gradients built into a portable graph (ops.ts layerNorm), in build order. */
  readonly layerNormGradSites: LayerNormGradSite[] = [];
  #usesMicrosoftDomain = false;

  readonly kernels: KernelSet;

  constructor(name: string, opts: GraphOptions = {}) {
    this.name = name;
    this.opset = opts.opset ?? 18;
    this.kernels = opts.kernels ?? 'ort';
  }

  get portable(): boolean {
    return this.kernels === 'portable';
  }

  // ---- names and scopes -------------------------------------------------------------------------

  /** Runs `fn` with `part` appended to the name prefix of every tensor it creates (for readable graphs). */
  scope<T>(part: string, fn: () => T): T {
    this.#scope.push(part);
    try {
      return fn();
    } finally {
      this.#scope.pop();
    }
  }

  #freshName(hint: string): string {
    const prefix = this.#scope.length > 0 ? `${this.#scope.join('.')}.` : '';
    let name = `${prefix}${hint}_${this.#counter++}`;
    while (this.#names.has(name)) name = `${prefix}${hint}_${this.#counter++}`;
    this.#names.add(name);
    return name;
  }

  #claim(name: string): void {
    if (this.#names.has(name))
      throw new GraphShapeError(`graph ${this.name}: the name "${name}" is already used`);
    this.#names.add(name);
  }

  /** Gives a tensor a stable, public name (a graph output, a profiling label). */
  rename(t: Tensor, name: string): Tensor {
    if (t.name === name) return t;
    this.#claim(name);
    this.#names.delete(t.name);
    t.name = name;
    return t;
  }

  // ---- inputs, constants, outputs ---------------------------------------------------------------

  input(name: string, dtype: DType, shape: Shape, opts: { requiresGrad?: boolean } = {}): Tensor {
    this.#claim(name);
    const t = new Tensor(name, shape, dtype);
    t.requiresGrad = opts.requiresGrad ?? false;
    shape.forEach((d, axis) => {
      if (typeof d === 'string' && !this.#dimSources.has(d)) this.#dimSources.set(d, { tensor: t, axis });
    });
    this.#inputs.push(t);
    return t;
  }

  /** An initializer (a constant baked into the model). */
  constant(
    data: Float32Array | Int32Array | Uint32Array | BigInt64Array | Uint8Array,
    shape: Shape,
    dtype: DType,
    name?: string,
  ): Tensor {
    const n = numel(shape);
    if (n === null)
      throw new GraphShapeError(`constant ${name ?? ''}: shape ${shapeToString(shape)} must be fully known`);
    if (data.length !== n) {
      throw new GraphShapeError(
        `constant ${name ?? ''}: ${data.length} values do not fill shape ${shapeToString(shape)}`,
      );
    }
    const t = new Tensor(name ?? this.#freshName('const'), shape, dtype);
    if (name) this.#claim(name);
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.#initializers.push({ tensor: t, raw });
    return t;
  }

  /** A cached scalar (rank 0) constant. */
  scalar(value: number, dtype: DType = 'float32'): Tensor {
    return this.vector([value], dtype, true);
  }

  /** A cached 1-D constant (or a scalar when `asScalar`). */
  vector(values: readonly number[], dtype: DType = 'int64', asScalar = false): Tensor {
    const key = `${dtype}:${asScalar ? 's' : 'v'}:${values.join(',')}`;
    const hit = this.#constCache.get(key);
    if (hit) return hit;
    let data: Float32Array | Int32Array | Uint32Array | BigInt64Array | Uint8Array;
    if (dtype === 'float32') data = Float32Array.from(values);
    else if (dtype === 'int32') data = Int32Array.from(values);
    else if (dtype === 'uint32') data = Uint32Array.from(values);
    else if (dtype === 'int64') data = BigInt64Array.from(values.map((v) => BigInt(v)));
    else data = Uint8Array.from(values.map((v) => (v ? 1 : 0)));
    const t = this.constant(data, asScalar ? [] : [values.length], dtype);
    this.#constCache.set(key, t);
    return t;
  }

  output(t: Tensor, name?: string): Tensor {
    if (name) {
      if (
        this.#inputs.includes(t) ||
        this.#initializers.some((i) => i.tensor === t) ||
        this.#outputs.includes(t)
      ) {
        t = this.emit('Identity', [t], [{ shape: t.shape, dtype: t.dtype }])[0]!;
      }
      this.rename(t, name);
    }
    this.#outputs.push(t);
    return t;
  }

  get inputs(): readonly Tensor[] {
    return this.#inputs;
  }

  get outputs(): readonly Tensor[] {
    return this.#outputs;
  }

  /** Nodes the outputs depend on (what the model file will hold). */
  get nodeCount(): number {
    return this.#liveNodes().length;
  }

  // ---- nodes ------------------------------------------------------------------------------------

  /**
   * Emits one ONNX node. Output shapes are the caller's (ops compute and check them); nothing is
   * recorded on the tape here.
   */
  emit(
    opType: string,
    inputs: (Tensor | null)[],
    outputs: { shape: Shape; dtype: DType; name?: string }[],
    attributes: Record<string, OnnxAttributeValue> = {},
    domain = '',
  ): Tensor[] {
    const outs = outputs.map((o) => {
      const name = o.name ?? this.#freshName(opType);
      if (o.name) this.#claim(o.name);
      return new Tensor(name, o.shape, o.dtype);
    });
    if (domain === 'com.microsoft') {
      if (this.portable)
        throw new GraphShapeError(
          `graph ${this.name}: ${opType} is a com.microsoft operator, not allowed in a portable graph`,
        );
      this.#usesMicrosoftDomain = true;
    }
    this.#nodes.push({ opType, domain, inputs, outputs: outs, attributes });
    return outs;
  }

  /** Emits a node with one output. */
  emit1(
    opType: string,
    inputs: (Tensor | null)[],
    shape: Shape,
    dtype: DType,
    attributes: Record<string, OnnxAttributeValue> = {},
    domain = '',
  ): Tensor {
    return this.emit(opType, inputs, [{ shape, dtype }], attributes, domain)[0]!;
  }

  /** Records a differentiable op: outputs require a gradient when any input does. */
  record(op: string, inputs: Tensor[], outputs: Tensor[], backward: BackwardFn): void {
    if (!this.recording || !inputs.some((t) => t.requiresGrad)) return;
    for (const o of outputs) if (o.dtype === 'float32') o.requiresGrad = true;
    this.tape.push({ op, inputs, outputs, backward });
  }

  // ---- symbolic dimensions ----------------------------------------------------------------------

  /** A 1-D int64 tensor of length 1 holding the runtime size of a dimension. */
  dimTensor(d: Dim): Tensor {
    if (typeof d === 'number') return this.vector([d]);
    const hit = this.#dimTensors.get(d);
    if (hit) return hit;
    if (d.includes('*')) {
      // a product of dimensions ("batch*seq"): multiply the parts at run time
      const parts = d.split('*').map((p) => (/^\d+$/.test(p) ? this.vector([Number(p)]) : this.dimTensor(p)));
      let t = parts[0]!;
      for (const p of parts.slice(1)) t = this.emit1('Mul', [t, p], [1], 'int64');
      this.#dimTensors.set(d, t);
      return t;
    }
    const src = this.#dimSources.get(d);
    if (!src)
      throw new GraphShapeError(
        `graph ${this.name}: symbolic dimension "${d}" is not the dimension of any input`,
      );
    const t = this.emit1('Shape', [src.tensor], [1], 'int64', {
      start: { int: src.axis },
      end: { int: src.axis + 1 },
    });
    this.#dimTensors.set(d, t);
    return t;
  }

  /** A 1-D int64 shape tensor for Reshape/Expand, built at run time when some dimensions are symbolic. */
  shapeTensor(dims: readonly Dim[]): Tensor {
    if (dims.every((d) => typeof d === 'number')) return this.vector(dims as number[]);
    const key = `shape:${dims.join(',')}`;
    const hit = this.#constCache.get(key);
    if (hit) return hit;
    const parts: Tensor[] = [];
    let run: number[] = [];
    for (const d of dims) {
      if (typeof d === 'number') run.push(d);
      else {
        if (run.length > 0) parts.push(this.vector(run));
        run = [];
        parts.push(this.dimTensor(d));
      }
    }
    if (run.length > 0) parts.push(this.vector(run));
    const t =
      parts.length === 1
        ? parts[0]!
        : this.emit1('Concat', parts, [dims.length], 'int64', { axis: { int: 0 } });
    this.#constCache.set(key, t);
    return t;
  }

  // ---- serialisation ----------------------------------------------------------------------------

  /**
   * The nodes the outputs depend on, in build order. Anything else is dropped (dead-code elimination):
   * ONNX Runtime would run such nodes, and keep their inputs alive until it does. Recomputed segments
   * (checkpointing) produce some: the rebuilt segment's own output is never used, only its gradient.
   */
  #liveNodes(): GraphNode[] {
    const producer = new Map<Tensor, GraphNode>();
    for (const n of this.#nodes) for (const o of n.outputs) producer.set(o, n);
    const live = new Set<GraphNode>();
    const stack = this.#outputs.map((t) => producer.get(t)).filter((n): n is GraphNode => n !== undefined);
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (live.has(n)) continue;
      live.add(n);
      for (const t of n.inputs) {
        const p = t ? producer.get(t) : undefined;
        if (p && !live.has(p)) stack.push(p);
      }
    }
    return this.#nodes.filter((n) => live.has(n));
  }

  /**
   * The graph as a backend other than ONNX Runtime compiles it (dawn/session.ts): the live nodes in
   * order, with their tensors (and so their shapes), and the initializers' bytes.
   */
  program(): GraphProgram {
    const live = this.#liveNodes();
    const used = new Set<Tensor>(this.#outputs);
    for (const n of live) for (const t of n.inputs) if (t) used.add(t);
    return {
      nodes: live,
      inputs: this.#inputs,
      outputs: this.#outputs,
      initializers: this.#initializers.filter(({ tensor }) => used.has(tensor)),
      attention: this.attentionSites,
      layerNormGrads: this.layerNormGradSites,
    };
  }

  toModel(opts: { metadata?: Record<string, string>; docString?: string } = {}): OnnxModel {
    const live = this.#liveNodes();
    const used = new Set<Tensor>(this.#outputs);
    for (const n of live) for (const t of n.inputs) if (t) used.add(t);
    const nodes: OnnxNode[] = live.map((n, i) => ({
      opType: n.opType,
      domain: n.domain || undefined,
      name: `${n.outputs[0]?.name ?? 'node'}#${i}`,
      inputs: n.inputs.map((t) => (t ? t.name : '')),
      outputs: n.outputs.map((t) => t.name),
      attributes: n.attributes,
    }));
    const initializers: OnnxTensor[] = this.#initializers
      .filter(({ tensor }) => used.has(tensor))
      .map(({ tensor, raw }) => ({
        name: tensor.name,
        dataType: onnxTypeOf[tensor.dtype],
        dims: tensor.shape as number[],
        raw,
      }));
    const valueInfo = (t: Tensor) => ({ name: t.name, elemType: onnxTypeOf[t.dtype], shape: [...t.shape] });
    const opsets = [{ domain: '', version: this.opset }];
    if (this.#usesMicrosoftDomain) opsets.push({ domain: 'com.microsoft', version: 1 });
    return {
      irVersion: irVersionFor(this.opset),
      opsets,
      producerName: 'xai-link',
      docString: opts.docString,
      metadata: opts.metadata,
      graph: {
        name: this.name,
        nodes,
        inputs: this.#inputs.map(valueInfo),
        outputs: this.#outputs.map(valueInfo),
        initializers,
      },
    };
  }

  encode(opts: { metadata?: Record<string, string>; docString?: string } = {}): Uint8Array {
    return encodeOnnxModel(this.toModel(opts));
  }
}
