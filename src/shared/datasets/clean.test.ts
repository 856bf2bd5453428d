import { describe, expect, it } from 'vitest';
import { DocumentCleaner, type CleaningOptions, type Verdict } from './clean.ts';
import { MinHasher, NearDuplicateIndex, estimateJaccard, optimalBands } from './minhash.ts';
import { Prng } from './prng.ts';
import { planSplit } from './split.ts';

const base: CleaningOptions = {
  lowercase: false,
  minChars: 0,
  maxChars: null,
  dedup: false,
  nearDup: null,
  seed: 1,
};

function run(
  opts: Partial<CleaningOptions>,
  docs: string[],
): { texts: string[]; verdicts: Verdict[]; cleaner: DocumentCleaner } {
  const cleaner = new DocumentCleaner({ ...base, ...opts }, (i) => `doc${i}`);
  const texts: string[] = [];
  const verdicts: Verdict[] = [];
  docs.forEach((d, i) => {
    const doc = cleaner.begin(i);
    let text = doc.push(d);
    const end = doc.end();
    text += end.text;
    texts.push(text);
    verdicts.push(end.verdict);
  });
  return { texts, verdicts, cleaner };
}

/** A paragraph of n pseudo-random words (deterministic). */
function paragraph(seed: number, n = 120): string[] {
  const prng = new Prng(seed);
  const words = [
    'river',
    'stone',
    'light',
    'crown',
    'sword',
    'night',
    'glass',
    'field',
    'storm',
    'bread',
    'honey',
    'iron',
    'queen',
    'ghost',
    'wheat',
    'cloud',
    'ember',
    'frost',
    'grain',
    'heart',
  ];
  return Array.from({ length: n }, () => words[prng.below(words.length)]! + prng.below(50));
}

describe('cleaning', () => {
  it('normalises newlines and Unicode to NFC, repairs lone surrogates, lower-cases on request', () => {
    const { texts, cleaner } = run({ lowercase: true }, ['Cafe\u0301\r\nLine\rEnd', 'ΟΔΟΣ \uD800x', 'plain']);
    expect(texts[0]).toBe('café\nline\nend');
    expect(texts[1]).toBe('οδος \uFFFDx');
    const r = cleaner.report();
    expect(r.normalizedDocuments).toBe(2);
    expect(r.lowercasedDocuments).toBe(2);
  });

  it('cleans a document that arrives in chunks exactly like a whole one (CRLF and combining marks across chunk edges)', () => {
    const raw = 'A\u030a line\r\n'.repeat(5000) + 'tail e\u0301';
    const whole = run({}, [raw]).texts[0];
    const cleaner = new DocumentCleaner(base, String);
    const doc = cleaner.begin(0);
    let out = '';
    for (let i = 0; i < raw.length; i += 997) out += doc.push(raw.slice(i, i + 997));
    out += doc.end().text;
    expect(out).toBe(whole);
    expect(out).toBe(raw.replace(/\r\n/g, '\n').normalize('NFC'));
  });

  it('removes empty, too short and too long documents and reports each step', () => {
    const { verdicts, cleaner } = run({ minChars: 5, maxChars: 10 }, [
      ' \n\t ',
      'abc',
      'just right',
      'much too long here',
      'okay!',
    ]);
    expect(verdicts.map((v) => (v.kept ? 'kept' : v.reason))).toEqual([
      'empty',
      'min-chars',
      'kept',
      'max-chars',
      'kept',
    ]);
    const r = cleaner.report();
    expect(r.documentsIn).toBe(5);
    expect(r.documentsOut).toBe(2);
    const step = (s: string) => r.steps.find((x) => x.step === s)!;
    expect(step('min-chars')).toMatchObject({ enabled: true, removedDocuments: 1, removedCharacters: 3 });
    expect(step('max-chars').examples[0]).toMatchObject({ document: 'doc3', preview: 'much too long here' });
    expect(step('exact-dedup').enabled).toBe(false);
  });

  it('counts characters as code points', () => {
    const { verdicts } = run({ minChars: 3 }, ['😀😀', '😀😀😀']);
    expect(verdicts.map((v) => v.kept)).toEqual([false, true]);
    expect(verdicts[1]!.characters).toBe(3);
  });

  it('removes exact duplicates after normalisation, keeping the first', () => {
    const { verdicts, cleaner } = run({ dedup: true }, [
      'Hello\r\nworld',
      'other',
      'Hello\nworld',
      'other',
      'Hello\nworld!',
    ]);
    expect(verdicts.map((v) => v.kept)).toEqual([true, true, false, false, true]);
    expect(verdicts[2]).toMatchObject({ reason: 'exact-dedup', duplicateOf: 0 });
    expect(cleaner.report().steps.find((s) => s.step === 'exact-dedup')!.examples[0]).toMatchObject({
      document: 'doc2',
      duplicateOf: 'doc0',
    });
  });

  it('without dedup, duplicates stay', () => {
    expect(run({}, ['same', 'same']).verdicts.every((v) => v.kept)).toBe(true);
  });

  it('removes near-duplicates above the threshold and keeps different documents', () => {
    const a = paragraph(1);
    const nearA = [...a];
    nearA[60] = 'changed';
    nearA[61] = 'words';
    const veryDifferentA = [...a.slice(0, 40), ...paragraph(9, 80)];
    const docs = [
      a.join(' '),
      paragraph(2).join(' '),
      nearA.join(' '),
      veryDifferentA.join(' '),
      a.join(' ').toUpperCase(),
    ];
    const { verdicts, cleaner } = run({ nearDup: 0.8 }, docs);
    expect(verdicts.map((v) => (v.kept ? 'kept' : v.reason))).toEqual([
      'kept',
      'kept',
      'near-dedup',
      'kept',
      'near-dedup',
    ]);
    expect(verdicts[2]).toMatchObject({ duplicateOf: 0 });
    expect((verdicts[2] as { similarity: number }).similarity).toBeGreaterThan(0.8);
    const r = cleaner.report();
    expect(r.nearDuplicates).toMatchObject({ threshold: 0.8, numPerm: 128, shingleWords: 5 });
    expect(r.steps.find((s) => s.step === 'near-dedup')!.removedDocuments).toBe(2);
  });

  it('a lower threshold catches looser copies', () => {
    const a = paragraph(3);
    const b = [...a];
    for (let i = 0; i < b.length; i += 12) b[i] = 'x'; // ~8% of words changed: Jaccard ≈ 0.55–0.65
    expect(run({ nearDup: 0.9 }, [a.join(' '), b.join(' ')]).verdicts[1]!.kept).toBe(true);
    expect(run({ nearDup: 0.4 }, [a.join(' '), b.join(' ')]).verdicts[1]!.kept).toBe(false);
  });
});

