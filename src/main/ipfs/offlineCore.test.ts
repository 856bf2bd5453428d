import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { TempRepos } from './testUtil.ts';

const PROBE = fileURLToPath(new URL('./startProbe.ts', import.meta.url));
const repos = new TempRepos();
afterEach(() => repos.cleanup());

interface ProbeResult {
  startMs: number;
  timings: { online: boolean; importMs: number; startMs: number };
  peerId: string;
  online: boolean;
  cid: string | null;
  text: string | null;
  packages: string[];
}

async function probe(repoDir: string, ...args: string[]): Promise<ProbeResult> {
  const { stdout } = await promisify(execFile)(process.execPath, [PROBE, repoDir, ...args], {
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ProbeResult;
}

/** libp2p itself, its transports, encrypters, muxers, discovery, DHT, and Helia's network layers. */
function networkingPackages(packages: string[]): string[] {
  const utilities = new Set([
    '@libp2p/interface',
    '@libp2p/utils',
    '@libp2p/logger',
    '@libp2p/crypto',
    '@libp2p/peer-id',
  ]);
  return packages.filter(
    (p) =>
      p === 'libp2p' ||
      p.startsWith('@chainsafe/libp2p-') ||
      (p.startsWith('@libp2p/') && !utilities.has(p)) ||
      [
        '@helia/bitswap',
        '@helia/libp2p',
        '@helia/http',
        '@helia/block-brokers',
        '@helia/routers',
        '@helia/delegated-routing-v1-http-api-client',
      ].includes(p),
  );
}

describe('the offline IPFS core', () => {
  it('starts in a fresh process without loading any networking module, and works', async () => {
    const repoDir = join(await repos.dir(), 'repo');
    // First start creates the repository and the identity; then a normal start on an existing repository.
    const first = await probe(repoDir, '--add');
    expect(first).toMatchObject({ online: false, text: 'offline probe\n' });
    expect(networkingPackages(first.packages)).toEqual([]);

    const again = await probe(repoDir);
    expect(again.peerId).toBe(first.peerId);
    expect(networkingPackages(again.packages)).toEqual([]);
    // Key generation happens once, when the repository is created; a normal start needs no crypto.
    expect(again.packages).not.toContain('@libp2p/crypto');
    // Helia's own start (modules already loaded) is a matter of milliseconds.
    expect(again.timings.startMs).toBeLessThan(100);
    console.info(
      `offline start in a fresh process: ${again.startMs.toFixed(1)} ms ` +
        `(loading modules + opening the repo ${again.timings.importMs.toFixed(1)} ms, Helia start ${again.timings.startMs.toFixed(1)} ms)`,
    );
  });
});
