/**
 * The claim flow and verifier mode end to end, with the real things: anvil (embedded chain, deployed
 * contracts), Helia (the embedded IPFS node), ONNX Runtime and the engine's GPT export. A trainer proves a
 * model; a verifier re-runs it from the CIDs and attests; the token is minted. Tampered claims (changed
 * score, changed model CID, wrong signer, an inflated score the trainer signed itself) are refused by
 * `verify` and by the contract; unsafe or missing models and stale parents are explained.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Address, Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineageParamsSchema } from '../../shared/api/chain.ts';
import { modelRegistryAbi } from '../../../contracts/generated/index.ts';
import {
  attestationDigest,
  commitmentOf,
  improvementFromJson,
  improvementToJson,
  type Improvement,
} from '../../shared/chain/eip712.ts';
import type { ClaimFile } from '../../shared/claims/claim.ts';
import { tokenMetadataSchema } from '../../shared/claims/metadata.ts';
import { encodeOnnxModel, OnnxDataType } from '../../shared/onnx/onnxModel.ts';
import { charTokenizerFromText } from '../../shared/tokenizers/tokenizer.ts';
import { createAppCore, createLocalClient } from '../rpc/localClient.ts';
import { createServices, type AppServices } from '../services/services.ts';
import {
  bundledShakespeare,
  engineGptOnnx,
  TINY_GPT,
  writeTestModelPackage,
} from '../eval/testing/models.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'xai-claims-'));
let services: AppServices;
const text = bundledShakespeare().slice(0, 12_000);
const tokenizer = charTokenizerFromText(text);
const cfg = { ...TINY_GPT, vocabSize: tokenizer.vocabSize };

/** A model package (engine GPT, seed) added to IPFS; returns its CID. */
async function publishModel(name: string, onnx: Uint8Array): Promise<string> {
  const dir = join(dataDir, 'packages', name);
  await writeTestModelPackage(dir, { cfg, tokenizer, onnx, name, seed: 1 });
  return (await services.ipfs.addPath(dir, { pin: true })).cid;
}

function expectRefusal(
  verdict: { ok: boolean; refusal: { reason: string; message: string } | null },
  reason: string,
): void {
  expect(verdict.ok, JSON.stringify(verdict.refusal)).toBe(false);
  expect(verdict.refusal?.reason).toBe(reason);
}

let lineageId: number;
let dev: Address[];
let textCid: string;
let honest: { claimId: string; claimCid: string; file: ClaimFile };

beforeAll(async () => {
  services = createServices({ dataDir, entryPoint: 'cli' });
  textCid = await services.ipfs.addBytes(new TextEncoder().encode(text), { pin: true });
  const info = await services.chain.contracts();
  dev = info.devAccounts as Address[];
  ({ lineageId } = await services.chain.createLineage(
    lineageParamsSchema.parse({
      name: 'claims test',
      evalDatasetCid: textCid,
      genesisScore: '8000000',
      minCommitAge: 1,
      verifiers: [dev[2]],
      quorum: 1,
    }),
    { devAccount: 0 },
  ));
}, 120_000);

