import { readFileSync } from 'node:fs';

/** Name and version from package.json, read once (works from the source tree and from the built app). */
export function readAppIdentity(): { name: string; version: string } {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        productName?: string;
        version?: string;
      };
      if (pkg.name === 'xai-link')
        return { name: pkg.productName ?? 'XAI-Link', version: pkg.version ?? '0.0.0' };
    } catch {
      // try the next location
    }
  }
  return { name: 'XAI-Link', version: '0.0.0' };
}
