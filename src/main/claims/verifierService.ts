import { resolve } from 'node:path';
import { getAddress, type Address, type Hex } from 'viem';
import { ApiError } from '../../shared/api/errors.ts';
import type { LineageView } from '../../shared/api/chain.ts';
import {
  commitmentOf,
  improvementFromJson,
  improvementToJson,
  type Improvement,
} from '../../shared/chain/eip712.ts';
import { beatsBest } from '../../shared/chain/rules.ts';
import {
  ATTESTATION_FORMAT,
  attestationFileSchema,
  claimFileSchema,
  type AttestationFile,
  type ClaimFile,
  type RefusalReason,
  type VerifierCheck,
} from '../../shared/claims/claim.ts';
import { tokenMetadataSchema } from '../../shared/claims/metadata.ts';
import type { SignerSpec } from '../../shared/claims/signer.ts';
import {
  checkLineageMetric,
  DEFAULT_SCORE_TOLERANCE,
  EVALUATOR_NAME,
  EVALUATOR_VERSION,
  formatScore,
  valueOfScore,
  withinTolerance,
  type MetricSpec,
} from '../../shared/eval/metrics.ts';
import type { EvaluationReport } from '../../shared/eval/report.ts';
import { DEFAULT_ONNX_POLICY } from '../../shared/onnx/onnxPolicy.ts';
import { EvalFailure, EvalService, safeJson } from '../eval/evalService.ts';
import type { IpfsService } from '../ipfs/ipfsService.ts';
import type { ChainAccess } from './chainAccess.ts';
import { readUserFile, UserFileError } from '../util/readUserFile.ts';

/** Where a claim comes from: its CID on IPFS, a local file, or its parsed JSON. */
export type ClaimSource = { cid: string } | { file: string } | { json: unknown };

export interface Verdict {
  ok: boolean;
  claimCid: string | null;
  lineageId: number;
  modelCid: string;
  trainer: string;
  metric: string;
  claimed: { score: string; value: number };
  recomputed: { score: string; value: number; evaluationCid: string | null } | null;
  tolerance: number;
  checks: VerifierCheck[];
  refusal: { reason: RefusalReason; message: string } | null;
}

export interface VerifyOptions {
  /** The verifier who would attest: checked to be registered for the lineage. */
  verifier?: Address | null;
  /** Largest tolerance this verifier accepts (score units); claims asking for more are refused. */
  maxTolerance?: number;
  /** Publish the verifier's own evaluation report (it goes into the attestation). */
  publishReport?: boolean;
  /** Largest model file accepted (bytes); a larger model is refused before it is fetched in full. */
  maxModelBytes?: number;
  signal?: AbortSignal;
  onProgress?: (stage: string, done: number, total: number | null, unit: string) => void;
}

