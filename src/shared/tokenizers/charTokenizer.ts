import { describeCharacter, isHighSurrogate, isLowSurrogate } from './text.ts';

/** A character the char tokenizer's vocabulary does not have. */
export class UnknownCharacterError extends Error {
  readonly character: string;
  /** Code-point index in the encoded text (or in the stream so far). */
  readonly index: number;

  constructor(character: string, index: number) {
    super(
      `character ${describeCharacter(character)} at position ${index} is not in the char tokenizer's vocabulary; ` +
        'a char tokenizer only knows the characters of the dataset it was built from',
    );
    this.name = 'UnknownCharacterError';
    this.character = character;
    this.index = index;
  }
}

/**
 * nanoGPT's shakespeare_char tokenizer: the vocabulary is the sorted set of the characters (Unicode
 * code points, as Python's sorted(set(text)) gives them) and a character's id is its index.
 */
export class CharTokenizer {
  readonly chars: readonly string[];
  readonly #bmp = new Int32Array(0x10000).fill(-1);
  readonly #astral = new Map<number, number>();

  constructor(chars: readonly string[]) {
    this.chars = chars;
    chars.forEach((ch, id) => {
      const cp = ch.codePointAt(0);
      if (cp === undefined || String.fromCodePoint(cp) !== ch)
        throw new Error(`char vocabulary entry ${id} is not a single character: ${JSON.stringify(ch)}`);
      if (this.#lookup(cp) !== -1) throw new Error(`char vocabulary lists ${describeCharacter(ch)} twice`);
      if (cp < 0x10000) this.#bmp[cp] = id;
      else this.#astral.set(cp, id);
    });
  }

  /** Vocabulary of a text: its distinct code points, sorted by code point. */
  static vocabularyOf(codePoints: Iterable<number>): string[] {
    return [...new Set(codePoints)].sort((a, b) => a - b).map((cp) => String.fromCodePoint(cp));
  }

  static fromText(text: string): CharTokenizer {
    const seen = new CodePointSet();
    seen.addText(text);
    return new CharTokenizer(CharTokenizer.vocabularyOf(seen.values()));
  }

  get vocabSize(): number {
    return this.chars.length;
  }

  #lookup(cp: number): number {
    return cp < 0x10000 ? this.#bmp[cp]! : (this.#astral.get(cp) ?? -1);
  }

  encode(text: string): number[] {
    const out: number[] = [];
    this.encodeInto(text, out, 0);
    return out;
  }

  /** Appends the ids of `text` to `out`; `offset` is the code-point index of text[0] (for error messages). */
  encodeInto(text: string, out: number[], offset: number): number {
    let cpIndex = offset;
    for (let i = 0; i < text.length; i++) {
      let cp = text.charCodeAt(i);
      if (isHighSurrogate(cp) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
        cp = text.codePointAt(i)!;
        i++;
      }
      const id = this.#lookup(cp);
      if (id < 0) throw new UnknownCharacterError(String.fromCodePoint(cp), cpIndex);
      out.push(id);
      cpIndex++;
    }
    return cpIndex;
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const ch = this.chars[ids[i]!];
      if (ch === undefined)
        throw new Error(`token id ${ids[i]} is not in this char vocabulary (size ${this.chars.length})`);
      s += ch;
    }
    return s;
  }
}

/** The distinct code points of a stream of text (ASCII in a bit table, the rest in a Set). */
export class CodePointSet {
  readonly #ascii = new Uint8Array(128);
  readonly #other = new Set<number>();

  addText(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 128) {
        this.#ascii[c] = 1;
        continue;
      }
      if (isHighSurrogate(c) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
        this.#other.add(text.codePointAt(i)!);
        i++;
      } else this.#other.add(c);
    }
  }

  *values(): Generator<number> {
    for (let c = 0; c < 128; c++) if (this.#ascii[c]) yield c;
    yield* this.#other;
  }
}
