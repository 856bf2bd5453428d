import { useState } from 'react';
import type { Address } from 'viem';
import { useConnection } from 'wagmi';
import type { InboxEntry, VerdictView } from '../../../../shared/api/claims.ts';
import {
  attestationTypedData,
  improvementFromJson,
  type RegistryDomain,
} from '../../../../shared/chain/eip712.ts';
import { client } from '../../api/client.ts';
import { xaiApi } from '../../api/xaiApi.ts';
import { useAppDispatch } from '../../app/hooks.ts';
import { Field } from '../../components/Field.tsx';
import { Empty, ErrorNotice, Loading } from '../../components/StatusViews.tsx';
import { formatTime, shortAddress, shortCid } from '../../util/format.ts';
import { formatScore } from '../../util/score.ts';
import { InlineJobProgress } from '../jobs/InlineJobProgress.tsx';
import { useLineagesQuery } from '../wallet/chainApi.ts';
import { useWalletActions } from '../wallet/useWalletActions.ts';
import { WalletActionError } from '../wallet/walletErrors.ts';
import { improvementFields } from './claimFields.ts';
import { useAddToInboxMutation, useInboxQuery } from './modelsApi.ts';
import { VerifierWatcherCard } from './VerifierWatcherCard.tsx';

/**
 * Claims waiting for a verifier: one click re-runs the evaluation from IPFS, checks every rule, and — only
 * if the claim holds — asks the connected wallet to sign the Attestation.
 */
export function VerifierInbox() {
  const inbox = useInboxQuery(undefined, { pollingInterval: 10_000 });
  const [add, addState] = useAddToInboxMutation();
  const [cid, setCid] = useState('');
  const me = useConnection().address;
  return (
    <>
      <VerifierWatcherCard />
      <article className="card" aria-labelledby="inbox-title">
        <h2 id="inbox-title">Claims to verify</h2>
        <p className="muted small">
          {me ? (
            <>
              Attesting as <code title={me}>{shortAddress(me)}</code>: it must be a verifier of the claim’s
              lineage.
            </>
          ) : (
            'Connect the verifier’s wallet first.'
          )}
        </p>
        {inbox.isLoading ? <Loading what="the inbox" /> : null}
        {inbox.error ? <ErrorNotice error={inbox.error} onRetry={() => void inbox.refetch()} /> : null}
        {inbox.data && inbox.data.length === 0 ? (
          <Empty title="Nothing to verify">
            Claims signed on this machine appear here; add others by their CID below.
          </Empty>
        ) : null}
        {inbox.data?.map((e) => (
          <InboxItem key={e.claimCid ?? e.claimId ?? e.modelCid} entry={e} me={me} />
        ))}
        <InlineJobProgress kind="verifier.check" label="Re-running the evaluation" />
      </article>
      <article className="card" aria-labelledby="add-claim-title">
        <h2 id="add-claim-title">Add a claim by CID</h2>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (cid.trim()) void add({ claim: { cid: cid.trim() } }).then(() => setCid(''));
          }}
        >
          <Field label="Claim CID">
            {(p) => <input {...p} value={cid} onChange={(e) => setCid(e.target.value)} placeholder="bafk…" />}
          </Field>
          <button type="submit" className="secondary" disabled={!cid.trim() || addState.isLoading}>
            Add to inbox
          </button>
        </form>
        {addState.error ? <ErrorNotice error={addState.error} /> : null}
      </article>
    </>
  );
}

