import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeOnnxModel } from '../../shared/onnx/onnxReader.ts';
import { runConfigSchema, type ResolvedModelConfig } from '../../shared/engine/config.ts';
import type { Checkpoint } from './checkpoint.ts';
import { exportModelBytes } from './export.ts';
import { gptParamLayout, initParams } from './gpt.ts';
import { buildInferenceGraph, INFERENCE_IO } from './graphs.ts';

const model: ResolvedModelConfig = {
  nLayer: 2,
  nHead: 2,
  nEmbd: 16,
  blockSize: 8,
  vocabSize: 13,
  dropout: 0,
  bias: true,
};
const layout = gptParamLayout(model);
const params = initParams(layout, 4);
const ckpt = {
  config: runConfigSchema.parse({
    model: { ...model, vocabSize: undefined },
    train: { maxIters: 1, batchSize: 1 },
  }),
  model,
  layout,
  dataset: { name: 'tiny' },
  tokenizer: null,
  createdAt: new Date(0).toISOString(),
  state: { step: 3, params, valLoss: 2.5 },
} as unknown as Checkpoint;
const dir = mkdtempSync(join(tmpdir(), 'xai-export-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function logits(bytes: Uint8Array, ids: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run({
    [INFERENCE_IO.inputIds]: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
  });
  await s.release();
  return out[INFERENCE_IO.logits]!.data as Float32Array;
}

describe('export: standard ONNX', () => {
  const bytes = exportModelBytes(ckpt);

  it('uses only default-domain operators, opset 17, IR version 8', () => {
    const m = decodeOnnxModel(bytes);
    expect(m.irVersion).toBe(8);
    expect(m.opsets).toEqual([{ domain: '', version: 17 }]);
    const domains = new Set(m.graph!.nodes.map((n) => n.domain ?? ''));
    expect([...domains].filter((d) => d !== '' && d !== 'ai.onnx')).toEqual([]);
    expect(m.graph!.nodes.some((n) => n.opType === 'FusedMatMul')).toBe(false);
  });

  it('computes the logits of the engine (ONNX Runtime contrib-kernel) graph', async () => {
    const ids = [1, 5, 12, 0, 7];
    const engine = buildInferenceGraph({ model, layout, weights: params }).encode();
    const a = await logits(bytes, ids);
    const b = await logits(engine, ids);
    expect(a.length).toBe(ids.length * model.vocabSize);
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
    expect(d).toBeLessThan(1e-5);
  });

  // Debian bookworm's python3-onnx (1.12) is the reference checker the export is for; .ci/run installs it
  const hasOnnx = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;
  it.runIf(hasOnnx)('passes the reference ONNX checker (onnx.checker.check_model, full check)', () => {
    const file = join(dir, 'model.onnx');
    writeFileSync(file, bytes);
    const r = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        'import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print(onnx.__version__)',
        file,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
