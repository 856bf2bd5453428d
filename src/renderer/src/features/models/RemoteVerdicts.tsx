import { useEffect, useRef, useState } from 'react';
import type { Address, Hex } from 'viem';
import { modelRegistryAbi } from '../../../../shared/chain/abis.ts';
import { ErrorNotice } from '../../components/StatusViews.tsx';
import { formatTime, shortAddress } from '../../util/format.ts';
import { useWalletActions } from '../wallet/useWalletActions.ts';
import { useClaimNetworkStatusQuery } from './watcherApi.ts';

/**
 * The trainer's view of remote verifiers: announce the claim on chain (the wallet sends
 * `requestVerification`), then watch each verifier's answer arrive — attested on chain, signed, or refused
 * with its reason — and, when chosen, submit as soon as the quorum is reached.
 */
export function RemoteVerdicts({
  claimId,
  registry,
  lineageId,
  canSubmit,
  onSubmit,
}: {
  claimId: string;
  registry: string;
  lineageId: number;
  canSubmit: boolean;
  onSubmit: () => void;
}) {
  const status = useClaimNetworkStatusQuery(claimId, { pollingInterval: 3_000 });
  const { write } = useWalletActions();
  const [auto, setAuto] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [sending, setSending] = useState(false);
  const submitted = useRef(false);
  const s = status.data;
  const quorumReached = Boolean(s && s.attestations >= s.quorum);
  useEffect(() => {
    if (auto && quorumReached && canSubmit && !submitted.current) {
      submitted.current = true;
      onSubmit();
    }
  }, [auto, quorumReached, canSubmit, onSubmit]);

  const announce = async () => {
    if (!s) return;
    setSending(true);
    setError(null);
    try {
      await write({
        title: 'Announce the claim to the lineage’s verifiers',
        summary:
          'An event on chain that the lineage’s verifiers follow: they fetch the claim by its CID, re-run it and attest on chain (or say why not). It obliges nobody and costs about 29 k gas.',
        fields: [
          { label: 'Contract', value: `ModelRegistry ${registry}`, mono: true },
          { label: 'Function', value: 'requestVerification(lineageId, attestationDigest, claimCid)' },
          { label: 'Claim CID', value: s.claimCid, mono: true },
        ],
        address: registry as Address,
        abi: modelRegistryAbi,
        functionName: 'requestVerification',
        args: [BigInt(lineageId), s.attestationDigest as Hex, s.claimCid],
      });
      await status.refetch();
    } catch (e) {
      setError(e);
    } finally {
      setSending(false);
    }
  };

  return (
    <section aria-labelledby="remote-verdicts-title">
      <h3 id="remote-verdicts-title">Verifiers on the network</h3>
      {s?.announced ? (
        <p className="muted small" role="status">
          Announced on chain in block {s.announced.blockNumber}; the lineage’s verifiers running a watcher
          pick it up by themselves.
        </p>
      ) : (
        <button type="button" className="secondary" disabled={!s || sending} onClick={() => void announce()}>
          {sending ? 'Announcing…' : 'Announce to the lineage’s verifiers'}
        </button>
      )}
      {s && s.verdicts.length > 0 ? (
        <ul aria-label="Verifiers' answers">
          {s.verdicts.map((v) => (
            <li key={`${v.verifier}-${v.kind}`} data-kind={v.kind}>
              <code title={v.verifier}>{shortAddress(v.verifier)}</code>{' '}
              {v.kind === 'declined' ? (
                <strong>refused: {v.reason}</strong>
              ) : v.kind === 'attested-on-chain' ? (
                'attested on chain'
              ) : (
                'signed an attestation'
              )}{' '}
              {v.at ? <span className="muted small">{formatTime(Date.parse(v.at))}</span> : null}
            </li>
          ))}
        </ul>
      ) : s?.announced ? (
        <p className="muted small">No answer yet.</p>
      ) : null}
      <label className="checkbox">
        <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} /> submit
        automatically when{' '}
        {s ? `${s.quorum} attestation${s.quorum === 1 ? ' is' : 's are'}` : 'the quorum is'} in
      </label>
      {error ? <ErrorNotice error={error} /> : null}
      {status.error ? <ErrorNotice error={status.error} /> : null}
    </section>
  );
}
