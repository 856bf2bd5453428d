import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './e2e/support/chromium.ts';
import { electronBinary } from './e2e/support/electronApp.ts';

/**
 * Two projects run the same specs:
 *  - "web": the headless host (xai-link serve) with a temporary data directory, driven in Debian's Chromium;
 *  - "electron": the desktop app through Playwright's _electron, only where an Electron binary is
 *    installed (global setup says so when it is not). Specs named *.web.spec.ts need the headless host
 *    (uploads, the host's token, one-off measurements) and run in "web" only.
 */
const hasElectron = electronBinary() !== null;

export default defineConfig({
  testDir: 'e2e',
  globalSetup: './e2e/support/globalSetup.ts',
  fullyParallel: false,
  workers: 1,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    { name: 'web', use: { browserName: 'chromium', launchOptions: chromiumLaunchOptions() } },
    ...(hasElectron ? [{ name: 'electron', testIgnore: /\.web\.spec\.ts$/ }] : []),
  ],
});
