import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { ApiError, invalidParams } from '../../shared/api/errors.ts';
import {
  metricRecordSchema,
  presetInfos,
  runSummarySchema,
  sampleSchema,
  type CheckpointInfo,
  type CheckpointKind,
  type DeviceRequestName,
  type MetricRecord,
  type RunDetail,
  type RunStatus,
  type RunSummary,
  type Sample,
} from '../../shared/api/runs.ts';
import {
  checkConfigAgainstData,
  countParams,
  presets,
  resolveModelConfig,
  runConfigSchema,
  tokensPerStep,
  type PresetId,
} from '../../shared/engine/config.ts';
import { precisionProblem, type Precision } from '../../shared/engine/devices.ts';
import type { EventBus } from '../rpc/eventBus.ts';
import { writeJsonAtomic } from '../util/atomicWrite.ts';
import { DataError, inspectDataset, type DatasetRef } from '../engine/data.ts';
import { exportCheckpoint, generateText, loadForInference } from '../engine/export.ts';
import { readSafetensorsHeader, safetensorsDamage } from '../engine/safetensors.ts';
import { RUN_FILES, type TrainerEvent } from '../engine/trainer.ts';
import { CheckpointError, saveCheckpoint } from '../engine/checkpoint.ts';
import {
  importModelFiles,
  ImportError,
  type ImportParams,
  type ImportResult,
} from '../interop/importModel.ts';
import { exportNanoGptCheckpoint } from '../interop/nanoGptExport.ts';
import { startTrainingWorker, TrainingError, type TrainingHandle } from '../engine/trainingWorker.ts';

/**
 * Training runs: a run directory per run (run.json, metrics.jsonl, samples.jsonl, checkpoints/), the
 * training itself in a worker thread per active run. run.json is rewritten atomically on every status
 * change and periodically while training, so `list`/`get` survive restarts; a run whose owning
 * process is gone shows as "interrupted" and resumes from its latest checkpoint.
 */

const ACTIVE: RunStatus[] = ['starting', 'running', 'paused', 'stopping'];
const PERSIST_INTERVAL_MS = 5000;
const MAX_TRAIN_POINTS = 5000;

const runRecordSchema = runSummarySchema.extend({
  owner: z.object({ pid: z.number(), host: z.string(), since: z.string() }).nullable().default(null),
  dataRef: z.unknown().optional(),
});
type RunRecord = z.infer<typeof runRecordSchema>;

export interface CreateRunParams {
  name?: string;
  data: { path: string; vocabSize?: number };
  preset: PresetId;
  model: Record<string, unknown>;
  train: Record<string, unknown>;
  device: DeviceRequestName;
  /** f32 unless asked (runs.create validates f16 against the device). */
  precision?: Precision;
  threads?: number;
  outDir?: string;
  start: boolean;
}

export interface SampleParams {
  runId?: string;
  checkpoint: CheckpointKind;
  path?: string;
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  seed?: number;
}

interface ActiveRun {
  handle: TrainingHandle;
  record: RunRecord;
  lastPersist: number;
}

export class RunsService {
  readonly #dir: string;
  readonly #events: EventBus;
  readonly #active = new Map<string, ActiveRun>();

  constructor(opts: { runsDir: string; events: EventBus }) {
    this.#dir = opts.runsDir;
    this.#events = opts.events;
  }

  presets() {
    return presetInfos();
  }

  // ---- store ------------------------------------------------------------------------------------

  get #externalFile(): string {
    return join(this.#dir, 'external.json');
  }

