import {
  decodeOnnxModel,
  type DecodedOnnxModel,
  type DecodedTensor,
  type DecodedValueInfo,
} from './onnxReader.ts';
import { OnnxDataType } from './onnxModel.ts';
import { ProtoError } from './protoReader.ts';

/**
 * What an ONNX model fetched from someone else (a claim's model CID on IPFS) must look like before ONNX
 * Runtime is allowed to open it. ONNX Runtime is a large C++ parser and kernel library; a crafted model can
 * point it at files on this machine (external data), ask for custom operators or libraries (custom domains,
 * model-local functions), or declare tensors of absurd sizes. So the bytes are decoded here first, by
 * protoReader.ts, and refused unless:
 *
 * - the file is at most `maxBytes` (and is a well-formed protobuf, every length inside its message);
 * - IR version and opsets are ones the engine writes: the default domain at a sane version, and
 *   `com.microsoft` version 1 (FusedMatMul) — nothing else;
 * - every node is an operator the engine's inference export emits (ENGINE_INFERENCE_OPS), with no
 *   subgraphs (If/Loop/Scan bodies), no model-local functions, no training info;
 * - every tensor stores its data inline (no `external_data`, no `data_location = EXTERNAL`, no sparse
 *   initializers), with dims ≥ 0, at most `maxTensorElements` elements, and a data size that matches its dims;
 * - the interface is the engine's: one int64 input [batch, seq] (token ids) and one float output
 *   [batch, seq, vocab] (logits).
 */

/** Why a model was refused (stable codes the UI and the verifier can branch on). */
export const onnxRefusalReasons = [
  'too-large',
  'malformed',
  'ir-version',
  'opset',
  'custom-domain',
  'disallowed-op',
  'subgraph',
  'functions',
  'external-data',
  'bad-tensor',
  'bad-interface',
] as const;
export type OnnxRefusalReason = (typeof onnxRefusalReasons)[number];

export class OnnxPolicyError extends Error {
  readonly reason: OnnxRefusalReason;
  constructor(reason: OnnxRefusalReason, message: string) {
    super(message);
    this.name = 'OnnxPolicyError';
    this.reason = reason;
  }
}

/**
 * The operators the engine's inference graph (src/main/engine: gptForward through buildInferenceGraph)
 * can emit, per domain. Training-only operators (Dropout, SoftmaxCrossEntropyLoss, ScatterND, OneHot, the
 * optimizer's Pow/Min/ReduceSumSquare) are not here: an exported model never needs them.
 */
export const ENGINE_INFERENCE_OPS: Readonly<Record<string, readonly string[]>> = {
  '': [
    'Add',
    'Cast',
    'Concat',
    'ConstantOfShape',
    'Div',
    'Erf',
    'Exp',
    'Expand',
    'Gather',
    'Gemm',
    'Identity',
    'LayerNormalization',
    'MatMul',
    'Mul',
    'Neg',
    'Pad',
    'ReduceMean',
    'ReduceSum',
    'Reshape',
    'Shape',
    'Slice',
    'Softmax',
    'Split',
    'Sqrt',
    'Sub',
    'Transpose',
    'Unsqueeze',
    'Where',
  ],
  'com.microsoft': ['FusedMatMul'],
};

export interface OnnxPolicy {
  /** Largest model file accepted, in bytes. */
  maxBytes: number;
  /** Operators allowed, per domain ('' is the default ONNX domain; 'ai.onnx' is read as ''). */
  allowedOps: Readonly<Record<string, readonly string[]>>;
  /** Inclusive opset version range per allowed domain. */
  opsetVersions: Readonly<Record<string, readonly [number, number]>>;
  irVersions: readonly [number, number];
  /** Most elements in one tensor (initializer, attribute or declared input/output dimension). */
  maxTensorElements: number;
  maxNodes: number;
  /** Largest vocabulary an output may declare. */
  maxVocab: number;
}

export const DEFAULT_ONNX_POLICY: OnnxPolicy = {
  maxBytes: 2 * 1024 ** 3 - 1,
  allowedOps: ENGINE_INFERENCE_OPS,
  opsetVersions: { '': [13, 23], 'com.microsoft': [1, 1] },
  irVersions: [7, 11],
  maxTensorElements: 2 ** 31 - 1,
  maxNodes: 200_000,
  maxVocab: 1 << 22,
};

/** What the check learned about an accepted model. */
export interface OnnxModelFacts {
  bytes: number;
  irVersion: number;
  opsetVersion: number;
  producer: string;
  nodes: number;
  /** Node count per operator ("FusedMatMul" is listed as "com.microsoft:FusedMatMul"). */
  ops: Record<string, number>;
  /** Elements of float initializers: the model's parameters (tied weights counted once). */
  parameters: number;
  input: { name: string; shape: (number | string)[] };
  output: { name: string; shape: (number | string)[] };
  /** The output's last dimension. */
  vocabSize: number;
  metadata: Record<string, string>;
}

