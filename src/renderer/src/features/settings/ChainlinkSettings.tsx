import { useMemo, useState, type ReactNode } from 'react';
import type { ChainlinkFunctionsSettings } from '../../../../shared/api/settings.ts';
import { EMBEDDED_CHAIN_ID } from '../../../../shared/chain/deployment.ts';
import { SEPOLIA_FUNCTIONS } from '../../../../shared/chain/functionsRequest.ts';
import { hrefFor } from '../../app/router.ts';
import { Field } from '../../components/Field.tsx';
import { ErrorNotice, Loading } from '../../components/StatusViews.tsx';
import { useChainStatusQuery } from '../wallet/chainApi.ts';
import { useChainlinkStatusQuery, useConfigureChainlinkMutation } from './chainlinkApi.ts';
import {
  checkChainlinkForm,
  formFromSettings,
  withSepoliaValues,
  type ChainlinkField,
  type ChainlinkForm,
} from './chainlinkForm.ts';

interface FieldSpec {
  field: ChainlinkField;
  label: string;
  hint: ReactNode;
  placeholder?: string;
  wide?: boolean;
  numeric?: boolean;
}

const FIELDS: FieldSpec[] = [
  {
    field: 'routerAddress',
    label: 'Functions router',
    hint: 'Chainlink’s FunctionsRouter contract on that network.',
    placeholder: '0x…',
    wide: true,
  },
  { field: 'donId', label: 'DON id', hint: 'Which DON answers, e.g. fun-ethereum-sepolia-1.' },
  {
    field: 'chainId',
    label: 'Chain id',
    hint: 'The network these values are for (Sepolia: 11155111).',
    numeric: true,
  },
  {
    field: 'subscriptionId',
    label: 'Subscription id',
    hint: 'From functions.chain.link; it pays each request in LINK.',
    numeric: true,
  },
  {
    field: 'callbackGasLimit',
    label: 'Callback gas limit',
    hint: `Gas for the attestor’s answer; public DONs allow at most ${SEPOLIA_FUNCTIONS.maxCallbackGasLimit.toLocaleString('en')}.`,
    numeric: true,
  },
  {
    field: 'minSignatures',
    label: 'Signatures required',
    hint: 'Valid signatures of other lineage verifiers the DON must find.',
    numeric: true,
  },
  {
    field: 'scoreTolerance',
    label: 'Score tolerance',
    hint: 'Largest score difference (score units) accepted between the report and a verifier.',
    numeric: true,
  },
  {
    field: 'gatewayUrl',
    label: 'IPFS gateway',
    hint: 'The DON fetches the claim’s files from this URL prefix followed by the CID.',
    wide: true,
  },
  {
    field: 'attestorAddress',
    label: 'FunctionsAttestor',
    hint: (
      <>
        Filled in by <code>xai-link chain functions-deploy</code>; or one deployed earlier.
      </>
    ),
    placeholder: '0x…',
    wide: true,
  },
];

/**
 * Chainlink Functions settings (issue 8): the values `chainlink.configure` takes, checked as they are typed
 * against the same schema main uses, and where Chainlink attestation stands on the current network.
 */
