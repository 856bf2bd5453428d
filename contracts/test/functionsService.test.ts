/**
 * The app's side of Chainlink attestation (src/main/chainlink): ChainlinkService on the embedded chain, with
 * the toolkit's mock router and coordinator deployed there and the local DON of functions/: status before
 * and after configuration, deploy (source upload, request configuration, subscription consumer), a request
 * for a claim, the DON's answer, and the request's result; and the call a wallet sends instead
 * (`requestData`), sent here by a plain viem wallet client as the renderer's wagmi does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  getAddress,
  http,
  parseEventLogs,
  type Address,
  type PublicClient,
  type TestClient,
} from 'viem';
import { foundry } from 'viem/chains';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/shared/api/errors.ts';
import {
  attestationDigest,
  improvementFromJson,
  improvementToJson,
  type Improvement,
} from '../../src/shared/chain/eip712.ts';
import { functionsAttestorAbi } from '../generated/index.ts';
import { ChainService } from '../../src/main/chain/chainService.ts';
import { ATTESTOR_SOURCE_HASH, ChainlinkService } from '../../src/main/chainlink/chainlinkService.ts';
import { SettingsService } from '../../src/main/settings/settingsService.ts';
import { createLineage, devAccount, draftClaim, type Deployed, type TestChain } from './fixture.ts';
import { attestationFile, evaluationReport, signAttestation } from './functions/claimFiles.ts';
import { startGateway, type LocalGateway } from './functions/gateway.ts';
import { deployLocalFunctions, type LocalFunctions } from './functions/localFunctionsTestnet.ts';
import { registryDomain } from '../../src/shared/chain/eip712.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'xai-chainlink-'));
let chainService: ChainService;
let gateway: LocalGateway;
let local: LocalFunctions;
let service: ChainlinkService;
let testChain: TestChain;
let deployed: Deployed;
let claim: Improvement | null = null;
/** The attestation CIDs the claim resolver knows for `claim` (a local claim's recorded attestations). */
let knownCids: string[] = [];
/** Set by the first request test, used by the wallet one. */
let configured: { attestor: Address; lineageId: bigint; subscriptionId: bigint } | null = null;

