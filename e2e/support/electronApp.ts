import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The Electron binary npm installed, or null when its download was skipped (as on CI here). */
export function electronBinary(): string | null {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}
