import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Dispatcher } from '../rpc/dispatcher.ts';
import { createAppCore } from '../rpc/localClient.ts';
import { MAX_IN_FLIGHT_PER_CONNECTION } from './apiSocket.ts';
import { createServices } from '../services/services.ts';
import { startHeadlessHost, type HeadlessHost } from './headlessHost.ts';
import { resolveInside } from './staticFiles.ts';

const dir = mkdtempSync(join(tmpdir(), 'xai-host-'));
const rendererDir = join(dir, 'renderer');
const services = createServices({ dataDir: join(dir, 'data'), entryPoint: 'host' });
let host: HeadlessHost;

beforeAll(async () => {
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(dir, 'secret.txt'), 'do not serve');
  const uploads = join(dir, 'data', 'tmp', 'uploads');
  for (const name of ['old', 'fresh']) {
    mkdirSync(join(uploads, name), { recursive: true });
    writeFileSync(join(uploads, name, 'input.txt'), name);
  }
  const twoDaysAgo = new Date(Date.now() - 48 * 3600 * 1000);
  utimesSync(join(uploads, 'old'), twoDaysAgo, twoDaysAgo);
  host = await startHeadlessHost({ core: createAppCore(services), rendererDir, port: 0 });
});
afterAll(async () => {
  await host.close();
  await services.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const cookie = (): string => `xai_link_token=${host.token}`;

function call(ws: WebSocket, message: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    ws.once('message', (data) => resolve(JSON.parse(String(data)) as Record<string, unknown>));
    ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  });
}

