import { createCipheriv, createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpfsService, type IpfsServiceOptions } from './ipfsService.ts';

/** Test helpers: temporary repositories whose services are always stopped and removed afterwards. */
export class TempRepos {
  readonly #dirs: string[] = [];
  readonly #services: IpfsService[] = [];

  async dir(prefix = 'xai-ipfs-'): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), prefix));
    this.#dirs.push(d);
    return d;
  }

  service(repoDir: string, opts: Partial<IpfsServiceOptions> = {}): IpfsService {
    const s = new IpfsService({
      repoDir,
      app: { name: 'xai-link-test', version: '0.0.0' },
      log: () => undefined,
      ...opts,
    });
    this.#services.push(s);
    return s;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.#services.splice(0).map((s) => s.stop()));
    await Promise.all(this.#dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

/**
 * Kubo's deterministic test data (kubo test/cli/testutils/random_deterministic.go): the ChaCha20
 * keystream (RFC 7539, 96-bit zero nonce, counter from 0) under the key sha256(seed).
 */
export function kuboDeterministicBytes(size: number, seed: string): Uint8Array {
  const key = createHash('sha256').update(seed).digest();
  // OpenSSL's chacha20 IV is a 32-bit little-endian counter followed by the 96-bit nonce: all zero here.
  const cipher = createCipheriv('chacha20', key, Buffer.alloc(16));
  return cipher.update(Buffer.alloc(size));
}

/** Pseudo-random but reproducible bytes for test files. */
export function seededBytes(size: number, seed: string): Uint8Array {
  return kuboDeterministicBytes(size, `xai-link-test:${seed}`);
}

export async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of source) chunks.push(c);
  return Buffer.concat(chunks);
}