afterAll(async () => {
  await services?.dispose();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('claim flow and verifier', () => {
  it('takes a model from commit to a signed claim with its evaluation, image and metadata on IPFS', async () => {
    const claims = services.proof.claims;
    const modelCid = await publishModel('honest', engineGptOnnx(cfg, 1));
    const started = await claims.start({
      lineageId,
      modelCid,
      trainer: dev[1]!,
      tolerance: 1000,
      deadlineSeconds: 3600,
    });
    expect(started.status).toBe('created');
    await expect(claims.evaluate(started.id)).rejects.toThrow(/commit the model first/);
    const committed = await claims.commit(started.id, { devAccount: 1 });
    expect(committed.commit!.committedAt).toBeGreaterThan(0);
    const evaluated = await claims.evaluate(started.id);
    expect(evaluated.status).toBe('evaluated');
    // an untrained char model spends about log2(vocab) bits per character
    expect(evaluated.evaluation!.bitsPerByte).toBeGreaterThan(5);
    expect(evaluated.evaluation!.bitsPerByte).toBeLessThan(7);
    const meta = tokenMetadataSchema.parse(
      JSON.parse(
        new TextDecoder().decode((await services.ipfs.catBytes(evaluated.evaluation!.metadataCid)).bytes),
      ),
    );
    expect(meta.properties).toMatchObject({
      modelCid,
      lineageId,
      version: 1,
      parentTokenId: 0,
      score: evaluated.evaluation!.score,
      evaluationTextCid: textCid,
    });
    expect(meta.image).toBe(`ipfs://${evaluated.evaluation!.imageCid}`);
    const svg = new TextDecoder().decode(
      (await services.ipfs.catBytes(evaluated.evaluation!.imageCid)).bytes,
    );
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('<path d="M');

    // The wallet path: typed data out, signature in (a wrong signer is refused).
    const td = await claims.typedData(started.id);
    expect(td.signer).toBe(dev[1]);
    const wrong = await services.proof.chainAccess.signImprovement(
      { devAccount: 3 },
      improvementFromJson(td.improvement),
    );
    await expect(claims.submitSignature(started.id, wrong)).rejects.toThrow(/not .*signature of this claim/);
    const signed = await claims.sign(started.id, { devAccount: 1 });
    expect(signed.status).toBe('signed');
    honest = { claimId: started.id, claimCid: signed.claimCid!, file: claims.claimFile(started.id) };
  });

  it('a verifier reproduces the honest claim exactly; a trainer cannot attest itself; a non-verifier is refused', async () => {
    const v = await services.proof.verifier.check({ cid: honest.claimCid }, { verifier: dev[2] });
    expect(v.refusal).toBeNull();
    expect(v.ok).toBe(true);
    expect(v.recomputed!.score).toBe(v.claimed.score);
    expect(v.checks.map((c) => c.id)).toEqual([
      'chain',
      'signature',
      'lineage',
      'verifier',
      'parent',
      'commitment',
      'model',
      'score',
      'improvement',
      'metadata',
    ]);
    expectRefusal(
      await services.proof.verifier.check({ cid: honest.claimCid }, { verifier: dev[1] }),
      'not-a-verifier',
    );
    expectRefusal(
      await services.proof.verifier.check({ cid: honest.claimCid }, { verifier: dev[4] }),
      'not-a-verifier',
    );
  });

  it('serves the UI through the API contract: typed data, verdicts, inbox, inspection (results validated)', async () => {
    const client = createLocalClient(createAppCore(services), 'cli');
    const td = await client.invoke('claims.typedData', { claimId: honest.claimId });
    expect(td).toMatchObject({
      primaryType: 'Improvement',
      signer: dev[1],
      domain: { name: 'XAI-Link', version: '1', chainId: 31337 },
    });
    expect(await client.invoke('claims.signerAddress', { signer: { devAccount: 2 } })).toEqual({
      address: dev[2],
    });
    const verdict = await client.invoke('verifier.check', {
      claim: { cid: honest.claimCid },
      verifier: dev[2]!,
    });
    expect(verdict.ok).toBe(true);
    const inbox = await client.invoke('verifier.inbox', {});
    expect(inbox.find((e) => e.claimCid === honest.claimCid)).toMatchObject({
      claimId: honest.claimId,
      verdict: { ok: true },
    });
    const inspected = await client.invoke('eval.inspect', {
      model: { cid: honest.file.improvement.modelCid },
    });
    expect(inspected.ok).toBe(true);
    expect(inspected.facts!.ops).toHaveProperty('com.microsoft:FusedMatMul');
    await expect(client.invoke('claims.get', { claimId: 'claim-nope' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      client.invoke('claims.commit', {
        claimId: honest.claimId,
        signer: { keyEnv: 'lower-case not allowed' },
      } as never),
    ).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
    });
  });

  it('refuses tampered claims in verify and in the contract', async () => {
    const verifier = services.proof.verifier;
    const chainAccess = services.proof.chainAccess;
    const base = honest.file;
    const honestImp = improvementFromJson(base.improvement);
    const honestAttestation = {
      verifier: dev[2]!,
      signature: await chainAccess.signAttestation({ devAccount: 2 }, honestImp),
    };
    const tamper = (patch: Partial<Improvement>, signature = base.trainerSignature): ClaimFile => ({
      ...base,
      improvement: improvementToJson({ ...honestImp, ...patch }),
      trainerSignature: signature,
    });
    // The commit must be older than the lineage's minimum age for the contract to look further.
    await chainAccess.waitForChainTime(services.proof.claims.get(honest.claimId).commit!.claimableAt);
    const submit = (f: ClaimFile, attestations = [honestAttestation]) =>
      chainAccess.claim(
        improvementFromJson(f.improvement),
        f.salt as Hex,
        f.trainerSignature as Hex,
        attestations,
        { devAccount: 1 },
      );

    // 1. A changed score (better than measured) with the original signature.
    const betterScore = tamper({ score: honestImp.score - 200_000n });
    expectRefusal(await verifier.check({ json: betterScore }), 'bad-signature');
    await expect(submit(betterScore)).rejects.toThrow(/InvalidTrainerSignature/);

    // 2. The trainer itself signs an inflated score: the signature is fine, the re-run is not.
    const inflatedImp = { ...honestImp, score: honestImp.score - 200_000n };
    const inflated = tamper(
      { score: inflatedImp.score },
      await chainAccess.signImprovement({ devAccount: 1 }, inflatedImp),
    );
    const v2 = await verifier.check({ json: inflated });
    expectRefusal(v2, 'score-mismatch');
    expect(v2.refusal!.message).toMatch(/re-run gives/);
    // …and without a verifier's attestation of exactly this claim, the contract refuses it.
    await expect(submit(inflated)).rejects.toThrow(/InvalidAttestation/);
    await expect(submit(inflated, [])).rejects.toThrow(/QuorumNotMet/);

    // 3. A changed model CID: with the old signature, or re-signed by the trainer but never committed.
    const otherCid = await publishModel('other', engineGptOnnx(cfg, 2));
    const swapped = tamper({ modelCid: otherCid });
    expectRefusal(await verifier.check({ json: swapped }), 'bad-signature');
    await expect(submit(swapped)).rejects.toThrow(/InvalidTrainerSignature/);
    const swappedImp = { ...honestImp, modelCid: otherCid };
    const resigned = tamper(
      { modelCid: otherCid },
      await chainAccess.signImprovement({ devAccount: 1 }, swappedImp),
    );
    expectRefusal(await verifier.check({ json: resigned }), 'no-commitment');
    await expect(submit(resigned)).rejects.toThrow(/CommitmentNotFound/);

    // 4. The wrong signer: someone else signs the trainer's claim.
    const forged = tamper({}, await chainAccess.signImprovement({ devAccount: 3 }, honestImp));
    expectRefusal(await verifier.check({ json: forged }), 'bad-signature');
    await expect(submit(forged)).rejects.toThrow(/InvalidTrainerSignature/);
  });

  it('refuses a model with a disallowed operator, and a model that is not available', async () => {
    const verifier = services.proof.verifier;
    const chainAccess = services.proof.chainAccess;
    const evil = encodeOnnxModel({
      opsets: [{ domain: '', version: 18 }],
      graph: {
        name: 'evil',
        nodes: [{ opType: 'RandomUniformLike', inputs: ['input_ids'], outputs: ['logits'] }],
        inputs: [{ name: 'input_ids', elemType: OnnxDataType.INT64, shape: ['batch', 'seq'] }],
        outputs: [{ name: 'logits', elemType: OnnxDataType.FLOAT, shape: ['batch', 'seq', cfg.vocabSize] }],
      },
    });
    const evilCid = await publishModel('evil', evil);
    await expect(
      services.proof.claims.start({
        lineageId,
        modelCid: evilCid,
        trainer: dev[1]!,
        tolerance: 1000,
        deadlineSeconds: 3600,
      }),
    ).rejects.toThrow(/RandomUniformLike/);
    const missingCid = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
    for (const [modelCid, reason] of [
      [evilCid, 'disallowed-operator'],
      [missingCid, 'missing-content'],
    ] as const) {
      const salt = `0x${'11'.repeat(31)}${reason === 'missing-content' ? '01' : '02'}` as Hex;
      await chainAccess.commit(commitmentOf(modelCid, dev[1]!, salt), { devAccount: 1 });
      const imp = { ...improvementFromJson(honest.file.improvement), modelCid };
      const claim: ClaimFile = {
        ...honest.file,
        salt,
        improvement: improvementToJson(imp),
        trainerSignature: await chainAccess.signImprovement({ devAccount: 1 }, imp),
      };
      const v = await verifier.check({ json: claim });
      expectRefusal(v, reason);
      if (reason === 'disallowed-operator') expect(v.refusal!.message).toMatch(/RandomUniformLike/);
    }
  });

  it('counts an attestation recorded on chain (empty signature) only once the verifier recorded it', async () => {
    const chainAccess = services.proof.chainAccess;
    const claim = improvementFromJson(honest.file.improvement);
    const onChain = { verifier: dev[4]!, signature: '0x' as Hex };
    expect(await chainAccess.verifyAttestationSignature(claim, onChain)).toBe(false);
    // Any account (an EOA here; the Chainlink FunctionsAttestor in production) may record an attestation.
    const wallet = await services.chain.walletFor({ devAccount: 4 });
    const hash = await wallet.writeContract({
      address: (await chainAccess.info()).registry as Address,
      abi: modelRegistryAbi,
      functionName: 'attest',
      args: [attestationDigest(await chainAccess.domain(), claim)],
    });
    await (await chainAccess.client()).waitForTransactionReceipt({ hash });
    expect(await chainAccess.verifyAttestationSignature(claim, onChain)).toBe(true);
    // Recorded for this claim only.
    expect(await chainAccess.verifyAttestationSignature({ ...claim, score: claim.score - 1n }, onChain)).toBe(
      false,
    );
  });

  it('attests, mints, and then refuses the spent claim (stale parent, one CID one token)', async () => {
    const claims = services.proof.claims;
    const { verdict, claim } = await claims.attestLocally(honest.claimId, { devAccount: 2 });
    expect(verdict.ok).toBe(true);
    expect(claim.attestations).toHaveLength(1);
    expect(claim.attestations[0]!.attestationCid).toBeTruthy();
    const minted = await claims.submit(honest.claimId, { devAccount: 1 });
    expect(minted.status).toBe('minted');
    const token = await services.chain.token(minted.mint!.tokenId);
    expect(token).toMatchObject({
      lineageId,
      version: 1,
      modelCid: honest.file.improvement.modelCid,
      score: honest.file.improvement.score,
      owner: dev[1],
    });
    expect(token.tokenURI).toBe(`ipfs://${honest.file.improvement.metadataCid}`);
    // Submitting again is a no-op on this machine; on chain the CID is spent.
    expect((await claims.submit(honest.claimId, { devAccount: 1 })).mint!.tokenId).toBe(minted.mint!.tokenId);
    expectRefusal(
      await services.proof.verifier.check({ cid: honest.claimCid }, { verifier: dev[2] }),
      'stale-parent',
    );
    const versions = await createLocalClient(createAppCore(services), 'cli').invoke('claims.versions', {
      lineageId,
    });
    expect(versions).toHaveLength(1);
    expect(versions[0]!.evaluation?.result.scores.bits_per_byte).toBe(token.score);
  });
});
