import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { accountFromKeystore, decryptKeystore, encryptKeystore, setPasswordPrompt } from './keystore.ts';

const dir = mkdtempSync(join(tmpdir(), 'xai-keystore-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The PBKDF2 test vector of the Web3 Secret Storage Definition (ethereum/wiki). */
const SPEC_VECTOR = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '6087dab2f9fdbbfaddc31a909735c1e6' },
    ciphertext: '5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46',
    kdf: 'pbkdf2',
    kdfparams: {
      c: 262144,
      dklen: 32,
      prf: 'hmac-sha256',
      salt: 'ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd',
    },
    mac: '517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
};

describe('keystore', () => {
  it('decrypts the Web3 Secret Storage test vector', () => {
    expect(decryptKeystore(SPEC_VECTOR, 'testpassword')).toBe(
      '0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d',
    );
  });

  it('round-trips a key and refuses a wrong password', () => {
    const pk = generatePrivateKey();
    const ks = encryptKeystore(pk, 'correct horse', { scryptN: 1024 });
    expect(JSON.stringify(ks)).not.toContain(pk.slice(2));
    expect(`0x${ks.address}`).toBe(privateKeyToAccount(pk).address.toLowerCase());
    expect(decryptKeystore(ks, 'correct horse')).toBe(pk);
    expect(() => decryptKeystore(ks, 'wrong')).toThrow(/password is wrong/);
  });

  it('opens a keystore file with the password from the environment or the prompt', async () => {
    const pk = generatePrivateKey();
    const file = join(dir, 'key.json');
    writeFileSync(file, JSON.stringify(encryptKeystore(pk, 's3cret', { scryptN: 1024 })));
    const address = privateKeyToAccount(pk).address;
    expect((await accountFromKeystore(file, 'KS_PASS', { KS_PASS: 's3cret' })).address).toBe(address);
    await expect(accountFromKeystore(file, 'KS_PASS', {})).rejects.toThrow(/KS_PASS/);
    await expect(accountFromKeystore(file, undefined, {})).rejects.toThrow(/no password/);
    setPasswordPrompt(async () => 's3cret');
    try {
      expect((await accountFromKeystore(file, undefined, {})).address).toBe(address);
    } finally {
      setPasswordPrompt(null);
    }
    await expect(accountFromKeystore(join(dir, 'missing.json'), 'KS_PASS', { KS_PASS: 'x' })).rejects.toThrow(
      /does not exist/,
    );
  });
});
