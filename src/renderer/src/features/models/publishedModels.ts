import { useSyncExternalStore } from 'react';

/**
 * Model packages published from this UI, per run: the model CID is what a claim needs next, so it is kept
 * (in the browser's storage) until the claim is started, even across a reload. The IPFS node keeps the
 * package itself, pinned.
 */
export interface PublishedModel {
  runId: string;
  step: number;
  modelCid: string;
  checkpointCid: string;
  name: string;
  publishedAt: number;
}

const KEY = 'xai-link.publishedModels';
const listeners = new Set<() => void>();
let cache: Record<string, PublishedModel> | null = null;

function read(): Record<string, PublishedModel> {
  if (cache) return cache;
  try {
    cache = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Record<string, PublishedModel>;
  } catch {
    cache = {};
  }
  return cache;
}

export function rememberPublished(m: PublishedModel): void {
  cache = { ...read(), [m.runId]: m };
  localStorage.setItem(KEY, JSON.stringify(cache));
  for (const l of listeners) l();
}

export function usePublishedModels(): Record<string, PublishedModel> {
  return useSyncExternalStore((cb) => {
    listeners.add(cb);
    return () => listeners.delete(cb);
  }, read);
}
