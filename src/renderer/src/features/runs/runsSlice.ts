import { createSlice } from '@reduxjs/toolkit';
import type { CheckpointInfo, RunSummary, Sample, TrainMetric } from '../../../../shared/api/runs.ts';
import { apiEventReceived, isApiEvent } from '../../app/apiEvents.ts';

export interface RunLogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  time: number;
}

/**
 * What the run events say about each run: its latest summary (status, step, best val loss), the newest
 * training metric (for ETA and throughput), checkpoints, samples and log lines. The long metric series
 * are not kept here but in metricsStore (plain arrays the charts draw from: immutable state would copy
 * them on every point).
 */
interface RunsLiveState {
  summaries: Record<string, RunSummary>;
  lastMetric: Record<string, TrainMetric>;
  checkpoints: Record<string, CheckpointInfo[]>;
  samples: Record<string, Sample[]>;
  logs: Record<string, RunLogLine[]>;
}

const initialState: RunsLiveState = { summaries: {}, lastMetric: {}, checkpoints: {}, samples: {}, logs: {} };
const MAX_SAMPLES = 30;
const MAX_LOGS = 200;

export const runsSlice = createSlice({
  name: 'runs',
  initialState,
  reducers: {},
  extraReducers: (builder) => {
    builder.addCase(apiEventReceived, (state, action) => {
      if (isApiEvent(action, 'run.status')) {
        const { run } = action.payload.payload;
        state.summaries[run.id] = run;
      } else if (isApiEvent(action, 'run.metrics')) {
        const { runId, metric } = action.payload.payload;
        state.lastMetric[runId] = metric;
        const s = state.summaries[runId];
        if (s) {
          s.step = metric.step;
          s.lastMetric = metric;
        }
      } else if (isApiEvent(action, 'run.eval')) {
        const { runId, metric } = action.payload.payload;
        const s = state.summaries[runId];
        if (s) {
          s.lastEval = metric;
          s.bestValLoss = metric.bestValLoss;
        }
      } else if (isApiEvent(action, 'run.checkpoint')) {
        const { runId, checkpoint } = action.payload.payload;
        // One checkpoint per kind (latest, best): the new one replaces its predecessor.
        const list = (state.checkpoints[runId] ?? []).filter((c) => c.kind !== checkpoint.kind);
        list.push(checkpoint);
        state.checkpoints[runId] = list;
      } else if (isApiEvent(action, 'run.sample')) {
        const { runId, sample } = action.payload.payload;
        state.samples[runId] = [sample, ...(state.samples[runId] ?? [])].slice(0, MAX_SAMPLES);
      } else if (isApiEvent(action, 'run.log')) {
        const { runId, level, message, time } = action.payload.payload;
        state.logs[runId] = [...(state.logs[runId] ?? []), { level, message, time }].slice(-MAX_LOGS);
      }
    });
  },
});
