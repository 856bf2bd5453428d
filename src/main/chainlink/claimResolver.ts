import type { ChainlinkClaimRef } from '../../shared/api/chainlink.ts';
import { ApiError } from '../../shared/api/errors.ts';
import { improvementFromJson, type Improvement } from '../../shared/chain/eip712.ts';
import type { ProofServices } from '../claims/proofServices.ts';

/**
 * A claim for a Chainlink attestation request: this machine's claim (its Improvement and the CIDs of the
 * attestations published for it), or a claim JSON by CID or file (then the caller names the attestation
 * CIDs).
 */
export async function resolveClaim(
  proof: ProofServices,
  ref: ChainlinkClaimRef,
): Promise<{ improvement: Improvement; attestationCids: string[] }> {
  if ('claimId' in ref) {
    const c = proof.claims.get(ref.claimId);
    if (!c.improvement) {
      throw new ApiError(
        'FAILED_PRECONDITION',
        `the claim ${ref.claimId} is not signed yet (status ${c.status})`,
        {
          hint: 'Evaluate and sign it first (claims.evaluate, claims.sign).',
        },
      );
    }
    const cids = c.attestations.flatMap((a) => (a.attestationCid === null ? [] : [a.attestationCid]));
    return { improvement: improvementFromJson(c.improvement), attestationCids: cids };
  }
  const { claim } = await proof.verifier.loadClaim(ref);
  return { improvement: improvementFromJson(claim.improvement), attestationCids: [] };
}
