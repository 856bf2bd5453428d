import { describe, expect, it } from 'vitest';
import type { OnnxTensor } from '../../../shared/onnx/onnxModel.ts';
import { attributeValue, spread } from './kernel.ts';

/** A one-element tensor whose bytes sit at an odd offset of a larger buffer, as a decoded model holds them. */
function tensorAt(dataType: OnnxTensor['dataType'], bytes: Uint8Array): OnnxTensor {
  const buffer = new Uint8Array(bytes.length + 3);
  buffer.set(bytes, 3);
  return { name: 'value', dataType, dims: [1], raw: buffer.subarray(3) };
}
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('attributeValue', () => {
  it('unwraps ints and passes floats, lists and strings through', () => {
    expect(attributeValue({ int: -1 })).toBe(-1);
    expect(attributeValue({ ints: [0, 2, 1, 3] })).toEqual([0, 2, 1, 3]);
    expect(attributeValue(1e-5)).toBe(1e-5);
    expect(attributeValue('add')).toBe('add');
  });
  it('reads a one-element tensor of float, int32 and int64 as its number, from any byte offset', () => {
    expect(attributeValue(tensorAt(1, bytesOf(Float32Array.of(-Infinity))))).toBe(-Infinity);
    expect(attributeValue(tensorAt(1, bytesOf(Float32Array.of(0.125))))).toBe(0.125);
    expect(attributeValue(tensorAt(6, bytesOf(Int32Array.of(-7))))).toBe(-7);
    expect(attributeValue(tensorAt(7, bytesOf(BigInt64Array.of(-3n))))).toBe(-3);
  });
  it('refuses tensors of several elements and types it does not read', () => {
    expect(() => attributeValue(tensorAt(1, bytesOf(Float32Array.of(1, 2))))).toThrow(/2 elements/);
    expect(() => attributeValue(tensorAt(10, new Uint8Array(2)))).toThrow(/data type 10/);
  });
});

describe('spread', () => {
  it('keeps a dispatch in x up to the limit, and splits it over y beyond', () => {
    expect(spread(65535)).toEqual([65535, 1, 1]);
    const [x, y] = spread(65536 * 3 + 1);
    expect(x).toBeLessThanOrEqual(65535);
    expect(x * y).toBeGreaterThanOrEqual(65536 * 3 + 1);
    expect(spread(1000, 97)).toEqual([91, 11, 1]);
  });
});
