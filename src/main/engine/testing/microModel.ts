import type { ResolvedModelConfig } from '../../../shared/engine/config.ts';

/** A GPT small enough to run a whole step in milliseconds: width 8, two heads, 5 tokens of 11, no dropout. */
export function microModel(nLayer: number): ResolvedModelConfig {
  return { nLayer, nHead: 2, nEmbd: 8, blockSize: 5, vocabSize: 11, dropout: 0, bias: true };
}
