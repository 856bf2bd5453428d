import { ProtoWriter } from './protoWriter.ts';

/**
 * Plain-object description of an ONNX model and its encoder (onnx.proto3, IR version 10).
 * Field numbers are those of onnx/onnx.proto; only what XAI-Link emits is covered.
 */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;
export type OnnxDataTypeCode = (typeof OnnxDataType)[keyof typeof OnnxDataType];

export type OnnxAttributeValue =
  number | string | number[] | string[] | OnnxTensor | { int: number } | { ints: number[] };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  /** Numbers are written as FLOAT unless wrapped as {int} / {ints}; arrays of numbers as FLOATS. */
  attributes?: Record<string, OnnxAttributeValue>;
}

export interface OnnxTensor {
  name: string;
  dataType: OnnxDataTypeCode;
  dims: number[];
  /** Little-endian bytes of the tensor's elements. */
  raw: Uint8Array;
}

export interface OnnxValueInfo {
  name: string;
  elemType: OnnxDataTypeCode;
  /** A number is a fixed size; a string names a symbolic dimension (e.g. "batch"). */
  shape: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers?: OnnxTensor[];
  valueInfo?: OnnxValueInfo[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  opsets: { domain: string; version: number }[];
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
  irVersion?: number;
}

export const ONNX_IR_VERSION = 10;

const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  for (const d of t.dims) w.uint64Field(1, d);
  w.uint64Field(2, t.dataType);
  w.stringField(8, t.name);
  w.bytesField(9, t.raw);
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.stringField(1, v.name);
  w.messageField(2, (type) =>
    type.messageField(1, (tensorType) => {
      tensorType.uint64Field(1, v.elemType);
      tensorType.messageField(2, (shape) => {
        for (const d of v.shape) {
          shape.messageField(1, (dim) => {
            if (typeof d === 'number') dim.uint64Field(1, d);
            else dim.stringField(2, d);
          });
        }
      });
    }),
  );
}

function writeAttribute(w: ProtoWriter, name: string, value: OnnxAttributeValue): void {
  w.stringField(1, name);
  if (typeof value === 'number') {
    w.floatField(2, value).uint64Field(20, AttrType.FLOAT);
  } else if (typeof value === 'string') {
    w.stringField(4, value).uint64Field(20, AttrType.STRING);
  } else if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) {
      for (const s of value as string[]) w.stringField(9, s);
      w.uint64Field(20, AttrType.STRINGS);
    } else {
      for (const f of value as number[]) w.floatField(7, f);
      w.uint64Field(20, AttrType.FLOATS);
    }
  } else if ('int' in value) {
    w.uint64Field(3, value.int).uint64Field(20, AttrType.INT);
  } else if ('ints' in value) {
    for (const i of value.ints) w.uint64Field(8, i);
    w.uint64Field(20, AttrType.INTS);
  } else {
    w.messageField(5, (t) => writeTensor(t, value)).uint64Field(20, AttrType.TENSOR);
  }
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.stringField(1, i);
  for (const o of n.outputs) w.stringField(2, o);
  if (n.name) w.stringField(3, n.name);
  w.stringField(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.messageField(5, (a) => writeAttribute(a, k, v));
  if (n.domain) w.stringField(7, n.domain);
}

function writeGraph(w: ProtoWriter, g: OnnxGraph): void {
  for (const n of g.nodes) w.messageField(1, (nw) => writeNode(nw, n));
  w.stringField(2, g.name);
  for (const t of g.initializers ?? []) w.messageField(5, (tw) => writeTensor(tw, t));
  for (const v of g.inputs) w.messageField(11, (vw) => writeValueInfo(vw, v));
  for (const v of g.outputs) w.messageField(12, (vw) => writeValueInfo(vw, v));
  for (const v of g.valueInfo ?? []) w.messageField(13, (vw) => writeValueInfo(vw, v));
}

/** Serialises a model to the bytes ONNX Runtime (or any ONNX tool) loads. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.uint64Field(1, model.irVersion ?? ONNX_IR_VERSION);
  w.stringField(2, model.producerName ?? 'xai-link');
  if (model.producerVersion) w.stringField(3, model.producerVersion);
  if (model.docString) w.stringField(6, model.docString);
  w.messageField(7, (g) => writeGraph(g, model.graph));
  for (const o of model.opsets) {
    w.messageField(8, (ow) => {
      if (o.domain) ow.stringField(1, o.domain);
      ow.uint64Field(2, o.version);
    });
  }
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    w.messageField(14, (m) => m.stringField(1, key).stringField(2, value));
  }
  return w.finish();
}

/** Little-endian bytes of a Float32Array (a copy, so the model owns its data). */
export function float32Raw(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

export function int64Raw(values: ArrayLike<number>): Uint8Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]!);
  return new Uint8Array(out.buffer);
}