const ELEMENT_BYTES: Record<number, number> = {
  [OnnxDataType.FLOAT]: 4,
  [OnnxDataType.UINT8]: 1,
  [OnnxDataType.INT8]: 1,
  [OnnxDataType.UINT16]: 2,
  [OnnxDataType.INT16]: 2,
  [OnnxDataType.INT32]: 4,
  [OnnxDataType.INT64]: 8,
  [OnnxDataType.BOOL]: 1,
  [OnnxDataType.FLOAT16]: 2,
  [OnnxDataType.DOUBLE]: 8,
  [OnnxDataType.UINT32]: 4,
  [OnnxDataType.UINT64]: 8,
};

function normDomain(d: string): string {
  return d === 'ai.onnx' ? '' : d;
}

function domainName(d: string): string {
  return d === '' ? 'the default ONNX domain' : `domain "${d}"`;
}

function checkTensor(t: DecodedTensor, where: string, policy: OnnxPolicy): number {
  const label = `${where}${t.name ? ` "${t.name}"` : ''}`;
  if (Object.keys(t.externalData).length > 0 || t.dataLocation === 1) {
    const location = t.externalData.location;
    throw new OnnxPolicyError(
      'external-data',
      `${label} keeps its data outside the model file${location ? ` (external_data location "${location}")` : ''}: models from other people must be self-contained`,
    );
  }
  if (t.segmented)
    throw new OnnxPolicyError(
      'bad-tensor',
      `${label} is a segment of a larger tensor, which the engine never writes`,
    );
  let count = 1;
  for (const d of t.dims) {
    if (!Number.isInteger(d) || d < 0)
      throw new OnnxPolicyError('bad-tensor', `${label} has a negative dimension (${t.dims.join('×')})`);
    count *= d;
    if (count > policy.maxTensorElements) {
      throw new OnnxPolicyError(
        'bad-tensor',
        `${label} declares ${t.dims.join('×')} elements, more than the ${policy.maxTensorElements} allowed`,
      );
    }
  }
  const elemBytes = ELEMENT_BYTES[t.dataType];
  if (elemBytes === undefined) {
    throw new OnnxPolicyError(
      'bad-tensor',
      `${label} has element type ${t.dataType}, which the engine never writes`,
    );
  }
  if (t.raw !== null) {
    if (t.raw.length !== count * elemBytes) {
      throw new OnnxPolicyError(
        'bad-tensor',
        `${label} declares ${t.dims.join('×') || 'a scalar'} (${count * elemBytes} bytes) but holds ${t.raw.length} bytes`,
      );
    }
  } else if (t.typedCount !== count) {
    throw new OnnxPolicyError('bad-tensor', `${label} declares ${count} elements but holds ${t.typedCount}`);
  }
  return t.dataType === OnnxDataType.FLOAT ? count : 0;
}

function checkDims(v: DecodedValueInfo, where: string, policy: OnnxPolicy): void {
  for (const d of v.shape) {
    if (typeof d === 'number' && (d < 0 || d > policy.maxTensorElements)) {
      throw new OnnxPolicyError('bad-tensor', `${where} "${v.name}" declares an impossible dimension ${d}`);
    }
  }
}

