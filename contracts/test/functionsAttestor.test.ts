/**
 * FunctionsAttestor end to end on the toolkit's local Functions testnet (its mock LINK, router and
 * coordinator, deployed on our Cancun anvil: see functions/localFunctionsTestnet.ts): a claim's report and a
 * verifier's attestation are published on a local IPFS gateway, the attestor sends a Functions request, the
 * simulated DON runs contracts/functions/attestClaim.js and reports, the attestor attests on the registry,
 * and the claim mints with the attestor counted toward the quorum. A failing request attests nothing.
 */
import { readFileSync } from 'node:fs';
import {
  decodeEventLog,
  encodeAbiParameters,
  getAddress,
  keccak256,
  parseEventLogs,
  toHex,
  type Address,
  type Hex,
} from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionsAttestorAbi, functionsAttestorBytecode, modelRegistryAbi } from '../generated/index.ts';
import { attestationDigest, sortAttestations } from '../../src/shared/chain/eip712.ts';
import {
  attestorArgs,
  attestorFailures,
  attestorRequestStatuses,
} from '../../src/shared/chain/functionsRequest.ts';
import {
  createLineage,
  deployAll,
  devAccount,
  draftClaim,
  expectRevert,
  signClaim,
  startTestChain,
  submitClaim,
  type ClaimDraft,
  type Deployed,
  type TestChain,
} from './fixture.ts';
import { attestationFile, evaluationReport, signAttestation } from './functions/claimFiles.ts';
import { startGateway, type LocalGateway } from './functions/gateway.ts';
import { deployLocalFunctions, type LocalFunctions } from './functions/localFunctionsTestnet.ts';
import { SOURCE_FILE } from './functions/simulator.ts';

const admin = devAccount(0);
const operator = devAccount(1);
const trainer = devAccount(2);
const verifier = devAccount(3);
const creator = devAccount(4);

let chain: TestChain;
let gateway: LocalGateway;
let d: Deployed;
let fn: LocalFunctions;
let attestor: Address;
let lineageId: bigint;
let subscriptionId: bigint;
const source = readFileSync(SOURCE_FILE, 'utf8');
/** Gas figures printed for docs/chainlink.md. */
const gas: Record<string, number> = {};

beforeAll(async () => {
  [chain, gateway] = await Promise.all([startTestChain(), startGateway()]);
  d = await deployAll(chain, admin);
  fn = await deployLocalFunctions(chain, admin);
  const w = chain.wallet(operator);
  const deployed = await chain.publicClient.waitForTransactionReceipt({
    hash: await w.deployContract({
      abi: functionsAttestorAbi,
      bytecode: functionsAttestorBytecode,
      args: [fn.router, d.registry, operator.address],
    }),
  });
  attestor = deployed.contractAddress!;
  subscriptionId = await fn.createSubscription(attestor);
  const write = async (functionName: 'setSource' | 'setConfig', args: readonly unknown[]) =>
    chain.publicClient.waitForTransactionReceipt({
      hash: await w.writeContract({
        address: attestor,
        abi: functionsAttestorAbi,
        functionName,
        args,
      } as never),
    });
  gas.setSource = Number((await write('setSource', [source])).gasUsed);
  await write('setConfig', [
    {
      donId: fn.donIdBytes32,
      subscriptionId,
      callbackGasLimit: 300_000,
      minSignatures: 1,
      scoreTolerance: 1_000,
      gatewayUrl: gateway.url,
    },
  ]);
  lineageId = await createLineage(chain, d, creator, { verifiers: [verifier.address, attestor], quorum: 2 });
}, 60_000);

afterAll(async () => {
  await Promise.all([chain?.stop(), gateway?.close()]);
});

/** A committed claim whose evaluation report is published; `attest` publishes the verifier's attestation too. */
async function publishedClaim(
  score: bigint,
  parentTokenId = 0n,
): Promise<{ draft: ClaimDraft; attestationCid: string }> {
  const draft = await draftClaim(chain, d, trainer, { lineageId, parentTokenId, score });
  draft.claim.evaluationCid = await gateway.add(evaluationReport(draft.claim.modelCid, score));
  const signature = await signAttestation(verifier, d.domain, draft.claim);
  const attestationCid = await gateway.add(
    attestationFile({ domain: d.domain, claim: draft.claim, verifier: verifier.address, signature }),
  );
  return { draft, attestationCid };
}

async function requestAttestation(draft: ClaimDraft, cids: string[]) {
  const { request } = await chain.publicClient.simulateContract({
    account: operator,
    address: attestor,
    abi: functionsAttestorAbi,
    functionName: 'requestAttestation',
    args: [draft.claim, cids],
  });
  const receipt = await chain.publicClient.waitForTransactionReceipt({
    hash: await chain.wallet(operator).writeContract(request),
  });
  expect(receipt.status).toBe('success');
  return receipt;
}

async function readRequest(requestId: Hex) {
  return chain.publicClient.readContract({
    address: attestor,
    abi: functionsAttestorAbi,
    functionName: 'getRequest',
    args: [requestId],
  });
}

/** The claim's attestations: the verifier's signature and the attestor's on-chain attestation (empty signature). */
async function attestations(draft: ClaimDraft) {
  return sortAttestations([
    { verifier: verifier.address, signature: await signAttestation(verifier, d.domain, draft.claim) },
    { verifier: getAddress(attestor), signature: '0x' },
  ]);
}

