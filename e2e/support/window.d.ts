import type { XaiBridge } from '../../src/shared/api/bridge.ts';

// What the app's page exposes, as the specs see it inside page.evaluate.
declare global {
  interface Window {
    xai?: XaiBridge;
  }
}
