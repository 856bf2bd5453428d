import { describe, expect, it } from 'vitest';
import { encodeOnnxModel, float32Raw, int64Raw, OnnxDataType, type OnnxModel } from './onnxModel.ts';
import {
  DEFAULT_ONNX_POLICY,
  inspectUntrustedOnnx,
  OnnxPolicyError,
  type OnnxRefusalReason,
} from './onnxPolicy.ts';
import { decodeOnnxModel } from './onnxReader.ts';
import { ProtoError, ProtoReader } from './protoReader.ts';
import { ProtoWriter } from './protoWriter.ts';

/** A bigram "language model" in the engine's interface: logits[b, t] = table[input_ids[b, t]]. */
function bigramModel(vocab = 5): OnnxModel {
  const table = new Float32Array(vocab * vocab).map((_, i) => (i % 7) / 10);
  return {
    opsets: [{ domain: '', version: 18 }],
    metadata: { 'xai_link.block_size': '8', note: 'héllo' },
    graph: {
      name: 'bigram',
      nodes: [
        {
          opType: 'Gather',
          inputs: ['table', 'input_ids'],
          outputs: ['logits'],
          attributes: { axis: { int: 0 } },
        },
      ],
      inputs: [{ name: 'input_ids', elemType: OnnxDataType.INT64, shape: ['batch', 'seq'] }],
      outputs: [{ name: 'logits', elemType: OnnxDataType.FLOAT, shape: ['batch', 'seq', vocab] }],
      initializers: [
        { name: 'table', dataType: OnnxDataType.FLOAT, dims: [vocab, vocab], raw: float32Raw(table) },
      ],
    },
  };
}

function refusal(bytes: Uint8Array, policy = DEFAULT_ONNX_POLICY): OnnxRefusalReason {
  try {
    inspectUntrustedOnnx(bytes, policy);
  } catch (e) {
    if (e instanceof OnnxPolicyError) return e.reason;
    throw e;
  }
  throw new Error('the model was accepted');
}

/** Hand-written ModelProto for what the encoder cannot express (external data, functions…). */
interface RawTensor {
  name: string;
  dims: number[];
  dataType?: number;
  raw?: Uint8Array;
  external?: Record<string, string>;
  dataLocation?: number;
}
function rawModel(o: {
  tensor: RawTensor;
  functions?: boolean;
  sparse?: boolean;
  vocab?: number;
}): Uint8Array {
  const vocab = o.vocab ?? 4;
  const w = new ProtoWriter();
  w.uint64Field(1, 10);
  w.messageField(7, (g) => {
    g.messageField(1, (n) =>
      n
        .stringField(1, o.tensor.name)
        .stringField(1, 'input_ids')
        .stringField(2, 'logits')
        .stringField(4, 'Gather'),
    );
    g.stringField(2, 'crafted');
    g.messageField(5, (t) => {
      for (const d of o.tensor.dims) t.uint64Field(1, d);
      t.uint64Field(2, o.tensor.dataType ?? OnnxDataType.FLOAT);
      t.stringField(8, o.tensor.name);
      if (o.tensor.raw) t.bytesField(9, o.tensor.raw);
      for (const [k, v] of Object.entries(o.tensor.external ?? {}))
        t.messageField(13, (e) => e.stringField(1, k).stringField(2, v));
      if (o.tensor.dataLocation !== undefined) t.uint64Field(14, o.tensor.dataLocation);
    });
    if (o.sparse) g.messageField(15, (s) => s.uint64Field(3, 1));
    const vi = (field: number, name: string, elem: number, shape: (number | string)[]) =>
      g.messageField(field, (v) => {
        v.stringField(1, name);
        v.messageField(2, (ty) =>
          ty.messageField(1, (tt) => {
            tt.uint64Field(1, elem);
            tt.messageField(2, (sh) => {
              for (const d of shape)
                sh.messageField(1, (dim) =>
                  typeof d === 'number' ? dim.uint64Field(1, d) : dim.stringField(2, d),
                );
            });
          }),
        );
      });
    vi(11, 'input_ids', OnnxDataType.INT64, ['batch', 'seq']);
    vi(12, 'logits', OnnxDataType.FLOAT, ['batch', 'seq', vocab]);
  });
  w.messageField(8, (os) => os.uint64Field(2, 18));
  if (o.functions) w.messageField(25, (f) => f.stringField(1, 'Evil').stringField(10, 'com.evil'));
  return w.finish();
}