beforeAll(async () => {
  chainService = new ChainService({
    chainDir: join(dataDir, 'chain'),
    repoDeploymentsDir: join(dataDir, 'no-repo'),
  });
  const [info, gw] = await Promise.all([chainService.contracts(), startGateway()]);
  gateway = gw;
  const transport = http(info.rpcUrl);
  testChain = {
    anvil: undefined as never,
    publicClient: createPublicClient({ chain: foundry, transport }) as PublicClient,
    testClient: createTestClient({ chain: foundry, mode: 'anvil', transport }) as TestClient,
    wallet: (account) => createWalletClient({ account, chain: foundry, transport }),
    stop: async () => undefined,
  };
  deployed = {
    registry: getAddress(info.registry),
    market: getAddress(info.market),
    domain: registryDomain(info.chainId, info.registry),
  };
  local = await deployLocalFunctions(testChain, devAccount(0));
  service = new ChainlinkService({
    settings: new SettingsService(join(dataDir, 'settings.json')),
    chain: () => chainService,
    claims: async () => {
      if (!claim) throw new ApiError('NOT_FOUND', 'no claim');
      return { improvement: claim, attestationCids: knownCids };
    },
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([chainService?.dispose(), gateway?.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('ChainlinkService', () => {
  it('is not configured until router, DON, subscription and attestor are set', async () => {
    const s = await service.status();
    expect(s.configured).toBe(false);
    expect(s.problems).toHaveLength(4);
    expect(s.chainId).toBeNull(); // nothing was read from the chain
    await expect(service.requestData({ claim: { claimId: 'claim-x' } })).rejects.toThrow(
      /not configured: No Functions router/,
    );
  });

  it('deploys and configures an attestor, requests an attestation and reads the DON’s answer', async () => {
    const subscriptionId = await local.createSubscription();
    await service.configure({
      chainId: 31337,
      routerAddress: local.router,
      donId: local.donId,
      subscriptionId: subscriptionId.toString(),
      gatewayUrl: gateway.url,
    });
    const d = await service.deploy({ signer: { devAccount: 0 }, addConsumer: true });
    expect(d.sourceHash).toBe(ATTESTOR_SOURCE_HASH);
    expect((await service.settings()).attestorAddress).toBe(d.attestor);

    const verifier = devAccount(3);
    const lineageId = await createLineage(testChain, deployed, devAccount(4), {
      verifiers: [verifier.address, d.attestor],
      quorum: 2,
    });
    configured = { attestor: d.attestor, lineageId, subscriptionId };
    const status = await service.status(Number(lineageId));
    expect(status.problems).toEqual([]);
    expect(status).toMatchObject({
      configured: true,
      chainId: 31337,
      attestor: { sourceUpToDate: true, donId: local.donId, subscriptionId: subscriptionId.toString() },
      lineage: { lineageId: Number(lineageId), attestorIsVerifier: true },
    });

    const draft = await draftClaim(testChain, deployed, devAccount(2), {
      lineageId,
      parentTokenId: 0n,
      score: 7_000_000n,
    });
    draft.claim.evaluationCid = await gateway.add(evaluationReport(draft.claim.modelCid, 7_000_000n));
    const signature = await signAttestation(verifier, deployed.domain, draft.claim);
    const cid = await gateway.add(
      attestationFile({ domain: deployed.domain, claim: draft.claim, verifier: verifier.address, signature }),
    );
    claim = draft.claim;

    await expect(
      service.request({ claim: { claimId: 'claim-x' }, signer: { devAccount: 0 } }),
    ).rejects.toThrow(/attestation CIDs/);
    await expect(
      service.request({ claim: { claimId: 'claim-x' }, attestationCids: [cid], signer: { devAccount: 5 } }),
    ).rejects.toThrow(/NotRequester/);

    const sent = await service.request({
      claim: { claimId: 'claim-x' },
      attestationCids: [cid],
      signer: { devAccount: 0 },
    });
    expect((await service.result(sent.requestId)).status).toBe('pending');
    const fulfilment = await local.fulfil(
      await testChain.publicClient.getTransactionReceipt({ hash: sent.txHash }),
    );
    expect(fulfilment.error).toBeNull();
    const result = await service.result(sent.requestId);
    expect(result).toMatchObject({
      status: 'attested',
      failure: 'none',
      score: '7000000',
      signatures: 1,
      attestationDigest: sent.attestationDigest,
    });
  });
  it('gives a wallet the exact requestAttestation call, which the DON attests once the wallet sends it', async () => {
    if (!configured) throw new Error('the deploy test must run first');
    const verifier = devAccount(3);
    const draft = await draftClaim(testChain, deployed, devAccount(2), {
      lineageId: configured.lineageId,
      parentTokenId: 0n,
      score: 6_500_000n,
    });
    draft.claim.evaluationCid = await gateway.add(evaluationReport(draft.claim.modelCid, 6_500_000n));
    const signature = await signAttestation(verifier, deployed.domain, draft.claim);
    const cid = await gateway.add(
      attestationFile({ domain: deployed.domain, claim: draft.claim, verifier: verifier.address, signature }),
    );
    claim = draft.claim;

    knownCids = [];
    await expect(service.requestData({ claim: { claimId: 'claim-y' } })).rejects.toThrow(
      /needs 1 to 4 attestation CIDs of other verifiers \(got 0\)/,
    );
    knownCids = [cid]; // as recorded with a local claim: the default when none are named
    const data = await service.requestData({ claim: { claimId: 'claim-y' } });
    expect(data).toEqual({
      chainId: 31337,
      attestor: configured.attestor,
      functionName: 'requestAttestation',
      improvement: improvementToJson(draft.claim),
      attestationCids: [cid],
      attestationDigest: attestationDigest(deployed.domain, draft.claim),
      subscriptionId: configured.subscriptionId.toString(),
      donId: local.donId,
      callbackGasLimit: 300_000,
      openRequests: false,
      owner: devAccount(0).address,
    });

    // What the renderer does with it: the wallet (here the attestor's owner) signs and sends the call.
    const hash = await testChain.wallet(devAccount(0)).writeContract({
      chain: foundry,
      address: data.attestor as Address,
      abi: functionsAttestorAbi,
      functionName: data.functionName,
      args: [improvementFromJson(data.improvement), data.attestationCids],
    });
    const receipt = await testChain.publicClient.waitForTransactionReceipt({ hash });
    const [sent] = parseEventLogs({
      abi: functionsAttestorAbi,
      logs: receipt.logs,
      eventName: 'AttestationRequested',
    });
    expect(sent).toBeDefined();
    expect((await local.fulfil(receipt)).error).toBeNull();
    expect(await service.result(sent!.args.requestId)).toMatchObject({
      status: 'attested',
      score: '6500000',
      attestationDigest: data.attestationDigest,
    });
  });
});
