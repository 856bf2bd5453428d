import { basename } from 'node:path';
import type { ipfsRequests } from '../../shared/api/ipfs.ts';
import type { HandlersFor } from '../rpc/dispatcher.ts';
import type { JobManager } from '../services/jobs.ts';
import type { IpfsService } from './ipfsService.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function encodeContent(
  bytes: Uint8Array,
  encoding: 'auto' | 'utf8' | 'base64',
): { encoding: 'utf8' | 'base64'; content: string } {
  if (encoding === 'base64') return { encoding, content: Buffer.from(bytes).toString('base64') };
  if (encoding === 'utf8') return { encoding, content: new TextDecoder().decode(bytes) };
  try {
    const text = utf8.decode(bytes);
    // Text that is not printable (NULs, other control characters) is binary for our purposes.
    // eslint-disable-next-line no-control-regex
    if (!/[\u0000-\u0008\u000e-\u001f]/.test(text)) return { encoding: 'utf8', content: text };
  } catch {
    // not UTF-8: fall through to base64
  }
  return { encoding: 'base64', content: Buffer.from(bytes).toString('base64') };
}

/** Maps the ipfs.* requests to IpfsService; long work (add, get, pin, CAR) runs as jobs with progress. */
export function ipfsHandlers(ipfs: () => IpfsService, jobs: JobManager): HandlersFor<typeof ipfsRequests> {
  return {
    'ipfs.status': () => ipfs().status(),
    'ipfs.setOnline': ({ online, listen, publicNetwork, localDiscovery }) =>
      ipfs().setOnline(online, {
        ...(listen ? { listen } : {}),
        ...(publicNetwork === undefined ? {} : { publicNetwork }),
        ...(localDiscovery === undefined ? {} : { localDiscovery }),
      }),
    'ipfs.add': ({ path, kubo, pin, hidden }) =>
      jobs.run('ipfs.add', `Add ${basename(path) || path} to IPFS`, (job) =>
        ipfs().addPath(path, { kubo, pin, hidden, signal: job.signal, onProgress: (p) => job.progress(p) }),
      ),
    'ipfs.cat': async ({ cid, offset, maxBytes, encoding, timeoutMs }) => {
      const r = await ipfs().catBytes(cid, { offset, maxBytes, timeoutMs });
      return {
        cid: r.cid,
        size: r.size,
        offset,
        bytes: r.bytes.byteLength,
        truncated: r.truncated,
        ...encodeContent(r.bytes, encoding),
      };
    },
    'ipfs.get': ({ cid, path, timeoutMs }) =>
      jobs.run('ipfs.get', `Get ${cid} from IPFS`, (job) =>
        ipfs().getToDir(cid, path, { timeoutMs, signal: job.signal, onProgress: (p) => job.progress(p) }),
      ),
    'ipfs.pin': ({ cid, timeoutMs }) =>
      jobs.run('ipfs.pin', `Pin ${cid}`, (job) =>
        ipfs().pin(cid, { timeoutMs, signal: job.signal, onProgress: (p) => job.progress(p) }),
      ),
    'ipfs.unpin': ({ cid }) => ipfs().unpin(cid),
    'ipfs.pins': () => ipfs().pins(),
    'ipfs.gc': () =>
      jobs.run('ipfs.gc', 'IPFS garbage collection', (job) =>
        ipfs().gc({ signal: job.signal, onProgress: (p) => job.progress(p) }),
      ),
    'ipfs.exportCar': ({ cid, path, timeoutMs }) =>
      jobs.run('ipfs.exportCar', `Export ${cid} to ${basename(path)}`, (job) =>
        ipfs().exportCar(cid, path, { timeoutMs, signal: job.signal, onProgress: (p) => job.progress(p) }),
      ),
    'ipfs.importCar': ({ path, pin }) =>
      jobs.run('ipfs.importCar', `Import ${basename(path)}`, (job) =>
        ipfs().importCar(path, { pin, signal: job.signal, onProgress: (p) => job.progress(p) }),
      ),
    'ipfs.peers': () => ipfs().peers(),
    'ipfs.fetches': async () => ipfs().fetches(),
    'ipfs.connect': ({ address }) => ipfs().connect(address),
  };
}
