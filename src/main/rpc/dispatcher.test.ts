import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createServices } from '../services/services.ts';
import { createAppCore } from './localClient.ts';

const dir = mkdtempSync(join(tmpdir(), 'xai-dispatch-'));
const services = createServices({ dataDir: dir, entryPoint: 'cli' });
const { dispatcher } = createAppCore(services);
const ctx = { entryPoint: 'cli' } as const;
afterAll(async () => {
  await services.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function fail(method: unknown, params: unknown) {
  const reply = await dispatcher.invoke(method, params, ctx);
  if (reply.ok) throw new Error(`expected ${String(method)} to fail`);
  return reply.error;
}

describe('Dispatcher validation', () => {
  it('accepts a valid request and applies defaults', async () => {
    const reply = await dispatcher.invoke('settings.get', undefined, ctx);
    expect(reply).toMatchObject({ ok: true, result: { theme: 'system' } });
  });

  it('rejects a wrong type, naming the field', async () => {
    const error = await fail('system.ping', { message: 42 });
    expect(error.code).toBe('INVALID_PARAMS');
    expect(error.field).toBe('message');
    expect(error.message).toMatch(/field "message"/);
  });

  it('rejects a missing required field, naming it', async () => {
    const error = await fail('system.ping', {});
    expect(error).toMatchObject({ code: 'INVALID_PARAMS', field: 'message' });
  });

  it('rejects an unknown field, naming it', async () => {
    const error = await fail('system.ping', { message: 'hi', extra: 1 });
    expect(error.code).toBe('INVALID_PARAMS');
    expect(error.message).toContain('extra');
  });

  it('rejects an out-of-range value in a nested field with its dotted path', async () => {
    const error = await fail('settings.update', { patch: { theme: 'purple' } });
    expect(error).toMatchObject({ code: 'INVALID_PARAMS', field: 'patch.theme' });
  });

  it('rejects a string that is too long', async () => {
    const error = await fail('system.ping', { message: 'x'.repeat(1001) });
    expect(error).toMatchObject({ code: 'INVALID_PARAMS', field: 'message' });
  });

  it('rejects params that are not an object', async () => {
    for (const params of ['text', 7, [1, 2], true]) {
      const error = await fail('system.ping', params);
      expect(error.code).toBe('INVALID_PARAMS');
    }
  });

  it('rejects an unknown or non-string method', async () => {
    expect((await fail('system.nope', {})).code).toBe('UNKNOWN_METHOD');
    expect((await fail(42, {})).code).toBe('UNKNOWN_METHOD');
    expect((await fail('__proto__', {})).code).toBe('UNKNOWN_METHOD');
    expect((await fail('toString', {})).code).toBe('UNKNOWN_METHOD');
  });

  it('lists every problem, not only the first', async () => {
    const error = await fail('jobs.cancel', { jobId: 'not-a-job', more: true });
    expect(error.issues?.length).toBeGreaterThanOrEqual(2);
  });

  it('turns a handler crash into an INTERNAL error instead of throwing', async () => {
    const { Dispatcher } = await import('./dispatcher.ts');
    const broken = new Dispatcher(
      {
        ...Object.fromEntries(
          Object.keys((await import('../../shared/api/index.ts')).apiRequests).map((k) => [k, () => ({})]),
        ),
        'system.ping': () => {
          throw new Error('boom');
        },
      } as never,
      () => undefined,
    );
    const reply = await broken.invoke('system.ping', { message: 'x' }, ctx);
    expect(reply).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    if (!reply.ok) expect(reply.error.message).toContain('boom');
  });

  it('refuses a handler result that breaks the contract', async () => {
    const { Dispatcher } = await import('./dispatcher.ts');
    const broken = new Dispatcher({ 'system.ping': () => ({ message: 3 }) } as never, () => undefined);
    const reply = await broken.invoke('system.ping', { message: 'x' }, ctx);
    expect(reply).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('answers an address viem refuses (bad EIP-55 checksum) as INVALID_PARAMS, not INTERNAL', async () => {
    const { Dispatcher } = await import('./dispatcher.ts');
    const { encodeAbiParameters } = await import('viem');
    const strict = new Dispatcher(
      {
        'system.ping': () =>
          encodeAbiParameters([{ type: 'address' }], ['0x9ED5BbEf87c1A8AC66DA0f5b2Ac5bA0ECA90fAcE']),
      } as never,
      () => undefined,
    );
    const reply = await strict.invoke('system.ping', { message: 'x' }, ctx);
    expect(reply).toMatchObject({
      ok: false,
      error: { code: 'INVALID_PARAMS', hint: expect.stringMatching(/EIP-55/) },
    });
  });

  it('answers text that is not a whole number where one was needed as INVALID_PARAMS, not INTERNAL', async () => {
    const { Dispatcher } = await import('./dispatcher.ts');
    const strict = new Dispatcher(
      { 'system.ping': (p: { message: string }) => BigInt(p.message) } as never,
      () => undefined,
    );
    const reply = await strict.invoke('system.ping', { message: '🤖' }, ctx);
    expect(reply).toMatchObject({
      ok: false,
      error: { code: 'INVALID_PARAMS', hint: expect.stringMatching(/whole decimal/) },
    });
  });
});
