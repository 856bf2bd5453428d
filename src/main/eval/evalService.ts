import { cpus } from 'node:os';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ApiError } from '../../shared/api/errors.ts';
import {
  EVAL_BATCH_WINDOWS,
  EVAL_MAX_TOKENS,
  EVALUATOR_NAME,
  EVALUATOR_VERSION,
} from '../../shared/eval/metrics.ts';
import { DATASET_FILES } from '../../shared/datasets/manifest.ts';
import {
  MODEL_PACKAGE_FILES,
  modelCardSchema,
  type LossPoint,
  type ModelCard,
} from '../../shared/eval/modelPackage.ts';
import {
  EVALUATION_FORMAT,
  evaluationReportSchema,
  type EvaluationReport,
} from '../../shared/eval/report.ts';
import { DEFAULT_ONNX_POLICY, type OnnxModelFacts, type OnnxPolicy } from '../../shared/onnx/onnxPolicy.ts';
import type { IpfsService } from '../ipfs/ipfsService.ts';
import { writeFileAtomic } from '../util/atomicWrite.ts';
import { readUserFile, UserFileError } from '../util/readUserFile.ts';
import { RUN_FILES } from '../engine/trainer.ts';
import { exportCheckpoint } from './engineExport.ts';
import { lossCurveOf } from './lossCurve.ts';
import { EvaluationError } from './evaluator.ts';
import { runEvaluation } from './evalThread.ts';
import {
  directoryReader,
  MAX_CARD_BYTES,
  ModelPackageError,
  readModelPackage,
  sha256Hex,
  writeModelPackage,
  type LoadedModelPackage,
  type PackageFileReader,
} from './modelPackage.ts';
import { EVAL_GRAPH_OPTIMIZATION, onnxRuntimeVersion } from './onnxSession.ts';

/** Largest evaluation text accepted (UTF-8 bytes). */
export const MAX_EVAL_TEXT_BYTES = 256 * 1024 * 1024;

/** Where the model comes from. */
export type ModelSource = { cid: string } | { dir: string } | { checkpoint: string };
/** Where the evaluation text comes from: a CID, a local file, or a held private set named by its SHA-256. */
export type TextSource = { cid: string } | { file: string } | { sha256: string };

export interface EvaluateParams {
  model: ModelSource;
  text: TextSource;
  maxTokens?: number;
  /** Add the report to IPFS (pinned) and return its CID. */
  publish?: boolean;
  signal?: AbortSignal;
  onProgress?: (stage: string, done: number, total: number | null, unit: string) => void;
  policy?: OnnxPolicy;
}

export interface EvaluateOutcome {
  report: EvaluationReport;
  reportCid: string | null;
  /** The package that was evaluated (for callers that go on: card, tokenizer hash). */
  pkg: LoadedModelPackage;
}

/** Expected failures of an evaluation, with a stable reason the verifier turns into a refusal. */
export class EvalFailure extends ApiError {
  readonly reason: 'missing-content' | 'disallowed-operator' | 'bad-model' | 'bad-text';
  /** The ONNX policy's reason (onnxRefusalReasons) or the package problem, when there is one. */
  readonly detail: string | undefined;
  constructor(
    reason: EvalFailure['reason'],
    message: string,
    extra: { hint?: string | undefined; detail?: string | undefined } = {},
  ) {
    super(
      reason === 'missing-content' ? 'NOT_FOUND' : 'FAILED_PRECONDITION',
      message,
      extra.hint ? { hint: extra.hint } : {},
    );
    this.reason = reason;
    this.detail = extra.detail;
  }
}

/**
 * Deterministic evaluation as a service (the `eval.*` requests, the claim flow, the verifier and the
 * pipelines): fetches a model package and an evaluation text by CID (bounded, checked), runs the evaluator,
 * writes the report and optionally publishes it.
 */
export class EvalService {
  readonly #ipfs: () => IpfsService;
  readonly #heldDir: string;
  readonly #tmpDir: string;
  readonly #modelsDir: string;
  readonly #worker: boolean | undefined;

