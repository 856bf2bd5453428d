/**
 * A real anvil plus freshly deployed contracts for one test file, with helpers to build, sign and submit
 * claims through the shared EIP-712 definitions. Every file stops its anvil in afterAll.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  keccak256,
  toHex,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type TestClient,
} from 'viem';
import { mnemonicToAccount, type HDAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { expect } from 'vitest';
import {
  licenseMarketAbi,
  licenseMarketBytecode,
  modelRegistryAbi,
  modelRegistryBytecode,
} from '../generated/index.ts';
import { startAnvil, type AnvilInstance } from '../../src/main/chain/anvil.ts';
import {
  attestationTypedData,
  commitmentOf,
  improvementTypedData,
  registryDomain,
  sortAttestations,
  type Improvement,
  type RegistryDomain,
  type VerifierSignature,
} from '../../src/shared/chain/eip712.ts';

export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

export function devAccount(index: number): HDAccount {
  return mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
}

export interface TestChain {
  anvil: AnvilInstance;
  publicClient: PublicClient;
  testClient: TestClient;
  wallet(account: HDAccount): ReturnType<typeof walletFor>;
  stop(): Promise<void>;
}

function walletFor(rpcUrl: string, account: HDAccount) {
  return createWalletClient({ account, chain: foundry, transport: http(rpcUrl) });
}

export async function startTestChain(): Promise<TestChain> {
  const anvil = await startAnvil();
  const transport = http(anvil.rpcUrl);
  return {
    anvil,
    publicClient: createPublicClient({ chain: foundry, transport }) as PublicClient,
    testClient: createTestClient({ chain: foundry, mode: 'anvil', transport }) as TestClient,
    wallet: (account) => walletFor(anvil.rpcUrl, account),
    stop: () => anvil.stop(),
  };
}

export interface Deployed {
  registry: Address;
  market: Address;
  domain: RegistryDomain;
}

export async function deployAll(chain: TestChain, deployer: HDAccount): Promise<Deployed> {
  const w = chain.wallet(deployer);
  const regHash = await w.deployContract({ abi: modelRegistryAbi, bytecode: modelRegistryBytecode });
  const reg = await chain.publicClient.waitForTransactionReceipt({ hash: regHash });
  const registry = reg.contractAddress!;
  const mHash = await w.deployContract({
    abi: licenseMarketAbi,
    bytecode: licenseMarketBytecode,
    args: [registry],
  });
  const market = (await chain.publicClient.waitForTransactionReceipt({ hash: mHash })).contractAddress!;
  return { registry, market, domain: registryDomain(foundry.id, registry) };
}

export interface LineageOptions {
  verifiers: Address[];
  quorum?: number;
  higherIsBetter?: boolean;
  genesisScore?: bigint;
  genesisModelCid?: string;
  epsilon?: { startBps: number; floorBps: number; decayBpsPerDay: number };
  minCommitAge?: number;
  basePrice?: bigint;
  pricePerPoint?: bigint;
  minPriceBps?: number;
  maxPriceBps?: number;
  royaltyBps?: number;
  shares?: { ownerBps: number; ancestorsBps: number; creatorBps: number };
}

export function lineageParams(o: LineageOptions) {
  return {
    name: 'tiny-shakespeare bpb' as string,
    evalDatasetCid: 'bafkreievaldataset',
    metricName: o.higherIsBetter ? 'top1_accuracy' : 'bits_per_byte',
    higherIsBetter: o.higherIsBetter ?? false,
    genesisModelCid: o.genesisModelCid ?? '',
    genesisScore: o.genesisScore ?? 8_000_000n,
    epsilon: o.epsilon ?? { startBps: 100, floorBps: 10, decayBpsPerDay: 10 },
    minCommitAge: o.minCommitAge ?? 60,
    verifiers: o.verifiers,
    quorum: o.quorum ?? o.verifiers.length,
    pricing: {
      basePrice: o.basePrice ?? 1_000_000_000_000_000n,
      pricePerPoint: o.pricePerPoint ?? 1_000_000_000n,
      minPriceBps: o.minPriceBps ?? 5_000,
      maxPriceBps: o.maxPriceBps ?? 20_000,
      royaltyBps: o.royaltyBps ?? 500,
    },
    shares: o.shares ?? { ownerBps: 7_000, ancestorsBps: 2_000, creatorBps: 1_000 },
  } as const;
}

export async function createLineage(
  chain: TestChain,
  d: Deployed,
  creator: HDAccount,
  o: LineageOptions,
): Promise<bigint> {
  const w = chain.wallet(creator);
  const { result, request } = await chain.publicClient.simulateContract({
    account: creator,
    address: d.registry,
    abi: modelRegistryAbi,
    functionName: 'createLineage',
    args: [lineageParams(o)],
  });
  await chain.publicClient.waitForTransactionReceipt({ hash: await w.writeContract(request) });
  return result;
}

let saltCounter = 0;
export function freshSalt(): Hex {
  return keccak256(toHex(`salt-${process.pid}-${++saltCounter}-${Math.random()}`));
}

export async function commitModel(
  chain: TestChain,
  d: Deployed,
  trainer: HDAccount,
  modelCid: string,
  salt: Hex,
) {
  const hash = await chain.wallet(trainer).writeContract({
    address: d.registry,
    abi: modelRegistryAbi,
    functionName: 'commit',
    args: [commitmentOf(modelCid, trainer.address, salt)],
  });
  await chain.publicClient.waitForTransactionReceipt({ hash });
}

export async function advance(chain: TestChain, seconds: number): Promise<void> {
  await chain.testClient.increaseTime({ seconds });
  await chain.testClient.mine({ blocks: 1 });
}

export async function now(chain: TestChain): Promise<bigint> {
  return (await chain.publicClient.getBlock()).timestamp;
}

export interface ClaimDraft {
  claim: Improvement;
  salt: Hex;
}

/** Commits a fresh model CID, waits the commit age, and returns an unsigned claim for it. */
export async function draftClaim(
  chain: TestChain,
  d: Deployed,
  trainer: HDAccount,
  fields: { lineageId: bigint; parentTokenId: bigint; score: bigint; modelCid?: string; age?: number },
): Promise<ClaimDraft> {
  const modelCid = fields.modelCid ?? `bafymodel${++saltCounter}x${Math.floor(Math.random() * 1e9)}`;
  const salt = freshSalt();
  await commitModel(chain, d, trainer, modelCid, salt);
  await advance(chain, fields.age ?? 61);
  const nonce = await chain.publicClient.readContract({
    address: d.registry,
    abi: modelRegistryAbi,
    functionName: 'nonces',
    args: [trainer.address],
  });
  return {
    salt,
    claim: {
      lineageId: fields.lineageId,
      parentTokenId: fields.parentTokenId,
      trainer: trainer.address,
      modelCid,
      metadataCid: `bafymeta-${modelCid}`,
      evaluationCid: `bafyeval-${modelCid}`,
      score: fields.score,
      nonce,
      deadline: (await now(chain)) + 3600n,
    },
  };
}

