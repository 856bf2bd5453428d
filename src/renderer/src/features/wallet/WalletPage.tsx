import { connect, disconnect, type Connector } from '@wagmi/core';
import QRCode from 'qrcode';
import { useEffect, useState } from 'react';
import { formatEther, type Address } from 'viem';
import { useBalance, useConfig, useConnection, useConnectors } from 'wagmi';
import { EMBEDDED_CHAIN_ID } from '../../../../shared/chain/deployment.ts';
import { hrefFor } from '../../app/router.ts';
import { CopyableValue } from '../../components/CopyButton.tsx';
import { Field } from '../../components/Field.tsx';
import { ErrorNotice, Loading, PageHeader } from '../../components/StatusViews.tsx';
import { formatEth, shortAddress } from '../../util/format.ts';
import { useSettingsQuery } from '../settings/settingsApi.ts';
import {
  useChainConfigureMutation,
  useChainStartMutation,
  useChainStatusQuery,
  useChainStopMutation,
} from './chainApi.ts';
import { LOCAL_CONNECTOR_ID } from './localTestAccounts.ts';
import { useContracts, useWalletState, WalletGate, WalletProvider } from './WalletProvider.tsx';
import { toWalletError } from './walletErrors.ts';

export function WalletPage() {
  return (
    <WalletProvider>
      <section aria-labelledby="page-title">
        <PageHeader title="Wallet" />
        <NetworkCard />
        <WalletGate what="the wallet">
          <ConnectionCard />
          <ConnectOptions />
        </WalletGate>
      </section>
    </WalletProvider>
  );
}

const SEPOLIA_HINT = 'https://ethereum-sepolia-rpc.publicnode.com';

