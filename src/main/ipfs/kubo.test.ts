import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kuboDeterministicBytes, TempRepos } from './testUtil.ts';

/**
 * `ipfs add` compatibility. Every expected CID below is what Kubo itself prints, taken from Kubo's
 * own sources (https://github.com/ipfs/kubo):
 *
 * - test/sharness/t0040-add-and-cat.sh: the empty file (QmbFMke1…), "Hello Worlds!\n" (QmVr26fY…),
 *   "Helloo Worlds!\n" (Qmf35k66…), "IPFS\n" (QmdFyxZX…), the `ipfs add -r` tree
 *   test_current_dir/{hey = "Hey\n", hello/world = "World\n"} (QmZQWnfc…), and
 *   `ipfs add --raw-leaves` of the empty file (bafkreihd…).
 * - test/cli/cid_profiles_test.go (IPIP-499 profiles; unixfs-v0-2015 is Kubo's default): "hello world"
 *   without a newline (Qmf412jQ…), and the multi-chunk files of exactly 174 chunks (44544 KiB, the last
 *   size with one level of links: QmUbBALi…) and 175 chunks (44800 KiB, rebalanced into a second level:
 *   QmepeWtd…), both filled with testutils.DeterministicRandomReader(size, "v0-seed") = the ChaCha20
 *   keystream under sha256("v0-seed"), reproduced by kuboDeterministicBytes. For unixfs-v1-2025 (our
 *   default mode): "hello world" → bafkreifz….
 * - The go-ipfs README ("Some things to try": `echo "hello world" > hello; ipfs add hello`):
 *   "hello world\n" → QmT78zSu….
 */
const repos = new TempRepos();
afterEach(() => repos.cleanup());

const KUBO_SMALL_FILES: [string, string][] = [
  ['', 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH'],
  ['hello world\n', 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o'],
  ['hello world', 'Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD'],
  ['Hello Worlds!\n', 'QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH'],
  ['Helloo Worlds!\n', 'Qmf35k66MZNW2GijohUmXQEWKZU4cCGTCwK6idfnt152wJ'],
  ['IPFS\n', 'QmdFyxZXsFiP4csgfM5uPu99AvFiKH62CSPDw5TP92nr7w'],
];

describe('Kubo-compatible add mode', () => {
  it('gives the CIDs ipfs add gives for small files, from bytes and from files', async () => {
    const dir = await repos.dir();
    const ipfs = repos.service(join(dir, 'repo'));
    for (const [i, [text, expected]] of KUBO_SMALL_FILES.entries()) {
      expect(await ipfs.addBytes(Buffer.from(text), { kubo: true }), JSON.stringify(text)).toBe(expected);
      const file = join(dir, `f${i}.txt`);
      await writeFile(file, text);
      const added = await ipfs.addPath(file, { kubo: true });
      expect(added.cid, JSON.stringify(text)).toBe(expected);
      expect(added.kubo).toBe(true);
    }
  });

  it('gives the CID ipfs add -r gives for a directory tree', async () => {
    const dir = await repos.dir();
    const tree = join(dir, 'test_current_dir');
    await mkdir(join(tree, 'hello'), { recursive: true });
    await writeFile(join(tree, 'hey'), 'Hey\n');
    await writeFile(join(tree, 'hello', 'world'), 'World\n');
    const ipfs = repos.service(join(dir, 'repo'));
    const added = await ipfs.addPath(tree, { kubo: true });
    expect(added.cid).toBe('QmZQWnfcqJ6hNkkPvrY9Q5X39GP3jUnUbAV4AbmbbR3Cb1');
    expect(added).toMatchObject({ files: 2, directories: 2 });
  });

  it('gives the CIDs of multi-chunk files at and over the 174-link limit (Kubo profile vectors)', async () => {
    const dir = await repos.dir();
    const ipfs = repos.service(join(dir, 'repo'));
    const atMax = kuboDeterministicBytes(44544 * 1024, 'v0-seed');
    expect(await ipfs.addBytes(atMax, { kubo: true })).toBe('QmUbBALi174SnogsUzLpYbD4xPiBSFANF4iztWCsHbMKh2');
    const file = join(dir, 'over-max.bin');
    await writeFile(file, kuboDeterministicBytes(44800 * 1024, 'v0-seed'));
    expect((await ipfs.addPath(file, { kubo: true })).cid).toBe(
      'QmepeWtdmS1hHXx1oZXsPUv6bMrfRRKfZcoPPU4eEfjnbf',
    );
  });

  it('default mode gives the unixfs-v1-2025 CIDs (raw leaves, CIDv1) that Kubo gives with that profile', async () => {
    const dir = await repos.dir();
    const ipfs = repos.service(join(dir, 'repo'));
    expect(await ipfs.addBytes(Buffer.from('hello world'))).toBe(
      'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e',
    );
    expect(await ipfs.addBytes(Buffer.alloc(0))).toBe(
      'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
    );
    // Kubo's `ipfs add --cid-base=base32` of "base32 test\n" is the CIDv1 form of the CIDv0 it gives by default.
    const v0 = await ipfs.addBytes(Buffer.from('base32 test\n'), { kubo: true });
    const { CID } = await import('multiformats/cid');
    expect(CID.parse(v0).toV1().toString()).toBe(
      'bafybeibyosqxljd2eptb4ebbtvk7pb4aoxzqa6ttdsflty6rsslz5y6i34',
    );
  });
});
