/**
 * The Chainlink Functions source (contracts/functions/attestClaim.js) run by the toolkit's simulator (Deno),
 * against a local IPFS gateway on 127.0.0.1: no DON, no chain, no internet. The claim's documents are built
 * with the app's own schemas and signed with viem, so the source's Keccak, EIP-712 and secp256k1 code is
 * checked against the real thing.
 */
import { getAddress, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attestationDigest, registryDomain, type Improvement } from '../../src/shared/chain/eip712.ts';
import {
  attestorArgs,
  decodeAttestorResponse,
  type AttestorArgsInput,
} from '../../src/shared/chain/functionsRequest.ts';
import { attestationFile, evaluationReport, signAttestation } from './functions/claimFiles.ts';
import { startGateway, type LocalGateway } from './functions/gateway.ts';
import { simulate } from './functions/simulator.ts';

const registry = getAddress('0x5FbDB2315678afecb367f032d93F642f64180aa3');
const attestor = getAddress('0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512');
const domain = registryDomain(31337, registry);
const trainer = privateKeyToAccount(generatePrivateKey());
const verifierA = privateKeyToAccount(generatePrivateKey());
const verifierB = privateKeyToAccount(generatePrivateKey());
const outsider = privateKeyToAccount(generatePrivateKey());
const lineageVerifiers = [verifierA.address, verifierB.address, attestor];

let gateway: LocalGateway;
let n = 0;

beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(async () => {
  await gateway?.close();
});

/** A claim whose report is published; returns it with the report's CID. */
async function publishedClaim(reportScore?: bigint): Promise<Improvement> {
  const modelCid = `bafymodel${++n}`;
  const score = 1_234_567n;
  const evaluationCid = await gateway.add(evaluationReport(modelCid, reportScore ?? score));
  return {
    lineageId: 1n,
    parentTokenId: 0n,
    trainer: trainer.address,
    modelCid,
    metadataCid: `bafymeta${n}`,
    evaluationCid,
    score,
    nonce: 0n,
    deadline: 1_900_000_000n,
  };
}

async function publishAttestation(
  claim: Improvement,
  signer = verifierA,
  o: { as?: string; recomputedScore?: bigint; signedClaim?: Improvement } = {},
): Promise<string> {
  const signature: Hex = await signAttestation(signer, domain, o.signedClaim ?? claim);
  return gateway.add(
    attestationFile({
      domain,
      claim,
      verifier: o.as ?? signer.address,
      signature,
      ...(o.recomputedScore !== undefined ? { recomputedScore: o.recomputedScore } : {}),
    }),
  );
}

function args(claim: Improvement, attestationCids: string[], o: Partial<AttestorArgsInput> = {}): string[] {
  return attestorArgs({
    chainId: domain.chainId,
    registry,
    attestor,
    gatewayUrl: gateway.url,
    metricName: 'bits_per_byte',
    verifiers: lineageVerifiers,
    minSignatures: 1,
    scoreTolerance: 1_000,
    claim,
    attestationCids,
    ...o,
  });
}

describe('attestClaim.js in the Functions simulator', () => {
  it('returns the score, the attestation digest and the signature count when report and attestations agree', async () => {
    const claim = await publishedClaim();
    const cids = [
      await publishAttestation(claim, verifierA),
      await publishAttestation(claim, verifierB, { recomputedScore: claim.score + 400n }),
    ];
    const r = await simulate(args(claim, cids, { minSignatures: 2 }));
    expect(r.error, r.output).toBeNull();
    const decoded = decodeAttestorResponse(r.response!);
    expect(decoded.score).toBe(claim.score);
    expect(decoded.digest).toBe(attestationDigest(domain, claim));
    expect(decoded.signatures).toBe(2n);
  });

  it('refuses a claim whose score is not the published report’s', async () => {
    const claim = await publishedClaim(1_300_000n);
    const r = await simulate(args(claim, [await publishAttestation(claim)]));
    expect(r.response).toBeNull();
    expect(r.error).toBe('score-mismatch: report 1300000, claim 1234567');
  });

  it('refuses an attestation whose verifier recomputed a score beyond the tolerance', async () => {
    const claim = await publishedClaim();
    const cid = await publishAttestation(claim, verifierA, { recomputedScore: claim.score + 5_000n });
    const r = await simulate(args(claim, [cid]));
    expect(r.error).toBe(
      `score-mismatch: ${verifierA.address.toLowerCase()} recomputed ${claim.score + 5_000n}`,
    );
  });

  it('refuses a bad signature: signed by someone else, or signed for another claim', async () => {
    const claim = await publishedClaim();
    const forged = await publishAttestation(claim, outsider, { as: verifierA.address });
    const r1 = await simulate(args(claim, [forged]));
    expect(r1.error).toBe(`bad-signature: ${verifierA.address.toLowerCase()}`);

    const otherClaim = { ...claim, score: claim.score - 1n };
    const stale = await publishAttestation(claim, verifierB, { signedClaim: otherClaim });
    const r2 = await simulate(args(claim, [stale]));
    expect(r2.error).toBe(`bad-signature: ${verifierB.address.toLowerCase()}`);
  });

  it('refuses an attestation by an account that is not a verifier of the lineage', async () => {
    const claim = await publishedClaim();
    const r = await simulate(args(claim, [await publishAttestation(claim, outsider)]));
    expect(r.error).toBe(`unknown-verifier: ${outsider.address.toLowerCase()}`);
  });

  it('refuses when a CID cannot be fetched from the gateway', async () => {
    const claim = await publishedClaim();
    const missing = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
    const r = await simulate(args(claim, [missing]));
    expect(r.error).toBe(`missing-content: ${missing} (404)`);
    const noReport = { ...claim, evaluationCid: missing };
    const r2 = await simulate(args(noReport, [await publishAttestation(noReport)]));
    expect(r2.error).toBe(`missing-content: ${missing} (404)`);
  });

  it('refuses an attestation of another claim, and too few valid signatures', async () => {
    const claim = await publishedClaim();
    const other = await publishedClaim();
    const r1 = await simulate(args(claim, [await publishAttestation(other)]));
    expect(r1.error).toMatch(/^attestation-mismatch: bafkrei[a-z0-9]+ attests another claim$/);
    const r2 = await simulate(args(claim, [await publishAttestation(claim)], { minSignatures: 2 }));
    expect(r2.error).toBe('too-few-signatures: 1 of 2');
  });
});
