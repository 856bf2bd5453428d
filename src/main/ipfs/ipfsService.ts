import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Helia } from '@helia/interface';
import { CID } from 'multiformats/cid';
import { ApiError } from '../../shared/api/errors.ts';
import type {
  IpfsAddResult,
  IpfsFetch,
  IpfsGetResult,
  IpfsPeer,
  IpfsPin,
  IpfsRepoStat,
  IpfsStatus,
} from '../../shared/api/ipfs.ts';
import {
  formatIpfsPath,
  InvalidIpfsPathError,
  parseIpfsPath,
  type IpfsPath,
} from '../../shared/ipfs/ipfsPath.ts';
import type { ProgressUpdate } from '../services/jobs.ts';
import { RwLock, StallTimer, type ProgressEventLike } from './concurrency.ts';
import type * as CoreModule from './core.ts';
import { loadOrCreateIdentity, privateKeyOf, type StoredIdentity } from './identity.ts';
import { RepoUsers } from './repoUsers.ts';
import type { NetworkConfig, Networking } from './network.ts';

export type { NetworkConfig } from './network.ts';

/** An empty bootstrap list means network.ts's PUBLIC_BOOTSTRAP_PEERS (so offline code need not load network.ts). */
const PUBLIC_BOOTSTRAP_FALLBACK: string[] = [];

export interface IpfsServiceOptions {
  /** The repository folder (DataDir.ipfs): blocks/, datastore/, identity.json. */
  repoDir: string;
  /** Reported to peers (identify) and in Helia's node info. */
  app?: { name: string; version: string };
  /** Defaults for setOnline() fields left out. */
  network?: Partial<NetworkConfig>;
  /** How long an online fetch may go without receiving anything (default 60 s). */
  fetchTimeoutMs?: number;
  log?: (message: string, error?: unknown) => void;
}

export type ProgressFn = (update: ProgressUpdate) => void;

export interface AddOptions {
  /** Kubo-compatible CIDs (CIDv0, 256 KiB chunks…); default: CIDv1, raw leaves, 1 MiB chunks. */
  kubo?: boolean;
  /** Pin the result so garbage collection keeps it (default false, like the CLI's --pin). */
  pin?: boolean;
  /** Include names starting with "." in directory adds (default false, like `ipfs add -r`). */
  hidden?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

/** What a fetching operation hands to Helia and UnixFS (see #fetching). */
interface FetchContext {
  signal: AbortSignal;
  offline: boolean;
  onProgress: ((evt: ProgressEventLike) => void) | undefined;
}

export interface FetchOptions {
  signal?: AbortSignal;
  /** Online only: fail when no block arrives for this long (default: the service's fetchTimeoutMs). */
  timeoutMs?: number;
  onProgress?: ProgressFn;
}

export interface CatOptions extends FetchOptions {
  offset?: number;
  length?: number;
}

/** Timings of the last node start, for the benchmark and the status line. */
export interface StartTimings {
  online: boolean;
  /**
   * First start in this process: loading the core modules (Helia and the stores) and opening the
   * repository (creating the identity the very first time). 0 after that.
   */
  importMs: number;
  /** Creating and starting Helia (and loading + starting libp2p when online). */
  startMs: number;
}

interface RepoHandle {
  core: typeof CoreModule;
  stores: CoreModule.RepoStores;
  identity: StoredIdentity;
  identityFile: string;
}

interface NodeState {
  helia: Helia;
  online: boolean;
  config: NetworkConfig | null;
  networking: Networking | null;
  /** Aborted when the service stops: every operation on this node ends. */
  lifetime: AbortController;
  /** Aborted when networking is turned off: fetches that may wait on the network end. */
  network: AbortController;
}

const DEFAULT_FETCH_TIMEOUT_MS = 60_000;
const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0'];
const SHUTDOWN_GRACE_MS = 10_000;
const MAX_SKIPPED_LISTED = 100;
const MAX_FETCHES_KEPT = 20;

/** A fetch as listed by `fetches()`, counting blocks per sending peer. */
type FetchRecord = IpfsFetch & { peerBlocks: Map<string, number> };

/**
 * The embedded IPFS node (Helia in the main process), for the API handlers and for other services
 * (datasets, evaluation, claims) calling it in-process.
 *
 * - Lazy: constructing it costs nothing; the first call loads the offline core and starts Helia over
 *   the repository (milliseconds, no network, no libp2p module loaded).
 * - setOnline(true) restarts Helia with libp2p + bitswap over the same repository and peer id;
 *   setOnline(false) goes back to the offline core. Calls made meanwhile wait for the switch.
 * - Every block read is verified against its CID; a corrupt one fails with an error naming it.
 * - Offline, content that is not held locally fails at once with NOT_FOUND; online, a fetch fails with
 *   UNAVAILABLE after `timeoutMs` without progress, and any call can be cancelled with its signal.
 */
export class IpfsService {
  readonly repoDir: string;
  readonly #opts: IpfsServiceOptions;
  readonly #app: { name: string; version: string };
  /** Operations hold it shared; switching networking and stopping hold it exclusively. */
  readonly #gate = new RwLock();
  /** Adds, imports and pins hold it shared for their whole run; gc holds it exclusively. */
  readonly #gcLock = new RwLock();
  #repo: Promise<RepoHandle> | undefined;
  #node: Promise<NodeState> | undefined;
  #stopping: Promise<void> | undefined;
  #timings: StartTimings | null = null;
  readonly #users: RepoUsers;
  /** Online fetches in progress and the last ended ones (at most MAX_FETCHES_KEPT), newest last. */
  readonly #fetches: FetchRecord[] = [];

