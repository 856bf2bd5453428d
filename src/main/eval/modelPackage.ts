import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  MODEL_CARD_FORMAT,
  MODEL_PACKAGE_FILES,
  modelCardSchema,
  type ModelCard,
} from '../../shared/eval/modelPackage.ts';
import {
  DEFAULT_ONNX_POLICY,
  inspectUntrustedOnnx,
  OnnxPolicyError,
  type OnnxModelFacts,
  type OnnxPolicy,
} from '../../shared/onnx/onnxPolicy.ts';
import { loadTokenizer, type Tokenizer } from '../../shared/tokenizers/tokenizer.ts';
import { writeFileAtomic } from '../util/atomicWrite.ts';
import { openEvaluableOnnx, type OnnxEvaluableModel } from './onnxSession.ts';

/**
 * Reading and writing model packages (src/shared/eval/modelPackage.ts). Reading is written for packages
 * from strangers: sizes are bounded before anything is read, the card is schema-checked, both files must
 * match the SHA-256 the card gives, the ONNX model passes the policy, and the sizes must agree.
 */
export const MAX_TOKENIZER_BYTES = 64 * 1024 * 1024;
export const MAX_CARD_BYTES = 4 * 1024 * 1024;

/** Why a package was refused; `reason` is stable for callers (verify's refusal explanation). */
export class ModelPackageError extends Error {
  readonly reason:
    'missing-file' | 'bad-card' | 'hash-mismatch' | 'bad-tokenizer' | 'inconsistent' | 'onnx-policy';
  readonly detail: string | undefined;
  constructor(reason: ModelPackageError['reason'], message: string, detail?: string) {
    super(message);
    this.name = 'ModelPackageError';
    this.reason = reason;
    this.detail = detail;
  }
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Reads one file of a package, refusing more than `max` bytes (without reading them): a directory on disk
 * or a CID on IPFS. Returns null when the file does not exist.
 */
export type PackageFileReader = (file: string, max: number) => Promise<Uint8Array | null>;

export function directoryReader(dir: string): PackageFileReader {
  return async (file, max) => {
    const path = join(dir, file);
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) return null;
      size = st.size;
    } catch {
      return null;
    }
    if (size > max)
      throw new ModelPackageError('inconsistent', `${file} is ${size} bytes, more than the ${max} accepted`);
    return readFileSync(path);
  };
}

async function readRequired(read: PackageFileReader, file: string, max: number): Promise<Uint8Array> {
  const bytes = await read(file, max);
  if (!bytes) throw new ModelPackageError('missing-file', `the model package has no ${file}`);
  return bytes;
}

/** The canonical tokenizer.json of a package: the tokenizer's own serialisation (stable across tools). */
export function canonicalTokenizerJson(tokenizer: Tokenizer): string {
  return JSON.stringify(tokenizer.toFile());
}

export interface LoadedModelPackage {
  card: ModelCard;
  onnx: Uint8Array;
  tokenizer: Tokenizer;
  /** SHA-256 of the tokenizer's canonical JSON (what a lineage that fixes a tokenizer names). */
  tokenizerSha256: string;
  facts: OnnxModelFacts;
}

