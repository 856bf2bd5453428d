import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { z } from 'zod';
import type {
  DatasetSummary,
  InspectResult,
  PrepareResult,
  PublishResult,
} from '../../shared/api/datasets.ts';
import type { IpfsAddResult } from '../../shared/api/ipfs.ts';
import { ApiError } from '../../shared/api/errors.ts';
import {
  DATASET_FILES,
  datasetManifestSchema,
  preparationReportFileSchema,
  type DatasetManifest,
  type PreparationReportFile,
} from '../../shared/datasets/manifest.ts';
import type { PreparationSettings } from '../../shared/datasets/options.ts';
import { UnknownCharacterError } from '../../shared/tokenizers/charTokenizer.ts';
import {
  charTokenizerFromText,
  gpt2Tokenizer,
  loadTokenizer,
  parseTokenizerSpec,
  tokenPieces,
  trainBpeTokenizer,
  WordCounter,
  type TokenPiece,
  type Tokenizer,
  type TokenizerKindName,
} from '../../shared/tokenizers/tokenizer.ts';
import type { JobManager } from '../services/jobs.ts';
import type { AddOptions } from '../ipfs/ipfsService.ts';
import { writeJsonAtomic } from '../util/atomicWrite.ts';
import { inspectPath } from './inspect.ts';
import { prepareDataset } from './prepare.ts';

/** What publishing needs of the IPFS node (the node starts lazily, on the first publish). */
export interface DatasetPublisher {
  addPath(path: string, opts: AddOptions): Promise<IpfsAddResult>;
}

/**
 * Where a dataset was published: kept outside the dataset's folder (adding a file there would change the
 * folder's CID) in datasets/.published/<id>.json.
 */
const publicationSchema = z.object({
  cid: z.string().min(1),
  publishedAt: z.string(),
  /** sha256 of manifest.json when published: a folder replaced under the same id drops the record. */
  manifestSha256: z.string().regex(/^[0-9a-f]{64}$/),
});
type Publication = z.infer<typeof publicationSchema>;

export interface PrepareParams extends PreparationSettings {
  inputs: string[];
  name?: string;
  outDir?: string;
}

/**
 * Datasets in the data directory's datasets/ folder: one folder per dataset, named by its id.
 * Preparation runs as a job; a prepared folder appears only when complete (see prepare.ts).
 */
export class DatasetsService {
  readonly #root: string;
  readonly #jobs: JobManager;
  readonly #generator: { name: string; version: string };
  readonly #tokenizers = new Map<string, Promise<Tokenizer>>();
  readonly #publisher: (() => DatasetPublisher) | undefined;

  constructor(opts: {
    root: string;
    jobs: JobManager;
    generator: { name: string; version: string };
    /** The IPFS node to publish to; without it datasets.publish is refused. */
    publisher?: () => DatasetPublisher;
  }) {
    this.#root = opts.root;
    this.#jobs = opts.jobs;
    this.#generator = opts.generator;
    this.#publisher = opts.publisher;
  }

  get root(): string {
    return this.#root;
  }

