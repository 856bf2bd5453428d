import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../util/appRoot.ts';

/** Name and version from package.json, read once (works from the source tree and from the built app). */
export function readAppIdentity(): { name: string; version: string } {
  const root = appRoot();
  if (root) {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      productName?: string;
      version?: string;
    };
    return { name: pkg.productName ?? 'XAI-Link', version: pkg.version ?? '0.0.0' };
  }
  return { name: 'XAI-Link', version: '0.0.0' };
}
