import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, realpath, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join, relative, resolve, isAbsolute } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_MESSAGE_BYTES } from '../../shared/api/wire.ts';
import type { AppCore } from '../rpc/localClient.ts';
import { ApiSocket, type HostLog } from './apiSocket.ts';
import { contentSecurityPolicy } from './contentSecurityPolicy.ts';
import { hostHeaderAllowed } from './hostHeader.ts';
import { serveStatic } from './staticFiles.ts';

export const TOKEN_COOKIE = 'xai_link_token';
export const WS_PATH = '/api/ws';
export const UPLOAD_PATH = '/api/upload';
/** GET ?path=<file in the data directory's exports/> downloads it: CAR exports reach a browser on another machine. */
export const DOWNLOAD_PATH = '/api/download';
const MAX_UPLOAD_BYTES = 4 * 1024 ** 3;
/** Uploads are inputs on their way into a dataset, which keeps its own copy; older ones are removed at start. */
const UPLOAD_MAX_AGE_MS = 24 * 3600 * 1000;
/** Open WebSocket connections the host serves at once; one more is refused with 503. */
export const DEFAULT_MAX_CONNECTIONS = 256;
/** TCP connections of any kind (HTTP keep-alive included); beyond this Node drops new ones at accept. */
const MAX_TCP_CONNECTIONS = 1024;

async function pruneOldUploads(uploadsDir: string, now = Date.now()): Promise<void> {
  const entries = await readdir(uploadsDir).catch(() => [] as string[]);
  for (const name of entries) {
    const path = join(uploadsDir, name);
    const info = await stat(path).catch(() => null);
    if (info && now - info.mtimeMs > UPLOAD_MAX_AGE_MS) await rm(path, { recursive: true, force: true });
  }
}

export interface HeadlessHostOptions {
  core: AppCore;
  /** Directory of the built renderer (index.html + assets). */
  rendererDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Defaults to 32 random bytes; tests may fix it. */
  token?: string;
  /** Open WebSocket connections allowed at once (default DEFAULT_MAX_CONNECTIONS). */
  maxConnections?: number;
  /** Where the host reports refused clients and socket errors (default: stderr). */
  log?: HostLog;
}

export interface HeadlessHost {
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

/**
 * The headless host: the same renderer the desktop window shows, served over HTTP, talking to the
 * same services over a WebSocket. Every request needs the access token (as Jupyter does): it comes
 * once in the printed URL, is then kept in an HttpOnly SameSite=Strict cookie, and the WebSocket also
 * checks the Origin so that another site open in the same browser cannot drive the app.
 */
export async function startHeadlessHost(opts: HeadlessHostOptions): Promise<HeadlessHost> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? randomBytes(32).toString('hex');
  const tokenBytes = Buffer.from(token);
  const { core } = opts;
  const log = opts.log ?? ((message: string) => console.error(`headless host: ${message}`));
  const maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  await pruneOldUploads(join(core.services.dataDir.tmp, 'uploads'));
  const csp = contentSecurityPolicy();
  const baseHeaders = {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
  };

  const tokenMatches = (candidate: string | null | undefined): boolean => {
    if (!candidate) return false;
    const bytes = Buffer.from(candidate);
    return bytes.length === tokenBytes.length && timingSafeEqual(bytes, tokenBytes);
  };
  const requestToken = (req: IncomingMessage, url: URL): string | null => {
    const fromQuery = url.searchParams.get('token');
    if (fromQuery) return fromQuery;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice(7);
    return readCookie(req.headers.cookie, TOKEN_COOKIE);
  };

