import { useEffect, useState } from 'react';
import type { Address, Hex } from 'viem';
import { useConnection } from 'wagmi';
import type { ClaimRecord } from '../../../../shared/api/claims.ts';
import { modelRegistryAbi } from '../../../../shared/chain/abis.ts';
import {
  improvementFromJson,
  improvementTypedData,
  type RegistryDomain,
} from '../../../../shared/chain/eip712.ts';
import { client } from '../../api/client.ts';
import { xaiApi } from '../../api/xaiApi.ts';
import { useAppDispatch } from '../../app/hooks.ts';
import { hrefFor } from '../../app/router.ts';
import { CopyableValue } from '../../components/CopyButton.tsx';
import { Field } from '../../components/Field.tsx';
import { ErrorNotice, Loading } from '../../components/StatusViews.tsx';
import { formatDuration, shortAddress, shortCid } from '../../util/format.ts';
import { formatScore } from '../../util/score.ts';
import { InlineJobProgress } from '../jobs/InlineJobProgress.tsx';
import { useLineageQuery } from '../wallet/chainApi.ts';
import { useWalletActions } from '../wallet/useWalletActions.ts';
import { useContracts } from '../wallet/WalletProvider.tsx';
import { WalletActionError } from '../wallet/walletErrors.ts';
import { RemoteVerdicts } from './RemoteVerdicts.tsx';
import { ChainlinkOption } from './ChainlinkOption.tsx';
import { ClaimStatusBadge } from './ClaimsCard.tsx';
import { improvementFields } from './claimFields.ts';
import { useClaimQuery } from './modelsApi.ts';

const STEPS = ['Commit', 'Evaluate', 'Sign', 'Attestations', 'Submit', 'Minted'] as const;

function currentStep(c: ClaimRecord): number {
  if (c.mint) return 5;
  if (c.status === 'signed') return c.attestations.length >= c.quorum ? 4 : 3;
  if (c.status === 'evaluated') return 2;
  if (c.status === 'committed') return 1;
  return 0;
}

interface StepError {
  message: string;
  hint?: string;
}

function asStepError(e: unknown): StepError {
  if (e instanceof WalletActionError) return { message: e.message, hint: e.hint };
  if (e && typeof e === 'object' && 'message' in e) {
    const x = e as { message: string; hint?: string };
    return { message: x.message, hint: x.hint };
  }
  return { message: String(e) };
}

/**
 * The claim of an improvement, step by step: commit → evaluate → sign in the wallet → collect attestations →
 * submit → minted. Each step is recorded by main, so the wizard resumes where the claim stands.
 */
export function ClaimWizard({ claimId }: { claimId: string }) {
  const q = useClaimQuery(claimId);
  const c = q.data;
  const lineage = useLineageQuery(c?.lineageId ?? 0, { skip: !c });
  return (
    <>
      {q.isLoading ? <Loading what="the claim" /> : null}
      {q.error ? <ErrorNotice error={q.error} onRetry={() => void q.refetch()} /> : null}
      {c ? (
        <>
          <div className="card">
            <div className="card-head">
              <h2>
                {c.model.name} in {lineage.data ? `“${lineage.data.name}”` : `lineage #${c.lineageId}`}
              </h2>
              <ClaimStatusBadge status={c.status} />
            </div>
            <dl className="kv">
              <dt>Model</dt>
              <dd>
                <CopyableValue value={c.model.cid} display={shortCid(c.model.cid)} what="model CID" />
              </dd>
              <dt>Trainer</dt>
              <dd>
                <code>{c.trainer}</code>
              </dd>
              {c.model.pipelineCid ? (
                <>
                  <dt>Pipeline</dt>
                  <dd data-testid="claim-pipeline">
                    <CopyableValue value={c.model.pipelineCid} what="pipeline CID" />{' '}
                    <span className="muted small">goes into the token’s metadata</span>
                  </dd>
                </>
              ) : null}
              {c.claimCid ? (
                <>
                  <dt>Claim</dt>
                  <dd>
                    <CopyableValue value={c.claimCid} what="claim CID" />{' '}
                    <span className="muted small">send this CID to the verifiers</span>
                  </dd>
                </>
              ) : null}
            </dl>
            <ol className="steps" aria-label="Claim steps">
              {STEPS.map((s, i) => {
                const at = currentStep(c);
                const state = i < at || c.mint ? 'done' : i === at ? 'current' : 'todo';
                return (
                  <li
                    key={s}
                    className={`step step-${state}`}
                    aria-current={state === 'current' ? 'step' : undefined}
                  >
                    <span className="step-num" aria-hidden="true">
                      {state === 'done' ? '✓' : i + 1}
                    </span>
                    {s}
                    <span className="visually-hidden">
                      {state === 'done' ? ' (done)' : state === 'current' ? ' (current step)' : ''}
                    </span>
                  </li>
                );
              })}
            </ol>
            {c.error ? (
              <div className="state state-error" role="alert">
                <p>{c.error}</p>
              </div>
            ) : null}
          </div>
          {lineage.data ? (
            <StepPanel
              claim={c}
              lineageName={lineage.data.name}
              metricName={lineage.data.metricName}
              onChanged={() => void q.refetch()}
            />
          ) : lineage.error ? (
            <ErrorNotice error={lineage.error} />
          ) : null}
        </>
      ) : null}
    </>
  );
}

