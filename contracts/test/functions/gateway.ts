/**
 * A local IPFS HTTP gateway for the Functions tests (no internet here): serves JSON documents at
 * `http://127.0.0.1:<port>/ipfs/<cid>` under their real CIDs (CIDv1, raw codec, sha-256: what a UnixFS
 * import with raw leaves gives a small file), answers 404 for any other CID, and checks on the way out that
 * the bytes still hash to the CID, as a trustless gateway client would.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';

export interface LocalGateway {
  /** The prefix a CID is appended to, e.g. `http://127.0.0.1:41234/ipfs/`. */
  url: string;
  /** Stores a JSON document; returns its CID. */
  add(doc: unknown): Promise<string>;
  /** Stores raw bytes (for content that is not JSON). */
  addBytes(bytes: Uint8Array): Promise<string>;
  /** How many GET requests were served (any status). */
  readonly requests: number;
  close(): Promise<void>;
}

export async function startGateway(): Promise<LocalGateway> {
  const blocks = new Map<string, Uint8Array>();
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    const m = /^\/ipfs\/([A-Za-z0-9]+)$/.exec(req.url ?? '');
    const bytes = m ? blocks.get(m[1]!) : undefined;
    if (req.method !== 'GET' || !m || !bytes) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    void (async () => {
      const cid = CID.createV1(raw.code, await sha256.digest(bytes));
      if (!cid.equals(CID.parse(m[1]!))) res.writeHead(502).end('content does not match its CID');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(bytes);
    })().catch(() => res.writeHead(500).end());
  });
  // Connections from the simulator's proxy must not keep the server (and the test) alive.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const addBytes = async (bytes: Uint8Array) => {
    const cid = CID.createV1(raw.code, await sha256.digest(bytes)).toString();
    blocks.set(cid, bytes);
    return cid;
  };
  return {
    url: `http://127.0.0.1:${port}/ipfs/`,
    add: (doc) => addBytes(new TextEncoder().encode(JSON.stringify(doc))),
    addBytes,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
