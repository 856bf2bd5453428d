import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

/**
 * Builds the desktop app: main (plus the entries that run in their own thread or process, named as
 * src/main/util/entryPath.ts expects), the sandboxed preload (CommonJS, as Electron's sandbox requires),
 * and the renderer. The headless host serves the same renderer build (out/renderer).
 */
const separateEntries = {
  'system-probeProvidersChild': 'src/main/system/probeProvidersChild.ts',
  'engine-trainWorker': 'src/main/engine/trainWorker.ts',
  'eval-evalWorker': 'src/main/eval/evalWorker.ts',
};

export default defineConfig({
  main: {
    build: {
      externalizeDeps: true,
      rollupOptions: {
        input: { index: resolve('src/main/index.ts'), ...separateEntries },
        output: { format: 'es', entryFileNames: '[name].js' },
      },
    },
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    plugins: [react()],
    build: {
      rollupOptions: { input: { index: resolve('src/renderer/index.html') } },
      chunkSizeWarningLimit: 4096,
    },
  },
});