async function connect(): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api/ws`, { headers: { cookie: cookie() } });
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  return ws;
}

describe('headless host', () => {
  it('binds loopback by default and prints a URL with the token', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/);
  });

  it('serves the UI only with the token (query, cookie or bearer)', async () => {
    expect((await fetch(`${host.origin}/`)).status).toBe(401);
    expect((await fetch(`${host.origin}/`, { headers: { cookie: 'xai_link_token=wrong' } })).status).toBe(
      401,
    );
    expect((await fetch(`${host.origin}/`, { headers: { cookie: cookie() } })).status).toBe(200);
    expect(
      (await fetch(`${host.origin}/`, { headers: { authorization: `Bearer ${host.token}` } })).status,
    ).toBe(200);
    const redirect = await fetch(host.url, { redirect: 'manual' });
    expect(redirect.status).toBe(303);
    expect(redirect.headers.get('location')).toBe('/');
  });

  it('never serves files outside the renderer directory', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const res = await fetch(`${host.origin}${path}`, { headers: { cookie: cookie() } });
      expect(await res.text()).not.toContain('do not serve');
    }
    expect(resolveInside(rendererDir, '/../secret.txt')).toBe(join(rendererDir, 'secret.txt'));
    expect(resolveInside(rendererDir, '/%2e%2e%2f%2e%2e%2fsecret.txt')).toBe(join(rendererDir, 'secret.txt'));
    expect(resolveInside(rendererDir, '/a%00b')).toBeNull();
  });

  it('answers requests over the WebSocket and reports bad ones clearly', async () => {
    const ws = await connect();
    expect(
      await call(ws, { type: 'invoke', id: 1, method: 'system.ping', params: { message: 'hi' } }),
    ).toMatchObject({
      type: 'result',
      id: 1,
      ok: true,
      result: { message: 'hi' },
    });
    expect(
      await call(ws, { type: 'invoke', id: 2, method: 'system.ping', params: { message: 1 } }),
    ).toMatchObject({
      id: 2,
      ok: false,
      error: { code: 'INVALID_PARAMS', field: 'message' },
    });
    expect(await call(ws, '{not json')).toMatchObject({
      type: 'protocol-error',
      error: { code: 'INVALID_PARAMS' },
    });
    expect(await call(ws, { type: 'invoke', id: 3 })).toMatchObject({
      id: 3,
      ok: false,
      error: { code: 'INVALID_PARAMS' },
    });
    ws.close();
  });

  it('pushes events to connected pages', async () => {
    const ws = await connect();
    const received = new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
    await services.jobs.run('test', 'Test job', async () => 1);
    expect(await received).toMatchObject({
      type: 'event',
      event: 'job.finished',
      payload: { kind: 'test', status: 'succeeded' },
    });
    ws.close();
  });

  it('refuses WebSocket upgrades without the token or from another origin', async () => {
    const status = (headers: Record<string, string>, query = ''): Promise<number | 'open'> =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api/ws${query}`, { headers });
        ws.once('open', () => (ws.close(), resolve('open')));
        ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      });
    expect(await status({})).toBe(401);
    expect(await status({ cookie: cookie(), origin: 'http://evil.example' })).toBe(403);
    expect(await status({ origin: `http://127.0.0.1:${host.port}` }, `?token=${host.token}`)).toBe('open');
  });

  it('removes uploads older than a day when it starts, and keeps recent ones', () => {
    expect(existsSync(join(dir, 'data', 'tmp', 'uploads', 'old'))).toBe(false);
    expect(existsSync(join(dir, 'data', 'tmp', 'uploads', 'fresh', 'input.txt'))).toBe(true);
  });

  it('stores uploads in the data directory', async () => {
    const res = await fetch(`${host.origin}/api/upload?name=../../evil name.txt`, {
      method: 'POST',
      headers: { cookie: cookie() },
      body: 'hello',
    });
    const body = (await res.json()) as { path: string; bytes: number };
    expect(res.status).toBe(200);
    expect(body.bytes).toBe(5);
    expect(body.path.startsWith(join(dir, 'data', 'tmp', 'uploads'))).toBe(true);
    expect(body.path).not.toContain('..');
    expect(body.path.endsWith('/_._evil_name.txt')).toBe(true);
  });

  it('downloads exported files, with the token, and nothing outside the exports folder', async () => {
    const exportsDir = join(dir, 'data', 'exports');
    mkdirSync(exportsDir, { recursive: true });
    writeFileSync(join(exportsDir, 'model "v2".car'), 'CAR bytes');
    symlinkSync(join(dir, 'secret.txt'), join(exportsDir, 'link.car'));
    const download = (path: string, headers: Record<string, string> = { cookie: cookie() }) =>
      fetch(`${host.origin}/api/download?path=${encodeURIComponent(path)}`, { headers });

    const ok = await download(join(exportsDir, 'model "v2".car'));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-disposition')).toBe('attachment; filename="model__v2_.car"');
    expect(await ok.text()).toBe('CAR bytes');
    // Relative to the exports folder too.
    expect((await download('model "v2".car')).status).toBe(200);

    expect((await download(join(exportsDir, 'model "v2".car'), {})).status).toBe(401);
    for (const escape of [join(dir, 'secret.txt'), '../../secret.txt', 'link.car', exportsDir, 'nope.car']) {
      const res = await download(escape);
      expect(res.status, escape).toBe(404);
      expect(await res.text()).not.toContain('do not serve');
    }
    expect((await fetch(`${host.origin}/api/download`, { headers: { cookie: cookie() } })).status).toBe(400);
  });

  it('refuses a foreign Host header with 403 before the token check (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = (hostHeader: string): Promise<number> =>
      new Promise((resolve, reject) => {
        request(
          { host: '127.0.0.1', port: host.port, path: '/api/health', headers: { host: hostHeader } },
          (res) => (res.resume(), resolve(res.statusCode ?? 0)),
        )
          .on('error', reject)
          .end();
      });
    expect(await status('evil.example')).toBe(403);
    expect(await status(`localhost:${host.port}`)).toBe(200);
  });

  it('limits open connections and requests in flight per connection, with a clear refusal', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = new Dispatcher({
      'system.ping': async (p: { message: string }) => (await gate, { message: p.message, at: 1 }),
    } as never);
    const logged: string[] = [];
    const limited = await startHeadlessHost({
      core: { services, dispatcher: slow },
      rendererDir,
      port: 0,
      maxConnections: 2,
      log: (m) => logged.push(m),
    });
    const open = (): Promise<WebSocket | number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${limited.port}/api/ws?token=${limited.token}`);
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      });
    const first = (await open()) as WebSocket;
    const second = (await open()) as WebSocket;
    expect(await open()).toBe(503);
    expect(logged.join('\n')).toMatch(/already 2 connections open/);

    const replies: Record<string, unknown>[] = [];
    first.on('message', (d) => replies.push(JSON.parse(String(d)) as Record<string, unknown>));
    const total = MAX_IN_FLIGHT_PER_CONNECTION + 5;
    for (let id = 0; id < total; id++)
      first.send(JSON.stringify({ type: 'invoke', id, method: 'system.ping', params: { message: 'x' } }));
    await expect.poll(() => replies.length).toBe(5);
    expect(replies[0]).toMatchObject({
      ok: false,
      error: { code: 'UNAVAILABLE', hint: expect.stringMatching(/Wait/) as unknown },
    });
    release();
    await expect.poll(() => replies.length).toBe(total);
    expect(replies.filter((r) => r.ok).length).toBe(MAX_IN_FLIGHT_PER_CONNECTION);
    second.close();
    await expect
      .poll(async () => {
        const ws = await open();
        if (typeof ws !== 'number') ws.close();
        return typeof ws;
      })
      .toBe('object');
    first.close();
    await limited.close();
  });

  it('says what to do when the port is in use', async () => {
    await expect(
      startHeadlessHost({ core: createAppCore(services), rendererDir, port: host.port }),
    ).rejects.toThrow(new RegExp(`port ${host.port} on 127.0.0.1 is in use.*--port 0`));
  });
});
