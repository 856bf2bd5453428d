import { lazy, Suspense, type ReactNode } from 'react';
import { Loading } from '../components/StatusViews.tsx';
import { DatasetsPage } from '../features/datasets/DatasetsPage.tsx';
import { IpfsPage } from '../features/ipfs/IpfsPage.tsx';
import { RunsPage } from '../features/runs/RunsPage.tsx';
import { SystemPage } from '../features/system/SystemPage.tsx';
import type { PageId, Route } from './router.ts';

// The chain pages bring wagmi, viem and the WalletConnect client: loaded when first opened.
const ModelsPage = lazy(() =>
  import('../features/models/ModelsPage.tsx').then((m) => ({ default: m.ModelsPage })),
);
const MarketplacePage = lazy(() =>
  import('../features/marketplace/MarketplacePage.tsx').then((m) => ({ default: m.MarketplacePage })),
);
const LeaderboardPage = lazy(() =>
  import('../features/leaderboard/LeaderboardPage.tsx').then((m) => ({ default: m.LeaderboardPage })),
);
const WalletPage = lazy(() =>
  import('../features/wallet/WalletPage.tsx').then((m) => ({ default: m.WalletPage })),
);
// Its Chainlink card brings viem's address helpers (Sepolia's values), like the chain pages.
const SettingsPage = lazy(() =>
  import('../features/settings/SettingsPage.tsx').then((m) => ({ default: m.SettingsPage })),
);

/** Which component shows each page. */
export function renderPage(route: Route): ReactNode {
  const pages: Record<PageId, () => ReactNode> = {
    datasets: () => <DatasetsPage rest={route.rest} />,
    runs: () => <RunsPage rest={route.rest} />,
    models: () => <ModelsPage rest={route.rest} />,
    marketplace: () => <MarketplacePage />,
    leaderboard: () => <LeaderboardPage />,
    ipfs: () => <IpfsPage />,
    wallet: () => <WalletPage />,
    system: () => <SystemPage />,
    settings: () => <SettingsPage />,
  };
  return <Suspense fallback={<Loading what="the page" />}>{pages[route.page]()}</Suspense>;
}