  const server = createServer((req, res) => {
    req.on('error', (e) => log(`${req.method} ${req.url}: request stream failed: ${e.message}`));
    res.on('error', (e) => log(`${req.method} ${req.url}: response stream failed: ${e.message}`));
    handleHttp(req, res).catch((e: unknown) => {
      log(`${req.method} ${req.url}: request failed: ${e instanceof Error ? e.message : String(e)}`);
      if (!res.headersSent) res.writeHead(500, baseHeaders);
      res.end();
    });
  });
  server.maxConnections = MAX_TCP_CONNECTIONS;
  server.on('clientError', (e: NodeJS.ErrnoException, socket) => {
    // Unparseable HTTP (or a peer that reset): answer 400 if the socket still can, and close only it.
    if (e.code !== 'ECONNRESET') log(`refused a malformed HTTP request: ${e.code ?? e.message}`);
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const hostRefusal =
    '<!doctype html><title>XAI-Link: unexpected host name</title><h1>Unexpected host name</h1>' +
    '<p>XAI-Link answers only under the address it listens on (or localhost). ' +
    'Open the URL that <code>xai-link serve</code> printed.</p>';

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostHeaderAllowed(req.headers.host, host)) {
      log(`refused a request for host ${JSON.stringify(req.headers.host ?? null)} (DNS rebinding guard)`);
      res.writeHead(403, { ...baseHeaders, 'content-type': 'text/html; charset=utf-8' }).end(hostRefusal);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/api/health') {
      res.writeHead(200, { ...baseHeaders, 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    if (!tokenMatches(requestToken(req, url))) {
      res.writeHead(401, { ...baseHeaders, 'content-type': 'text/html; charset=utf-8' });
      res.end(
        '<!doctype html><title>XAI-Link: access token needed</title><h1>Access token needed</h1>' +
          '<p>Open the URL that <code>xai-link serve</code> printed: it contains the access token.</p>',
      );
      return;
    }
    if (url.searchParams.has('token')) {
      // Keep the token in a cookie and take it out of the address bar (and of history and referrers).
      url.searchParams.delete('token');
      res.writeHead(303, {
        ...baseHeaders,
        'set-cookie': `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        location: url.pathname + url.search,
      });
      res.end();
      return;
    }
    if (url.pathname === UPLOAD_PATH) {
      await handleUpload(req, res, url);
      return;
    }
    if (url.pathname === DOWNLOAD_PATH) {
      await handleDownload(req, res, url);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, baseHeaders).end();
      return;
    }
    await serveStatic(opts.rendererDir, url.pathname, res, baseHeaders);
  }

  /** Browser file uploads land in the data directory's tmp/uploads; the page then passes the path to a request. */
  async function handleUpload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { ...baseHeaders, 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method !== 'POST') return json(405, { error: 'POST the file as the request body' });
    if (!isSameOrigin(req)) return json(403, { error: 'cross-origin upload refused' });
    const name =
      (url.searchParams.get('name') ?? 'upload')
        .replace(/[^\w.-]/g, '_')
        .replace(/\.{2,}/g, '.')
        .replace(/^\./, '')
        .slice(0, 120) || 'upload';
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_UPLOAD_BYTES)
      return json(413, { error: `file larger than ${MAX_UPLOAD_BYTES} bytes` });
    const dir = join(core.services.dataDir.tmp, 'uploads', randomBytes(8).toString('hex'));
    await mkdir(dir, { recursive: true });
    const path = join(dir, name);
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_UPLOAD_BYTES) req.destroy(new Error('upload too large'));
    });
    try {
      await pipeline(req, createWriteStream(path));
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      return json(400, { error: `upload failed: ${(e as Error).message}` });
    }
    json(200, { path, bytes: received });
  }

  /**
   * Serves a file of the data directory's exports/ folder as an attachment, and nothing else: the path is
   * resolved through symlinks before the check, so neither "../" nor a link leads out of the folder.
   */
  async function handleDownload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const text = (status: number, message: string): void => {
      res.writeHead(status, { ...baseHeaders, 'content-type': 'text/plain; charset=utf-8' }).end(message);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'GET the file');
    const exportsDir = core.services.dataDir.exports;
    const requested = url.searchParams.get('path');
    if (!requested) return text(400, `give ?path= of a file in ${exportsDir}`);
    const root = await realpath(exportsDir).catch(() => null);
    const file = await realpath(resolve(exportsDir, requested)).catch(() => null);
    const rel = root && file ? relative(root, file) : null;
    if (rel === null || rel === '' || rel.startsWith('..') || isAbsolute(rel))
      return text(404, `no such file in ${exportsDir}: only exported files can be downloaded`);
    const st = await stat(file!);
    if (!st.isFile()) return text(404, `${requested} is not a file`);
    res.writeHead(200, {
      ...baseHeaders,
      'content-type': 'application/octet-stream',
      'content-length': String(st.size),
      'content-disposition': `attachment; filename="${basename(file!).replace(/[^\w.-]/g, '_')}"`,
      'cache-control': 'no-store',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await pipeline(createReadStream(file!), res);
  }

  /**
   * Browsers always send Origin on WebSocket and cross-origin requests; tools (CLI, tests) may omit it.
   * The page must come from the very address the request was sent to (localhost or 127.0.0.1 alike).
   */
  function isSameOrigin(req: IncomingMessage): boolean {
    const sent = req.headers.origin;
    return sent === undefined || (req.headers.host !== undefined && sent === `http://${req.headers.host}`);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  wss.on('error', (e) => log(`WebSocket server error: ${e.message}`));
  const sockets = new Set<ApiSocket>();
  let connectionCount = 0;

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', (e) => log(`WebSocket upgrade socket failed: ${e.message}`));
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (status: string, why: string): void => {
      log(`refused a WebSocket upgrade: ${why}`);
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    };
    if (!hostHeaderAllowed(req.headers.host, host))
      return refuse('403 Forbidden', `unexpected host ${JSON.stringify(req.headers.host ?? null)}`);
    if (url.pathname !== WS_PATH) return refuse('404 Not Found', `no WebSocket at ${url.pathname}`);
    if (!tokenMatches(requestToken(req, url))) return refuse('401 Unauthorized', 'no or wrong token');
    if (!isSameOrigin(req)) return refuse('403 Forbidden', `foreign origin ${req.headers.origin}`);
    if (connectionCount >= maxConnections)
      return refuse('503 Service Unavailable', `already ${maxConnections} connections open`);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    connectionCount += 1;
    const name = `client ${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const client = new ApiSocket(ws, core.dispatcher, log, name);
    sockets.add(client);
    ws.on('close', () => {
      connectionCount -= 1;
      sockets.delete(client);
    });
  });

  const unsubscribe = core.services.events.subscribe((event, payload) => {
    const message = JSON.stringify({ type: 'event', event, payload });
    for (const client of sockets) client.send(message);
  });

  await new Promise<void>((resolveListen, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => reject(listenError(e, host, opts.port ?? 0));
    server.once('error', onError);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', onError);
      resolveListen();
    });
  });
  server.on('error', (e) => log(`server error: ${e.message}`));
  const port = (server.address() as AddressInfo).port;
  const printableHost = host.includes(':') ? `[${host}]` : host;
  const origin = `http://${printableHost}:${port}`;

  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    async close() {
      unsubscribe();
      for (const client of sockets) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A listen failure that says what to do (the commonest: another program already has the port). */
function listenError(e: NodeJS.ErrnoException, host: string, port: number): Error {
  if (e.code === 'EADDRINUSE')
    return new Error(
      `port ${port} on ${host} is in use (another program, or another "xai-link serve", listens there): ` +
        'choose another with --port, or --port 0 for a free one',
      { cause: e },
    );
  if (e.code === 'EADDRNOTAVAIL')
    return new Error(`${host} is not an address of this machine: choose another with --host`, { cause: e });
  if (e.code === 'EACCES')
    return new Error(
      `not allowed to listen on port ${port}: ports below 1024 need privileges; use --port 7865`,
      {
        cause: e,
      },
    );
  return e;
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
