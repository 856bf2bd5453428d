import { CopyButton } from '../../components/CopyButton.tsx';
import { ErrorNotice, Loading, PageHeader } from '../../components/StatusViews.tsx';
import { useSystemInfoQuery } from '../system/systemApi.ts';
import { ChainlinkSettings } from './ChainlinkSettings.tsx';
import { useSettingsQuery } from './settingsApi.ts';
import { ThemeSwitch } from './ThemeSwitch.tsx';
import { WalletConnectSettings } from './WalletConnectSettings.tsx';

/**
 * What the user can set: the theme, the WalletConnect project id, Chainlink Functions attestation; and where
 * the app keeps its data. Everything here is saved in settings.json in the data directory, shared by the
 * desktop app, the headless host and the CLI.
 */
export function SettingsPage() {
  const settings = useSettingsQuery(undefined);
  const s = settings.data;
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Settings" />
      {settings.isLoading ? <Loading what="the settings" /> : null}
      {settings.error ? <ErrorNotice error={settings.error} onRetry={() => void settings.refetch()} /> : null}
      {s ? (
        <>
          <div className="cards">
            <article className="card" aria-labelledby="appearance-title">
              <h2 id="appearance-title">Appearance</h2>
              <ThemeSwitch />
              <p className="muted small">“System” follows your operating system’s light or dark mode.</p>
            </article>
            <WalletConnectSettings saved={s.walletConnectProjectId} />
            <DataCard />
          </div>
          <ChainlinkSettings saved={s.chainlinkFunctions} />
        </>
      ) : null}
    </section>
  );
}

function DataCard() {
  const info = useSystemInfoQuery({ refresh: false });
  return (
    <article className="card" aria-labelledby="data-title">
      <h2 id="data-title">Data</h2>
      {info.isLoading ? <Loading what="the data directory" /> : null}
      {info.error ? <ErrorNotice error={info.error} onRetry={() => void info.refetch()} /> : null}
      {info.data ? (
        <>
          <p className="muted small">
            Datasets, runs, models, the IPFS repository, chain state and these settings. Choose another with{' '}
            <code>--data-dir</code> or <code>XAI_LINK_DATA_DIR</code> when starting the app.
          </p>
          <p className="data-dir">
            <code data-testid="data-dir">{info.data.dataDir}</code>{' '}
            <CopyButton value={info.data.dataDir} label="Copy the data directory path" />
          </p>
        </>
      ) : null}
    </article>
  );
}