  /** `worker`: evaluate in a worker thread (default: when its entry exists), or in this thread (false). */
  constructor(opts: {
    ipfs: () => IpfsService;
    heldDir: string;
    tmpDir: string;
    modelsDir?: string;
    worker?: boolean;
  }) {
    this.#ipfs = opts.ipfs;
    this.#heldDir = opts.heldDir;
    this.#tmpDir = opts.tmpDir;
    this.#modelsDir = opts.modelsDir ?? join(opts.tmpDir, 'models');
    this.#worker = opts.worker;
  }

  /**
   * Publishes a checkpoint as a model package: the checkpoint itself, then the package naming its CID (and
   * the dataset's CID when the dataset folder the run trained on is here), kept in <models>/<model CID>.
   */
  async publishCheckpoint(
    p: {
      checkpoint: string;
      runDir?: string | undefined;
      name?: string | undefined;
      datasetCid?: string | undefined;
      parentModelCid?: string | undefined;
    },
    opts: { signal?: AbortSignal; onProgress?: EvaluateParams['onProgress'] } = {},
  ): Promise<{
    modelCid: string;
    checkpointCid: string;
    datasetCid: string | null;
    card: ModelCard;
    dir: string;
  }> {
    const ipfs = this.#ipfs();
    const checkpoint = resolve(p.checkpoint);
    if (!existsSync(checkpoint)) throw new ApiError('NOT_FOUND', `no checkpoint at ${checkpoint}`);
    opts.onProgress?.('publishing the checkpoint', 0, null, '');
    const checkpointCid = (await ipfs.addPath(checkpoint, { pin: true, signal: opts.signal })).cid;
    let datasetCid: string | null = p.datasetCid ?? null;
    const datasetDir = datasetDirOf(checkpoint, p.runDir);
    if (!datasetCid && datasetDir) {
      opts.onProgress?.('publishing the dataset', 0, null, '');
      datasetCid = (await ipfs.addPath(datasetDir, { pin: true, signal: opts.signal })).cid;
    }
    opts.onProgress?.('exporting the model', 0, null, '');
    mkdirSync(this.#modelsDir, { recursive: true });
    const work = await mkdtemp(join(this.#modelsDir, '.package-'));
    try {
      await this.packageCheckpoint(
        checkpoint,
        {
          checkpointCid,
          datasetCid,
          parentModelCid: p.parentModelCid ?? null,
          ...(p.name ? { name: p.name } : {}),
          ...(p.runDir ? { lossCurve: lossCurveOf(resolve(p.runDir)) } : {}),
        },
        work,
      );
      const card = modelCardSchema.parse(
        JSON.parse(readFileSync(join(work, MODEL_PACKAGE_FILES.card), 'utf8')),
      );
      opts.onProgress?.('publishing the model', 0, null, '');
      const modelCid = (await ipfs.addPath(work, { pin: true, signal: opts.signal })).cid;
      const dir = join(this.#modelsDir, modelCid);
      if (existsSync(dir)) await rm(work, { recursive: true, force: true });
      else await rename(work, dir);
      return { modelCid, checkpointCid, datasetCid, card, dir };
    } catch (e) {
      await rm(work, { recursive: true, force: true });
      throw e;
    }
  }

  // ---- sources ----

  /** A reader over a model package on IPFS: each file fetched (verified) with a size bound. */
  ipfsReader(cid: string, signal?: AbortSignal): PackageFileReader {
    return async (file, max) => {
      try {
        const r = await this.#ipfs().catBytes(`${cid}/${file}`, { maxBytes: max + 1, signal });
        if (r.size > max)
          throw new ModelPackageError(
            'inconsistent',
            `${file} is ${r.size} bytes, more than the ${max} accepted`,
          );
        return r.bytes;
      } catch (e) {
        if (e instanceof ModelPackageError) throw e;
        if (e instanceof ApiError && e.code === 'NOT_FOUND') {
          // Either the package is not available at all, or this file is not in it.
          const whole = await this.#ipfs()
            .has(cid)
            .catch(() => false);
          if (!whole)
            throw new EvalFailure('missing-content', `the model ${cid} is not available: ${e.message}`, {
              hint: e.hint,
            });
          return null;
        }
        throw e;
      }
    };
  }

  /** Loads and checks a model package (never hands anything unchecked to ONNX Runtime). */
  async loadPackage(
    source: ModelSource,
    opts: { signal?: AbortSignal; policy?: OnnxPolicy } = {},
  ): Promise<{ pkg: LoadedModelPackage; cid: string | null }> {
    const policy = opts.policy ?? DEFAULT_ONNX_POLICY;
    try {
      if ('cid' in source)
        return {
          pkg: await readModelPackage(this.ipfsReader(source.cid, opts.signal), policy),
          cid: source.cid,
        };
      if ('dir' in source) {
        if (!existsSync(join(source.dir, MODEL_PACKAGE_FILES.card))) {
          throw new EvalFailure(
            'bad-model',
            `${source.dir} is not a model package (no ${MODEL_PACKAGE_FILES.card})`,
          );
        }
        return { pkg: await readModelPackage(directoryReader(resolve(source.dir)), policy), cid: null };
      }
      const dir = await this.packageCheckpoint(source.checkpoint);
      try {
        return { pkg: await readModelPackage(directoryReader(dir), policy), cid: null };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    } catch (e) {
      if (e instanceof ModelPackageError) {
        throw new EvalFailure(e.reason === 'onnx-policy' ? 'disallowed-operator' : 'bad-model', e.message, {
          detail: e.detail ?? e.reason,
        });
      }
      throw e;
    }
  }

  /** Exports a checkpoint into a temporary model package directory (the caller removes it). */
  async packageCheckpoint(
    checkpoint: string,
    extra: {
      datasetCid?: string | null;
      parentModelCid?: string | null;
      checkpointCid?: string | null;
      name?: string;
      lossCurve?: LossPoint[];
    } = {},
    dir?: string,
  ): Promise<string> {
    const exported = await exportCheckpoint(resolve(checkpoint)).catch((e: unknown) => {
      throw new EvalFailure('bad-model', `cannot export ${checkpoint}: ${(e as Error).message}`);
    });
    mkdirSync(this.#tmpDir, { recursive: true });
    const out = dir ?? (await mkdtemp(join(this.#tmpDir, 'package-')));
    await writeModelPackage(out, {
      onnx: exported.onnx,
      tokenizer: exported.tokenizer,
      card: {
        name: extra.name ?? `gpt-${exported.model.nLayer}x${exported.model.nEmbd}-step${exported.step}`,
        config: {
          nLayer: exported.model.nLayer,
          nHead: exported.model.nHead,
          nEmbd: exported.model.nEmbd,
          blockSize: exported.model.blockSize,
          vocabSize: exported.model.vocabSize,
          bias: exported.model.bias,
        },
        parameters: exported.parameters,
        training: {
          iterations: exported.step,
          tokens: exported.tokensSeen,
          seed: exported.seed,
          lossCurve: extra.lossCurve ?? [],
        },
        datasetCid: extra.datasetCid ?? null,
        parentModelCid: extra.parentModelCid ?? null,
        checkpointCid: extra.checkpointCid ?? null,
        createdAt: exported.createdAt,
      },
    });
    return out;
  }

  /** The evaluation text (UTF-8, strictly decoded) and its identity. */
  async loadText(
    source: TextSource,
    signal?: AbortSignal,
  ): Promise<{ text: string; content: Uint8Array; sha256: string; bytes: number; cid: string | null }> {
    let bytes: Uint8Array;
    let cid: string | null = null;
    if ('cid' in source) {
      try {
        const r = await this.#ipfs().catBytes(source.cid, { maxBytes: MAX_EVAL_TEXT_BYTES + 1, signal });
        if (r.size > MAX_EVAL_TEXT_BYTES)
          throw new EvalFailure(
            'bad-text',
            `the evaluation text ${source.cid} is larger than ${MAX_EVAL_TEXT_BYTES} bytes`,
          );
        bytes = r.bytes;
      } catch (e) {
        if (e instanceof ApiError && e.code === 'NOT_FOUND') {
          throw new EvalFailure(
            'missing-content',
            `the evaluation text ${source.cid} is not available: ${e.message}`,
            { hint: e.hint },
          );
        }
        throw e;
      }
      cid = source.cid;
    } else if ('file' in source) {
      const path = resolve(source.file);
      try {
        bytes = readUserFile(path, MAX_EVAL_TEXT_BYTES, 'a UTF-8 text file');
      } catch (e) {
        if (!(e instanceof UserFileError)) throw e;
        if (e.reason === 'missing')
          throw new EvalFailure('missing-content', `the evaluation text ${path} does not exist`);
        throw new EvalFailure('bad-text', e.message);
      }
    } else {
      const path = this.heldPath(source.sha256);
      if (!existsSync(path)) {
        throw new EvalFailure(
          'missing-content',
          `the private evaluation set sha256:${source.sha256} is not held on this machine`,
          {
            hint: 'A verifier of a private-evaluation lineage registers the set with `xai-link eval hold <file>`.',
          },
        );
      }
      bytes = readFileSync(path);
    }
    const sha256 = sha256Hex(bytes);
    if ('sha256' in source && sha256 !== source.sha256)
      throw new EvalFailure('bad-text', `the held set ${source.sha256} no longer matches its hash`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new EvalFailure('bad-text', 'the evaluation text is not valid UTF-8');
    }
    return { text, content: bytes, sha256, bytes: bytes.length, cid };
  }

  /** A lineage's `evalDatasetCid` as a text source: "sha256:<hex>" names a private, held set. */
  static textSourceOf(evalDatasetRef: string): TextSource {
    const m = /^sha256:([0-9a-f]{64})$/.exec(evalDatasetRef);
    return m ? { sha256: m[1]! } : { cid: evalDatasetRef.replace(/^ipfs:\/\//, '').replace(/^\/ipfs\//, '') };
  }

  heldPath(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256))
      throw new ApiError('INVALID_PARAMS', 'a SHA-256 is 64 lower-case hex digits');
    return join(this.#heldDir, `${sha256}.txt`);
  }

  /** Keeps a private evaluation set on this machine (a verifier of a private lineage); returns its reference. */
  async hold(file: string): Promise<{ sha256: string; ref: string; bytes: number }> {
    const { content, sha256, bytes } = await this.loadText({ file });
    // The bytes that were hashed, not a second read of a file that may have changed since.
    await writeFileAtomic(this.heldPath(sha256), content);
    return { sha256, ref: `sha256:${sha256}`, bytes };
  }

  // ---- evaluation ----

  async evaluate(p: EvaluateParams): Promise<EvaluateOutcome> {
    const started = Date.now();
    p.onProgress?.('loading model', 0, null, '');
    const { pkg, cid } = await this.loadPackage(p.model, { signal: p.signal, policy: p.policy });
    p.onProgress?.('loading text', 0, null, '');
    const text = await this.loadText(p.text, p.signal);
    const report = await this.evaluateLoaded(pkg, cid, text, {
      maxTokens: p.maxTokens,
      signal: p.signal,
      onProgress: p.onProgress,
      started,
      policy: p.policy,
    });
    const reportCid = p.publish ? await this.publishReport(report, p.signal) : null;
    return { report, reportCid, pkg };
  }

  async evaluateLoaded(
    pkg: LoadedModelPackage,
    modelCid: string | null,
    text: { text: string; sha256: string; bytes: number; cid: string | null },
    opts: {
      maxTokens?: number;
      signal?: AbortSignal;
      onProgress?: EvaluateParams['onProgress'];
      started?: number;
      policy?: OnnxPolicy;
    } = {},
  ): Promise<EvaluationReport> {
    const started = opts.started ?? Date.now();
    const maxTokens = opts.maxTokens ?? EVAL_MAX_TOKENS;
    let result;
    try {
      result = await runEvaluation(pkg, text.text, {
        maxTokens,
        signal: opts.signal,
        onProgress: (done, total) => opts.onProgress?.('evaluating', done, total, 'windows'),
        worker: this.#worker,
      });
    } catch (e) {
      if (e instanceof EvaluationError) throw new EvalFailure('bad-model', e.message);
      throw new EvalFailure('bad-model', `the model failed to run: ${(e as Error).message}`);
    }
    return evaluationReportSchema.parse({
      format: EVALUATION_FORMAT,
      version: 1,
      evaluator: {
        name: EVALUATOR_NAME,
        version: EVALUATOR_VERSION,
        onnxRuntime: onnxRuntimeVersion(),
        settings: {
          provider: 'cpu',
          intraOpThreads: 1,
          executionMode: 'sequential',
          graphOptimization: EVAL_GRAPH_OPTIMIZATION,
          batchWindows: EVAL_BATCH_WINDOWS,
          maxTokens,
        },
      },
      model: {
        cid: modelCid,
        onnxSha256: pkg.card.onnx.sha256,
        parameters: pkg.facts.parameters,
        vocabSize: pkg.facts.vocabSize,
        tokenizer: { kind: pkg.tokenizer.kind, sha256: pkg.tokenizerSha256 },
      },
      text: { cid: text.cid, sha256: text.sha256, bytes: text.bytes },
      result,
      run: {
        startedAt: new Date(started).toISOString(),
        durationMs: Date.now() - started,
        platform: `${process.platform}-${process.arch}`,
        cpu: cpus()[0]?.model ?? 'unknown',
      },
    });
  }

  async publishReport(report: EvaluationReport, signal?: AbortSignal): Promise<string> {
    return this.#ipfs().addBytes(new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`), {
      pin: true,
      signal,
    });
  }

  /** Fetches and validates a published report. */
  async getReport(cid: string, signal?: AbortSignal): Promise<EvaluationReport> {
    const bytes = await this.readJsonBytes(cid, signal);
    const parsed = evaluationReportSchema.safeParse(safeJson(bytes));
    if (!parsed.success)
      throw new ApiError('FAILED_PRECONDITION', `${cid} is not an XAI-Link evaluation report`);
    return parsed.data;
  }

  /** Small JSON documents by CID (claims, reports, metadata), bounded. */
  async readJsonBytes(cid: string, signal?: AbortSignal): Promise<Uint8Array> {
    const r = await this.#ipfs().catBytes(cid, { maxBytes: MAX_CARD_BYTES + 1, signal });
    if (r.size > MAX_CARD_BYTES)
      throw new ApiError('FAILED_PRECONDITION', `${cid} is too large for a JSON document`);
    return r.bytes;
  }

  /** What the ONNX policy says about a model, without running it. */
  async inspect(
    source: ModelSource,
    signal?: AbortSignal,
  ): Promise<{ facts: OnnxModelFacts; card: LoadedModelPackage['card']; tokenizerSha256: string }> {
    const { pkg } = await this.loadPackage(source, { signal });
    return { facts: pkg.facts, card: pkg.card, tokenizerSha256: pkg.tokenizerSha256 };
  }
}

export function safeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

/**
 * The prepared dataset a checkpoint's run trained on, from the run directory given or the one holding
 * checkpoints/<file> — the trainer's data-location.json, or a run's run.json (an imported run given data
 * later): checkpoints record no local paths.
 */
function datasetDirOf(checkpoint: string, runDir: string | undefined): string | null {
  for (const dir of [runDir ? resolve(runDir) : null, dirname(dirname(checkpoint))]) {
    if (!dir) continue;
    for (const [file, pick] of [
      [RUN_FILES.dataLocation, (j: DataLocation) => j],
      ['run.json', (j: { data?: DataLocation }) => j.data],
    ] as const) {
      try {
        const data = pick(JSON.parse(readFileSync(join(dir, file), 'utf8')) as never);
        const path = data?.kind === 'dataset' ? data.path : undefined;
        if (path && existsSync(join(path, DATASET_FILES.manifest))) return path;
      } catch {
        // not here
      }
    }
  }
  return null;
}

interface DataLocation {
  kind?: string;
  path?: string;
}
