/**
 * The chain domain's logic (no transport, no Electron): the network (embedded anvil by default, or an RPC
 * URL), the deployed contracts, reads for the marketplace and the leaderboard, and writes signed by an
 * anvil dev account (embedded chain) or by a key from an environment variable (never stored, never logged).
 * The renderer writes through the user's wallet instead, with what `contracts()` returns.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  parseEventLogs,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type ContractFunctionName,
  type ContractFunctionReturnType,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { licenseMarketAbi, modelRegistryAbi } from '../../../contracts/generated/index.ts';
import {
  networkSchema,
  type ChainStatus,
  type ContractsInfo,
  type EarningsView,
  type Leaderboard,
  type LicenceView,
  type LineageParams,
  type LineageView,
  type Network,
  type Signer,
  type TokenView,
} from '../../shared/api/chain.ts';
import { ApiError } from '../../shared/api/errors.ts';
import { EMBEDDED_CHAIN_ID, type Deployment } from '../../shared/chain/deployment.ts';
import { registryDomain, type Improvement, type VerifierSignature } from '../../shared/chain/eip712.ts';
import { improvementThreshold } from '../../shared/chain/rules.ts';
import { writeJsonAtomic } from '../util/atomicWrite.ts';
import { toChainApiError } from './chainErrors.ts';
import {
  DeploymentStore,
  deployContracts,
  isDeployed,
  isUpToDate,
  REPO_DEPLOYMENTS_DIR,
} from './deployments.ts';
import { EmbeddedChain } from './embeddedChain.ts';
import { bestFirst, rankContributors } from './leaderboard.ts';
import { envValue } from '../util/envValue.ts';
import { chainTransport } from './chainState.ts';

type Wallet = WalletClient<Transport, Chain, Account>;

interface Connection {
  publicClient: PublicClient;
  chain: Chain;
  rpcUrl: string;
  chainId: number;
  embedded: boolean;
}

interface Contracts {
  conn: Connection;
  d: Deployment;
  registry: Address;
  market: Address;
}

export interface ChainServiceOptions {
  /** `<dataDir>/chain`. */
  chainDir: string;
  /** Called when the chain starts, stops, is reconfigured or gets new contracts. */
  onChange?: (payload: { running: boolean; chainId: number | null; rpcUrl: string | null }) => void;
  env?: NodeJS.ProcessEnv;
  repoDeploymentsDir?: string;
}

/** The market's ABI plus the registry's custom errors, which bubble up through the market's calls. */
const marketAbiWithRegistryErrors: Abi = [
  ...licenseMarketAbi,
  ...modelRegistryAbi.filter(
    (x) =>
      x.type === 'error' &&
      !licenseMarketAbi.some((m) => m.type === 'error' && (m.name as string) === x.name),
  ),
];

/** Blocks per eth_getLogs request on RPC networks (public endpoints cap the range). */
const LOG_CHUNK = 10_000n;

export class ChainService {
  readonly embedded: EmbeddedChain;
  readonly #store: DeploymentStore;
  readonly #networkFile: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #onChange: ChainServiceOptions['onChange'];
  #network: Network | undefined;
  #rpcChainIds = new Map<string, number>();