describe('MinHash', () => {
  it('estimates Jaccard similarity and is deterministic per seed', () => {
    const h = new MinHasher({ seed: 7 });
    const words = paragraph(5, 400);
    const half = [...words.slice(0, 200), ...paragraph(6, 200)];
    const sa = h.signature(words.join(' '))!;
    const sb = h.signature(half.join(' '))!;
    const j = estimateJaccard(sa, sb);
    // True 5-gram Jaccard ≈ 196 / (396 + 200) ≈ 0.33.
    expect(j).toBeGreaterThan(0.2);
    expect(j).toBeLessThan(0.45);
    expect([...new MinHasher({ seed: 7 }).signature(words.join(' '))!]).toEqual([...sa]);
    expect([...new MinHasher({ seed: 8 }).signature(words.join(' '))!]).not.toEqual([...sa]);
    expect(h.signature('... !!! ---')).toBeNull();
  });

  it('streamed signatures equal whole ones (words cut by chunk edges)', () => {
    const h = new MinHasher({ seed: 3 });
    const text = paragraph(4, 300).join(' ');
    const d = h.begin();
    for (let i = 0; i < text.length; i += 13) d.update(text.slice(i, i + 13));
    expect([...d.finish()!]).toEqual([...h.signature(text)!]);
  });

  it('picks LSH bands that make the threshold the S-curve’s steep part', () => {
    const { bands, rows } = optimalBands(0.8, 128);
    expect(bands * rows).toBeLessThanOrEqual(128);
    const p = (s: number): number => 1 - (1 - s ** rows) ** bands;
    expect(p(0.9)).toBeGreaterThan(0.95);
    expect(p(0.4)).toBeLessThan(0.1);
    const index = new NearDuplicateIndex(0.8, 128);
    expect(() => new NearDuplicateIndex(0, 128)).toThrow(/threshold/);
    expect(index.bands).toBe(bands);
  });
});

describe('split', () => {
  it('single document: nanoGPT’s first 90% / last 10% by characters', () => {
    expect(planSplit([1_115_394], 0.1, 1)).toEqual({
      rule: 'single-document',
      trainCharacters: 1_003_854,
      valCharacters: 111_540,
    });
    expect(planSplit([10], 0, 1)).toEqual({ rule: 'single-document', trainCharacters: 10, valCharacters: 0 });
  });

  it('by document: round(n·val) seeded picks, at least one, deterministic', () => {
    const plan = planSplit(new Array(1000).fill(5), 0.1, 42);
    if (plan.rule !== 'documents') throw new Error('expected documents');
    expect(plan.valDocuments).toBe(100);
    expect(plan.isVal.reduce((s, x) => s + x, 0)).toBe(100);
    const again = planSplit(new Array(1000).fill(5), 0.1, 42);
    expect(again).toEqual(plan);
    const other = planSplit(new Array(1000).fill(5), 0.1, 43);
    expect(other).not.toEqual(plan);
    const two = planSplit([3, 4], 0.1, 1);
    expect(two.rule === 'documents' && two.valDocuments).toBe(1);
    const none = planSplit([3, 4, 5], 0, 1);
    expect(none.rule === 'documents' && none.valDocuments).toBe(0);
    expect(() => planSplit([], 0.1, 1)).toThrow(/no documents/);
  });
});
