import { ByteBpe } from './byteBpe.ts';

/**
 * GPT-2's encoding (50,257 tokens, <|endoftext|> = 50256) from the ranks js-tiktoken ships: no
 * network, no download. The ranks (~1 MB of JavaScript) are imported lazily, on first use.
 *
 * tiktoken merges the adjacent parts whose concatenated bytes have the lowest rank. We express that
 * as pair merges: for each token, every split of its bytes into two tokens is a merge to it. The
 * encoder then gives exactly tiktoken's ids (the tests compare both on many texts).
 */
export const GPT2_VOCAB_SIZE = 50257;
export const GPT2_EOT = 50256;
export const GPT2_EOT_TEXT = '<|endoftext|>';

let loading: Promise<ByteBpe> | undefined;

export function loadGpt2(): Promise<ByteBpe> {
  loading ??= import('js-tiktoken/ranks/gpt2').then((m) => buildGpt2(m.default));
  return loading;
}

interface TiktokenRanks {
  pat_str: string;
  special_tokens: Record<string, number>;
  bpe_ranks: string;
}

function buildGpt2(ranks: TiktokenRanks): ByteBpe {
  // bpe_ranks: lines of "<anything> <offset> <base64 token> <base64 token> …", ranks counting up from offset.
  const bytesById: Uint8Array[] = [];
  for (const line of ranks.bpe_ranks.split('\n')) {
    if (!line) continue;
    const parts = line.split(' ');
    const offset = Number.parseInt(parts[1]!, 10);
    for (let i = 2; i < parts.length; i++) bytesById[offset + i - 2] = base64ToBytes(parts[i]!);
  }
  const idByBytes = new Map<string, number>();
  bytesById.forEach((b, id) => idByBytes.set(latin1(b), id));
  const byteIds = new Array<number>(256);
  for (let b = 0; b < 256; b++) {
    const id = idByBytes.get(String.fromCharCode(b));
    if (id === undefined) throw new Error(`GPT-2 ranks have no token for byte ${b}`);
    byteIds[b] = id;
  }
  // Every split of a token into two tokens is a merge to it, whatever the ranks of the halves.
  const merges: [number, number, number][] = [];
  bytesById.forEach((bytes, id) => {
    if (bytes.length < 2) return;
    const s = latin1(bytes);
    for (let k = 1; k < s.length; k++) {
      const left = idByBytes.get(s.slice(0, k));
      const right = idByBytes.get(s.slice(k));
      if (left !== undefined && right !== undefined) merges.push([left, right, id]);
    }
  });
  const specialTokens = ranks.special_tokens;
  if (specialTokens[GPT2_EOT_TEXT] !== GPT2_EOT || bytesById.length !== GPT2_EOT) {
    throw new Error('js-tiktoken GPT-2 ranks are not the expected 50,257-token encoding');
  }
  return new ByteBpe({
    byteIds,
    merges,
    tokenBytes: bytesById,
    specialTokens,
    vocabSize: GPT2_VOCAB_SIZE,
    pattern: ranks.pat_str,
  });
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

function base64ToBytes(s: string): Uint8Array {
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (let i = 0; i < clean.length; i++) {
    const v = B64_INDEX[clean.charCodeAt(i)]!;
    if (v < 0) throw new Error(`invalid base64 in GPT-2 ranks: ${s}`);
    value = (value << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  return out;
}
