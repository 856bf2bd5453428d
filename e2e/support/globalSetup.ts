import { existsSync } from 'node:fs';
import { CHROMIUM_PATH } from './chromium.ts';
import { electronBinary } from './electronApp.ts';

export default function globalSetup(): void {
  if (!existsSync('out/renderer/index.html') || !existsSync('out/main/index.js')) {
    throw new Error('The app is not built: run "npm run build" before the e2e tests (npm test does).');
  }
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `No Chromium at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install chromium) or set XAI_LINK_CHROMIUM.`,
    );
  }
  if (!electronBinary()) {
    console.log(
      '[e2e] project "electron" NOT RUN: no Electron binary is installed (npm was run with ELECTRON_SKIP_BINARY_DOWNLOAD=1, ' +
        'or the download failed). The same specs ran in project "web" against the headless host. ' +
        'Install Electron normally (npm ci with internet access) to run them in the desktop app too.',
    );
  }
}
