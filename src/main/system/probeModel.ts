import { encodeOnnxModel, OnnxDataType } from '../../shared/onnx/onnxModel.ts';

/** The smallest useful model: y = x·x + x over a [1, 4] float input, enough to prove a provider runs a graph. */
export function buildProbeModel(): Uint8Array {
  return encodeOnnxModel({
    opsets: [{ domain: '', version: 17 }],
    graph: {
      name: 'probe',
      nodes: [
        { opType: 'Mul', inputs: ['x', 'x'], outputs: ['xx'] },
        { opType: 'Add', inputs: ['xx', 'x'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', elemType: OnnxDataType.FLOAT, shape: [1, 4] }],
      outputs: [{ name: 'y', elemType: OnnxDataType.FLOAT, shape: [1, 4] }],
    },
  });
}
