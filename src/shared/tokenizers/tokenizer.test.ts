import { Tiktoken } from 'js-tiktoken/lite';
import gpt2Ranks from 'js-tiktoken/ranks/gpt2';
import { describe, expect, it } from 'vitest';
import { BpeTrainer } from './bpeTrainer.ts';
import { UnknownCharacterError } from './charTokenizer.ts';
import { GPT2_PATTERN, StreamPretokenizer, splitPieces } from './pretokenize.ts';
import {
  WordCounter,
  bpeTokenizer,
  charTokenizerFromText,
  gpt2Tokenizer,
  loadTokenizer,
  parseTokenizerSpec,
  tokenPieces,
  trainBpeTokenizer,
  type Tokenizer,
} from './tokenizer.ts';

/**
 * A deterministic English-like corpus (~150 KB): sentences of common words with punctuation,
 * contractions, numbers, capitals and paragraphs. (Tests on tiny-shakespeare itself live in
 * src/main/datasets, which may read files.)
 */
const CORPUS = (() => {
  const words =
    'the and to of a my in you that is not with his be your for have it me he this thou but as so will what her thy lord by all shall do no him are king good now sir come let our o more if then love they which well'.split(
      ' ',
    );
  let state = 12345;
  const next = (n: number): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  const out: string[] = [];
  for (let p = 0; out.join('').length < 150_000; p++) {
    out.push(`${['FIRST CITIZEN', 'KING RICHARD', 'JULIET', 'ROMEO'][next(4)]}:\n`);
    for (let s = 0; s < 1 + next(4); s++) {
      const n = 3 + next(12);
      const sentence = Array.from({ length: n }, () => words[next(words.length)]!);
      sentence[0] = sentence[0]![0]!.toUpperCase() + sentence[0]!.slice(1);
      if (next(5) === 0) sentence.push(["I'll", "'tis", "don't", 'thee'][next(4)]!);
      if (next(9) === 0) sentence.push(String(next(2000)));
      out.push(`${sentence.join(' ')}${['.', ',', '!', '?', ';'][next(5)]}\n`);
    }
    out.push('\n');
  }
  return out.join('');
})();

/** Texts every tokenizer must round-trip. */
const HARD_TEXTS = [
  '',
  ' ',
  '\n',
  '     \n\n\t\t  \r\n   ',
  'Hello, world!',
  'emoji: 👋🏽 👨‍👩‍👧‍👦 🇫🇷 🏳️‍🌈',
  'combining: e\u0301 a\u0308\u0323 n\u0303 (not NFC) and é (NFC)',
  'CJK: 中文字符 日本語のテキスト 한국어 텍스트',
  "contractions: it's we're they've I'm you'll he'd don't",
  'numbers 1234567890 3.14159 1e-9',
  'mixed\u00a0spaces\u2003and\u200bzero-width',
  'a'.repeat(300),
  ' '.repeat(200) + 'x',
  '<|endoftext|> is just text here',
  'Ω≈ç√∫˜µ≤≥÷ 𝕏𝕐ℤ 𐍈',
];

function corpusTokenizerInputs(): string {
  return [CORPUS.slice(0, 200_000), ...HARD_TEXTS].join('\n');
}

describe('pre-tokenizer', () => {
  it('pieces concatenate back to the text, GPT-2 style', () => {
    const text = "Hello world's  end\n\n  x 123 ,,,";
    const pieces = splitPieces(text);
    expect(pieces.join('')).toBe(text);
    // A whitespace run gives its last space to the next word ("\n\n " + " x").
    expect(pieces).toEqual(['Hello', ' world', "'s", ' ', ' end', '\n\n ', ' x', ' 123', ' ,,,']);
  });

  it('streaming gives the same pieces for every chunking', () => {
    const text = "It'll be  fine,\n\n  they've said  'll 42  x\r\n" + HARD_TEXTS.join(' ');
    const whole = splitPieces(text);
    for (const size of [1, 2, 3, 5, 7, 64]) {
      const out: string[] = [];
      const s = new StreamPretokenizer(GPT2_PATTERN);
      for (let i = 0; i < text.length; i += size) {
        let end = Math.min(text.length, i + size);
        // never split a surrogate pair (the reader never does)
        if (end < text.length && text.charCodeAt(end) >= 0xdc00 && text.charCodeAt(end) <= 0xdfff) end++;
        s.push(text.slice(i, end), (p) => out.push(p));
        i = end - size;
      }
      s.end((p) => out.push(p));
      expect(out, `chunk size ${size}`).toEqual(whole);
    }
  });
});

