import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunSummary } from '../../shared/api/runs.ts';
import { GPT2_TOKENIZER_FILE, loadTokenizer, type TokenizerFile } from '../../shared/tokenizers/tokenizer.ts';
import { HfImportError, readHfGpt2 } from './hfGpt2.ts';
import { readNanoGptCheckpoint, type ImportedModel } from './nanoGptCheckpoint.ts';
import { isGpt2Vocab, MetaError, readNanoGptMeta } from './nanoGptMeta.ts';
import { PickleError } from './pickle.ts';
import { TorchFileError } from './torchFile.ts';
import { ZipError } from './zip.ts';
import { readUserFile, UserFileError } from '../util/readUserFile.ts';

/**
 * What `import` reads: the model file (format told by its content), the tokenizer (nanoGPT's meta.pkl,
 * GPT-2's, or a tokenizer.json), checked against each other before anything is written.
 */

export interface ImportParams {
  path: string;
  meta?: string;
  tokenizer?: string;
  config?: string;
  name?: string;
  data?: { path: string; vocabSize?: number };
  outDir?: string;
}

export interface ImportResult {
  run: RunSummary;
  format: 'nanogpt' | 'huggingface';
  hasOptimizer: boolean;
  tokenizer: string | null;
  notes: string[];
}

export class ImportError extends Error {
  readonly field: string;
  readonly hint: string | undefined;
  constructor(message: string, field: string, hint?: string) {
    super(message);
    this.name = 'ImportError';
    this.field = field;
    this.hint = hint;
  }
}

/** GPT-2's tokenizer.json is about 2 MB; far larger is not a tokenizer. */
const MAX_TOKENIZER_BYTES = 64 << 20;

const READ_ERRORS = [TorchFileError, HfImportError, MetaError, PickleError, ZipError];

function wrap<T>(field: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (READ_ERRORS.some((c) => e instanceof c)) throw new ImportError((e as Error).message, field);
    throw e;
  }
}

function startsWithZip(path: string): boolean {
  const b = Buffer.alloc(4);
  try {
    const fd = openSync(path, 'r');
    try {
      return readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32LE(0) === 0x04034b50;
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ImportError(`cannot read ${path} (${code})`, 'path', 'give a checkpoint file you can read');
  }
}

export async function importModelFiles(
  p: ImportParams,
): Promise<{ format: ImportResult['format']; model: ImportedModel; tokenizer: TokenizerFile | null }> {
  let path = resolve(p.path);
  if (!existsSync(path)) throw new ImportError(`no file at ${path}`, 'path');
  const info = statSync(path);
  // A device or a named pipe: opening one can block and reading /dev/zero never ends.
  if (!info.isDirectory() && !info.isFile())
    throw new ImportError(
      `${path} is not a regular file (a device, socket or pipe)`,
      'path',
      'pass ckpt.pt, model.safetensors, or a Hugging Face model folder',
    );
  if (info.isDirectory()) {
    const st = join(path, 'model.safetensors');
    if (!existsSync(st))
      throw new ImportError(
        `${path} holds no model.safetensors`,
        'path',
        'pass ckpt.pt, model.safetensors, or a Hugging Face model folder',
      );
    path = st;
  }
  let format: ImportResult['format'];
  let model: ImportedModel;
  if (path.endsWith('.safetensors')) {
    format = 'huggingface';
    model = wrap('path', () => readHfGpt2(path, p.config ? resolve(p.config) : undefined));
  } else if (startsWithZip(path)) {
    format = 'nanogpt';
    model = wrap('path', () => readNanoGptCheckpoint(path));
  } else {
    throw new ImportError(
      `${path} is neither a PyTorch checkpoint (ZIP format, torch.save since PyTorch 1.6) nor a .safetensors file`,
      'path',
      'a checkpoint saved by PyTorch older than 1.6 can be re-saved with a current PyTorch first',
    );
  }
  const tokenizer = await resolveTokenizer(p, model.model.vocabSize);
  return { format, model, tokenizer };
}

async function resolveTokenizer(p: ImportParams, modelVocab: number): Promise<TokenizerFile | null> {
  const meta = p.meta ? wrap('meta', () => readNanoGptMeta(resolve(p.meta!))) : null;
  if (meta && meta.vocabSize > modelVocab)
    throw new ImportError(
      `meta.pkl's vocabulary (${meta.vocabSize}) is larger than the model's (${modelVocab})`,
      'meta',
      'pass the meta.pkl of the data this model was trained on',
    );
  let file: TokenizerFile | null;
  const spec = p.tokenizer;
  if (spec === 'char') {
    if (!meta?.tokenizer)
      throw new ImportError(
        "a char tokenizer comes from nanoGPT's meta.pkl (itos)",
        'tokenizer',
        'pass --meta data/<name>/meta.pkl',
      );
    file = meta.tokenizer;
  } else if (spec === 'gpt2') file = GPT2_TOKENIZER_FILE;
  else if (spec) {
    const abs = resolve(spec);
    if (!existsSync(abs))
      throw new ImportError(
        `no tokenizer at ${abs}`,
        'tokenizer',
        'use char (with --meta), gpt2, or a tokenizer.json path',
      );
    try {
      const json = readUserFile(abs, MAX_TOKENIZER_BYTES, 'a tokenizer.json').toString('utf8');
      file = (await loadTokenizer(JSON.parse(json))).toFile();
    } catch (e) {
      if (e instanceof UserFileError) throw new ImportError(e.message, 'tokenizer');
      throw new ImportError(`${abs}: ${e instanceof Error ? e.message : String(e)}`, 'tokenizer');
    }
  } else file = meta?.tokenizer ?? (isGpt2Vocab(modelVocab) ? GPT2_TOKENIZER_FILE : null);
  if (file && file.vocabSize > modelVocab)
    throw new ImportError(
      `the ${file.kind} tokenizer has ${file.vocabSize} tokens, the model only ${modelVocab}`,
      'tokenizer',
      'pass the tokenizer the model was trained with',
    );
  return file;
}
