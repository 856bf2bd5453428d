import type { ReactNode } from 'react';
import { ComingSoonPage } from '../features/placeholders/ComingSoonPage.tsx';
import { SystemPage } from '../features/system/SystemPage.tsx';
import type { PageId, Route } from './router.ts';

/** Which component shows each page. Feature folders replace their placeholder here when they land. */
export function renderPage(route: Route): ReactNode {
  const pages: Record<PageId, () => ReactNode> = {
    datasets: () => (
      <ComingSoonPage title="Datasets">
        <p>
          Import text files, clean and deduplicate them, train or pick a tokenizer, and shard tokens into
          train/val files.
        </p>
      </ComingSoonPage>
    ),
    runs: () => (
      <ComingSoonPage title="Runs">
        <p>Start GPT training runs on your CPU or GPU and watch loss curves, samples and checkpoints live.</p>
      </ComingSoonPage>
    ),
    models: () => (
      <ComingSoonPage title="Models">
        <p>Model lineages, evaluations, publishing to IPFS and the claim-improvement wizard.</p>
      </ComingSoonPage>
    ),
    marketplace: () => (
      <ComingSoonPage title="Marketplace">
        <p>Minted model versions with their scores and prices; buy licences and withdraw earnings.</p>
      </ComingSoonPage>
    ),
    leaderboard: () => (
      <ComingSoonPage title="Leaderboard">
        <p>Contributors ranked by proven improvements, best score and licence revenue.</p>
      </ComingSoonPage>
    ),
    ipfs: () => (
      <ComingSoonPage title="IPFS">
        <p>The embedded IPFS node: peer id, online/offline, pins, CAR import and export.</p>
      </ComingSoonPage>
    ),
    wallet: () => (
      <ComingSoonPage title="Wallet">
        <p>Local test accounts of the embedded chain, WalletConnect, network selection and balances.</p>
      </ComingSoonPage>
    ),
    system: () => <SystemPage />,
  };
  return pages[route.page]();
}
