import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAddress, type Address, type Hex } from 'viem';
import { modelRegistryAbi } from '../../../contracts/generated/index.ts';
import { ApiError } from '../../shared/api/errors.ts';
import { watchJobSchema, type WatchJob, type WatcherStatus } from '../../shared/api/verifierNetwork.ts';
import { attestationDigest } from '../../shared/chain/eip712.ts';
import type { SignerSpec } from '../../shared/claims/signer.ts';
import { DEFAULT_SCORE_TOLERANCE } from '../../shared/eval/metrics.ts';
import { z } from 'zod';
import type { IpfsService } from '../ipfs/ipfsService.ts';
import { writeJsonAtomic } from '../util/atomicWrite.ts';
import type { ChainAccess } from './chainAccess.ts';
import type { VerifierService } from './verifierService.ts';

export interface WatchOptions {
  signer: SignerSpec;
  /** Only these lineages; empty: every lineage the signer is a verifier of. */
  lineages?: number[];
  maxTolerance?: number;
  /** Blocks re-read on every poll (a reorganisation up to this depth is seen). */
  confirmations?: number;
  pollMs?: number;
  /** Largest model accepted per claim (bytes). */
  maxModelBytes?: number;
  /** Tries of a claim whose content cannot be fetched before it is declined / failed. */
  maxAttempts?: number;
}

type ResolvedOptions = Required<Omit<WatchOptions, 'maxModelBytes'>> & { maxModelBytes?: number };

/** What is saved in the data directory, per registry deployment. */
const watchStateSchema = z.object({
  version: z.literal(1),
  chainId: z.number().int(),
  registry: z.string(),
  verifier: z.string(),
  cursor: z.number().int().nullable(),
  /** Announcements already handled in the re-read window: `${txHash}:${logIndex}` → block number. */
  seen: z.record(z.string(), z.number().int()),
  ignored: z.number().int().nonnegative(),
  jobs: z.array(watchJobSchema),
});
type WatchState = z.infer<typeof watchStateSchema>;

/** Blocks per eth_getLogs call on an RPC network (public endpoints cap the range). */
const LOG_CHUNK = 2_000;
const MAX_REASON_BYTES = 1000;
/**
 * Refusals that are not published on chain: the claim is not this verifier's business, or it is over
 * (minted, expired) — a first start reads every announcement since the deployment, and old ones need no answer.
 */
const UNPUBLISHED_REFUSALS = new Set([
  'not-a-verifier',
  'wrong-chain',
  'invalid-claim',
  'already-minted',
  'expired',
]);
/** Refusals that may go away when retried (content not yet reachable). */
const RETRIED_REFUSALS = new Set(['missing-content']);

class Stopped extends Error {}

interface AnnouncementLog {
  args: { lineageId?: bigint; attestationDigest?: Hex; requester?: Address; claimCid?: string };
  blockNumber: bigint;
  transactionHash: Hex;
  logIndex: number;
}

/**
 * The verifier that runs by itself: follows `VerificationRequested` events of the registry from a cursor
 * saved (atomically) in the data directory, and works through the announced claims one at a time: fetch
 * the claim, the model and the evaluation text by CID over IPFS, re-run the evaluation under the
 * untrusted-model checks (VerifierService.check), then attest on chain (`attest(digest)`) only if the
 * claim holds, or publish the reason (`declineVerification`). Every verdict is kept with its reason.
 *
 * Exactly-once: a job's state is saved before each chain write, and on restart a job found "attesting"
 * or "declining" first asks the chain whether that write already happened. Re-reading the last
 * `confirmations` blocks on every poll sees announcements moved by a reorganisation; they are
 * de-duplicated by (transaction, log index) and by claim CID.
 */