  /** Folder of dataset `id` (which must be a valid id). */
  pathOf(id: string): string {
    return join(this.#root, id);
  }

  async prepare(params: PrepareParams): Promise<PrepareResult> {
    let spec;
    try {
      spec = parseTokenizerSpec(params.tokenizer);
    } catch (e) {
      throw new ApiError('INVALID_PARAMS', (e as Error).message, { field: 'tokenizer' });
    }
    const name = params.name ?? defaultName(params.inputs[0]!, params.tokenizer);
    let id: string | null = null;
    let destination: string;
    if (params.outDir !== undefined) {
      destination = resolve(params.outDir);
    } else {
      id = params.name !== undefined ? slugify(params.name) : await this.#freeId(slugify(name));
      destination = this.pathOf(id);
    }
    const { outDir: _outDir, name: _name, ...rest } = params;
    const title = `Prepare dataset ${name} (${spec.kind === 'bpe' ? `bpe:${spec.vocabSize}` : spec.kind})`;
    return this.#jobs.run('datasets.prepare', title, async (job) => {
      const outcome = await prepareDataset({ ...rest, name }, destination, {
        signal: job.signal,
        progress: (u) => job.progress(u),
        generator: this.#generator,
      });
      return {
        id,
        path: outcome.path,
        manifest: outcome.manifest,
        files: outcome.report.files,
        ignoredInFolders: outcome.report.ignoredInFolders,
        cleaning: outcome.report.cleaning,
        timings: outcome.timings,
      };
    });
  }

  async #freeId(base: string): Promise<string> {
    for (let i = 1; ; i++) {
      const id = i === 1 ? base : `${base.slice(0, 60)}-${i}`;
      try {
        await stat(this.pathOf(id));
      } catch {
        return id;
      }
    }
  }

  async list(): Promise<DatasetSummary[]> {
    let names: string[];
    try {
      names = await readdir(this.#root);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: DatasetSummary[] = [];
    for (const id of names.sort()) {
      if (id.startsWith('.')) continue; // preparations in progress, deleted ones on their way out
      const path = this.pathOf(id);
      const st = await stat(path).catch(() => null);
      if (!st?.isDirectory()) continue;
      const bytes = await folderBytes(path);
      try {
        const m = await this.#readManifest(id);
        out.push({
          id,
          path,
          name: m.name,
          createdAt: m.createdAt,
          tokenizer: (m.tokenizerSpec as string | undefined) ?? m.tokenizer.kind,
          vocabSize: m.vocabSize,
          trainTokens: m.splits.train.tokens,
          valTokens: m.splits.val.tokens,
          bytes,
          cid: (await this.#publication(id))?.cid ?? null,
        });
      } catch (e) {
        out.push({
          id,
          path,
          name: null,
          createdAt: null,
          tokenizer: null,
          vocabSize: null,
          trainTokens: null,
          valTokens: null,
          bytes,
          cid: null,
          error: (e as Error).message,
        });
      }
    }
    return out.sort(
      (a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || a.id.localeCompare(b.id),
    );
  }

  async #readManifest(id: string): Promise<DatasetManifest> {
    const file = join(this.pathOf(id), DATASET_FILES.manifest);
    let raw: string;
    try {
      raw = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        const exists = await stat(this.pathOf(id)).catch(() => null);
        if (!exists)
          throw new ApiError('NOT_FOUND', `No dataset "${id}"`, {
            hint: 'datasets.list shows the datasets there are.',
          });
        throw new ApiError('FAILED_PRECONDITION', `Dataset "${id}" has no manifest.json`, {
          hint: 'The folder is not a prepared dataset; delete it or prepare again.',
        });
      }
      throw e;
    }
    const parsed = datasetManifestSchema.safeParse(JSON.parse(raw));
    if (!parsed.success)
      throw new ApiError(
        'FAILED_PRECONDITION',
        `Dataset "${id}": manifest.json breaks the schema: ${parsed.error.issues[0]?.message}`,
      );
    return parsed.data;
  }

  async get(id: string): Promise<{
    id: string;
    path: string;
    manifest: DatasetManifest;
    card: string;
    report: PreparationReportFile | null;
    cid: string | null;
    publishedAt: string | null;
  }> {
    const manifest = await this.#readManifest(id);
    const path = this.pathOf(id);
    const card = await readFile(join(path, DATASET_FILES.card), 'utf8').catch(() => '');
    // report.json is for people: a dataset without a readable one is still a dataset.
    const report: PreparationReportFile | null = await readFile(join(path, DATASET_FILES.report), 'utf8')
      .then((raw) => preparationReportFileSchema.parse(JSON.parse(raw)))
      .catch(() => null);
    const publication = await this.#publication(id);
    return {
      id,
      path,
      manifest,
      card,
      report,
      cid: publication?.cid ?? null,
      publishedAt: publication?.publishedAt ?? null,
    };
  }

  /**
   * Adds the dataset folder to the embedded IPFS node, pinned, as a job (job.progress events; cancel with
   * jobs.cancel), and remembers its CID. The CID names exactly the folder's bytes, so publishing again
   * gives the same CID.
   */
  async publish(id: string): Promise<PublishResult> {
    if (!this.#publisher)
      throw new ApiError(
        'UNAVAILABLE',
        'Publishing datasets needs the IPFS node, which is not available here',
      );
    const manifest = await this.#readManifest(id);
    const path = this.pathOf(id);
    const added = await this.#jobs.run(
      'datasets.publish',
      `Publish dataset ${manifest.name} to IPFS`,
      (job) =>
        this.#publisher!().addPath(path, {
          pin: true,
          signal: job.signal,
          onProgress: (p) => job.progress(p),
        }),
    );
    const publication: Publication = {
      cid: added.cid,
      publishedAt: new Date().toISOString(),
      manifestSha256: await this.#manifestSha256(id),
    };
    await writeJsonAtomic(this.#publicationPath(id), publication);
    return {
      id,
      cid: added.cid,
      bytes: added.bytes,
      files: added.files,
      publishedAt: publication.publishedAt,
    };
  }

  #publicationPath(id: string): string {
    return join(this.#root, PUBLISHED_DIR, `${id}.json`);
  }

  async #manifestSha256(id: string): Promise<string> {
    const raw = await readFile(join(this.pathOf(id), DATASET_FILES.manifest));
    return createHash('sha256').update(raw).digest('hex');
  }

  /** The dataset's recorded publication, or null (none, unreadable, or for another folder of that id). */
  async #publication(id: string): Promise<Publication | null> {
    try {
      const p = publicationSchema.parse(JSON.parse(await readFile(this.#publicationPath(id), 'utf8')));
      return p.manifestSha256 === (await this.#manifestSha256(id)) ? p : null;
    } catch {
      return null;
    }
  }

  async delete(id: string): Promise<{ deleted: boolean }> {
    const path = this.pathOf(id);
    const st = await stat(path).catch(() => null);
    if (!st?.isDirectory()) throw new ApiError('NOT_FOUND', `No dataset "${id}"`);
    // Out of the listing at once (rename), then removed.
    const trash = join(this.#root, `.deleted-${id}-${randomBytes(4).toString('hex')}`);
    await rename(path, trash);
    this.#tokenizers.delete(id);
    await rm(this.#publicationPath(id), { force: true });
    await rm(trash, { recursive: true, force: true });
    return { deleted: true };
  }

  async tokenize(params: { text: string; dataset?: string; tokenizer?: string }): Promise<{
    tokenizer: { kind: TokenizerKindName; vocabSize: number };
    tokens: TokenPiece[];
    characters: number;
  }> {
    let tokenizer: Tokenizer;
    if (params.dataset !== undefined) tokenizer = await this.#datasetTokenizer(params.dataset);
    else {
      const spec = parseTokenizerSpec(params.tokenizer!);
      if (spec.kind === 'gpt2') tokenizer = await gpt2Tokenizer();
      else if (spec.kind === 'char') tokenizer = charTokenizerFromText(params.text);
      else {
        const wc = new WordCounter();
        wc.addText(params.text);
        tokenizer = trainBpeTokenizer(wc.counts, spec.vocabSize);
      }
      if (tokenizer.vocabSize === 0)
        throw new ApiError(
          'INVALID_PARAMS',
          `a ${spec.kind} tokenizer is built from the sample text, which is empty`,
          {
            field: 'text',
            hint: 'Type some text to preview, or pick a dataset or the gpt2 tokenizer.',
          },
        );
    }
    try {
      const tokens = tokenPieces(tokenizer, params.text);
      return {
        tokenizer: { kind: tokenizer.kind, vocabSize: tokenizer.vocabSize },
        tokens,
        characters: [...params.text].length,
      };
    } catch (e) {
      if (e instanceof UnknownCharacterError) {
        throw new ApiError('FAILED_PRECONDITION', e.message, {
          field: 'text',
          hint: 'A char tokenizer can only encode characters of its dataset; use a bpe or gpt2 dataset for arbitrary text.',
        });
      }
      throw e;
    }
  }

  #datasetTokenizer(id: string): Promise<Tokenizer> {
    let t = this.#tokenizers.get(id);
    if (!t) {
      t = (async () => {
        await this.#readManifest(id);
        const raw = await readFile(join(this.pathOf(id), DATASET_FILES.tokenizer), 'utf8');
        return loadTokenizer(JSON.parse(raw));
      })();
      t.catch(() => this.#tokenizers.delete(id));
      this.#tokenizers.set(id, t);
    }
    return t;
  }

  inspect(params: { path: string; textField: string; csvColumn: string }): Promise<InspectResult> {
    return inspectPath(params.path, params);
  }
}

/** Under datasets/: a dot folder, so it is never listed as a dataset. */
const PUBLISHED_DIR = '.published';

/** Default dataset name: the first input's name (no extension) and the tokenizer, e.g. "tinyshakespeare-char". */
export function defaultName(firstInput: string, tokenizer: string): string {
  const base = basename(resolve(firstInput), extname(firstInput)) || 'dataset';
  return `${base}-${tokenizer.replace(':', '')}`;
}

/** A dataset id from a name: lower case, [a-z0-9._-], 64 characters at most. */
export function slugify(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-._]+|[-]+$/g, '')
    .slice(0, 64);
  return s || 'dataset';
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const st = await stat(join(dir, name)).catch(() => null);
    if (st?.isFile()) total += st.size;
  }
  return total;
}