export function ChainlinkSettings({ saved }: { saved: ChainlinkFunctionsSettings }) {
  const [form, setForm] = useState<ChainlinkForm>(() => formFromSettings(saved));
  const [configure, configureState] = useConfigureChainlinkMutation();
  const [savedAt, setSavedAt] = useState<number | null>(null);
  const { errors, changes } = useMemo(() => checkChainlinkForm(form, saved), [form, saved]);
  const refused = Object.keys(errors).length > 0;
  const changed = Object.keys(changes).length > 0;
  const set = (field: ChainlinkField, value: string) => {
    setSavedAt(null);
    setForm((old) => ({ ...old, [field]: value }));
  };

  const save = async () => {
    if (refused || !changed) return;
    const result = await configure(changes);
    if ('data' in result && result.data) {
      setForm(formFromSettings(result.data));
      setSavedAt(Date.now());
    }
  };

  return (
    <article className="card" aria-labelledby="chainlink-settings-title">
      <h2 id="chainlink-settings-title">Chainlink Functions</h2>
      <p className="muted small">
        A FunctionsAttestor registered as a lineage verifier asks a Chainlink DON to check a claim’s published
        report and attestations, then attests on chain; each request costs the subscription LINK. The claim
        wizard offers “Chainlink attestation” once everything below is set on the app’s network. See
        docs/chainlink.md for when to use it instead of verifier keys.
      </p>
      <ChainlinkStatusView formChainId={form.chainId} />
      <form
        aria-label="Chainlink Functions settings"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <div className="row">
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setSavedAt(null);
              setForm(withSepoliaValues);
            }}
          >
            Use Sepolia values
          </button>
          <span className="muted small">
            Router, DON id and chain id of {SEPOLIA_FUNCTIONS.name}, as Chainlink publishes them.
          </span>
        </div>
        <div className="form-grid">
          {FIELDS.map((f) => (
            <Field
              key={f.field}
              label={f.label}
              hint={f.hint}
              error={errors[f.field] ?? null}
              className={f.wide ? 'field-wide' : undefined}
            >
              {(p) => (
                <input
                  {...p}
                  value={form[f.field]}
                  onChange={(e) => set(f.field, e.target.value)}
                  placeholder={f.placeholder}
                  inputMode={f.numeric ? 'numeric' : undefined}
                  spellCheck={false}
                  autoComplete="off"
                  className={f.wide ? 'mono' : undefined}
                />
              )}
            </Field>
          ))}
        </div>
        <div className="row">
          <button type="submit" disabled={refused || !changed || configureState.isLoading}>
            {configureState.isLoading ? 'Saving…' : 'Save Chainlink settings'}
          </button>
          <button
            type="button"
            className="secondary"
            disabled={!changed && !refused}
            onClick={() => {
              setSavedAt(null);
              setForm(formFromSettings(saved));
            }}
          >
            Discard changes
          </button>
          <span className="muted small" role="status">
            {refused
              ? 'Fix the fields marked above to save.'
              : changed
                ? `${Object.keys(changes).length} unsaved change${Object.keys(changes).length === 1 ? '' : 's'}.`
                : savedAt !== null
                  ? 'Saved.'
                  : ''}
          </span>
        </div>
        {configureState.error && savedAt === null ? <ErrorNotice error={configureState.error} /> : null}
      </form>
    </article>
  );
}

/** `chainlink.status` for the app's network, and whether the typed chain id is that network. */
function ChainlinkStatusView({ formChainId }: { formChainId: string }) {
  const status = useChainlinkStatusQuery({});
  const chain = useChainStatusQuery(undefined);
  const network = chain.data?.network;
  const networkChainId =
    chain.data?.chainId ?? status.data?.chainId ?? (network?.kind === 'embedded' ? EMBEDDED_CHAIN_ID : null);
  const networkText = !network
    ? chain.isLoading
      ? 'checking the network…'
      : 'the network could not be read'
    : network.kind === 'embedded'
      ? `the embedded local chain (chain ${EMBEDDED_CHAIN_ID})`
      : `${network.rpcUrl} (${chain.data?.chainId ? `chain ${chain.data.chainId}` : 'not answering'})`;
  const typedChainId = Number(formChainId.trim());
  const otherChain = networkChainId !== null && formChainId.trim() !== '' && typedChainId !== networkChainId;

  return (
    <section className="chainlink-status" aria-labelledby="chainlink-status-title">
      <h3 id="chainlink-status-title">On the app’s network</h3>
      <p className="small">
        The app uses {networkText}. <a href={hrefFor('wallet')}>Switch networks on the Wallet page.</a>
      </p>
      {otherChain ? (
        <p className="small" data-testid="chainlink-other-chain">
          These values are for chain {formChainId.trim()}: they apply only when the app is on that network.
        </p>
      ) : null}
      {status.isLoading ? <Loading what="the Chainlink status" /> : null}
      {status.error ? <ErrorNotice error={status.error} onRetry={() => void status.refetch()} /> : null}
      {status.data ? (
        status.data.configured ? (
          <p data-testid="chainlink-status">
            <span className="badge badge-ok">configured</span> Chainlink attestation is available on chain{' '}
            {status.data.chainId}: the claim wizard offers it for lineages that count the attestor{' '}
            <code>{status.data.settings.attestorAddress}</code> among their verifiers.
          </p>
        ) : (
          <div data-testid="chainlink-status">
            <p>
              <span className="badge badge-no">not configured</span> Chainlink attestation is not available
              {status.data.chainId !== null ? ` on chain ${status.data.chainId}` : ''}, because:
            </p>
            <ul className="small" aria-label="What is missing">
              {status.data.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </div>
        )
      ) : null}
    </section>
  );
}
