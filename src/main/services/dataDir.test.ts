import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { defaultDataDir, resolveDataDirPath } from './dataDir.ts';

describe('data directory', () => {
  it('prefers --data-dir, then XAI_LINK_DATA_DIR, then the platform default', () => {
    expect(resolveDataDirPath('/a', { XAI_LINK_DATA_DIR: '/b' })).toBe(resolve('/a'));
    expect(resolveDataDirPath(undefined, { XAI_LINK_DATA_DIR: '/b' })).toBe(resolve('/b'));
    expect(resolveDataDirPath(undefined, { XDG_CONFIG_HOME: '/cfg' })).toBe(
      defaultDataDir({ XDG_CONFIG_HOME: '/cfg' }),
    );
  });

  it('uses the folder Electron uses for userData on each platform', () => {
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/home/u/.config' }, 'linux')).toBe('/home/u/.config/XAI-Link');
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32')).toMatch(/XAI-Link$/);
    expect(defaultDataDir({}, 'darwin')).toMatch(/Library\/Application Support\/XAI-Link$/);
  });
});
