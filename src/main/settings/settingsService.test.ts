import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { settingsSchema } from '../../shared/api/settings.ts';
import { SettingsService } from './settingsService.ts';

const dirs: string[] = [];
const fresh = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'xai-settings-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('SettingsService', () => {
  it('starts from defaults and saves updates atomically', async () => {
    const dir = fresh();
    const file = join(dir, 'settings.json');
    const s = new SettingsService(file);
    const defaults = settingsSchema.parse({});
    expect(await s.get()).toEqual({ ...defaults, theme: 'system', walletConnectProjectId: '' });
    await Promise.all([s.update({ theme: 'dark' }), s.update({ walletConnectProjectId: 'abc' })]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      ...defaults,
      theme: 'dark',
      walletConnectProjectId: 'abc',
    });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(await new SettingsService(file).get()).toMatchObject({ theme: 'dark' });
  });

  it('keeps an unreadable file aside instead of losing it', async () => {
    const dir = fresh();
    const file = join(dir, 'settings.json');
    writeFileSync(file, '{ broken');
    expect((await new SettingsService(file).get()).theme).toBe('system');
    const aside = readdirSync(dir).find((f) => f.startsWith('settings.json.broken-'));
    expect(aside).toBeDefined();
    expect(readFileSync(join(dir, aside!), 'utf8')).toBe('{ broken');
  });
});
