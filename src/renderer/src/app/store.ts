import { configureStore } from '@reduxjs/toolkit';
import { setupListeners } from '@reduxjs/toolkit/query';
import { bridge, client } from '../api/client.ts';
import { xaiApi } from '../api/xaiApi.ts';
import { connectionSlice } from '../features/connection/connectionSlice.ts';
import { jobsSlice } from '../features/jobs/jobsSlice.ts';
import { apiEventReceived } from './apiEvents.ts';
import { WebSocketBridge } from '../api/webSocketBridge.ts';

export const store = configureStore({
  reducer: {
    [xaiApi.reducerPath]: xaiApi.reducer,
    jobs: jobsSlice.reducer,
    connection: connectionSlice.reducer,
  },
  middleware: (getDefault) => getDefault().concat(xaiApi.middleware),
});

setupListeners(store.dispatch);
bridge.onEvent((event, payload) => store.dispatch(apiEventReceived({ event, payload })));
if (bridge instanceof WebSocketBridge) {
  store.dispatch(connectionSlice.actions.changed(bridge.state));
  bridge.onStateChange((state) => {
    store.dispatch(connectionSlice.actions.changed(state));
    // After a reconnect, whatever was fetched may be stale.
    if (state === 'open') store.dispatch(xaiApi.util.invalidateTags(['System', 'Settings', 'Jobs']));
  });
}
void client;

export type RootState = ReturnType<typeof store.getState>;
export type AppDispatch = typeof store.dispatch;
