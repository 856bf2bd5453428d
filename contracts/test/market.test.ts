/**
 * LicenseMarket on a real anvil: suggested price from the attested score, manual price bounds, exact
 * payment, the owner / ancestors / creator split, pull-payment withdrawals (and a reentrancy attack on them),
 * leaderboard statistics, and ERC-2981.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseEventLogs, type Address, type Hex } from 'viem';
import {
  licenseMarketAbi,
  modelRegistryAbi,
  reentrantWithdrawerAbi,
  reentrantWithdrawerBytecode,
} from '../generated/index.ts';
import {
  attestClaim,
  claimArgs,
  createLineage,
  deployAll,
  devAccount,
  draftClaim,
  expectRevert,
  signClaim,
  simulate,
  startTestChain,
  submitClaim,
  type Deployed,
  type TestChain,
} from './fixture.ts';

const deployer = devAccount(0);
const creator = devAccount(1);
const alice = devAccount(2); // trains v1
const bob = devAccount(3); // trains v2
const verifier = devAccount(4);
const buyer = devAccount(5);
const buyer2 = devAccount(6);
const attacker = devAccount(7);

const GENESIS = 8_000_000n;
const BASE = 10n ** 15n;
const PER_POINT = 10n ** 9n;

let chain: TestChain;
let d: Deployed;
let lineageId: bigint;
let snapshot: Hex;

async function mint(who: typeof alice, parentTokenId: bigint, score: bigint): Promise<bigint> {
  const draft = await draftClaim(chain, d, who, { lineageId, parentTokenId, score });
  const sig = await signClaim(who, d.domain, draft.claim);
  return (
    await submitClaim(
      chain,
      d,
      who,
      claimArgs(draft, sig, await attestClaim([verifier], d.domain, draft.claim)),
    )
  ).tokenId;
}

async function read<T>(functionName: string, args: readonly unknown[] = []): Promise<T> {
  return (await chain.publicClient.readContract({
    address: d.market,
    abi: licenseMarketAbi,
    functionName,
    args,
  } as never)) as T;
}

async function send(who: typeof alice, functionName: string, args: readonly unknown[], value?: bigint) {
  const { request } = await chain.publicClient.simulateContract({
    account: who,
    address: d.market,
    abi: licenseMarketAbi,
    functionName,
    args,
    value,
  } as never);
  const hash = await chain.wallet(who).writeContract(request as never);
  return chain.publicClient.waitForTransactionReceipt({ hash });
}

beforeAll(async () => {
  chain = await startTestChain();
  d = await deployAll(chain, deployer);
  lineageId = await createLineage(chain, d, creator, {
    verifiers: [verifier.address],
    genesisScore: GENESIS,
    basePrice: BASE,
    pricePerPoint: PER_POINT,
  });
  await mint(alice, 0n, 7_000_000n); // token 1, gain 1 000 000
  await mint(bob, 1n, 6_000_000n); // token 2, gain 2 000 000
});
afterAll(async () => {
  await chain?.stop();
});
beforeEach(async () => {
  snapshot = await chain.testClient.snapshot();
});
afterEach(async () => {
  await chain.testClient.revert({ id: snapshot });
});

describe('prices', () => {
  it('suggests basePrice + pricePerPoint × gain, higher for the better model', async () => {
    expect(await read<bigint>('suggestedPrice', [1n])).toBe(BASE + PER_POINT * 1_000_000n);
    expect(await read<bigint>('suggestedPrice', [2n])).toBe(BASE + PER_POINT * 2_000_000n);
    expect(await read<bigint>('quotePrice', [lineageId, GENESIS + 5n])).toBe(BASE);
    expect(await read<bigint>('priceOf', [2n])).toBe(BASE + PER_POINT * 2_000_000n);
  });

  it('lets the owner set a manual price within the bounds, and clear it', async () => {
    const suggested = await read<bigint>('suggestedPrice', [2n]);
    const [min, max] = await read<[bigint, bigint]>('priceBounds', [2n]);
    expect([min, max]).toEqual([suggested / 2n, suggested * 2n]);
    await expectRevert(
      simulate(chain, bob, d.market, licenseMarketAbi, 'setPrice', [2n, min - 1n]),
      'PriceOutOfBounds',
    );
    await expectRevert(
      simulate(chain, bob, d.market, licenseMarketAbi, 'setPrice', [2n, max + 1n]),
      'PriceOutOfBounds',
    );
    await expectRevert(
      simulate(chain, alice, d.market, licenseMarketAbi, 'setPrice', [2n, max]),
      'NotTokenOwner',
    );
    const receipt = await send(bob, 'setPrice', [2n, max]);
    expect(parseEventLogs({ abi: licenseMarketAbi, logs: receipt.logs })[0]?.args).toMatchObject({
      tokenId: 2n,
      owner: bob.address,
      price: max,
    });
    expect(await read<bigint>('priceOf', [2n])).toBe(max);
    await send(bob, 'setPrice', [2n, 0n]);
    expect(await read<bigint>('priceOf', [2n])).toBe(suggested);
  });
});

describe('buying a licence', () => {
  it('takes exactly the price', async () => {
    const price = await read<bigint>('priceOf', [2n]);
    await expectRevert(
      simulate(chain, buyer, d.market, licenseMarketAbi, 'buyLicense', [2n], price - 1n),
      'WrongPayment',
    );
    await expectRevert(
      simulate(chain, buyer, d.market, licenseMarketAbi, 'buyLicense', [2n], price + 1n),
      'WrongPayment',
    );
    await expectRevert(
      simulate(chain, buyer, d.market, licenseMarketAbi, 'buyLicense', [2n], 0n),
      'WrongPayment',
    );
    await send(buyer, 'buyLicense', [2n], price);
    expect(await read<boolean>('hasLicense', [2n, buyer.address])).toBe(true);
    await expectRevert(
      simulate(chain, buyer, d.market, licenseMarketAbi, 'buyLicense', [2n], price),
      'AlreadyLicensed',
    );
  });

  it('splits v2 revenue: 70 % owner, 20 % ancestors (v1 owner), 10 % creator', async () => {
    const price = await read<bigint>('priceOf', [2n]);
    const receipt = await send(buyer, 'buyLicense', [2n], price);
    const creatorShare = (price * 1_000n) / 10_000n;
    const ancestors = (price * 2_000n) / 10_000n;
    expect(await read<bigint>('pendingWithdrawal', [creator.address])).toBe(creatorShare);
    expect(await read<bigint>('pendingWithdrawal', [alice.address])).toBe(ancestors);
    expect(await read<bigint>('pendingWithdrawal', [bob.address])).toBe(price - creatorShare - ancestors);
    const credited = parseEventLogs({
      abi: licenseMarketAbi,
      logs: receipt.logs,
      eventName: 'RevenueCredited',
    }).map((l) => [l.args.account, l.args.role]);
    expect(credited).toEqual([
      [alice.address, 1],
      [creator.address, 2],
      [bob.address, 0],
    ]);
  });

  it('gives the ancestors share to the creator when the token has no ancestor', async () => {
    const price = await read<bigint>('priceOf', [1n]);
    await send(buyer, 'buyLicense', [1n], price);
    expect(await read<bigint>('pendingWithdrawal', [creator.address])).toBe((price * 3_000n) / 10_000n);
    expect(await read<bigint>('pendingWithdrawal', [alice.address])).toBe(price - (price * 3_000n) / 10_000n);
  });

  it('pays the current owner after a transfer, and keeps leaderboard statistics', async () => {
    await chain.publicClient.waitForTransactionReceipt({
      hash: await chain.wallet(alice).writeContract({
        address: d.registry,
        abi: modelRegistryAbi,
        functionName: 'transferFrom',
        args: [alice.address, buyer2.address, 1n],
      }),
    });
    const p2 = await read<bigint>('priceOf', [2n]);
    await send(buyer, 'buyLicense', [2n], p2);
    await send(buyer2, 'buyLicense', [2n], p2);
    expect(await read<bigint>('pendingWithdrawal', [buyer2.address])).toBe(((p2 * 2_000n) / 10_000n) * 2n);
    expect(await read<bigint>('pendingWithdrawal', [alice.address])).toBe(0n);
    expect(await read<[bigint, bigint]>('tokenStats', [2n])).toEqual([2n, p2 * 2n]);
    expect(await read<[bigint, bigint]>('lineageStats', [lineageId])).toEqual([2n, p2 * 2n]);
    expect(await read<bigint>('licensesHeld', [buyer.address])).toBe(1n);
    expect(await read<bigint>('totalLicenses')).toBe(2n);
    const [total, inLineage] = await read<[bigint, bigint]>('earnings', [bob.address, lineageId]);
    expect(total).toBe(inLineage);
    expect(total).toBe((p2 - (p2 * 1_000n) / 10_000n - (p2 * 2_000n) / 10_000n) * 2n);
  });

  it('reports ERC-2981 royalties to the trainer, whoever owns the token', async () => {
    const [receiver, amount] = (await chain.publicClient.readContract({
      address: d.registry,
      abi: modelRegistryAbi,
      functionName: 'royaltyInfo',
      args: [2n, 1_000_000n],
    })) as readonly [Address, bigint];
    expect([receiver, amount]).toEqual([bob.address, 50_000n]);
    expect(
      await chain.publicClient.readContract({
        address: d.registry,
        abi: modelRegistryAbi,
        functionName: 'supportsInterface',
        args: ['0x2a55205a'],
      }),
    ).toBe(true);
  });
});

describe('withdrawals', () => {
  it('pays out the pending balance once', async () => {
    const price = await read<bigint>('priceOf', [2n]);
    await send(buyer, 'buyLicense', [2n], price);
    const owed = await read<bigint>('pendingWithdrawal', [bob.address]);
    const before = await chain.publicClient.getBalance({ address: bob.address });
    const receipt = await send(bob, 'withdraw', []);
    const after = await chain.publicClient.getBalance({ address: bob.address });
    expect(after - before).toBe(owed - receipt.gasUsed * receipt.effectiveGasPrice);
    expect(parseEventLogs({ abi: licenseMarketAbi, logs: receipt.logs })[0]?.args).toMatchObject({
      account: bob.address,
      amount: owed,
    });
    await expectRevert(simulate(chain, bob, d.market, licenseMarketAbi, 'withdraw', []), 'NothingToWithdraw');
    // Lifetime earnings stay for the leaderboard.
    expect((await read<[bigint, bigint]>('earnings', [bob.address, lineageId]))[0]).toBe(owed);
  });

  async function attackerOwningToken2(swallow: boolean): Promise<Address> {
    const hash = await chain.wallet(attacker).deployContract({
      abi: reentrantWithdrawerAbi,
      bytecode: reentrantWithdrawerBytecode,
      args: [d.market, swallow],
    });
    const evil = (await chain.publicClient.waitForTransactionReceipt({ hash })).contractAddress!;
    await chain.publicClient.waitForTransactionReceipt({
      hash: await chain.wallet(bob).writeContract({
        address: d.registry,
        abi: modelRegistryAbi,
        functionName: 'transferFrom',
        args: [bob.address, evil, 2n],
      }),
    });
    await send(buyer, 'buyLicense', [2n], await read<bigint>('priceOf', [2n]));
    return evil;
  }

  it('stops a re-entrant withdraw with ReentrancyGuardReentrantCall', async () => {
    const evil = await attackerOwningToken2(false);
    const abi = [...reentrantWithdrawerAbi, ...licenseMarketAbi.filter((x) => x.type === 'error')];
    await expectRevert(simulate(chain, attacker, evil, abi, 'attack', []), 'ReentrancyGuardReentrantCall');
  });

  it('pays a re-entering contract only once when it swallows the failed re-entry', async () => {
    const evil = await attackerOwningToken2(true);
    const owed = await read<bigint>('pendingWithdrawal', [evil]);
    expect(owed).toBeGreaterThan(0n);
    const before = await chain.publicClient.getBalance({ address: d.market });
    const { request } = await chain.publicClient.simulateContract({
      account: attacker,
      address: evil,
      abi: reentrantWithdrawerAbi,
      functionName: 'attack',
    });
    await chain.publicClient.waitForTransactionReceipt({
      hash: await chain.wallet(attacker).writeContract(request),
    });
    expect(await chain.publicClient.getBalance({ address: evil })).toBe(owed);
    expect(before - (await chain.publicClient.getBalance({ address: d.market }))).toBe(owed);
    const readEvil = (fn: 'received' | 'reentered') =>
      chain.publicClient.readContract({ address: evil, abi: reentrantWithdrawerAbi, functionName: fn });
    expect(await readEvil('received')).toBe(1n);
    expect(await readEvil('reentered')).toBe(false);
    expect(await read<bigint>('pendingWithdrawal', [evil])).toBe(0n);
  });
});
