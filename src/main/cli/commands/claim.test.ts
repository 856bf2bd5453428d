/**
 * `xai-link key new | address` as a user runs them: the real CLI in a child process. The key is only ever
 * in the encrypted keystore: never on stdout or stderr, --json included.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptKeystore } from '../../claims/keystore.ts';
import { cliWithDataDir, jsonOf, type Cli } from '../testing/cliProcess.ts';

const PASSWORD = 'correct horse battery staple';
let dir: string;
let cli: Cli;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xai-cli-key-'));
  cli = cliWithDataDir(join(dir, 'data'), { env: { XAI_TEST_KEYSTORE_PASSWORD: PASSWORD } });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('xai-link key', () => {
  it('creates an encrypted keystore and prints only its address (--json: address and file)', async () => {
    const file = join(dir, 'trainer.json');
    const created = await cli('key', 'new', file, '--password-env', 'XAI_TEST_KEYSTORE_PASSWORD', '--json');
    const { address, file: written } = jsonOf<{ address: string; file: string }>(created);
    expect(written).toBe(file);
    expect(Object.keys(JSON.parse(created.stdout) as object).sort()).toEqual(['address', 'file']);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const key = decryptKeystore(JSON.parse(readFileSync(file, 'utf8')), PASSWORD);
    expect(privateKeyToAccount(key).address).toBe(address);
    const secret = key.slice(2).toLowerCase();
    expect(created.stdout.toLowerCase()).not.toContain(secret);
    expect(created.stderr.toLowerCase()).not.toContain(secret);
    expect(readFileSync(file, 'utf8').toLowerCase()).not.toContain(secret);

    const shown = await cli('key', 'address', file, '--password-env', 'XAI_TEST_KEYSTORE_PASSWORD', '--json');
    expect(jsonOf(shown)).toEqual({ address, file });
    expect(shown.stdout.toLowerCase()).not.toContain(secret);
  });

  it('refuses to overwrite a keystore or to run without a password, with exit code 2', async () => {
    const file = join(dir, 'existing.json');
    writeFileSync(file, '{}\n');
    const [exists, noPassword] = await Promise.all([
      cli('key', 'new', file, '--password-env', 'XAI_TEST_KEYSTORE_PASSWORD'),
      cli('key', 'new', join(dir, 'other.json'), '--password-env', 'XAI_TEST_UNSET_VARIABLE'),
    ]);
    expect(exists.code).toBe(2);
    expect(exists.stderr).toMatch(/existing\.json exists: choose another file/);
    expect(readFileSync(file, 'utf8')).toBe('{}\n');
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toMatch(
      /XAI_TEST_UNSET_VARIABLE is not set: put the new keystore's password in it/,
    );
  });
});