function NetworkCard() {
  const status = useChainStatusQuery(undefined, { pollingInterval: 15_000 });
  const wallet = useWalletState();
  const [start, startState] = useChainStartMutation();
  const [stop, stopState] = useChainStopMutation();
  const [configure, configureState] = useChainConfigureMutation();
  const s = status.data;
  const [choice, setChoice] = useState<'embedded' | 'sepolia' | 'custom' | null>(null);
  const [url, setUrl] = useState('');
  const current = s
    ? s.network.kind === 'embedded'
      ? 'embedded'
      : s.chainId === 11155111
        ? 'sepolia'
        : 'custom'
    : null;
  const selected = choice ?? current ?? 'embedded';
  let urlError: string | null = null;
  if (selected !== 'embedded') {
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') urlError = 'Use an http:// or https:// URL.';
    } catch {
      urlError = url ? 'This is not a URL.' : 'Enter the network’s RPC URL.';
    }
  }
  return (
    <article className="card" aria-labelledby="network-title">
      <div className="card-head">
        <h2 id="network-title">Network</h2>
        {s ? (
          <span className={`badge ${s.running ? 'badge-ok' : 'badge-no'}`}>
            {s.running ? 'answering' : 'not running'}
          </span>
        ) : null}
      </div>
      {status.isLoading ? <Loading what="the chain status" /> : null}
      {status.error ? <ErrorNotice error={status.error} onRetry={() => void status.refetch()} /> : null}
      {s ? (
        <dl className="kv">
          <dt>Network</dt>
          <dd>
            {s.network.kind === 'embedded'
              ? 'Embedded local chain (anvil on this machine; offline, free test ETH)'
              : `RPC network ${s.network.rpcUrl}`}
          </dd>
          <dt>Chain id</dt>
          <dd>{s.chainId ?? '—'}</dd>
          <dt>Block</dt>
          <dd>{s.blockNumber ?? '—'}</dd>
          {s.deployment ? (
            <>
              <dt>Contracts</dt>
              <dd>
                registry{' '}
                <CopyableValue
                  value={s.deployment.registry}
                  display={shortAddress(s.deployment.registry)}
                  what="registry address"
                />{' '}
                market{' '}
                <CopyableValue
                  value={s.deployment.market}
                  display={shortAddress(s.deployment.market)}
                  what="market address"
                />
                {s.contractsUpToDate === false ? <span className="badge badge-warn">older build</span> : null}
              </dd>
            </>
          ) : null}
          {s.network.kind === 'embedded' ? (
            <>
              <dt>Local chain</dt>
              <dd className="row">
                {s.running ? (
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => void stop(undefined)}
                    disabled={stopState.isLoading}
                  >
                    Stop the local chain
                  </button>
                ) : (
                  <button type="button" onClick={() => void start(undefined)} disabled={startState.isLoading}>
                    {startState.isLoading ? 'Starting…' : 'Start the local chain'}
                  </button>
                )}
                <span className="muted small">
                  Its state is kept in the data directory: tokens survive a restart.
                </span>
              </dd>
            </>
          ) : null}
        </dl>
      ) : null}
      {startState.error ? <ErrorNotice error={startState.error} /> : null}
      {stopState.error ? <ErrorNotice error={stopState.error} /> : null}
      <form
        className="network-switch"
        onSubmit={(e) => {
          e.preventDefault();
          if (selected === 'embedded') void configure({ network: { kind: 'embedded' } });
          else if (!urlError) void configure({ network: { kind: 'rpc', rpcUrl: url.trim() } });
        }}
      >
        <fieldset>
          <legend>Switch network</legend>
          <div className="row">
            {(
              [
                ['embedded', 'Embedded local chain'],
                ['sepolia', 'Sepolia testnet'],
                ['custom', 'Custom RPC'],
              ] as const
            ).map(([value, label]) => (
              <label key={value} className="checkbox">
                <input
                  type="radio"
                  name="network"
                  value={value}
                  checked={selected === value}
                  onChange={() => {
                    setChoice(value);
                    if (value === 'sepolia' && !url) setUrl(SEPOLIA_HINT);
                  }}
                />
                {label}
              </label>
            ))}
          </div>
          {selected !== 'embedded' ? (
            <Field
              label="RPC URL"
              hint="Reads go through the app; transactions are signed in your wallet. The contracts must be deployed there (xai-link chain deploy)."
              error={url ? urlError : null}
            >
              {(p) => (
                <input
                  {...p}
                  value={url}
                  onChange={(e) => setUrl(e.target.value)}
                  placeholder={SEPOLIA_HINT}
                />
              )}
            </Field>
          ) : null}
          <button
            type="submit"
            disabled={configureState.isLoading || (selected !== 'embedded' && Boolean(urlError))}
          >
            {configureState.isLoading ? 'Switching…' : 'Use this network'}
          </button>
        </fieldset>
      </form>
      {configureState.error ? <ErrorNotice error={configureState.error} /> : null}
      {wallet.status === 'error' && s?.network.kind === 'rpc' ? (
        <p className="muted small">The wallet needs the contracts on this network; see the message below.</p>
      ) : null}
    </article>
  );
}

function ConnectionCard() {
  const c = useConnection();
  const config = useConfig();
  const contracts = useContracts();
  const balance = useBalance({
    address: c.address,
    query: { enabled: Boolean(c.address), refetchInterval: 5000 },
  });
  const [error, setError] = useState<string | null>(null);
  if (!c.address) {
    return (
      <article className="card" aria-labelledby="conn-title">
        <h2 id="conn-title">Not connected</h2>
        <p className="muted">
          Choose a wallet below. Signatures and transactions always ask you first, in plain words.
        </p>
      </article>
    );
  }
  const local = c.connector?.id === LOCAL_CONNECTOR_ID;
  const wrongChain = c.chainId !== contracts.chainId;
  return (
    <article className="card" aria-labelledby="conn-title">
      <div className="card-head">
        <h2 id="conn-title">Connected</h2>
        {local ? <span className="badge badge-warn">local test account</span> : null}
      </div>
      <dl className="kv" data-testid="connection">
        <dt>Account</dt>
        <dd>
          <CopyableValue value={c.address} what="address" />
        </dd>
        <dt>Wallet</dt>
        <dd>{c.connector?.name}</dd>
        <dt>Chain</dt>
        <dd>
          {c.chain?.name ?? `chain ${c.chainId}`} ({c.chainId})
          {wrongChain ? (
            <span className="badge badge-no">not the app’s network ({contracts.chainId})</span>
          ) : null}
        </dd>
        <dt>Balance</dt>
        <dd data-testid="balance">
          {balance.data ? formatEth(balance.data.value) : balance.isLoading ? '…' : '—'}
        </dd>
      </dl>
      <div className="row">
        <button
          type="button"
          className="secondary"
          onClick={() =>
            void disconnect(config).catch((e: unknown) => setError(toWalletError(e, 'transaction').message))
          }
        >
          Disconnect
        </button>
      </div>
      {error ? (
        <p role="alert" className="error-text">
          {error}
        </p>
      ) : null}
    </article>
  );
}