  constructor(opts: IpfsServiceOptions) {
    this.#opts = opts;
    this.repoDir = resolve(opts.repoDir);
    this.#users = new RepoUsers(this.repoDir);
    this.#app = opts.app ?? { name: 'xai-link', version: '0.0.0' };
  }

  get lastStartTimings(): StartTimings | null {
    return this.#timings;
  }

  /** Starts the offline core now instead of on first use. */
  async start(): Promise<void> {
    await this.#use(undefined, async () => undefined);
  }

  /** Stops Helia (and libp2p), ending running operations; later calls fail with UNAVAILABLE. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const node = await this.#node?.catch(() => undefined);
      node?.lifetime.abort(new Error('the IPFS node is shutting down'));
      const timeout = new Promise<null>((r) => setTimeout(() => r(null), SHUTDOWN_GRACE_MS).unref());
      const release = await Promise.race([this.#gate.write(), timeout]);
      try {
        await node?.helia.stop().catch((e: unknown) => this.#log('error while stopping Helia', e));
        const repo = await this.#repo?.catch(() => undefined);
        await repo?.stores.blocks.close().catch(() => undefined);
        await repo?.stores.datastore.close().catch(() => undefined);
        await this.#users.unregister().catch(() => undefined);
      } finally {
        release?.();
      }
    })();
    return this.#stopping;
  }

  // ---------------------------------------------------------------- status and networking

  async status(): Promise<IpfsStatus> {
    return this.#use(undefined, async (node, _signal, repo) => {
      const libp2p = node.networking?.libp2p();
      const peers = libp2p ? new Set(libp2p.getConnections().map((c) => c.remotePeer.toString())).size : 0;
      return {
        peerId: repo.identity.peerId,
        online: node.online,
        publicNetwork: node.config?.publicNetwork ?? false,
        listenAddresses: libp2p ? libp2p.getMultiaddrs().map((a) => a.toString()) : [],
        connectedPeers: peers,
        repo: await this.#repoStat(node, repo),
      };
    });
  }

  /** The peer id, without starting Helia (reads or creates the identity file only). */
  async peerId(): Promise<string> {
    return (await this.#openRepo()).identity.peerId;
  }

  /**
   * Turns networking on or off. Turning it on restarts Helia with libp2p over the same repository and
   * identity; operations started meanwhile wait. Turning it off cancels fetches waiting on the network.
   * If networking fails to start (say, the listen port is taken) the node stays offline and this throws.
   */
  async setOnline(online: boolean, config: Partial<NetworkConfig> = {}): Promise<IpfsStatus> {
    this.#assertRunning();
    const wanted = online ? this.#networkConfig(config) : null;
    if (!online)
      (await this.#node?.catch(() => undefined))?.network.abort(new Error('IPFS networking was turned off'));
    const release = await this.#gate.write();
    try {
      this.#assertRunning();
      const current = await this.#node?.catch(() => undefined);
      if (current && current.online === online && sameConfig(current.config, wanted)) {
        // nothing to change
      } else {
        if (current) {
          current.network.abort(new Error(`IPFS networking was turned ${online ? 'on' : 'off'}`));
          current.lifetime.abort(new Error('the IPFS node restarted'));
          await current.helia.stop().catch((e: unknown) => this.#log('error while stopping Helia', e));
        }
        try {
          await this.#launch(online, wanted);
        } catch (e) {
          if (!online) throw e;
          await this.#launch(false, null).catch(() => undefined);
          throw new ApiError('UNAVAILABLE', `Could not turn IPFS networking on: ${(e as Error).message}`, {
            hint: 'Check the listen addresses (is the port already taken?); the node stays offline.',
          });
        }
      }
    } finally {
      release();
    }
    return this.status();
  }

  async peers(): Promise<IpfsPeer[]> {
    return this.#use(undefined, async (node) => {
      const libp2p = node.networking?.libp2p();
      if (!libp2p) return [];
      return libp2p.getConnections().map((c) => ({
        peerId: c.remotePeer.toString(),
        address: c.remoteAddr.toString(),
        direction: c.direction,
      }));
    });
  }

  /** What is being fetched from the network, and from whom (the IPFS page, `ipfs.fetches`). */
  fetches(): IpfsFetch[] {
    return this.#fetches.map(({ peerBlocks, ...f }) => ({
      ...f,
      peers: [...peerBlocks].map(([peerId, blocks]) => ({ peerId, blocks })),
    }));
  }

  #startFetch(cid: string, action: string): FetchRecord {
    const record: FetchRecord = {
      cid,
      action,
      startedAt: new Date().toISOString(),
      endedAt: null,
      blocks: 0,
      peers: [],
      error: null,
      peerBlocks: new Map<string, number>(),
    };
    this.#fetches.push(record);
    // Drop the oldest ended fetches beyond the limit; fetches in progress always stay listed.
    for (let i = 0; this.#fetches.length > MAX_FETCHES_KEPT && i < this.#fetches.length;) {
      if (this.#fetches[i]!.endedAt !== null) this.#fetches.splice(i, 1);
      else i++;
    }
    return record;
  }

  /** The stall timer's progress handler, also counting each block bitswap delivers and who sent it. */
  #tracked(
    stall: StallTimer | undefined,
    record: FetchRecord | undefined,
  ): ((evt: ProgressEventLike) => void) | undefined {
    if (!stall) return undefined;
    return (evt) => {
      stall.onProgress(evt);
      if (!record || evt.type !== 'bitswap:block') return;
      record.blocks += 1;
      const sender = (evt.detail as { sender?: { toString(): string } } | null)?.sender?.toString();
      if (sender) record.peerBlocks.set(sender, (record.peerBlocks.get(sender) ?? 0) + 1);
    };
  }

  async connect(address: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<IpfsPeer> {
    return this.#use(
      opts.signal,
      async (node, signal) => {
        const libp2p = node.networking?.libp2p();
        if (!libp2p) {
          throw new ApiError('FAILED_PRECONDITION', 'IPFS networking is off: cannot connect to a peer', {
            hint: 'Turn networking on first (ipfs.setOnline, or --online on the CLI).',
          });
        }
        const net = await import('./network.ts');
        try {
          net.checkMultiaddr(address);
        } catch (e) {
          throw new ApiError('INVALID_PARAMS', `"${address}" is not a multiaddr: ${(e as Error).message}`, {
            field: 'address',
          });
        }
        const timeout = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
        try {
          const peer = await net.dialAddress(libp2p, address, AbortSignal.any([signal, timeout]));
          return { peerId: peer.peerId.toString(), address: peer.address, direction: peer.direction };
        } catch (e) {
          if (signal.aborted) throw this.#cancelled(node, opts.signal, `Connecting to ${address}`);
          throw new ApiError(
            'UNAVAILABLE',
            `Could not connect to ${address}: ${timeout.aborted ? 'timed out' : (e as Error).message}`,
            {
              hint: 'Check the address (it should end in /p2p/<peer id>) and that the peer is online and reachable.',
            },
          );
        }
      },
      true,
    );
  }

  // ---------------------------------------------------------------- adding

  /** Adds a file or a directory tree; returns the root CID and what was added. */
  async addPath(path: string, opts: AddOptions = {}): Promise<IpfsAddResult> {
    const kubo = opts.kubo ?? false;
    return this.#use(opts.signal, async (node, signal) => {
      const releaseGc = await this.#gcLock.read();
      try {
        const core = await import('./adder.ts');
        const scan = await core.scanPath(path, { hidden: opts.hidden ?? false, signal });
        opts.onProgress?.({
          stage: 'scanned',
          done: scan.files.length,
          total: scan.files.length,
          unit: 'files',
        });
        let done = 0;
        const total = scan.totalBytes;
        opts.onProgress?.({ stage: 'adding', done, total, unit: 'bytes' });
        const source = core.importCandidates(
          scan,
          (n) => {
            done += n;
            opts.onProgress?.({ stage: 'adding', done, total, unit: 'bytes' });
          },
          signal,
        );
        let root: CID | undefined;
        // Cancellation works through the source: reading files stops with the signal.
        for await (const entry of core.importer(
          source,
          node.helia.blockstore,
          core.importerOptionsFor(kubo ? 'kubo' : 'default'),
        )) {
          if (entry.path === scan.name || (scan.kind === 'file' && root === undefined)) root = entry.cid;
        }
        if (!root) throw new Error(`Adding ${scan.abs} produced no root CID`);
        if (opts.pin) {
          opts.onProgress?.({ stage: 'pinning', done: 0, total: null, unit: 'blocks' });
          await this.#pinLocal(node, root, signal);
        }
        this.#announce(node, root);
        return {
          cid: root.toString(),
          kubo,
          pinned: opts.pin ?? false,
          bytes: scan.totalBytes,
          files: scan.files.length,
          directories: scan.kind === 'directory' ? scan.directories.length + 1 : 0,
          skipped: scan.skipped.slice(0, MAX_SKIPPED_LISTED),
          skippedCount: scan.skipped.length,
        };
      } catch (e) {
        throw this.#toApiError(e, node, { action: `Adding ${path}`, signal: opts.signal });
      } finally {
        releaseGc();
      }
    });
  }

  /** Adds bytes (or a stream of chunks) as one UnixFS file; returns its CID. */
  async addBytes(
    data: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    opts: Omit<AddOptions, 'hidden' | 'onProgress'> = {},
  ): Promise<string> {
    return this.#use(opts.signal, async (node, signal) => {
      const releaseGc = await this.#gcLock.read();
      try {
        const core = await import('./adder.ts');
        let root: CID | undefined;
        const content = isBytes(data) ? data : abortable(data, signal);
        for await (const entry of core.importer(
          [{ content }],
          node.helia.blockstore,
          core.importerOptionsFor(opts.kubo ? 'kubo' : 'default'),
        )) {
          root = entry.cid;
        }
        if (!root) throw new Error('Adding bytes produced no CID');
        if (opts.pin) await this.#pinLocal(node, root, signal);
        this.#announce(node, root);
        return root.toString();
      } catch (e) {
        throw this.#toApiError(e, node, { action: 'Adding bytes', signal: opts.signal });
      } finally {
        releaseGc();
      }
    });
  }

  // ---------------------------------------------------------------- reading

  /** True when the root block is held locally; with `complete`, when every block of the DAG is. */
  async has(cid: string, opts: { complete?: boolean; signal?: AbortSignal } = {}): Promise<boolean> {
    const p = this.#parse(cid, 'cid', false);
    return this.#use(opts.signal, async (node, signal, repo) => {
      const root = CID.parse(p.cid);
      if (!opts.complete) return repo.stores.blocks.has(root);
      try {
        return await (await import('./dag.ts')).hasWholeDag(node.helia, root, signal);
      } catch (e) {
        throw this.#toApiError(e, node, { action: `Checking ${cid}`, cid: p.cid, signal: opts.signal });
      }
    });
  }

  /**
   * Streams a file's content (a CID, or a CID with a path inside it), verifying every block.
   * Offline, content not held locally fails at once (NOT_FOUND); online, missing blocks are fetched.
   */
  async *cat(cid: string, opts: CatOptions = {}): AsyncGenerator<Uint8Array> {
    const p = this.#parse(cid, 'cid');
    const release = await this.#gate.read();
    let node: NodeState | undefined;
    let stall: StallTimer | undefined;
    let record: FetchRecord | undefined;
    try {
      node = await this.#ensureNode();
      const signal = this.#opSignal(node, opts.signal, true);
      stall = node.online ? new StallTimer(opts.timeoutMs ?? this.#fetchTimeout, signal) : undefined;
      record = stall ? this.#startFetch(p.cid, `Reading ${cid}`) : undefined;
      await this.#assertRootAvailable(node, p);
      const reader = await import('./reader.ts');
      const options = {
        signal: stall?.signal ?? signal,
        offline: !node.online,
        offset: opts.offset,
        length: opts.length,
        onProgress: this.#tracked(stall, record),
      };
      for await (const chunk of reader.catFile(node.helia, formatIpfsPath(p), options)) {
        stall?.pause();
        yield chunk;
        stall?.touch();
      }
    } catch (e) {
      const error = this.#toApiError(e, node, {
        action: `Reading ${cid}`,
        cid: p.cid,
        stall,
        signal: opts.signal,
      });
      if (record) record.error = error.message;
      throw error;
    } finally {
      if (record) record.endedAt = new Date().toISOString();
      stall?.dispose();
      release();
    }
  }

  /** Reads up to `maxBytes` of a file into memory; `size` is the whole file's size. */
  async catBytes(
    cid: string,
    opts: CatOptions & { maxBytes?: number } = {},
  ): Promise<{ cid: string; size: number; bytes: Uint8Array; truncated: boolean }> {
    const p = this.#parse(cid, 'cid');
    const maxBytes = opts.maxBytes ?? 1024 * 1024;
    const offset = opts.offset ?? 0;
    const size = await this.#fetching(p, `Reading ${cid}`, opts, async (node, fetch) => {
      const reader = await import('./reader.ts');
      const s = await reader.entryInfo(node.helia, formatIpfsPath(p), fetch);
      if (s.type === 'directory') {
        throw new ApiError('FAILED_PRECONDITION', `${cid} is a directory, not a file`, {
          hint: 'Use ipfs.get (xai-link ipfs get) to write a directory to disk.',
        });
      }
      return Number(s.size);
    });
    const length = Math.max(0, Math.min(maxBytes, size - offset));
    const chunks: Uint8Array[] = [];
    let got = 0;
    if (length > 0) {
      for await (const chunk of this.cat(cid, { ...opts, offset, length })) {
        chunks.push(chunk);
        got += chunk.byteLength;
      }
    }
    const bytes = new Uint8Array(got);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.byteLength;
    }
    return { cid: p.cid, size, bytes, truncated: offset + got < size };
  }

  /**
   * Writes a file or directory to `target`, which must not exist yet. The content goes to a temporary
   * sibling first and is renamed into place only when complete, so a failure leaves nothing half-written.
   */
  async getToDir(cid: string, target: string, opts: FetchOptions = {}): Promise<IpfsGetResult> {
    const p = this.#parse(cid, 'cid');
    const out = resolve(target);
    return this.#fetching(p, `Getting ${cid}`, opts, (node, fetch, stall) =>
      writeViaTemp(out, async (tmp) => {
        let done = 0;
        opts.onProgress?.({ stage: 'writing', done, total: null, unit: 'bytes' });
        const reader = await import('./reader.ts');
        const stats = await reader.writeUnixfsTo(node.helia, formatIpfsPath(p), tmp, {
          ...fetch,
          onBytes: (n) => {
            stall?.touch();
            done += n;
            opts.onProgress?.({ stage: 'writing', done, total: null, unit: 'bytes' });
          },
        });
        return {
          cid: p.cid,
          path: out,
          bytes: stats.bytes,
          files: stats.files,
          directories: stats.directories,
          skipped: stats.skipped.slice(0, MAX_SKIPPED_LISTED),
          skippedCount: stats.skipped.length,
        };
      }),
    );
  }

  // ---------------------------------------------------------------- pins and gc

  /** Pins a DAG recursively; online, missing blocks are fetched first. */
  async pin(cid: string, opts: FetchOptions = {}): Promise<{ cid: string; alreadyPinned: boolean }> {
    const p = this.#parse(cid, 'cid', false);
    return this.#fetching(
      p,
      `Pinning ${cid}`,
      opts,
      async (node, fetch, stall) => {
        const root = CID.parse(p.cid);
        if (await this.#isPinnedRoot(node, root)) return { cid: p.cid, alreadyPinned: true };
        let blocks = 0;
        try {
          for await (const _ of node.helia.pins.add(root, {
            ...fetch,
            metadata: { cid: p.cid },
          } as Parameters<Helia['pins']['add']>[1])) {
            blocks++;
            stall?.touch();
            opts.onProgress?.({ stage: 'pinning', done: blocks, total: null, unit: 'blocks' });
          }
        } catch (e) {
          if ((e as Error).name === 'AlreadyPinnedError') return { cid: p.cid, alreadyPinned: true };
          throw e;
        }
        this.#announce(node, root);
        return { cid: p.cid, alreadyPinned: false };
      },
      this.#gcLock,
    );
  }

  async unpin(cid: string, opts: { signal?: AbortSignal } = {}): Promise<{ cid: string; unpinned: boolean }> {
    const p = this.#parse(cid, 'cid', false);
    return this.#use(opts.signal, async (node, signal) => {
      const root = CID.parse(p.cid);
      if (!(await this.#isPinnedRoot(node, root))) return { cid: p.cid, unpinned: false };
      try {
        for await (const _ of node.helia.pins.rm(root, { signal, offline: true } as Parameters<
          Helia['pins']['rm']
        >[1])) {
          // each block's pin count goes down
        }
      } catch (e) {
        throw this.#toApiError(e, node, { action: `Unpinning ${cid}`, cid: p.cid, signal: opts.signal });
      }
      return { cid: p.cid, unpinned: true };
    });
  }

  async pins(opts: { signal?: AbortSignal } = {}): Promise<IpfsPin[]> {
    return this.#use(opts.signal, async (node, signal) => {
      const out: IpfsPin[] = [];
      for await (const pin of node.helia.pins.ls({ signal })) {
        const shown = typeof pin.metadata?.cid === 'string' ? pin.metadata.cid : pin.cid.toString();
        const recursive = pin.depth === Infinity || pin.depth === null;
        out.push({ cid: shown, recursive, depth: recursive ? null : pin.depth });
      }
      return out.sort((a, b) => a.cid.localeCompare(b.cid));
    });
  }

  async isPinned(cid: string): Promise<boolean> {
    const p = this.#parse(cid, 'cid', false);
    return this.#use(undefined, async (node) => this.#isPinnedRoot(node, CID.parse(p.cid)));
  }

  /** Deletes every block no pin keeps. Waits for running adds, imports and pins to finish first. */
  async gc(
    opts: { signal?: AbortSignal; onProgress?: ProgressFn } = {},
  ): Promise<{ removedBlocks: number; freedBytes: number; repo: IpfsRepoStat }> {
    return this.#use(opts.signal, async (node, signal, repo) => {
      const releaseGc = await this.#gcLock.write();
      try {
        const others = await this.#users.others();
        if (others.length > 0) {
          const who = others.map((u) => `pid ${u.pid}, open since ${u.since}`).join('; ');
          throw new ApiError(
            'FAILED_PRECONDITION',
            `Another XAI-Link process (${who}) has this IPFS repository open; garbage collection now could delete blocks it is adding`,
            {
              hint: `Close it (or let its command finish) and collect garbage again. If no XAI-Link process runs, delete ${join(this.repoDir, 'users')}.`,
            },
          );
        }
        const before = await repo.stores.blocks.size();
        let removed = 0;
        await node.helia.gc({
          signal,
          onProgress: (evt) => {
            if (evt.type === 'helia:gc:deleted') {
              removed++;
              opts.onProgress?.({ stage: 'collecting', done: removed, total: before.blocks, unit: 'blocks' });
            }
          },
        });
        const stat = await this.#repoStat(node, repo);
        return { removedBlocks: removed, freedBytes: Math.max(0, before.bytes - stat.bytes), repo: stat };
      } catch (e) {
        throw this.#toApiError(e, node, { action: 'Garbage collection', signal: opts.signal });
      } finally {
        releaseGc();
      }
    });
  }

  async repoStat(): Promise<IpfsRepoStat> {
    return this.#use(undefined, (node, _signal, repo) => this.#repoStat(node, repo));
  }

  // ---------------------------------------------------------------- CAR

  /** Writes the whole DAG under `cid` (any codec) to a CARv1 file; the file must not exist yet. */
  async exportCar(
    cid: string,
    file: string,
    opts: FetchOptions = {},
  ): Promise<{ cid: string; path: string; blocks: number; bytes: number }> {
    const p = this.#parse(cid, 'cid', false);
    const out = resolve(file);
    return this.#fetching(p, `Exporting ${cid}`, opts, (node, fetch, stall) =>
      writeViaTemp(out, async (tmp) => {
        const { exportCarFile } = await import('./dag.ts');
        const result = await exportCarFile(node.helia, CID.parse(p.cid), tmp, {
          ...fetch,
          onBlock: (blocks, bytes) => {
            stall?.touch();
            opts.onProgress?.({
              stage: 'exporting',
              done: bytes,
              total: null,
              unit: 'bytes',
              message: `${blocks} blocks`,
            });
          },
        });
        return { cid: p.cid, path: out, blocks: result.blocks, bytes: result.bytes };
      }),
    );
  }

  /** Imports every block of a CAR file, each checked against its CID, and (by default) pins its roots. */
  async importCar(
    file: string,
    opts: { pin?: boolean; signal?: AbortSignal; onProgress?: ProgressFn } = {},
  ): Promise<{ roots: string[]; blocks: number; bytes: number; pinned: string[] }> {
    const abs = resolve(file);
    return this.#use(opts.signal, async (node, signal, repo) => {
      const releaseGc = await this.#gcLock.read();
      try {
        const info = await stat(abs).catch((e: unknown) => {
          throw new ApiError('NOT_FOUND', `Cannot read ${abs}: ${(e as Error).message}`);
        });
        if (!info.isFile())
          throw new ApiError(
            'INVALID_PARAMS',
            `${abs} is ${info.isDirectory() ? 'a folder' : 'not a regular file'}, not a CAR file: give the path of a .car file (ipfs export writes one)`,
          );
        let read = 0;
        const result = await (
          await import('./dag.ts')
        ).importCarFile(node.helia, abs, {
          signal,
          onBlock: (blocks, bytes) => {
            read = bytes;
            opts.onProgress?.({
              stage: 'importing',
              done: read,
              total: info.size,
              unit: 'bytes',
              message: `${blocks} blocks`,
            });
          },
        });
        const pinned: string[] = [];
        if (opts.pin ?? true) {
          for (const root of result.roots) {
            if (!(await repo.stores.blocks.has(root))) continue;
            opts.onProgress?.({
              stage: 'pinning',
              done: pinned.length,
              total: result.roots.length,
              unit: 'roots',
            });
            try {
              await this.#pinLocal(node, root, signal);
            } catch (e) {
              throw this.#toApiError(e, node, {
                action: `Imported ${result.blocks} blocks from ${abs}, but pinning root ${root.toString()}`,
                cid: root.toString(),
                signal: opts.signal,
              });
            }
            pinned.push(root.toString());
          }
        }
        for (const root of result.roots) this.#announce(node, root);
        return {
          roots: result.roots.map((r) => r.toString()),
          blocks: result.blocks,
          bytes: result.bytes,
          pinned,
        };
      } catch (e) {
        throw this.#toApiError(e, node, { action: `Importing ${abs}`, signal: opts.signal });
      } finally {
        releaseGc();
      }
    });
  }

  // ---------------------------------------------------------------- internals

  get #fetchTimeout(): number {
    return this.#opts.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  }

  #log(message: string, error?: unknown): void {
    (this.#opts.log ?? ((m: string, e?: unknown) => console.error(`[ipfs] ${m}`, e ?? '')))(message, error);
  }

  #assertRunning(): void {
    if (this.#stopping) throw new ApiError('UNAVAILABLE', 'The IPFS node has been shut down');
  }

  #networkConfig(config: Partial<NetworkConfig>): NetworkConfig {
    const defaults = this.#opts.network ?? {};
    return {
      listen: config.listen ?? defaults.listen ?? DEFAULT_LISTEN,
      publicNetwork: config.publicNetwork ?? defaults.publicNetwork ?? true,
      bootstrap: config.bootstrap ?? defaults.bootstrap ?? PUBLIC_BOOTSTRAP_FALLBACK,
      ...((config.localDiscovery ?? defaults.localDiscovery) ? { localDiscovery: true } : {}),
    };
  }

  #parse(input: string, field: string, allowPath = true): IpfsPath {
    let p: IpfsPath;
    try {
      p = parseIpfsPath(input);
    } catch (e) {
      if (e instanceof InvalidIpfsPathError) throw new ApiError('INVALID_PARAMS', e.message, { field });
      throw e;
    }
    if (!allowPath && p.path !== '') {
      throw new ApiError(
        'INVALID_PARAMS',
        `"${input}" has a path after the CID; give the CID of the DAG itself`,
        { field },
      );
    }
    return p;
  }

  #openRepo(): Promise<RepoHandle> {
    this.#repo ??= (async () => {
      await mkdir(this.repoDir, { recursive: true });
      const core = await import('./core.ts');
      const identityFile = join(this.repoDir, 'identity.json');
      const [stores, identity] = await Promise.all([
        core.openRepoStores(this.repoDir),
        loadOrCreateIdentity(identityFile),
        core.loadHeliaClass(),
      ]);
      await this.#users.register();
      return { core, stores, identity, identityFile };
    })().catch((e: unknown) => {
      this.#repo = undefined;
      throw e;
    });
    return this.#repo;
  }

  #ensureNode(): Promise<NodeState> {
    this.#assertRunning();
    return this.#node ?? this.#launch(false, null);
  }

  /** Starts a node and makes it current; a node that fails to start is forgotten (the next call retries). */
  #launch(online: boolean, config: NetworkConfig | null): Promise<NodeState> {
    const starting = this.#startNode(online, config);
    this.#node = starting;
    starting.catch(() => {
      if (this.#node === starting) this.#node = undefined;
    });
    return starting;
  }

  async #startNode(online: boolean, config: NetworkConfig | null): Promise<NodeState> {
    const t0 = performance.now();
    const firstLoad = this.#repo === undefined;
    const repo = await this.#openRepo();
    const t1 = performance.now();
    const helia = await repo.core.createCoreNode(repo.stores, this.#app);
    let networking: Networking | null = null;
    if (online && config) {
      const net = await import('./network.ts');
      const privateKey = await privateKeyOf(repo.identity, repo.identityFile);
      const bootstrap = config.bootstrap.length > 0 ? config.bootstrap : net.PUBLIC_BOOTSTRAP_PEERS;
      networking = net.attachNetworking(helia, privateKey, { ...config, bootstrap });
    }
    try {
      await helia.start();
    } catch (e) {
      await helia.stop().catch(() => undefined);
      throw e;
    }
    const t2 = performance.now();
    this.#timings = { online, importMs: firstLoad ? t1 - t0 : 0, startMs: firstLoad ? t2 - t1 : t2 - t0 };
    return {
      helia,
      online,
      config,
      networking,
      lifetime: new AbortController(),
      network: new AbortController(),
    };
  }

  /**
   * Runs an operation that may fetch blocks, on the node with networking allowed: its root must be
   * available (offline: held locally); online, a stall timer aborts it when no block arrives for the
   * fetch timeout. Failures become ApiErrors that name `action` and the CID.
   */
  #fetching<T>(
    p: IpfsPath,
    action: string,
    opts: FetchOptions,
    /** `stall` (online only): progress that is not a Helia event (bytes written, blocks exported) touches it. */
    fn: (node: NodeState, fetch: FetchContext, stall: StallTimer | undefined) => Promise<T>,
    /** A lock to hold for the whole operation, taken inside the gate (the order gc takes them in). */
    hold?: RwLock,
  ): Promise<T> {
    return this.#use(
      opts.signal,
      async (node, signal) => {
        const release = await hold?.read();
        const stall = node.online ? new StallTimer(opts.timeoutMs ?? this.#fetchTimeout, signal) : undefined;
        const record = stall ? this.#startFetch(p.cid, action) : undefined;
        try {
          await this.#assertRootAvailable(node, p);
          const fetch = {
            signal: stall?.signal ?? signal,
            offline: !node.online,
            onProgress: this.#tracked(stall, record),
          };
          return await fn(node, fetch, stall);
        } catch (e) {
          const error = this.#toApiError(e, node, { action, cid: p.cid, stall, signal: opts.signal });
          if (record) record.error = error.message;
          throw error;
        } finally {
          if (record) record.endedAt = new Date().toISOString();
          stall?.dispose();
          release?.();
        }
      },
      true,
    );
  }

  /** Runs `fn` on the current node while holding the gate (a networking switch waits for it). */
  async #use<T>(
    signal: AbortSignal | undefined,
    fn: (node: NodeState, signal: AbortSignal, repo: RepoHandle) => Promise<T>,
    network = false,
  ): Promise<T> {
    this.#assertRunning();
    signal?.throwIfAborted();
    const release = await this.#gate.read();
    try {
      const node = await this.#ensureNode().catch((e: unknown) => {
        throw e instanceof ApiError
          ? e
          : new ApiError('UNAVAILABLE', `The IPFS node could not start: ${(e as Error).message}`, {
              hint: `Check that ${this.repoDir} is writable.`,
            });
      });
      const repo = await this.#openRepo();
      return await fn(node, this.#opSignal(node, signal, network), repo);
    } finally {
      release();
    }
  }

  #opSignal(node: NodeState, signal: AbortSignal | undefined, network: boolean): AbortSignal {
    const signals = [node.lifetime.signal];
    if (network) signals.push(node.network.signal);
    if (signal) signals.push(signal);
    return AbortSignal.any(signals);
  }

  async #assertRootAvailable(node: NodeState, p: IpfsPath): Promise<void> {
    if (node.online) return;
    const repo = await this.#openRepo();
    if (!(await repo.stores.blocks.has(CID.parse(p.cid)))) throw offlineMissing(p.cid, false);
  }

  async #isPinnedRoot(node: NodeState, root: CID): Promise<boolean> {
    // pins.get reads the pin's own key (pins.ls({ cid }) does a prefix query that the fs datastore
    // treats as a folder, and cannot format a CIDv0 at all).
    try {
      await node.helia.pins.get(root);
      return true;
    } catch (e) {
      if ((e as Error).name === 'NotFoundError') return false;
      throw e;
    }
  }

  async #pinLocal(node: NodeState, root: CID, signal: AbortSignal): Promise<void> {
    if (await this.#isPinnedRoot(node, root)) return;
    try {
      for await (const _ of node.helia.pins.add(root, {
        signal,
        offline: true,
        metadata: { cid: root.toString() },
      } as Parameters<Helia['pins']['add']>[1])) {
        // every block of the DAG gets a pin reference
      }
    } catch (e) {
      if ((e as Error).name !== 'AlreadyPinnedError') throw e;
    }
  }

  /** Online with the DHT: tell the network we provide `root` (in the background; failures are logged). */
  #announce(node: NodeState, root: CID): void {
    if (!node.online || !node.config?.publicNetwork) return;
    node.helia.routing.provide(root, { signal: node.network.signal }).catch((e: unknown) => {
      if (!node.network.signal.aborted) this.#log(`could not announce ${root.toString()} to the DHT`, e);
    });
  }

  async #repoStat(node: NodeState, repo: RepoHandle): Promise<IpfsRepoStat> {
    const size = await repo.stores.blocks.size();
    let pins = 0;
    for await (const _ of node.helia.pins.ls()) pins++;
    return { path: this.repoDir, blocks: size.blocks, bytes: size.bytes, pins };
  }

  #cancelled(node: NodeState, userSignal: AbortSignal | undefined, action: string): ApiError {
    if (node.lifetime.signal.aborted)
      return new ApiError('UNAVAILABLE', `${action} stopped: the IPFS node is shutting down or restarting`);
    if (node.network.signal.aborted && !userSignal?.aborted) {
      return new ApiError('CANCELLED', `${action} was cancelled: IPFS networking was turned off`);
    }
    return new ApiError('CANCELLED', `${action}: cancelled`);
  }

  /** Turns what Helia, the importer/exporter and the file system throw into ApiErrors users can act on. */
  #toApiError(
    e: unknown,
    node: NodeState | undefined,
    ctx: { action: string; cid?: string; stall?: StallTimer; signal?: AbortSignal },
  ): Error {
    if (e instanceof ApiError) return e;
    const err = e as Error & { code?: string };
    const name = err?.name ?? '';
    const message = err?.message ?? String(e);
    if (ctx.stall?.timedOut) {
      const what = ctx.stall.lastWanted
        ? `block ${ctx.stall.lastWanted}`
        : `the next block of ${ctx.cid ?? 'the content'}`;
      return new ApiError(
        'UNAVAILABLE',
        `${ctx.action} timed out: no peer sent ${what} within ${Math.round(ctx.stall.ms / 1000)} s`,
        {
          hint: 'Connect to a peer that has the content (xai-link ipfs connect / ipfs.connect), or allow a longer timeout.',
        },
      );
    }
    // An aborted fetch surfaces as an AbortError, or from Helia as LoadBlockFailedError (all retrievers failed).
    if (
      node &&
      (node.lifetime.signal.aborted ||
        ctx.signal?.aborted ||
        (node.network.signal.aborted && (isAbortLike(e) || name === 'LoadBlockFailedError')))
    ) {
      return this.#cancelled(node, ctx.signal, ctx.action);
    }
    if (
      name === 'NotACarFileError' ||
      name === 'NotAFileOrFolderError' ||
      err?.code === 'ERR_INVALID_ARG_VALUE'
    )
      return new ApiError('INVALID_PARAMS', `${ctx.action} failed: ${message}`);
    if (err?.code === 'EROFS' || (err?.code === 'ENOENT' && repoReadOnly(this.repoDir, e)))
      return new ApiError('FAILED_PRECONDITION', `${ctx.action} failed: the disk is read-only (${message})`, {
        hint: `Make ${this.repoDir} writable (or choose another data directory with --data-dir) and try again.`,
      });
    if (name === 'CorruptBlockError' || name === 'InvalidCarBlockError') {
      return new ApiError('FAILED_PRECONDITION', message, {
        hint:
          name === 'CorruptBlockError'
            ? 'The repository is damaged; the bad block was moved aside so the content can be added or fetched again.'
            : undefined,
      });
    }
    if (
      name === 'BlockNotFoundWhileOfflineError' ||
      (name === 'InvalidConfigurationError' && /block brokers/.test(message))
    ) {
      return offlineMissing(ctx.cid ?? 'The content', true);
    }
    if (name === 'LoadBlockFailedError') {
      return new ApiError(
        'UNAVAILABLE',
        `${ctx.action} failed: a block could not be fetched from any peer (${message})`,
        {
          hint: 'Connect to a peer that has the content (xai-link ipfs connect / ipfs.connect).',
        },
      );
    }
    if (
      name === 'DoesNotExistError' ||
      (name === 'NotFoundError' && /does not exist|no link named|not found/i.test(message) && ctx.cid)
    ) {
      return new ApiError('NOT_FOUND', `${ctx.action} failed: ${message}`);
    }
    if (
      [
        'IsADirectoryError',
        'NotAFileError',
        'NotUnixFSError',
        'NoContentError',
        'NotUnixFSContentError',
        'UnsafeEntryNameError',
        'NotADirectoryError',
      ].includes(name)
    ) {
      return new ApiError('FAILED_PRECONDITION', `${ctx.action} failed: ${message}`);
    }
    if (name === 'InvalidDatastoreVersionError') {
      return new ApiError(
        'FAILED_PRECONDITION',
        `The IPFS repository at ${this.repoDir} was written by a newer version: ${message}`,
      );
    }
    if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') return new ApiError('NOT_FOUND', message);
    if (err?.code === 'EACCES' || err?.code === 'EPERM') return new ApiError('FAILED_PRECONDITION', message);
    if (err?.code === 'EEXIST') return new ApiError('CONFLICT', message);
    if (name === 'SourceFsError') return new ApiError('FAILED_PRECONDITION', message);
    if (/Unsupported multihash|No codec for|No hasher for/.test(message))
      return new ApiError('FAILED_PRECONDITION', `${ctx.action} failed: ${message}`);
    // Unexpected: keep the original error (and its stack) for the log; the dispatcher reports INTERNAL.
    if (e instanceof Error) {
      e.message = `${ctx.action} failed: ${message}`;
      return e;
    }
    return new Error(`${ctx.action} failed: ${message}`);
  }
}

