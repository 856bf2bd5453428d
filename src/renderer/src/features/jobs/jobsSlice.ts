import { createSlice } from '@reduxjs/toolkit';
import type { JobProgress, JobSummary } from '../../../../shared/api/jobs.ts';
import { apiEventReceived, isApiEvent } from '../../app/apiEvents.ts';

/** Live progress of long jobs, from job.progress / job.finished events. */
interface JobsState {
  running: Record<string, JobProgress>;
  finished: JobSummary[];
}

const initialState: JobsState = { running: {}, finished: [] };

export const jobsSlice = createSlice({
  name: 'jobs',
  initialState,
  reducers: {},
  extraReducers: (builder) => {
    builder.addCase(apiEventReceived, (state, action) => {
      if (isApiEvent(action, 'job.progress')) {
        state.running[action.payload.payload.jobId] = action.payload.payload;
      } else if (isApiEvent(action, 'job.finished')) {
        const summary = action.payload.payload;
        delete state.running[summary.jobId];
        state.finished = [summary, ...state.finished].slice(0, 50);
      }
    });
  },
});
