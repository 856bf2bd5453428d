import { configureStore } from '@reduxjs/toolkit';
import { setupListeners } from '@reduxjs/toolkit/query';
import { bridge, client } from '../api/client.ts';
import { ALL_TAGS, xaiApi } from '../api/xaiApi.ts';
import { connectionSlice } from '../features/connection/connectionSlice.ts';
import { jobsSlice } from '../features/jobs/jobsSlice.ts';
import { metricsListener } from '../features/runs/metricsStore.ts';
import { runsSlice } from '../features/runs/runsSlice.ts';
import { apiEventReceived } from './apiEvents.ts';
import { eventInvalidation } from './eventInvalidation.ts';
import { WebSocketBridge } from '../api/webSocketBridge.ts';

export const store = configureStore({
  reducer: {
    [xaiApi.reducerPath]: xaiApi.reducer,
    jobs: jobsSlice.reducer,
    runs: runsSlice.reducer,
    connection: connectionSlice.reducer,
  },
  middleware: (getDefault) =>
    getDefault().prepend(eventInvalidation.middleware, metricsListener.middleware).concat(xaiApi.middleware),
});

setupListeners(store.dispatch);
bridge.onEvent((event, payload) => store.dispatch(apiEventReceived({ event, payload })));
if (bridge instanceof WebSocketBridge) {
  store.dispatch(connectionSlice.actions.changed(bridge.state));
  bridge.onStateChange((state) => {
    store.dispatch(connectionSlice.actions.changed(state));
    // After a reconnect, whatever was fetched may be stale.
    if (state === 'open') store.dispatch(xaiApi.util.invalidateTags([...ALL_TAGS]));
  });
}
void client;

export type RootState = ReturnType<typeof store.getState>;
export type AppDispatch = typeof store.dispatch;