function ConnectOptions() {
  const connectors = useConnectors();
  const local = connectors.find((c) => c.id === LOCAL_CONNECTOR_ID);
  const injectedOnes = connectors.filter((c) => c.type === 'injected');
  const wc = connectors.find((c) => c.type === 'walletConnect');
  return (
    <div className="cards">
      {local ? <LocalAccounts connector={local} /> : null}
      <article className="card" aria-labelledby="browser-wallet-title">
        <h2 id="browser-wallet-title">Browser wallet</h2>
        <BrowserWallets connectors={injectedOnes} />
      </article>
      <WalletConnectCard connector={wc} />
    </div>
  );
}

interface LocalConnector extends Connector {
  selectAccount?: (i: number) => void;
  accountIndex?: () => number;
}

function LocalAccounts({ connector }: { connector: LocalConnector }) {
  const contracts = useContracts();
  const config = useConfig();
  const c = useConnection();
  const [error, setError] = useState<string | null>(null);
  const use = async (i: number) => {
    setError(null);
    connector.selectAccount?.(i);
    try {
      if (c.connector?.id !== LOCAL_CONNECTOR_ID) await connect(config, { connector });
    } catch (e) {
      setError(toWalletError(e, 'transaction').message);
    }
  };
  return (
    <article className="card local-accounts" aria-labelledby="local-title">
      <h2 id="local-title">Local test accounts</h2>
      <p className="muted small">
        The embedded chain’s development accounts, each with 10,000 test ETH.{' '}
        <strong>For local testing only</strong>: their keys are public, so never send real funds to them. The
        local chain signs for them; no key enters this app.
      </p>
      <table className="table compact" aria-label="Local test accounts">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Address</th>
            <th scope="col">Balance</th>
            <th scope="col">
              <span className="visually-hidden">Use</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {contracts.devAccounts.map((a, i) => (
            <LocalAccountRow
              key={a}
              index={i}
              address={a as Address}
              active={c.connector?.id === LOCAL_CONNECTOR_ID && c.address === a}
              onUse={() => void use(i)}
            />
          ))}
        </tbody>
      </table>
      {error ? (
        <p role="alert" className="error-text">
          {error}
        </p>
      ) : null}
    </article>
  );
}

function LocalAccountRow({
  index,
  address,
  active,
  onUse,
}: {
  index: number;
  address: Address;
  active: boolean;
  onUse: () => void;
}) {
  const b = useBalance({ address, query: { refetchInterval: 10_000 } });
  return (
    <tr data-account={address}>
      <td>{index}</td>
      <td>
        <code title={address}>{shortAddress(address)}</code>
      </td>
      <td>
        {b.data
          ? `${Number(formatEther(b.data.value)).toLocaleString('en', { maximumFractionDigits: 4 })} ETH`
          : '…'}
      </td>
      <td>
        {active ? (
          <span className="badge badge-ok">in use</span>
        ) : (
          <button
            type="button"
            className="secondary small-button"
            onClick={onUse}
            aria-label={`Use test account ${index}`}
          >
            Use
          </button>
        )}
      </td>
    </tr>
  );
}

function BrowserWallets({ connectors }: { connectors: readonly Connector[] }) {
  const config = useConfig();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const available = typeof window !== 'undefined' && 'ethereum' in window;
  // The generic "Injected" connector only makes sense when the page has window.ethereum.
  const list = connectors.filter((c) => c.id !== 'injected' || available);
  if (list.length === 0) {
    return (
      <p className="muted">
        No browser wallet here. Open this page in a browser with a wallet extension (MetaMask, Rabby…), or use
        WalletConnect.
      </p>
    );
  }
  return (
    <>
      <div className="row">
        {list.map((c) => (
          <button
            key={c.uid}
            type="button"
            disabled={busy}
            onClick={() => {
              setBusy(true);
              setError(null);
              connect(config, { connector: c })
                .catch((e: unknown) => setError(toWalletError(e, 'transaction').message))
                .finally(() => setBusy(false));
            }}
          >
            Connect {c.name === 'Injected' ? 'browser wallet' : c.name}
          </button>
        ))}
      </div>
      {error ? (
        <p role="alert" className="error-text">
          {error}
        </p>
      ) : null}
    </>
  );
}

