/**
 * Starts the offline IPFS node in a fresh process and reports how long it took and which npm
 * packages were loaded: `node src/main/ipfs/startProbe.ts <repoDir> [--add]`. Used by the test that
 * keeps libp2p out of the offline node and by `npm run bench:ipfs` for the start-up time.
 * Prints one JSON line.
 */
import { registerHooks } from 'node:module';

const loaded = new Set<string>();
registerHooks({
  load(url, context, nextLoad) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m) loaded.add(m[1]!);
    return nextLoad(url, context);
  },
});

const repoDir = process.argv[2];
if (!repoDir) throw new Error('usage: startProbe.ts <repoDir> [--add]');
const t0 = performance.now();
const { IpfsService } = await import('./ipfsService.ts');
const service = new IpfsService({ repoDir, app: { name: 'xai-link-probe', version: '0' } });
const t1 = performance.now();
await service.start();
const t2 = performance.now();
let cid: string | null = null;
let text: string | null = null;
if (process.argv.includes('--add')) {
  cid = await service.addBytes(new TextEncoder().encode('offline probe\n'), { pin: true });
  const r = await service.catBytes(cid);
  text = new TextDecoder().decode(r.bytes);
}
const status = await service.status();
await service.stop();
process.stdout.write(
  `${JSON.stringify({
    serviceModuleMs: t1 - t0,
    startMs: t2 - t1,
    timings: service.lastStartTimings,
    peerId: status.peerId,
    online: status.online,
    cid,
    text,
    packages: [...loaded].sort(),
  })}\n`,
);
