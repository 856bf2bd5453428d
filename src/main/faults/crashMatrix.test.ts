import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCrashMatrix } from './crashMatrix.ts';

/**
 * The crash matrix in CI: 3 SIGKILLs at seeded moments for the operations whose 3 kills take under a minute
 * (`npm run bench:crash` runs 20 per operation, for every operation, the claim pipeline included: its 3
 * kills take over 3 minutes). Each kill must be recovered with nothing acknowledged lost.
 */
const dir = mkdtempSync(join(tmpdir(), 'xai-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kill at any moment, lose nothing', () => {
  for (const [i, key] of [
    'settings',
    'prepare',
    'ipfs-add',
    'train-checkpoint',
    'eval',
    'chain-state',
  ].entries()) {
    it(`${key}: 3 kills, all recovered, nothing lost`, async () => {
      const row = await runCrashMatrix(key, 3, 100 + i, join(dir, key));
      expect(row.problems).toEqual([]);
      expect(row).toMatchObject({ kills: 3, recovered: 3, lost: 0 });
    }, 300_000);
  }
});