export class VerifierWatcher {
  readonly #dir: string;
  readonly #chain: ChainAccess;
  readonly #verifier: VerifierService;
  readonly #ipfs: () => IpfsService;
  #state: WatchState | null = null;
  #file: string | null = null;
  #opts: ResolvedOptions = {
    signer: { devAccount: 0 },
    lineages: [],
    maxTolerance: DEFAULT_SCORE_TOLERANCE,
    confirmations: 6,
    pollMs: 2_000,
    maxAttempts: 3,
  };
  #address: Address | null = null;
  #loop: Promise<void> | null = null;
  #stopping = false;
  #abortCheck: AbortController | null = null;
  #starting = false;
  #wake: (() => void) | null = null;
  /** Resolved by stop(): a poll waiting on a chain that does not answer is abandoned, not awaited. */
  #stopped: { promise: Promise<void>; resolve: () => void } | null = null;
  #current: string | null = null;
  #latest: number | null = null;
  #error: string | null = null;
  #saving: Promise<void> = Promise.resolve();

  constructor(opts: { dir: string; chain: ChainAccess; verifier: VerifierService; ipfs: () => IpfsService }) {
    this.#dir = opts.dir;
    this.#chain = opts.chain;
    this.#verifier = opts.verifier;
    this.#ipfs = opts.ipfs;
  }

  get running(): boolean {
    return this.#loop !== null;
  }

  async start(opts: WatchOptions): Promise<WatcherStatus> {
    if (this.#loop || this.#starting)
      throw new ApiError('CONFLICT', 'the verifier watcher is already running');
    this.#starting = true;
    try {
      return await this.#start(opts);
    } finally {
      this.#starting = false;
    }
  }

  async #start(opts: WatchOptions): Promise<WatcherStatus> {
    this.#opts = {
      ...this.#opts,
      ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
    } as ResolvedOptions;
    const info = await this.#chain.info();
    this.#address = getAddress(await this.#chain.addressOf(opts.signer));
    // One cursor and queue per deployment and verifier key: verdicts are a verifier's own.
    this.#file = join(
      this.#dir,
      `watch-${info.chainId}-${info.registry.toLowerCase()}-${this.#address.toLowerCase()}.json`,
    );
    this.#state = this.#load(info.chainId, info.registry);
    // An evaluation cut short by a stop or a crash is redone; chain writes are resumed (checked first).
    for (const j of this.#state.jobs)
      if (j.status === 'checking') Object.assign(j, { status: 'queued', step: null });
    await this.#save();
    this.#stopping = false;
    this.#error = null;
    let resolve!: () => void;
    this.#stopped = { promise: new Promise<void>((r) => (resolve = r)), resolve };
    this.#loop = this.#run().finally(() => {
      this.#loop = null;
    });
    return this.status();
  }

  /** Stops after the current step: an evaluation is abandoned (redone next time), a chain write completes. */
  async stop(): Promise<WatcherStatus> {
    this.#stopping = true;
    this.#stopped?.resolve();
    this.#abortCheck?.abort(new Stopped('the watcher is stopping'));
    this.#wake?.();
    await this.#loop;
    return this.status();
  }

  status(): WatcherStatus {
    const s = this.#state;
    return {
      running: this.#loop !== null,
      stopping: this.#loop !== null && this.#stopping,
      verifier: this.#address,
      lineages: this.#opts.lineages,
      chainId: s?.chainId ?? null,
      registry: s ? getAddress(s.registry) : null,
      cursor: s?.cursor ?? null,
      latestBlock: this.#latest,
      ignored: s?.ignored ?? 0,
      current: this.#current,
      jobs: s ? s.jobs.map((j) => ({ ...j })) : [],
      error: this.#error,
    };
  }

  #load(chainId: number, registry: string): WatchState {
    const fresh: WatchState = {
      version: 1,
      chainId,
      registry,
      verifier: this.#address ?? '',
      cursor: null,
      seen: {},
      ignored: 0,
      jobs: [],
    };
    if (!this.#file || !existsSync(this.#file)) return fresh;
    let parsed;
    try {
      parsed = watchStateSchema.safeParse(JSON.parse(readFileSync(this.#file, 'utf8')));
    } catch {
      parsed = null;
    }
    if (!parsed?.success)
      throw new ApiError('FAILED_PRECONDITION', `${this.#file} is damaged: move it away to start over`);
    return parsed.data;
  }

  #save(): Promise<void> {
    const state = this.#state;
    const file = this.#file;
    if (!state || !file) return Promise.resolve();
    state.verifier = this.#address ?? state.verifier;
    const snapshot = JSON.parse(JSON.stringify(state)) as WatchState;
    this.#saving = this.#saving.then(() => writeJsonAtomic(file, snapshot));
    return this.#saving;
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        // A poll only reads the chain and queues announcements (the cursor is saved after them), so one cut
        // short by a stop is safe to drop: the next start reads those blocks again.
        const poll = this.#poll();
        poll.catch(() => undefined);
        await Promise.race([poll, this.#stopped!.promise]);
        if (this.#stopping) break;
        this.#error = null;
        const job = this.#state!.jobs.find((j) => !isDone(j.status));
        if (job) {
          await this.#process(job);
          continue;
        }
      } catch (e) {
        if (e instanceof Stopped) break;
        this.#error = (e as Error).message;
      }
      await this.#sleep(this.#opts.pollMs);
    }
    this.#current = null;
    await this.#save();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.#wake = done;
    }).finally(() => {
      this.#wake = null;
    });
  }

  /** Queues every new announcement up to the latest block, re-reading the confirmation window. */
  async #poll(): Promise<void> {
    const s = this.#state!;
    const stopped = this.#stopped;
    const info = await this.#chain.info();
    const client = await this.#chain.client();
    const latest = await this.#chain.blockNumber();
    this.#latest = latest;
    const deployBlock = Number(info.deployBlock);
    const from =
      s.cursor === null ? deployBlock : Math.max(deployBlock, s.cursor + 1 - this.#opts.confirmations);
    if (from > latest) return;
    const wanted: { log: AnnouncementLog; wanted: boolean | null }[] = [];
    for (let start = from; start <= latest; start += LOG_CHUNK) {
      const end = Math.min(latest, start + LOG_CHUNK - 1);
      const logs = await client.getContractEvents({
        address: info.registry as Address,
        abi: modelRegistryAbi,
        eventName: 'VerificationRequested',
        fromBlock: BigInt(start),
        toBlock: BigInt(end),
      });
      for (const log of logs) wanted.push({ log, wanted: await this.#wanted(s, log) });
    }
    // Everything read: apply in one synchronous step, unless a stop abandoned this poll meanwhile (a stopped
    // or restarted watcher must not see its state changed, or written, by a poll it no longer waits for).
    if (this.#stopping || this.#stopped !== stopped) throw new Stopped('the watcher stopped during a poll');
    for (const { log, wanted: w } of wanted) this.#consider(s, log, w);
    s.cursor = latest;
    const keepFrom = latest - this.#opts.confirmations - 1;
    for (const [k, b] of Object.entries(s.seen)) if (b < keepFrom) delete s.seen[k];
    await this.#save();
  }

  /** Whether an announcement is for this verifier (null: already seen, nothing to ask). */
  async #wanted(s: WatchState, log: AnnouncementLog): Promise<boolean | null> {
    if (`${log.transactionHash}:${log.logIndex}` in s.seen) return null;
    const lineageId = Number(log.args.lineageId);
    return this.#opts.lineages.length
      ? this.#opts.lineages.includes(lineageId)
      : this.#chain.isVerifier(BigInt(lineageId), this.#address!);
  }

  #consider(s: WatchState, log: AnnouncementLog, wanted: boolean | null): void {
    const key = `${log.transactionHash}:${log.logIndex}`;
    if (wanted === null || key in s.seen) return;
    s.seen[key] = Number(log.blockNumber);
    const lineageId = Number(log.args.lineageId);
    const claimCid = String(log.args.claimCid ?? '');
    if (!wanted) {
      s.ignored += 1;
      return;
    }
    // The same claim announced again (or moved by a reorganisation) is one job.
    if (s.jobs.some((j) => j.claimCid === claimCid)) return;
    s.jobs.push({
      claimCid,
      lineageId,
      announcedDigest: log.args.attestationDigest ?? '0x',
      digest: null,
      requester: getAddress(log.args.requester ?? '0x0000000000000000000000000000000000000000'),
      trainer: null,
      announcedAt: {
        blockNumber: Number(log.blockNumber),
        txHash: log.transactionHash,
        logIndex: log.logIndex,
      },
      status: 'queued',
      step: null,
      attempts: 0,
      reason: null,
      message: null,
      metric: null,
      claimedScore: null,
      recomputedScore: null,
      evaluationCid: null,
      txHash: null,
      queuedAt: new Date().toISOString(),
      finishedAt: null,
    });
  }

  async #process(job: WatchJob): Promise<void> {
    this.#current = job.claimCid;
    try {
      if (job.status === 'queued') await this.#check(job);
      if (job.status === 'attesting') await this.#attest(job);
      if (job.status === 'declining') await this.#decline(job);
    } finally {
      this.#current = null;
    }
  }

  async #check(job: WatchJob): Promise<void> {
    if (this.#stopping) throw new Stopped();
    job.status = 'checking';
    job.step = 'fetching the claim';
    job.attempts += 1;
    await this.#save();
    const abort = new AbortController();
    this.#abortCheck = abort;
    let verdict;
    try {
      verdict = await this.#verifier.check(
        { cid: job.claimCid },
        {
          verifier: this.#address!,
          maxTolerance: this.#opts.maxTolerance,
          publishReport: true,
          signal: abort.signal,
          ...(this.#opts.maxModelBytes ? { maxModelBytes: this.#opts.maxModelBytes } : {}),
          onProgress: (stage, done, total) => {
            job.step = total ? `${stage} ${Math.round((100 * done) / total)}%` : stage;
          },
        },
      );
    } catch (e) {
      if (abort.signal.aborted) return this.#requeueStopped(job);
      if (e instanceof ApiError && e.code === 'INVALID_PARAMS') {
        return this.#finish(job, 'refused', 'invalid-claim', e.message);
      }
      return this.#retryOrFail(job, 'error', (e as Error).message);
    } finally {
      this.#abortCheck = null;
    }
    // A cancelled evaluation may come back as a refusal: never publish a verdict the stop cut short.
    if (abort.signal.aborted) return this.#requeueStopped(job);
    const c = verdict.improvement;
    job.trainer = verdict.trainer ? getAddress(verdict.trainer) : null;
    job.metric = verdict.metric;
    job.claimedScore = verdict.claimed.score;
    job.recomputedScore = verdict.recomputed?.score ?? null;
    job.evaluationCid = verdict.recomputed?.evaluationCid ?? null;
    if (c) job.digest = attestationDigest(await this.#chain.domain(), c);
    if (verdict.ok) {
      Object.assign(job, { status: 'attesting', step: 'attesting on chain', reason: null, message: null });
    } else {
      const { reason, message } = verdict.refusal!;
      if (RETRIED_REFUSALS.has(reason) && job.attempts < this.#opts.maxAttempts)
        return this.#retryOrFail(job, reason, message);
      Object.assign(job, { status: 'declining', step: 'publishing the refusal', reason, message });
    }
    await this.#save();
  }

  async #requeueStopped(job: WatchJob): Promise<never> {
    Object.assign(job, { status: 'queued', step: null, attempts: job.attempts - 1 });
    await this.#save();
    throw new Stopped();
  }

  async #retryOrFail(job: WatchJob, reason: string, message: string): Promise<void> {
    if (job.attempts < this.#opts.maxAttempts) {
      Object.assign(job, { status: 'queued', step: null, reason, message });
      // To the back of the queue, so one unreachable claim does not hold up the others.
      const jobs = this.#state!.jobs;
      jobs.splice(jobs.indexOf(job), 1);
      jobs.push(job);
      await this.#save();
      return;
    }
    return this.#finish(job, 'failed', reason, message);
  }

  async #finish(job: WatchJob, status: WatchJob['status'], reason: string | null, message: string | null) {
    Object.assign(job, { status, step: null, reason, message, finishedAt: new Date().toISOString() });
    await this.#save();
  }

  async #attest(job: WatchJob): Promise<void> {
    const digest = job.digest as Hex;
    // After a crash between sending and recording, the chain already holds the attestation: never twice.
    const already = (await this.#chain.readRegistry('hasAttestedOnChain', [
      this.#address,
      digest,
    ])) as boolean;
    if (!already) job.txHash = (await this.#chain.attestOnChain(digest, this.#opts.signer)).txHash;
    await this.#pinVerified(job);
    await this.#finish(job, 'attested', null, null);
  }

  async #decline(job: WatchJob): Promise<void> {
    const digest = (job.digest ?? job.announcedDigest) as Hex;
    if (!UNPUBLISHED_REFUSALS.has(job.reason ?? '') && !(await this.#declinedBefore(job, digest))) {
      const reason = truncateUtf8(`${job.reason}: ${job.message}`, MAX_REASON_BYTES);
      try {
        job.txHash = (
          await this.#chain.declineVerification(BigInt(job.lineageId), digest, reason, this.#opts.signer)
        ).txHash;
      } catch (e) {
        job.message = `${job.message} (the refusal could not be published: ${(e as Error).message})`;
      }
    }
    await this.#finish(job, 'refused', job.reason, job.message);
  }

  async #declinedBefore(job: WatchJob, digest: Hex): Promise<boolean> {
    const info = await this.#chain.info();
    const logs = await (
      await this.#chain.client()
    ).getContractEvents({
      address: info.registry as Address,
      abi: modelRegistryAbi,
      eventName: 'VerificationDeclined',
      args: { lineageId: BigInt(job.lineageId), attestationDigest: digest, verifier: this.#address! },
      fromBlock: BigInt(job.announcedAt.blockNumber),
    });
    return logs.length > 0;
  }

  /** Keeps what this verifier vouched for: the claim, the model and its own report (best effort). */
  async #pinVerified(job: WatchJob): Promise<void> {
    const ipfs = this.#ipfs();
    const cids = [job.claimCid, job.evaluationCid];
    try {
      const claim = await this.#verifier.loadClaim({ cid: job.claimCid });
      cids.push(claim.claim.improvement.modelCid, claim.claim.improvement.metadataCid);
    } catch {
      /* the claim was read moments ago; pinning the rest is enough */
    }
    for (const cid of cids) if (cid) await ipfs.pin(cid).catch(() => undefined);
  }
}

function isDone(status: WatchJob['status']): boolean {
  return status === 'attested' || status === 'refused' || status === 'failed';
}

function truncateUtf8(s: string, maxBytes: number): string {
  const bytes = new TextEncoder().encode(s);
  if (bytes.length <= maxBytes) return s;
  return `${new TextDecoder().decode(bytes.slice(0, maxBytes - 3)).replace(/\uFFFD$/, '')}…`;
}
