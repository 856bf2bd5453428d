import { useState } from 'react';
import { hrefFor } from '../../app/router.ts';
import { Field } from '../../components/Field.tsx';
import { ErrorNotice } from '../../components/StatusViews.tsx';
import { useUpdateSettingsMutation } from './settingsApi.ts';

/** A WalletConnect (Reown) Cloud project id: 32 hexadecimal characters; empty turns WalletConnect off. */
function walletConnectProjectIdProblem(id: string): string | null {
  const t = id.trim();
  return t && !/^[0-9a-f]{32}$/i.test(t)
    ? 'A project id is 32 hexadecimal characters, as shown in your WalletConnect Cloud project.'
    : null;
}

/**
 * The WalletConnect project id the Wallet page's QR code needs. Saved in settings.json, so the desktop app
 * and the headless host use the same one.
 */
export function WalletConnectSettings({ saved }: { saved: string }) {
  const [update, updateState] = useUpdateSettingsMutation();
  const [projectId, setProjectId] = useState(saved);
  const [done, setDone] = useState<string | null>(null);
  const problem = walletConnectProjectIdProblem(projectId);
  const changed = projectId.trim() !== saved;

  const save = async (value: string) => {
    const result = await update({ walletConnectProjectId: value });
    if ('data' in result && result.data) {
      setProjectId(result.data.walletConnectProjectId);
      setDone(value ? 'Saved: WalletConnect is on.' : 'Removed: WalletConnect is off.');
    }
  };

  return (
    <article className="card" aria-labelledby="wc-settings-title">
      <h2 id="wc-settings-title">WalletConnect</h2>
      <p className="muted small">
        Connect a phone wallet by scanning a QR code on the <a href={hrefFor('wallet')}>Wallet page</a>. It
        needs a free project id from WalletConnect Cloud (cloud.reown.com) and internet access: the relay is
        WalletConnect’s.
      </p>
      <form
        aria-label="WalletConnect settings"
        onSubmit={(e) => {
          e.preventDefault();
          if (!problem && changed) void save(projectId.trim());
        }}
      >
        <Field label="Project id" error={problem}>
          {(p) => (
            <input
              {...p}
              value={projectId}
              onChange={(e) => {
                setDone(null);
                setProjectId(e.target.value);
              }}
              placeholder="32 hex characters"
              spellCheck={false}
              autoComplete="off"
              className="mono"
            />
          )}
        </Field>
        <div className="row">
          <button type="submit" disabled={!changed || Boolean(problem) || updateState.isLoading}>
            Save project id
          </button>
          {saved ? (
            <button
              type="button"
              className="secondary"
              disabled={updateState.isLoading}
              onClick={() => void save('')}
            >
              Remove project id
            </button>
          ) : null}
          <span className="muted small" role="status">
            {done ?? (saved ? 'WalletConnect is on.' : 'Not set: WalletConnect is off.')}
          </span>
        </div>
        {updateState.error ? <ErrorNotice error={updateState.error} /> : null}
      </form>
    </article>
  );
}
