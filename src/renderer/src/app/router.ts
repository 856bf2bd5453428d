import { useSyncExternalStore } from 'react';

/**
 * Hash routes (#/runs, #/system …): they work the same from file:// in Electron and over HTTP on
 * the headless host, with no server-side routing.
 */
export const pages = [
  { id: 'datasets', label: 'Datasets' },
  { id: 'runs', label: 'Runs' },
  { id: 'models', label: 'Models' },
  { id: 'marketplace', label: 'Marketplace' },
  { id: 'leaderboard', label: 'Leaderboard' },
  { id: 'ipfs', label: 'IPFS' },
  { id: 'wallet', label: 'Wallet' },
  { id: 'system', label: 'System' },
  { id: 'settings', label: 'Settings' },
] as const;
export type PageId = (typeof pages)[number]['id'];

const DEFAULT_PAGE: PageId = 'runs';

export interface Route {
  page: PageId;
  /** Path segments after the page, e.g. a run id. */
  rest: string[];
}

export function parseHash(hash: string): Route {
  const [first, ...rest] = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const page = pages.find((p) => p.id === first)?.id ?? DEFAULT_PAGE;
  return { page, rest: page === first ? rest : [] };
}

export function hrefFor(page: PageId, ...rest: string[]): string {
  return `#/${[page, ...rest].map(encodeURIComponent).join('/')}`;
}

function subscribe(callback: () => void): () => void {
  window.addEventListener('hashchange', callback);
  return () => window.removeEventListener('hashchange', callback);
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => location.hash);
  return parseHash(hash);
}
