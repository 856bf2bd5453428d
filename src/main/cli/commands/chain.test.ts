/**
 * The chain commands as a user runs them: the real CLI in a child process against the embedded chain
 * (anvil started in the background by `chain start`, contracts deployed), every result also as --json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mnemonicToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWithDataDir, jsonOf, type Cli } from '../testing/cliProcess.ts';

/** The embedded chain's dev accounts: anvil's, from its default mnemonic. */
const dev = [0, 1, 2].map(
  (i) =>
    mnemonicToAccount('test test test test test test test test test test test junk', { addressIndex: i })
      .address,
);
let dir: string;
let cli: Cli;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xai-cli-chain-'));
  cli = cliWithDataDir(join(dir, 'data'));
  const started = jsonOf<{ running: boolean; deployment: { registry: string } | null }>(
    await cli('chain', 'start', '--json'),
  );
  expect(started.running).toBe(true);
  expect(started.deployment?.registry).toMatch(/^0x[0-9a-fA-F]{40}$/);
});
afterAll(async () => {
  await cli('chain', 'stop');
  rmSync(dir, { recursive: true, force: true });
});

const txHash = /^0x[0-9a-f]{64}$/;

interface LineageJson {
  name: string;
  creator: string;
  genesisScore: string;
  verifiers: string[];
  quorum: number;
}

describe('xai-link lineage', () => {
  it('creates and shows a lineage; its creator adds a verifier and sets the quorum', async () => {
    const created = jsonOf<{ lineageId: number; txHash: string }>(
      await cli(
        'lineage',
        'create',
        '--name',
        'cli lineage',
        '--genesis-score',
        '5000000',
        '--verifier',
        dev[1]!,
        '--json',
      ),
    );
    expect(created).toMatchObject({ lineageId: 1, txHash: expect.stringMatching(txHash) });
    const id = String(created.lineageId);
    expect(jsonOf<LineageJson>(await cli('lineage', 'show', id, '--json'))).toMatchObject({
      name: 'cli lineage',
      creator: dev[0],
      genesisScore: '5000000',
      verifiers: [dev[1]],
      quorum: 1,
    });

    const added = jsonOf<{ txHash: string }>(await cli('lineage', 'add-verifier', id, dev[2]!, '--json'));
    expect(added.txHash).toMatch(txHash);
    jsonOf(await cli('lineage', 'quorum', id, '2', '--json'));
    const shown = await cli('lineage', 'show', id);
    expect(shown.stdout).toMatch(/^lineage +1: cli lineage$/m);
    expect(shown.stdout).toContain(`verifiers           ${dev[1]}, ${dev[2]} (quorum 2)`);
  });

  it('refuses bad input with exit code 2 and says what to fix', async () => {
    const [noVerifier, badId] = await Promise.all([
      cli('lineage', 'create', '--name', 'x', '--genesis-score', '5'),
      cli('lineage', 'show', '0'),
    ]);
    expect(noVerifier.code).toBe(2);
    expect(noVerifier.stderr).toMatch(/^error: --verifier <address> is required \(repeatable\)/m);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/lineage id: an integer from 1 to/);
  });
});

describe('xai-link licence buy', () => {
  it('explains a token that does not exist (exit code 1) and refuses a token id of 0 (exit code 2)', async () => {
    const [missing, zero] = await Promise.all([
      cli('licence', 'buy', '5', '--json'),
      cli('licence', 'buy', '0'),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/NonexistentToken\(5\)/);
    expect(missing.stderr).toMatch(/^hint: .*xai-link tokens list/m);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/token id: an integer from 1 to/);
  });
});

describe('xai-link chain functions-config', () => {
  it('sets the Chainlink Functions values, keeps the ones not given, and refuses bad values with exit code 2', async () => {
    const router = '0x00000000000000000000000000000000000000aa';
    const set = jsonOf<Record<string, unknown>>(
      await cli(
        'chain',
        'functions-config',
        '--chain-id',
        '31337',
        '--router',
        router,
        '--don-id',
        'local-don',
        '--subscription',
        '7',
        '--json',
      ),
    );
    expect(set).toMatchObject({
      chainId: 31337,
      routerAddress: router,
      donId: 'local-don',
      subscriptionId: '7',
    });
    const [changed, badRouter] = await Promise.all([
      cli('chain', 'functions-config', '--subscription', '8'),
      cli('chain', 'functions-config', '--router', '0x1234'),
    ]);
    expect(changed.stdout).toMatch(/^subscriptionId +8$/m);
    expect(changed.stdout).toMatch(new RegExp(`^routerAddress +${router}$`, 'm'));
    expect(badRouter.code).toBe(2);
    expect(badRouter.stderr).toMatch(/routerAddress.*0x followed by 40 hexadecimal characters/);
  });
});

describe('xai-link chain use | stop --json', () => {
  it('prints the status and whether the chain stopped', async () => {
    const used = jsonOf<{ network: { kind: string }; running: boolean }>(
      await cli('chain', 'use', 'embedded', '--json'),
    );
    expect(used).toMatchObject({ network: { kind: 'embedded' }, running: true });
    expect(jsonOf(await cli('chain', 'stop', '--json'))).toEqual({ stopped: true });
  });
});
