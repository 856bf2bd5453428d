import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null | undefined;

/**
 * The folder of XAI-Link's own package.json: the checkout when running from source (src/main/…), and the
 * app folder (or app.asar) when running the electron-vite bundle (out/main/…). Paths to things the app
 * ships (resources/, contracts/deployments/, out/renderer/) start here, so they do not depend on how deep
 * the running file sits. null when no such package.json is found above this file.
 */
export function appRoot(): string | null {
  if (cached !== undefined) return cached;
  cached = null;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && isOurManifest(manifest)) {
      cached = dir;
      break;
    }
    if (dirname(dir) === dir) break;
  }
  return cached;
}

function isOurManifest(file: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === 'xai-link';
  } catch {
    return false;
  }
}
