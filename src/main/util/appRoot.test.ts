import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_DEPLOYMENTS_DIR } from '../chain/deployments.ts';
import { appRoot } from './appRoot.ts';

describe('appRoot', () => {
  it('finds the checkout from src/main, and the shipped paths hang off it', () => {
    const root = appRoot();
    expect(root).toBe(process.cwd()); // vitest runs in the checkout
    expect(JSON.parse(readFileSync(join(root!, 'package.json'), 'utf8')).name).toBe('xai-link');
    expect(REPO_DEPLOYMENTS_DIR).toBe(join(root!, 'contracts', 'deployments'));
    expect(existsSync(REPO_DEPLOYMENTS_DIR)).toBe(true);
  });
});
