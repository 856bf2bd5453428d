/**
 * ModelRegistry on a real anvil: the happy path, and every attack the issue lists reverting with its
 * custom error (forged or tampered signatures, duplicate and unsorted verifiers, quorum, replay, other chain
 * or contract, deadline, copied CID, commit missing or too young, ε, stale parent, verifier management).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseEventLogs, type Address, type Hex } from 'viem';
import {
  erc1271VerifierAbi,
  erc1271VerifierBytecode,
  modelRegistryAbi,
  onChainAttestorAbi,
  onChainAttestorBytecode,
} from '../generated/index.ts';
import {
  attestationDigest,
  attestationTypedData,
  registryDomain,
  sortAttestations,
} from '../../src/shared/chain/eip712.ts';
import {
  advance,
  attestClaim,
  claimArgs,
  commitModel,
  createLineage,
  deployAll,
  devAccount,
  draftClaim,
  expectRevert,
  freshSalt,
  lineageParams,
  now,
  signClaim,
  simulate,
  startTestChain,
  submitClaim,
  type Deployed,
  type TestChain,
} from './fixture.ts';

const deployer = devAccount(0);
const creator = devAccount(1);
const trainer = devAccount(2);
const v1 = devAccount(3);
const v2 = devAccount(4);
const v3 = devAccount(5);
const attacker = devAccount(7);
const trainer2 = devAccount(8);

let chain: TestChain;
let d: Deployed;
let lineageId: bigint;
let snapshot: Hex;

const GENESIS = 8_000_000n; // bits per byte × 10^6, lower is better
const EPS_BPS = 100n; // 1 %

beforeAll(async () => {
  chain = await startTestChain();
  d = await deployAll(chain, deployer);
  lineageId = await createLineage(chain, d, creator, {
    verifiers: [v1.address, v2.address, v3.address],
    quorum: 2,
    genesisScore: GENESIS,
    genesisModelCid: 'bafygenesis',
  });
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

function simulateClaim(args: readonly unknown[]) {
  return simulate(chain, deployer, d.registry, modelRegistryAbi, 'claim', args);
}

async function readRegistry<T>(functionName: string, args: readonly unknown[] = []): Promise<T> {
  return (await chain.publicClient.readContract({
    address: d.registry,
    abi: modelRegistryAbi,
    functionName,
    args,
  } as never)) as T;
}

async function validClaim(score = 7_500_000n, parentTokenId = 0n, who = trainer) {
  const draft = await draftClaim(chain, d, who, { lineageId, parentTokenId, score });
  return {
    draft,
    sig: await signClaim(who, d.domain, draft.claim),
    atts: await attestClaim([v1, v2], d.domain, draft.claim),
  };
}

describe('claim: happy path', () => {
  it('mints to the trainer with score, parent, lineage, tokenURI and royalty recorded', async () => {
    const { draft, sig, atts } = await validClaim();
    const { tokenId } = await submitClaim(chain, d, deployer, claimArgs(draft, sig, atts));
    expect(tokenId).toBe(1n);
    expect(await readRegistry<Address>('ownerOf', [tokenId])).toBe(trainer.address);
    expect(await readRegistry<string>('tokenURI', [tokenId])).toBe(`ipfs://${draft.claim.metadataCid}`);
    const model = await readRegistry<{
      score: bigint;
      parentTokenId: bigint;
      lineageId: bigint;
      version: number;
      modelCid: string;
    }>('getModel', [tokenId]);
    expect(model).toMatchObject({
      score: 7_500_000n,
      parentTokenId: 0n,
      lineageId,
      version: 1,
      modelCid: draft.claim.modelCid,
    });
    const lineage = await readRegistry<{ bestTokenId: bigint; bestScore: bigint; modelCount: bigint }>(
      'getLineage',
      [lineageId],
    );
    expect(lineage).toMatchObject({ bestTokenId: 1n, bestScore: 7_500_000n, modelCount: 1n });
    expect(await readRegistry<bigint>('nonces', [trainer.address])).toBe(1n);
    expect(await readRegistry<boolean>('isModelCidUsed', [draft.claim.modelCid])).toBe(true);
    const [receiver, royalty] = await readRegistry<[Address, bigint]>('royaltyInfo', [tokenId, 10_000n]);
    expect([receiver, royalty]).toEqual([trainer.address, 500n]);
    // the trainer's digest and the verifiers' digest match the contract's helpers
    expect(await readRegistry<Hex>('attestationDigest', [draft.claim])).toBe(
      attestationDigest(d.domain, draft.claim),
    );
  });

  it('emits ModelMinted and one ClaimAttested per verifier', async () => {
    const { draft, sig, atts } = await validClaim();
    const hash = await chain.wallet(deployer).writeContract({
      address: d.registry,
      abi: modelRegistryAbi,
      functionName: 'claim',
      args: claimArgs(draft, sig, atts),
    });
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
    const logs = parseEventLogs({ abi: modelRegistryAbi, logs: receipt.logs });
    const minted = logs.find((l) => l.eventName === 'ModelMinted');
    expect(minted?.args).toMatchObject({
      tokenId: 1n,
      lineageId,
      trainer: trainer.address,
      score: 7_500_000n,
    });
    const attested = logs
      .filter((l) => l.eventName === 'ClaimAttested')
      .map((l) => (l.args as { verifier: Address }).verifier);
    expect(attested).toEqual(atts.map((a) => a.verifier));
  });

  it('chains versions: v2 must name v1 as parent and beat it by ε', async () => {
    const first = await validClaim(7_500_000n);
    await submitClaim(chain, d, deployer, claimArgs(first.draft, first.sig, first.atts));
    const second = await validClaim(7_000_000n, 1n, trainer2);
    const { tokenId } = await submitClaim(
      chain,
      d,
      trainer2,
      claimArgs(second.draft, second.sig, second.atts),
    );
    expect(tokenId).toBe(2n);
    const model = await readRegistry<{ version: number; parentTokenId: bigint }>('getModel', [2n]);
    expect(model).toMatchObject({ version: 2, parentTokenId: 1n });
  });
});

describe('claim: signatures', () => {
  it('rejects a trainer signature made by another key', async () => {
    const { draft, atts } = await validClaim();
    const forged = await signClaim(attacker, d.domain, draft.claim);
    await expectRevert(simulateClaim(claimArgs(draft, forged, atts)), 'InvalidTrainerSignature');
  });

  it('rejects a claim changed after the trainer signed it (score raised)', async () => {
    const { draft, sig, atts } = await validClaim();
    const tampered = { ...draft, claim: { ...draft.claim, score: 7_000_000n } };
    await expectRevert(simulateClaim(claimArgs(tampered, sig, atts)), 'InvalidTrainerSignature');
  });

  it('rejects a signature made for another chain', async () => {
    const { draft, atts } = await validClaim();
    const otherChain = await signClaim(trainer, registryDomain(1, d.registry), draft.claim);
    await expectRevert(simulateClaim(claimArgs(draft, otherChain, atts)), 'InvalidTrainerSignature');
    const sig = await signClaim(trainer, d.domain, draft.claim);
    const attsOtherChain = await attestClaim([v1, v2], registryDomain(1, d.registry), draft.claim);
    await expectRevert(simulateClaim(claimArgs(draft, sig, attsOtherChain)), 'InvalidAttestation');
  });

  it('rejects a signature made for another registry deployment', async () => {
    const other = await deployAll(chain, deployer);
    const { draft, atts } = await validClaim();
    const otherContract = await signClaim(trainer, other.domain, draft.claim);
    await expectRevert(simulateClaim(claimArgs(draft, otherContract, atts)), 'InvalidTrainerSignature');
  });

  it('rejects a forged verifier signature', async () => {
    const { draft, sig } = await validClaim();
    const good = await attestClaim([v1], d.domain, draft.claim);
    const forged = {
      verifier: v2.address,
      signature: await attacker.signTypedData(attestationTypedData(d.domain, draft.claim)),
    };
    await expectRevert(
      simulateClaim(claimArgs(draft, sig, sortAttestations([...good, forged]))),
      'InvalidAttestation',
    );
  });

  it('rejects an attestation of a different score', async () => {
    const { draft, sig } = await validClaim();
    const otherScore = { ...draft.claim, score: draft.claim.score - 1n };
    const atts = await attestClaim([v1, v2], d.domain, otherScore);
    await expectRevert(simulateClaim(claimArgs(draft, sig, atts)), 'InvalidAttestation');
  });

  it('rejects the same verifier twice', async () => {
    const { draft, sig } = await validClaim();
    const [one] = await attestClaim([v1], d.domain, draft.claim);
    await expectRevert(simulateClaim(claimArgs(draft, sig, [one!, one!])), 'DuplicateVerifier');
  });

  it('rejects attestations not sorted by verifier address', async () => {
    const { draft, sig, atts } = await validClaim();
    await expectRevert(simulateClaim(claimArgs(draft, sig, [...atts].reverse())), 'UnsortedVerifiers');
  });

  it('rejects fewer attestations than the quorum', async () => {
    const { draft, sig } = await validClaim();
    const one = await attestClaim([v1], d.domain, draft.claim);
    await expectRevert(simulateClaim(claimArgs(draft, sig, one)), 'QuorumNotMet');
    await expectRevert(simulateClaim(claimArgs(draft, sig, [])), 'QuorumNotMet');
  });

  it('rejects an attestation from an address that is not a verifier of the lineage', async () => {
    const { draft, sig } = await validClaim();
    const atts = await attestClaim([v1, attacker], d.domain, draft.claim);
    await expectRevert(simulateClaim(claimArgs(draft, sig, atts)), 'NotAVerifier');
  });

  it('does not let a trainer attest its own claim', async () => {
    const draft = await draftClaim(chain, d, v1, { lineageId, parentTokenId: 0n, score: 7_000_000n });
    const sig = await signClaim(v1, d.domain, draft.claim);
    const atts = await attestClaim([v1, v2], d.domain, draft.claim);
    await expectRevert(simulateClaim(claimArgs(draft, sig, atts)), 'SelfAttestation');
  });
});

describe('claim: replay, deadline, commit–reveal', () => {
  it('rejects a replayed claim (nonce already used)', async () => {
    const { draft, sig, atts } = await validClaim();
    await submitClaim(chain, d, deployer, claimArgs(draft, sig, atts));
    const args = await expectRevert(simulateClaim(claimArgs(draft, sig, atts)), 'InvalidAccountNonce');
    expect(args).toEqual([trainer.address, 1n]);
  });

  it('rejects a nonce from the future', async () => {
    const draft = await draftClaim(chain, d, trainer, { lineageId, parentTokenId: 0n, score: 7_000_000n });
    draft.claim.nonce += 1n;
    const sig = await signClaim(trainer, d.domain, draft.claim);
    const atts = await attestClaim([v1, v2], d.domain, draft.claim);
    await expectRevert(simulateClaim(claimArgs(draft, sig, atts)), 'InvalidAccountNonce');
  });

  it('rejects a claim after its deadline', async () => {
    const draft = await draftClaim(chain, d, trainer, { lineageId, parentTokenId: 0n, score: 7_000_000n });
    draft.claim.deadline = (await now(chain)) - 1n;
    const sig = await signClaim(trainer, d.domain, draft.claim);
    const atts = await attestClaim([v1, v2], d.domain, draft.claim);
    await expectRevert(simulateClaim(claimArgs(draft, sig, atts)), 'ClaimExpired');
  });

  it('rejects a claim without a commitment, or revealing the wrong salt', async () => {
    const draft = await draftClaim(chain, d, trainer, { lineageId, parentTokenId: 0n, score: 7_000_000n });
    const sig = await signClaim(trainer, d.domain, draft.claim);
    const atts = await attestClaim([v1, v2], d.domain, draft.claim);
    await expectRevert(
      simulateClaim(claimArgs({ ...draft, salt: freshSalt() }, sig, atts)),
      'CommitmentNotFound',
    );
    // A commitment made for another trainer does not count either.
    const other = { ...draft.claim, trainer: trainer2.address, nonce: 0n };
    const otherSig = await signClaim(trainer2, d.domain, other);
    const otherAtts = await attestClaim([v1, v2], d.domain, other);
    await expectRevert(
      simulateClaim(claimArgs({ claim: other, salt: draft.salt }, otherSig, otherAtts)),
      'CommitmentNotFound',
    );
  });

  it('rejects a commitment younger than the lineage minimum', async () => {
    const draft = await draftClaim(chain, d, trainer, {
      lineageId,
      parentTokenId: 0n,
      score: 7_000_000n,
      age: 10,
    });
    const sig = await signClaim(trainer, d.domain, draft.claim);
    const atts = await attestClaim([v1, v2], d.domain, draft.claim);
    await expectRevert(simulateClaim(claimArgs(draft, sig, atts)), 'CommitmentTooRecent');
  });

  it('refuses a second commit of the same commitment', async () => {
    const salt = freshSalt();
    await commitModel(chain, d, trainer, 'bafyx', salt);
    const { commitmentOf } = await import('../../src/shared/chain/eip712.ts');
    await expectRevert(
      simulate(chain, attacker, d.registry, modelRegistryAbi, 'commit', [
        commitmentOf('bafyx', trainer.address, salt),
      ]),
      'AlreadyCommitted',
    );
  });

  it('refuses a copied model CID: after the original is minted, and when front-running its reveal', async () => {
    const { draft, sig, atts } = await validClaim();
    // Front-running: the attacker sees the reveal, commits the CID for itself and claims right away.
    const copySalt = freshSalt();
    await commitModel(chain, d, attacker, draft.claim.modelCid, copySalt);
    const copy = { ...draft.claim, trainer: attacker.address, nonce: 0n, score: draft.claim.score };
    const copySig = await signClaim(attacker, d.domain, copy);
    const copyAtts = await attestClaim([v1, v2], d.domain, copy);
    await expectRevert(
      simulateClaim(claimArgs({ claim: copy, salt: copySalt }, copySig, copyAtts)),
      'CommitmentTooRecent',
    );
    // The original lands; the attacker waits out the commit age: the CID is taken forever.
    await submitClaim(chain, d, deployer, claimArgs(draft, sig, atts));
    await advance(chain, 120);
    const later = { ...copy, parentTokenId: 1n, score: 1_000_000n };
    const laterSig = await signClaim(attacker, d.domain, later);
    const laterAtts = await attestClaim([v1, v2], d.domain, later);
    await expectRevert(
      simulateClaim(claimArgs({ claim: later, salt: copySalt }, laterSig, laterAtts)),
      'ModelCidAlreadyUsed',
    );
  });

  it("refuses the lineage's genesis model CID", async () => {
    const draft = await draftClaim(chain, d, trainer, {
      lineageId,
      parentTokenId: 0n,
      score: 7_000_000n,
      modelCid: 'bafygenesis',
    });
    const sig = await signClaim(trainer, d.domain, draft.claim);
    const atts = await attestClaim([v1, v2], d.domain, draft.claim);
    await expectRevert(simulateClaim(claimArgs(draft, sig, atts)), 'ModelCidAlreadyUsed');
  });
});

describe('claim: the ε rule', () => {
  async function tryScore(score: bigint, parentTokenId = 0n, age = 61) {
    const draft = await draftClaim(chain, d, trainer, { lineageId, parentTokenId, score, age });
    const sig = await signClaim(trainer, d.domain, draft.claim);
    const atts = await attestClaim([v1, v2], d.domain, draft.claim);
    return { draft, args: claimArgs(draft, sig, atts) };
  }

  it('needs at least ε relative improvement (lower is better)', async () => {
    const bound = (GENESIS * (10_000n - EPS_BPS)) / 10_000n; // 7 920 000
    for (const worse of [GENESIS + 1n, GENESIS, bound + 1n]) {
      await expectRevert(simulateClaim((await tryScore(worse)).args), 'InsufficientImprovement');
    }
    await submitClaim(chain, d, deployer, (await tryScore(bound)).args);
  });

  it('ε decays with the time the best has stood, down to the floor', async () => {
    // Best (genesis) stands 5 days before the commit: ε = 100 - 5 × 10 = 50 bps.
    await advance(chain, 5 * 86_400);
    const at50 = (GENESIS * (10_000n - 50n)) / 10_000n;
    await expectRevert(simulateClaim((await tryScore(at50 + 1n)).args), 'InsufficientImprovement');
    await submitClaim(chain, d, deployer, (await tryScore(at50)).args);
    // The new best stands 100 days: ε reaches its floor of 10 bps.
    await advance(chain, 100 * 86_400);
    const floorBound = (at50 * (10_000n - 10n)) / 10_000n;
    await expectRevert(simulateClaim((await tryScore(floorBound + 1n, 1n)).args), 'InsufficientImprovement');
    await submitClaim(chain, d, deployer, (await tryScore(floorBound, 1n)).args);
  });

  it('needs the current best as parent', async () => {
    await submitClaim(chain, d, deployer, (await tryScore(7_000_000n)).args);
    await expectRevert(simulateClaim((await tryScore(6_000_000n, 0n)).args), 'StaleParent');
    await expectRevert(simulateClaim((await tryScore(6_000_000n, 7n)).args), 'StaleParent');
  });

  it('higher-is-better lineages need a higher score by ε', async () => {
    const acc = await createLineage(chain, d, creator, {
      verifiers: [v1.address],
      higherIsBetter: true,
      genesisScore: 500_000n,
      epsilon: { startBps: 200, floorBps: 200, decayBpsPerDay: 0 },
    });
    const attempt = async (score: bigint) => {
      const draft = await draftClaim(chain, d, trainer, { lineageId: acc, parentTokenId: 0n, score });
      const sig = await signClaim(trainer, d.domain, draft.claim);
      return claimArgs(draft, sig, await attestClaim([v1], d.domain, draft.claim));
    };
    await expectRevert(simulateClaim(await attempt(509_999n)), 'InsufficientImprovement');
    await expectRevert(simulateClaim(await attempt(400_000n)), 'InsufficientImprovement');
    await submitClaim(chain, d, deployer, await attempt(510_000n));
  });
});

describe('contract verifiers', () => {
  it('accepts an ERC-1271 verifier (a contract wallet) and rejects a wrong key behind it', async () => {
    const w = chain.wallet(creator);
    const hash = await w.deployContract({
      abi: erc1271VerifierAbi,
      bytecode: erc1271VerifierBytecode,
      args: [v3.address],
    });
    const wallet = (await chain.publicClient.waitForTransactionReceipt({ hash })).contractAddress!;
    await chain.publicClient.waitForTransactionReceipt({
      hash: await w.writeContract({
        address: d.registry,
        abi: modelRegistryAbi,
        functionName: 'addVerifier',
        args: [lineageId, wallet],
      }),
    });
    const { draft, sig } = await validClaim();
    const [a1] = await attestClaim([v1], d.domain, draft.claim);
    const bad = {
      verifier: wallet,
      signature: await attacker.signTypedData(attestationTypedData(d.domain, draft.claim)),
    };
    await expectRevert(
      simulateClaim(claimArgs(draft, sig, sortAttestations([a1!, bad]))),
      'InvalidAttestation',
    );
    const good = {
      verifier: wallet,
      signature: await v3.signTypedData(attestationTypedData(d.domain, draft.claim)),
    };
    await submitClaim(chain, d, deployer, claimArgs(draft, sig, sortAttestations([a1!, good])));
  });

  it('accepts an attestation made on chain with attest() (empty signature), and only then', async () => {
    const w = chain.wallet(creator);
    const hash = await w.deployContract({
      abi: onChainAttestorAbi,
      bytecode: onChainAttestorBytecode,
      args: [d.registry, v3.address],
    });
    const attestor = (await chain.publicClient.waitForTransactionReceipt({ hash })).contractAddress!;
    await chain.publicClient.waitForTransactionReceipt({
      hash: await w.writeContract({
        address: d.registry,
        abi: modelRegistryAbi,
        functionName: 'addVerifier',
        args: [lineageId, attestor],
      }),
    });
    const { draft, sig } = await validClaim();
    const [a1] = await attestClaim([v1], d.domain, draft.claim);
    const onChain = { verifier: attestor, signature: '0x' as Hex };
    const args = claimArgs(draft, sig, sortAttestations([a1!, onChain]));
    await expectRevert(simulateClaim(args), 'InvalidAttestation');
    await chain.publicClient.waitForTransactionReceipt({
      hash: await chain.wallet(v3).writeContract({
        address: attestor,
        abi: onChainAttestorAbi,
        functionName: 'attestClaim',
        args: [draft.claim],
      }),
    });
    expect(
      await readRegistry<boolean>('hasAttestedOnChain', [attestor, attestationDigest(d.domain, draft.claim)]),
    ).toBe(true);
    await submitClaim(chain, d, deployer, args);
  });
});

describe('lineages and verifier management', () => {
  const write = (who: typeof creator, functionName: string, args: readonly unknown[]) =>
    simulate(chain, who, d.registry, modelRegistryAbi, functionName, args);

  it('only the creator manages verifiers and quorum', async () => {
    await expectRevert(write(attacker, 'addVerifier', [lineageId, attacker.address]), 'NotLineageCreator');
    await expectRevert(write(attacker, 'removeVerifier', [lineageId, v1.address]), 'NotLineageCreator');
    await expectRevert(write(attacker, 'setQuorum', [lineageId, 1]), 'NotLineageCreator');
    await expectRevert(write(trainer, 'setQuorum', [lineageId, 1]), 'NotLineageCreator');
  });

  it('keeps the verifier set and quorum consistent', async () => {
    await expectRevert(write(creator, 'addVerifier', [lineageId, v1.address]), 'VerifierAlreadyRegistered');
    await expectRevert(
      write(creator, 'addVerifier', [lineageId, '0x0000000000000000000000000000000000000000']),
      'InvalidVerifier',
    );
    await expectRevert(
      write(creator, 'removeVerifier', [lineageId, attacker.address]),
      'VerifierNotRegistered',
    );
    await expectRevert(write(creator, 'setQuorum', [lineageId, 0]), 'InvalidQuorum');
    await expectRevert(write(creator, 'setQuorum', [lineageId, 4]), 'InvalidQuorum');
    const w = chain.wallet(creator);
    await chain.publicClient.waitForTransactionReceipt({
      hash: await w.writeContract({
        address: d.registry,
        abi: modelRegistryAbi,
        functionName: 'setQuorum',
        args: [lineageId, 3],
      }),
    });
    await expectRevert(write(creator, 'removeVerifier', [lineageId, v1.address]), 'InvalidQuorum');
    await chain.publicClient.waitForTransactionReceipt({
      hash: await w.writeContract({
        address: d.registry,
        abi: modelRegistryAbi,
        functionName: 'setQuorum',
        args: [lineageId, 1],
      }),
    });
    const hash = await w.writeContract({
      address: d.registry,
      abi: modelRegistryAbi,
      functionName: 'removeVerifier',
      args: [lineageId, v1.address],
    });
    const logs = parseEventLogs({
      abi: modelRegistryAbi,
      logs: (await chain.publicClient.waitForTransactionReceipt({ hash })).logs,
    });
    expect(logs.map((l) => l.eventName)).toEqual(['VerifierRemoved']);
    expect(await readRegistry<boolean>('isVerifier', [lineageId, v1.address])).toBe(false);
    expect((await readRegistry<Address[]>('verifiersOf', [lineageId])).sort()).toEqual(
      [v2.address, v3.address].sort(),
    );
    // a removed verifier's attestation no longer counts
    const draft = await draftClaim(chain, d, trainer, { lineageId, parentTokenId: 0n, score: 7_000_000n });
    const sig = await signClaim(trainer, d.domain, draft.claim);
    await expectRevert(
      simulateClaim(claimArgs(draft, sig, await attestClaim([v1], d.domain, draft.claim))),
      'NotAVerifier',
    );
  });

  it('validates lineage parameters', async () => {
    const base = { verifiers: [v1.address] };
    const create = (p: ReturnType<typeof lineageParams>) => write(creator, 'createLineage', [p]);
    await expectRevert(create({ ...lineageParams(base), name: '' }), 'EmptyLineageName');
    await expectRevert(create(lineageParams({ ...base, quorum: 2 })), 'InvalidQuorum');
    await expectRevert(create(lineageParams({ ...base, quorum: 0 })), 'InvalidQuorum');
    await expectRevert(
      create(lineageParams({ ...base, epsilon: { startBps: 10, floorBps: 20, decayBpsPerDay: 1 } })),
      'InvalidEpsilon',
    );
    await expectRevert(
      create(lineageParams({ ...base, epsilon: { startBps: 10_001, floorBps: 0, decayBpsPerDay: 1 } })),
      'InvalidEpsilon',
    );
    await expectRevert(create(lineageParams({ ...base, minCommitAge: 0 })), 'InvalidMinCommitAge');
    await expectRevert(create(lineageParams({ ...base, minPriceBps: 10_001 })), 'InvalidPriceBounds');
    await expectRevert(create(lineageParams({ ...base, maxPriceBps: 9_999 })), 'InvalidPriceBounds');
    await expectRevert(create(lineageParams({ ...base, royaltyBps: 10_001 })), 'InvalidRoyalty');
    await expectRevert(
      create(lineageParams({ ...base, shares: { ownerBps: 5_000, ancestorsBps: 0, creatorBps: 4_999 } })),
      'InvalidShares',
    );
    await expectRevert(
      create(lineageParams({ ...base, verifiers: [v1.address, v1.address], quorum: 1 })),
      'VerifierAlreadyRegistered',
    );
    await expectRevert(
      create(lineageParams({ ...base, genesisModelCid: 'bafygenesis' })),
      'ModelCidAlreadyUsed',
    );
    await expectRevert(readRegistry('getLineage', [99n]), 'UnknownLineage');
  });
});