  #externalDirs(): Record<string, string> {
    try {
      return z.record(z.string(), z.string()).parse(JSON.parse(readFileSync(this.#externalFile, 'utf8')));
    } catch {
      return {};
    }
  }

  #runDir(runId: string): string {
    return this.#externalDirs()[runId] ?? join(this.#dir, runId);
  }

  #read(runDir: string): RunRecord | null {
    const file = join(runDir, 'run.json');
    let raw: string;
    try {
      raw = readFileSync(file, 'utf8');
    } catch {
      return null;
    }
    try {
      return this.#withLiveness(runRecordSchema.parse(JSON.parse(raw)));
    } catch (e) {
      // Set aside, never deleted: the checkpoints next to it are intact and the record may be repaired by hand.
      const aside = `${file}.broken-${Date.now()}`;
      try {
        renameSync(file, aside);
      } catch {
        return null;
      }
      console.warn(
        `run ${basename(runDir)}: run.json was unreadable (${(e as Error).message.split('\n')[0]}); ` +
          `kept it as ${aside}. The run's checkpoints are still in ${join(runDir, 'checkpoints')} ` +
          '(xai-link sample and export take a checkpoint file); repair the record and rename it back to run.json to list the run again.',
      );
      return null;
    }
  }

  /** A run recorded as active whose owner process is gone was interrupted. */
  #withLiveness(rec: RunRecord): RunRecord {
    if (!ACTIVE.includes(rec.status) || this.#active.has(rec.id)) return rec;
    const owner = rec.owner;
    if (owner && owner.host === hostname() && owner.pid !== process.pid && pidAlive(owner.pid)) return rec;
    return { ...rec, status: 'interrupted' };
  }

