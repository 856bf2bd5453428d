/**
 * GPT-2's pre-tokenizer: the regex that cuts text into "words" before byte-level BPE runs inside each
 * of them (so merges never cross a word boundary). Same pattern as OpenAI's GPT-2 encoder and
 * tiktoken's "gpt2"/"r50k_base" encodings.
 *
 * Every character is matched by one of the alternatives, so the pieces always concatenate back to
 * the input.
 */
export const GPT2_PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

export function pretokenizer(pattern: string = GPT2_PATTERN): RegExp {
  return new RegExp(pattern, 'gu');
}

/** All pieces of a (complete) text. */
export function splitPieces(text: string, re: RegExp = pretokenizer()): string[] {
  re.lastIndex = 0;
  const out: string[] = [];
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push(m[0]);
  return out;
}

/**
 * How far past a piece's end the regex may look to decide that piece: the longest fixed alternative
 * ("'ll", "'re", "'ve") plus one character of look-ahead. A piece that ends at least this far before
 * the end of the buffered text is final, whatever text follows.
 */
const LOOKAHEAD = 4;

/**
 * Pre-tokenizes text that arrives in chunks (a multi-GB document never sits whole in memory) and gives
 * exactly the pieces that splitting the whole text at once would give: pieces near the end of the
 * buffer wait for the next chunk, because more text could change them ("'l" + "l", "  " + "x").
 */
export class StreamPretokenizer {
  readonly #re: RegExp;
  #carry = '';

  constructor(pattern: string = GPT2_PATTERN) {
    this.#re = pretokenizer(pattern);
  }

  /** Calls `piece` for every piece that is final; keeps the rest for later. */
  push(text: string, piece: (p: string) => void): void {
    const buf = this.#carry + text;
    const limit = buf.length - LOOKAHEAD;
    const re = this.#re;
    re.lastIndex = 0;
    let committed = 0;
    for (let m = re.exec(buf); m !== null; m = re.exec(buf)) {
      const end = m.index + m[0].length;
      if (end > limit) break;
      piece(m[0]);
      committed = end;
    }
    this.#carry = committed === 0 ? buf : buf.slice(committed);
  }

  /** The text ended: every remaining piece is final. */
  end(piece: (p: string) => void): void {
    const buf = this.#carry;
    this.#carry = '';
    const re = this.#re;
    re.lastIndex = 0;
    for (let m = re.exec(buf); m !== null; m = re.exec(buf)) piece(m[0]);
  }
}
