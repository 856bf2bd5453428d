import type { LaunchOptions } from 'playwright';

/**
 * Playwright cannot download its own browser here, so the specs drive Debian's Chromium
 * (XAI_LINK_CHROMIUM overrides the path). The flags keep a headless, offline Chromium quiet:
 * no background services that would try to reach the network.
 */
export const CHROMIUM_PATH = process.env.XAI_LINK_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumLaunchOptions(): LaunchOptions {
  return {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  };
}
