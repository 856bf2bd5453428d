import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimAfterUnseenMint, runCrashMatrix } from './crashMatrix.ts';

/**
 * The crash matrix in CI: 3 SIGKILLs at seeded moments for every operation (`npm run bench:crash` runs 20 per
 * operation). Each kill must be recovered with nothing acknowledged lost. The claim pipeline's 3 kills take about
 * 3 minutes: the longest part of this file.
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
    'ipfs-gc',
    'ipfs-import-car',
    'claim',
  ].entries()) {
    it(`${key}: 3 kills, all recovered, nothing lost`, async () => {
      const row = await runCrashMatrix(key, 3, 100 + i, join(dir, key));
      expect(row.problems).toEqual([]);
      expect(row).toMatchObject({ kills: 3, recovered: 3, lost: 0 });
    }, 600_000);
  }
});

describe('the claim pipeline after a mint it sent but did not see', () => {
  it('finds and records that mint on the next run: one token, no second claim, no verifier asked again', async () => {
    const r = await claimAfterUnseenMint(join(dir, 'unseen-mint'));
    expect(r.expected).toMatch(/^#1 model /);
    expect(r.minted).toBe(r.expected);
    expect(r.tokenId).toBe(1);
  }, 300_000);
});
