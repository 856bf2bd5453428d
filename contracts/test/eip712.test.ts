/**
 * The EIP-712 definitions in src/shared/chain/eip712.ts and contracts/src/ImprovementTypes.sol must agree:
 * random claims (unicode CIDs, extreme integers) hash to the same digests in TypeScript and on chain, and a
 * viem local account's signature recovers to its address on both sides.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAddress, toHex, type Hex } from 'viem';
import { modelRegistryAbi } from '../generated/index.ts';
import {
  attestationDigest,
  commitmentOf,
  improvementDigest,
  improvementFromJson,
  improvementJsonSchema,
  improvementToJson,
  sortAttestations,
  type Improvement,
} from '../../src/shared/chain/eip712.ts';
import { deployAll, devAccount, startTestChain, type Deployed, type TestChain } from './fixture.ts';
import { rng } from './random.ts';

let chain: TestChain;
let d: Deployed;

beforeAll(async () => {
  chain = await startTestChain();
  d = await deployAll(chain, devAccount(0));
});
afterAll(async () => {
  await chain?.stop();
});

function randomClaim(r: ReturnType<typeof rng>): Improvement {
  return {
    lineageId: r.big(r.bool() ? 256 : 16),
    parentTokenId: r.big(r.bool() ? 256 : 16),
    trainer: getAddress(toHex(r.big(160), { size: 20 })),
    modelCid: r.text(80),
    metadataCid: r.text(80),
    evaluationCid: r.text(80),
    score: r.big(64),
    nonce: r.big(r.bool() ? 256 : 8),
    deadline: r.big(r.bool() ? 256 : 40),
  };
}

const read = <T>(functionName: string, args: readonly unknown[]) =>
  chain.publicClient.readContract({
    address: d.registry,
    abi: modelRegistryAbi,
    functionName,
    args,
  } as never) as Promise<T>;

describe('EIP-712 definitions', () => {
  it('give the same Improvement and Attestation digests as the contract (random claims)', async () => {
    const r = rng(712);
    for (let i = 0; i < 40; i++) {
      const claim = randomClaim(r);
      expect(await read<Hex>('improvementDigest', [claim])).toBe(improvementDigest(d.domain, claim));
      expect(await read<Hex>('attestationDigest', [claim])).toBe(attestationDigest(d.domain, claim));
    }
  });

  it('compute the same commitment as the contract', async () => {
    const r = rng(99);
    for (let i = 0; i < 20; i++) {
      const cid = r.text(100);
      const trainer = getAddress(toHex(r.big(160), { size: 20 }));
      const salt = toHex(r.big(256), { size: 32 });
      expect(await read<Hex>('commitmentOf', [cid, trainer, salt])).toBe(commitmentOf(cid, trainer, salt));
    }
  });

  it('reads the domain back from the contract (ERC-5267)', async () => {
    const [, name, version, chainId, verifyingContract] = await read<readonly unknown[]>('eip712Domain', []);
    expect({ name, version, chainId: Number(chainId), verifyingContract }).toEqual(d.domain);
  });

  it('round-trip through the JSON form and reject malformed JSON', () => {
    const r = rng(5);
    const claim = { ...randomClaim(r), modelCid: 'bafy1', metadataCid: 'bafy2', evaluationCid: 'bafy3' };
    const json = improvementJsonSchema.parse(JSON.parse(JSON.stringify(improvementToJson(claim))));
    expect(improvementFromJson(json)).toEqual(claim);
    expect(improvementJsonSchema.safeParse({ ...json, score: (2n ** 64n).toString() }).success).toBe(false);
    expect(improvementJsonSchema.safeParse({ ...json, nonce: '-1' }).success).toBe(false);
    expect(improvementJsonSchema.safeParse({ ...json, extra: 1 }).success).toBe(false);
  });

  it('sort attestations by verifier address as the contract wants', () => {
    const list = [3, 1, 2].map((i) => ({ verifier: devAccount(i).address, signature: '0x' as Hex }));
    const sorted = sortAttestations(list).map((a) => BigInt(a.verifier));
    expect(sorted).toEqual([...sorted].sort((a, b) => (a < b ? -1 : 1)));
  });
});
