/**
 * Chainlink attestation (issue 8, docs/chainlink.md): deploys and configures a FunctionsAttestor, sends its
 * Functions requests for claims, and reads their outcome. No transport, no Electron. The attestor's
 * settings live in settings.json (`chainlinkFunctions`); the chain connection and signers are ChainService's.
 */
import {
  createPublicClient,
  getAddress,
  keccak256,
  parseAbi,
  parseEventLogs,
  toHex,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { functionsAttestorAbi, functionsAttestorBytecode } from '../../../contracts/generated/index.ts';
import { attestClaimSource } from '../../../contracts/generated/functionsSource.ts';
import type { Signer } from '../../shared/api/chain.ts';
import type {
  AttestorRequestView,
  ChainlinkClaimRef,
  ChainlinkRequestData,
  ChainlinkStatus,
} from '../../shared/api/chainlink.ts';
import { ApiError } from '../../shared/api/errors.ts';
import type { ChainlinkFunctionsSettings } from '../../shared/api/settings.ts';
import {
  attestationDigest,
  improvementFromJson,
  improvementToJson,
  registryDomain,
  type Improvement,
} from '../../shared/chain/eip712.ts';
import {
  attestorFailures,
  attestorRequestStatuses,
  donIdFromBytes32,
  donIdToBytes32,
  FUNCTIONS_NETWORKS,
  MAX_ATTESTATION_CIDS,
} from '../../shared/chain/functionsRequest.ts';
import type { ChainService } from '../chain/chainService.ts';
import { toChainApiError } from '../chain/chainErrors.ts';
import type { SettingsService } from '../settings/settingsService.ts';
import { chainTransport } from '../chain/chainState.ts';

/** keccak256 of the source this build uploads (FunctionsAttestor.sourceHash after `chainlink.deploy`). */
export const ATTESTOR_SOURCE_HASH = keccak256(toHex(attestClaimSource));

/** The two calls on Chainlink's FunctionsRouter the app makes (the router is Chainlink's contract, not ours). */
const routerAbi = parseAbi([
  'function addConsumer(uint64 subscriptionId, address consumer)',
  'function getConsumer(address client, uint64 subscriptionId) view returns ((bool allowed, uint64 initiatedRequests, uint64 completedRequests))',
]);

/** Resolves a claim reference to its Improvement and the attestation CIDs known for it. */
export type ClaimResolver = (
  ref: ChainlinkClaimRef,
) => Promise<{ improvement: Improvement; attestationCids: string[] }>;

export interface ChainlinkServiceOptions {
  settings: SettingsService;
  chain: () => ChainService;
  claims: ClaimResolver;
}

export class ChainlinkService {
  readonly #settings: SettingsService;
  readonly #chain: () => ChainService;
  readonly #claims: ClaimResolver;

  constructor(opts: ChainlinkServiceOptions) {
    this.#settings = opts.settings;
    this.#chain = opts.chain;
    this.#claims = opts.claims;
  }

  async settings(): Promise<ChainlinkFunctionsSettings> {
    return (await this.#settings.get()).chainlinkFunctions;
  }

  async configure(patch: Partial<ChainlinkFunctionsSettings>): Promise<ChainlinkFunctionsSettings> {
    const current = await this.settings();
    const next = await this.#settings.update({ chainlinkFunctions: { ...current, ...patch } });
    return next.chainlinkFunctions;
  }

  /** Whether Chainlink attestation is usable now; reads the chain only when the settings are complete. */
  async status(lineageId?: number): Promise<ChainlinkStatus> {
    const settings = await this.settings();
    const problems: string[] = [];
    if (!settings.routerAddress)
      problems.push('No Functions router is set (Sepolia: see docs/chainlink.md).');
    if (!settings.donId) problems.push('No DON id is set.');
    if (!settings.subscriptionId) problems.push('No Functions subscription is set.');
    if (!settings.attestorAddress)
      problems.push('No FunctionsAttestor is deployed (xai-link chain functions-deploy).');
    const base: ChainlinkStatus = {
      configured: false,
      problems,
      settings,
      chainId: null,
      knownNetwork: null,
      attestor: null,
      lineage: null,
    };
    if (problems.length > 0) return base;

    const { client, chainId, registry } = await this.#connect();
    base.chainId = chainId;
    base.knownNetwork = FUNCTIONS_NETWORKS.find((n) => n.chainId === chainId) ?? null;
    if (settings.chainId !== chainId) {
      problems.push(
        `The Chainlink settings are for chain ${settings.chainId ?? '?'}, but the app is on chain ${chainId}.`,
      );
      return base;
    }
    const attestor = getAddress(settings.attestorAddress);
    const code = await client.getCode({ address: attestor });
    if (!code || code === '0x') {
      problems.push(`There is no contract at ${attestor} on chain ${chainId}.`);
      return base;
    }
    const read = <T>(functionName: string, args: readonly unknown[] = []) =>
      client.readContract({
        address: attestor,
        abi: functionsAttestorAbi,
        functionName,
        args,
      } as never) as Promise<T>;
    try {
      const [owner, router, config, sourceHash, openRequests, attestorRegistry] = await Promise.all([
        read<Address>('owner'),
        read<Address>('router'),
        read<{
          donId: Hex;
          subscriptionId: bigint;
          callbackGasLimit: number;
          minSignatures: number;
          gatewayUrl: string;
        }>('config'),
        read<Hex>('sourceHash'),
        read<boolean>('openRequests'),
        read<Address>('registry'),
      ]);
      base.attestor = {
        address: attestor,
        owner,
        router,
        donId: donIdFromBytes32(config.donId),
        subscriptionId: config.subscriptionId.toString(),
        callbackGasLimit: config.callbackGasLimit,
        minSignatures: config.minSignatures,
        gatewayUrl: config.gatewayUrl,
        sourceUpToDate: sourceHash === ATTESTOR_SOURCE_HASH,
        openRequests,
      };
      if (getAddress(attestorRegistry) !== registry)
        problems.push(
          `The attestor attests to ${attestorRegistry}, not to this network's registry ${registry}.`,
        );
      if (config.subscriptionId === 0n)
        problems.push('The attestor has no request configuration (setConfig).');
      if (getAddress(router) !== getAddress(settings.routerAddress))
        problems.push(
          `The attestor uses the router ${router}, not the configured ${settings.routerAddress}.`,
        );
      if (lineageId !== undefined) {
        const isVerifier = await this.#chain()
          .lineage(lineageId)
          .then((l) => l.verifiers.some((v) => getAddress(v) === attestor));
        base.lineage = { lineageId, attestorIsVerifier: isVerifier };
      }
    } catch (e) {
      throw toChainApiError(e, 'reading the FunctionsAttestor');
    }
    base.configured = problems.length === 0;
    return base;
  }

  /** Deploys a FunctionsAttestor owned by the signer, uploads the source and sets the request configuration. */
  async deploy(opts: { signer: Signer; addConsumer: boolean }): Promise<{
    chainId: number;
    attestor: Address;
    txHash: Hex;
    sourceHash: Hex;
  }> {
    const s = await this.settings();
    if (!s.routerAddress || !s.donId || !s.subscriptionId) {
      throw new ApiError('FAILED_PRECONDITION', 'set the Functions router, DON id and subscription first', {
        hint: 'xai-link chain functions-config --sepolia --subscription <id> (or --router, --don-id)',
      });
    }
    const { client, chainId, registry } = await this.#connect();
    const router = getAddress(s.routerAddress);
    const code = await client.getCode({ address: router });
    if (!code || code === '0x') {
      throw new ApiError(
        'FAILED_PRECONDITION',
        `there is no Functions router at ${router} on chain ${chainId}`,
        {
          hint: 'Chainlink Functions runs on public networks such as Sepolia: switch with `xai-link chain use <RPC URL>`.',
        },
      );
    }
    const wallet = await this.#chain().walletFor(opts.signer);
    try {
      const txHash = await wallet.deployContract({
        abi: functionsAttestorAbi,
        bytecode: functionsAttestorBytecode,
        args: [router, registry, wallet.account.address],
      });
      const receipt = await client.waitForTransactionReceipt({ hash: txHash });
      if (receipt.status !== 'success' || !receipt.contractAddress)
        throw new ApiError('FAILED_PRECONDITION', `the FunctionsAttestor deployment failed (${txHash})`);
      const attestor = getAddress(receipt.contractAddress);
      const send = async (
        address: Address,
        abi: typeof functionsAttestorAbi | typeof routerAbi,
        functionName: string,
        args: readonly unknown[],
      ) => {
        const { request } = await client.simulateContract({
          account: wallet.account,
          address,
          abi,
          functionName,
          args,
        } as never);
        const hash = await wallet.writeContract(request as never);
        const r = await client.waitForTransactionReceipt({ hash });
        if (r.status !== 'success')
          throw new ApiError('FAILED_PRECONDITION', `${functionName} reverted in ${hash}`);
      };
      await send(attestor, functionsAttestorAbi, 'setSource', [attestClaimSource]);
      await send(attestor, functionsAttestorAbi, 'setConfig', [
        {
          donId: donIdToBytes32(s.donId),
          subscriptionId: BigInt(s.subscriptionId),
          callbackGasLimit: s.callbackGasLimit,
          minSignatures: s.minSignatures,
          scoreTolerance: s.scoreTolerance,
          gatewayUrl: s.gatewayUrl,
        },
      ]);
      if (opts.addConsumer)
        await send(router, routerAbi, 'addConsumer', [BigInt(s.subscriptionId), attestor]);
      await this.configure({ chainId, attestorAddress: attestor });
      return { chainId, attestor, txHash, sourceHash: ATTESTOR_SOURCE_HASH };
    } catch (e) {
      throw toChainApiError(e, 'deploying the FunctionsAttestor');
    }
  }

  /**
   * The exact FunctionsAttestor.requestAttestation call for a claim, checked as far as main can without a
   * signer (configured on this network, 1 to MAX_ATTESTATION_CIDS CIDs): what `request` sends, and what a
   * wallet sends instead (`chainlink.requestData`).
   */
  async requestData(p: {
    claim: ChainlinkClaimRef;
    attestationCids?: string[] | undefined;
  }): Promise<ChainlinkRequestData> {
    const status = await this.status();
    if (!status.configured || !status.attestor) {
      throw new ApiError(
        'FAILED_PRECONDITION',
        `Chainlink attestation is not configured: ${status.problems.join(' ')}`,
        {
          hint: 'xai-link chain functions-status (or the Settings page) explains what is missing.',
        },
      );
    }
    const { improvement, attestationCids: known } = await this.#claims(p.claim);
    const cids = p.attestationCids ?? known;
    if (cids.length === 0 || cids.length > MAX_ATTESTATION_CIDS) {
      throw new ApiError(
        'INVALID_PARAMS',
        `a Chainlink attestation request needs 1 to ${MAX_ATTESTATION_CIDS} attestation CIDs of other verifiers (got ${cids.length})`,
        { hint: 'Collect a verifier attestation first (xai-link verify), or pass --attestation <CID>.' },
      );
    }
    const { chainId, registry } = await this.#connect();
    const a = status.attestor;
    return {
      chainId,
      attestor: getAddress(a.address),
      functionName: 'requestAttestation',
      improvement: improvementToJson(improvement),
      attestationCids: cids,
      attestationDigest: attestationDigest(registryDomain(chainId, registry), improvement),
      subscriptionId: a.subscriptionId,
      donId: a.donId,
      callbackGasLimit: a.callbackGasLimit,
      openRequests: a.openRequests,
      owner: getAddress(a.owner),
    };
  }

  /** Sends the Functions request for a claim from a local signer (the subscription pays in LINK). */
  async request(p: {
    claim: ChainlinkClaimRef;
    attestationCids?: string[] | undefined;
    signer: Signer;
  }): Promise<{
    requestId: Hex;
    txHash: Hex;
    attestor: Address;
    attestationDigest: Hex;
    attestationCids: string[];
  }> {
    const data = await this.requestData(p);
    const { client } = await this.#connect();
    const wallet = await this.#chain().walletFor(p.signer);
    try {
      const { request } = await client.simulateContract({
        account: wallet.account,
        address: data.attestor as Address,
        abi: functionsAttestorAbi,
        functionName: data.functionName,
        args: [improvementFromJson(data.improvement), data.attestationCids],
      });
      const txHash = await wallet.writeContract(request as never);
      const receipt = await client.waitForTransactionReceipt({ hash: txHash });
      if (receipt.status !== 'success')
        throw new ApiError('FAILED_PRECONDITION', `requestAttestation reverted in ${txHash}`);
      const [sent] = parseEventLogs({
        abi: functionsAttestorAbi,
        logs: receipt.logs,
        eventName: 'AttestationRequested',
      });
      if (!sent) throw new Error('requestAttestation emitted no AttestationRequested event');
      return {
        requestId: sent.args.requestId,
        txHash,
        attestor: data.attestor as Address,
        attestationDigest: data.attestationDigest as Hex,
        attestationCids: data.attestationCids,
      };
    } catch (e) {
      throw toChainApiError(e, 'requestAttestation');
    }
  }

  /** A request's outcome as the attestor recorded it. */
  async result(requestId: Hex): Promise<AttestorRequestView> {
    const settings = await this.settings();
    if (!settings.attestorAddress)
      throw new ApiError('FAILED_PRECONDITION', 'no FunctionsAttestor is configured');
    const { client } = await this.#connect();
    try {
      const r = await client.readContract({
        address: getAddress(settings.attestorAddress),
        abi: functionsAttestorAbi,
        functionName: 'getRequest',
        args: [requestId],
      });
      if (r.status === 0) throw new ApiError('NOT_FOUND', `the attestor sent no request ${requestId}`);
      return {
        requestId,
        status: attestorRequestStatuses[r.status] ?? 'none',
        failure: attestorFailures[r.failure] ?? 'none',
        detail: r.detail,
        attestationDigest: r.digest,
        lineageId: Number(r.lineageId),
        requester: r.requester,
        score: r.score.toString(),
        reportedScore: r.reportedScore.toString(),
        signatures: r.signatures,
        requestedAt: Number(r.requestedAt),
        fulfilledAt: Number(r.fulfilledAt),
      };
    } catch (e) {
      throw toChainApiError(e, 'getRequest');
    }
  }

  async #connect(): Promise<{ client: PublicClient; chainId: number; registry: Address }> {
    const info = await this.#chain().contracts();
    const client = createPublicClient({
      transport: chainTransport(info.rpcUrl, { timeout: 30_000 }),
    }) as PublicClient;
    return { client, chainId: info.chainId, registry: getAddress(info.registry) };
  }
}