function StepPanel({
  claim: c,
  lineageName,
  metricName,
  onChanged,
}: {
  claim: ClaimRecord;
  lineageName: string;
  metricName: string;
  onChanged: () => void;
}) {
  const contracts = useContracts();
  const me = useConnection().address;
  const { write, sign } = useWalletActions();
  const dispatch = useAppDispatch();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<StepError | null>(null);
  const [attCid, setAttCid] = useState('');
  const step = currentStep(c);
  const now = useNow();

  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(asStepError(e));
    } finally {
      setBusy(false);
      dispatch(xaiApi.util.invalidateTags(['Claims']));
      onChanged();
    }
  };

  const commit = () =>
    run(async () => {
      const data = await client.invoke('claims.commitData', { claimId: c.id });
      const receipt = await write({
        title: 'Commit your model (step 1 of the claim)',
        summary:
          'You publish a fingerprint of your model — a hash of its CID, your address and a secret salt — not the model itself. It proves you had this model first; the CID is revealed only when you claim, so nobody can copy it before.',
        fields: [
          { label: 'Contract', value: `ModelRegistry ${data.registry}`, mono: true },
          { label: 'Function', value: 'commit(commitment)' },
          { label: 'Commitment', value: data.commitment, mono: true },
          { label: 'Model (kept secret until the claim)', value: c.model.cid, mono: true },
        ],
        address: data.registry as Address,
        abi: modelRegistryAbi,
        functionName: 'commit',
        args: [data.commitment as Hex],
      });
      await client.invoke('claims.recordCommit', { claimId: c.id, txHash: receipt.transactionHash });
    });

  const evaluate = () => run(() => client.invoke('claims.evaluate', { claimId: c.id }));

  const signClaim = () =>
    run(async () => {
      const td = await client.invoke('claims.typedData', { claimId: c.id });
      if (me && td.signer && td.signer.toLowerCase() !== me.toLowerCase()) {
        throw new WalletActionError(`The claim must be signed by its trainer ${shortAddress(td.signer)}.`, {
          hint: 'Switch to that account on the Wallet page.',
        });
      }
      const improvement = improvementFromJson(td.improvement);
      const { signature } = await sign(
        {
          title: 'Sign your improvement claim',
          summary: `You state that model ${shortCid(td.improvement.modelCid)} scores ${formatScore(td.improvement.score, metricName)} on the evaluation of “${lineageName}” and improves on its ${td.improvement.parentTokenId === '0' ? 'genesis model' : `best version #${td.improvement.parentTokenId}`}. Verifiers will re-run the evaluation before vouching for it.`,
          fields: improvementFields(td.improvement, {
            lineageName,
            metricName,
            registry: td.domain.verifyingContract,
            chainId: td.domain.chainId,
          }),
        },
        improvementTypedData(td.domain as RegistryDomain, improvement),
      );
      await client.invoke('claims.submitSignature', { claimId: c.id, signature });
    });

  const addAttestation = () =>
    run(async () => {
      await client.invoke('claims.addAttestation', { claimId: c.id, attestation: { cid: attCid.trim() } });
      setAttCid('');
    });

  const submit = () =>
    run(async () => {
      const d = await client.invoke('claims.submitData', { claimId: c.id });
      const imp = improvementFromJson(d.improvement);
      const receipt = await write({
        title: 'Submit the claim and mint the token',
        summary: `The registry checks your signature, the ${d.attestations.length} verifier attestation(s), the commit and the ε rule, then mints version token of “${lineageName}” to ${shortAddress(d.improvement.trainer)}.`,
        fields: [
          { label: 'Contract', value: `ModelRegistry ${d.registry}`, mono: true },
          { label: 'Function', value: 'claim(improvement, salt, trainerSignature, attestations)' },
          { label: 'Model CID', value: d.improvement.modelCid, mono: true },
          { label: 'Score', value: formatScore(d.improvement.score, metricName) },
          { label: 'Attested by', value: d.attestations.map((a) => a.verifier).join(', '), mono: true },
        ],
        address: d.registry as Address,
        abi: modelRegistryAbi,
        functionName: 'claim',
        args: [
          imp,
          d.salt as Hex,
          d.trainerSignature as Hex,
          d.attestations.map((a) => ({ verifier: a.verifier as Address, signature: a.signature as Hex })),
        ],
      });
      await client.invoke('claims.recordMint', { claimId: c.id, txHash: receipt.transactionHash });
    });

  const claimableIn = c.commit ? Math.max(0, c.commit.claimableAt - now) : 0;

  return (
    <article className="card" aria-labelledby="step-title" data-step={STEPS[step]}>
      <h2 id="step-title">
        Step {step + 1}: {STEPS[step]}
      </h2>
      {step === 0 ? (
        <>
          <p>
            First commit the model on chain: a hash that proves you had it, without revealing it. Then it is
            evaluated and published.
          </p>
          <button type="button" disabled={busy} onClick={() => void commit()}>
            Commit from your wallet
          </button>
        </>
      ) : null}
      {step === 1 ? (
        <>
          <p>
            The model is evaluated on the lineage’s text with the deterministic evaluator (CPU, fixed
            settings); the report, a loss-curve image and the token’s metadata are published to IPFS.
          </p>
          <button type="button" disabled={busy} onClick={() => void evaluate()}>
            {busy ? 'Evaluating…' : 'Evaluate'}
          </button>
          <InlineJobProgress kind="claims.evaluate" label="Evaluating the model" />
        </>
      ) : null}
      {c.evaluation ? (
        <dl className="kv evaluation" data-testid="claim-evaluation">
          <dt>Score</dt>
          <dd>
            <strong>{formatScore(c.evaluation.score, metricName)}</strong>{' '}
            <span className="muted">({(c.evaluation.top1Accuracy * 100).toFixed(1)} % top-1)</span>
          </dd>
          <dt>Improves on</dt>
          <dd>
            {c.evaluation.parentTokenId === 0 ? 'the genesis model' : `token #${c.evaluation.parentTokenId}`}{' '}
            · version {c.evaluation.version}
          </dd>
          <dt>Report</dt>
          <dd>
            <CopyableValue
              value={c.evaluation.reportCid}
              display={shortCid(c.evaluation.reportCid)}
              what="report CID"
            />
          </dd>
        </dl>
      ) : null}
      {step === 2 ? (
        <>
          <p>
            Sign the claim in your wallet (EIP-712): the dialog lists every field you vouch for. Signing costs
            nothing; the signed claim is published to IPFS for the verifiers.
          </p>
          <button type="button" disabled={busy} onClick={() => void signClaim()}>
            Sign the claim
          </button>
        </>
      ) : null}
      {step === 3 || step === 4 ? (
        <>
          <p>
            {c.attestations.length} of {c.quorum} attestation{c.quorum === 1 ? '' : 's'} collected. A verifier
            of the lineage re-runs the evaluation and signs an attestation: give them the claim CID, or, with
            a verifier account on this machine, switch to it on the <a href={hrefFor('wallet')}>Wallet</a>{' '}
            page and attest in the <a href={hrefFor('models', 'inbox')}>verifier inbox</a>.
          </p>
          {c.attestations.length > 0 ? (
            <ul aria-label="Attestations">
              {c.attestations.map((a) => (
                <li key={a.verifier}>
                  <code title={a.verifier}>{shortAddress(a.verifier)}</code>{' '}
                  {a.attestationCid ? (
                    <span className="muted small">{shortCid(a.attestationCid)}</span>
                  ) : null}
                </li>
              ))}
            </ul>
          ) : null}
          <RemoteVerdicts
            claimId={c.id}
            registry={c.registry}
            lineageId={c.lineageId}
            canSubmit={!busy && claimableIn === 0}
            onSubmit={() => void submit()}
          />
          {step === 3 ? <ChainlinkOption claimId={c.id} lineageId={c.lineageId} onDone={onChanged} /> : null}
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              if (attCid.trim()) void addAttestation();
            }}
          >
            <Field label="Attestation received (CID)">
              {(p) => (
                <input
                  {...p}
                  value={attCid}
                  onChange={(e) => setAttCid(e.target.value)}
                  placeholder="bafk…"
                />
              )}
            </Field>
            <button type="submit" className="secondary" disabled={busy || !attCid.trim()}>
              Add
            </button>
          </form>
        </>
      ) : null}
      {step === 4 ? (
        <>
          {claimableIn > 0 ? (
            <p role="status">The commit must age: claimable in {formatDuration(claimableIn)}.</p>
          ) : (
            <p>Everything is ready: submit the claim. The token is minted to the trainer.</p>
          )}
          <button type="button" disabled={busy || claimableIn > 0} onClick={() => void submit()}>
            Submit and mint
          </button>
        </>
      ) : null}
      {step === 5 && c.mint ? (
        <div className="result" role="status" data-testid="minted">
          <p>
            <strong>Minted: token #{c.mint.tokenId}</strong> in “{lineageName}”. Its licence price follows its
            score.
          </p>
          <a href={hrefFor('marketplace')}>See it in the Marketplace</a>
        </div>
      ) : null}
      {error ? (
        <div className="state state-error" role="alert">
          <p>{error.message}</p>
          {error.hint ? <p className="hint">{error.hint}</p> : null}
        </div>
      ) : null}
      <p className="muted small">
        Chain {contracts.chainId}. Each step is saved: you can leave and come back.
      </p>
    </article>
  );
}

function useNow(): number {
  const [now, setNow] = useState(() => Math.floor(Date.now() / 1000));
  useEffect(() => {
    const t = setInterval(() => setNow(Math.floor(Date.now() / 1000)), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}
