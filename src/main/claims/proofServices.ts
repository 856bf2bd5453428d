import { join } from 'node:path';
import type { ChainService } from '../chain/chainService.ts';
import type { DatasetsService } from '../datasets/datasetsService.ts';
import { EvalService } from '../eval/evalService.ts';
import type { IpfsService } from '../ipfs/ipfsService.ts';
import { PipelineRunner } from '../pipelines/pipelineRunner.ts';
import { PipelinesService } from '../pipelines/pipelinesService.ts';
import type { DataDir } from '../services/dataDir.ts';
import type { JobManager } from '../services/jobs.ts';
import { ChainAccess } from './chainAccess.ts';
import { ClaimsService } from './claimsService.ts';
import { VerifierService } from './verifierService.ts';
import { VerifierWatcher } from './verifierWatcher.ts';
import { ClaimNetwork } from './claimNetwork.ts';

/**
 * The proof-of-improvement services (issue 6): evaluation, claims, verifier, pipelines. Creating them costs
 * nothing: IPFS, the chain and ONNX Runtime start on first use, through the getters passed in.
 *
 * Folders in the data directory: claims/ (one JSON per claim, the verifier inbox), pipelines/cache/
 * (stage outputs by key), eval-sets/ (private evaluation sets held by a verifier), demo/.
 */
export interface ProofServices {
  readonly eval: EvalService;
  readonly chainAccess: ChainAccess;
  readonly verifier: VerifierService;
  readonly claims: ClaimsService;
  readonly pipelines: PipelinesService;
  /** The verifier that follows announcements on chain (issue 13). */
  readonly watcher: VerifierWatcher;
  readonly watcherStarted: boolean;
  /** The trainer's side: announce a claim, read verifiers' answers from the chain. */
  readonly claimNetwork: ClaimNetwork;
  readonly dirs: { claims: string; pipelines: string; evalSets: string; demo: string; verifier: string };
}

export function createProofServices(deps: {
  dataDir: DataDir;
  ipfs: () => IpfsService;
  chain: () => ChainService;
  datasets: DatasetsService;
  jobs: JobManager;
}): ProofServices {
  const root = deps.dataDir.root;
  const dirs = {
    claims: join(root, 'claims'),
    pipelines: join(root, 'pipelines'),
    evalSets: join(root, 'eval-sets'),
    demo: join(root, 'demo'),
    verifier: join(root, 'verifier'),
  };
  const evalService = new EvalService({
    ipfs: deps.ipfs,
    heldDir: dirs.evalSets,
    tmpDir: deps.dataDir.tmp,
    modelsDir: deps.dataDir.models,
  });
  let chainAccess: ChainAccess | undefined;
  let verifier: VerifierService | undefined;
  let claims: ClaimsService | undefined;
  let pipelines: PipelinesService | undefined;
  let watcher: VerifierWatcher | undefined;
  let claimNetwork: ClaimNetwork | undefined;
  const bundle: ProofServices = {
    eval: evalService,
    dirs,
    get chainAccess() {
      chainAccess ??= new ChainAccess(deps.chain());
      return chainAccess;
    },
    get verifier() {
      verifier ??= new VerifierService({ eval: evalService, chain: bundle.chainAccess, ipfs: deps.ipfs });
      return verifier;
    },
    get watcher() {
      watcher ??= new VerifierWatcher({
        dir: dirs.verifier,
        chain: bundle.chainAccess,
        verifier: bundle.verifier,
        ipfs: deps.ipfs,
      });
      return watcher;
    },
    get watcherStarted() {
      return watcher !== undefined;
    },
    get claimNetwork() {
      claimNetwork ??= new ClaimNetwork({ claims: () => bundle.claims, chain: bundle.chainAccess });
      return claimNetwork;
    },
    get claims() {
      claims ??= new ClaimsService({
        dir: dirs.claims,
        chain: bundle.chainAccess,
        eval: evalService,
        verifier: bundle.verifier,
        ipfs: deps.ipfs,
      });
      return claims;
    },
    get pipelines() {
      pipelines ??= new PipelinesService({
        runner: new PipelineRunner({
          cacheDir: join(dirs.pipelines, 'cache'),
          datasets: deps.datasets,
          ipfs: deps.ipfs,
          eval: evalService,
          claims: () => bundle.claims,
          chain: () => bundle.chainAccess,
        }),
        jobs: deps.jobs,
      });
      return pipelines;
    },
  };
  return bundle;
}