/** Reads and checks a package (nothing is handed to ONNX Runtime here). */
export async function readModelPackage(
  source: string | PackageFileReader,
  policy: OnnxPolicy = DEFAULT_ONNX_POLICY,
): Promise<LoadedModelPackage> {
  const read = typeof source === 'string' ? directoryReader(source) : source;
  const cardBytes = await readRequired(read, MODEL_PACKAGE_FILES.card, MAX_CARD_BYTES);
  let card: ModelCard;
  try {
    card = modelCardSchema.parse(JSON.parse(new TextDecoder().decode(cardBytes)));
  } catch (e) {
    const what =
      e instanceof SyntaxError
        ? 'is not JSON'
        : `does not match the ${MODEL_CARD_FORMAT} format (${firstIssue(e)})`;
    throw new ModelPackageError('bad-card', `${MODEL_PACKAGE_FILES.card} ${what}`);
  }
  const tokBytes = await readRequired(read, MODEL_PACKAGE_FILES.tokenizer, MAX_TOKENIZER_BYTES);
  if (sha256Hex(tokBytes) !== card.tokenizer.sha256) {
    throw new ModelPackageError(
      'hash-mismatch',
      `${MODEL_PACKAGE_FILES.tokenizer} does not match the SHA-256 in ${MODEL_PACKAGE_FILES.card}`,
    );
  }
  if (card.onnx.bytes > policy.maxBytes) {
    throw new ModelPackageError(
      'onnx-policy',
      `the model was refused before loading: ${card.onnx.bytes} bytes, more than the ${policy.maxBytes} accepted`,
      'too-large',
    );
  }
  const onnx = await readRequired(read, MODEL_PACKAGE_FILES.onnx, policy.maxBytes);
  if (sha256Hex(onnx) !== card.onnx.sha256) {
    throw new ModelPackageError(
      'hash-mismatch',
      `${MODEL_PACKAGE_FILES.onnx} does not match the SHA-256 in ${MODEL_PACKAGE_FILES.card}`,
    );
  }
  let facts: OnnxModelFacts;
  try {
    facts = inspectUntrustedOnnx(onnx, policy);
  } catch (e) {
    if (e instanceof OnnxPolicyError)
      throw new ModelPackageError(
        'onnx-policy',
        `the model was refused before loading: ${e.message}`,
        e.reason,
      );
    throw e;
  }
  let tokenizer: Tokenizer;
  try {
    tokenizer = await loadTokenizer(JSON.parse(new TextDecoder().decode(tokBytes)));
  } catch (e) {
    throw new ModelPackageError('bad-tokenizer', `${MODEL_PACKAGE_FILES.tokenizer}: ${(e as Error).message}`);
  }
  if (facts.vocabSize !== card.config.vocabSize) {
    throw new ModelPackageError(
      'inconsistent',
      `the ONNX model predicts ${facts.vocabSize} tokens but the card says ${card.config.vocabSize}`,
    );
  }
  if (tokenizer.vocabSize > facts.vocabSize) {
    throw new ModelPackageError(
      'inconsistent',
      `the tokenizer has ${tokenizer.vocabSize} tokens but the model predicts only ${facts.vocabSize}`,
    );
  }
  return { card, onnx, tokenizer, tokenizerSha256: sha256Hex(canonicalTokenizerJson(tokenizer)), facts };
}

/** Opens a checked package for evaluation. */
export function openPackageForEval(
  pkg: LoadedModelPackage,
  policy: OnnxPolicy = DEFAULT_ONNX_POLICY,
): Promise<OnnxEvaluableModel> {
  return openEvaluableOnnx(pkg.onnx, pkg.tokenizer, pkg.card.config.blockSize, policy);
}

export interface NewModelPackage {
  onnx: Uint8Array;
  tokenizer: Tokenizer;
  card: Omit<ModelCard, 'format' | 'version' | 'onnx' | 'tokenizer' | 'createdAt' | 'architecture'> & {
    createdAt?: string;
  };
}

/** Writes a package directory (tokenizer.json in its canonical form); returns its card. */
export async function writeModelPackage(dir: string, p: NewModelPackage): Promise<ModelCard> {
  const tokBytes = new TextEncoder().encode(canonicalTokenizerJson(p.tokenizer));
  const { createdAt, ...rest } = p.card;
  const card: ModelCard = modelCardSchema.parse({
    format: MODEL_CARD_FORMAT,
    version: 1,
    architecture: 'gpt',
    ...rest,
    onnx: { sha256: sha256Hex(p.onnx), bytes: p.onnx.length },
    tokenizer: { kind: p.tokenizer.kind, vocabSize: p.tokenizer.vocabSize, sha256: sha256Hex(tokBytes) },
    createdAt: createdAt ?? new Date().toISOString(),
  });
  await writeFileAtomic(join(dir, MODEL_PACKAGE_FILES.onnx), p.onnx);
  await writeFileAtomic(join(dir, MODEL_PACKAGE_FILES.tokenizer), tokBytes);
  await writeFileAtomic(join(dir, MODEL_PACKAGE_FILES.card), `${JSON.stringify(card, null, 2)}\n`);
  return card;
}

function firstIssue(e: unknown): string {
  const issues = (e as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
  const i = issues?.[0];
  return i ? `${i.path.map(String).join('.') || '(root)'}: ${i.message}` : String((e as Error).message ?? e);
}
