/**
 * The toolkit's local Functions testnet, on our anvil.
 *
 * `startLocalFunctionsTestnet` of @chainlink/functions-toolkit 0.3 starts **ganache** 7.9 (hardforks up to
 * Shanghai), deploys its mock LINK token, LINK price feeds, FunctionsRouter, FunctionsCoordinatorTestHelper
 * and allow list there, and answers every `OracleRequest` by running the request's source in `simulateScript`
 * and calling `callReport`. Our registry needs Cancun (OpenZeppelin 5.7 uses `mcopy`), so it cannot run on
 * that ganache. Instead this file deploys the **same contracts** (the toolkit's `v1_contract_sources`
 * bytecode) with the **same configuration** (the toolkit's `simulationConfig`) onto the Cancun anvil the rest
 * of the contract tests use, and does the DON's part the way the toolkit does: decode the request's CBOR,
 * run the source `numberOfSimulatedNodeExecutions` times, aggregate (median of the answers, or the most
 * common error), encode the report and call `callReport`. It runs in the test's own process, one request at
 * a time when the test asks (no background listener, nothing left running).
 */
import { Decoder } from 'cbor';
import {
  decodeEventLog,
  encodeAbiParameters,
  getAddress,
  parseUnits,
  stringToHex,
  toHex,
  type Abi,
  type Address,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import type { HDAccount } from 'viem/accounts';
import {
  FunctionsCoordinatorTestHelperSource,
  FunctionsRouterSource,
  LinkTokenSource,
  MockV3AggregatorSource,
  TermsOfServiceAllowListSource,
} from '@chainlink/functions-toolkit/dist/v1_contract_sources/index.js';
import {
  callReportGasLimit,
  numberOfSimulatedNodeExecutions,
  simulatedAllowListConfig,
  simulatedAllowListId,
  simulatedCoordinatorConfig,
  simulatedDonId,
  simulatedLinkEthPrice,
  simulatedLinkUsdPrice,
  simulatedRouterConfig,
  simulatedSecretsKeys,
} from '@chainlink/functions-toolkit/dist/simulationConfig.js';
import type { TestChain } from '../fixture.ts';
import { simulate } from './simulator.ts';

export const routerAbi = FunctionsRouterSource.abi as Abi;
export const coordinatorAbi = FunctionsCoordinatorTestHelperSource.abi as Abi;
export const linkAbi = LinkTokenSource.abi as Abi;

export interface LocalFunctions {
  donId: string;
  donIdBytes32: Hex;
  link: Address;
  router: Address;
  coordinator: Address;
  /** Creates a subscription owned by `admin`, funds it with `link` LINK and adds `consumer` (if given). */
  createSubscription(consumer?: Address, link?: string): Promise<bigint>;
  /** Plays the DON for the `OracleRequest` in `receipt`: runs the source, reports the answer on chain. */
  fulfil(receipt: TransactionReceipt): Promise<Fulfilment>;
}

export interface Fulfilment {
  requestId: Hex;
  /** What the request carried (decoded from its CBOR), as a node sees it. */
  request: { source: string; args: string[] };
  response: Hex | null;
  error: string | null;
  /** FunctionsResponse.FulfillResult of the router (0 = FULFILLED, 1 = USER_CALLBACK_ERROR, …). */
  resultCode: number;
  reportReceipt: TransactionReceipt;
}

const bytes32 = (s: string): Hex => stringToHex(s, { size: 32 });

/** Deploys the toolkit's mock LINK, price feeds, router, coordinator and allow list, configured as the toolkit does. */
export async function deployLocalFunctions(
  chain: Pick<TestChain, 'publicClient' | 'wallet'>,
  admin: HDAccount,
): Promise<LocalFunctions> {
  const w = chain.wallet(admin);
  const pc = chain.publicClient;
  const deploy = async (artifact: { abi: unknown; bytecode: string }, args: unknown[]): Promise<Address> => {
    const hash = await w.deployContract({
      abi: artifact.abi as Abi,
      bytecode: artifact.bytecode as Hex,
      args,
    } as never);
    const r = await pc.waitForTransactionReceipt({ hash });
    if (r.status !== 'success' || !r.contractAddress) throw new Error('local Functions deployment failed');
    return r.contractAddress;
  };
  const send = async (address: Address, abi: Abi, functionName: string, args: unknown[]) => {
    const hash = await w.writeContract({ address, abi, functionName, args, gas: 1_000_000n } as never);
    const r = await pc.waitForTransactionReceipt({ hash });
    if (r.status !== 'success') throw new Error(`${functionName} reverted`);
    return r;
  };

  const link = await deploy(LinkTokenSource, []);
  const linkEth = await deploy(MockV3AggregatorSource, [18, simulatedLinkEthPrice]);
  const linkUsd = await deploy(MockV3AggregatorSource, [8, simulatedLinkUsdPrice]);
  const router = await deploy(FunctionsRouterSource, [link, simulatedRouterConfig]);
  const coordinator = await deploy(FunctionsCoordinatorTestHelperSource, [
    router,
    simulatedCoordinatorConfig,
    linkEth,
    linkUsd,
  ]);
  const allowList = await deploy(TermsOfServiceAllowListSource, [simulatedAllowListConfig, [], []]);
  await send(router, routerAbi, 'setAllowListId', [bytes32(simulatedAllowListId)]);
  await send(router, routerAbi, 'proposeContractsUpdate', [
    [bytes32(simulatedAllowListId), bytes32(simulatedDonId)],
    [allowList, coordinator],
  ]);
  await send(router, routerAbi, 'updateContracts', []);
  await send(coordinator, coordinatorAbi, 'setDONPublicKey', [simulatedSecretsKeys.donKey.publicKey]);
  await send(coordinator, coordinatorAbi, 'setThresholdPublicKey', [
    toHex(new TextEncoder().encode(simulatedSecretsKeys.thresholdKeys.publicKey)),
  ]);

  return {
    donId: simulatedDonId,
    donIdBytes32: bytes32(simulatedDonId),
    link,
    router,
    coordinator,
    async createSubscription(consumer, amount = '10') {
      const { result, request } = await pc.simulateContract(
        consumer
          ? {
              account: admin,
              address: router,
              abi: routerAbi,
              functionName: 'createSubscriptionWithConsumer',
              args: [consumer],
            }
          : { account: admin, address: router, abi: routerAbi, functionName: 'createSubscription', args: [] },
      );
      await pc.waitForTransactionReceipt({ hash: await w.writeContract(request as never) });
      const subscriptionId = result as bigint;
      // LINK's ERC-677 transferAndCall funds a subscription (the router's onTokenTransfer).
      await send(link, linkAbi, 'transferAndCall', [
        router,
        parseUnits(amount, 18),
        encodeAbiParameters([{ type: 'uint64' }], [subscriptionId]),
      ]);
      return subscriptionId;
    },
    async fulfil(receipt) {
      const event = receipt.logs
        .filter((l) => getAddress(l.address) === getAddress(coordinator))
        .map((l) => {
          try {
            return decodeEventLog({ abi: coordinatorAbi, data: l.data, topics: l.topics });
          } catch {
            return null;
          }
        })
        .find((e) => e?.eventName === 'OracleRequest');
      if (!event) throw new Error('the transaction sent no Functions request');
      const a = event.args as unknown as OracleRequestArgs;
      const request = decodeRequest(a.data);
      const outcome = await runDon(request);
      const report = encodeReport(a.requestId, a.commitment, outcome.response, outcome.error);
      const hash = await w.writeContract({
        address: coordinator,
        abi: coordinatorAbi,
        functionName: 'callReport',
        args: [report],
        gas: BigInt(callReportGasLimit),
      } as never);
      const reportReceipt = await pc.waitForTransactionReceipt({ hash });
      if (reportReceipt.status !== 'success') throw new Error('callReport reverted');
      const processed = reportReceipt.logs
        .filter((l) => getAddress(l.address) === getAddress(router))
        .map((l) => {
          try {
            return decodeEventLog({ abi: routerAbi, data: l.data, topics: l.topics });
          } catch {
            return null;
          }
        })
        .find((e) => e?.eventName === 'RequestProcessed');
      if (!processed) throw new Error('the router processed no response');
      return {
        requestId: a.requestId,
        request,
        ...outcome,
        resultCode: Number((processed.args as unknown as { resultCode: number }).resultCode),
        reportReceipt,
      };
    },
  };
}

interface Commitment {
  requestId: Hex;
  coordinator: Address;
  estimatedTotalCostJuels: bigint;
  client: Address;
  subscriptionId: bigint;
  callbackGasLimit: number;
  adminFee: bigint;
  donFee: bigint;
  gasOverheadBeforeCallback: number;
  gasOverheadAfterCallback: number;
  timeoutTimestamp: number;
}

interface OracleRequestArgs {
  requestId: Hex;
  data: Hex;
  commitment: Commitment;
}

/** The request data: CBOR key/value pairs (FunctionsRequest.encodeCBOR) with the inline source and args. */
function decodeRequest(data: Hex): { source: string; args: string[] } {
  const items = Decoder.decodeAllSync(Buffer.from(data.slice(2), 'hex')) as unknown[];
  const fields = new Map<string, unknown>();
  for (let i = 0; i + 1 < items.length; i += 2) fields.set(String(items[i]), items[i + 1]);
  // FunctionsRequest writes these with writeUInt256 (a CBOR bignum, decoded as a bigint).
  if (Number(fields.get('codeLocation')) !== 0 || Number(fields.get('language')) !== 0) {
    throw new Error('only inline JavaScript requests are supported');
  }
  return { source: String(fields.get('source')), args: (fields.get('args') as string[] | undefined) ?? [] };
}

/** Runs the source on every simulated node; the median answer wins, else the most common error. */
async function runDon(request: {
  source: string;
  args: string[];
}): Promise<{ response: Hex | null; error: string | null }> {
  const runs = await Promise.all(
    Array.from({ length: numberOfSimulatedNodeExecutions }, () => simulate(request.args, request.source)),
  );
  const ok = runs.filter((r) => r.error === null && r.response !== null).map((r) => r.response!);
  const errors = runs.filter((r) => r.error !== null).map((r) => r.error!);
  if (ok.length > errors.length) {
    ok.sort((x, y) => (x.length !== y.length ? x.length - y.length : x < y ? -1 : x > y ? 1 : 0));
    return { response: ok[Math.floor((ok.length - 1) / 2)]!, error: null };
  }
  const counts = new Map<string, number>();
  for (const e of errors) counts.set(e, (counts.get(e) ?? 0) + 1);
  const error = [...counts.entries()].sort((x, y) => y[1] - x[1])[0]?.[0] ?? 'no answer';
  return { response: null, error };
}

/** The report `callReport` takes (the toolkit's encodeReport). */
function encodeReport(requestId: Hex, c: Commitment, response: Hex | null, error: string | null): Hex {
  const commitment = encodeAbiParameters(
    [
      { type: 'bytes32' },
      { type: 'address' },
      { type: 'uint96' },
      { type: 'address' },
      { type: 'uint64' },
      { type: 'uint32' },
      { type: 'uint72' },
      { type: 'uint72' },
      { type: 'uint40' },
      { type: 'uint40' },
      { type: 'uint32' },
    ],
    [
      c.requestId,
      c.coordinator,
      c.estimatedTotalCostJuels,
      c.client,
      c.subscriptionId,
      c.callbackGasLimit,
      c.adminFee,
      c.donFee,
      c.gasOverheadBeforeCallback,
      c.gasOverheadAfterCallback,
      c.timeoutTimestamp,
    ],
  );
  return encodeAbiParameters(
    [
      { type: 'bytes32[]' },
      { type: 'bytes[]' },
      { type: 'bytes[]' },
      { type: 'bytes[]' },
      { type: 'bytes[]' },
    ],
    [
      [requestId],
      [response ?? '0x'],
      [error === null ? '0x' : toHex(new TextEncoder().encode(error))],
      [commitment],
      ['0x'],
    ],
  );
}
