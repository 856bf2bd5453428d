/**
 * `npm run bench:contracts-gas`: gas used per contract function on a real anvil, for docs/benchmarks.md.
 * Runs a fixed scenario (deploy, lineage, commits, claims with 1-3 verifiers, prices, licences at several
 * ancestor depths, withdrawals) and prints one JSON line: { bench, anvil, results: { fn: gasUsed } }.
 */
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  keccak256,
  toHex,
  type Abi,
  type Address,
  type Hex,
} from 'viem';
import { mnemonicToAccount, type HDAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import {
  licenseMarketAbi,
  licenseMarketBytecode,
  modelRegistryAbi,
  modelRegistryBytecode,
  onChainAttestorAbi,
  onChainAttestorBytecode,
} from '../generated/index.ts';
import { startAnvil } from '../../src/main/chain/anvil.ts';
import {
  attestationDigest,
  attestationTypedData,
  commitmentOf,
  improvementTypedData,
  registryDomain,
  sortAttestations,
  type Improvement,
  type VerifierSignature,
} from '../../src/shared/chain/eip712.ts';

const account = (i: number): HDAccount =>
  mnemonicToAccount('test test test test test test test test test test test junk', { addressIndex: i });
const [deployer, creator, trainer, v1, v2, v3, buyer] = [0, 1, 2, 3, 4, 5, 6].map(account) as HDAccount[];

const anvil = await startAnvil();
try {
  const transport = http(anvil.rpcUrl);
  const pub = createPublicClient({ chain: foundry, transport, pollingInterval: 50 });
  const test = createTestClient({ chain: foundry, mode: 'anvil', transport });
  const wallet = (a: HDAccount) => createWalletClient({ account: a, chain: foundry, transport });
  const gas: Record<string, number> = {};
  const record = async (name: string, hash: Hex) => {
    const r = await pub.waitForTransactionReceipt({ hash });
    if (r.status !== 'success') throw new Error(`${name} failed`);
    gas[name] = Number(r.gasUsed);
    return r;
  };
  const send = async (
    name: string,
    who: HDAccount,
    address: Address,
    abi: Abi,
    functionName: string,
    args: readonly unknown[],
    value?: bigint,
  ) => {
    const { request } = await pub.simulateContract({
      account: who,
      address,
      abi,
      functionName,
      args,
      value,
    } as never);
    return record(name, await wallet(who).writeContract(request as never));
  };

  const registry = (
    await record(
      'deploy ModelRegistry',
      await wallet(deployer!).deployContract({ abi: modelRegistryAbi, bytecode: modelRegistryBytecode }),
    )
  ).contractAddress!;
  const market = (
    await record(
      'deploy LicenseMarket',
      await wallet(deployer!).deployContract({
        abi: licenseMarketAbi,
        bytecode: licenseMarketBytecode,
        args: [registry],
      }),
    )
  ).contractAddress!;
  const domain = registryDomain(foundry.id, registry);

  const lineageParams = (verifiers: Address[], quorum: number) => ({
    name: 'tiny-shakespeare bits per byte',
    evalDatasetCid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
    metricName: 'bits_per_byte',
    higherIsBetter: false,
    genesisModelCid: 'bafybeigenesismodelcidxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    genesisScore: 8_000_000n,
    epsilon: { startBps: 100, floorBps: 10, decayBpsPerDay: 10 },
    minCommitAge: 60,
    verifiers,
    quorum,
    pricing: {
      basePrice: 10n ** 15n,
      pricePerPoint: 10n ** 9n,
      minPriceBps: 5_000,
      maxPriceBps: 20_000,
      royaltyBps: 500,
    },
    shares: { ownerBps: 7_000, ancestorsBps: 2_000, creatorBps: 1_000 },
  });
  await send('createLineage (2 verifiers)', creator!, registry, modelRegistryAbi, 'createLineage', [
    lineageParams([v1!.address, v2!.address], 1),
  ]);
  await send('addVerifier', creator!, registry, modelRegistryAbi, 'addVerifier', [1n, v3!.address]);
  await send('setQuorum', creator!, registry, modelRegistryAbi, 'setQuorum', [1n, 2]);
  await send('removeVerifier', creator!, registry, modelRegistryAbi, 'removeVerifier', [1n, v3!.address]);
  await send('addVerifier', creator!, registry, modelRegistryAbi, 'addVerifier', [1n, v3!.address]);

  let n = 0;
  let score = 8_000_000n;
  let parent = 0n;
  const claimWith = async (name: string, verifiers: HDAccount[], quorum: number) => {
    await send('setQuorum', creator!, registry, modelRegistryAbi, 'setQuorum', [1n, quorum]);
    const modelCid = `bafybeimodel${String(++n).padStart(48, '0')}`;
    const salt = keccak256(toHex(`salt${n}`));
    await send('commit', trainer!, registry, modelRegistryAbi, 'commit', [
      commitmentOf(modelCid, trainer!.address, salt),
    ]);
    await test.increaseTime({ seconds: 61 });
    await test.mine({ blocks: 1 });
    score = (score * 98n) / 100n;
    const claim: Improvement = {
      lineageId: 1n,
      parentTokenId: parent,
      trainer: trainer!.address,
      modelCid,
      metadataCid: `bafybeimeta${String(n).padStart(49, '0')}`,
      evaluationCid: `bafybeieval${String(n).padStart(49, '0')}`,
      score,
      nonce: (await pub.readContract({
        address: registry,
        abi: modelRegistryAbi,
        functionName: 'nonces',
        args: [trainer!.address],
      })) as bigint,
      deadline: (await pub.getBlock()).timestamp + 3600n,
    };
    const sig = await trainer!.signTypedData(improvementTypedData(domain, claim));
    const atts: VerifierSignature[] = sortAttestations(
      await Promise.all(
        verifiers.map(async (v) => ({
          verifier: v.address,
          signature: await v.signTypedData(attestationTypedData(domain, claim)),
        })),
      ),
    );
    await send(name, buyer!, registry, modelRegistryAbi, 'claim', [claim, salt, sig, atts]);
    parent = BigInt(n);
    return claim;
  };
  await claimWith('claim (quorum 1, first token)', [v1!], 1);
  await claimWith('claim (quorum 1)', [v1!], 1);
  await claimWith('claim (quorum 2)', [v1!, v2!], 2);
  await claimWith('claim (quorum 3)', [v1!, v2!, v3!], 3);

  // The network flow (issue 13): announce a claim, a verifier attests on chain (EOA) or declines with a reason.
  const digest = keccak256(toHex('an attestation digest'));
  const claimCid = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
  await send('requestVerification', trainer!, registry, modelRegistryAbi, 'requestVerification', [
    1n,
    digest,
    claimCid,
  ]);
  await send('attest (EOA verifier, on chain)', v1!, registry, modelRegistryAbi, 'attest', [digest]);
  await send('declineVerification', v2!, registry, modelRegistryAbi, 'declineVerification', [
    1n,
    digest,
    'score-mismatch: the claim says 3.100000, the re-run gives 3.540645 (difference 0.440645, tolerance 0.001000)',
  ]);

  // An on-chain attestation by a contract verifier (the oracle path): attest() then a claim that counts it.
  const attestor = (
    await record(
      'deploy OnChainAttestor',
      await wallet(creator!).deployContract({
        abi: onChainAttestorAbi,
        bytecode: onChainAttestorBytecode,
        args: [registry, creator!.address],
      }),
    )
  ).contractAddress!;
  await send('addVerifier', creator!, registry, modelRegistryAbi, 'addVerifier', [1n, attestor]);
  await send('setQuorum', creator!, registry, modelRegistryAbi, 'setQuorum', [1n, 1]);
  {
    const modelCid = `bafybeimodel${String(++n).padStart(48, '0')}`;
    const salt = keccak256(toHex(`salt${n}`));
    await send('commit', trainer!, registry, modelRegistryAbi, 'commit', [
      commitmentOf(modelCid, trainer!.address, salt),
    ]);
    await test.increaseTime({ seconds: 61 });
    await test.mine({ blocks: 1 });
    score = (score * 98n) / 100n;
    const nonce = (await pub.readContract({
      address: registry,
      abi: modelRegistryAbi,
      functionName: 'nonces',
      args: [trainer!.address],
    })) as bigint;
    const claim: Improvement = {
      lineageId: 1n,
      parentTokenId: parent,
      trainer: trainer!.address,
      modelCid,
      metadataCid: 'bafymeta-onchain',
      evaluationCid: 'bafyeval-onchain',
      score,
      nonce,
      deadline: (await pub.getBlock()).timestamp + 3600n,
    };
    await send(
      'attest (direct, via a contract verifier)',
      creator!,
      attestor,
      onChainAttestorAbi,
      'attestClaim',
      [claim],
    );
    if (
      !(await pub.readContract({
        address: registry,
        abi: modelRegistryAbi,
        functionName: 'hasAttestedOnChain',
        args: [attestor, attestationDigest(domain, claim)],
      }))
    )
      throw new Error('not attested');
    const sig = await trainer!.signTypedData(improvementTypedData(domain, claim));
    await send('claim (quorum 1, on-chain attestation)', buyer!, registry, modelRegistryAbi, 'claim', [
      claim,
      salt,
      sig,
      [{ verifier: attestor, signature: '0x' }],
    ]);
    parent = BigInt(n);
  }
  // Deeper lineage for the licence split at depth 8 (ancestors paid are capped at 8).
  while (n < 10) await claimWith('claim (quorum 1)', [v1!], 1);

  const price = async (id: bigint) =>
    (await pub.readContract({
      address: market,
      abi: licenseMarketAbi,
      functionName: 'priceOf',
      args: [id],
    })) as bigint;
  const bounds = (await pub.readContract({
    address: market,
    abi: licenseMarketAbi,
    functionName: 'priceBounds',
    args: [2n],
  })) as [bigint, bigint];
  await send('setPrice', trainer!, market, licenseMarketAbi, 'setPrice', [2n, bounds[1]]);
  await send(
    'buyLicense (no ancestor)',
    buyer!,
    market,
    licenseMarketAbi,
    'buyLicense',
    [1n],
    await price(1n),
  );
  await send(
    'buyLicense (1 ancestor)',
    buyer!,
    market,
    licenseMarketAbi,
    'buyLicense',
    [2n],
    await price(2n),
  );
  await send(
    'buyLicense (8 ancestors, first sale of the token)',
    buyer!,
    market,
    licenseMarketAbi,
    'buyLicense',
    [10n],
    await price(10n),
  );
  await send(
    'buyLicense (8 ancestors, later sale)',
    deployer!,
    market,
    licenseMarketAbi,
    'buyLicense',
    [10n],
    await price(10n),
  );
  await send('withdraw', trainer!, market, licenseMarketAbi, 'withdraw', []);
  await send('withdraw', creator!, market, licenseMarketAbi, 'withdraw', []);
  const version = await pub.request({ method: 'web3_clientVersion' });
  process.stdout.write(`${JSON.stringify({ bench: 'contracts-gas', anvil: version, results: gas })}\n`);
} finally {
  await anvil.stop();
}
