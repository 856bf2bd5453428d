import { Prng } from './prng.ts';

/**
 * Train/val split rules (deterministic for a seed):
 *
 * - Two or more documents: split by document. round(n · val) documents go to val (at least 1 when
 *   val > 0, at most n − 1), chosen by a seeded Fisher–Yates shuffle; both splits keep the input order.
 * - One document (tiny-shakespeare is one text file): split the text like nanoGPT's prepare.py,
 *   `train = text[:int(n * 0.9)]`, `val = text[int(n * 0.9):]` with n in characters (code points):
 *   the first floor(n · (1 − val)) characters are train, the rest val.
 */
export type SplitPlan =
  | {
      rule: 'documents';
      valDocuments: number;
      /** 1 = val, 0 = train, by kept-document index */ isVal: Uint8Array;
    }
  | { rule: 'single-document'; trainCharacters: number; valCharacters: number };

export function planSplit(documentCharacters: readonly number[], valRatio: number, seed: number): SplitPlan {
  if (!(valRatio >= 0 && valRatio < 1)) throw new Error(`the val ratio must be in [0, 1), not ${valRatio}`);
  const n = documentCharacters.length;
  if (n === 0) throw new Error('no documents to split');
  if (n === 1) {
    const chars = documentCharacters[0]!;
    const trainCharacters = Math.floor(chars * (1 - valRatio));
    return { rule: 'single-document', trainCharacters, valCharacters: chars - trainCharacters };
  }
  const isVal = new Uint8Array(n);
  const k = valRatio === 0 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * valRatio)));
  // Partial Fisher–Yates: the first k entries of a seeded permutation go to val.
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const prng = new Prng(seed ^ 0x73706c74);
  for (let i = 0; i < k; i++) {
    const j = i + prng.below(n - i);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
    isVal[order[i]!] = 1;
  }
  return { rule: 'documents', valDocuments: k, isVal };
}
