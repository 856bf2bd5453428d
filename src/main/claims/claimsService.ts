import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAddress, parseEventLogs, type Address, type Hex } from 'viem';
import { modelRegistryAbi } from '../../../contracts/generated/index.ts';
import type { LineageView } from '../../shared/api/chain.ts';
import {
  claimRecordSchema,
  type ClaimRecord,
  type InboxEntry,
  type VerdictView,
} from '../../shared/api/claims.ts';
import { ApiError } from '../../shared/api/errors.ts';
import {
  commitmentOf,
  improvementFromJson,
  improvementToJson,
  sortAttestations,
  type Improvement,
  type ImprovementJson,
  type VerifierSignature,
} from '../../shared/chain/eip712.ts';
import { beatsBest, improvementThreshold } from '../../shared/chain/rules.ts';
import { CLAIM_FORMAT, claimFileSchema, type ClaimFile } from '../../shared/claims/claim.ts';
import { lossCurveSvg } from '../../shared/claims/lossCurveSvg.ts';
import { buildTokenMetadata } from '../../shared/claims/metadata.ts';
import { describeSigner, type SignerSpec } from '../../shared/claims/signer.ts';
import {
  checkLineageMetric,
  EVALUATOR_NAME,
  EVALUATOR_VERSION,
  formatScore,
  METRICS,
  type MetricSpec,
} from '../../shared/eval/metrics.ts';
import type { IpfsService } from '../ipfs/ipfsService.ts';
import { writeJsonAtomic } from '../util/atomicWrite.ts';
import { EvalService } from '../eval/evalService.ts';
import type { ChainAccess } from './chainAccess.ts';
import type { ClaimSource, VerifierService } from './verifierService.ts';

type Progress = (stage: string, done: number, total: number | null, unit: string) => void;

/** What is kept on disk: the API record plus the commit salt (revealed only by the published claim). */
interface StoredClaim extends ClaimRecord {
  salt: Hex;
}

interface InboxFile {
  entries: { claimCid: string; addedAt: string; verdict: VerdictView | null; attestedBy: string[] }[];
}

const DEFAULT_DESCRIPTION_MAX = 4000;

/**
 * The claim flow, one step per method, each idempotent and persisted in <dataDir>/claims/<id>.json so a
 * claim resumes where it stopped (after a crash, or in the UI wizard across restarts):
 *
 *   start → commit → evaluate → typedData/sign → (attestations) → submit → minted
 *
 * Writes go through a local signer (dev account, environment key, keystore) or, for the renderer, through
 * the `*Data` + `record*` pairs around the user's wallet.
 */
export class ClaimsService {
  readonly #dir: string;
  readonly #inboxFile: string;
  readonly #chain: ChainAccess;
  readonly #eval: EvalService;
  readonly #verifier: VerifierService;
  readonly #ipfs: () => IpfsService;
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(opts: {
    dir: string;
    chain: ChainAccess;
    eval: EvalService;
    verifier: VerifierService;
    ipfs: () => IpfsService;
  }) {
    this.#dir = opts.dir;
    this.#inboxFile = join(opts.dir, 'inbox.json');
    this.#chain = opts.chain;
    this.#eval = opts.eval;
    this.#verifier = opts.verifier;
    this.#ipfs = opts.ipfs;
  }

  get verifier(): VerifierService {
    return this.#verifier;
  }

  // ---- records ----

  #path(id: string): string {
    if (!/^claim-[0-9a-z-]+$/.test(id))
      throw new ApiError('INVALID_PARAMS', `"${id}" is not a claim id`, { field: 'claimId' });
    return join(this.#dir, `${id}.json`);
  }

