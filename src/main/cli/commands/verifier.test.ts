import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliWithDataDir } from '../testing/cliProcess.ts';

/** Usage errors of the network commands say what to fix before anything starts (the flow itself: twoMachines.test.ts). */
const dir = mkdtempSync(join(tmpdir(), 'xai-cli-verifier-'));
const cli = cliWithDataDir(join(dir, 'data'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('xai-link verifier watch / claim announce', () => {
  it('refuses a watcher without a signer, or with two', async () => {
    const none = await cli('verifier', 'watch');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/say who signs: --dev-account N, --key-env NAME or --keystore FILE/);
    const two = await cli('verifier', 'watch', '--dev-account', '2', '--key-env', 'X');
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/use one of --dev-account, --key-env and --keystore/);
    const badLineage = await cli('verifier', 'watch', '--dev-account', '2', '--lineage', '0');
    expect(badLineage.code).toBe(2);
    expect(badLineage.stderr).toMatch(/lineage id: an integer from 1/);
  }, 60_000);

  it('announces only a claim that exists and is signed', async () => {
    const r = await cli('claim', 'announce', 'claim-nope', '--dev-account', '1');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no claim claim-nope on this machine/);
  }, 60_000);
});
