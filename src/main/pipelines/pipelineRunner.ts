import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { getAddress } from 'viem';
import { ApiError } from '../../shared/api/errors.ts';
import { DATASET_FILES, datasetManifestSchema } from '../../shared/datasets/manifest.ts';
import { configFromPreset, type RunConfig } from '../../shared/engine/config.ts';
import { EVALUATOR_VERSION } from '../../shared/eval/metrics.ts';
import { MODEL_PACKAGE_FILES, modelCardSchema, type LossPoint } from '../../shared/eval/modelPackage.ts';
import {
  stageNames,
  type Pipeline,
  type PipelineRunResult,
  type StageName,
  type StageOutputs,
  type StageReport,
} from '../../shared/pipelines/pipeline.ts';
import { loadTokenizer } from '../../shared/tokenizers/tokenizer.ts';
import type { ChainAccess } from '../claims/chainAccess.ts';
import type { ClaimsService } from '../claims/claimsService.ts';
import type { DatasetsService } from '../datasets/datasetsService.ts';
import { resolveInputs } from '../datasets/sources.ts';
import { loadCheckpoint } from '../engine/checkpoint.ts';
import { RUN_FILES } from '../engine/trainer.ts';
import type { EvalService } from '../eval/evalService.ts';
import type { IpfsService } from '../ipfs/ipfsService.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomicWrite.ts';
import { lossCurveOf } from '../eval/lossCurve.ts';
import { trainRun } from './training.ts';

/**
 * Runs a pipeline (src/shared/pipelines/pipeline.ts): each stage's key is the SHA-256 of its settings and
 * inputs; its outputs (CIDs, and local paths for reuse) are kept in <cache>/<stage>/<key>/outputs.json,
 * written only when the stage completes. A stage whose key has outputs is skipped ("cached"); one that
 * has a work folder but no outputs was interrupted and resumes ("resumed": training from its last
 * checkpoint, a claim from its last completed step).
 */
export interface PipelineDeps {
  cacheDir: string;
  datasets: DatasetsService;
  ipfs: () => IpfsService;
  eval: EvalService;
  claims: () => ClaimsService;
  chain: () => ChainAccess;
}

export interface StageProgress {
  stage: StageName;
  done: number;
  total: number | null;
  unit: string;
  message?: string;
}

