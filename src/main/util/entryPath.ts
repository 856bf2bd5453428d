import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/**
 * Some code runs in its own thread or process (the training worker, the provider probe). From the
 * source tree (Node 22 runs our TypeScript directly) that is a `.ts` file under src/main; in the
 * built desktop app electron-vite emits it as `<name>.js` next to the main bundle. The Electron entry
 * calls `useBundledEntries(dir)` at start-up; everything else asks `entryPath(name)`.
 */
let bundleDir: string | null = null;

export function useBundledEntries(dir: string): void {
  bundleDir = dir;
}

/** `name` is the path under src/main without extension, e.g. "engine/trainWorker". */
export function entryPath(name: string): string {
  if (bundleDir) return join(bundleDir, `${name.replaceAll('/', '-')}.js`);
  return fileURLToPath(new URL(`../${name}.ts`, import.meta.url));
}
