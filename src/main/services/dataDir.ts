import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export const APP_DIR_NAME = 'XAI-Link';
export const DATA_DIR_ENV = 'XAI_LINK_DATA_DIR';

/**
 * The platform's app-data folder, the same one Electron's app.getPath('userData') gives for our
 * product name, so the desktop app, the headless host and the CLI share their data by default.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_DIR_NAME);
  const config =
    env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(config, APP_DIR_NAME);
}

/** The platform's cache folder for the app: files that can be deleted at the cost of making them again. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (platform === 'win32')
    return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), APP_DIR_NAME, 'Cache');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', APP_DIR_NAME);
  const cache =
    env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(cache, APP_DIR_NAME);
}

/** `--data-dir` wins over XAI_LINK_DATA_DIR, which wins over the platform default. */
export function resolveDataDirPath(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const chosen = explicit ?? (env[DATA_DIR_ENV] || undefined);
  return chosen ? resolve(chosen) : defaultDataDir(env);
}

/** Where each part of the app keeps its files, all under one root. */
export class DataDir {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get datasets(): string {
    return join(this.root, 'datasets');
  }
  get runs(): string {
    return join(this.root, 'runs');
  }
  get models(): string {
    return join(this.root, 'models');
  }
  get ipfs(): string {
    return join(this.root, 'ipfs');
  }
  get chain(): string {
    return join(this.root, 'chain');
  }
  get tmp(): string {
    return join(this.root, 'tmp');
  }
  /** Files made for the user to take away (CAR exports); the headless host serves these as downloads. */
  get exports(): string {
    return join(this.root, 'exports');
  }
  get settingsFile(): string {
    return join(this.root, 'settings.json');
  }

  /** Creates the root and the top-level folders; cheap and idempotent. */
  ensure(): this {
    for (const dir of [this.root, this.datasets, this.runs, this.models, this.ipfs, this.chain, this.tmp]) {
      mkdirSync(dir, { recursive: true });
    }
    return this;
  }
}
