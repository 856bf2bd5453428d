import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_MESSAGE_BYTES } from '../../shared/api/wire.ts';
import { startHostProcess, type HostProcess } from './testing/hostProcess.ts';
import { shakespeareCharDataset } from '../engine/testing/charDataset.ts';
import { closeFrame, frame, OPCODES, openRawClient } from './testing/rawFrames.ts';
import { RawApiClient } from './testing/wsClient.ts';

/**
 * Hostile clients against `xai-link serve` in its own process: each bad frame must close that client
 * only, with the close code RFC 6455 names, and the host must go on answering everyone else.
 */
const dir = mkdtempSync(join(tmpdir(), 'xai-host-faults-'));
let host: HostProcess;

beforeAll(async () => {
  host = await startHostProcess(join(dir, 'data'));
}, 60_000);
afterAll(async () => {
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function connect(): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api/ws?token=${host.token}`);
  ws.on('error', () => undefined);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return ws;
}

/** The host is alive and answers a cheap call on a fresh connection. */
async function expectHealthy(): Promise<void> {
  expect(host.alive(), host.log()).toBe(true);
  const ws = await connect();
  const reply = await new Promise<Record<string, unknown>>((resolve) => {
    ws.once('message', (d) => resolve(JSON.parse(String(d)) as Record<string, unknown>));
    ws.send(JSON.stringify({ type: 'invoke', id: 1, method: 'system.ping', params: { message: 'still?' } }));
  });
  expect(reply).toMatchObject({ id: 1, ok: true, result: { message: 'still?' } });
  ws.close();
}

async function rawCloseCode(...frames: Buffer[]): Promise<number | null> {
  const client = await openRawClient(host.port, host.token);
  for (const f of frames) client.write(f);
  return client.closed;
}

describe('a hostile WebSocket client closes only itself', () => {
  it('an oversized message: 1009, a log line, and the host lives on', async () => {
    const bystander = await connect();
    const ws = await connect();
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(MAX_MESSAGE_BYTES + 1));
    expect(await closed).toBe(1009);
    // A frame that only claims to be huge is refused from its header alone.
    expect(await rawCloseCode(frame(OPCODES.text, Buffer.alloc(0), { declaredLength: 2 ** 40 }))).toBe(1009);
    await expectHealthy();
    expect(bystander.readyState).toBe(WebSocket.OPEN);
    bystander.close();
    expect(host.log()).toMatch(/closed after a WS_ERR_UNSUPPORTED_MESSAGE_LENGTH error/);
  });

  it('invalid UTF-8 in a text frame or a close reason: 1007', async () => {
    expect(await rawCloseCode(frame(OPCODES.text, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])))).toBe(1007);
    const badReason = Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from([0xc3, 0x28])]);
    expect(await rawCloseCode(frame(OPCODES.close, badReason))).toBe(1007);
    await expectHealthy();
  });

  it('protocol errors: 1002', async () => {
    const cases: Record<string, Buffer[]> = {
      'reserved opcode': [frame(3, Buffer.from('x'))],
      'reserved bits': [frame(OPCODES.text, Buffer.from('{}'), { rsv: 4 })],
      'unmasked client frame': [frame(OPCODES.text, Buffer.from('{}'), { mask: false })],
      'continuation without a start': [frame(OPCODES.continuation, Buffer.from('x'))],
      'fragmented control frame': [frame(OPCODES.ping, Buffer.from('x'), { fin: false })],
      'invalid close code': [closeFrame(999)],
      'new message inside a fragmented one': [
        frame(OPCODES.text, Buffer.from('{'), { fin: false }),
        frame(OPCODES.text, Buffer.from('}')),
      ],
    };
    for (const [name, frames] of Object.entries(cases))
      expect(await rawCloseCode(...frames), name).toBe(1002);
    await expectHealthy();
    expect(host.log()).toMatch(/WS_ERR_INVALID_OPCODE/);
  });

  it('a valid fragmented message is answered; a binary one gets a typed protocol error', async () => {
    const client = await openRawClient(host.port, host.token);
    const message = JSON.stringify({
      type: 'invoke',
      id: 7,
      method: 'system.ping',
      params: { message: 'frag' },
    });
    client.write(frame(OPCODES.text, Buffer.from(message.slice(0, 10)), { fin: false }));
    client.write(frame(OPCODES.continuation, Buffer.from(message.slice(10, 20)), { fin: false }));
    client.write(frame(OPCODES.ping, Buffer.from('between')));
    client.write(frame(OPCODES.continuation, Buffer.from(message.slice(20))));
    await expect.poll(() => client.texts.length, { timeout: 10_000 }).toBe(1);
    client.write(frame(OPCODES.binary, Buffer.from([1, 2, 3])));
    await expect.poll(() => client.texts.length, { timeout: 10_000 }).toBe(2);
    expect(JSON.parse(client.texts[0]!)).toMatchObject({ id: 7, ok: true, result: { message: 'frag' } });
    expect(JSON.parse(client.texts[1]!)).toMatchObject({
      type: 'protocol-error',
      error: { code: 'INVALID_PARAMS', message: expect.stringMatching(/binary/) as unknown },
    });
    client.socket.destroy();
    await expectHealthy();
  });

  it('JSON nested deeper than any parser recurses gets a typed protocol error', async () => {
    const ws = await connect();
    const reply = await new Promise<Record<string, unknown>>((resolve) => {
      ws.once('message', (d) => resolve(JSON.parse(String(d)) as Record<string, unknown>));
      ws.send(
        `{"type":"invoke","id":1,"method":"system.ping","params":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`,
      );
    });
    expect(reply).toMatchObject({ error: { code: 'INVALID_PARAMS' } });
    ws.close();
    await expectHealthy();
  });

  it('a flood of pings, and of requests, costs the flooder only', async () => {
    const pinger = await openRawClient(host.port, host.token);
    const pings = Buffer.concat(
      Array.from({ length: 20_000 }, (_, i) => frame(OPCODES.ping, Buffer.from(String(i)))),
    );
    pinger.write(pings);
    const flooder = await connect();
    const replies: Record<string, unknown>[] = [];
    flooder.on('message', (d) => replies.push(JSON.parse(String(d)) as Record<string, unknown>));
    for (let id = 0; id < 1000; id++)
      flooder.send(JSON.stringify({ type: 'invoke', id, method: 'system.ping', params: { message: 'x' } }));
    await expect.poll(() => replies.length, { timeout: 30_000 }).toBe(1000);
    // Every request got a reply: a result, or a typed refusal once too many were in flight.
    for (const reply of replies)
      if (!reply.ok) expect(reply).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
    flooder.close();
    pinger.socket.destroy();
    await expectHealthy();
  });

  it('half-open and reset connections: a frame cut in the middle, a reset, a silent peer', async () => {
    const cut = await openRawClient(host.port, host.token);
    cut.write(frame(OPCODES.text, Buffer.from('{"type":"invoke"')).subarray(0, 8));
    cut.socket.end();
    const reset = await openRawClient(host.port, host.token);
    reset.write(frame(OPCODES.text, Buffer.from('x'.repeat(1000))).subarray(0, 500));
    reset.socket.resetAndDestroy();
    const silent = await openRawClient(host.port, host.token);
    // A request whose reply is never read, then the peer vanishes without a close frame.
    silent.write(
      frame(OPCODES.text, Buffer.from(JSON.stringify({ type: 'invoke', id: 1, method: 'system.info' }))),
    );
    silent.socket.destroy();
    await expectHealthy();
  });

  it('malformed HTTP and a truncated upgrade do not end the host', async () => {
    const { connect: tcp } = await import('node:net');
    for (const bytes of [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n',
      'GET /api/ws HTTP/1.1\r\nUpgrade: websocket\r\n',
    ]) {
      const socket = tcp(host.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(bytes);
      await new Promise((r) => setTimeout(r, 100));
      socket.destroy();
    }
    await expectHealthy();
  });

  it('training keeps running and streaming while hostile clients are thrown out', async () => {
    const watcher = await RawApiClient.connect(host.port, host.token);
    const created = await watcher.invoke('runs.create', {
      name: 'under-attack',
      data: { path: shakespeareCharDataset() },
      model: { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 32 },
      train: {
        maxIters: 150,
        lrDecayIters: 150,
        logInterval: 1,
        evalInterval: 150,
        evalIters: 2,
        batchSize: 4,
      },
      threads: 1,
    });
    if (!created.ok) throw new Error(created.error.message);
    const runId = (created.result as { id: string }).id;
    const steps = (): number[] =>
      watcher.events
        .filter((e) => e.event === 'run.metrics' && (e.payload as { runId: string }).runId === runId)
        .map((e) => (e.payload as { metric: { step: number } }).metric.step);
    await expect.poll(() => steps().length, { timeout: 60_000 }).toBeGreaterThan(0);
    // Mid-run: an oversized message, invalid UTF-8, a protocol error and a reset.
    const attacker = await connect();
    attacker.send('x'.repeat(MAX_MESSAGE_BYTES + 1));
    expect(await rawCloseCode(frame(OPCODES.text, Buffer.from([0xff])))).toBe(1007);
    expect(await rawCloseCode(frame(3, Buffer.from('x')))).toBe(1002);
    (await openRawClient(host.port, host.token)).socket.resetAndDestroy();
    await expect
      .poll(
        () =>
          watcher.events.some(
            (e) =>
              e.event === 'run.status' &&
              (e.payload as { runId: string; status: string }).runId === runId &&
              (e.payload as { status: string }).status === 'completed',
          ),
        { timeout: 120_000 },
      )
      .toBe(true);
    const got = steps();
    expect(got).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(host.alive()).toBe(true);
    watcher.close();
  }, 180_000);

  it('DNS rebinding: a foreign Host header gets 403 before any token check', async () => {
    const status = (hostHeader: string, withToken: boolean): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: host.port,
            path: withToken ? `/?token=${host.token}` : '/',
            headers: { host: hostHeader },
          },
          (res) => (res.resume(), resolve(res.statusCode ?? 0)),
        );
        req.on('error', reject).end();
      });
    expect(await status('evil.example', false)).toBe(403);
    expect(await status(`evil.example:${host.port}`, true)).toBe(403);
    expect(await status(`localhost:${host.port}`, false)).toBe(401);
    expect(await status(`[::1]:${host.port}`, true)).toBe(303);
    expect(await status(`127.0.0.1:${host.port}`, true)).toBe(303);
  });
});
