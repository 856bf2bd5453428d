import { dirname, resolve } from 'node:path';
import { ApiError, invalidParams } from '../../shared/api/errors.ts';
import {
  pipelineSchema,
  type Pipeline,
  type PipelineRunResult,
  type StageName,
} from '../../shared/pipelines/pipeline.ts';
import type { JobManager } from '../services/jobs.ts';
import type { PipelineRunner, StageProgress } from './pipelineRunner.ts';
import { readUserFile, UserFileError } from '../util/readUserFile.ts';

export type PipelineSource = { file: string } | { pipeline: Pipeline | unknown };

const MAX_PIPELINE_BYTES = 1024 * 1024;

/** Loads pipeline files and runs them as jobs (the one runner behind the CLI, the app and the host). */
export class PipelinesService {
  readonly #runner: PipelineRunner;
  readonly #jobs: JobManager;
  readonly #running = new Set<string>();

  constructor(opts: { runner: PipelineRunner; jobs: JobManager }) {
    this.#runner = opts.runner;
    this.#jobs = opts.jobs;
  }

  get runner(): PipelineRunner {
    return this.#runner;
  }

  load(source: PipelineSource): { pipeline: Pipeline; baseDir: string; bytes: Uint8Array | undefined } {
    let json: unknown;
    let baseDir = process.cwd();
    let bytes: Uint8Array | undefined;
    if ('file' in source) {
      const path = resolve(source.file);
      try {
        bytes = readUserFile(path, MAX_PIPELINE_BYTES, 'a pipeline JSON file');
      } catch (e) {
        if (!(e instanceof UserFileError)) throw e;
        if (e.reason === 'missing') throw new ApiError('NOT_FOUND', `no pipeline file at ${path}`);
        throw new ApiError('INVALID_PARAMS', e.message);
      }
      try {
        json = JSON.parse(new TextDecoder().decode(bytes));
      } catch (e) {
        throw new ApiError('INVALID_PARAMS', `${path} is not JSON: ${(e as Error).message}`);
      }
      baseDir = dirname(path);
    } else json = source.pipeline;
    const parsed = pipelineSchema.safeParse(json);
    if (!parsed.success) throw invalidParams('pipeline', parsed.error);
    return { pipeline: parsed.data, baseDir, bytes };
  }

  async run(
    source: PipelineSource,
    opts: {
      force?: boolean;
      until?: StageName;
      baseDir?: string;
      onProgress?: (p: StageProgress) => void;
    } = {},
  ): Promise<PipelineRunResult> {
    const { pipeline, baseDir, bytes } = this.load(source);
    if (this.#running.has(pipeline.name))
      throw new ApiError('CONFLICT', `the pipeline "${pipeline.name}" is already running`);
    this.#running.add(pipeline.name);
    try {
      return await this.#jobs.run('pipelines.run', `Pipeline ${pipeline.name}`, (job) =>
        this.#runner.run(pipeline, {
          baseDir: opts.baseDir ?? baseDir,
          ...(bytes ? { fileBytes: bytes } : {}),
          ...(opts.force ? { force: true } : {}),
          ...(opts.until ? { until: opts.until } : {}),
          signal: job.signal,
          onProgress: (p) => {
            job.progress({
              stage: p.stage,
              done: p.done,
              total: p.total,
              unit: p.unit,
              ...(p.message ? { message: p.message } : {}),
            });
            opts.onProgress?.(p);
          },
        }),
      );
    } finally {
      this.#running.delete(pipeline.name);
    }
  }
}
