import type { OnnxAttributeValue, OnnxValueInfo } from './onnxModel.ts';
import {
  asBytes,
  asFloat32,
  asInt64,
  asString,
  asUint,
  ProtoError,
  ProtoReader,
  pushFloats,
  pushInt64s,
  type ProtoField,
} from './protoReader.ts';

/**
 * Decodes an ONNX ModelProto (onnx/onnx.proto field numbers) into plain objects: the inverse of
 * onnxModel.ts's encoder, plus everything an untrusted model could carry that the encoder never writes
 * (external data, sparse initializers, subgraphs, model-local functions, training info), so that
 * onnxPolicy.ts can refuse it. Tensor data is returned as views into the input (no copy).
 *
 * Unknown fields are skipped, as protobuf requires; structurally invalid bytes throw a ProtoError.
 */

export interface DecodedTensor {
  name: string;
  dataType: number;
  dims: number[];
  /** raw_data, or null when the tensor stores its values in typed fields (float_data, int64_data…). */
  raw: Uint8Array | null;
  /** Elements stored in typed fields (float_data, int32_data, int64_data, double_data, uint64_data, string_data). */
  typedCount: number;
  /** external_data key/value entries (location, offset, length…); empty when the data is inline. */
  externalData: Record<string, string>;
  /** data_location: 0 DEFAULT, 1 EXTERNAL. */
  dataLocation: number;
  /** segment (field 3) present: a chunk of a larger tensor. */
  segmented: boolean;
}

export type DecodedAttributeValue =
  OnnxAttributeValue | { graph: true } | { sparse: true } | { typeProto: true };

export interface DecodedNode {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, DecodedAttributeValue>;
  /** Tensors inside attributes (type TENSOR / TENSORS), to check their data location too. */
  attributeTensors: DecodedTensor[];
  /** Attributes that hold graphs (If, Loop, Scan bodies) or sparse tensors or type protos. */
  hasSubgraph: boolean;
}

export interface DecodedValueInfo extends Omit<OnnxValueInfo, 'elemType'> {
  /** 0 when the value is not a tensor (sequence, map, optional…). */
  elemType: number;
  /** False when the type is not a dense tensor. */
  isTensor: boolean;
  /** False when the type declares no shape at all (any rank). */
  hasShape: boolean;
}

export interface DecodedGraph {
  name: string;
  nodes: DecodedNode[];
  inputs: DecodedValueInfo[];
  outputs: DecodedValueInfo[];
  valueInfo: DecodedValueInfo[];
  initializers: DecodedTensor[];
  sparseInitializers: number;
}

export interface DecodedOnnxModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  opsets: { domain: string; version: number }[];
  metadata: Record<string, string>;
  graph: DecodedGraph | null;
  /** Model-local functions (FunctionProto): custom operators defined inside the model. */
  functions: number;
  /** TrainingInfoProto entries (training algorithms embedded in the model). */
  trainingInfo: number;
}

function keyValue(f: ProtoField, what: string): [string, string] {
  let key = '';
  let value = '';
  for (const e of new ProtoReader(asBytes(f, what), f.offset).fields()) {
    if (e.field === 1) key = asString(e, `${what}.key`);
    else if (e.field === 2) value = asString(e, `${what}.value`);
  }
  return [key, value];
}

function decodeTensor(f: ProtoField, what: string): DecodedTensor {
  const t: DecodedTensor = {
    name: '',
    dataType: 0,
    dims: [],
    raw: null,
    typedCount: 0,
    externalData: {},
    dataLocation: 0,
    segmented: false,
  };
  const r = new ProtoReader(asBytes(f, what), f.offset);
  for (const e of r.fields()) {
    switch (e.field) {
      case 1:
        pushInt64s(e, t.dims, `${what}.dims`);
        break;
      case 2:
        t.dataType = asUint(e, `${what}.data_type`);
        break;
      case 3:
        t.segmented = true;
        break;
      case 4: {
        // float_data: count the elements without decoding them
        const floats: number[] = [];
        if (e.wireType === 5) t.typedCount++;
        else {
          const n = asBytes(e, `${what}.float_data`).length;
          if (n % 4 !== 0) pushFloats(e, floats, `${what}.float_data`); // throws with the offset
          t.typedCount += n / 4;
        }
        break;
      }
      case 5: // int32_data
      case 7: // int64_data
      case 11: // uint64_data (counted only)
        if (e.wireType === 0) t.typedCount++;
        else countPackedVarints(e, (n) => (t.typedCount += n), `${what}.typed_data`);
        break;
      case 6: // string_data: one entry per element
        asBytes(e, `${what}.string_data`);
        t.typedCount++;
        break;
      case 8:
        t.name = asString(e, `${what}.name`);
        break;
      case 9:
        t.raw = asBytes(e, `${what}.raw_data`);
        break;
      case 10: // double_data
        if (e.wireType === 1) t.typedCount++;
        else t.typedCount += Math.floor(asBytes(e, `${what}.double_data`).length / 8);
        break;
      case 13: {
        const [k, v] = keyValue(e, `${what}.external_data`);
        t.externalData[k] = v;
        break;
      }
      case 14:
        t.dataLocation = asUint(e, `${what}.data_location`);
        break;
      default:
        break;
    }
  }
  return t;
}