function InboxItem({ entry: e, me }: { entry: InboxEntry; me: Address | undefined }) {
  const lineages = useLineagesQuery(undefined);
  const { sign } = useWalletActions();
  const dispatch = useAppDispatch();
  const lineage = lineages.data?.find((l) => l.lineageId === e.lineageId);
  const metric = lineage?.metricName ?? e.metric;
  const [busy, setBusy] = useState(false);
  const [verdict, setVerdict] = useState<VerdictView | null>(e.verdict);
  const [message, setMessage] = useState<{ ok: boolean; text: string; hint?: string } | null>(null);
  const attested = me !== undefined && e.attestedBy.some((a) => a.toLowerCase() === me.toLowerCase());

  const attest = async () => {
    if (!e.claimCid || !me) return;
    setBusy(true);
    setMessage(null);
    const claim = { cid: e.claimCid };
    try {
      const v = await client.invoke('verifier.check', { claim, verifier: me });
      setVerdict(v);
      if (!v.ok) {
        setMessage({ ok: false, text: `Not attested: ${v.refusal?.message ?? 'a check failed'}.` });
        return;
      }
      const td = await client.invoke('verifier.typedData', { claim });
      const improvement = improvementFromJson(td.improvement);
      const { signature } = await sign(
        {
          title: 'Attest this claim as a verifier',
          summary: `You vouch that model ${shortCid(td.improvement.modelCid)} scores ${formatScore(td.improvement.score, metric)} on “${lineage?.name ?? `lineage ${e.lineageId}`}”: you re-ran the evaluation and got ${v.recomputed ? formatScore(v.recomputed.score, metric) : 'the same'} (within the claim’s tolerance), and every other check held.`,
          fields: improvementFields(td.improvement, {
            lineageName: lineage?.name ?? `lineage ${e.lineageId}`,
            metricName: metric,
            registry: td.domain.verifyingContract,
            chainId: td.domain.chainId,
          }),
        },
        attestationTypedData(td.domain as RegistryDomain, improvement),
      );
      const r = await client.invoke('verifier.submitAttestation', {
        claim,
        verifier: me,
        signature,
        recomputed: v.recomputed,
      });
      setMessage({ ok: true, text: `Attested. Attestation ${shortCid(r.attestationCid)} published.` });
    } catch (err) {
      const w =
        err instanceof WalletActionError
          ? err
          : new WalletActionError((err as { message?: string }).message ?? String(err), {
              hint: (err as { hint?: string }).hint,
            });
      setMessage({ ok: false, text: w.message, hint: w.hint });
    } finally {
      setBusy(false);
      dispatch(xaiApi.util.invalidateTags(['Claims']));
    }
  };

  return (
    <div className="inbox-item" data-inbox={e.claimCid ?? e.claimId ?? ''}>
      <div className="row">
        <strong>{lineage?.name ?? `Lineage #${e.lineageId}`}</strong>
        <span>claims {formatScore(e.score, metric)}</span>
        <span className="muted small">
          model <code title={e.modelCid}>{shortCid(e.modelCid)}</code> · trainer{' '}
          <code title={e.trainer}>{shortAddress(e.trainer)}</code> · added {formatTime(Date.parse(e.addedAt))}
        </span>
      </div>
      <div className="row">
        {attested ? (
          <span className="badge badge-ok">you attested it</span>
        ) : e.claimCid ? (
          <button type="button" disabled={busy || !me} onClick={() => void attest()}>
            {busy ? 'Verifying…' : 'Re-run and attest'}
          </button>
        ) : (
          <span className="muted small">Not signed by its trainer yet.</span>
        )}
        {e.attestedBy.length > 0 ? (
          <span className="muted small">
            attested by {e.attestedBy.map((a) => shortAddress(a)).join(', ')}
          </span>
        ) : null}
      </div>
      {verdict ? <Verdict verdict={verdict} metric={metric} /> : null}
      {message ? (
        <div className={message.ok ? 'result' : 'state state-error'} role={message.ok ? 'status' : 'alert'}>
          <p>{message.text}</p>
          {message.hint ? <p className="hint">{message.hint}</p> : null}
        </div>
      ) : null}
    </div>
  );
}

function Verdict({ verdict: v, metric }: { verdict: VerdictView; metric: string }) {
  return (
    <details className="verdict" open={!v.ok}>
      <summary>
        Last check:{' '}
        <strong className={v.ok ? 'ok-text' : 'error-text'}>{v.ok ? 'the claim holds' : 'refused'}</strong>
        {v.recomputed ? ` · recomputed ${formatScore(v.recomputed.score, metric)}` : ''}
      </summary>
      <ul className="checks">
        {v.checks.map((c, i) => (
          <li key={i} className={c.ok ? 'ok-text' : 'error-text'}>
            {c.ok ? '✓' : '✗'} {c.message}
          </li>
        ))}
      </ul>
    </details>
  );
}