class Refusal extends Error {
  readonly reason: RefusalReason;
  constructor(reason: RefusalReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

const MAX_CLAIM_FILE_BYTES = 1024 * 1024;

/** A claim or attestation file named by the caller: NOT_FOUND when absent, else what is wrong with it. */
function readClaimFile(path: string, what: string): Uint8Array {
  try {
    return readUserFile(path, MAX_CLAIM_FILE_BYTES, `${what}'s JSON`);
  } catch (e) {
    if (!(e instanceof UserFileError)) throw e;
    if (e.reason === 'missing') throw new ApiError('NOT_FOUND', `${what} ${path} does not exist`);
    throw new ApiError('FAILED_PRECONDITION', e.message);
  }
}

/**
 * Verifier mode: given a claim, fetch the model and the evaluation text by CID, re-run the evaluation, and
 * check everything the contract will check (and what it cannot: the score itself) before signing an
 * Attestation. A refusal names its reason and says why; nothing is signed unless every check holds.
 */
export class VerifierService {
  readonly #eval: EvalService;
  readonly #chain: ChainAccess;
  readonly #ipfs: () => IpfsService;

  constructor(opts: { eval: EvalService; chain: ChainAccess; ipfs: () => IpfsService }) {
    this.#eval = opts.eval;
    this.#chain = opts.chain;
    this.#ipfs = opts.ipfs;
  }

  /** Reads and schema-checks a claim. */
  async loadClaim(
    source: ClaimSource,
    signal?: AbortSignal,
  ): Promise<{ claim: ClaimFile; cid: string | null }> {
    let json: unknown;
    let cid: string | null = null;
    if ('json' in source) json = source.json;
    else if ('file' in source) {
      json = safeJson(readClaimFile(resolve(source.file), 'the claim file'));
    } else {
      cid = source.cid.replace(/^ipfs:\/\//, '');
      try {
        json = safeJson(await this.#eval.readJsonBytes(cid, signal));
      } catch (e) {
        if (e instanceof ApiError && e.code === 'NOT_FOUND')
          throw new ApiError(
            'NOT_FOUND',
            `the claim ${cid} is not available: ${e.message}`,
            e.hint ? { hint: e.hint } : {},
          );
        throw e;
      }
    }
    const parsed = claimFileSchema.safeParse(json);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new ApiError(
        'INVALID_PARAMS',
        `not a valid XAI-Link claim: ${i ? `${i.path.join('.') || '(root)'}: ${i.message}` : 'invalid'}`,
      );
    }
    return { claim: parsed.data, cid };
  }

  /** Re-runs and checks a claim; never signs. */
  async check(
    source: ClaimSource,
    opts: VerifyOptions = {},
  ): Promise<Verdict & { report: EvaluationReport | null; improvement: Improvement | null }> {
    const { claim, cid } = await this.loadClaim(source, opts.signal);
    const checks: VerifierCheck[] = [];
    const c = improvementFromJson(claim.improvement);
    const verdict: Verdict & { report: EvaluationReport | null; improvement: Improvement | null } = {
      ok: false,
      claimCid: cid,
      lineageId: Number(c.lineageId),
      modelCid: c.modelCid,
      trainer: c.trainer,
      metric: claim.metric.name,
      claimed: { score: c.score.toString(), value: valueOfScore(c.score) },
      recomputed: null,
      tolerance: claim.metric.tolerance,
      checks,
      refusal: null,
      report: null,
      improvement: c,
    };
    const pass = (id: string, message: string) => checks.push({ id, ok: true, message });
    try {
      await this.#runChecks(claim, c, verdict, pass, opts);
      verdict.ok = true;
    } catch (e) {
      if (e instanceof Refusal) {
        checks.push({ id: e.reason, ok: false, message: e.message });
        verdict.refusal = { reason: e.reason, message: e.message };
      } else throw e;
    }
    return verdict;
  }

  async #runChecks(
    claim: ClaimFile,
    c: Improvement,
    verdict: Verdict & { report: EvaluationReport | null },
    pass: (id: string, message: string) => void,
    opts: VerifyOptions,
  ): Promise<void> {
    const info = await this.#chain.info();
    if (claim.chainId !== info.chainId || getAddress(claim.registry) !== getAddress(info.registry)) {
      throw new Refusal(
        'wrong-chain',
        `the claim is for registry ${claim.registry} on chain ${claim.chainId}; this verifier is on ${info.registry} on chain ${info.chainId}`,
      );
    }
    pass('chain', `registry ${info.registry} on chain ${info.chainId}`);
    if (claim.evaluator.version !== EVALUATOR_VERSION || claim.evaluator.name !== EVALUATOR_NAME) {
      throw new Refusal(
        'evaluator-version',
        `the claim was evaluated with ${claim.evaluator.name} v${claim.evaluator.version}; this verifier runs v${EVALUATOR_VERSION}`,
      );
    }
    if (!(await this.#chain.verifyImprovementSignature(c, claim.trainerSignature as Hex))) {
      throw new Refusal(
        'bad-signature',
        `the trainer signature does not match this claim and trainer ${c.trainer}: the claim was altered or signed by someone else`,
      );
    }
    pass('signature', `signed by the trainer ${c.trainer}`);

    let lineage: LineageView;
    try {
      lineage = await this.#chain.chain.lineage(Number(c.lineageId));
    } catch (e) {
      if (e instanceof ApiError && e.code === 'NOT_FOUND')
        throw new Refusal('unknown-lineage', `lineage ${c.lineageId} does not exist`);
      throw e;
    }
    let spec: MetricSpec;
    try {
      spec = checkLineageMetric(lineage.metricName, lineage.higherIsBetter);
    } catch (e) {
      throw new Refusal('metric-mismatch', `lineage ${lineage.lineageId}: ${(e as Error).message}`);
    }
    if (claim.metric.name !== lineage.metricName) {
      throw new Refusal(
        'metric-mismatch',
        `the claim measures ${claim.metric.name} but lineage ${lineage.lineageId} measures ${lineage.metricName}`,
      );
    }
    pass(
      'lineage',
      `lineage ${lineage.lineageId} "${lineage.name}", ${lineage.metricName} (${lineage.higherIsBetter ? 'higher' : 'lower'} is better)`,
    );
    if (opts.verifier) {
      if (getAddress(opts.verifier) === getAddress(c.trainer))
        throw new Refusal('not-a-verifier', 'a trainer cannot attest its own claim');
      if (!(await this.#chain.isVerifier(c.lineageId, opts.verifier))) {
        throw new Refusal(
          'not-a-verifier',
          `${opts.verifier} is not a verifier of lineage ${lineage.lineageId}`,
        );
      }
      pass('verifier', `${opts.verifier} is a verifier of the lineage`);
    }
    if (Number(c.parentTokenId) !== lineage.bestTokenId) {
      throw new Refusal(
        'stale-parent',
        `the claim improves on token ${c.parentTokenId}, but the lineage's best is now token ${lineage.bestTokenId}: the trainer must claim again against it`,
      );
    }
    pass(
      'parent',
      c.parentTokenId === 0n
        ? 'improves on the genesis model'
        : `improves on the current best, token ${c.parentTokenId}`,
    );
    if (await this.#chain.isModelCidUsed(c.modelCid))
      throw new Refusal('already-minted', `the model ${c.modelCid} was minted before (one CID, one token)`);
    const now = await this.#chain.latestTimestamp();
    if (BigInt(now) > c.deadline)
      throw new Refusal(
        'expired',
        `the claim expired at ${new Date(Number(c.deadline) * 1000).toISOString()}`,
      );
    const nonce = await this.#chain.chain.nonceOf(c.trainer);
    if (nonce !== c.nonce)
      throw new Refusal(
        'stale-nonce',
        `the claim uses nonce ${c.nonce}, but the trainer's next nonce is ${nonce}`,
      );
    const committed = await this.#chain.committedAt(commitmentOf(c.modelCid, c.trainer, claim.salt as Hex));
    if (committed === 0)
      throw new Refusal(
        'no-commitment',
        `no commitment to ${c.modelCid} by ${c.trainer} with this salt exists on chain`,
      );
    pass('commitment', `committed at ${new Date(committed * 1000).toISOString()}`);

    const maxTol = opts.maxTolerance ?? DEFAULT_SCORE_TOLERANCE;
    if (claim.metric.tolerance > maxTol) {
      throw new Refusal(
        'tolerance-too-large',
        `the claim asks for a tolerance of ${claim.metric.tolerance} score units; this verifier accepts at most ${maxTol}`,
      );
    }

    // The model and the evaluation text, by CID, checked before anything runs.
    let pkgLoaded;
    try {
      opts.onProgress?.('fetching model', 0, null, '');
      pkgLoaded = await this.#eval.loadPackage(
        { cid: c.modelCid },
        {
          signal: opts.signal,
          ...(opts.maxModelBytes ? { policy: { ...DEFAULT_ONNX_POLICY, maxBytes: opts.maxModelBytes } } : {}),
        },
      );
    } catch (e) {
      throw this.#asRefusal(e);
    }
    const { pkg } = pkgLoaded;
    pass(
      'model',
      `model ${c.modelCid}: ${pkg.facts.parameters.toLocaleString('en-US')} parameters, ${pkg.facts.nodes} nodes, every operator allowed`,
    );
    if (spec.tokenizerSha256 && spec.tokenizerSha256 !== pkg.tokenizerSha256) {
      throw new Refusal(
        'tokenizer-mismatch',
        `lineage ${lineage.lineageId} fixes tokenizer ${spec.tokenizerSha256.slice(0, 12)}…, the model uses ${pkg.tokenizerSha256.slice(0, 12)}…`,
      );
    }
    let text;
    try {
      opts.onProgress?.('fetching evaluation text', 0, null, '');
      text = await this.#eval.loadText(EvalService.textSourceOf(lineage.evalDatasetCid), opts.signal);
    } catch (e) {
      throw this.#asRefusal(e);
    }
    let report: EvaluationReport;
    try {
      report = await this.#eval.evaluateLoaded(pkg, c.modelCid, text, {
        signal: opts.signal,
        onProgress: opts.onProgress,
      });
    } catch (e) {
      throw this.#asRefusal(e);
    }
    verdict.report = report;
    const recomputed = BigInt(report.result.scores[spec.metric]);
    const evaluationCid = opts.publishReport ? await this.#eval.publishReport(report, opts.signal) : null;
    verdict.recomputed = {
      score: recomputed.toString(),
      value: report.result.metrics[spec.metric],
      evaluationCid,
    };
    if (!withinTolerance(c.score, recomputed, BigInt(claim.metric.tolerance))) {
      throw new Refusal(
        'score-mismatch',
        `the claim says ${spec.metric} = ${formatScore(c.score)}, the re-run gives ${formatScore(recomputed)} (difference ${formatScore(c.score > recomputed ? c.score - recomputed : recomputed - c.score)}, tolerance ${formatScore(BigInt(claim.metric.tolerance))})`,
      );
    }
    pass(
      'score',
      `re-run gives ${formatScore(recomputed)} (claimed ${formatScore(c.score)}, within ${formatScore(BigInt(claim.metric.tolerance))})`,
    );
    const eps = BigInt(lineage.currentEpsilonBps);
    if (!beatsBest(c.score, BigInt(lineage.bestScore), eps, lineage.higherIsBetter)) {
      throw new Refusal(
        'insufficient-improvement',
        `${formatScore(c.score)} does not beat the lineage's best ${formatScore(BigInt(lineage.bestScore))} by ε = ${Number(eps) / 100}%`,
      );
    }
    pass(
      'improvement',
      `beats the best ${formatScore(BigInt(lineage.bestScore))} by at least ε = ${Number(eps) / 100}%`,
    );
    await this.#checkMetadata(c, opts.signal);
    pass('metadata', `metadata ${c.metadataCid} describes this model and score`);
  }

  /** The metadata must describe the claimed model and score (a buyer reads it, not the claim). */
  async #checkMetadata(c: Improvement, signal?: AbortSignal): Promise<void> {
    let json: unknown;
    try {
      json = safeJson(await this.#eval.readJsonBytes(c.metadataCid, signal));
    } catch (e) {
      throw new Refusal(
        'missing-content',
        `the metadata ${c.metadataCid} is not available: ${(e as Error).message}`,
      );
    }
    const m = tokenMetadataSchema.safeParse(json);
    if (!m.success) throw new Refusal('metadata-mismatch', `${c.metadataCid} is not XAI-Link token metadata`);
    const p = m.data.properties;
    const wrong: string[] = [];
    if (p.modelCid !== c.modelCid) wrong.push(`model CID ${p.modelCid}`);
    if (p.score !== c.score.toString()) wrong.push(`score ${p.score}`);
    if (p.lineageId !== Number(c.lineageId)) wrong.push(`lineage ${p.lineageId}`);
    if (p.parentTokenId !== Number(c.parentTokenId)) wrong.push(`parent ${p.parentTokenId}`);
    if (p.evaluationCid !== c.evaluationCid) wrong.push(`evaluation ${p.evaluationCid}`);
    if (getAddress(p.trainer) !== getAddress(c.trainer)) wrong.push(`trainer ${p.trainer}`);
    if (wrong.length > 0)
      throw new Refusal('metadata-mismatch', `the metadata disagrees with the claim: ${wrong.join(', ')}`);
  }

  #asRefusal(e: unknown): Refusal {
    if (e instanceof EvalFailure) {
      const reason: RefusalReason = e.reason === 'bad-text' ? 'missing-content' : e.reason;
      return new Refusal(reason, e.message);
    }
    if (e instanceof ApiError && e.code === 'NOT_FOUND') return new Refusal('missing-content', e.message);
    throw e;
  }

  /** Checks a claim and, only when every check holds, signs and publishes an Attestation. */
  async attest(
    source: ClaimSource,
    signer: SignerSpec,
    opts: Omit<VerifyOptions, 'verifier'> = {},
  ): Promise<{ verdict: Verdict; attestation: AttestationFile | null; attestationCid: string | null }> {
    const verifier = await this.#chain.addressOf(signer);
    const verdict = await this.check(source, { ...opts, verifier, publishReport: true });
    const { report: _report, improvement, ...plain } = verdict;
    if (!verdict.ok || !improvement) return { verdict: plain, attestation: null, attestationCid: null };
    const signature = await this.#chain.signAttestation(signer, improvement);
    return this.#publishAttestation(plain, improvement, verifier, signature);
  }

  /** Records an attestation signed elsewhere (the renderer's wallet) after checking its signature. */
  async submitAttestation(
    source: ClaimSource,
    verifier: Address,
    signature: Hex,
    recomputed: Verdict['recomputed'],
  ): Promise<{ attestation: AttestationFile; attestationCid: string }> {
    const { claim, cid } = await this.loadClaim(source);
    const c = improvementFromJson(claim.improvement);
    if (!(await this.#chain.verifyAttestationSignature(c, { verifier, signature }))) {
      throw new ApiError('INVALID_PARAMS', `the signature is not ${verifier}'s attestation of this claim`);
    }
    const plain: Verdict = {
      ok: true,
      claimCid: cid,
      lineageId: Number(c.lineageId),
      modelCid: c.modelCid,
      trainer: c.trainer,
      metric: claim.metric.name,
      claimed: { score: c.score.toString(), value: valueOfScore(c.score) },
      recomputed,
      tolerance: claim.metric.tolerance,
      checks: [],
      refusal: null,
    };
    const r = await this.#publishAttestation(plain, c, verifier, signature);
    return { attestation: r.attestation!, attestationCid: r.attestationCid! };
  }

  async #publishAttestation(verdict: Verdict, c: Improvement, verifier: Address, signature: Hex) {
    const info = await this.#chain.info();
    const attestation: AttestationFile = attestationFileSchema.parse({
      format: ATTESTATION_FORMAT,
      version: 1,
      chainId: info.chainId,
      registry: info.registry,
      claimCid: verdict.claimCid,
      improvement: improvementToJson(c),
      attestation: { verifier, signature },
      recomputed: verdict.recomputed ?? {
        evaluationCid: null,
        score: verdict.claimed.score,
        value: verdict.claimed.value,
      },
      evaluator: { name: EVALUATOR_NAME, version: EVALUATOR_VERSION },
      createdAt: new Date().toISOString(),
    });
    const attestationCid = await this.#ipfs().addBytes(
      new TextEncoder().encode(`${JSON.stringify(attestation, null, 2)}\n`),
      { pin: true },
    );
    return { verdict, attestation, attestationCid };
  }

  /** Reads an attestation file (CID or path). */
  async loadAttestation(
    source: { cid: string } | { file: string } | { json: unknown },
  ): Promise<AttestationFile> {
    let json: unknown;
    if ('json' in source) json = source.json;
    else if ('file' in source) json = safeJson(readClaimFile(resolve(source.file), 'the attestation file'));
    else json = safeJson(await this.#eval.readJsonBytes(source.cid));
    const parsed = attestationFileSchema.safeParse(json);
    if (!parsed.success) throw new ApiError('INVALID_PARAMS', 'not a valid XAI-Link attestation file');
    return parsed.data;
  }
}
