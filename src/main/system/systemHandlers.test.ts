import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemStatsSchema } from '../../shared/api/system.ts';
import { createAppCore, createLocalClient } from '../rpc/localClient.ts';
import { createServices } from '../services/services.ts';

const dir = mkdtempSync(join(tmpdir(), 'xai-system-api-'));
const core = createAppCore(createServices({ dataDir: dir, entryPoint: 'cli' }));
const client = createLocalClient(core, 'cli');
const ctx = { entryPoint: 'cli' } as const;
afterAll(async () => {
  await core.services.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('system.stats through the dispatcher', () => {
  it('answers with readings that pass the contract', async () => {
    const stats = await client.invoke('system.stats', {});
    expect(systemStatsSchema.parse(stats)).toEqual(stats);
    expect(stats.process.rssBytes).toBeGreaterThan(0);
    expect(stats.gpus.length > 0).toBe(stats.gpuNote === null);
    // The service sampled the CPU when it was created, so even the first call has an interval.
    expect(typeof stats.process.cpuPercent).toBe('number');
  });

  it('takes missing params as {}', async () => {
    const reply = await core.dispatcher.invoke('system.stats', undefined, ctx);
    expect(reply.ok).toBe(true);
  });

  it('refuses an unexpected param, naming it', async () => {
    const reply = await core.dispatcher.invoke('system.stats', { refresh: true }, ctx);
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.error.code).toBe('INVALID_PARAMS');
    expect(reply.error.message).toContain('refresh');
    expect(reply.error.message).toContain('"system.stats" request');
  });
});
