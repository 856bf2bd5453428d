/**
 * The offline IPFS core: Helia over the on-disk repository, with no libp2p at all. This module is
 * loaded by IpfsService on first use (dynamic import), so starting the app never pays for it. It holds
 * only what starting needs; adding (adder.ts), reading (reader.ts) and CAR/DAG work (dag.ts) load on
 * their first use, and the networking stack (network.ts) only when networking is turned on.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import type { Helia } from '@helia/interface';
import { FsDatastore } from 'datastore-fs';
import type { HeliaInit } from 'helia';
import type { BlockCodec } from 'multiformats/codecs/interface';
import type { MultihashHasher } from 'multiformats/hashes/interface';
import { sha512 } from 'multiformats/hashes/sha2';
import { RepoBlockstore } from './repoBlockstore.ts';

type HeliaClass = new (init: HeliaInit & { name: string; version: string }) => Helia;

let heliaClass: Promise<HeliaClass> | undefined;

/**
 * Helia's node class without its networking. `import 'helia'` pulls in libp2p, every libp2p transport,
 * WebRTC, HTTP gateways and bitswap (about a second of module loading) because its entry module wires
 * them in statically; the class itself (`helia/dist/src/helia.js`, what `createHeliaLight` constructs)
 * needs none of them. The package exports only its entry point, so the file is located next to it.
 */
export function loadHeliaClass(): Promise<HeliaClass> {
  heliaClass ??= (async () => {
    const entry = createRequire(import.meta.url).resolve('helia');
    const mod = (await import(pathToFileURL(join(dirname(entry), 'helia.js')).href)) as { Helia?: unknown };
    if (typeof mod.Helia !== 'function') {
      throw new Error(
        `helia/dist/src/helia.js no longer exports the Helia class (helia ${entry}); update src/main/ipfs/core.ts`,
      );
    }
    return mod.Helia as HeliaClass;
  })();
  return heliaClass;
}

/** Codecs beyond dag-pb and raw (which Helia always has) load on demand, for CAR export of any DAG. */
async function loadCodec(code: number): Promise<BlockCodec<number, unknown>> {
  switch (code) {
    case 0x71:
      return (await import('@ipld/dag-cbor')) as BlockCodec<number, unknown>;
    case 0x0129:
      return (await import('@ipld/dag-json')) as BlockCodec<number, unknown>;
    case 0x0200:
      return (await import('multiformats/codecs/json')) as BlockCodec<number, unknown>;
    default:
      throw new Error(
        `No codec for multicodec 0x${code.toString(16)}: XAI-Link reads dag-pb, raw, dag-cbor, dag-json and json`,
      );
  }
}

function loadHasher(code: number): MultihashHasher {
  if (code === sha512.code) return sha512;
  throw new Error(
    `No hasher for multihash 0x${code.toString(16)}: XAI-Link verifies sha2-256 and sha2-512 blocks`,
  );
}

/** The repository's stores, opened once per service and shared by every Helia the service creates. */
export interface RepoStores {
  blocks: RepoBlockstore;
  datastore: FsDatastore;
}

export async function openRepoStores(repoDir: string): Promise<RepoStores> {
  const blocks = new RepoBlockstore(join(repoDir, 'blocks'));
  const datastore = new FsDatastore(join(repoDir, 'datastore'));
  await blocks.open();
  await datastore.open();
  return { blocks, datastore };
}

/** A Helia node over the repository, not started, with no block brokers or routers (offline). */
export async function createCoreNode(
  stores: RepoStores,
  app: { name: string; version: string },
): Promise<Helia> {
  const Helia = await loadHeliaClass();
  const helia = new Helia({
    name: app.name,
    version: app.version,
    blockstore: stores.blocks,
    datastore: stores.datastore,
    loadCodec,
    loadHasher,
  });
  return helia;
}
