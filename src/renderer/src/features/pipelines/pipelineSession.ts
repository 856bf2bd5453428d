import { useSyncExternalStore } from 'react';
import type { PipelineRunResult } from '../../../../shared/pipelines/pipeline.ts';

/**
 * The pipeline file chosen on the Pipelines view and its latest run, kept in the tab's session storage:
 * a run goes on while the user creates a lineage or connects a wallet on another page, and its result
 * (what "Claim improvement" needs) is still there when they come back, even after a reload.
 */
export interface ChosenPipeline {
  /** A path on the machine that runs XAI-Link (an uploaded copy, a typed path, or the example). */
  file: string;
  /** What the user chose, in their words: the file's name. */
  name: string;
}

export interface PipelineRun {
  file: string;
  result: PipelineRunResult;
  finishedAt: number;
}

export interface PipelineSession {
  chosen: ChosenPipeline | null;
  lastRun: PipelineRun | null;
}

const KEY = 'xai-link.pipelines';
const listeners = new Set<() => void>();
let cache: PipelineSession | null = null;

function read(): PipelineSession {
  if (cache) return cache;
  try {
    cache = { chosen: null, lastRun: null, ...(JSON.parse(sessionStorage.getItem(KEY) ?? '{}') as object) };
  } catch {
    cache = { chosen: null, lastRun: null };
  }
  return cache;
}

function write(next: PipelineSession): void {
  cache = next;
  sessionStorage.setItem(KEY, JSON.stringify(next));
  for (const l of listeners) l();
}

export function choosePipeline(chosen: ChosenPipeline): void {
  write({ ...read(), chosen });
}

export function recordPipelineRun(run: PipelineRun): void {
  write({ ...read(), lastRun: run });
}

export function usePipelineSession(): PipelineSession {
  return useSyncExternalStore((cb) => {
    listeners.add(cb);
    return () => listeners.delete(cb);
  }, read);
}
