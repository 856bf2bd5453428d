/**
 * The documents a claim publishes to IPFS, built through the claims/evaluation engineers' own schemas
 * (src/shared/eval/report.ts, src/shared/claims/claim.ts), so the Functions source is tested against the
 * formats the app really writes: a change there fails these tests.
 */
import type { Hex } from 'viem';
import type { LocalAccount } from 'viem/accounts';
import {
  attestationTypedData,
  improvementToJson,
  type Improvement,
  type RegistryDomain,
} from '../../../src/shared/chain/eip712.ts';
import {
  ATTESTATION_FORMAT,
  attestationFileSchema,
  type AttestationFile,
} from '../../../src/shared/claims/claim.ts';
import { EVALUATOR_NAME, EVALUATOR_VERSION, valueOfScore } from '../../../src/shared/eval/metrics.ts';
import {
  EVALUATION_FORMAT,
  evaluationReportSchema,
  type EvaluationReport,
} from '../../../src/shared/eval/report.ts';

const SHA = (c: string) => c.repeat(64);

/** An evaluation report of `modelCid` whose bits-per-byte score is `score` (10^6 fixed point). */
export function evaluationReport(modelCid: string, score: bigint): EvaluationReport {
  return evaluationReportSchema.parse({
    format: EVALUATION_FORMAT,
    version: 1,
    evaluator: {
      name: EVALUATOR_NAME,
      version: EVALUATOR_VERSION,
      onnxRuntime: '1.30.0',
      settings: {
        provider: 'cpu',
        intraOpThreads: 1,
        executionMode: 'sequential',
        graphOptimization: 'all',
        batchWindows: 8,
        maxTokens: 262_144,
      },
    },
    model: {
      cid: modelCid,
      onnxSha256: SHA('a'),
      parameters: 10_000,
      vocabSize: 65,
      tokenizer: { kind: 'char', sha256: SHA('b') },
    },
    text: { cid: 'bafkreievaltext', sha256: SHA('c'), bytes: 100_000 },
    result: {
      tokens: 4096,
      bytes: 4096,
      windows: 64,
      blockSize: 64,
      textTokens: 100_000,
      truncated: false,
      totalNats: 4096 * valueOfScore(score) * Math.LN2,
      correct: 1024,
      metrics: {
        bits_per_byte: valueOfScore(score),
        mean_loss: valueOfScore(score) * Math.LN2,
        perplexity: Math.exp(valueOfScore(score) * Math.LN2),
        top1_accuracy: 0.25,
      },
      scores: { bits_per_byte: score.toString(), top1_accuracy: '250000' },
    },
    run: { startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1000, platform: 'linux-x64', cpu: 'test' },
  });
}

export async function signAttestation(
  account: LocalAccount,
  domain: RegistryDomain,
  claim: Improvement,
): Promise<Hex> {
  return account.signTypedData(attestationTypedData(domain, claim));
}

/** A verifier's attestation file (as `xai-link verify` publishes it). */
export function attestationFile(o: {
  domain: RegistryDomain;
  claim: Improvement;
  verifier: string;
  signature: Hex;
  recomputedScore?: bigint;
}): AttestationFile {
  const recomputed = o.recomputedScore ?? o.claim.score;
  return attestationFileSchema.parse({
    format: ATTESTATION_FORMAT,
    version: 1,
    chainId: o.domain.chainId,
    registry: o.domain.verifyingContract,
    claimCid: null,
    improvement: improvementToJson(o.claim),
    attestation: { verifier: o.verifier, signature: o.signature },
    recomputed: { evaluationCid: null, score: recomputed.toString(), value: valueOfScore(recomputed) },
    evaluator: { name: EVALUATOR_NAME, version: EVALUATOR_VERSION },
    createdAt: '2026-01-01T00:00:00.000Z',
  });
}
