import { claimsHandlers } from '../claims/claimsHandlers.ts';
import { verifierNetworkHandlers } from '../claims/verifierNetworkHandlers.ts';
import { datasetsHandlers } from '../datasets/datasetsHandlers.ts';
import { evalHandlers } from '../eval/evalHandlers.ts';
import { ipfsHandlers } from '../ipfs/ipfsHandlers.ts';
import { pipelinesHandlers } from '../pipelines/pipelinesHandlers.ts';
import { jobsHandlers } from '../services/jobsHandlers.ts';
import { runsHandlers } from '../runs/runsHandlers.ts';
import type { AppServices } from '../services/services.ts';
import { chainHandlers } from '../chain/chainHandlers.ts';
import { chainlinkHandlers } from '../chainlink/chainlinkHandlers.ts';
import { settingsHandlers } from '../settings/settingsHandlers.ts';
import { systemHandlers } from '../system/systemHandlers.ts';
import type { ApiHandlers } from './dispatcher.ts';

/** Joins every domain's handlers; the type makes sure no request of the contract is left without one. */
export function createHandlers(services: AppServices): ApiHandlers {
  return {
    ...systemHandlers(services.system),
    ...settingsHandlers(services.settings),
    ...jobsHandlers(services.jobs),
    ...runsHandlers(() => services.runs),
    ...chainHandlers(() => services.chain),
    ...chainlinkHandlers(() => services.chainlink),
    ...ipfsHandlers(() => services.ipfs, services.jobs),
    ...datasetsHandlers(services.datasets),
    ...evalHandlers(
      () => services.proof,
      services.jobs,
      () => services.ipfs,
    ),
    ...claimsHandlers(() => services.proof, services.jobs),
    ...verifierNetworkHandlers(() => services.proof),
    ...pipelinesHandlers(
      () => services.proof,
      () => services.chain,
      services.jobs,
      services.dataDir.root,
    ),
  };
}