function countPackedVarints(f: ProtoField, add: (n: number) => void, what: string): void {
  const bytes = asBytes(f, what);
  let n = 0;
  for (const b of bytes) if ((b & 0x80) === 0) n++;
  if (bytes.length > 0 && (bytes[bytes.length - 1]! & 0x80) !== 0) {
    throw new ProtoError(`${what}: packed run ends inside a varint`, f.offset + bytes.length - 1);
  }
  add(n);
}

const AttrType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

function decodeAttribute(f: ProtoField, node: DecodedNode, what: string): void {
  let name = '';
  let type = 0;
  let fv: number | undefined;
  let iv: number | undefined;
  let sv: string | undefined;
  let tv: DecodedTensor | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: string[] = [];
  let subgraph = false;
  for (const e of new ProtoReader(asBytes(f, what), f.offset).fields()) {
    switch (e.field) {
      case 1:
        name = asString(e, `${what}.name`);
        break;
      case 2:
        fv = asFloat32(e, `${what}.f`);
        break;
      case 3:
        iv = asInt64(e, `${what}.i`);
        break;
      case 4:
        sv = asString(e, `${what}.s`);
        break;
      case 5:
        tv = decodeTensor(e, `${what}.t`);
        node.attributeTensors.push(tv);
        break;
      case 6: // g
      case 11: // graphs
      case 22: // sparse_tensor
      case 23: // sparse_tensors
      case 14: // tp
      case 15: // type_protos
        asBytes(e, what);
        subgraph = true;
        break;
      case 7:
        pushFloats(e, floats, `${what}.floats`);
        break;
      case 8:
        pushInt64s(e, ints, `${what}.ints`);
        break;
      case 9:
        strings.push(asString(e, `${what}.strings`));
        break;
      case 10:
        node.attributeTensors.push(decodeTensor(e, `${what}.tensors`));
        break;
      case 20:
        type = asUint(e, `${what}.type`);
        break;
      default:
        break;
    }
  }
  if (subgraph || type === AttrType.GRAPH || type === AttrType.GRAPHS) node.hasSubgraph = true;
  let value: DecodedAttributeValue;
  switch (type) {
    case AttrType.FLOAT:
      value = fv ?? 0;
      break;
    case AttrType.INT:
      value = { int: iv ?? 0 };
      break;
    case AttrType.STRING:
      value = sv ?? '';
      break;
    case AttrType.TENSOR:
      value = tv
        ? { name: tv.name, dataType: tv.dataType as never, dims: tv.dims, raw: tv.raw ?? new Uint8Array(0) }
        : { graph: true };
      break;
    case AttrType.FLOATS:
      value = floats;
      break;
    case AttrType.INTS:
      value = { ints };
      break;
    case AttrType.STRINGS:
      value = strings;
      break;
    case AttrType.GRAPH:
    case AttrType.GRAPHS:
      value = { graph: true };
      break;
    case AttrType.SPARSE_TENSOR:
    case AttrType.SPARSE_TENSORS:
      node.hasSubgraph = true;
      value = { sparse: true };
      break;
    case AttrType.TYPE_PROTO:
    case AttrType.TYPE_PROTOS:
      node.hasSubgraph = true;
      value = { typeProto: true };
      break;
    default:
      // ONNX < 1.? wrote attributes without a type: infer it from the field that is set.
      value =
        iv !== undefined
          ? { int: iv }
          : fv !== undefined
            ? fv
            : sv !== undefined
              ? sv
              : ints.length > 0
                ? { ints }
                : floats.length > 0
                  ? floats
                  : strings;
  }
  node.attributes[name] = value;
}

function decodeNode(f: ProtoField, what: string): DecodedNode {
  const node: DecodedNode = {
    opType: '',
    domain: '',
    name: '',
    inputs: [],
    outputs: [],
    attributes: {},
    attributeTensors: [],
    hasSubgraph: false,
  };
  for (const e of new ProtoReader(asBytes(f, what), f.offset).fields()) {
    switch (e.field) {
      case 1:
        node.inputs.push(asString(e, `${what}.input`));
        break;
      case 2:
        node.outputs.push(asString(e, `${what}.output`));
        break;
      case 3:
        node.name = asString(e, `${what}.name`);
        break;
      case 4:
        node.opType = asString(e, `${what}.op_type`);
        break;
      case 5:
        decodeAttribute(e, node, `${what}.attribute`);
        break;
      case 7:
        node.domain = asString(e, `${what}.domain`);
        break;
      default:
        break;
    }
  }
  return node;
}