describe('protoReader', () => {
  it('reads varints of every width, including negative int64', () => {
    const w = new ProtoWriter()
      .uint64Field(1, 0)
      .uint64Field(2, 300)
      .uint64Field(3, 2 ** 40)
      .uint64Field(4, -1)
      .uint64Field(5, 2n ** 64n - 2n);
    const fields = [...new ProtoReader(w.finish()).fields()].map((f) => [f.field, f.value]);
    expect(fields).toEqual([
      [1, 0n],
      [2, 300n],
      [3, 2n ** 40n],
      [4, 2n ** 64n - 1n],
      [5, 2n ** 64n - 2n],
    ]);
  });

  it('rejects malformed input with the offset', () => {
    const cases: [Uint8Array, RegExp][] = [
      [Uint8Array.of(0x08, 0x80), /truncated varint/],
      [Uint8Array.of(0x08, ...new Array<number>(10).fill(0xff), 0x01), /longer than 10 bytes/],
      [Uint8Array.of(0x0a, 0x05, 0x41), /runs past the end/],
      [Uint8Array.of(0x0b), /unsupported wire type 3/],
      [Uint8Array.of(0x0f), /unsupported wire type 7/],
      [Uint8Array.of(0x00), /field number 0/],
      [Uint8Array.of(0x0d, 0x00, 0x00), /needs 4 bytes/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => [...new ProtoReader(bytes).fields()]).toThrow(ProtoError);
      expect(() => [...new ProtoReader(bytes).fields()]).toThrow(message);
    }
  });
});

describe('decodeOnnxModel', () => {
  it('round-trips everything the encoder writes', () => {
    const model: OnnxModel = {
      opsets: [
        { domain: '', version: 18 },
        { domain: 'com.microsoft', version: 1 },
      ],
      producerName: 'xai-link',
      producerVersion: '0.1.0',
      docString: 'a doc',
      metadata: { a: '1', 'b.c': '{"x":[1,2]}' },
      graph: {
        name: 'g',
        nodes: [
          {
            opType: 'FusedMatMul',
            domain: 'com.microsoft',
            name: 'fm#0',
            inputs: ['x', 'w'],
            outputs: ['y'],
            attributes: {
              alpha: 0.5,
              transB: { int: 1 },
              axes: { ints: [-1, 0, 7] },
              f: [1.5, -2],
              s: 'str',
              ss: ['a', 'b'],
            },
          },
          {
            opType: 'Add',
            inputs: ['y', ''],
            outputs: ['z'],
            attributes: { t: { name: 'k', dataType: OnnxDataType.INT64, dims: [2], raw: int64Raw([3, -4]) } },
          },
        ],
        inputs: [{ name: 'x', elemType: OnnxDataType.FLOAT, shape: ['batch', 3] }],
        outputs: [{ name: 'z', elemType: OnnxDataType.FLOAT, shape: ['batch', 2] }],
        initializers: [
          {
            name: 'w',
            dataType: OnnxDataType.FLOAT,
            dims: [3, 2],
            raw: float32Raw(Float32Array.of(1, 2, 3, 4, 5, 6)),
          },
          { name: 'scalar', dataType: OnnxDataType.INT64, dims: [], raw: int64Raw([9]) },
        ],
        valueInfo: [{ name: 'y', elemType: OnnxDataType.FLOAT, shape: ['batch', 2] }],
      },
    };
    const d = decodeOnnxModel(encodeOnnxModel(model));
    expect(d.irVersion).toBe(10);
    expect(d.producerName).toBe('xai-link');
    expect(d.producerVersion).toBe('0.1.0');
    expect(d.docString).toBe('a doc');
    expect(d.opsets).toEqual(model.opsets);
    expect(d.metadata).toEqual(model.metadata);
    const g = d.graph!;
    expect(g.name).toBe('g');
    expect(
      g.nodes.map((n) => ({
        opType: n.opType,
        domain: n.domain || undefined,
        name: n.name || undefined,
        inputs: n.inputs,
        outputs: n.outputs,
        attributes: n.attributes,
      })),
    ).toEqual(model.graph.nodes.map((n) => ({ ...n, name: n.name })));
    expect(g.inputs.map(({ name, elemType, shape }) => ({ name, elemType, shape }))).toEqual(
      model.graph.inputs,
    );
    expect(g.outputs.map(({ name, elemType, shape }) => ({ name, elemType, shape }))).toEqual(
      model.graph.outputs,
    );
    expect(g.valueInfo.map(({ name, elemType, shape }) => ({ name, elemType, shape }))).toEqual(
      model.graph.valueInfo,
    );
    expect(g.initializers.map(({ name, dataType, dims, raw }) => ({ name, dataType, dims, raw }))).toEqual(
      model.graph.initializers,
    );
    expect(
      g.initializers.every((t) => Object.keys(t.externalData).length === 0 && t.dataLocation === 0),
    ).toBe(true);
  });

  it('returns tensor data as a view, not a copy', () => {
    const bytes = encodeOnnxModel(bigramModel(64));
    const raw = decodeOnnxModel(bytes).graph!.initializers[0]!.raw!;
    expect(raw.buffer).toBe(bytes.buffer);
    expect(raw.length).toBe(64 * 64 * 4);
  });
});