function WalletConnectCard({ connector }: { connector: Connector | undefined }) {
  const config = useConfig();
  const settings = useSettingsQuery(undefined);
  const [uri, setUri] = useState<string | null>(null);
  const [qrImage, setQr] = useState<{ uri: string; data: string } | null>(null);
  const qr = uri && qrImage?.uri === uri ? qrImage.data : null;
  const [error, setError] = useState<string | null>(null);
  const [connecting, setConnecting] = useState(false);

  useEffect(() => {
    if (!uri) return;
    let live = true;
    void QRCode.toDataURL(uri, { margin: 1, width: 240 }).then((data) => live && setQr({ uri, data }));
    return () => {
      live = false;
    };
  }, [uri]);

  useEffect(() => {
    if (!connector) return;
    const onMessage = ({ type, data }: { type: string; data?: unknown }) => {
      if (type === 'display_uri' && typeof data === 'string') setUri(data);
    };
    connector.emitter.on('message', onMessage);
    return () => connector.emitter.off('message', onMessage);
  }, [connector]);

  const configured = Boolean(settings.data?.walletConnectProjectId);
  return (
    <article className="card" aria-labelledby="wc-title">
      <h2 id="wc-title">WalletConnect</h2>
      {!configured || !connector ? (
        <>
          <p className="muted small">
            Connect a phone wallet by scanning a QR code. It needs a free WalletConnect Cloud project id and
            internet access (the relay is WalletConnect’s).
          </p>
          <p>
            <a href={hrefFor('settings')}>Set the WalletConnect project id in Settings</a>
          </p>
        </>
      ) : (
        <>
          <button
            type="button"
            disabled={connecting}
            onClick={() => {
              setConnecting(true);
              setError(null);
              setUri(null);
              connect(config, { connector })
                .catch((e: unknown) => setError(toWalletError(e, 'transaction').message))
                .finally(() => {
                  setConnecting(false);
                  setUri(null);
                });
            }}
          >
            {connecting ? 'Waiting for the wallet…' : 'Show QR code'}
          </button>
          {qr ? (
            <figure className="qr">
              <img
                src={qr}
                alt="WalletConnect QR code: scan it with your wallet app"
                width={240}
                height={240}
              />
              <figcaption className="small muted">
                Scan with your wallet app, or copy the link:{' '}
                <CopyableValue value={uri ?? ''} display="pairing link" what="link" />
              </figcaption>
            </figure>
          ) : null}
          {error ? (
            <p role="alert" className="error-text">
              {error}{' '}
              {navigator.onLine
                ? ''
                : 'This machine is offline: WalletConnect needs its relay on the internet.'}
            </p>
          ) : null}
          <p className="small">
            <a href={hrefFor('settings')}>Change or remove the project id in Settings</a>
          </p>
        </>
      )}
    </article>
  );
}

/** A compact "who am I" line for other pages (Marketplace, Models). */
export function AccountLine() {
  const c = useConnection();
  const contracts = useContracts();
  if (!c.address) {
    return (
      <p className="banner banner-warn" role="status">
        No wallet connected: <a href="#/wallet">connect one on the Wallet page</a> to sign claims, buy
        licences or withdraw.
      </p>
    );
  }
  return (
    <p className="muted small">
      Acting as <code title={c.address}>{shortAddress(c.address)}</code> (
      {c.connector?.id === LOCAL_CONNECTOR_ID ? 'local test account' : c.connector?.name}) on{' '}
      {contracts.chainId === EMBEDDED_CHAIN_ID ? 'the local chain' : `chain ${contracts.chainId}`}.{' '}
      <a href="#/wallet">Change</a>
    </p>
  );
}