function decodeValueInfo(f: ProtoField, what: string): DecodedValueInfo {
  const v: DecodedValueInfo = { name: '', elemType: 0, shape: [], isTensor: false, hasShape: false };
  for (const e of new ProtoReader(asBytes(f, what), f.offset).fields()) {
    if (e.field === 1) v.name = asString(e, `${what}.name`);
    else if (e.field === 2) {
      for (const t of new ProtoReader(asBytes(e, `${what}.type`), e.offset).fields()) {
        if (t.field !== 1) continue; // only tensor_type is a dense tensor
        v.isTensor = true;
        for (const tt of new ProtoReader(asBytes(t, `${what}.tensor_type`), t.offset).fields()) {
          if (tt.field === 1) v.elemType = asUint(tt, `${what}.elem_type`);
          else if (tt.field === 2) {
            v.hasShape = true;
            for (const d of new ProtoReader(asBytes(tt, `${what}.shape`), tt.offset).fields()) {
              if (d.field !== 1) continue;
              let dim: number | string = '?';
              for (const dd of new ProtoReader(asBytes(d, `${what}.dim`), d.offset).fields()) {
                if (dd.field === 1) dim = asInt64(dd, `${what}.dim_value`);
                else if (dd.field === 2) dim = asString(dd, `${what}.dim_param`);
              }
              v.shape.push(dim);
            }
          }
        }
      }
    }
  }
  return v;
}

function decodeGraph(f: ProtoField): DecodedGraph {
  const g: DecodedGraph = {
    name: '',
    nodes: [],
    inputs: [],
    outputs: [],
    valueInfo: [],
    initializers: [],
    sparseInitializers: 0,
  };
  for (const e of new ProtoReader(asBytes(f, 'graph'), f.offset).fields()) {
    switch (e.field) {
      case 1:
        g.nodes.push(decodeNode(e, `graph.node[${g.nodes.length}]`));
        break;
      case 2:
        g.name = asString(e, 'graph.name');
        break;
      case 5:
        g.initializers.push(decodeTensor(e, `graph.initializer[${g.initializers.length}]`));
        break;
      case 11:
        g.inputs.push(decodeValueInfo(e, `graph.input[${g.inputs.length}]`));
        break;
      case 12:
        g.outputs.push(decodeValueInfo(e, `graph.output[${g.outputs.length}]`));
        break;
      case 13:
        g.valueInfo.push(decodeValueInfo(e, `graph.value_info[${g.valueInfo.length}]`));
        break;
      case 15:
        asBytes(e, 'graph.sparse_initializer');
        g.sparseInitializers++;
        break;
      default:
        break;
    }
  }
  return g;
}

/** Decodes a serialised ModelProto; throws a ProtoError (with the byte offset) on malformed input. */
export function decodeOnnxModel(bytes: Uint8Array): DecodedOnnxModel {
  const m: DecodedOnnxModel = {
    irVersion: 0,
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    opsets: [],
    metadata: {},
    graph: null,
    functions: 0,
    trainingInfo: 0,
  };
  for (const f of new ProtoReader(bytes).fields()) {
    switch (f.field) {
      case 1:
        m.irVersion = asUint(f, 'ir_version');
        break;
      case 2:
        m.producerName = asString(f, 'producer_name');
        break;
      case 3:
        m.producerVersion = asString(f, 'producer_version');
        break;
      case 4:
        m.domain = asString(f, 'domain');
        break;
      case 5:
        m.modelVersion = asInt64(f, 'model_version');
        break;
      case 6:
        m.docString = asString(f, 'doc_string');
        break;
      case 7:
        if (m.graph) throw new ProtoError('the model has two graphs', f.offset);
        m.graph = decodeGraph(f);
        break;
      case 8: {
        let domain = '';
        let version = 0;
        for (const e of new ProtoReader(asBytes(f, 'opset_import'), f.offset).fields()) {
          if (e.field === 1) domain = asString(e, 'opset_import.domain');
          else if (e.field === 2) version = asInt64(e, 'opset_import.version');
        }
        m.opsets.push({ domain, version });
        break;
      }
      case 14: {
        const [k, v] = keyValue(f, 'metadata_props');
        m.metadata[k] = v;
        break;
      }
      case 20:
        asBytes(f, 'training_info');
        m.trainingInfo++;
        break;
      case 25:
        asBytes(f, 'functions');
        m.functions++;
        break;
      default:
        break;
    }
  }
  return m;
}
