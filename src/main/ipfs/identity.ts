import { randomBytes } from 'node:crypto';
import { chmod, link, open, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { PrivateKey } from '@libp2p/interface';

/**
 * The node's libp2p identity, kept in `<repo>/identity.json` with 0600 permissions (like the
 * Identity section of Kubo's config): the peer id and the protobuf-encoded Ed25519 private key.
 * The peer id is stored next to the key so the offline node can report it without loading any
 * crypto; the key is only decoded when networking starts (and checked against the stored id).
 */
export interface StoredIdentity {
  peerId: string;
  /** base64 of the libp2p protobuf PrivateKey. */
  privateKey: string;
  createdAt: string;
}

export async function loadOrCreateIdentity(file: string): Promise<StoredIdentity> {
  const existing = await readIdentity(file);
  if (existing) return existing;
  const { generateKeyPair, privateKeyToProtobuf } = await import('@libp2p/crypto/keys');
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id');
  const key = await generateKeyPair('Ed25519');
  const identity: StoredIdentity = {
    peerId: peerIdFromPrivateKey(key).toString(),
    privateKey: Buffer.from(privateKeyToProtobuf(key)).toString('base64'),
    createdAt: new Date().toISOString(),
  };
  await writePrivateFile(file, `${JSON.stringify(identity, null, 2)}\n`);
  // Another process may have created one at the same moment: whichever file won is the identity.
  return (await readIdentity(file)) ?? identity;
}

/** Decodes the private key and checks that it still belongs to the stored peer id. */
export async function privateKeyOf(identity: StoredIdentity, file: string): Promise<PrivateKey> {
  const { privateKeyFromProtobuf } = await import('@libp2p/crypto/keys');
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id');
  const key = privateKeyFromProtobuf(Buffer.from(identity.privateKey, 'base64'));
  const derived = peerIdFromPrivateKey(key).toString();
  if (derived !== identity.peerId) {
    throw new Error(
      `${file} is inconsistent: its private key belongs to ${derived}, not to the stored peer id ${identity.peerId}`,
    );
  }
  return key;
}

async function readIdentity(file: string): Promise<StoredIdentity | null> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let parsed: Partial<StoredIdentity>;
  try {
    parsed = JSON.parse(raw) as Partial<StoredIdentity>;
  } catch (e) {
    throw new Error(
      `${file} is not valid JSON (${(e as Error).message}); restore it from a backup or delete it to get a new peer id`,
      {
        cause: e,
      },
    );
  }
  if (typeof parsed.peerId !== 'string' || typeof parsed.privateKey !== 'string') {
    throw new Error(
      `${file} lacks "peerId" or "privateKey"; restore it from a backup or delete it to get a new peer id`,
    );
  }
  await tightenPermissions(file);
  return { peerId: parsed.peerId, privateKey: parsed.privateKey, createdAt: String(parsed.createdAt ?? '') };
}

/** A key file that others can read is fixed to 0600 (POSIX only; Windows has no such modes). */
async function tightenPermissions(file: string): Promise<void> {
  if (process.platform === 'win32') return;
  const s = await stat(file);
  if ((s.mode & 0o077) !== 0) await chmod(file, 0o600);
}

/** Atomic write of a file created with mode 0600 from the start (never readable by others, even briefly). */
async function writePrivateFile(path: string, data: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // link() creates `path` only if it does not exist yet, atomically: an identity another process
    // wrote meanwhile is never replaced (a changed peer id would orphan its peers' records).
    await link(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    await rm(tmp, { force: true });
  }
}