export async function signClaim(
  account: HDAccount,
  domain: RegistryDomain,
  claim: Improvement,
): Promise<Hex> {
  return account.signTypedData(improvementTypedData(domain, claim));
}

export async function attestClaim(
  verifiers: HDAccount[],
  domain: RegistryDomain,
  claim: Improvement,
): Promise<VerifierSignature[]> {
  const list = await Promise.all(
    verifiers.map(async (v) => ({
      verifier: v.address,
      signature: await v.signTypedData(attestationTypedData(domain, claim)),
    })),
  );
  return sortAttestations(list);
}

/** The arguments of `ModelRegistry.claim`. */
export function claimArgs(draft: ClaimDraft, trainerSig: Hex, attestations: VerifierSignature[]) {
  return [draft.claim, draft.salt, trainerSig, attestations] as const;
}

/** Simulates then sends `claim`; returns the new token id. */
export async function submitClaim(
  chain: TestChain,
  d: Deployed,
  sender: HDAccount,
  args: ReturnType<typeof claimArgs>,
): Promise<{ tokenId: bigint; gasUsed: bigint }> {
  const { result, request } = await chain.publicClient.simulateContract({
    account: sender,
    address: d.registry,
    abi: modelRegistryAbi,
    functionName: 'claim',
    args,
  });
  const receipt = await chain.publicClient.waitForTransactionReceipt({
    hash: await chain.wallet(sender).writeContract(request),
  });
  expect(receipt.status).toBe('success');
  return { tokenId: result, gasUsed: receipt.gasUsed };
}

/** Asserts that `promise` reverts with the custom error `errorName` (decoded from the contract's ABI). */
export async function expectRevert(
  promise: Promise<unknown>,
  errorName: string,
): Promise<readonly unknown[] | undefined> {
  try {
    await promise;
  } catch (e) {
    if (!(e instanceof BaseError)) throw e;
    const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (!(reverted instanceof ContractFunctionRevertedError)) {
      throw new Error(`expected revert ${errorName}, got: ${e.shortMessage}`, { cause: e });
    }
    expect(reverted.data?.errorName, `revert reason (${reverted.shortMessage})`).toBe(errorName);
    return reverted.data?.args;
  }
  throw new Error(`expected revert ${errorName}, but the call succeeded`);
}

/** Simulates a call (eth_call) so a test can check its revert without sending a transaction. */
export function simulate(
  chain: TestChain,
  account: HDAccount,
  address: Address,
  abi: Abi,
  functionName: string,
  args: readonly unknown[],
  value?: bigint,
): Promise<unknown> {
  return chain.publicClient.simulateContract({ account, address, abi, functionName, args, value } as never);
}
