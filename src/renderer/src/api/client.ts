import type { XaiBridge } from '../../../shared/api/bridge.ts';
import { ContractClient } from '../../../shared/api/client.ts';
import { WebSocketBridge } from './webSocketBridge.ts';

declare global {
  interface Window {
    xai?: XaiBridge;
  }
}

/**
 * In Electron the preload has put the bridge on `window.xai`; in a browser on the headless host we
 * create the same bridge over the host's WebSocket and put it there too, so the rest of the renderer
 * (and the e2e specs) see one interface.
 */
function resolveBridge(): XaiBridge {
  if (window.xai) return window.xai;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const bridge = new WebSocketBridge(`${scheme}://${location.host}/api/ws`);
  window.xai = bridge;
  return bridge;
}

export const bridge = resolveBridge();
export const inElectron = bridge.runtime.electron !== '';

export const client = new ContractClient((method, params) => bridge.invoke(method, params));
bridge.onEvent((event, payload) => client.dispatchEvent(event, payload));