/** A write inside the repository failed with ENOENT because the disk is read-only (mkdir says ENOENT there). */
function repoReadOnly(repoDir: string, e: unknown): boolean {
  const path = (e as NodeJS.ErrnoException).path;
  if (!path?.startsWith(repoDir)) return false;
  try {
    accessSync(repoDir, fsConstants.W_OK);
    return false;
  } catch (probe) {
    return (probe as NodeJS.ErrnoException).code === 'EROFS';
  }
}

function isBytes(data: unknown): data is Uint8Array {
  return data instanceof Uint8Array;
}

async function* abortable(
  source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    signal.throwIfAborted();
    yield chunk;
  }
}

function offlineMissing(cid: string, partial: boolean): ApiError {
  const what = partial
    ? `${cid} is not completely in the local IPFS repository (some blocks are missing)`
    : `${cid} is not in the local IPFS repository`;
  return new ApiError('NOT_FOUND', `${what} and IPFS networking is off, so it cannot be fetched`, {
    hint: 'Turn networking on and connect to a peer that has it (xai-link ipfs get <cid> --online --peer <multiaddr>), or import a CAR file that contains it.',
  });
}

function isAbortLike(e: unknown): boolean {
  const name = (e as Error | null)?.name;
  return (
    name === 'AbortError' || name === 'TimeoutError' || (e as { code?: string } | null)?.code === 'ABORT_ERR'
  );
}

function sameConfig(a: NetworkConfig | null, b: NetworkConfig | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Writes `out` (which must not exist) through a temporary sibling renamed into place only when `write`
 * succeeds, so a failure or a cancel leaves nothing half-written.
 */
async function writeViaTemp<T>(out: string, write: (tmp: string) => Promise<T>): Promise<T> {
  await assertFree(out);
  await mkdir(dirname(out), { recursive: true });
  const tmp = join(dirname(out), `.${basename(out)}.partial-${randomBytes(4).toString('hex')}`);
  try {
    const result = await write(tmp);
    await assertFree(out);
    await rename(tmp, out);
    return result;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function assertFree(path: string): Promise<void> {
  try {
    await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  throw new ApiError('CONFLICT', `${path} already exists`, {
    hint: 'Choose another output path or remove the existing one.',
  });
}
