/**
 * Pipelines with the real services (datasets, Helia, the engine's training worker, ONNX Runtime): stages
 * are skipped when their inputs are unchanged, an interrupted training stage resumes from its checkpoint,
 * a changed setting re-runs only what depends on it, and training continues from a parent model CID.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api/errors.ts';
import { modelCardSchema } from '../../shared/eval/modelPackage.ts';
import {
  PIPELINE_FORMAT,
  type PipelineInput,
  type PipelineRunResult,
} from '../../shared/pipelines/pipeline.ts';
import { bundledShakespeare } from '../eval/testing/models.ts';
import { createAppCore, createLocalClient } from '../rpc/localClient.ts';
import { createServices, type AppServices } from '../services/services.ts';
import { canonicalJson, stageKey } from './pipelineRunner.ts';

const dir = mkdtempSync(join(tmpdir(), 'xai-pipelines-'));
let services: AppServices;

beforeAll(() => {
  services = createServices({ dataDir: join(dir, 'data'), entryPoint: 'cli' });
  writeFileSync(join(dir, 'text.txt'), bundledShakespeare().slice(0, 60_000));
});
afterAll(async () => {
  await services?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function pipeline(name: string, iters: number, from: string | null = null): PipelineInput {
  return {
    format: PIPELINE_FORMAT,
    version: 1,
    name,
    stages: {
      prepare: { inputs: ['text.txt'], tokenizer: 'char' },
      train: {
        preset: 'cpu-tiny',
        model: { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 32 },
        train: {
          batchSize: 4,
          evalIters: 2,
          warmupIters: 2,
          logInterval: 1,
          sampleTokens: 4,
          checkpointInterval: 2,
        },
        iters,
        from: from ? { modelCid: from } : null,
      },
    },
  };
}

function statuses(r: PipelineRunResult): Record<string, string> {
  return Object.fromEntries(r.stages.map((s) => [s.stage, s.status]));
}

async function runFile(
  p: PipelineInput,
  opts: { signal?: AbortSignal; onStep?: (step: number) => void } = {},
): Promise<PipelineRunResult> {
  const file = join(dir, `${p.name}.json`);
  writeFileSync(file, JSON.stringify(p, null, 2));
  const { pipeline, baseDir, bytes } = services.proof.pipelines.load({ file });
  return services.proof.pipelines.runner.run(pipeline, {
    baseDir,
    ...(bytes ? { fileBytes: bytes } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: (p) => {
      if (p.stage === 'train' && p.unit === 'steps') opts.onStep?.(p.done);
    },
  });
}

describe('pipeline runner', () => {
  it('keys stages by canonical content', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] })).toBe('{"a":[{"d":2}],"b":1}');
    expect(stageKey('train', { x: 1, y: 2 })).toBe(stageKey('train', { y: 2, x: 1 }));
    expect(stageKey('train', { x: 1 })).not.toBe(stageKey('evaluate', { x: 1 }));
  });

  it('refuses an invalid pipeline file naming the field', () => {
    expect(() =>
      services.proof.pipelines.load({ pipeline: { ...pipeline('bad', 5), stages: { train: { iters: 1 } } } }),
    ).toThrow(ApiError);
    expect(() => services.proof.pipelines.load({ pipeline: { ...pipeline('bad', 0) } })).toThrow(
      /stages\.train\.iters/,
    );
  });

  it('resumes an interrupted training stage, then skips every unchanged stage', async () => {
    const abort = new AbortController();
    await expect(
      runFile(pipeline('p', 16), { signal: abort.signal, onStep: (s) => s >= 6 && abort.abort() }),
    ).rejects.toThrow(/stopped at step|cancelled/);
    const steps: number[] = [];
    const resumed = await runFile(pipeline('p', 16), { onStep: (s) => steps.push(s) });
    // it picked up from the checkpoint written when it was stopped, not from step 0
    expect(steps[0]).toBeGreaterThanOrEqual(6);
    expect(statuses(resumed)).toEqual({
      prepare: 'cached',
      train: 'resumed',
      evaluate: 'done',
      publish: 'done',
      claim: 'skipped',
    });
    expect(resumed.outputs.train!.iterations).toBe(16);
    expect(resumed.outputs.evaluate!.bitsPerByte).toBeGreaterThan(0);
    const again = await runFile(pipeline('p', 16));
    expect(statuses(again)).toEqual({
      prepare: 'cached',
      train: 'cached',
      evaluate: 'cached',
      publish: 'cached',
      claim: 'skipped',
    });
    expect(again.outputs).toEqual(resumed.outputs);

    // A changed setting re-runs what depends on it, nothing before it.
    const longer = await runFile(pipeline('p', 18));
    expect(statuses(longer)).toMatchObject({
      prepare: 'cached',
      train: 'done',
      evaluate: 'done',
      publish: 'done',
    });

    // Continue from the model CID alone: its card names the checkpoint; the curve and steps carry on.
    const child = await runFile(pipeline('child', 6, resumed.outputs.evaluate!.modelCid));
    expect(statuses(child)).toMatchObject({ prepare: 'cached', train: 'done', evaluate: 'done' });
    expect(child.outputs.train).toMatchObject({
      iterations: 22,
      parentModelCid: resumed.outputs.evaluate!.modelCid,
    });
    const card = modelCardSchema.parse(
      JSON.parse(
        new TextDecoder().decode(
          (await services.ipfs.catBytes(`${child.outputs.evaluate!.modelCid}/model.json`)).bytes,
        ),
      ),
    );
    expect(card.parentModelCid).toBe(resumed.outputs.evaluate!.modelCid);
    expect(card.checkpointCid).toBe(child.outputs.train!.checkpointCid);
    expect(card.training!.iterations).toBe(22);
    const curve = card.training!.lossCurve.map((p) => p.step);
    expect(curve[0]).toBeLessThanOrEqual(16);
    expect(curve.at(-1)).toBe(22);
    // The UI's "Publish to IPFS" of a run's checkpoint gives the same checkpoint and dataset CIDs as the pipeline.
    const client = createLocalClient(createAppCore(services), 'cli');
    const pub = await client.invoke('eval.publish', {
      checkpoint: resumed.outputs.train!.checkpointPath,
      runDir: join(resumed.outputs.train!.checkpointPath, '..', '..'),
      name: 'from the UI',
    });
    expect(pub.checkpointCid).toBe(resumed.outputs.train!.checkpointCid);
    expect(pub.datasetCid).toBe(resumed.outputs.prepare!.datasetCid);
    expect(pub.card).toMatchObject({
      name: 'from the UI',
      checkpointCid: pub.checkpointCid,
      datasetCid: pub.datasetCid,
    });
    expect(pub.card.training!.lossCurve.length).toBeGreaterThan(0);
    expect((await client.invoke('eval.inspect', { model: { cid: pub.modelCid } })).ok).toBe(true);
    // The pipeline file itself is on IPFS under its CID.
    const published = new TextDecoder().decode(
      (await services.ipfs.catBytes(child.outputs.publish!.pipelineCid)).bytes,
    );
    expect(JSON.parse(published).name).toBe('child');
  }, 180_000);
});