  #get(runId: string): RunRecord {
    const active = this.#active.get(runId);
    if (active) return active.record;
    const rec = this.#read(this.#runDir(runId));
    if (!rec)
      throw new ApiError('NOT_FOUND', `no run ${runId}`, {
        hint: 'list runs with runs.list (xai-link runs)',
      });
    return rec;
  }

  async #persist(rec: RunRecord): Promise<void> {
    rec.updatedAt = new Date().toISOString();
    await writeJsonAtomic(join(rec.runDir, 'run.json'), rec);
  }

  #summary(rec: RunRecord): RunSummary {
    return runSummarySchema.parse(rec);
  }

  list(): RunSummary[] {
    const dirs = new Set<string>();
    if (existsSync(this.#dir)) {
      for (const e of readdirSync(this.#dir, { withFileTypes: true }))
        if (e.isDirectory()) dirs.add(join(this.#dir, e.name));
    }
    for (const d of Object.values(this.#externalDirs())) dirs.add(d);
    const out: RunSummary[] = [];
    for (const d of dirs) {
      const rec = this.#read(d);
      if (!rec) continue;
      out.push(this.#summary(this.#active.get(rec.id)?.record ?? rec));
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  get(runId: string): RunDetail {
    const rec = this.#get(runId);
    return {
      run: this.#summary(rec),
      metrics: readMetrics(join(rec.runDir, RUN_FILES.metrics)),
      checkpoints: this.#checkpoints(rec),
      samples: readJsonl(join(rec.runDir, RUN_FILES.samples), sampleSchema).slice(-50),
    };
  }

  checkpoints(runId: string): CheckpointInfo[] {
    return this.#checkpoints(this.#get(runId));
  }

  #checkpoints(rec: RunRecord): CheckpointInfo[] {
    const out: CheckpointInfo[] = [];
    const read = (kind: CheckpointKind) => {
      const path = join(rec.runDir, kind === 'latest' ? RUN_FILES.latest : RUN_FILES.best);
      if (!existsSync(path)) return null;
      try {
        const md = readSafetensorsHeader(path).metadata;
        const num = (s: string | undefined) => (s === undefined || s === '' ? null : Number(s));
        return {
          kind,
          step: Number(md.step ?? 0),
          path,
          bytes: statSync(path).size,
          trainLoss: num(md.train_loss),
          valLoss: num(md.val_loss),
          isBest: kind === 'best',
          createdAt: md.created_at ?? '',
        };
      } catch {
        return null;
      }
    };
    const latest = read('latest');
    const best = read('best');
    if (latest) out.push({ ...latest, isBest: best !== null && best.step === latest.step });
    if (best) out.push(best);
    return out;
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  async create(p: CreateRunParams): Promise<RunSummary> {
    const preset = presets[p.preset];
    const parsed = runConfigSchema.safeParse({
      preset: p.preset,
      model: { ...preset.model, ...p.model },
      train: { ...preset.train, ...p.train },
    });
    if (!parsed.success) throw invalidParams('run configuration', parsed.error);
    const config = parsed.data;
    const ref = this.#inspect(p.data);
    const issues = checkConfigAgainstData(config, {
      vocabSize: ref.vocabSize,
      trainTokens: ref.trainTokens,
      valTokens: ref.valTokens,
    });
    if (issues.length > 0) {
      throw new ApiError(
        'INVALID_PARAMS',
        `The run configuration does not fit the data: ${issues[0]!.message}`,
        { field: issues[0]!.path, issues },
      );
    }
    const id = newRunId();
    const runDir = p.outDir ? resolve(p.outDir) : join(this.#dir, id);
    if (existsSync(join(runDir, 'run.json'))) {
      throw new ApiError('CONFLICT', `${runDir} already holds a run`, {
        hint: 'resume it (runs.resume / xai-link train --resume), or choose another directory',
      });
    }
    if (p.outDir) await writeJsonAtomic(this.#externalFile, { ...this.#externalDirs(), [id]: runDir });
    const model = resolveModelConfig(config, ref);
    const now = new Date().toISOString();
    const rec: RunRecord = {
      id,
      name: p.name ?? `${p.preset} on ${ref.name}`,
      status: 'created',
      preset: config.preset,
      config,
      data: runDataOf(ref),
      device: {
        requested: p.device,
        used: null,
        threads: p.threads ?? null,
        precision: p.precision ?? 'f32',
        message: '',
      },
      params: countParams(model),
      step: 0,
      maxIters: config.train.maxIters,
      tokensPerStep: tokensPerStep(config),
      lastMetric: null,
      lastEval: null,
      bestValLoss: null,
      error: null,
      runDir,
      createdAt: now,
      updatedAt: now,
      owner: null,
    };
    await this.#persist(rec);
    if (p.start) await this.#start(rec, { resume: false });
    return this.#summary(rec);
  }

  #inspect(data: { path: string; vocabSize?: number }): DatasetRef {
    try {
      return inspectDataset(data.path, { vocabSize: data.vocabSize });
    } catch (e) {
      if (e instanceof DataError)
        throw new ApiError('INVALID_PARAMS', e.message, { field: 'data.path', hint: e.hint });
      throw e;
    }
  }

  /**
   * A run from a model trained elsewhere (nanoGPT ckpt.pt, Hugging Face GPT-2): its weights (and AdamW
   * state) become the run's latest checkpoint in the app's format, so sample, export, eval, claims and
   * resume treat it as any run. The run is "stopped" at the imported step (or "completed" past maxIters).
   */
  async import(p: ImportParams): Promise<ImportResult> {
    const imported = await importModelFiles(p).catch((e: unknown) => {
      if (e instanceof ImportError)
        throw new ApiError('INVALID_PARAMS', e.message, { field: e.field, hint: e.hint });
      throw e;
    });
    const { model, config, state } = imported.model;
    const ref = p.data ? this.#inspect(p.data) : null;
    if (ref) {
      const issues = checkConfigAgainstData(config, ref);
      if (issues.length > 0)
        throw new ApiError(
          'INVALID_PARAMS',
          `The imported model does not fit the data: ${issues[0]!.message}`,
          {
            field: 'data.path',
            issues,
          },
        );
    }
    const id = newRunId();
    const runDir = p.outDir ? resolve(p.outDir) : join(this.#dir, id);
    if (existsSync(join(runDir, 'run.json')))
      throw new ApiError('CONFLICT', `${runDir} already holds a run`, { hint: 'choose another directory' });
    const tokenizerRef = imported.tokenizer
      ? {
          kind: imported.tokenizer.kind,
          sha256: createHash('sha256').update(JSON.stringify(imported.tokenizer)).digest('hex'),
        }
      : null;
    const datasetRef: DatasetRef = ref ?? {
      kind: 'dataset',
      path: '',
      name: imported.model.datasetName ?? 'imported',
      vocabSize: model.vocabSize,
      dtype: model.vocabSize <= 65536 ? 'uint16' : 'uint32',
      trainTokens: 0,
      valTokens: 0,
      fingerprint: '',
      tokenizer: tokenizerRef,
    };
    saveCheckpoint(
      join(runDir, RUN_FILES.latest),
      state,
      {
        config,
        model: resolveModelConfig(config, model),
        dataset: datasetRef,
        tokenizer: imported.tokenizer,
      },
      { optimizer: imported.model.hasOptimizer },
    );
    if (p.outDir) await writeJsonAtomic(this.#externalFile, { ...this.#externalDirs(), [id]: runDir });
    const now = new Date().toISOString();
    const rec: RunRecord = {
      id,
      name: p.name ?? `${basename(p.path)} (${imported.format === 'nanogpt' ? 'nanoGPT' : 'Hugging Face'})`,
      status: state.step >= config.train.maxIters ? 'completed' : 'stopped',
      preset: null,
      config,
      data: ref ? runDataOf(ref) : { ...runDataOf(datasetRef), tokenizer: imported.tokenizer?.kind ?? null },
      device: { requested: 'auto', used: null, threads: null, precision: 'f32', message: '' },
      params: countParams(model),
      step: state.step,
      maxIters: config.train.maxIters,
      tokensPerStep: tokensPerStep(config),
      lastMetric: null,
      lastEval: null,
      bestValLoss: state.bestValLoss,
      error: null,
      runDir,
      createdAt: now,
      updatedAt: now,
      owner: null,
    };
    await this.#persist(rec);
    return {
      run: this.#summary(rec),
      format: imported.format,
      hasOptimizer: imported.model.hasOptimizer,
      tokenizer: imported.tokenizer?.kind ?? null,
      notes: imported.model.notes,
    };
  }

  async #start(
    rec: RunRecord,
    o: { resume: boolean; device?: DeviceRequestName; precision?: Precision; maxIters?: number },
  ): Promise<void> {
    if (o.device) rec.device = { ...rec.device, requested: o.device };
    if (o.precision) rec.device = { ...rec.device, precision: o.precision };
    if (o.maxIters) rec.maxIters = o.maxIters;
    rec.status = 'starting';
    rec.error = null;
    rec.owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    await this.#persist(rec);
    this.#emitStatus(rec);
    const handle = startTrainingWorker(
      {
        config: rec.config,
        data: { path: rec.data.path, vocabSize: rec.data.kind === 'tokens' ? rec.data.vocabSize : undefined },
        runDir: rec.runDir,
        device: rec.device.requested,
        // a resumed "auto" run goes on where it trained, while that device works (Trainer's preferDevice)
        ...(o.resume && !o.device && rec.device.requested === 'auto' && rec.device.used
          ? { preferDevice: rec.device.used }
          : {}),
        precision: rec.device.precision,
        threads: rec.device.threads ?? undefined,
        resume: o.resume,
        maxIters: rec.maxIters,
      },
      (e) => this.#onEvent(rec, e),
    );
    const active: ActiveRun = { handle, record: rec, lastPersist: Date.now() };
    this.#active.set(rec.id, active);
    handle.done.then(
      () => this.#ended(rec, null),
      (e: unknown) => this.#ended(rec, e),
    );
  }

  #onEvent(rec: RunRecord, e: TrainerEvent): void {
    const runId = rec.id;
    switch (e.type) {
      case 'started':
        // threads asked for stay with the run (a later resume may train on the CPU)
        rec.device = {
          ...rec.device,
          used: e.device,
          threads: e.threads ?? rec.device.threads,
          message: e.message,
        };
        rec.step = e.step;
        rec.params = e.params;
        return;
      case 'status':
        rec.status = e.status;
        this.#emitStatus(rec);
        void this.#persist(rec).catch(() => undefined);
        return;
      case 'metric': {
        rec.lastMetric = e.metric;
        rec.step = e.metric.step;
        this.#events.emit('run.metrics', { runId, metric: e.metric });
        const a = this.#active.get(runId);
        if (a && Date.now() - a.lastPersist > PERSIST_INTERVAL_MS) {
          a.lastPersist = Date.now();
          void this.#persist(rec).catch(() => undefined);
        }
        return;
      }
      case 'eval':
        rec.lastEval = e.metric;
        rec.bestValLoss = e.metric.bestValLoss;
        this.#events.emit('run.eval', { runId, metric: e.metric });
        void this.#persist(rec).catch(() => undefined);
        return;
      case 'checkpoint':
        this.#events.emit('run.checkpoint', { runId, checkpoint: e.checkpoint });
        return;
      case 'sample':
        this.#events.emit('run.sample', { runId, sample: e.sample });
        return;
      case 'log':
        this.#events.emit('run.log', { runId, level: e.level, message: e.message, time: Date.now() });
        return;
      case 'done':
        rec.status = e.status;
        rec.step = e.step;
        rec.bestValLoss = e.bestValLoss;
        return;
    }
  }

  async #ended(rec: RunRecord, error: unknown): Promise<void> {
    this.#active.delete(rec.id);
    if (error) {
      const message = error instanceof Error ? error.message : String(error);
      const hint = error instanceof TrainingError && error.hint ? ` (${error.hint})` : '';
      rec.status = this.#disposing ? 'interrupted' : 'failed';
      rec.error = `${message}${hint}`;
      this.#events.emit('run.log', { runId: rec.id, level: 'error', message: rec.error, time: Date.now() });
    } else if (ACTIVE.includes(rec.status)) {
      rec.status = 'stopped';
    }
    rec.owner = null;
    await this.#persist(rec).catch(() => undefined);
    this.#emitStatus(rec);
  }

  #emitStatus(rec: RunRecord): void {
    this.#events.emit('run.status', {
      runId: rec.id,
      status: rec.status,
      step: rec.step,
      ...(rec.status === 'running' && rec.device.message
        ? { message: rec.device.message }
        : rec.error
          ? { message: rec.error }
          : {}),
      run: this.#summary(rec),
    });
  }

  #activeOr(runId: string, what: string): ActiveRun {
    const a = this.#active.get(runId);
    if (!a) {
      const rec = this.#get(runId);
      throw new ApiError('FAILED_PRECONDITION', `run ${runId} is ${rec.status}: nothing to ${what}`, {
        hint: rec.status === 'interrupted' || rec.status === 'stopped' ? 'resume it first' : undefined,
      });
    }
    return a;
  }

  pause(runId: string): RunSummary {
    const a = this.#activeOr(runId, 'pause');
    a.handle.pause();
    return this.#summary(a.record);
  }

  async resume(
    runId: string,
    o: {
      device?: DeviceRequestName;
      precision?: Precision;
      maxIters?: number;
      data?: { path: string; vocabSize?: number };
    } = {},
  ): Promise<RunSummary> {
    const a = this.#active.get(runId);
    if (a) {
      if (a.record.status !== 'paused')
        throw new ApiError('FAILED_PRECONDITION', `run ${runId} is ${a.record.status}, not paused`);
      a.handle.resume();
      return this.#summary(a.record);
    }
    const rec = this.#get(runId);
    if (o.data) rec.data = runDataOf(this.#inspect(o.data), rec.config.model.vocabSize);
    if (!rec.data.path) {
      throw new ApiError('FAILED_PRECONDITION', `run ${runId} has no data to train on (it was imported)`, {
        field: 'data',
        hint: 'pass the data to continue on (xai-link train --resume <run> --data <dataset or nanoGPT data folder>)',
      });
    }
    if (rec.status === 'completed' && !(o.maxIters && o.maxIters > rec.step)) {
      throw new ApiError('FAILED_PRECONDITION', `run ${runId} is completed (${rec.step} steps)`, {
        hint: 'pass a larger maxIters to train further',
      });
    }
    const latest = join(rec.runDir, RUN_FILES.latest);
    let hasCheckpoint = existsSync(latest);
    const damage = hasCheckpoint ? safetensorsDamage(latest) : null;
    if (damage) {
      // Checkpoints are written atomically, so this is the disk's doing (or a hand's); the run stays usable.
      const aside = `${latest}.broken-${Date.now()}`;
      renameSync(latest, aside);
      const message =
        `the latest checkpoint is damaged (${damage}); kept it as ${aside} and started the run again from ` +
        'its first step (same seed and data: on the CPU it ends exactly where it would have)';
      console.warn(`run ${runId}: ${message}`);
      this.#events.emit('run.log', { runId, level: 'warn', message, time: Date.now() });
      hasCheckpoint = false;
    }
    const problem = precisionProblem(o.device ?? rec.device.requested, o.precision ?? rec.device.precision);
    if (problem)
      throw new ApiError('INVALID_PARAMS', problem, { field: o.precision ? 'precision' : 'device' });
    await this.#start(rec, {
      resume: hasCheckpoint,
      device: o.device,
      precision: o.precision,
      maxIters: o.maxIters,
    });
    return this.#summary(rec);
  }

  stop(runId: string): RunSummary {
    const a = this.#activeOr(runId, 'stop');
    a.handle.stop();
    a.record.status = 'stopping';
    this.#emitStatus(a.record);
    return this.#summary(a.record);
  }

  /** Resolves when the run's worker has ended (for the CLI, which waits for its run). */
  async whenEnded(runId: string): Promise<RunSummary> {
    const a = this.#active.get(runId);
    if (a) await a.handle.done.catch(() => undefined);
    // #ended persists asynchronously after done settles
    await new Promise((r) => setImmediate(r));
    return this.#summary(this.#get(runId));
  }

  // ---- sampling and export ----------------------------------------------------------------------

  async sample(p: SampleParams): Promise<Sample> {
    try {
      return await this.#sample(p);
    } catch (e) {
      // a prompt the tokenizer cannot encode (a char tokenizer knows only its dataset's characters)
      if (
        e instanceof Error &&
        (e.name === 'UnknownCharacterError' || /token ids separated by spaces/.test(e.message))
      ) {
        throw new ApiError('INVALID_PARAMS', e.message, { field: 'prompt' });
      }
      throw e;
    }
  }

  async #sample(p: SampleParams): Promise<Sample> {
    if (p.runId && !p.path) {
      const a = this.#active.get(p.runId);
      if (a && a.record.status !== 'stopping') {
        return a.handle.sample({
          prompt: p.prompt,
          maxNewTokens: p.maxNewTokens,
          temperature: p.temperature,
          topK: p.topK,
          seed: p.seed,
        });
      }
    }
    const path = this.#checkpointPath(p.runId, p.checkpoint, p.path);
    const m = await loadForInference(path).catch((e: unknown) => {
      throw new ApiError(
        'INVALID_PARAMS',
        `cannot load ${path}: ${e instanceof Error ? e.message : String(e)}`,
        { field: p.path ? 'path' : 'runId' },
      );
    });
    try {
      const { text, tokens } = await generateText(m, p);
      return {
        step: m.step,
        prompt: p.prompt,
        text,
        tokens,
        temperature: p.temperature,
        topK: p.topK,
        time: Date.now(),
      };
    } finally {
      await m.session.release();
    }
  }

  async export(p: {
    runId?: string;
    checkpoint: CheckpointKind;
    checkpointPath?: string;
    outPath?: string;
    format?: 'onnx' | 'nanogpt';
  }) {
    const path = this.#checkpointPath(p.runId, p.checkpoint, p.checkpointPath);
    const nanoGpt = p.format === 'nanogpt';
    let out = p.outPath ? resolve(p.outPath) : undefined;
    if (!out) {
      if (!p.runId)
        throw new ApiError('INVALID_PARAMS', 'say where to write the model (outPath)', { field: 'outPath' });
      out = join(this.#get(p.runId).runDir, 'export', nanoGpt ? 'ckpt.pt' : 'model.onnx');
    }
    try {
      return await (nanoGpt ? exportNanoGptCheckpoint(path, out) : exportCheckpoint(path, out));
    } catch (e) {
      // a file that is not a checkpoint is the caller's mistake, not a bug (found by bench:fuzz)
      if (!(e instanceof CheckpointError)) throw e;
      throw new ApiError('INVALID_PARAMS', `cannot export ${path}: ${e.message}`, {
        field: p.checkpointPath ? 'checkpointPath' : 'runId',
        hint: "give a checkpoint XAI-Link wrote (a run's checkpoints/*.safetensors); bring a PyTorch one in with xai-link import",
      });
    }
  }

  #checkpointPath(runId: string | undefined, kind: CheckpointKind, path: string | undefined): string {
    if (path) {
      const abs = resolve(path);
      if (!existsSync(abs)) throw new ApiError('NOT_FOUND', `no file at ${abs}`, { field: 'path' });
      return abs;
    }
    if (!runId)
      throw new ApiError('INVALID_PARAMS', 'give a run id or a checkpoint path', { field: 'runId' });
    const rec = this.#get(runId);
    const want = join(rec.runDir, kind === 'best' ? RUN_FILES.best : RUN_FILES.latest);
    if (existsSync(want)) return want;
    const other = join(rec.runDir, kind === 'best' ? RUN_FILES.latest : RUN_FILES.best);
    if (existsSync(other)) return other;
    throw new ApiError('FAILED_PRECONDITION', `run ${runId} has no checkpoint yet`, {
      hint: 'the first checkpoint is written at the first evaluation',
    });
  }

  // ---- shutdown ---------------------------------------------------------------------------------

  #disposing = false;

  /** Stops every active run (each writes its latest checkpoint), waiting up to `graceMs` before ending the workers. */
  async dispose(graceMs = 15_000): Promise<void> {
    this.#disposing = true;
    const runs = [...this.#active.values()];
    for (const a of runs) a.handle.stop();
    const timeout = new Promise((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.allSettled(runs.map((a) => a.handle.done)), timeout]);
    await Promise.all(runs.map((a) => a.handle.terminate().catch(() => undefined)));
    await new Promise((r) => setImmediate(r));
  }
}

/** The run record's view of its data (vocabSize: the model's when the config fixes it). */
function runDataOf(ref: DatasetRef, modelVocab?: number): RunSummary['data'] {
  return {
    kind: ref.kind,
    path: ref.path,
    name: ref.name,
    vocabSize: modelVocab ?? ref.vocabSize,
    trainTokens: ref.trainTokens,
    valTokens: ref.valTokens,
    tokenizer: ref.tokenizer?.kind ?? null,
  };
}

function newRunId(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
  return `run-${stamp}-${randomBytes(3).toString('hex')}`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readJsonl<T>(path: string, schema: z.ZodType<T>): T[] {
  if (!existsSync(path)) return [];
  const out: T[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = schema.safeParse(JSON.parse(line));
      if (r.success) out.push(r.data);
    } catch {
      // a line cut short by a crash
    }
  }
  return out;
}

/** The metrics history, train points thinned evenly to at most MAX_TRAIN_POINTS (evals all kept). */
function readMetrics(path: string): MetricRecord[] {
  const all = readJsonl(path, metricRecordSchema);
  const train = all.filter((m) => m.kind === 'train');
  if (train.length <= MAX_TRAIN_POINTS) return all;
  const every = Math.ceil(train.length / MAX_TRAIN_POINTS);
  const last = train.at(-1);
  let k = 0;
  return all.filter((m) => m.kind === 'eval' || m === last || k++ % every === 0);
}