export interface RunOptions {
  /** The folder relative paths in the pipeline are resolved against. */
  baseDir: string;
  /** The pipeline file's bytes (published as is); default: its canonical JSON. */
  fileBytes?: Uint8Array;
  /** Re-run every stage even when cached. */
  force?: boolean;
  /** Stop after this stage. */
  until?: StageName;
  signal?: AbortSignal;
  onProgress?: (p: StageProgress) => void;
  onStage?: (r: StageReport) => void;
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Canonical JSON (sorted keys), so equal settings give equal keys. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function stageKey(stage: StageName, inputs: unknown): string {
  return sha256(canonicalJson({ stage, pipelineVersion: 1, inputs }));
}

/**
 * SHA-256 of every file the preparation will read, for the prepare key: the same walk as the preparation
 * (folders recursively in name order, symbolic-link loops cut, devices and unsupported files left out), read
 * asynchronously so a large input does not stall the process and a cancel stops it.
 */
async function hashInputs(
  paths: string[],
  signal?: AbortSignal,
): Promise<{ name: string; sha256: string }[]> {
  for (const p of paths)
    if (!existsSync(p)) throw new ApiError('NOT_FOUND', `pipeline input ${p} does not exist`);
  const { files } = await resolveInputs(paths, signal);
  const out: { name: string; sha256: string }[] = [];
  for (const file of files) {
    const hash = createHash('sha256');
    try {
      for await (const chunk of createReadStream(file.abs, { signal })) hash.update(chunk as Buffer);
    } catch (e) {
      if (signal?.aborted) throw e;
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new ApiError('FAILED_PRECONDITION', `pipeline input ${file.abs} cannot be read (${code})`, {
        hint: 'Give text files or folders you can read, or leave this one out of the pipeline.',
      });
    }
    out.push({ name: file.display, sha256: hash.digest('hex') });
  }
  return out;
}

class StageCache {
  readonly dir: string;
  constructor(root: string, stage: StageName, key: string) {
    this.dir = join(root, stage, key);
  }
  get outputsFile(): string {
    return join(this.dir, 'outputs.json');
  }
  read<T>(): T | null {
    if (!existsSync(this.outputsFile)) return null;
    try {
      return JSON.parse(readFileSync(this.outputsFile, 'utf8')) as T;
    } catch {
      return null;
    }
  }
  get started(): boolean {
    return existsSync(this.dir);
  }
  async complete(outputs: unknown): Promise<void> {
    await writeJsonAtomic(this.outputsFile, outputs);
  }
  clear(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class PipelineRunner {
  readonly #d: PipelineDeps;

  constructor(deps: PipelineDeps) {
    this.#d = deps;
  }

  async run(pipeline: Pipeline, opts: RunOptions): Promise<PipelineRunResult> {
    const started = performance.now();
    const outputs: StageOutputs = {};
    const reports: StageReport[] = [];
    const stopAt = opts.until ? stageNames.indexOf(opts.until) : stageNames.length - 1;
    for (const [i, stage] of stageNames.entries()) {
      if (i > stopAt || (stage === 'claim' && !pipeline.stages.claim)) {
        const r: StageReport = {
          stage,
          status: 'skipped',
          key: null,
          seconds: 0,
          message: i > stopAt ? `stopped after ${opts.until}` : 'no claim stage in this pipeline',
        };
        reports.push(r);
        opts.onStage?.(r);
        continue;
      }
      if (opts.signal?.aborted)
        throw new ApiError('CANCELLED', `pipeline ${pipeline.name}: cancelled before ${stage}`);
      const t0 = performance.now();
      const progress = (done: number, total: number | null, unit: string, message?: string) =>
        opts.onProgress?.({ stage, done, total, unit, ...(message ? { message } : {}) });
      let r: StageReport;
      try {
        const { status, key, message } = await this.#stage(stage, pipeline, outputs, opts, progress);
        r = { stage, status, key, seconds: (performance.now() - t0) / 1000, message };
      } catch (e) {
        r = {
          stage,
          status: 'failed',
          key: null,
          seconds: (performance.now() - t0) / 1000,
          message: (e as Error).message,
        };
        reports.push(r);
        opts.onStage?.(r);
        throw e;
      }
      reports.push(r);
      opts.onStage?.(r);
    }
    return { name: pipeline.name, stages: reports, outputs, seconds: (performance.now() - started) / 1000 };
  }

  async #stage(
    stage: StageName,
    p: Pipeline,
    out: StageOutputs,
    opts: RunOptions,
    progress: (done: number, total: number | null, unit: string, message?: string) => void,
  ): Promise<{ status: StageReport['status']; key: string; message: string }> {
    switch (stage) {
      case 'prepare':
        return this.#prepare(p, out, opts, progress);
      case 'train':
        return this.#train(p, out, opts, progress);
      case 'evaluate':
        return this.#evaluate(p, out, opts, progress);
      case 'publish':
        return this.#publish(p, out, opts);
      case 'claim':
        return this.#claim(p, out, opts, progress);
    }
  }

  /** Runs `work` unless the key's outputs exist (and `valid` accepts them). */
  async #cached<T>(
    stage: StageName,
    key: string,
    opts: RunOptions,
    valid: (o: T) => Promise<boolean> | boolean,
    work: (cache: StageCache, resumed: boolean) => Promise<T>,
  ): Promise<{ outputs: T; status: 'cached' | 'done' | 'resumed' }> {
    const cache = new StageCache(this.#d.cacheDir, stage, key);
    const say = (message: string) => opts.onProgress?.({ stage, done: 0, total: null, unit: '', message });
    if (opts.force) cache.clear();
    const hit = cache.read<T>();
    if (hit && (await valid(hit))) {
      say('cached (inputs unchanged)');
      return { outputs: hit, status: 'cached' };
    }
    const resumed = cache.started;
    say(resumed ? 'resuming an interrupted run' : 'running');
    mkdirSync(cache.dir, { recursive: true });
    const outputs = await work(cache, resumed);
    await cache.complete(outputs);
    return { outputs, status: resumed ? 'resumed' : 'done' };
  }

  // ---- prepare ----

  async #prepare(
    p: Pipeline,
    out: StageOutputs,
    opts: RunOptions,
    progress: (d: number, t: number | null, u: string, m?: string) => void,
  ) {
    const s = p.stages.prepare;
    const inputs = s.inputs.map((i) => resolve(opts.baseDir, i));
    const key = stageKey('prepare', {
      files: await hashInputs(inputs, opts.signal),
      tokenizer: s.tokenizer,
      valRatio: s.valRatio,
      dedup: s.dedup,
      seed: s.seed,
    });
    const ipfs = this.#d.ipfs();
    const { outputs, status } = await this.#cached<NonNullable<StageOutputs['prepare']>>(
      'prepare',
      key,
      opts,
      async (o) =>
        existsSync(join(o.datasetDir, DATASET_FILES.manifest)) &&
        (await ipfs.has(o.datasetCid)) &&
        (await ipfs.has(o.evalTextCid)),
      async (cache) => {
        const datasetDir = join(cache.dir, 'dataset');
        if (!existsSync(join(datasetDir, DATASET_FILES.manifest))) {
          rmSync(datasetDir, { recursive: true, force: true });
          await this.#d.datasets.prepare({
            inputs,
            tokenizer: s.tokenizer,
            valRatio: s.valRatio,
            dedup: s.dedup,
            nearDup: null,
            lowercase: false,
            minChars: 0,
            maxChars: null,
            textField: 'text',
            csvColumn: 'text',
            seed: s.seed,
            name: `${p.name}-data`,
            outDir: datasetDir,
          });
        }
        progress(0, null, '', 'publishing dataset');
        const manifest = datasetManifestSchema.parse(
          JSON.parse(readFileSync(join(datasetDir, DATASET_FILES.manifest), 'utf8')),
        );
        // The evaluation text: the validation split as text (tokenizers round-trip exactly).
        const tokenizer = await loadTokenizer(
          JSON.parse(readFileSync(join(datasetDir, manifest.tokenizer.file), 'utf8')),
        );
        const valBytes = readFileSync(join(datasetDir, manifest.splits.val.file));
        const ids =
          manifest.dtype === 'uint16'
            ? new Uint16Array(valBytes.buffer, valBytes.byteOffset, valBytes.length / 2)
            : new Uint32Array(valBytes.buffer, valBytes.byteOffset, valBytes.length / 4);
        const evalText = join(cache.dir, 'eval.txt');
        await writeFileAtomic(evalText, tokenizer.decode(ids));
        const datasetCid = (await ipfs.addPath(datasetDir, { pin: true, signal: opts.signal })).cid;
        const evalTextCid = (await ipfs.addPath(evalText, { pin: true, signal: opts.signal })).cid;
        return {
          datasetCid,
          datasetDir,
          evalTextCid,
          tokenizer: manifest.tokenizerSpec ?? manifest.tokenizer.kind,
          vocabSize: manifest.vocabSize,
          trainTokens: manifest.splits.train.tokens,
        };
      },
    );
    out.prepare = outputs;
    return {
      status,
      key,
      message: `dataset ${outputs.datasetCid} (${outputs.tokenizer}, ${outputs.trainTokens.toLocaleString('en-US')} training tokens)`,
    };
  }

  // ---- train ----

  async #train(
    p: Pipeline,
    out: StageOutputs,
    opts: RunOptions,
    progress: (d: number, t: number | null, u: string, m?: string) => void,
  ) {
    const s = p.stages.train;
    const prep = out.prepare!;
    const ipfs = this.#d.ipfs();
    let parent: { modelCid: string; checkpointCid: string; lossCurve: LossPoint[] } | null = null;
    if (s.from) {
      const card = await this.#card(s.from.modelCid, opts.signal);
      if (!card.checkpointCid)
        throw new ApiError(
          'FAILED_PRECONDITION',
          `the model ${s.from.modelCid} names no checkpoint: it cannot be trained further`,
        );
      parent = {
        modelCid: s.from.modelCid,
        checkpointCid: card.checkpointCid,
        lossCurve: card.training?.lossCurve ?? [],
      };
    }
    const key = stageKey('train', {
      datasetCid: prep.datasetCid,
      preset: s.preset,
      model: parent ? null : s.model,
      train: s.train,
      iters: s.iters,
      seed: s.seed,
      parent: parent ? { modelCid: parent.modelCid, checkpointCid: parent.checkpointCid } : null,
      device: s.device,
    });
    const { outputs, status } = await this.#cached<NonNullable<StageOutputs['train']>>(
      'train',
      key,
      opts,
      async (o) => existsSync(o.checkpointPath) && (await ipfs.has(o.checkpointCid)),
      async (cache) => {
        const runDir = join(cache.dir, 'run');
        const latest = join(runDir, RUN_FILES.latest);
        let config: RunConfig;
        let target: number;
        if (parent) {
          if (!existsSync(latest)) {
            progress(0, null, '', 'fetching the parent checkpoint');
            mkdirSync(join(runDir, RUN_FILES.checkpoints), { recursive: true });
            await ipfs.getToDir(parent.checkpointCid, latest, { signal: opts.signal });
          }
          const ck = loadCheckpoint(latest, { optimizer: false });
          // The parent's step is in the card; a resumed run's latest may be further along.
          const parentStep =
            (await this.#card(parent.modelCid, opts.signal)).training?.iterations ?? ck.state.step;
          config = ck.config;
          target = parentStep + s.iters;
        } else {
          config = configFromPreset(s.preset, {
            model: s.model as never,
            train: {
              evalInterval: Math.max(1, s.iters),
              evalIters: 10,
              ...(s.train as object),
              maxIters: s.iters,
              seed: s.seed,
            } as never,
          });
          target = s.iters;
        }
        const r = await trainRun({
          config,
          datasetDir: prep.datasetDir,
          runDir,
          maxIters: target,
          device: s.device,
          ...(s.threads ? { threads: s.threads } : {}),
          signal: opts.signal,
          onProgress: (t) =>
            progress(t.step, t.maxIters, 'steps', t.loss === null ? undefined : `loss ${t.loss.toFixed(3)}`),
        });
        progress(target, target, 'steps', 'publishing checkpoint');
        const curve = [...(parent?.lossCurve ?? []), ...lossCurveOf(runDir)];
        await writeJsonAtomic(join(cache.dir, 'loss-curve.json'), curve);
        const checkpointCid = (await ipfs.addPath(r.checkpointPath, { pin: true, signal: opts.signal })).cid;
        return {
          checkpointCid,
          checkpointPath: r.checkpointPath,
          iterations: r.step,
          tokens: r.tokensSeen,
          trainLoss: r.trainLoss,
          valLoss: r.valLoss,
          parentModelCid: parent?.modelCid ?? null,
        };
      },
    );
    out.train = outputs;
    return {
      status,
      key,
      message: `${outputs.iterations} steps${parent ? ` (continued from ${parent.modelCid})` : ''}, val loss ${outputs.valLoss?.toFixed(4) ?? '?'}, checkpoint ${outputs.checkpointCid}`,
    };
  }

  async #card(modelCid: string, signal?: AbortSignal) {
    const bytes = await this.#d.eval.readJsonBytes(`${modelCid}/${MODEL_PACKAGE_FILES.card}`, signal);
    return modelCardSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
  }

  // ---- evaluate ----

  async #evaluate(
    p: Pipeline,
    out: StageOutputs,
    opts: RunOptions,
    progress: (d: number, t: number | null, u: string, m?: string) => void,
  ) {
    const s = p.stages.evaluate;
    const prep = out.prepare!;
    const train = out.train!;
    const ipfs = this.#d.ipfs();
    let evalTextCid: string;
    if (s.text === 'prepared') evalTextCid = prep.evalTextCid;
    else if ('cid' in s.text) evalTextCid = s.text.cid;
    else
      evalTextCid = (
        await ipfs.addPath(resolve(opts.baseDir, s.text.file), { pin: true, signal: opts.signal })
      ).cid;
    const key = stageKey('evaluate', {
      checkpointCid: train.checkpointCid,
      datasetCid: prep.datasetCid,
      parentModelCid: train.parentModelCid,
      evalTextCid,
      maxTokens: s.maxTokens,
      evaluator: EVALUATOR_VERSION,
      name: p.name,
    });
    const trainCache = this.#trainCacheDir(train.checkpointPath);
    const { outputs, status } = await this.#cached<NonNullable<StageOutputs['evaluate']>>(
      'evaluate',
      key,
      opts,
      async (o) => (await ipfs.has(o.modelCid)) && (await ipfs.has(o.evaluationCid)),
      async (cache) => {
        progress(0, null, '', 'exporting the model');
        const modelDir = join(cache.dir, 'model');
        rmSync(modelDir, { recursive: true, force: true });
        const lossCurve = existsSync(join(trainCache, 'loss-curve.json'))
          ? (JSON.parse(readFileSync(join(trainCache, 'loss-curve.json'), 'utf8')) as LossPoint[])
          : [];
        await this.#d.eval.packageCheckpoint(
          train.checkpointPath,
          {
            datasetCid: prep.datasetCid,
            parentModelCid: train.parentModelCid,
            checkpointCid: train.checkpointCid,
            name: `${p.name}-step${train.iterations}`,
            lossCurve,
          },
          modelDir,
        );
        const modelCid = (await ipfs.addPath(modelDir, { pin: true, signal: opts.signal })).cid;
        const { report, reportCid } = await this.#d.eval.evaluate({
          model: { cid: modelCid },
          text: { cid: evalTextCid },
          maxTokens: s.maxTokens,
          publish: true,
          signal: opts.signal,
          onProgress: (stage, done, total, unit) => progress(done, total, unit, stage),
        });
        return {
          modelCid,
          modelDir,
          evaluationCid: reportCid!,
          evalTextCid,
          bitsPerByte: report.result.metrics.bits_per_byte,
          top1Accuracy: report.result.metrics.top1_accuracy,
          parameters: report.model.parameters,
        };
      },
    );
    out.evaluate = outputs;
    return {
      status,
      key,
      message: `model ${outputs.modelCid}: ${outputs.bitsPerByte.toFixed(4)} bits/byte, top-1 ${(outputs.top1Accuracy * 100).toFixed(2)} %`,
    };
  }

  #trainCacheDir(checkpointPath: string): string {
    // <cache>/train/<key>/run/checkpoints/latest.safetensors → <cache>/train/<key>
    return resolve(checkpointPath, '..', '..', '..');
  }

  // ---- publish ----

  async #publish(p: Pipeline, out: StageOutputs, opts: RunOptions) {
    const ipfs = this.#d.ipfs();
    const bytes = opts.fileBytes ?? new TextEncoder().encode(`${JSON.stringify(p, null, 2)}\n`);
    const cids = [
      out.prepare!.datasetCid,
      out.prepare!.evalTextCid,
      out.train!.checkpointCid,
      out.evaluate!.modelCid,
      out.evaluate!.evaluationCid,
    ];
    const key = stageKey('publish', { pipeline: sha256(bytes), cids, pin: p.stages.publish.pin });
    const { outputs, status } = await this.#cached<NonNullable<StageOutputs['publish']>>(
      'publish',
      key,
      opts,
      async (o) => ipfs.has(o.pipelineCid),
      async () => {
        const pipelineCid = await ipfs.addBytes(bytes, { pin: p.stages.publish.pin, signal: opts.signal });
        if (p.stages.publish.pin) for (const c of cids) await ipfs.pin(c, { signal: opts.signal });
        return { pipelineCid, pinned: p.stages.publish.pin ? [...cids, pipelineCid] : [] };
      },
    );
    out.publish = outputs;
    return {
      status,
      key,
      message: `pipeline ${outputs.pipelineCid}${outputs.pinned.length ? `, ${outputs.pinned.length} CIDs pinned` : ''}`,
    };
  }

  // ---- claim ----

  async #claim(
    p: Pipeline,
    out: StageOutputs,
    opts: RunOptions,
    progress: (d: number, t: number | null, u: string, m?: string) => void,
  ) {
    const s = p.stages.claim!;
    const chain = this.#d.chain();
    const claims = this.#d.claims();
    const info = await chain.info();
    const trainer = await chain.addressOf(s.trainer);
    const ev = out.evaluate!;
    const key = stageKey('claim', {
      chainId: info.chainId,
      registry: info.registry,
      lineageId: s.lineageId,
      modelCid: ev.modelCid,
      pipelineCid: out.publish!.pipelineCid,
      trainer,
      tolerance: s.tolerance,
    });
    const claimState = (cache: StageCache) => join(cache.dir, 'claim-id.txt');
    const { outputs, status } = await this.#cached<NonNullable<StageOutputs['claim']>>(
      'claim',
      key,
      opts,
      // A minted claim stays valid while the chain remembers it (a reset chain needs a new claim).
      async (o) => o.tokenId !== null && (await chain.isModelCidUsed(ev.modelCid)),
      async (cache) => {
        const steps = 6;
        let id: string | null = existsSync(claimState(cache))
          ? readFileSync(claimState(cache), 'utf8').trim()
          : null;
        if (id) {
          // A claim from an earlier attempt goes on, unless the chain no longer knows it (a reset chain).
          try {
            if (await claims.isStale(id)) id = null;
          } catch {
            id = null;
          }
        }
        if (!id) {
          progress(0, steps, 'steps', 'starting the claim');
          const c = await claims.start({
            lineageId: s.lineageId,
            modelCid: ev.modelCid,
            trainer,
            ...(s.name ? { name: s.name } : {}),
            ...(s.description ? { description: s.description } : {}),
            checkpointCid: out.train!.checkpointCid,
            datasetCid: out.prepare!.datasetCid,
            pipelineCid: out.publish!.pipelineCid,
            tolerance: s.tolerance,
            deadlineSeconds: s.deadlineSeconds,
            signal: opts.signal,
          });
          id = c.id;
          await writeFileAtomic(claimState(cache), id);
        }
        const submitter = s.submitter ?? s.trainer;
        progress(1, steps, 'steps', 'committing');
        await claims.commit(id, submitter);
        let c = claims.get(id);
        if (!c.evaluation || c.error) {
          progress(2, steps, 'steps', 'evaluating for the claim');
          await claims.evaluate(id, { signal: opts.signal, reuseReportCid: ev.evaluationCid });
        }
        progress(3, steps, 'steps', 'signing');
        c = await claims.sign(id, s.trainer);
        // An earlier attempt may have sent the mint and been stopped before it saw the receipt: the verifiers
        // would now refuse the claim (its parent is no longer the lineage's best), and submit records that mint.
        if (!(await chain.isModelCidUsed(ev.modelCid))) {
          const attested = new Set(c.attestations.map((a) => getAddress(a.verifier)));
          for (const [i, v] of s.verifiers.entries()) {
            if (attested.has(getAddress(await chain.addressOf(v)))) continue; // kept from an earlier attempt
            progress(4, steps, 'steps', `verifier ${i + 1} of ${s.verifiers.length} re-runs the evaluation`);
            const { verdict } = await claims.attestLocally(id, v, { signal: opts.signal });
            if (!verdict.ok)
              throw new ApiError(
                'FAILED_PRECONDITION',
                `verifier ${i + 1} refused: ${verdict.refusal?.message ?? 'no reason given'}`,
              );
          }
          for (const a of s.attestations)
            await claims.addAttestation(id, 'cid' in a ? a : { file: resolve(opts.baseDir, a.file) });
        }
        progress(5, steps, 'steps', 'submitting the claim');
        c = await claims.submit(id, submitter, { signal: opts.signal });
        progress(6, steps, 'steps', `minted token ${c.mint!.tokenId}`);
        return {
          claimId: c.id,
          claimCid: c.claimCid,
          metadataCid: c.evaluation?.metadataCid ?? null,
          tokenId: c.mint!.tokenId,
          score: c.evaluation?.score ?? null,
          status: c.status,
        };
      },
    );
    out.claim = outputs;
    return { status, key, message: `token ${outputs.tokenId} minted (claim ${outputs.claimCid})` };
  }
}
