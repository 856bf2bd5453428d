import {
  TOKENIZER_FILE_FORMAT,
  TOKENIZER_FILE_VERSION,
  type TokenizerFile,
} from '../../shared/tokenizers/tokenizer.ts';
import { GPT2_VOCAB_SIZE } from '../../shared/tokenizers/gpt2.ts';
import { PickleError, unpickle } from './pickle.ts';
import { readUserFile, UserFileError } from '../util/readUserFile.ts';

/**
 * nanoGPT's meta.pkl (data/<name>/prepare.py): `{vocab_size, itos, stoi}` for character-level data
 * (itos: id → character), or only `vocab_size` elsewhere. Read with the restricted unpickler: a meta.pkl
 * is as untrusted as a checkpoint.
 */

export class MetaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetaError';
  }
}

export interface NanoGptMeta {
  vocabSize: number;
  /** The char tokenizer (itos in id order), or null when the meta has no itos. */
  tokenizer: TokenizerFile | null;
}

const MAX_META_BYTES = 64 << 20;

export function readNanoGptMeta(path: string): NanoGptMeta {
  let bytes: Uint8Array;
  try {
    bytes = readUserFile(path, MAX_META_BYTES, "a nanoGPT data folder's meta.pkl");
  } catch (e) {
    if (e instanceof UserFileError) throw new MetaError(e.message);
    throw e;
  }
  let root: unknown;
  try {
    root = unpickle(bytes);
  } catch (e) {
    if (e instanceof PickleError) throw new MetaError(`${path}: ${e.message}`);
    throw e;
  }
  if (!(root instanceof Map)) throw new MetaError(`${path} does not hold a dict: not a nanoGPT meta.pkl`);
  const itos = root.get('itos');
  const declared = root.get('vocab_size');
  if (itos === undefined) {
    if (typeof declared !== 'number' || !Number.isInteger(declared) || declared <= 0)
      throw new MetaError(`${path} has neither itos nor a vocab_size`);
    return { vocabSize: declared, tokenizer: null };
  }
  if (!(itos instanceof Map)) throw new MetaError(`${path}: itos is not a dict`);
  const chars: string[] = [];
  for (let i = 0; i < itos.size; i++) {
    const ch = itos.get(i);
    if (typeof ch !== 'string')
      throw new MetaError(`${path}: itos has no character for id ${i} (ids must run 0..${itos.size - 1})`);
    chars.push(ch);
  }
  if (typeof declared === 'number' && declared !== chars.length)
    throw new MetaError(`${path}: vocab_size ${declared} but itos holds ${chars.length} characters`);
  return {
    vocabSize: chars.length,
    tokenizer: {
      format: TOKENIZER_FILE_FORMAT,
      version: TOKENIZER_FILE_VERSION,
      kind: 'char',
      vocabSize: chars.length,
      chars,
    },
  };
}

/** nanoGPT's GPT-2 vocabularies: 50257, or 50304 (padded to a multiple of 64 for speed). */
export function isGpt2Vocab(vocabSize: number): boolean {
  return vocabSize === GPT2_VOCAB_SIZE || vocabSize === 50304;
}