describe('char tokenizer', () => {
  it('sorts by code point (astral after U+FFFF), like Python', () => {
    const t = charTokenizerFromText('\uffff😀a');
    expect((t.toFile() as { chars: string[] }).chars).toEqual(['a', '\uffff', '😀']);
  });

  it('round-trips every hard text it was built from', () => {
    const t = charTokenizerFromText(HARD_TEXTS.join(''));
    for (const text of HARD_TEXTS) expect(t.decode(t.encode(text))).toBe(text);
    // one token per code point
    expect(t.encode('👋🏽')).toHaveLength(2);
  });

  it('names the character it does not know', () => {
    const t = charTokenizerFromText('abc');
    expect(() => t.encode('abz')).toThrow(UnknownCharacterError);
    expect(() => t.encode('ab😀')).toThrow(/'😀' \(U\+1F600\) at position 2/);
    try {
      t.encode('a\tb');
    } catch (e) {
      expect((e as UnknownCharacterError).character).toBe('\t');
      expect((e as Error).message).toContain('U+0009');
    }
    expect.assertions(4);
  });
});

describe('byte-level BPE', () => {
  it('learns the textbook merges on a tiny corpus', () => {
    // Words "low" ×5, "lower" ×2, "newest" ×6, "widest" ×3 (Sennrich et al.): first merges are "es", "est".
    const trainer = new BpeTrainer(
      [
        ['low', 5],
        ['lower', 2],
        ['newest', 6],
        ['widest', 3],
      ],
      3,
    );
    trainer.run();
    const bytes = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
    const [m1, m2, m3] = trainer.merges;
    expect([m1!.left, m1!.right, m1!.count]).toEqual([...bytes('es'), 9]);
    expect([m2!.left, m2!.right, m2!.count]).toEqual([256, bytes('t')[0], 9]);
    expect(m3!.count).toBe(7); // "lo" (5 + 2) beats "st…" pairs that are gone
  });

  it('learns exactly the merges a naive full recount would learn', () => {
    const wc = new WordCounter();
    wc.addText(CORPUS.slice(0, 30_000) + ' aaaa aaaaa abababab ' + HARD_TEXTS.join(' '));
    const fast = new BpeTrainer(wc.counts, 150);
    fast.run();
    // Naive reference: recount every pair of every word for each merge (ties: smaller left, then right).
    let words = [...wc.counts].map(([w, n]) => ({ ids: [...new TextEncoder().encode(w)], n }));
    const naive: [number, number][] = [];
    for (let id = 256; id < 256 + 150; id++) {
      const counts = new Map<string, number>();
      for (const { ids, n } of words)
        for (let i = 0; i + 1 < ids.length; i++)
          counts.set(`${ids[i]},${ids[i + 1]}`, (counts.get(`${ids[i]},${ids[i + 1]}`) ?? 0) + n);
      let best: [number, number, number] | null = null;
      for (const [k, c] of counts) {
        const [a, b] = k.split(',').map(Number) as [number, number];
        if (!best || c > best[2] || (c === best[2] && (a < best[0] || (a === best[0] && b < best[1]))))
          best = [a, b, c];
      }
      if (!best) break;
      naive.push([best[0], best[1]]);
      words = words.map(({ ids, n }) => {
        const out: number[] = [];
        for (let i = 0; i < ids.length; i++) {
          if (i + 1 < ids.length && ids[i] === best[0] && ids[i + 1] === best[1]) {
            out.push(id);
            i++;
          } else out.push(ids[i]!);
        }
        return { ids: out, n };
      });
    }
    expect(fast.merges.map((m) => [m.left, m.right])).toEqual(naive);
  });

  it('trains to the requested vocab size, round-trips and reloads from tokenizer.json', async () => {
    const wc = new WordCounter();
    wc.addText(corpusTokenizerInputs());
    const t = trainBpeTokenizer(wc.counts, 1000);
    expect(t.vocabSize).toBe(1000);
    expect(t.endOfText).toBe(999);
    for (const text of HARD_TEXTS) expect(t.decode(t.encode(text))).toBe(text);
    const again = await loadTokenizer(JSON.parse(JSON.stringify(t.toFile())));
    const sample = CORPUS.slice(0, 5000) + HARD_TEXTS.join('|');
    expect(again.encode(sample)).toEqual(t.encode(sample));
    expect(again.decode(t.encode(sample))).toBe(sample);
    // compresses: fewer tokens than bytes
    expect(t.encode(CORPUS.slice(0, 10_000)).length).toBeLessThan(5000);
  });

  it('is deterministic', () => {
    const wc = new WordCounter();
    wc.addText(CORPUS.slice(0, 100_000));
    const a = trainBpeTokenizer(wc.counts, 600).toFile();
    const b = trainBpeTokenizer(wc.counts, 600).toFile();
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('encodes long pieces (heap merge) exactly like short ones', () => {
    const wc = new WordCounter();
    wc.addText('aaaa bbbb abab ' + 'aab '.repeat(50));
    const t = trainBpeTokenizer(wc.counts, 270);
    // A 65+ byte run goes through the heap path; the same text as 8-byte pieces through the scan.
    const long = 'aab'.repeat(40);
    const ids = t.encode(long);
    expect(t.decode(ids)).toBe(long);
    // Reference: lowest-rank-first merging done naively on the byte list.
    const file = t.toFile() as { merges: [number, number][] };
    const rank = new Map(file.merges.map(([a, b], i) => [`${a},${b}`, 256 + i]));
    let ref = [...new TextEncoder().encode(long)];
    for (;;) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i + 1 < ref.length; i++) {
        const r = rank.get(`${ref[i]},${ref[i + 1]}`);
        if (r !== undefined && r < best) {
          best = r;
          at = i;
        }
      }
      if (at < 0) break;
      ref = [...ref.slice(0, at), best, ...ref.slice(at + 2)];
    }
    expect(ids.length).toBeLessThan(long.length);
    expect(ids).toEqual(ref);
  });

  it('rejects a bad spec clearly', () => {
    expect(parseTokenizerSpec('bpe:4096')).toEqual({ kind: 'bpe', vocabSize: 4096 });
    expect(() => parseTokenizerSpec('bpe:100')).toThrow(/258 to/);
    expect(() => parseTokenizerSpec('sentencepiece')).toThrow(/use char, gpt2 or bpe/);
  });
});

