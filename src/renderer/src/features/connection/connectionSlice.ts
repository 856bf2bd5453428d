import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import type { ConnectionState } from '../../api/webSocketBridge.ts';

/** Whether the page is connected to main (always "open" in Electron). */
export const connectionSlice = createSlice({
  name: 'connection',
  initialState: { state: 'open' as ConnectionState },
  reducers: {
    changed(state, action: PayloadAction<ConnectionState>) {
      state.state = action.payload;
    },
  },
});
