/**
 * Small Unicode helpers shared by the tokenizers and the dataset cleaner. Pure: they run in Node and
 * in the browser (TextEncoder/TextDecoder only).
 */
export const utf8Encoder = new TextEncoder();
/** Lenient: invalid bytes become U+FFFD (used for the text of a single token, which may be a partial character). */
export const lenientUtf8Decoder = new TextDecoder('utf-8');

/** Number of code points (what Python's len() counts, and what nanoGPT's char split counts). */
export function countCodePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low surrogate is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** UTF-16 index of the code point with the given code-point index (s.length when past the end). */
export function indexOfCodePoint(s: string, codePointIndex: number): number {
  let cp = 0;
  let i = 0;
  while (i < s.length && cp < codePointIndex) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1)) ? 2 : 1;
    cp++;
  }
  return i;
}

export function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

export function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Replaces lone surrogates (possible in JSON strings, impossible in UTF-8) with U+FFFD; returns the count. */
export function toWellFormed(s: string): { text: string; replaced: number } {
  let replaced = 0;
  const text = s.replace(LONE_SURROGATE, () => {
    replaced++;
    return '\uFFFD';
  });
  return { text, replaced };
}

/** "'a' (U+0061)": how error messages name a character. */
export function describeCharacter(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  const printable = /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(ch) ? `'${ch}'` : JSON.stringify(ch);
  return `${printable} (${hex})`;
}
