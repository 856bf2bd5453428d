import type { Address } from 'viem';
import type { ChainlinkRequestData } from '../../../../shared/api/chainlink.ts';
import { functionsAttestorAbi } from '../../../../shared/chain/abis.ts';
import { improvementFromJson } from '../../../../shared/chain/eip712.ts';
import type { WriteRequest } from '../wallet/useWalletActions.ts';

/** What the wallet's confirmation says about FunctionsAttestor.requestAttestation, in plain words. */
export function requestAttestationWrite(d: ChainlinkRequestData): WriteRequest {
  const n = d.attestationCids.length;
  return {
    title: 'Ask Chainlink to attest your claim',
    summary:
      `The FunctionsAttestor sends a Chainlink Functions request: the DON “${d.donId}” fetches this claim’s ` +
      `evaluation report and the ${n} verifier attestation${n === 1 ? '' : 's'} below from IPFS, checks that ` +
      'they agree and that the signatures are the lineage’s verifiers’, and only then attests the claim on chain. ' +
      `The DON is paid in LINK by Functions subscription ${d.subscriptionId}; you pay only this transaction’s gas.`,
    fields: [
      { label: 'Contract', value: `FunctionsAttestor ${d.attestor}`, mono: true },
      { label: 'Function', value: 'requestAttestation(claim, attestationCids)' },
      { label: 'Model', value: d.improvement.modelCid, mono: true },
      { label: 'Evaluation report', value: d.improvement.evaluationCid, mono: true },
      { label: 'Score claimed (score units)', value: d.improvement.score },
      { label: 'Attestations checked', value: d.attestationCids.join(', '), mono: true },
      {
        label: 'Paid by',
        value: `subscription ${d.subscriptionId} (LINK), callback gas ${d.callbackGasLimit}`,
      },
    ],
    address: d.attestor as Address,
    abi: functionsAttestorAbi,
    functionName: d.functionName,
    args: [improvementFromJson(d.improvement), d.attestationCids],
  };
}
