import type { EntryPoint } from '../../shared/api/system.ts';
import { ChainService } from '../chain/chainService.ts';
import { ChainlinkService } from '../chainlink/chainlinkService.ts';
import { resolveClaim } from '../chainlink/claimResolver.ts';
import { createProofServices, type ProofServices } from '../claims/proofServices.ts';
import { DatasetsService } from '../datasets/datasetsService.ts';
import { IpfsService } from '../ipfs/ipfsService.ts';
import { EventBus } from '../rpc/eventBus.ts';
import { RunsService } from '../runs/runsService.ts';
import { SettingsService } from '../settings/settingsService.ts';
import { SystemService, type RuntimeVersions } from '../system/systemService.ts';
import { readAppIdentity } from './appInfo.ts';
import { DataDir } from './dataDir.ts';
import { JobManager } from './jobs.ts';

export interface ServicesOptions {
  dataDir: string;
  entryPoint: EntryPoint;
  runtime?: RuntimeVersions;
}

/**
 * Every main-process service, created once per process and shared by all entry points.
 * Heavy services (IPFS node, chain, training workers) must start lazily on first use, so that
 * `xai-link info` or opening the window stays fast.
 */
export interface AppServices {
  readonly dataDir: DataDir;
  readonly events: EventBus;
  readonly jobs: JobManager;
  readonly settings: SettingsService;
  readonly system: SystemService;
  /** The embedded IPFS node: created on first access, Helia started on first use, stopped on dispose. */
  readonly ipfs: IpfsService;
  /** Prepared datasets in datasets/ (preparation runs as a job). */
  readonly datasets: DatasetsService;
  /** The chain: embedded anvil (started on first use, stopped on dispose if this process started it) or an RPC network. */
  readonly chain: ChainService;
  /** Training runs in runs/ (each active run trains in a worker thread; created on first access). */
  readonly runs: RunsService;
  /** Proof of improvement: evaluation, claims, verifier, pipelines (created on first access; each starts IPFS/chain lazily). */
  readonly proof: ProofServices;
  /** Chainlink attestation: the FunctionsAttestor and its Functions requests (created on first access). */
  readonly chainlink: ChainlinkService;
  /** Stops everything that runs (cancels jobs, stops nodes and child processes); call once on exit. */
  dispose(): Promise<void>;
}

export function createServices(opts: ServicesOptions): AppServices {
  const dataDir = new DataDir(opts.dataDir).ensure();
  const events = new EventBus();
  const jobs = new JobManager(events);
  const settings = new SettingsService(dataDir.settingsFile);
  const system = new SystemService({
    app: readAppIdentity(),
    dataDir: dataDir.root,
    entryPoint: opts.entryPoint,
    runtime: opts.runtime ?? { electron: null, chromium: null },
  });

  const disposers: (() => Promise<void> | void)[] = [() => jobs.cancelAll()];
  let disposed: Promise<void> | undefined;
  const datasets = new DatasetsService({
    root: dataDir.datasets,
    jobs,
    generator: readAppIdentity(),
    publisher: () => services.ipfs,
  });
  let ipfs: IpfsService | undefined;
  disposers.push(() => ipfs?.stop());
  let chain: ChainService | undefined;
  let runs: RunsService | undefined;
  let proof: ProofServices | undefined;
  let chainlink: ChainlinkService | undefined;
  disposers.push(() => runs?.dispose());
  disposers.push(() => chain?.dispose());
  // Disposed first (the list runs in reverse): the watcher finishes its step while IPFS and the chain run.
  disposers.push(async () => {
    if (proof?.watcherStarted) await proof.watcher.stop();
  });

  const services: AppServices = {
    dataDir,
    events,
    jobs,
    settings,
    system,
    datasets,
    get chain() {
      chain ??= new ChainService({
        chainDir: dataDir.chain,
        onChange: (p) => events.emit('chain.changed', p),
      });
      return chain;
    },
    get runs() {
      runs ??= new RunsService({ runsDir: dataDir.runs, events });
      return runs;
    },
    get ipfs() {
      ipfs ??= new IpfsService({ repoDir: dataDir.ipfs, app: readAppIdentity() });
      return ipfs;
    },
    get proof() {
      proof ??= createProofServices({
        dataDir,
        ipfs: () => services.ipfs,
        chain: () => services.chain,
        datasets,
        jobs,
      });
      return proof;
    },
    get chainlink() {
      chainlink ??= new ChainlinkService({
        settings,
        chain: () => services.chain,
        claims: (ref) => resolveClaim(services.proof, ref),
      });
      return chainlink;
    },
    dispose() {
      disposed ??= (async () => {
        // Reverse order of creation: later services may depend on earlier ones.
        for (const d of disposers.reverse()) {
          try {
            await d();
          } catch (e) {
            console.error('error while shutting down', e);
          }
        }
      })();
      return disposed;
    },
  };
  return services;
}
