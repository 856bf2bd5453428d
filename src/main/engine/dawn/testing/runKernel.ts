import ort from 'onnxruntime-node';
import { Graph, type DType } from '../../graph/graph.ts';
import { dawnDevice } from '../device.ts';
import type { OnnxAttributeValue } from '../../../../shared/onnx/onnxModel.ts';
import { attributeValue, kernelTypeOf, type Kernel, type KernelRequest } from '../kernel.ts';
import { kernelGenerators } from '../kernels/index.ts';
import { inLaneOrder, type LaneOrder } from '../laneOrder.ts';

/**
 * Kernel tests: one node run by our WGSL on the Dawn device and by ONNX Runtime's CPU provider (the
 * reference), on the same inputs. Used by the kernels' *.gpu.test.ts.
 */

export type HostArray = Float32Array | Int32Array | Uint32Array;

export interface NodeInput {
  dtype: DType;
  shape: number[];
  data: HostArray | BigInt64Array | Uint8Array;
  /** An initializer: its values reach the generator as `constants[i]` (axes, shapes, split sizes). */
  constant?: boolean;
}

export interface NodeSpec {
  opType: string;
  inputs: (NodeInput | null)[];
  outputs: { dtype: DType; shape: number[] }[];
  /** ONNX attributes as the graph writes them ({int: n}, {ints: [...]}, numbers as floats, strings, tensors). */
  attributes?: Record<string, OnnxAttributeValue>;
}

/** The WGSL element type of a graph dtype (kernel.ts). */
export const kernelType = kernelTypeOf;

/** The kernel request the executor would make for this node. */
export function requestOf(spec: NodeSpec): KernelRequest {
  const attributes: Record<string, number | number[] | string> = {};
  for (const [k, v] of Object.entries(spec.attributes ?? {})) attributes[k] = attributeValue(v);
  return {
    opType: spec.opType,
    inputs: spec.inputs.map((i) => (i ? { shape: i.shape, type: kernelType(i.dtype) } : null)),
    outputs: spec.outputs.map((o) => ({ shape: o.shape, type: kernelType(o.dtype) })),
    attributes,
    constants: spec.inputs.map((i) =>
      i?.constant ? Array.from(i.data as ArrayLike<number | bigint>, Number) : null,
    ),
  };
}

/** Host data as the device stores it: int64 narrowed to i32, bool widened to u32. */
export function toDeviceArray(input: NodeInput): HostArray {
  if (input.data instanceof BigInt64Array) return Int32Array.from(input.data, Number);
  if (input.dtype === 'bool') return Uint32Array.from(input.data as Uint8Array);
  return input.data as HostArray;
}

/**
 * Runs a kernel's passes once on the Dawn device; returns its outputs as host arrays. `order`: the lane order to
 * compile it in (laneOrder.ts; by default the process's).
 */
