import {
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  parseEventLogs,
  type Address,
  type Hex,
  type PrivateKeyAccount,
  type PublicClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { modelRegistryAbi } from '../../../contracts/generated/index.ts';
import type { ContractsInfo, Signer } from '../../shared/api/chain.ts';
import { ApiError } from '../../shared/api/errors.ts';
import type { SignerSpec } from '../../shared/claims/signer.ts';
import {
  attestationDigest,
  attestationTypedData,
  improvementTypedData,
  registryDomain,
  type Improvement,
  type RegistryDomain,
  type VerifierSignature,
} from '../../shared/chain/eip712.ts';
import type { ChainService } from '../chain/chainService.ts';
import { toChainApiError } from '../chain/chainErrors.ts';
import { accountFromKeystore } from './keystore.ts';
import { envValue } from '../util/envValue.ts';
import { chainTransport } from '../chain/chainState.ts';

/**
 * What the claim flow and the verifier need from the chain, on top of ChainService (which owns the network,
 * the embedded anvil and the deployment): registry reads it does not expose, EIP-712 signing with any
 * signer (dev account, key in an environment variable, encrypted keystore), and writes from a keystore
 * account (ChainService's own signers are dev accounts and environment keys).
 */
export class ChainAccess {
  readonly chain: ChainService;
  readonly #env: NodeJS.ProcessEnv;
  #info: ContractsInfo | undefined;
  #client: PublicClient | undefined;

  constructor(chain: ChainService, env: NodeJS.ProcessEnv = process.env) {
    this.chain = chain;
    this.#env = env;
  }

  /** Contracts, RPC and domain (starts the embedded chain and deploys on first use). */
  async info(): Promise<ContractsInfo> {
    const info = await this.chain.contracts();
    if (!this.#info || this.#info.rpcUrl !== info.rpcUrl || this.#info.registry !== info.registry) {
      this.#info = info;
      this.#client = createPublicClient({
        chain: this.#viemChain(info),
        transport: chainTransport(info.rpcUrl, { retryCount: 0 }),
      }) as PublicClient;
    }
    return info;
  }

  async domain(): Promise<RegistryDomain> {
    const i = await this.info();
    return registryDomain(i.chainId, i.registry as Address);
  }

  async client(): Promise<PublicClient> {
    await this.info();
    return this.#client!;
  }

  #viemChain(info: ContractsInfo) {
    return info.chainId === foundry.id
      ? foundry
      : defineChain({
          id: info.chainId,
          name: `chain ${info.chainId}`,
          nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
          rpcUrls: { default: { http: [info.rpcUrl] } },
        });
  }

  async readRegistry(functionName: string, args: readonly unknown[]): Promise<unknown> {
    const info = await this.info();
    try {
      return await this.#client!.readContract({
        address: info.registry as Address,
        abi: modelRegistryAbi,
        functionName,
        args,
      } as never);
    } catch (e) {
      throw toChainApiError(e, functionName);
    }
  }

  async committedAt(commitment: Hex): Promise<number> {
    return Number(await this.readRegistry('committedAt', [commitment]));
  }

  async isModelCidUsed(modelCid: string): Promise<boolean> {
    return (await this.readRegistry('isModelCidUsed', [modelCid])) as boolean;
  }

  async isVerifier(lineageId: bigint, account: Address): Promise<boolean> {
    return (await this.readRegistry('isVerifier', [lineageId, account])) as boolean;
  }

  async latestTimestamp(): Promise<number> {
    const client = await this.client();
    return Number((await client.getBlock()).timestamp);
  }

  /**
   * Waits until the chain's latest block is later than `t` (unix seconds). Calls are simulated at the latest
   * block's time, so on an idle dev chain (anvil mines only on transactions) this mines empty blocks to
   * move its clock; a live network produces blocks on its own.
   */
  async waitForChainTime(t: number, signal?: AbortSignal): Promise<void> {
    const info = await this.info();
    const dev = info.devAccounts.length > 0;
    for (;;) {
      if ((await this.latestTimestamp()) > t) return;
      if (signal?.aborted) throw new ApiError('CANCELLED', 'cancelled while waiting for the chain');
      const wait = Math.max(0, (t + 1) * 1000 - Date.now());
      await new Promise((r) => setTimeout(r, dev ? Math.min(wait, 2_000) : 2_000));
      if (dev && Date.now() >= (t + 1) * 1000) await this.#client!.request({ method: 'evm_mine' } as never);
    }
  }

  /** Checks a trainer's signature of a claim (EOA, or ERC-1271 contract through the node). */
  async verifyImprovementSignature(claim: Improvement, signature: Hex): Promise<boolean> {
    const client = await this.client();
    try {
      return await client.verifyTypedData({
        address: claim.trainer,
        signature,
        ...improvementTypedData(await this.domain(), claim),
      });
    } catch {
      return false;
    }
  }

  /**
   * Checks a verifier's attestation of a claim: an EOA or ERC-1271 signature, or — with an empty signature
   * ("0x"), as the registry reads it — an attestation the verifier recorded on chain (`registry.attest`, as
   * the Chainlink FunctionsAttestor does).
   */
  async verifyAttestationSignature(claim: Improvement, a: VerifierSignature): Promise<boolean> {
    if (a.signature === '0x') {
      const digest = attestationDigest(await this.domain(), claim);
      return (await this.readRegistry('hasAttestedOnChain', [a.verifier, digest])) as boolean;
    }
    const client = await this.client();
    try {
      return await client.verifyTypedData({
        address: a.verifier,
        signature: a.signature,
        ...attestationTypedData(await this.domain(), claim),
      });
    } catch {
      return false;
    }
  }

  // ---- signers ----

  /** The address a signer stands for (unlocks a keystore). */
  async addressOf(spec: SignerSpec): Promise<Address> {
    if ('devAccount' in spec) {
      const info = await this.info();
      const a = info.devAccounts[spec.devAccount];
      if (!a)
        throw new ApiError(
          'FAILED_PRECONDITION',
          `dev account ${spec.devAccount} exists only on the embedded chain`,
        );
      return getAddress(a);
    }
    return (await this.#localAccount(spec))!.address;
  }

  async #localAccount(spec: SignerSpec): Promise<PrivateKeyAccount | null> {
    if ('devAccount' in spec) return null;
    if ('keyEnv' in spec) {
      const key = envValue(this.#env, spec.keyEnv)?.trim();
      if (!key) {
        throw new ApiError('FAILED_PRECONDITION', `the environment variable ${spec.keyEnv} is not set`, {
          hint: `Put the signing key (0x + 64 hex digits) in ${spec.keyEnv}; XAI-Link reads it and never stores it.`,
        });
      }
      if (!/^0x[0-9a-fA-F]{64}$/.test(key))
        throw new ApiError(
          'INVALID_PARAMS',
          `${spec.keyEnv} does not hold a 0x-prefixed 32-byte private key`,
        );
      return privateKeyToAccount(key as Hex);
    }
    return accountFromKeystore(spec.keystore, spec.passwordEnv, this.#env);
  }

  async signImprovement(spec: SignerSpec, claim: Improvement): Promise<Hex> {
    return this.#signTypedData(spec, improvementTypedData(await this.domain(), claim));
  }

  async signAttestation(spec: SignerSpec, claim: Improvement): Promise<Hex> {
    return this.#signTypedData(spec, attestationTypedData(await this.domain(), claim));
  }

  async #signTypedData(
    spec: SignerSpec,
    typed: ReturnType<typeof improvementTypedData> | ReturnType<typeof attestationTypedData>,
  ): Promise<Hex> {
    const local = await this.#localAccount(spec);
    if (local) return local.signTypedData(typed as never);
    const wallet = await this.chain.walletFor(spec as Signer);
    return wallet.signTypedData({ account: wallet.account, ...(typed as object) } as never);
  }

  // ---- writes ----

  async commit(commitment: Hex, spec: SignerSpec): Promise<{ txHash: Hex; committedAt: number }> {
    if (!('keystore' in spec)) return this.chain.commit(commitment, spec);
    const receipt = await this.#registryWrite(spec, 'commit', [commitment]);
    return { txHash: receipt.transactionHash, committedAt: await this.committedAt(commitment) };
  }

  async claim(
    claim: Improvement,
    salt: Hex,
    trainerSignature: Hex,
    attestations: VerifierSignature[],
    spec: SignerSpec,
  ): Promise<{ txHash: Hex; tokenId: number }> {
    if (!('keystore' in spec)) return this.chain.claim(claim, salt, trainerSignature, attestations, spec);
    const receipt = await this.#registryWrite(spec, 'claim', [claim, salt, trainerSignature, attestations]);
    const minted = parseEventLogs({ abi: modelRegistryAbi, logs: receipt.logs, eventName: 'ModelMinted' })[0];
    if (!minted) throw new Error('claim succeeded without a ModelMinted event');
    return { txHash: receipt.transactionHash, tokenId: Number(minted.args.tokenId) };
  }

  /** Announces a signed claim to its lineage's verifiers (`VerificationRequested`). */
  async requestVerification(
    lineageId: bigint,
    digest: Hex,
    claimCid: string,
    spec: SignerSpec,
  ): Promise<{ txHash: Hex; blockNumber: number }> {
    const r = await this.#registryWrite(spec, 'requestVerification', [lineageId, digest, claimCid]);
    return { txHash: r.transactionHash, blockNumber: Number(r.blockNumber) };
  }

  /** Attests a claim on chain (`attest(digest)`): the claim may then list this verifier with an empty signature. */
  async attestOnChain(digest: Hex, spec: SignerSpec): Promise<{ txHash: Hex }> {
    return { txHash: (await this.#registryWrite(spec, 'attest', [digest])).transactionHash };
  }

  /** A verifier publishes why it refuses a claim (`VerificationDeclined`). */
  async declineVerification(
    lineageId: bigint,
    digest: Hex,
    reason: string,
    spec: SignerSpec,
  ): Promise<{ txHash: Hex }> {
    return {
      txHash: (await this.#registryWrite(spec, 'declineVerification', [lineageId, digest, reason]))
        .transactionHash,
    };
  }

  /** The newest block number. */
  async blockNumber(): Promise<number> {
    return Number(await (await this.client()).getBlockNumber());
  }

  /**
   * Sends a registry transaction from any signer (dev account, environment key, keystore): simulated
   * first so a revert is decoded, then sent, then waited for.
   */
  async #registryWrite(spec: SignerSpec, functionName: string, args: readonly unknown[]) {
    const info = await this.info();
    const local = await this.#localAccount(spec);
    const wallet = local
      ? createWalletClient({
          account: local,
          chain: this.#viemChain(info),
          transport: chainTransport(info.rpcUrl, { retryCount: 0 }),
        })
      : await this.chain.walletFor(spec as Signer);
    try {
      const { request } = await this.#client!.simulateContract({
        account: wallet.account,
        address: info.registry as Address,
        abi: modelRegistryAbi,
        functionName,
        args,
      } as never);
      const hash = await wallet.writeContract(request as never);
      const receipt = await this.#client!.waitForTransactionReceipt({ hash });
      if (receipt.status !== 'success')
        throw new ApiError('FAILED_PRECONDITION', `${functionName} reverted in transaction ${hash}`);
      return receipt;
    } catch (e) {
      throw toChainApiError(e, functionName);
    }
  }
}
