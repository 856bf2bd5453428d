/**
 * Nothing private in what is published: a run trained on a dataset under a revealing local path is
 * published as the demo publishes it (checkpoint, dataset, model package on the embedded IPFS node),
 * exported as ONNX and as nanoGPT's ckpt.pt, and then every block of the IPFS repository and every
 * exported file is searched for that path.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../shared/api/runs.ts';
import { prepareCharDataset } from '../engine/testing/charDataset.ts';
import { RUN_FILES } from '../engine/trainer.ts';
import { TempRepos } from '../ipfs/testUtil.ts';
import { EventBus } from '../rpc/eventBus.ts';
import { RunsService } from '../runs/runsService.ts';
import { EvalService } from './evalService.ts';
import { bundledShakespeare } from './testing/models.ts';

const repos = new TempRepos();
afterAll(() => repos.cleanup());

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

describe('published artifacts', () => {
  it('carry no local path of the data directory', { timeout: 120_000 }, async () => {
    const root = await repos.dir('xai-privacy-');
    const dataDir = prepareCharDataset(
      bundledShakespeare().slice(0, 20_000),
      join(root, 'home', 'alice-private', 'datasets', 'my-shakespeare'),
      'my-shakespeare',
    );
    const events = new EventBus();
    const runs = new RunsService({ runsDir: join(root, 'runs'), events });
    const ended = new Promise<RunSummary>((resolve) => {
      events.on('run.status', (p) => {
        if (['completed', 'failed'].includes(p.status)) resolve(p.run);
      });
    });
    const run = await runs.create({
      data: { path: dataDir },
      preset: 'cpu-tiny',
      model: { nLayer: 1, nEmbd: 16, nHead: 2, blockSize: 16 },
      train: { batchSize: 4, maxIters: 6, evalInterval: 3, evalIters: 2, warmupIters: 1, logInterval: 1 },
      device: 'cpu',
      threads: 1,
      start: true,
    });
    expect((await ended).status).toBe('completed');
    await runs.dispose();

    const ipfs = repos.service(join(root, 'repo'));
    await ipfs.start();
    const evals = new EvalService({
      ipfs: () => ipfs,
      heldDir: join(root, 'held'),
      tmpDir: join(root, 'tmp'),
    });
    const published = await evals.publishCheckpoint({
      checkpoint: join(run.runDir, RUN_FILES.best),
      runDir: run.runDir,
      name: 'privacy check',
    });
    // the dataset is still found (through the run's run.json) and published by CID
    expect(published.datasetCid).toMatch(/^baf/);
    await runs.export({ runId: run.id, checkpoint: 'best', outPath: join(root, 'out', 'model.onnx') });
    await runs.export({
      runId: run.id,
      checkpoint: 'latest',
      outPath: join(root, 'out', 'ckpt.pt'),
      format: 'nanogpt',
    });
    await ipfs.stop();

    const needles = [dataDir, join(root, 'home'), 'alice-private'].map((s) => Buffer.from(s));
    const searched = [...filesUnder(join(root, 'repo')), ...filesUnder(join(root, 'out'))];
    expect(searched.length).toBeGreaterThan(5);
    const leaks = searched.filter((f) => {
      const bytes = readFileSync(f);
      return needles.some((n) => bytes.includes(n));
    });
    expect(leaks).toEqual([]);
  });
});
