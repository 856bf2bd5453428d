import { useState } from 'react';
import type { SignerSpec } from '../../../../shared/claims/signer.ts';
import { Field } from '../../components/Field.tsx';
import { ErrorNotice } from '../../components/StatusViews.tsx';
import { formatTime, shortAddress, shortCid } from '../../util/format.ts';
import { formatScore } from '../../util/score.ts';
import { useStartWatcherMutation, useStopWatcherMutation, useWatcherStatusQuery } from './watcherApi.ts';

type SignerKind = 'keyEnv' | 'keystore' | 'devAccount';

/**
 * The verifier that runs by itself: a switch starts the main process's watcher, which finds claims announced on
 * chain, re-runs them from IPFS and attests on chain with a local key (it signs unattended, so not with the
 * wallet). The queue and every verdict with its reason stay visible (and persist across restarts).
 */
export function VerifierWatcherCard() {
  const status = useWatcherStatusQuery(undefined, { pollingInterval: 2_000 });
  const [start, startState] = useStartWatcherMutation();
  const [stop, stopState] = useStopWatcherMutation();
  const [kind, setKind] = useState<SignerKind>('keyEnv');
  const [keyEnv, setKeyEnv] = useState('XAI_LINK_VERIFIER_KEY');
  const [keystore, setKeystore] = useState('');
  const [passwordEnv, setPasswordEnv] = useState('');
  const [devAccount, setDevAccount] = useState(2);
  const [lineages, setLineages] = useState('');
  const s = status.data;
  const running = Boolean(s?.running);
  const lineageIds = lineages
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  const signer: SignerSpec =
    kind === 'devAccount'
      ? { devAccount }
      : kind === 'keystore'
        ? { keystore, ...(passwordEnv ? { passwordEnv } : {}) }
        : { keyEnv };
  const busy = startState.isLoading || stopState.isLoading || Boolean(s?.stopping);
  return (
    <article className="card" aria-labelledby="watcher-title">
      <h2 id="watcher-title">Verify announced claims automatically</h2>
      <p className="muted small">
        Follows claims announced on chain for your lineages, fetches claim, model and evaluation text over
        IPFS, re-runs the evaluation, and attests on chain only when the claim holds (otherwise publishes the
        reason). Turn IPFS networking on so trainers’ models can be fetched.
      </p>
      {!running ? (
        <div className="form-grid">
          <Field label="Attest with">
            {(p) => (
              <select {...p} value={kind} onChange={(e) => setKind(e.target.value as SignerKind)}>
                <option value="keyEnv">a key in an environment variable of the app</option>
                <option value="keystore">an encrypted keystore file</option>
                <option value="devAccount">a dev account (embedded chain)</option>
              </select>
            )}
          </Field>
          {kind === 'keyEnv' ? (
            <Field label="Environment variable" hint="Read by the app when it attests; never stored.">
              {(p) => <input {...p} value={keyEnv} onChange={(e) => setKeyEnv(e.target.value)} />}
            </Field>
          ) : null}
          {kind === 'keystore' ? (
            <>
              <Field label="Keystore file">
                {(p) => <input {...p} value={keystore} onChange={(e) => setKeystore(e.target.value)} />}
              </Field>
              <Field label="Password environment variable">
                {(p) => <input {...p} value={passwordEnv} onChange={(e) => setPasswordEnv(e.target.value)} />}
              </Field>
            </>
          ) : null}
          {kind === 'devAccount' ? (
            <Field label="Dev account">
              {(p) => (
                <input
                  {...p}
                  type="number"
                  min={0}
                  max={9}
                  value={devAccount}
                  onChange={(e) => setDevAccount(Number(e.target.value))}
                />
              )}
            </Field>
          ) : null}
          <Field
            label="Lineages"
            hint="Lineage ids separated by commas; empty: every lineage this key verifies."
          >
            {(p) => <input {...p} value={lineages} onChange={(e) => setLineages(e.target.value)} />}
          </Field>
        </div>
      ) : null}
      <div className="row">
        <button
          type="button"
          role="switch"
          aria-checked={running}
          className={running ? '' : 'secondary'}
          disabled={busy}
          onClick={() => void (running ? stop(undefined) : start({ signer, lineages: lineageIds }))}
        >
          {s?.stopping
            ? 'Stopping after the current step…'
            : running
              ? 'Watching — stop'
              : 'Stopped — start watching'}
        </button>
        {s && running ? (
          <span className="muted small">
            as <code title={s.verifier ?? ''}>{shortAddress(s.verifier ?? '')}</code> · block{' '}
            {s.cursor ?? '–'} of {s.latestBlock ?? '–'} · {s.ignored} ignored
          </span>
        ) : null}
      </div>
      {startState.error ? <ErrorNotice error={startState.error} /> : null}
      {stopState.error ? <ErrorNotice error={stopState.error} /> : null}
      {s?.error ? <p className="field-error">{s.error}</p> : null}
      {s && s.jobs.length > 0 ? (
        <table className="table" aria-label="Watcher queue and verdicts">
          <thead>
            <tr>
              <th>Claim</th>
              <th>Lineage</th>
              <th>Status</th>
              <th>Scores (claimed / re-run)</th>
              <th>Why</th>
              <th>Finished</th>
            </tr>
          </thead>
          <tbody>
            {[...s.jobs].reverse().map((j) => (
              <tr key={j.claimCid}>
                <td>
                  <code title={j.claimCid}>{shortCid(j.claimCid)}</code>
                </td>
                <td>{j.lineageId}</td>
                <td>{j.status === 'checking' && j.step ? `checking: ${j.step}` : j.status}</td>
                <td>
                  {j.claimedScore && j.metric ? formatScore(j.claimedScore, j.metric) : '–'} /{' '}
                  {j.recomputedScore && j.metric ? formatScore(j.recomputedScore, j.metric) : '–'}
                </td>
                <td>
                  {j.reason ? `${j.reason}: ${j.message ?? ''}` : j.txHash ? `tx ${shortCid(j.txHash)}` : ''}
                </td>
                <td>{j.finishedAt ? formatTime(Date.parse(j.finishedAt)) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </article>
  );
}
