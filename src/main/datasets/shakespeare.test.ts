import { readFileSync } from 'node:fs';
import { Tiktoken } from 'js-tiktoken/lite';
import gpt2Ranks from 'js-tiktoken/ranks/gpt2';
import { describe, expect, it } from 'vitest';
import {
  WordCounter,
  charTokenizerFromText,
  gpt2Tokenizer,
  trainBpeTokenizer,
} from '../../shared/tokenizers/tokenizer.ts';

/** The shared tokenizers on the real tiny-shakespeare (the shared tests cannot read files). */
const SHAKESPEARE = readFileSync('/work/shared/data/tinyshakespeare.txt', 'utf8');

describe('tokenizers on tiny-shakespeare', () => {
  it('char: nanoGPT’s vocabulary, 65 sorted characters', () => {
    const t = charTokenizerFromText(SHAKESPEARE);
    expect(t.vocabSize).toBe(65);
    const chars = (t.toFile() as { chars: string[] }).chars;
    expect(chars.slice(0, 3)).toEqual(['\n', ' ', '!']);
    expect(chars.join('')).toBe([...new Set(SHAKESPEARE)].sort().join(''));
    expect(t.decode(t.encode(SHAKESPEARE))).toBe(SHAKESPEARE);
  });

  it('gpt2: the same 338,025 ids as js-tiktoken', async () => {
    const ids = (await gpt2Tokenizer()).encode(SHAKESPEARE);
    expect(ids).toHaveLength(338_025);
    expect(ids).toEqual(new Tiktoken(gpt2Ranks).encode(SHAKESPEARE, [], []));
  });

  it('bpe: trains 4,096 tokens on 1 MB in well under a few seconds and round-trips', () => {
    const wc = new WordCounter();
    wc.addText(SHAKESPEARE);
    const t0 = performance.now();
    const t = trainBpeTokenizer(wc.counts, 4096);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(t.vocabSize).toBe(4096);
    const ids = t.encode(SHAKESPEARE);
    expect(ids.length).toBeLessThan(SHAKESPEARE.length / 3);
    expect(t.decode(ids)).toBe(SHAKESPEARE);
  });
});
