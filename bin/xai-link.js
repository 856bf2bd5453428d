#!/usr/bin/env node
// The `xai-link` command. XAI-Link runs on Node 22.18+ (it runs its TypeScript sources directly);
// if an older Node started this file, hand over to the Node 22 the project pins in node_modules.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (existsSync(pinned) && !process.env.XAI_LINK_REEXEC) {
    const r = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, XAI_LINK_REEXEC: '1' },
    });
    process.exit(r.status ?? 1);
  }
  console.error(
    `XAI-Link needs Node.js 22.18 or newer; this is ${process.version}. Run "npm ci" in the project (it pins Node 22) or install Node 22.`,
  );
  process.exit(2);
}

const { runCli } = await import('../src/main/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