describe('gpt2', () => {
  it('loads offline and gives exactly js-tiktoken’s ids', async () => {
    const t = await gpt2Tokenizer();
    const ref = new Tiktoken(gpt2Ranks);
    expect(t.vocabSize).toBe(50257);
    expect(t.endOfText).toBe(50256);
    for (const text of [...HARD_TEXTS, CORPUS.slice(0, 50_000)]) {
      expect(t.encode(text)).toEqual(ref.encode(text, [], []));
    }
    expect(t.encode('Hello world')).toEqual([15496, 995]);
  });

  it('round-trips the hard texts and reloads from tokenizer.json', async () => {
    const t = await gpt2Tokenizer();
    for (const text of HARD_TEXTS) expect(t.decode(t.encode(text))).toBe(text);
    const again = await loadTokenizer(t.toFile());
    expect(again.encode('round trip ✓')).toEqual(t.encode('round trip ✓'));
  });
});

describe('every tokenizer', () => {
  async function all(): Promise<Tokenizer[]> {
    const wc = new WordCounter();
    wc.addText(corpusTokenizerInputs());
    return [
      charTokenizerFromText(corpusTokenizerInputs()),
      trainBpeTokenizer(wc.counts, 800),
      await gpt2Tokenizer(),
    ];
  }

  it('stream encoding equals encoding the whole text', async () => {
    const text = CORPUS.slice(0, 20_000) + HARD_TEXTS.join('  \n');
    for (const t of await all()) {
      const whole = t.encode(text);
      for (const size of [1, 3, 1000]) {
        const enc = t.streamEncoder();
        const out: number[] = [];
        for (let i = 0; i < text.length; i += size) {
          let end = Math.min(text.length, i + size);
          if (end < text.length && text.charCodeAt(end) >= 0xdc00 && text.charCodeAt(end) <= 0xdfff) end++;
          enc.push(text.slice(i, end), out);
          i = end - size;
        }
        enc.end(out);
        expect(out, `${t.kind} chunk ${size}`).toEqual(whole);
      }
    }
  });

  it('token pieces cover the sample for the preview', async () => {
    const sample = 'Hi 👋🏽 e\u0301 中文!';
    for (const t of await all()) {
      const pieces = tokenPieces(t, sample);
      expect(pieces.map((p) => p.id)).toEqual(t.encode(sample));
      expect(pieces[0]!.start).toBe(0);
      expect(pieces.at(-1)!.end).toBe(sample.length);
      for (const p of pieces) expect(p.end).toBeGreaterThanOrEqual(p.start);
      // whole-character tokens show their text
      expect(pieces.some((p) => p.text.includes('Hi') || p.text === 'H')).toBe(true);
    }
    expect(tokenPieces(charTokenizerFromText(''), '')).toEqual([]);
  });

  it('refuses a broken tokenizer.json with the reason', async () => {
    await expect(
      loadTokenizer({ format: 'xai-link-tokenizer', version: 1, kind: 'char', vocabSize: 2, chars: ['a'] }),
    ).rejects.toThrow(/vocabSize 2/);
    await expect(loadTokenizer({ kind: 'wordpiece' })).rejects.toThrow(/not a valid tokenizer.json/);
    await expect(
      loadTokenizer({
        format: 'xai-link-tokenizer',
        version: 1,
        kind: 'char',
        vocabSize: 2,
        chars: ['a', 'a'],
      }),
    ).rejects.toThrow(/twice/);
    expect(() => bpeTokenizer([[300, 1]])).toThrow(/not defined before/);
  });
});