describe('inspectUntrustedOnnx', () => {
  it('accepts a model in the engine interface and reports its facts', () => {
    const facts = inspectUntrustedOnnx(encodeOnnxModel(bigramModel(5)));
    expect(facts).toMatchObject({
      irVersion: 10,
      opsetVersion: 18,
      nodes: 1,
      ops: { Gather: 1 },
      parameters: 25,
      vocabSize: 5,
    });
    expect(facts.input).toEqual({ name: 'input_ids', shape: ['batch', 'seq'] });
    expect(facts.metadata.note).toBe('héllo');
  });

  it('refuses external data, by entry or by data_location', () => {
    const raw = float32Raw(new Float32Array(16));
    expect(() =>
      inspectUntrustedOnnx(rawModel({ tensor: { name: 'table', dims: [4, 4], raw } })),
    ).not.toThrow();
    expect(
      refusal(
        rawModel({
          tensor: {
            name: 'table',
            dims: [4, 4],
            external: { location: '/etc/passwd', offset: '0', length: '64' },
          },
        }),
      ),
    ).toBe('external-data');
    expect(() =>
      inspectUntrustedOnnx(
        rawModel({ tensor: { name: 'table', dims: [4, 4], external: { location: '../../secret.bin' } } }),
      ),
    ).toThrow(/secret\.bin/);
    expect(refusal(rawModel({ tensor: { name: 'table', dims: [4, 4], raw, dataLocation: 1 } }))).toBe(
      'external-data',
    );
  });

  it('refuses operators the engine does not emit, and custom domains', () => {
    const unknownOp = bigramModel();
    unknownOp.graph.nodes[0]!.opType = 'MyCustomOp';
    expect(refusal(encodeOnnxModel(unknownOp))).toBe('disallowed-op');

    const loop = bigramModel();
    loop.graph.nodes[0]!.opType = 'Loop';
    expect(refusal(encodeOnnxModel(loop))).toBe('disallowed-op');

    const customDomain = bigramModel();
    customDomain.opsets.push({ domain: 'com.evil', version: 1 });
    expect(refusal(encodeOnnxModel(customDomain))).toBe('custom-domain');

    const nodeDomain = bigramModel();
    nodeDomain.graph.nodes[0]!.domain = 'com.evil';
    expect(refusal(encodeOnnxModel(nodeDomain))).toBe('custom-domain');

    // com.microsoft is allowed only for FusedMatMul
    const msOther = bigramModel();
    msOther.opsets.push({ domain: 'com.microsoft', version: 1 });
    msOther.graph.nodes[0]!.domain = 'com.microsoft';
    expect(refusal(encodeOnnxModel(msOther))).toBe('disallowed-op');

    expect(
      refusal(
        rawModel({ tensor: { name: 'table', dims: [4, 4], raw: new Uint8Array(64) }, functions: true }),
      ),
    ).toBe('functions');
  });

  it('refuses subgraphs even when the operator is allowed', () => {
    // a graph-typed attribute (type 5) with a body (field 6)
    const w = new ProtoWriter();
    w.stringField(1, 'body')
      .messageField(6, (g) => g.stringField(2, 'inner'))
      .uint64Field(20, 5);
    const policy = { ...DEFAULT_ONNX_POLICY, allowedOps: { '': ['Gather', 'If'] } };
    const m = bigramModel();
    m.graph.nodes[0]!.opType = 'If';
    const bytes = encodeOnnxModel(m);
    // Splice the attribute into the node: re-encode the node by hand.
    const crafted = new ProtoWriter()
      .uint64Field(1, 10)
      .messageField(7, (g) => {
        g.messageField(1, (n) =>
          n
            .stringField(1, 'table')
            .stringField(1, 'input_ids')
            .stringField(2, 'logits')
            .stringField(4, 'If')
            .bytesField(5, w.finish()),
        );
        for (const f of new ProtoReader(decodeGraphBytes(bytes)).fields())
          if (f.field !== 1) g.bytesField(f.field, f.value as Uint8Array);
      })
      .messageField(8, (o) => o.uint64Field(2, 18))
      .finish();
    expect(refusal(crafted, policy)).toBe('subgraph');
  });

  it('refuses huge or inconsistent declared sizes', () => {
    expect(
      refusal(rawModel({ tensor: { name: 'table', dims: [1_000_000, 1_000_000], raw: new Uint8Array(16) } })),
    ).toBe('bad-tensor');
    expect(refusal(rawModel({ tensor: { name: 'table', dims: [4, 4], raw: new Uint8Array(60) } }))).toBe(
      'bad-tensor',
    );
    expect(refusal(rawModel({ tensor: { name: 'table', dims: [-1, 4], raw: new Uint8Array(16) } }))).toBe(
      'bad-tensor',
    );
    expect(
      refusal(rawModel({ tensor: { name: 'table', dims: [4, 4], raw: new Uint8Array(64), dataType: 8 } })),
    ).toBe('bad-tensor');
    expect(
      refusal(rawModel({ tensor: { name: 'table', dims: [4, 4], raw: new Uint8Array(64) }, sparse: true })),
    ).toBe('bad-tensor');
    expect(
      refusal(rawModel({ tensor: { name: 'table', dims: [4, 4], raw: new Uint8Array(64) }, vocab: 2 ** 33 })),
    ).toBe('bad-tensor');
    expect(
      refusal(rawModel({ tensor: { name: 'table', dims: [4, 4], raw: new Uint8Array(64) }, vocab: 1 << 30 })),
    ).toBe('bad-interface');
  });

  it('refuses truncated bytes and files over the size limit', () => {
    const bytes = encodeOnnxModel(bigramModel(16));
    // Cut inside the graph (which holds the 1 KiB table): its declared length runs past the end.
    for (const cut of [3, 100, 500, bytes.length - 200])
      expect(refusal(bytes.subarray(0, cut))).toBe('malformed');
    expect(() => inspectUntrustedOnnx(bytes.subarray(0, 500))).toThrow(
      /runs past the end|needs \d+ bytes|truncated/,
    );
    expect(refusal(new Uint8Array(0))).toBe('malformed');
    expect(refusal(bytes, { ...DEFAULT_ONNX_POLICY, maxBytes: bytes.length - 1 })).toBe('too-large');
    expect(() =>
      inspectUntrustedOnnx(bytes, { ...DEFAULT_ONNX_POLICY, maxBytes: bytes.length }),
    ).not.toThrow();
  });

  it('refuses insane IR and opset versions, and foreign interfaces', () => {
    expect(refusal(encodeOnnxModel({ ...bigramModel(), irVersion: 99 }))).toBe('ir-version');
    expect(refusal(encodeOnnxModel({ ...bigramModel(), opsets: [{ domain: '', version: 999 }] }))).toBe(
      'opset',
    );
    expect(
      refusal(
        encodeOnnxModel({
          ...bigramModel(),
          opsets: [
            { domain: '', version: 18 },
            { domain: '', version: 17 },
          ],
        }),
      ),
    ).toBe('opset');
    const floatInput = bigramModel();
    floatInput.graph.inputs[0]!.elemType = OnnxDataType.FLOAT;
    expect(refusal(encodeOnnxModel(floatInput))).toBe('bad-interface');
    const symbolicVocab = bigramModel();
    symbolicVocab.graph.outputs[0]!.shape = ['batch', 'seq', 'vocab'];
    expect(refusal(encodeOnnxModel(symbolicVocab))).toBe('bad-interface');
  });
});

/** The GraphProto bytes of a ModelProto (field 7). */
function decodeGraphBytes(model: Uint8Array): Uint8Array {
  for (const f of new ProtoReader(model).fields()) if (f.field === 7) return f.value as Uint8Array;
  throw new Error('no graph');
}
