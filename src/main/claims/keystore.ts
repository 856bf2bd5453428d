import {
  createCipheriv,
  createDecipheriv,
  pbkdf2Sync,
  randomBytes,
  randomUUID,
  scryptSync,
  timingSafeEqual,
} from 'node:crypto';
import { bytesToHex, hexToBytes, keccak256, type Hex } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { ApiError } from '../../shared/api/errors.ts';
import { readUserFile, UserFileError } from '../util/readUserFile.ts';

/**
 * Encrypted JSON keystores (Web3 Secret Storage Definition v3: scrypt or PBKDF2-HMAC-SHA256, AES-128-CTR,
 * keccak-256 MAC), the format geth, ethers (`Wallet.fromEncryptedJson`/`encrypt`), viem-based tools and
 * Foundry's `cast wallet` write. Decrypted keys live in memory only for the signature; nothing here
 * prints, logs or writes a private key or a password.
 */
export interface KeystoreV3 {
  version: 3;
  id: string;
  address: string;
  crypto: {
    cipher: 'aes-128-ctr';
    cipherparams: { iv: string };
    ciphertext: string;
    kdf: 'scrypt' | 'pbkdf2';
    kdfparams: Record<string, unknown>;
    mac: string;
  };
}

const MAX_KEYSTORE_BYTES = 64 * 1024;

function strip0x(s: string): string {
  return s.startsWith('0x') ? s.slice(2) : s;
}

function fail(message: string, hint?: string): never {
  throw new ApiError('FAILED_PRECONDITION', message, hint ? { hint } : {});
}

function deriveKey(kdf: string, params: Record<string, unknown>, password: string): Buffer {
  const salt = Buffer.from(strip0x(String(params.salt ?? '')), 'hex');
  const dklen = Number(params.dklen ?? 32);
  if (dklen < 32 || dklen > 64) fail(`keystore: unsupported dklen ${dklen}`);
  if (kdf === 'scrypt') {
    const N = Number(params.n);
    const r = Number(params.r);
    const p = Number(params.p);
    if (
      !Number.isInteger(N) ||
      N < 2 ||
      N > 2 ** 20 ||
      (N & (N - 1)) !== 0 ||
      !(r >= 1 && r <= 32) ||
      !(p >= 1 && p <= 16)
    ) {
      fail(`keystore: unsupported scrypt parameters (n=${N}, r=${r}, p=${p})`);
    }
    return scryptSync(password.normalize('NFKC'), salt, dklen, { N, r, p, maxmem: 256 * N * r * p });
  }
  if (kdf === 'pbkdf2') {
    if (params.prf !== 'hmac-sha256') fail(`keystore: unsupported pbkdf2 prf ${String(params.prf)}`);
    const c = Number(params.c);
    if (!Number.isInteger(c) || c < 1 || c > 10_000_000)
      fail(`keystore: unsupported pbkdf2 iteration count ${c}`);
    return pbkdf2Sync(password.normalize('NFKC'), salt, c, dklen, 'sha256');
  }
  return fail(`keystore: unsupported key derivation "${kdf}" (scrypt and pbkdf2 are)`);
}

/** Decrypts a keystore's private key; a wrong password fails with a clear error (MAC mismatch). */
export function decryptKeystore(json: unknown, password: string): Hex {
  const ks = json as Partial<KeystoreV3> & { Crypto?: KeystoreV3['crypto'] };
  const c = ks.crypto ?? ks.Crypto;
  if (ks.version !== 3 || !c) fail('not a version 3 JSON keystore');
  if (c.cipher !== 'aes-128-ctr') fail(`keystore: unsupported cipher ${c.cipher}`);
  const derived = deriveKey(c.kdf, c.kdfparams, password);
  const ciphertext = Buffer.from(strip0x(c.ciphertext), 'hex');
  const mac = hexToBytes(keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext])));
  const expected = Buffer.from(strip0x(c.mac), 'hex');
  if (expected.length !== mac.length || !timingSafeEqual(Buffer.from(mac), expected)) {
    fail('the keystore password is wrong (MAC mismatch)');
  }
  const decipher = createDecipheriv(
    'aes-128-ctr',
    derived.subarray(0, 16),
    Buffer.from(strip0x(c.cipherparams.iv), 'hex'),
  );
  const key = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  if (key.length !== 32) fail('keystore: the decrypted key is not 32 bytes');
  const hex = bytesToHex(key);
  key.fill(0);
  derived.fill(0);
  return hex;
}

/** Encrypts a private key as a v3 keystore (scrypt; n = 2^17 by default, as ethers). */
export function encryptKeystore(
  privateKey: Hex,
  password: string,
  opts: { scryptN?: number } = {},
): KeystoreV3 {
  const n = opts.scryptN ?? 131_072;
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const kdfparams = { dklen: 32, n, r: 8, p: 1, salt: salt.toString('hex') };
  const derived = deriveKey('scrypt', kdfparams, password);
  const cipher = createCipheriv('aes-128-ctr', derived.subarray(0, 16), iv);
  const keyBytes = Buffer.from(hexToBytes(privateKey));
  const ciphertext = Buffer.concat([cipher.update(keyBytes), cipher.final()]);
  keyBytes.fill(0);
  const mac = strip0x(keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext])));
  derived.fill(0);
  return {
    version: 3,
    id: randomUUID(),
    address: strip0x(privateKeyToAccount(privateKey).address).toLowerCase(),
    crypto: {
      cipher: 'aes-128-ctr',
      cipherparams: { iv: iv.toString('hex') },
      ciphertext: ciphertext.toString('hex'),
      kdf: 'scrypt',
      kdfparams,
      mac,
    },
  };
}

/** Asks for a password (the CLI installs a terminal prompt); services have none. */
export type PasswordPrompt = (question: string) => Promise<string>;
let prompt: PasswordPrompt | null = null;

export function setPasswordPrompt(p: PasswordPrompt | null): void {
  prompt = p;
}

/** Opens a keystore file: the password comes from `passwordEnv`, else from the prompt (CLI, terminal). */
export async function accountFromKeystore(
  path: string,
  passwordEnv: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PrivateKeyAccount> {
  let bytes: Buffer;
  try {
    bytes = readUserFile(path, MAX_KEYSTORE_BYTES, "the keystore's JSON file");
  } catch (e) {
    if (e instanceof UserFileError)
      return fail(e.reason === 'missing' ? `the keystore file ${path} does not exist` : e.message);
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return fail(`${path} is not a JSON keystore`);
  }
  let password: string;
  if (passwordEnv) {
    const v = env[passwordEnv];
    if (v === undefined) fail(`the environment variable ${passwordEnv} (the keystore password) is not set`);
    password = v;
  } else if (prompt) {
    password = await prompt(`Password for ${path}: `);
  } else {
    return fail(
      `no password for the keystore ${path}`,
      'Name the environment variable holding it (passwordEnv / --password-env).',
    );
  }
  return privateKeyToAccount(decryptKeystore(json, password));
}