  #read(id: string): StoredClaim {
    const path = this.#path(id);
    if (!existsSync(path)) throw new ApiError('NOT_FOUND', `no claim ${id} on this machine`);
    const raw = JSON.parse(readFileSync(path, 'utf8')) as StoredClaim;
    return { ...claimRecordSchema.parse(raw), salt: raw.salt };
  }

  async #write(c: StoredClaim): Promise<StoredClaim> {
    c.updatedAt = new Date().toISOString();
    mkdirSync(this.#dir, { recursive: true });
    await writeJsonAtomic(this.#path(c.id), c);
    return c;
  }

  static view(c: StoredClaim): ClaimRecord {
    const { salt: _salt, ...record } = c;
    return record;
  }

  /** Runs one step at a time per claim. */
  async #locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.#locks.set(id, next);
    try {
      return await next;
    } finally {
      if (this.#locks.get(id) === next) this.#locks.delete(id);
    }
  }

  list(filter: { lineageId?: number } = {}): ClaimRecord[] {
    if (!existsSync(this.#dir)) return [];
    const out: StoredClaim[] = [];
    for (const f of readdirSync(this.#dir)) {
      if (!/^claim-[0-9a-z-]+\.json$/.test(f)) continue;
      try {
        out.push(this.#read(f.slice(0, -5)));
      } catch {
        /* a damaged file is skipped */
      }
    }
    return out
      .filter((c) => filter.lineageId === undefined || c.lineageId === filter.lineageId)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .map(ClaimsService.view);
  }

  get(id: string): ClaimRecord {
    return ClaimsService.view(this.#read(id));
  }

  /** The stored claim including its salt (main-process callers only: pipelines, tests). */
  stored(id: string): StoredClaim {
    return this.#read(id);
  }

  async #lineage(lineageId: number): Promise<LineageView & { spec: MetricSpec }> {
    const lineage = await this.#chain.chain.lineage(lineageId);
    let spec: MetricSpec;
    try {
      spec = checkLineageMetric(lineage.metricName, lineage.higherIsBetter);
    } catch (e) {
      throw new ApiError('FAILED_PRECONDITION', `lineage ${lineageId}: ${(e as Error).message}`);
    }
    return { ...lineage, spec };
  }

  // ---- steps ----

  async start(p: {
    lineageId: number;
    modelCid: string;
    trainer: string;
    name?: string;
    description?: string;
    checkpointCid?: string;
    datasetCid?: string;
    pipelineCid?: string;
    tolerance: number;
    deadlineSeconds: number;
    signal?: AbortSignal;
  }): Promise<ClaimRecord> {
    const info = await this.#chain.info();
    const lineage = await this.#lineage(p.lineageId);
    if (await this.#chain.isModelCidUsed(p.modelCid)) {
      throw new ApiError(
        'CONFLICT',
        `the model ${p.modelCid} was already minted (or is a genesis model): one CID, one token`,
      );
    }
    const { pkg } = await this.#eval.loadPackage({ cid: p.modelCid }, { signal: p.signal });
    if (lineage.spec.tokenizerSha256 && lineage.spec.tokenizerSha256 !== pkg.tokenizerSha256) {
      throw new ApiError(
        'FAILED_PRECONDITION',
        `lineage ${p.lineageId} fixes a tokenizer this model does not use`,
      );
    }
    const trainer = getAddress(p.trainer);
    const salt = `0x${randomBytes(32).toString('hex')}` as Hex;
    const now = new Date().toISOString();
    const record: StoredClaim = {
      id: `claim-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
      status: 'created',
      createdAt: now,
      updatedAt: now,
      chainId: info.chainId,
      registry: getAddress(info.registry),
      lineageId: p.lineageId,
      trainer,
      model: {
        cid: p.modelCid,
        name: p.name ?? `${lineage.name} — ${pkg.card.name}`,
        description: p.description?.slice(0, DEFAULT_DESCRIPTION_MAX) ?? null,
        checkpointCid: p.checkpointCid ?? pkg.card.checkpointCid,
        datasetCid: p.datasetCid ?? pkg.card.datasetCid,
        pipelineCid: p.pipelineCid ?? null,
        parameters: pkg.facts.parameters,
        trainingTokens: pkg.card.training?.tokens ?? 0,
        lossCurve: pkg.card.training?.lossCurve ?? [],
      },
      tolerance: p.tolerance,
      deadlineSeconds: p.deadlineSeconds,
      commit: null,
      evaluation: null,
      improvement: null,
      trainerSignature: null,
      claimCid: null,
      attestations: [],
      quorum: lineage.quorum,
      mint: null,
      error: null,
      salt,
    };
    return ClaimsService.view(await this.#write(record));
  }

  /**
   * Whether a claim kept here no longer matches the chain (the chain was reset or is another one): its mint
   * or its commitment is not there. Such a claim cannot go on; a new claim for the same model can.
   */
  async isStale(id: string): Promise<boolean> {
    const c = this.#read(id);
    const info = await this.#chain.info();
    if (c.chainId !== info.chainId || getAddress(c.registry) !== getAddress(info.registry)) return true;
    if (c.mint) return !(await this.#chain.isModelCidUsed(c.model.cid));
    if (c.commit) return (await this.#chain.committedAt(c.commit.commitment as Hex)) === 0;
    return false;
  }

  commitment(c: StoredClaim): Hex {
    return commitmentOf(c.model.cid, c.trainer as Address, c.salt);
  }

  async commitData(id: string): Promise<{ registry: string; chainId: number; commitment: Hex }> {
    const c = this.#read(id);
    return { registry: c.registry, chainId: c.chainId, commitment: this.commitment(c) };
  }

  async commit(id: string, signer: SignerSpec): Promise<ClaimRecord> {
    return this.#locked(id, async () => {
      const c = this.#read(id);
      if (c.commit) return ClaimsService.view(c);
      const commitment = this.commitment(c);
      let committedAt = await this.#chain.committedAt(commitment);
      let txHash: Hex | null = null;
      if (committedAt === 0) ({ txHash, committedAt } = await this.#chain.commit(commitment, signer));
      return ClaimsService.view(await this.#recordCommitted(c, commitment, txHash, committedAt));
    });
  }

  async recordCommit(id: string, txHash: Hex): Promise<ClaimRecord> {
    return this.#locked(id, async () => {
      const c = this.#read(id);
      if (c.commit) return ClaimsService.view(c);
      const receipt = await this.#receiptOf(txHash);
      if (receipt.status !== 'success')
        throw new ApiError('FAILED_PRECONDITION', `the commit transaction ${txHash} reverted`);
      const commitment = this.commitment(c);
      const committedAt = await this.#chain.committedAt(commitment);
      if (committedAt === 0)
        throw new ApiError(
          'FAILED_PRECONDITION',
          `transaction ${txHash} did not publish this claim's commitment ${commitment}`,
        );
      return ClaimsService.view(await this.#recordCommitted(c, commitment, txHash, committedAt));
    });
  }

  async #recordCommitted(
    c: StoredClaim,
    commitment: Hex,
    txHash: Hex | null,
    committedAt: number,
  ): Promise<StoredClaim> {
    const lineage = await this.#chain.chain.lineage(c.lineageId);
    c.commit = { commitment, txHash, committedAt, claimableAt: committedAt + lineage.minCommitAge };
    c.status = 'committed';
    c.error = null;
    return this.#write(c);
  }

  /** Evaluates, publishes report + image + metadata. Re-running it refreshes them (e.g. after a new best). */
  async evaluate(
    id: string,
    opts: { signal?: AbortSignal; onProgress?: Progress; reuseReportCid?: string } = {},
  ): Promise<ClaimRecord> {
    return this.#locked(id, async () => {
      const c = this.#read(id);
      if (!c.commit)
        throw new ApiError(
          'FAILED_PRECONDITION',
          'commit the model first (claims.commit): the commit gives it priority before anything is published',
        );
      if (c.mint) return ClaimsService.view(c);
      const lineage = await this.#lineage(c.lineageId);
      const textSource = EvalService.textSourceOf(lineage.evalDatasetCid);
      const reused = opts.reuseReportCid
        ? await this.#reusableReport(opts.reuseReportCid, c.model.cid, textSource, opts.signal)
        : null;
      const { report, reportCid, pkg } =
        reused ??
        (await this.#eval.evaluate({
          model: { cid: c.model.cid },
          text: textSource,
          publish: true,
          signal: opts.signal,
          onProgress: opts.onProgress,
        }));
      const metric = lineage.spec.metric;
      const value = report.result.metrics[metric];
      const score = BigInt(report.result.scores[metric]);
      const parentTokenId = lineage.bestTokenId;
      const version = parentTokenId === 0 ? 1 : (await this.#chain.chain.token(parentTokenId)).version + 1;
      opts.onProgress?.('publishing metadata', 0, null, '');
      const svg = lossCurveSvg({
        title: c.model.name,
        subtitle: `${lineage.name} · version ${version} · ${pkg.facts.parameters.toLocaleString('en-US')} parameters`,
        badge: `${value.toFixed(4)} ${METRICS[metric].unit || METRICS[metric].label}`.trim(),
        points:
          c.model.lossCurve.length > 0
            ? c.model.lossCurve
            : [
                {
                  step: pkg.card.training?.iterations ?? 0,
                  train: null,
                  val: report.result.metrics.mean_loss,
                },
              ],
      });
      const ipfs = this.#ipfs();
      const imageCid = await ipfs.addBytes(new TextEncoder().encode(svg), { pin: true, signal: opts.signal });
      const metadata = buildTokenMetadata({
        name: `${c.model.name} v${version}`,
        ...(c.model.description ? { description: c.model.description } : {}),
        imageCid,
        lineageId: c.lineageId,
        lineageName: lineage.name,
        version,
        parentTokenId,
        metric: lineage.metricName,
        score: score.toString(),
        value,
        parameters: pkg.facts.parameters,
        trainingTokens: c.model.trainingTokens,
        tokenizer: `${pkg.tokenizer.kind}:${pkg.tokenizer.vocabSize}`,
        datasetCid: c.model.datasetCid,
        evaluationCid: reportCid!,
        evaluationTextCid: lineage.evalDatasetCid,
        pipelineCid: c.model.pipelineCid,
        modelCid: c.model.cid,
        checkpointCid: c.model.checkpointCid,
        trainer: c.trainer,
      });
      const metadataCid = await ipfs.addBytes(
        new TextEncoder().encode(`${JSON.stringify(metadata, null, 2)}\n`),
        { pin: true, signal: opts.signal },
      );
      c.evaluation = {
        reportCid: reportCid!,
        evalTextRef: lineage.evalDatasetCid,
        metric: lineage.metricName,
        value,
        score: score.toString(),
        bitsPerByte: report.result.metrics.bits_per_byte,
        top1Accuracy: report.result.metrics.top1_accuracy,
        imageCid,
        metadataCid,
        parentTokenId,
        version,
      };
      // A fresh evaluation invalidates an unsigned or stale Improvement.
      if (c.status !== 'signed' || c.improvement?.metadataCid !== metadataCid) {
        c.improvement = null;
        c.trainerSignature = null;
        c.claimCid = null;
        c.attestations = [];
      }
      c.status = c.claimCid ? 'signed' : 'evaluated';
      const eps = BigInt(lineage.currentEpsilonBps);
      if (!beatsBest(score, BigInt(lineage.bestScore), eps, lineage.higherIsBetter)) {
        const need = improvementThreshold(BigInt(lineage.bestScore), eps, lineage.higherIsBetter);
        c.error = `${metric} ${formatScore(score)} does not beat the lineage's best ${formatScore(BigInt(lineage.bestScore))} by ε = ${Number(eps) / 100}%${need === null ? '' : ` (needs ${lineage.higherIsBetter ? '≥' : '≤'} ${formatScore(need)})`}`;
        await this.#write(c);
        throw new ApiError('FAILED_PRECONDITION', c.error, {
          hint: 'Train further, or claim in a lineage this model improves.',
        });
      }
      c.error = null;
      return ClaimsService.view(await this.#write(c));
    });
  }

  /**
   * A report published earlier (a pipeline's evaluate stage) stands for this claim's evaluation when it is of
   * this model, on the lineage's text, by this evaluator version; the verifiers re-run it anyway.
   */
  async #reusableReport(
    reportCid: string,
    modelCid: string,
    text: ReturnType<typeof EvalService.textSourceOf>,
    signal?: AbortSignal,
  ) {
    const report = await this.#eval.getReport(reportCid, signal).catch(() => null);
    if (!report || report.model.cid !== modelCid || report.evaluator.version !== EVALUATOR_VERSION)
      return null;
    if (
      'cid' in text
        ? report.text.cid !== text.cid
        : 'sha256' in text
          ? report.text.sha256 !== text.sha256
          : true
    )
      return null;
    const { pkg } = await this.#eval.loadPackage({ cid: modelCid }, { signal });
    if (pkg.card.onnx.sha256 !== report.model.onnxSha256) return null;
    return { report, reportCid, pkg };
  }

  /** The Improvement to sign (stored, so the signature can be checked against it). */
  async typedData(id: string): Promise<{
    domain: Awaited<ReturnType<ChainAccess['domain']>>;
    primaryType: 'Improvement';
    improvement: ImprovementJson;
    signer: string;
  }> {
    return this.#locked(id, async () => {
      const c = this.#read(id);
      const improvement = await this.#ensureImprovement(c);
      return {
        domain: await this.#chain.domain(),
        primaryType: 'Improvement' as const,
        improvement: improvementToJson(improvement),
        signer: c.trainer,
      };
    });
  }

  async #ensureImprovement(c: StoredClaim): Promise<Improvement> {
    if (!c.evaluation)
      throw new ApiError('FAILED_PRECONDITION', 'evaluate the model first (claims.evaluate)');
    if (c.error) throw new ApiError('FAILED_PRECONDITION', c.error);
    const lineage = await this.#chain.chain.lineage(c.lineageId);
    if (lineage.bestTokenId !== c.evaluation.parentTokenId) {
      throw new ApiError(
        'FAILED_PRECONDITION',
        `stale parent: the lineage's best is now token ${lineage.bestTokenId}, not ${c.evaluation.parentTokenId}`,
        {
          hint: 'Evaluate again (claims.evaluate): the metadata and the parent must name the current best.',
        },
      );
    }
    const nonce = await this.#chain.chain.nonceOf(c.trainer);
    if (
      c.improvement &&
      c.improvement.nonce === nonce.toString() &&
      BigInt(c.improvement.deadline) > BigInt(await this.#chain.latestTimestamp()) + 60n
    ) {
      return improvementFromJson(c.improvement);
    }
    const improvement: Improvement = {
      lineageId: BigInt(c.lineageId),
      parentTokenId: BigInt(c.evaluation.parentTokenId),
      trainer: c.trainer as Address,
      modelCid: c.model.cid,
      metadataCid: c.evaluation.metadataCid,
      evaluationCid: c.evaluation.reportCid,
      score: BigInt(c.evaluation.score),
      nonce,
      deadline: BigInt(await this.#chain.latestTimestamp()) + BigInt(c.deadlineSeconds),
    };
    c.improvement = improvementToJson(improvement);
    c.trainerSignature = null;
    c.claimCid = null;
    c.attestations = [];
    c.status = 'evaluated';
    await this.#write(c);
    return improvement;
  }

  async submitSignature(id: string, signature: Hex): Promise<ClaimRecord> {
    return this.#locked(id, () => this.#acceptSignature(this.#read(id), signature));
  }

  async sign(id: string, signer: SignerSpec): Promise<ClaimRecord> {
    return this.#locked(id, async () => {
      const c = this.#read(id);
      if (c.claimCid && c.trainerSignature) return ClaimsService.view(c);
      const address = await this.#chain.addressOf(signer);
      if (getAddress(address) !== getAddress(c.trainer)) {
        throw new ApiError(
          'FAILED_PRECONDITION',
          `${describeSigner(signer)} is ${address}, but the claim's trainer is ${c.trainer}`,
        );
      }
      const improvement = await this.#ensureImprovement(c);
      const signature = await this.#chain.signImprovement(signer, improvement);
      return this.#acceptSignature(this.#read(id), signature);
    });
  }

  async #acceptSignature(c: StoredClaim, signature: Hex): Promise<ClaimRecord> {
    if (!c.improvement || !c.evaluation)
      throw new ApiError('FAILED_PRECONDITION', 'get the typed data first (claims.typedData)');
    const improvement = improvementFromJson(c.improvement);
    if (!(await this.#chain.verifyImprovementSignature(improvement, signature))) {
      throw new ApiError('INVALID_PARAMS', `the signature is not ${c.trainer}'s signature of this claim`, {
        field: 'signature',
      });
    }
    const file: ClaimFile = claimFileSchema.parse({
      format: CLAIM_FORMAT,
      version: 1,
      chainId: c.chainId,
      registry: c.registry,
      improvement: c.improvement,
      salt: c.salt,
      trainerSignature: signature,
      metric: { name: c.evaluation.metric, value: c.evaluation.value, tolerance: c.tolerance },
      evaluator: { name: EVALUATOR_NAME, version: EVALUATOR_VERSION },
      createdAt: new Date().toISOString(),
    });
    c.trainerSignature = signature;
    c.claimCid = await this.#ipfs().addBytes(new TextEncoder().encode(`${JSON.stringify(file, null, 2)}\n`), {
      pin: true,
    });
    c.status = 'signed';
    return ClaimsService.view(await this.#write(c));
  }

  /** The published claim JSON of a signed claim. */
  claimFile(id: string): ClaimFile {
    const c = this.#read(id);
    if (!c.claimCid || !c.improvement || !c.trainerSignature || !c.evaluation)
      throw new ApiError('FAILED_PRECONDITION', `claim ${id} is not signed yet`);
    return {
      format: CLAIM_FORMAT,
      version: 1,
      chainId: c.chainId,
      registry: c.registry,
      improvement: c.improvement,
      salt: c.salt,
      trainerSignature: c.trainerSignature,
      metric: { name: c.evaluation.metric, value: c.evaluation.value, tolerance: c.tolerance },
      evaluator: { name: EVALUATOR_NAME, version: EVALUATOR_VERSION },
      createdAt: c.updatedAt,
    };
  }

  async attestLocally(
    id: string,
    signer: SignerSpec,
    opts: { signal?: AbortSignal; onProgress?: Progress } = {},
  ): Promise<{ claim: ClaimRecord; verdict: VerdictView }> {
    const c = this.#read(id);
    if (!c.claimCid)
      throw new ApiError(
        'FAILED_PRECONDITION',
        'sign the claim first (claims.sign / claims.submitSignature)',
      );
    const { verdict, attestation, attestationCid } = await this.#verifier.attest(
      { cid: c.claimCid },
      signer,
      opts,
    );
    await this.#recordVerdict(c.claimCid, verdict);
    if (!attestation) return { claim: ClaimsService.view(c), verdict };
    const claim = await this.#locked(id, async () => {
      const fresh = this.#read(id);
      return ClaimsService.view(
        await this.#addAttestation(fresh, attestation.attestation as VerifierSignature, attestationCid),
      );
    });
    await this.#recordAttested(c.claimCid, attestation.attestation.verifier);
    return { claim, verdict };
  }

  async addAttestation(
    id: string,
    a: { cid: string } | { file: string } | { verifier: string; signature: string },
  ): Promise<ClaimRecord> {
    return this.#locked(id, async () => {
      const c = this.#read(id);
      if (!c.improvement) throw new ApiError('FAILED_PRECONDITION', 'the claim is not signed yet');
      let sig: VerifierSignature;
      let cid: string | null = null;
      if ('verifier' in a) sig = { verifier: getAddress(a.verifier), signature: a.signature as Hex };
      else {
        const file = await this.#verifier.loadAttestation(a);
        if (JSON.stringify(file.improvement) !== JSON.stringify(c.improvement)) {
          throw new ApiError(
            'FAILED_PRECONDITION',
            'this attestation is for another claim (its Improvement differs)',
          );
        }
        sig = {
          verifier: getAddress(file.attestation.verifier),
          signature: file.attestation.signature as Hex,
        };
        cid = 'cid' in a ? a.cid : null;
      }
      return ClaimsService.view(await this.#addAttestation(c, sig, cid));
    });
  }

  async #addAttestation(c: StoredClaim, sig: VerifierSignature, cid: string | null): Promise<StoredClaim> {
    const improvement = improvementFromJson(c.improvement!);
    if (getAddress(sig.verifier) === getAddress(c.trainer))
      throw new ApiError('FAILED_PRECONDITION', 'the trainer cannot attest its own claim');
    if (!(await this.#chain.isVerifier(improvement.lineageId, sig.verifier))) {
      throw new ApiError(
        'FAILED_PRECONDITION',
        `${sig.verifier} is not a verifier of lineage ${c.lineageId}`,
      );
    }
    if (!(await this.#chain.verifyAttestationSignature(improvement, sig))) {
      throw new ApiError(
        'INVALID_PARAMS',
        `the signature is not ${sig.verifier}'s attestation of this claim`,
      );
    }
    c.attestations = [
      ...c.attestations.filter((x) => getAddress(x.verifier) !== getAddress(sig.verifier)),
      { verifier: sig.verifier, signature: sig.signature, attestationCid: cid },
    ];
    return this.#write(c);
  }

  async submitData(id: string): Promise<{
    registry: string;
    chainId: number;
    improvement: NonNullable<ClaimRecord['improvement']>;
    salt: Hex;
    trainerSignature: Hex;
    attestations: VerifierSignature[];
  }> {
    const c = this.#read(id);
    const ready = await this.#readyToSubmit(c);
    return {
      registry: c.registry,
      chainId: c.chainId,
      improvement: c.improvement!,
      salt: c.salt,
      trainerSignature: c.trainerSignature as Hex,
      attestations: ready.attestations,
    };
  }

  async #readyToSubmit(
    c: StoredClaim,
  ): Promise<{ improvement: Improvement; attestations: VerifierSignature[] }> {
    if (!c.improvement || !c.trainerSignature)
      throw new ApiError('FAILED_PRECONDITION', 'sign the claim first');
    const lineage = await this.#chain.chain.lineage(c.lineageId);
    if (c.attestations.length < lineage.quorum) {
      throw new ApiError(
        'FAILED_PRECONDITION',
        `${c.attestations.length} attestation(s) of the ${lineage.quorum} the lineage needs`,
        {
          hint: 'Ask the lineage verifiers to run `xai-link verify <claim CID>` and add their attestations.',
        },
      );
    }
    return {
      improvement: improvementFromJson(c.improvement),
      attestations: sortAttestations(
        c.attestations.map((a) => ({ verifier: a.verifier as Address, signature: a.signature as Hex })),
      ),
    };
  }

  async submit(id: string, signer: SignerSpec, opts: { signal?: AbortSignal } = {}): Promise<ClaimRecord> {
    return this.#locked(id, async () => {
      const c = this.#read(id);
      if (c.mint) return ClaimsService.view(c);
      const { improvement, attestations } = await this.#readyToSubmit(c);
      if (await this.#chain.isModelCidUsed(c.model.cid)) {
        const found = await this.#findMinted(c);
        if (found) return ClaimsService.view(await this.#recordMinted(c, found.txHash, found.tokenId));
        throw new ApiError('CONFLICT', `the model ${c.model.cid} was minted by someone else's claim`);
      }
      await this.#waitClaimable(c, opts.signal);
      const { txHash, tokenId } = await this.#chain.claim(
        improvement,
        c.salt,
        c.trainerSignature as Hex,
        attestations,
        signer,
      );
      return ClaimsService.view(await this.#recordMinted(c, txHash, tokenId));
    });
  }

  async recordMint(id: string, txHash: Hex): Promise<ClaimRecord> {
    return this.#locked(id, async () => {
      const c = this.#read(id);
      if (c.mint) return ClaimsService.view(c);
      const receipt = await this.#receiptOf(txHash);
      const minted = parseEventLogs({
        abi: modelRegistryAbi,
        logs: receipt.logs,
        eventName: 'ModelMinted',
      }).find((l) => l.args.modelCid === c.model.cid);
      if (receipt.status !== 'success' || !minted)
        throw new ApiError('FAILED_PRECONDITION', `transaction ${txHash} did not mint this claim`);
      return ClaimsService.view(await this.#recordMinted(c, txHash, Number(minted.args.tokenId)));
    });
  }

  /** The receipt of a transaction the wallet sent (commit or mint), waiting up to two minutes for it. */
  async #receiptOf(txHash: Hex) {
    const client = await this.#chain.client();
    return client.waitForTransactionReceipt({ hash: txHash, timeout: 120_000 });
  }

  async #recordMinted(c: StoredClaim, txHash: Hex, tokenId: number): Promise<StoredClaim> {
    c.mint = { txHash, tokenId };
    c.status = 'minted';
    c.error = null;
    return this.#write(c);
  }

  async #findMinted(c: StoredClaim): Promise<{ tokenId: number; txHash: Hex } | null> {
    const info = await this.#chain.info();
    const client = await this.#chain.client();
    const logs = await client.getContractEvents({
      address: info.registry as Address,
      abi: modelRegistryAbi,
      eventName: 'ModelMinted',
      args: { lineageId: BigInt(c.lineageId), trainer: c.trainer as Address },
      fromBlock: BigInt(info.deployBlock),
    });
    const hit = logs.find((l) => l.args.modelCid === c.model.cid);
    return hit ? { tokenId: Number(hit.args.tokenId), txHash: hit.transactionHash } : null;
  }

  /** Waits until the chain's time passes the commit's minimum age (a claim sent earlier would revert). */
  async #waitClaimable(c: StoredClaim, signal?: AbortSignal): Promise<void> {
    await this.#chain.waitForChainTime((c.commit?.claimableAt ?? 0) - 1, signal);
  }

  // ---- lineage versions (for the UI) ----

  async versions(lineageId: number, signal?: AbortSignal) {
    const lineage = await this.#lineage(lineageId);
    const { tokens } = await this.#chain.chain.tokens({ lineageId, offset: 0, limit: 500 });
    const out = await Promise.all(
      tokens.map(async (t) => {
        const evaluation = await this.#eval.getReport(t.evaluationCid, signal).catch(() => null);
        return {
          tokenId: t.tokenId,
          version: t.version,
          parentTokenId: t.parentTokenId,
          score: t.score,
          value: Number(t.score) / 1e6,
          modelCid: t.modelCid,
          evaluationCid: t.evaluationCid,
          metadataCid: t.metadataCid,
          trainer: getAddress(t.trainer),
          priceWei: t.priceWei,
          evaluation,
        };
      }),
    );
    return out.sort((a, b) => {
      const x = BigInt(a.score);
      const y = BigInt(b.score);
      return x === y ? 0 : x < y !== lineage.higherIsBetter ? -1 : 1;
    });
  }

  // ---- verifier inbox ----

  #readInbox(): InboxFile {
    if (!existsSync(this.#inboxFile)) return { entries: [] };
    try {
      return JSON.parse(readFileSync(this.#inboxFile, 'utf8')) as InboxFile;
    } catch {
      return { entries: [] };
    }
  }

  async #updateInbox(claimCid: string, update: (e: InboxFile['entries'][number]) => void): Promise<void> {
    const inbox = this.#readInbox();
    let e = inbox.entries.find((x) => x.claimCid === claimCid);
    if (!e) {
      e = { claimCid, addedAt: new Date().toISOString(), verdict: null, attestedBy: [] };
      inbox.entries.push(e);
    }
    update(e);
    mkdirSync(this.#dir, { recursive: true });
    await writeJsonAtomic(this.#inboxFile, inbox);
  }

  async #recordVerdict(claimCid: string | null, verdict: VerdictView): Promise<void> {
    if (claimCid) await this.#updateInbox(claimCid, (e) => (e.verdict = verdict));
  }

  async #recordAttested(claimCid: string, verifier: string): Promise<void> {
    await this.#updateInbox(claimCid, (e) => {
      if (!e.attestedBy.includes(verifier)) e.attestedBy.push(verifier);
    });
  }

  /** After a verifier.check / attest through the API: remembers the verdict (and adds the attestation to our own claim). */
  async afterVerify(
    verdict: VerdictView,
    attestation: { verifier: string; signature: string; cid: string | null } | null,
  ): Promise<void> {
    if (!verdict.claimCid) return;
    await this.#recordVerdict(verdict.claimCid, verdict);
    if (!attestation) return;
    await this.#recordAttested(verdict.claimCid, attestation.verifier);
    const own = this.list().find((c) => c.claimCid === verdict.claimCid);
    if (own) {
      await this.#locked(own.id, async () =>
        this.#addAttestation(
          this.#read(own.id),
          { verifier: attestation.verifier as Address, signature: attestation.signature as Hex },
          attestation.cid,
        ),
      );
    }
  }

  async addToInbox(source: ClaimSource): Promise<InboxEntry> {
    const { claim, cid: loadedCid } = await this.#verifier.loadClaim(source);
    const cid =
      loadedCid ??
      (await this.#ipfs().addBytes(new TextEncoder().encode(`${JSON.stringify(claim, null, 2)}\n`), {
        pin: true,
      }));
    await this.#updateInbox(cid, () => undefined);
    const listed = (await this.inbox()).find((e) => e.claimCid === cid);
    if (listed) return listed;
    // Reading it back may fail (e.g. IPFS busy changing modes): the claim in hand is the same one.
    const stored = this.#readInbox().entries.find((e) => e.claimCid === cid)!;
    return inboxEntryOf(stored, claim);
  }

  async inbox(): Promise<InboxEntry[]> {
    const stored = this.#readInbox().entries;
    const own = this.list().filter((c) => c.claimCid && c.status === 'signed');
    const entries: InboxEntry[] = [];
    const seen = new Set<string>();
    for (const c of own) {
      seen.add(c.claimCid!);
      const s = stored.find((e) => e.claimCid === c.claimCid);
      entries.push({
        claimCid: c.claimCid,
        claimId: c.id,
        lineageId: c.lineageId,
        modelCid: c.model.cid,
        trainer: c.trainer,
        score: c.evaluation!.score,
        metric: c.evaluation!.metric,
        addedAt: c.updatedAt,
        verdict: s?.verdict ?? null,
        attestedBy: [...new Set([...(s?.attestedBy ?? []), ...c.attestations.map((a) => a.verifier)])],
      });
    }
    for (const e of stored) {
      if (seen.has(e.claimCid)) continue;
      const loaded = await this.#verifier.loadClaim({ cid: e.claimCid }).catch(() => null);
      if (loaded) entries.push(inboxEntryOf(e, loaded.claim));
    }
    return entries.sort((a, b) => b.addedAt.localeCompare(a.addedAt));
  }
}

/** The inbox view of a claim received from elsewhere (not one of this machine's own). */
function inboxEntryOf(stored: InboxFile['entries'][number], claim: ClaimFile): InboxEntry {
  const imp = claim.improvement;
  return {
    claimCid: stored.claimCid,
    claimId: null,
    lineageId: Number(imp.lineageId),
    modelCid: imp.modelCid,
    trainer: imp.trainer,
    score: imp.score,
    metric: claim.metric.name,
    addedAt: stored.addedAt,
    verdict: stored.verdict,
    attestedBy: stored.attestedBy,
  };
}