export async function runKernelOnDevice(
  kernel: Kernel,
  req: KernelRequest,
  inputs: (HostArray | null)[],
  order?: LaneOrder,
): Promise<HostArray[]> {
  const { device } = await dawnDevice();
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const sized = (bytes: number) => Math.max(16, Math.ceil(bytes / 16) * 16);
  const buffers: (GPUBuffer | null)[] = inputs.map((data) => {
    if (!data) return null;
    const b = device.createBuffer({ size: sized(data.byteLength), usage });
    device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
    return b;
  });
  const outBytes = req.outputs.map((o) => o.shape.reduce((a, b) => a * b, 1) * 4);
  for (const bytes of outBytes) buffers.push(device.createBuffer({ size: sized(bytes), usage }));
  for (const bytes of kernel.scratchBytes ?? [])
    buffers.push(device.createBuffer({ size: sized(bytes), usage }));
  const encoder = device.createCommandEncoder();
  for (const pass of kernel.passes) {
    // Invalid WGSL surfaces here, with the compiler's message.
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code: inLaneOrder(pass.code, order) });
    const pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
    });
    const invalid = await device.popErrorScope();
    if (invalid) throw new Error(`WGSL of ${req.opType}: ${invalid.message}\n${pass.code}`);
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: pass.bindings.map((binding) => {
        const buffer = buffers[binding];
        if (!buffer) throw new Error(`${req.opType}: pass binds ${binding}, which has no buffer`);
        return { binding, resource: { buffer } };
      }),
    });
    const c = encoder.beginComputePass();
    c.setPipeline(pipeline);
    c.setBindGroup(0, bindGroup);
    c.dispatchWorkgroups(...pass.workgroups);
    c.end();
  }
  const reads = outBytes.map((bytes, j) => {
    const read = device.createBuffer({
      size: sized(bytes),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    encoder.copyBufferToBuffer(buffers[inputs.length + j]!, 0, read, 0, sized(bytes));
    return read;
  });
  device.pushErrorScope('validation');
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  if (error) throw new Error(`${req.opType}: ${error.message}`);
  const results = await Promise.all(
    reads.map(async (read, j) => {
      await read.mapAsync(GPUMapMode.READ);
      const bytes = read.getMappedRange().slice(0, outBytes[j]!);
      read.unmap();
      read.destroy();
      const t = req.outputs[j]!.type;
      return t === 'f32'
        ? new Float32Array(bytes)
        : t === 'u32'
          ? new Uint32Array(bytes)
          : new Int32Array(bytes);
    }),
  );
  for (const b of buffers) b?.destroy();
  return results;
}

/** Runs the node with our kernel (the registered generator for its op type), in `order` (runKernelOnDevice). */
export async function runNodeOnDawn(spec: NodeSpec, order?: LaneOrder): Promise<HostArray[]> {
  const req = requestOf(spec);
  const generate = kernelGenerators[spec.opType];
  if (!generate) throw new Error(`no WebGPU kernel for ${spec.opType}`);
  const kernel = generate(req);
  return runKernelOnDevice(
    kernel,
    req,
    spec.inputs.map((i) => (i ? toDeviceArray(i) : null)),
    order,
  );
}

/** Runs the node on ONNX Runtime's CPU provider: the reference. Outputs as the device stores them (bool → u32). */
export async function runNodeOnOrt(spec: NodeSpec): Promise<HostArray[]> {
  const g = new Graph('kernel_test', { kernels: 'portable' });
  const feeds: Record<string, ort.Tensor> = {};
  const ins = spec.inputs.map((i, n) => {
    if (!i) return null;
    if (i.constant) return g.constant(i.data, i.shape, i.dtype);
    const t = g.input(`in${n}`, i.dtype, i.shape);
    const type = i.dtype === 'float32' ? 'float32' : i.dtype;
    feeds[t.name] = new ort.Tensor(type, i.data as never, i.shape);
    return t;
  });
  const outs = g.emit(spec.opType, ins, spec.outputs, spec.attributes ?? {});
  outs.forEach((t, j) => g.output(t, `out${j}`));
  const session = await ort.InferenceSession.create(g.encode(), { executionProviders: ['cpu'] });
  try {
    const result = await session.run(feeds);
    return spec.outputs.map((o, j) => {
      const data = result[`out${j}`]!.data;
      if (o.dtype === 'bool') return Uint32Array.from(data as Uint8Array);
      if (o.dtype === 'int64') return Int32Array.from(data as BigInt64Array, Number);
      return data as HostArray;
    });
  } finally {
    await session.release();
  }
}

/** Largest |a − b| / (1 + |b|) over the elements, for tolerances on float outputs. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

/** A float32 input of deterministic values in [offset − scale, offset + scale). */
export function floatInput(shape: number[], seed = 1, scale = 1, offset = 0): NodeInput {
  const data = randomFloats(
    shape.reduce((a, b) => a * b, 1),
    seed,
  );
  if (scale !== 1 || offset !== 0) for (let i = 0; i < data.length; i++) data[i] = data[i]! * scale + offset;
  return { dtype: 'float32', shape, data };
}

/** Deterministic test data in [-1, 1). */
export function randomFloats(n: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}
