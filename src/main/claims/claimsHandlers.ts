import type { Address, Hex } from 'viem';
import type { claimsRequests } from '../../shared/api/claims.ts';
import type { HandlersFor } from '../rpc/dispatcher.ts';
import type { JobManager } from '../services/jobs.ts';
import type { ProofServices } from './proofServices.ts';

export function claimsHandlers(
  proof: () => ProofServices,
  jobs: JobManager,
): HandlersFor<typeof claimsRequests> {
  const claims = () => proof().claims;
  return {
    'claims.start': (p) => claims().start(p),
    'claims.signerAddress': async ({ signer }) => ({ address: await proof().chainAccess.addressOf(signer) }),
    'claims.list': ({ lineageId }) => claims().list(lineageId === undefined ? {} : { lineageId }),
    'claims.get': ({ claimId }) => claims().get(claimId),
    'claims.commitData': ({ claimId }) => claims().commitData(claimId),
    'claims.commit': ({ claimId, signer }) => claims().commit(claimId, signer),
    'claims.recordCommit': ({ claimId, txHash }) => claims().recordCommit(claimId, txHash as Hex),
    'claims.evaluate': ({ claimId }) =>
      jobs.run('claims.evaluate', `Evaluate claim ${claimId}`, (job) =>
        claims().evaluate(claimId, {
          signal: job.signal,
          onProgress: (stage, done, total, unit) => job.progress({ stage, done, total, unit }),
        }),
      ),
    'claims.typedData': ({ claimId }) => claims().typedData(claimId),
    'claims.submitSignature': ({ claimId, signature }) => claims().submitSignature(claimId, signature as Hex),
    'claims.sign': ({ claimId, signer }) => claims().sign(claimId, signer),
    'claims.attestLocally': ({ claimId, signer }) =>
      jobs.run('claims.attest', `Verify claim ${claimId}`, (job) =>
        claims().attestLocally(claimId, signer, {
          signal: job.signal,
          onProgress: (stage, done, total, unit) => job.progress({ stage, done, total, unit }),
        }),
      ),
    'claims.addAttestation': ({ claimId, attestation }) => claims().addAttestation(claimId, attestation),
    'claims.submitData': ({ claimId }) => claims().submitData(claimId),
    'claims.submit': ({ claimId, signer }) => claims().submit(claimId, signer),
    'claims.recordMint': ({ claimId, txHash }) => claims().recordMint(claimId, txHash as Hex),
    'claims.versions': ({ lineageId }) => claims().versions(lineageId),
    'verifier.check': ({ claim, verifier, maxTolerance }) =>
      jobs.run('verifier.check', 'Verify a claim', async (job) => {
        const {
          report: _r,
          improvement: _i,
          ...verdict
        } = await proof().verifier.check(claim, {
          ...(verifier ? { verifier: verifier as Address } : {}),
          maxTolerance,
          signal: job.signal,
          onProgress: (stage, done, total, unit) => job.progress({ stage, done, total, unit }),
        });
        await claims().afterVerify(verdict, null);
        return verdict;
      }),
    'verifier.attest': ({ claim, signer, maxTolerance }) =>
      jobs.run('verifier.attest', 'Verify and attest a claim', async (job) => {
        const r = await proof().verifier.attest(claim, signer, {
          maxTolerance,
          signal: job.signal,
          onProgress: (stage, done, total, unit) => job.progress({ stage, done, total, unit }),
        });
        await claims().afterVerify(
          r.verdict,
          r.attestation ? { ...r.attestation.attestation, cid: r.attestationCid } : null,
        );
        return r;
      }),
    'verifier.typedData': async ({ claim }) => {
      const { claim: file } = await proof().verifier.loadClaim(claim);
      return {
        domain: await proof().chainAccess.domain(),
        primaryType: 'Attestation' as const,
        improvement: file.improvement,
        signer: null,
      };
    },
    'verifier.submitAttestation': async ({ claim, verifier, signature, recomputed }) => {
      const r = await proof().verifier.submitAttestation(
        claim,
        verifier as Address,
        signature as Hex,
        recomputed,
      );
      await claims().afterVerify(
        {
          ok: true,
          claimCid: r.attestation.claimCid,
          lineageId: Number(r.attestation.improvement.lineageId),
          modelCid: r.attestation.improvement.modelCid,
          trainer: r.attestation.improvement.trainer,
          metric: '',
          claimed: {
            score: r.attestation.improvement.score,
            value: Number(r.attestation.improvement.score) / 1e6,
          },
          recomputed,
          tolerance: 0,
          checks: [],
          refusal: null,
        },
        { ...r.attestation.attestation, cid: r.attestationCid },
      );
      return r;
    },
    'verifier.inbox': () => claims().inbox(),
    'verifier.addToInbox': ({ claim }) => claims().addToInbox(claim),
  };
}
