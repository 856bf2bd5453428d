/**
 * The bridge between the sandboxed renderer and main: exposes the API contract as `window.xai` (invoke a
 * request, listen to events, plus a chosen or dropped file's path and the runtime versions) and nothing
 * else. No Node, no ipcRenderer, no channels of choice.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { XaiBridge } from '../shared/api/bridge.ts';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../shared/api/wire.ts';

const bridge: XaiBridge = {
  invoke: (method, params) => ipcRenderer.invoke(IPC_INVOKE_CHANNEL, method, params),
  onEvent(listener) {
    const handler = (_event: IpcRendererEvent, name: string, payload: unknown): void =>
      listener(name, payload);
    ipcRenderer.on(IPC_EVENT_CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT_CHANNEL, handler);
    };
  },
  pathForFile: (file) => webUtils.getPathForFile(file),
  runtime: {
    electron: process.versions.electron ?? '',
    chromium: process.versions.chrome ?? '',
    node: process.versions.node ?? '',
  },
};

contextBridge.exposeInMainWorld('xai', bridge);