/** Checks a decoded model against the policy; returns its facts or throws an OnnxPolicyError. */
export function checkOnnxModel(
  m: DecodedOnnxModel,
  bytes: number,
  policy: OnnxPolicy = DEFAULT_ONNX_POLICY,
): OnnxModelFacts {
  const [irMin, irMax] = policy.irVersions;
  if (m.irVersion < irMin || m.irVersion > irMax) {
    throw new OnnxPolicyError(
      'ir-version',
      `IR version ${m.irVersion} is outside the accepted range ${irMin}–${irMax}`,
    );
  }
  if (m.functions > 0) {
    throw new OnnxPolicyError(
      'functions',
      `the model defines ${m.functions} function(s) of its own (custom operators): refused`,
    );
  }
  if (m.trainingInfo > 0)
    throw new OnnxPolicyError(
      'functions',
      'the model embeds training information (TrainingInfoProto): refused',
    );
  let opsetVersion = 0;
  const seen = new Set<string>();
  for (const o of m.opsets) {
    const domain = normDomain(o.domain);
    if (seen.has(domain)) throw new OnnxPolicyError('opset', `${domainName(domain)} is imported twice`);
    seen.add(domain);
    const range = policy.opsetVersions[domain];
    if (!range)
      throw new OnnxPolicyError(
        'custom-domain',
        `the model imports operators from ${domainName(domain)}, which is not allowed`,
      );
    if (o.version < range[0] || o.version > range[1]) {
      throw new OnnxPolicyError(
        'opset',
        `opset ${o.version} of ${domainName(domain)} is outside the accepted range ${range[0]}–${range[1]}`,
      );
    }
    if (domain === '') opsetVersion = o.version;
  }
  if (!seen.has(''))
    throw new OnnxPolicyError('opset', 'the model imports no version of the default ONNX domain');
  const g = m.graph;
  if (!g) throw new OnnxPolicyError('malformed', 'the model has no graph');
  if (g.nodes.length > policy.maxNodes)
    throw new OnnxPolicyError(
      'malformed',
      `the graph has ${g.nodes.length} nodes, more than ${policy.maxNodes}`,
    );
  if (g.sparseInitializers > 0)
    throw new OnnxPolicyError(
      'bad-tensor',
      'the graph has sparse initializers, which the engine never writes',
    );

  const ops: Record<string, number> = {};
  g.nodes.forEach((n, i) => {
    const domain = normDomain(n.domain);
    const label = `node ${i}${n.name ? ` "${n.name}"` : ''} (${domain ? `${domain}:` : ''}${n.opType})`;
    if (!seen.has(domain))
      throw new OnnxPolicyError(
        'custom-domain',
        `${label} uses ${domainName(domain)}, which the model does not import`,
      );
    const allowed = policy.allowedOps[domain];
    if (!allowed)
      throw new OnnxPolicyError('custom-domain', `${label} uses ${domainName(domain)}, which is not allowed`);
    if (!allowed.includes(n.opType)) {
      throw new OnnxPolicyError(
        'disallowed-op',
        `${label}: operator "${n.opType}" is not one the XAI-Link engine emits`,
      );
    }
    if (n.hasSubgraph)
      throw new OnnxPolicyError('subgraph', `${label} carries a subgraph or sparse/type attribute: refused`);
    for (const t of n.attributeTensors) checkTensor(t, `${label} attribute tensor`, policy);
    const key = domain ? `${domain}:${n.opType}` : n.opType;
    ops[key] = (ops[key] ?? 0) + 1;
  });

  let parameters = 0;
  const initNames = new Set<string>();
  for (const t of g.initializers) {
    parameters += checkTensor(t, 'initializer', policy);
    initNames.add(t.name);
  }
  for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) checkDims(v, 'value', policy);

  const inputs = g.inputs.filter((v) => !initNames.has(v.name));
  if (inputs.length !== 1 || g.outputs.length !== 1) {
    throw new OnnxPolicyError(
      'bad-interface',
      `an XAI-Link model has one input (token ids) and one output (logits); this one has ${inputs.length} input(s) and ${g.outputs.length} output(s)`,
    );
  }
  const input = inputs[0]!;
  const output = g.outputs[0]!;
  if (!input.isTensor || input.elemType !== OnnxDataType.INT64 || input.shape.length !== 2) {
    throw new OnnxPolicyError('bad-interface', `input "${input.name}" must be int64 [batch, seq] token ids`);
  }
  const vocab = output.shape[2];
  if (
    !output.isTensor ||
    output.elemType !== OnnxDataType.FLOAT ||
    output.shape.length !== 3 ||
    typeof vocab !== 'number'
  ) {
    throw new OnnxPolicyError(
      'bad-interface',
      `output "${output.name}" must be float logits [batch, seq, vocab] with a fixed vocab`,
    );
  }
  if (vocab < 1 || vocab > policy.maxVocab)
    throw new OnnxPolicyError('bad-interface', `output "${output.name}" declares a vocabulary of ${vocab}`);

  return {
    bytes,
    irVersion: m.irVersion,
    opsetVersion,
    producer: [m.producerName, m.producerVersion].filter(Boolean).join(' '),
    nodes: g.nodes.length,
    ops,
    parameters,
    input: { name: input.name, shape: input.shape },
    output: { name: output.name, shape: output.shape },
    vocabSize: vocab,
    metadata: m.metadata,
  };
}

/**
 * Decodes and checks model bytes from an untrusted source. Throws an OnnxPolicyError (reason
 * "malformed" for bytes that are not a well-formed ModelProto) naming what is wrong.
 */
export function inspectUntrustedOnnx(
  bytes: Uint8Array,
  policy: OnnxPolicy = DEFAULT_ONNX_POLICY,
): OnnxModelFacts {
  if (bytes.length > policy.maxBytes) {
    throw new OnnxPolicyError(
      'too-large',
      `the model is ${bytes.length} bytes, more than the ${policy.maxBytes} accepted`,
    );
  }
  if (bytes.length === 0) throw new OnnxPolicyError('malformed', 'the model file is empty');
  let decoded: DecodedOnnxModel;
  try {
    decoded = decodeOnnxModel(bytes);
  } catch (e) {
    if (e instanceof ProtoError)
      throw new OnnxPolicyError('malformed', `not a well-formed ONNX model: ${e.message}`);
    throw e;
  }
  return checkOnnxModel(decoded, bytes.length, policy);
}