describe('FunctionsAttestor on the local Functions testnet', () => {
  it('request → DON fulfilment → attestation counted by the registry → mint', async () => {
    const { draft, attestationCid } = await publishedClaim(7_000_000n);
    const receipt = await requestAttestation(draft, [attestationCid]);
    gas.requestAttestation = Number(receipt.gasUsed);
    const fulfilment = await fn.fulfil(receipt);

    // What the DON ran is the uploaded file, with the arguments the TypeScript side documents.
    expect(fulfilment.request.source).toBe(source);
    expect(fulfilment.request.args).toEqual(
      attestorArgs({
        chainId: d.domain.chainId,
        registry: d.registry,
        attestor,
        gatewayUrl: gateway.url,
        metricName: 'bits_per_byte',
        verifiers: [verifier.address, attestor],
        minSignatures: 1,
        scoreTolerance: 1_000,
        claim: draft.claim,
        attestationCids: [attestationCid],
      }),
    );
    expect(fulfilment.error).toBeNull();
    expect(fulfilment.resultCode).toBe(0); // FULFILLED

    const digest = attestationDigest(d.domain, draft.claim);
    const r = await readRequest(fulfilment.requestId);
    expect(attestorRequestStatuses[r.status]).toBe('attested');
    expect(r.reportedScore).toBe(7_000_000n);
    expect(r.signatures).toBe(1);
    const attested = parseEventLogs({
      abi: functionsAttestorAbi,
      logs: fulfilment.reportReceipt.logs,
      eventName: 'OracleAttested',
    });
    expect(attested.map((e) => e.args.attestationDigest)).toEqual([digest]);
    expect(
      await chain.publicClient.readContract({
        address: d.registry,
        abi: modelRegistryAbi,
        functionName: 'hasAttestedOnChain',
        args: [attestor, digest],
      }),
    ).toBe(true);

    const trainerSig = await signClaim(trainer, d.domain, draft.claim);
    const { tokenId } = await submitClaim(chain, d, trainer, [
      draft.claim,
      draft.salt,
      trainerSig,
      await attestations(draft),
    ]);
    const model = await chain.publicClient.readContract({
      address: d.registry,
      abi: modelRegistryAbi,
      functionName: 'getModel',
      args: [tokenId],
    });
    expect(model.trainer).toBe(trainer.address);
    expect(model.score).toBe(7_000_000n);
    const claimed = await chain.publicClient.getContractEvents({
      address: d.registry,
      abi: modelRegistryAbi,
      eventName: 'ClaimAttested',
      args: { tokenId },
      fromBlock: 0n,
    });
    expect(claimed.map((e) => e.args.verifier).sort()).toEqual(
      [getAddress(attestor), verifier.address].sort(),
    );
  });

  it('a failed request records the reason and attests nothing', async () => {
    const { draft } = await publishedClaim(6_500_000n, 1n);
    const missing = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
    const fulfilment = await fn.fulfil(await requestAttestation(draft, [missing]));
    expect(fulfilment.error).toBe(`missing-content: ${missing} (404)`);
    expect(fulfilment.resultCode).toBe(0); // the callback recorded the failure without reverting

    const r = await readRequest(fulfilment.requestId);
    expect(attestorRequestStatuses[r.status]).toBe('failed');
    expect(attestorFailures[r.failure]).toBe('oracle-error');
    expect(r.detail).toBe(`missing-content: ${missing} (404)`);
    const refused = parseEventLogs({
      abi: functionsAttestorAbi,
      logs: fulfilment.reportReceipt.logs,
      eventName: 'OracleRefused',
    });
    expect(refused).toHaveLength(1);

    const trainerSig = await signClaim(trainer, d.domain, draft.claim);
    await expectRevert(
      chain.publicClient.simulateContract({
        account: trainer,
        address: d.registry,
        abi: modelRegistryAbi,
        functionName: 'claim',
        args: [draft.claim, draft.salt, trainerSig, await attestations(draft)],
      }),
      'InvalidAttestation',
    );
  });

  it('the fulfilment fits the public DONs’ 300 000 callback gas, on success and on a long failure', async () => {
    const { draft, attestationCid } = await publishedClaim(6_400_000n, 1n);
    const receipt = await requestAttestation(draft, [attestationCid]);
    const sent = receipt.logs
      .filter((l) => getAddress(l.address) === getAddress(attestor))
      .map((l) => decodeEventLog({ abi: functionsAttestorAbi, data: l.data, topics: l.topics }))
      .find((e) => e.eventName === 'AttestationRequested');
    const requestId = (sent!.args as { requestId: Hex }).requestId;
    const estimate = (response: Hex, err: Hex) =>
      chain.publicClient.estimateGas({
        account: fn.router, // eth_estimateGas needs no signature: the router's own call, as it makes it
        to: attestor,
        data: encodeCall(requestId, response, err),
      });
    const digest = attestationDigest(d.domain, draft.claim);
    const success = encodeAbiParameters(
      [{ type: 'uint256' }, { type: 'bytes32' }, { type: 'uint256' }],
      [draft.claim.score, digest, 1n],
    );
    const longError = toHex(new TextEncoder().encode(`bad-signature: ${'x'.repeat(240)}`));
    const [ok, failed] = await Promise.all([estimate(success, '0x'), estimate('0x', longError)]);
    // estimateGas includes the 21 000 base cost and calldata, which the router's callback does not pay.
    gas.callbackAttested = Number(ok) - 21_000;
    gas.callbackRefused = Number(failed) - 21_000;
    console.log(JSON.stringify({ functionsAttestorGas: gas }));
    expect(ok).toBeLessThan(300_000n);
    expect(failed).toBeLessThan(300_000n);
  });
});

function encodeCall(requestId: Hex, response: Hex, err: Hex): Hex {
  const selector = keccak256(toHex('handleOracleFulfillment(bytes32,bytes,bytes)')).slice(0, 10);
  return (selector +
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'bytes' }, { type: 'bytes' }],
      [requestId, response, err],
    ).slice(2)) as Hex;
}