  constructor(opts: ChainServiceOptions) {
    this.embedded = new EmbeddedChain(opts.chainDir);
    this.#store = new DeploymentStore(
      join(opts.chainDir, 'deployments'),
      opts.repoDeploymentsDir ?? REPO_DEPLOYMENTS_DIR,
    );
    this.#networkFile = join(opts.chainDir, 'network.json');
    this.#env = opts.env ?? process.env;
    this.#onChange = opts.onChange;
  }

  // ---- network and lifecycle ----

  network(): Network {
    if (!this.#network) {
      let parsed: Network = { kind: 'embedded' };
      if (existsSync(this.#networkFile)) {
        const r = networkSchema.safeParse(JSON.parse(readFileSync(this.#networkFile, 'utf8')));
        if (!r.success)
          throw new ApiError('FAILED_PRECONDITION', `${this.#networkFile} is not a valid network setting`);
        parsed = r.data;
      }
      this.#network = parsed;
    }
    return this.#network;
  }

  async configure(network: Network): Promise<ChainStatus> {
    await writeJsonAtomic(this.#networkFile, network);
    this.#network = network;
    const status = await this.status();
    this.#changed(status.running, status.chainId, status.rpcUrl);
    return status;
  }

  async status(): Promise<ChainStatus> {
    const network = this.network();
    const base = {
      network,
      embedded: null as ChainStatus['embedded'],
      running: false,
      chainId: null as number | null,
      rpcUrl: null as string | null,
      blockNumber: null as string | null,
      deployment: null as Deployment | null,
      contractsUpToDate: null as boolean | null,
    };
    let conn: Connection | null = null;
    if (network.kind === 'embedded') {
      const running = await this.embedded.running();
      base.embedded = {
        stateFile: this.embedded.stateFile,
        logFile: this.embedded.logFile,
        pid: running?.pid ?? null,
        port: running?.port ?? null,
        ownedByThisProcess: running?.owned ?? false,
      };
      if (running) conn = this.#connection(running.rpcUrl, running.chainId, true);
    } else {
      conn = await this.#rpcConnection(network.rpcUrl).catch(() => null);
    }
    if (!conn) return base;
    try {
      const block = await conn.publicClient.getBlockNumber();
      const d = this.#store.find(conn.chainId);
      const deployed = d ? await isDeployed(conn.publicClient, d) : false;
      return {
        ...base,
        running: true,
        chainId: conn.chainId,
        rpcUrl: conn.rpcUrl,
        blockNumber: block.toString(),
        deployment: deployed ? d : null,
        contractsUpToDate: deployed && d ? isUpToDate(d) : null,
      };
    } catch {
      return base;
    }
  }

  /** Where JSON-RPC for the configured network goes, without starting anything; null when the embedded chain is down. */
  async rpcEndpoint(): Promise<{ rpcUrl: string; embedded: boolean } | null> {
    const network = this.network();
    if (network.kind === 'rpc') return { rpcUrl: network.rpcUrl, embedded: false };
    const running = await this.embedded.running();
    return running ? { rpcUrl: running.rpcUrl, embedded: true } : null;
  }

  /** Starts the embedded chain (deploying on first start) or checks the RPC network. */
  async start(opts: { detached?: boolean } = {}): Promise<ChainStatus> {
    await this.#contracts(opts);
    const status = await this.status();
    this.#changed(status.running, status.chainId, status.rpcUrl);
    return status;
  }

  async stop(): Promise<boolean> {
    const stopped = await this.embedded.stop();
    if (stopped) this.#changed(false, null, null);
    return stopped;
  }

  async dispose(): Promise<void> {
    await this.embedded.dispose();
  }

  /** Deploys to the configured network (or `rpcUrl`); refuses to replace live contracts unless `force`. */
  async deploy(opts: {
    rpcUrl?: string | undefined;
    force: boolean;
    signer: Signer;
    recordInRepo: boolean;
  }): Promise<Deployment> {
    const conn = opts.rpcUrl ? await this.#rpcConnection(opts.rpcUrl) : await this.#connect();
    const existing = this.#store.find(conn.chainId);
    if (existing && !opts.force && (await isDeployed(conn.publicClient, existing))) {
      throw new ApiError(
        'CONFLICT',
        `contracts are already deployed on chain ${conn.chainId} (registry ${existing.registry})`,
        {
          hint: 'Use --force to deploy new ones (the old tokens stay on the old contracts).',
        },
      );
    }
    const wallet = await this.#wallet(conn, opts.signer);
    const d = await deployContracts(conn.publicClient, wallet).catch((e: unknown) => {
      throw toChainApiError(e, 'deploy');
    });
    await this.#store.save(d, { inRepo: opts.recordInRepo });
    this.#changed(true, conn.chainId, conn.rpcUrl);
    return d;
  }

  async contracts(): Promise<ContractsInfo> {
    const c = await this.#contracts();
    const devAccounts = c.conn.embedded ? await this.#devAccounts(c.conn) : [];
    return {
      chainId: c.conn.chainId,
      rpcUrl: c.conn.rpcUrl,
      registry: c.registry,
      market: c.market,
      deployBlock: c.d.deployBlock,
      domain: registryDomain(c.conn.chainId, c.registry),
      devAccounts,
    };
  }

  // ---- lineages ----

  async createLineage(p: LineageParams, signer: Signer): Promise<{ lineageId: number; txHash: Hex }> {
    const c = await this.#contracts();
    const args = [
      {
        name: p.name,
        evalDatasetCid: p.evalDatasetCid,
        metricName: p.metricName,
        higherIsBetter: p.higherIsBetter,
        genesisModelCid: p.genesisModelCid,
        genesisScore: BigInt(p.genesisScore),
        epsilon: p.epsilon,
        minCommitAge: p.minCommitAge,
        verifiers: p.verifiers.map((v) => getAddress(v)),
        quorum: p.quorum,
        pricing: {
          basePrice: BigInt(p.pricing.basePriceWei),
          pricePerPoint: BigInt(p.pricing.pricePerPointWei),
          minPriceBps: p.pricing.minPriceBps,
          maxPriceBps: p.pricing.maxPriceBps,
          royaltyBps: p.pricing.royaltyBps,
        },
        shares: p.shares,
      },
    ] as const;
    const { receipt } = await this.#write(c, signer, c.registry, modelRegistryAbi, 'createLineage', args);
    const created = parseEventLogs({
      abi: modelRegistryAbi,
      logs: receipt.logs,
      eventName: 'LineageCreated',
    })[0];
    if (!created) throw new Error('createLineage succeeded without a LineageCreated event');
    return { lineageId: Number(created.args.lineageId), txHash: receipt.transactionHash };
  }

  async manageVerifiers(
    action: 'addVerifier' | 'removeVerifier',
    lineageId: number,
    verifier: string,
    signer: Signer,
  ): Promise<{ txHash: Hex }> {
    const c = await this.#contracts();
    const { receipt } = await this.#write(c, signer, c.registry, modelRegistryAbi, action, [
      BigInt(lineageId),
      getAddress(verifier),
    ]);
    return { txHash: receipt.transactionHash };
  }

  async setQuorum(lineageId: number, quorum: number, signer: Signer): Promise<{ txHash: Hex }> {
    const c = await this.#contracts();
    const { receipt } = await this.#write(c, signer, c.registry, modelRegistryAbi, 'setQuorum', [
      BigInt(lineageId),
      quorum,
    ]);
    return { txHash: receipt.transactionHash };
  }

  async lineage(lineageId: number): Promise<LineageView> {
    return this.#lineageView(await this.#contracts(), lineageId);
  }

  async lineages(): Promise<LineageView[]> {
    const c = await this.#contracts();
    const count = Number(await this.#readRegistry(c, 'lineageCount', []));
    const ids = Array.from({ length: count }, (_, i) => count - i);
    return Promise.all(ids.map((id) => this.#lineageView(c, id)));
  }

  async #lineageView(c: Contracts, lineageId: number): Promise<LineageView> {
    const id = BigInt(lineageId);
    const [l, verifiers, stats, block] = await Promise.all([
      this.#readRegistry(c, 'getLineage', [id]),
      this.#readRegistry(c, 'verifiersOf', [id]),
      this.#readMarket(c, 'lineageStats', [id]),
      c.conn.publicClient.getBlock(),
    ]);
    const eps = await this.#readRegistry(c, 'requiredEpsilonBps', [id, block.timestamp]);
    const toBeat = improvementThreshold(l.bestScore, eps, l.higherIsBetter);
    return {
      lineageId,
      name: l.name,
      creator: l.creator,
      createdAt: Number(l.createdAt),
      metricName: l.metricName,
      higherIsBetter: l.higherIsBetter,
      evalDatasetCid: l.evalDatasetCid,
      genesisModelCid: l.genesisModelCid,
      genesisScore: l.genesisScore.toString(),
      bestTokenId: Number(l.bestTokenId),
      bestScore: l.bestScore.toString(),
      bestSince: Number(l.bestSince),
      modelCount: Number(l.modelCount),
      epsilon: l.epsilon,
      currentEpsilonBps: Number(eps),
      scoreToBeat: toBeat === null || toBeat >= 2n ** 64n ? null : toBeat.toString(),
      minCommitAge: l.minCommitAge,
      verifiers: [...verifiers],
      quorum: l.quorum,
      pricing: {
        basePriceWei: l.pricing.basePrice.toString(),
        pricePerPointWei: l.pricing.pricePerPoint.toString(),
        minPriceBps: l.pricing.minPriceBps,
        maxPriceBps: l.pricing.maxPriceBps,
        royaltyBps: l.pricing.royaltyBps,
      },
      shares: l.shares,
      licences: Number(stats[0]),
      revenueWei: stats[1].toString(),
    };
  }

  // ---- tokens ----

  async tokens(filter: {
    lineageId?: number | undefined;
    owner?: string | undefined;
    offset: number;
    limit: number;
  }) {
    const c = await this.#contracts();
    const all = await this.#allTokens(c);
    const owner = filter.owner ? getAddress(filter.owner) : undefined;
    const matching = all
      .filter(
        (t) =>
          (filter.lineageId === undefined || t.lineageId === filter.lineageId) &&
          (!owner || t.owner === owner),
      )
      .sort((a, b) => b.tokenId - a.tokenId);
    return { total: matching.length, tokens: matching.slice(filter.offset, filter.offset + filter.limit) };
  }

  async token(tokenId: number): Promise<TokenView> {
    return this.#tokenView(await this.#contracts(), tokenId);
  }

  async #allTokens(c: Contracts): Promise<TokenView[]> {
    const total = Number(await this.#readRegistry(c, 'totalMinted', []));
    return Promise.all(Array.from({ length: total }, (_, i) => this.#tokenView(c, i + 1)));
  }

  async #tokenView(c: Contracts, tokenId: number): Promise<TokenView> {
    const id = BigInt(tokenId);
    const [m, owner, uri, suggested, manual, price, bounds, stats] = await Promise.all([
      this.#readRegistry(c, 'getModel', [id]),
      this.#readRegistry(c, 'ownerOf', [id]),
      this.#readRegistry(c, 'tokenURI', [id]),
      this.#readMarket(c, 'suggestedPrice', [id]),
      this.#readMarket(c, 'manualPriceOf', [id]),
      this.#readMarket(c, 'priceOf', [id]),
      this.#readMarket(c, 'priceBounds', [id]),
      this.#readMarket(c, 'tokenStats', [id]),
    ]);
    const lineage = await this.#readRegistry(c, 'getLineage', [m.lineageId]);
    return {
      tokenId,
      lineageId: Number(m.lineageId),
      version: m.version,
      parentTokenId: Number(m.parentTokenId),
      trainer: m.trainer,
      owner,
      score: m.score.toString(),
      modelCid: m.modelCid,
      metadataCid: m.metadataCid,
      evaluationCid: m.evaluationCid,
      tokenURI: uri,
      committedAt: Number(m.committedAt),
      mintedAt: Number(m.mintedAt),
      isBest: lineage.bestTokenId === id,
      suggestedPriceWei: suggested.toString(),
      manualPriceWei: manual === 0n ? null : manual.toString(),
      priceWei: price.toString(),
      minPriceWei: bounds[0].toString(),
      maxPriceWei: bounds[1].toString(),
      licences: Number(stats[0]),
      revenueWei: stats[1].toString(),
    };
  }

  async setPrice(tokenId: number, priceWei: string, signer: Signer): Promise<{ txHash: Hex }> {
    const c = await this.#contracts();
    const { receipt } = await this.#write(c, signer, c.market, licenseMarketAbi, 'setPrice', [
      BigInt(tokenId),
      BigInt(priceWei),
    ]);
    return { txHash: receipt.transactionHash };
  }

  // ---- licences and earnings ----

  async buyLicence(
    tokenId: number,
    signer: Signer,
  ): Promise<{ txHash: Hex; tokenId: number; licensee: Address; priceWei: string }> {
    const c = await this.#contracts();
    const price = await this.#readMarket(c, 'priceOf', [BigInt(tokenId)]);
    const { receipt, account } = await this.#write(
      c,
      signer,
      c.market,
      licenseMarketAbi,
      'buyLicense',
      [BigInt(tokenId)],
      price,
    );
    return { txHash: receipt.transactionHash, tokenId, licensee: account, priceWei: price.toString() };
  }

  async licences(licensee?: string): Promise<LicenceView[]> {
    const c = await this.#contracts();
    const logs = await this.#logs(
      c,
      c.market,
      licenseMarketAbi,
      'LicenseBought',
      licensee ? { licensee: getAddress(licensee) } : undefined,
    );
    return logs
      .map((l) => {
        const a = l.args as { tokenId: bigint; licensee: Address; lineageId: bigint; price: bigint };
        return {
          tokenId: Number(a.tokenId),
          lineageId: Number(a.lineageId),
          licensee: a.licensee,
          priceWei: a.price.toString(),
          blockNumber: l.blockNumber.toString(),
          txHash: l.transactionHash,
        };
      })
      .reverse();
  }

  async earnings(account: string): Promise<EarningsView> {
    const c = await this.#contracts();
    const who = getAddress(account);
    const [pending, lineageCount] = await Promise.all([
      this.#readMarket(c, 'pendingWithdrawal', [who]),
      this.#readRegistry(c, 'lineageCount', []),
    ]);
    const per = await Promise.all(
      Array.from({ length: Number(lineageCount) }, (_, i) =>
        this.#readMarket(c, 'earnings', [who, BigInt(i + 1)]),
      ),
    );
    const total = per[0]?.[0] ?? (await this.#readMarket(c, 'earnings', [who, 0n]))[0];
    return {
      account: who,
      pendingWei: pending.toString(),
      totalWei: total.toString(),
      byLineage: per
        .map((e, i) => ({ lineageId: i + 1, earnedWei: e[1].toString() }))
        .filter((e) => e.earnedWei !== '0'),
    };
  }

  async withdraw(signer: Signer): Promise<{ txHash: Hex; account: Address; amountWei: string }> {
    const c = await this.#contracts();
    const { receipt, account } = await this.#write(c, signer, c.market, licenseMarketAbi, 'withdraw', []);
    const w = parseEventLogs({ abi: licenseMarketAbi, logs: receipt.logs, eventName: 'Withdrawn' })[0];
    return { txHash: receipt.transactionHash, account, amountWei: (w?.args.amount ?? 0n).toString() };
  }

  // ---- commit and claim (used by the claim flow and the CLI) ----

  /** The trainer's next nonce, for signing an Improvement. */
  async nonceOf(trainer: string): Promise<bigint> {
    return this.#readRegistry(await this.#contracts(), 'nonces', [getAddress(trainer)]);
  }

  /** Publishes a commitment (see `commitmentOf` in src/shared/chain/eip712.ts); returns its block time. */
  async commit(commitment: Hex, signer: Signer): Promise<{ txHash: Hex; committedAt: number }> {
    const c = await this.#contracts();
    const { receipt } = await this.#write(c, signer, c.registry, modelRegistryAbi, 'commit', [commitment]);
    return {
      txHash: receipt.transactionHash,
      committedAt: Number(await this.#readRegistry(c, 'committedAt', [commitment])),
    };
  }

  /** Submits a signed claim with its attestations (sorted by verifier address); returns the new token. */
  async claim(
    claim: Improvement,
    salt: Hex,
    trainerSignature: Hex,
    attestations: VerifierSignature[],
    signer: Signer,
  ): Promise<{ txHash: Hex; tokenId: number }> {
    const c = await this.#contracts();
    // anvil mines only on transactions, so "latest" may be older than the commit age allows although
    // the wall clock has moved on: mine an empty block so the claim is simulated at the current time.
    if (c.conn.embedded) await c.conn.publicClient.request({ method: 'evm_mine' } as never);
    const { receipt } = await this.#write(c, signer, c.registry, modelRegistryAbi, 'claim', [
      claim,
      salt,
      trainerSignature,
      attestations,
    ]);
    const minted = parseEventLogs({ abi: modelRegistryAbi, logs: receipt.logs, eventName: 'ModelMinted' })[0];
    if (!minted) throw new Error('claim succeeded without a ModelMinted event');
    return { txHash: receipt.transactionHash, tokenId: Number(minted.args.tokenId) };
  }

  /** A wallet for a signer, for callers that sign typed data themselves (the CLI's claim flow). */
  async walletFor(signer: Signer): Promise<Wallet> {
    const c = await this.#contracts();
    return this.#wallet(c.conn, signer);
  }

  // ---- leaderboard ----

  async leaderboard(lineageId?: number): Promise<Leaderboard> {
    const c = await this.#contracts();
    const [block, allLineages, tokens, credits] = await Promise.all([
      c.conn.publicClient.getBlockNumber(),
      this.lineages(),
      this.#allTokens(c),
      this.#logs(c, c.market, licenseMarketAbi, 'RevenueCredited'),
    ]);
    const lineages =
      lineageId === undefined
        ? allLineages
        : [allLineages.find((l) => l.lineageId === lineageId) ?? (await this.lineage(lineageId))];
    const creditedIn = new Map<number, Set<Address>>();
    for (const log of credits) {
      const a = log.args as { account: Address; lineageId: bigint };
      const set = creditedIn.get(Number(a.lineageId)) ?? new Set<Address>();
      set.add(a.account);
      creditedIn.set(Number(a.lineageId), set);
    }
    // What each account earned (in one lineage, or in all with lineage 0), read from the market.
    const earnedBy = async (accounts: Iterable<Address>, lineage: number) =>
      new Map(
        await Promise.all(
          [...accounts].map(async (account) => {
            const [total, inLineage] = await this.#readMarket(c, 'earnings', [account, BigInt(lineage)]);
            return [account, lineage === 0 ? total : inLineage] as const;
          }),
        ),
      );

    const lineageBoards = await Promise.all(
      lineages.map(async (l) => {
        const models = tokens.filter((t) => t.lineageId === l.lineageId).sort(bestFirst(l.higherIsBetter));
        const earned = await earnedBy(
          new Set<Address>([
            ...(creditedIn.get(l.lineageId) ?? []),
            ...models.map((m) => m.trainer as Address),
          ]),
          l.lineageId,
        );
        return {
          lineageId: l.lineageId,
          name: l.name,
          metricName: l.metricName,
          higherIsBetter: l.higherIsBetter,
          bestTokenId: l.bestTokenId,
          bestScore: l.bestScore,
          licences: l.licences,
          revenueWei: l.revenueWei,
          models: models.map((m, i) => ({
            rank: i + 1,
            tokenId: m.tokenId,
            version: m.version,
            trainer: m.trainer,
            owner: m.owner,
            score: m.score,
            licences: m.licences,
            revenueWei: m.revenueWei,
            priceWei: m.priceWei,
          })),
          contributors: rankContributors(models, earned, l.higherIsBetter),
        };
      }),
    );

    const everyone = await earnedBy(
      new Set<Address>([
        ...[...creditedIn.values()].flatMap((s) => [...s]),
        ...tokens.map((t) => t.trainer as Address),
      ]),
      0,
    );
    const totalLicences = await this.#readMarket(c, 'totalLicenses', []);
    return {
      chainId: c.conn.chainId,
      blockNumber: block.toString(),
      lineages: lineageBoards,
      overall: {
        licences: Number(totalLicences),
        revenueWei: allLineages.reduce((s, l) => s + BigInt(l.revenueWei), 0n).toString(),
        contributors: rankContributors(tokens, everyone, null),
      },
    };
  }

  // ---- plumbing ----

  #changed(running: boolean, chainId: number | null, rpcUrl: string | null): void {
    try {
      this.#onChange?.({ running, chainId, rpcUrl });
    } catch (e) {
      console.error('chain.changed listener failed', e);
    }
  }

  #connection(rpcUrl: string, chainId: number, embedded: boolean): Connection {
    const chain = embedded
      ? foundry
      : defineChain({
          id: chainId,
          name: `chain ${chainId}`,
          nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
          rpcUrls: { default: { http: [rpcUrl] } },
        });
    const transport = chainTransport(
      rpcUrl,
      embedded ? { retryCount: 0, timeout: 30_000 } : { timeout: 30_000 },
    );
    const publicClient = createPublicClient({
      chain,
      transport,
      pollingInterval: embedded ? 100 : 2_000,
    }) as PublicClient;
    return { publicClient, chain, rpcUrl, chainId, embedded };
  }

  async #rpcConnection(rpcUrl: string): Promise<Connection> {
    let chainId = this.#rpcChainIds.get(rpcUrl);
    if (chainId === undefined) {
      try {
        chainId = await createPublicClient({
          transport: http(rpcUrl, { timeout: 15_000, retryCount: 1 }),
        }).getChainId();
      } catch (e) {
        throw new ApiError(
          'UNAVAILABLE',
          `the RPC endpoint ${rpcUrl} does not answer: ${(e as Error).message.split('\n')[0]}`,
          {
            hint: 'Check the URL and your network, or switch back to the embedded chain.',
          },
        );
      }
      this.#rpcChainIds.set(rpcUrl, chainId);
    }
    return this.#connection(rpcUrl, chainId, false);
  }

  async #connect(opts: { detached?: boolean } = {}): Promise<Connection> {
    const network = this.network();
    if (network.kind === 'rpc') return this.#rpcConnection(network.rpcUrl);
    try {
      const running = await this.embedded.ensureRunning(opts);
      return this.#connection(running.rpcUrl, running.chainId, true);
    } catch (e) {
      throw toChainApiError(e, 'starting the embedded chain');
    }
  }

  /** Connects, and on the embedded chain deploys the contracts when they are missing (first start, reset state). */
  async #contracts(opts: { detached?: boolean } = {}): Promise<Contracts> {
    const conn = await this.#connect(opts);
    let d = this.#store.find(conn.chainId);
    const deployed = d
      ? await isDeployed(conn.publicClient, d).catch((e: unknown) => {
          throw toChainApiError(e, 'reading the contracts');
        })
      : false;
    if (!d || !deployed) {
      if (!conn.embedded) {
        throw new ApiError(
          'FAILED_PRECONDITION',
          `no XAI-Link contracts are deployed on chain ${conn.chainId}`,
          {
            hint: `Deploy them: xai-link chain deploy --rpc ${conn.rpcUrl} (with the deployer key in an environment variable).`,
          },
        );
      }
      d = await deployContracts(conn.publicClient, await this.#wallet(conn, { devAccount: 0 }));
      await this.#store.save(d, { inRepo: false });
      this.#changed(true, conn.chainId, conn.rpcUrl);
    }
    return { conn, d, registry: getAddress(d.registry), market: getAddress(d.market) };
  }

  async #devAccounts(conn: Connection): Promise<Address[]> {
    const accounts = (await conn.publicClient.request({ method: 'eth_accounts' } as never)) as string[];
    return accounts.map((a) => getAddress(a));
  }

  async #wallet(conn: Connection, signer: Signer): Promise<Wallet> {
    const transport = chainTransport(conn.rpcUrl, conn.embedded ? { retryCount: 0 } : {});
    if ('devAccount' in signer) {
      if (!conn.embedded || conn.chainId !== EMBEDDED_CHAIN_ID) {
        throw new ApiError('FAILED_PRECONDITION', 'dev accounts exist only on the embedded chain', {
          hint: 'Sign with a key in an environment variable instead (--key-env NAME).',
        });
      }
      const address = (await this.#devAccounts(conn))[signer.devAccount];
      if (!address)
        throw new ApiError('INVALID_PARAMS', `anvil has no dev account ${signer.devAccount}`, {
          field: 'signer.devAccount',
        });
      return createWalletClient({ account: address, chain: conn.chain, transport }) as Wallet;
    }
    const key = envValue(this.#env, signer.keyEnv);
    if (!key) {
      throw new ApiError('FAILED_PRECONDITION', `the environment variable ${signer.keyEnv} is not set`, {
        hint: `Put the signing key (0x + 64 hex digits) in ${signer.keyEnv}; XAI-Link reads it and never stores it.`,
      });
    }
    if (!/^0x[0-9a-fA-F]{64}$/.test(key.trim())) {
      throw new ApiError(
        'INVALID_PARAMS',
        `the environment variable ${signer.keyEnv} does not hold a 0x-prefixed 32-byte private key`,
        {
          field: 'signer.keyEnv',
        },
      );
    }
    return createWalletClient({
      account: privateKeyToAccount(key.trim() as Hex),
      chain: conn.chain,
      transport,
    });
  }

  /** Simulates (to get a decoded revert), sends, and waits for the receipt. */
  async #write(
    c: Contracts,
    signer: Signer,
    address: Address,
    abi: Abi,
    functionName: string,
    args: readonly unknown[],
    value?: bigint,
  ) {
    const wallet = await this.#wallet(c.conn, signer);
    try {
      const { request } = await c.conn.publicClient.simulateContract({
        account: wallet.account,
        address,
        // The market calls the registry: its reverts (unknown token) must decode too.
        abi: abi === licenseMarketAbi ? marketAbiWithRegistryErrors : abi,
        functionName,
        args,
        value,
      } as never);
      const hash = await wallet.writeContract(request as never);
      const receipt = await c.conn.publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== 'success')
        throw new ApiError('FAILED_PRECONDITION', `${functionName} reverted in transaction ${hash}`);
      return { receipt, account: wallet.account.address };
    } catch (e) {
      throw toChainApiError(e, functionName);
    }
  }

  #readRegistry<F extends RegistryRead>(c: Contracts, functionName: F, args: readonly unknown[]) {
    return this.#read(c, c.registry, modelRegistryAbi, functionName, args) as Promise<RegistryResult<F>>;
  }

  #readMarket<F extends MarketRead>(c: Contracts, functionName: F, args: readonly unknown[]) {
    return this.#read(c, c.market, marketAbiWithRegistryErrors, functionName, args) as Promise<
      MarketResult<F>
    >;
  }

  async #read(
    c: Contracts,
    address: Address,
    abi: Abi,
    functionName: string,
    args: readonly unknown[],
  ): Promise<unknown> {
    try {
      return await c.conn.publicClient.readContract({ address, abi, functionName, args });
    } catch (e) {
      throw toChainApiError(e, functionName);
    }
  }

  /** Event logs of one contract from its deployment block, in chunks on RPC networks. */
  async #logs(c: Contracts, address: Address, abi: Abi, eventName: string, args?: Record<string, unknown>) {
    const from = BigInt(c.d.deployBlock);
    const latest = await c.conn.publicClient.getBlockNumber();
    const step = c.conn.embedded ? latest - from + 1n : LOG_CHUNK;
    const out = [];
    for (let start = from; start <= latest; start += step) {
      const end = start + step - 1n > latest ? latest : start + step - 1n;
      const logs = await c.conn.publicClient.getContractEvents({
        address,
        abi,
        eventName,
        args,
        fromBlock: start,
        toBlock: end,
      } as never);
      out.push(...(logs as unknown as { args: unknown; blockNumber: bigint; transactionHash: Hex }[]));
    }
    return out;
  }
}

// Typed results of the view functions the service reads, inferred from the generated ABIs.
type RegistryAbi = typeof modelRegistryAbi;
type MarketAbi = typeof licenseMarketAbi;
type RegistryRead = ContractFunctionName<RegistryAbi, 'view' | 'pure'>;
type MarketRead = ContractFunctionName<MarketAbi, 'view' | 'pure'>;
type RegistryResult<F extends RegistryRead> = ContractFunctionReturnType<RegistryAbi, 'view' | 'pure', F>;
type MarketResult<F extends MarketRead> = ContractFunctionReturnType<MarketAbi, 'view' | 'pure', F>;
