import { useState } from 'react';
import type { Address } from 'viem';
import { useConnection } from 'wagmi';
import type { LineageView, TokenView } from '../../../../shared/api/chain.ts';
import { licenseMarketAbi } from '../../../../shared/chain/abis.ts';
import { CopyableValue } from '../../components/CopyButton.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { Field } from '../../components/Field.tsx';
import { Empty, ErrorNotice, Loading, PageHeader } from '../../components/StatusViews.tsx';
import { formatEth, parseEth, shortAddress, shortCid } from '../../util/format.ts';
import { formatScore } from '../../util/score.ts';
import { useEarningsQuery, useLicencesQuery, useLineagesQuery, useTokensQuery } from '../wallet/chainApi.ts';
import { useWalletActions } from '../wallet/useWalletActions.ts';
import { AccountLine } from '../wallet/WalletPage.tsx';
import { useContracts, WalletGate, WalletProvider } from '../wallet/WalletProvider.tsx';
import { WalletActionError } from '../wallet/walletErrors.ts';

export function MarketplacePage() {
  return (
    <WalletProvider>
      <section aria-labelledby="page-title">
        <PageHeader title="Marketplace" />
        <WalletGate what="the marketplace">
          <AccountLine />
          <Market />
        </WalletGate>
      </section>
    </WalletProvider>
  );
}

type Status = { kind: 'ok' | 'error'; text: string; hint?: string } | null;

function Market() {
  const tokens = useTokensQuery({});
  const lineages = useLineagesQuery(undefined);
  const me = useConnection().address;
  const [status, setStatus] = useState<Status>(null);
  const [pricing, setPricing] = useState<TokenView | null>(null);
  const lineageOf = (id: number) => lineages.data?.find((l) => l.lineageId === id);

  return (
    <>
      {status ? (
        <div
          className={status.kind === 'ok' ? 'result' : 'state state-error'}
          role={status.kind === 'ok' ? 'status' : 'alert'}
        >
          <p>{status.text}</p>
          {status.hint ? <p className="hint">{status.hint}</p> : null}
        </div>
      ) : null}
      <article className="card" aria-labelledby="market-title">
        <h2 id="market-title">Minted model versions</h2>
        <p className="muted small">
          A licence lets you use a model version. Its price follows its proven score; the owner may set one
          within the lineage’s bounds. The payment is shared between the owner, the owners of its ancestors
          and the lineage’s creator.
        </p>
        {tokens.isLoading ? <Loading what="minted versions" /> : null}
        {tokens.error ? <ErrorNotice error={tokens.error} onRetry={() => void tokens.refetch()} /> : null}
        {tokens.data && tokens.data.tokens.length === 0 ? (
          <Empty title="Nothing minted yet">
            Minted versions appear here once a claim of improvement has been proven on the Models page.
          </Empty>
        ) : null}
        {tokens.data && tokens.data.tokens.length > 0 ? (
          <table className="table" aria-label="Minted model versions">
            <thead>
              <tr>
                <th scope="col">Token</th>
                <th scope="col">Lineage</th>
                <th scope="col">Score</th>
                <th scope="col">Price</th>
                <th scope="col">Licences</th>
                <th scope="col">Owner</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.tokens.map((t) => (
                <TokenRow
                  key={t.tokenId}
                  token={t}
                  lineage={lineageOf(t.lineageId)}
                  me={me}
                  onStatus={setStatus}
                  onSetPrice={() => setPricing(t)}
                />
              ))}
            </tbody>
          </table>
        ) : null}
      </article>
      {pricing ? <PriceDialog token={pricing} onClose={() => setPricing(null)} onStatus={setStatus} /> : null}
      {me ? (
        <div className="cards">
          <MyLicences me={me} />
          <MyEarnings me={me} onStatus={setStatus} />
        </div>
      ) : null}
    </>
  );
}

function TokenRow({
  token: t,
  lineage,
  me,
  onStatus,
  onSetPrice,
}: {
  token: TokenView;
  lineage: LineageView | undefined;
  me: Address | undefined;
  onStatus: (s: Status) => void;
  onSetPrice: () => void;
}) {
  const contracts = useContracts();
  const { write } = useWalletActions();
  const licences = useLicencesQuery({ licensee: me }, { skip: !me });
  const [busy, setBusy] = useState(false);
  const owned = me !== undefined && t.owner.toLowerCase() === me.toLowerCase();
  const licensed = licences.data?.some((l) => l.tokenId === t.tokenId) ?? false;
  const metric = lineage?.metricName ?? 'bits_per_byte';

  const buy = async () => {
    setBusy(true);
    onStatus(null);
    try {
      await write({
        title: `Buy a licence of model #${t.tokenId}`,
        summary: `You pay ${formatEth(BigInt(t.priceWei))} for a licence to use version ${t.version} of “${lineage?.name ?? `lineage ${t.lineageId}`}”. The payment is credited to its owner, the owners of its ancestors and the lineage’s creator.`,
        fields: [
          { label: 'Contract', value: `LicenseMarket ${contracts.market}`, mono: true },
          { label: 'Function', value: `buyLicense(${t.tokenId})` },
          { label: 'Model', value: t.modelCid, mono: true },
          { label: 'Score', value: formatScore(t.score, metric) },
          { label: 'You pay', value: formatEth(BigInt(t.priceWei)) },
        ],
        address: contracts.market as Address,
        abi: licenseMarketAbi,
        functionName: 'buyLicense',
        args: [BigInt(t.tokenId)],
        value: BigInt(t.priceWei),
      });
      onStatus({ kind: 'ok', text: `You hold a licence of model #${t.tokenId} now.` });
    } catch (e) {
      const err = e instanceof WalletActionError ? e : new WalletActionError(String(e));
      onStatus({ kind: 'error', text: err.message, hint: err.hint });
    } finally {
      setBusy(false);
    }
  };

  return (
    <tr data-token={t.tokenId}>
      <td>
        <strong>#{t.tokenId}</strong> <span className="muted small">v{t.version}</span>
        {t.isBest ? <span className="badge badge-ok">best</span> : null}
        <div className="small">
          <CopyableValue value={t.modelCid} display={shortCid(t.modelCid)} what="model CID" />
        </div>
      </td>
      <td>{lineage?.name ?? `#${t.lineageId}`}</td>
      <td>{formatScore(t.score, metric)}</td>
      <td>
        <strong>{formatEth(BigInt(t.priceWei))}</strong>
        <div className="muted small">
          suggested {formatEth(BigInt(t.suggestedPriceWei))}
          {t.manualPriceWei ? ' · set by owner' : ''}
        </div>
      </td>
      <td>{t.licences}</td>
      <td>
        <code title={t.owner}>{shortAddress(t.owner)}</code>
        {owned ? <span className="badge badge-info">you</span> : null}
      </td>
      <td className="actions">
        {owned ? (
          <button type="button" className="secondary small-button" onClick={onSetPrice}>
            Set price
          </button>
        ) : licensed ? (
          <span className="badge badge-ok">licensed</span>
        ) : (
          <button type="button" className="small-button" disabled={!me || busy} onClick={() => void buy()}>
            {busy ? 'Buying…' : 'Buy licence'}
          </button>
        )}
      </td>
    </tr>
  );
}

function PriceDialog({
  token: t,
  onClose,
  onStatus,
}: {
  token: TokenView;
  onClose: () => void;
  onStatus: (s: Status) => void;
}) {
  const contracts = useContracts();
  const { write } = useWalletActions();
  const [text, setText] = useState(t.manualPriceWei ? formatEth(BigInt(t.manualPriceWei), '').trim() : '');
  const [busy, setBusy] = useState(false);
  const min = BigInt(t.minPriceWei);
  const max = BigInt(t.maxPriceWei);
  const wei = text.trim() === '' ? 0n : parseEth(text);
  const error =
    wei === null
      ? 'Enter an amount in ETH, e.g. 0.002.'
      : wei !== 0n && (wei < min || wei > max)
        ? `The lineage allows ${formatEth(min)} to ${formatEth(max)} for this score.`
        : null;
  const save = async () => {
    if (wei === null || error) return;
    setBusy(true);
    try {
      await write({
        title: `Set the licence price of model #${t.tokenId}`,
        summary:
          wei === 0n
            ? 'The licence price goes back to the suggested price, which follows the proven score.'
            : `Licences of model #${t.tokenId} will cost ${formatEth(wei)} instead of the suggested ${formatEth(BigInt(t.suggestedPriceWei))}.`,
        fields: [
          { label: 'Contract', value: `LicenseMarket ${contracts.market}`, mono: true },
          { label: 'Function', value: `setPrice(${t.tokenId}, ${wei})` },
          { label: 'New price', value: wei === 0n ? 'suggested price' : formatEth(wei) },
        ],
        address: contracts.market as Address,
        abi: licenseMarketAbi,
        functionName: 'setPrice',
        args: [BigInt(t.tokenId), wei],
      });
      onStatus({ kind: 'ok', text: `The price of model #${t.tokenId} is set.` });
      onClose();
    } catch (e) {
      const err = e instanceof WalletActionError ? e : new WalletActionError(String(e));
      onStatus({ kind: 'error', text: err.message, hint: err.hint });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      open
      title={`Price of model #${t.tokenId}`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="button" disabled={busy || Boolean(error)} onClick={() => void save()}>
            Set price
          </button>
        </>
      }
    >
      <p>
        Suggested price from the proven score: <strong>{formatEth(BigInt(t.suggestedPriceWei))}</strong>. You
        may set a price from {formatEth(min)} to {formatEth(max)}; leave it empty to use the suggestion.
      </p>
      <Field label="Price (ETH)" error={error}>
        {(p) => (
          <input
            {...p}
            inputMode="decimal"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="suggested"
          />
        )}
      </Field>
    </Dialog>
  );
}

function MyLicences({ me }: { me: Address }) {
  const licences = useLicencesQuery({ licensee: me });
  return (
    <article className="card" aria-labelledby="my-licences">
      <h2 id="my-licences">My licences</h2>
      {licences.isLoading ? <Loading what="licences" /> : null}
      {licences.error ? <ErrorNotice error={licences.error} /> : null}
      {licences.data && licences.data.length === 0 ? <Empty title="No licences yet" /> : null}
      {licences.data && licences.data.length > 0 ? (
        <table className="table compact" aria-label="My licences">
          <thead>
            <tr>
              <th scope="col">Token</th>
              <th scope="col">Paid</th>
              <th scope="col">Block</th>
            </tr>
          </thead>
          <tbody>
            {licences.data.map((l) => (
              <tr key={`${l.tokenId}-${l.txHash}`} data-licence={l.tokenId}>
                <td>#{l.tokenId}</td>
                <td>{formatEth(BigInt(l.priceWei))}</td>
                <td>{l.blockNumber}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </article>
  );
}

function MyEarnings({ me, onStatus }: { me: Address; onStatus: (s: Status) => void }) {
  const earnings = useEarningsQuery(me);
  const contracts = useContracts();
  const lineages = useLineagesQuery(undefined);
  const { write } = useWalletActions();
  const [busy, setBusy] = useState(false);
  const e = earnings.data;
  const pending = e ? BigInt(e.pendingWei) : 0n;
  const withdraw = async () => {
    setBusy(true);
    try {
      await write({
        title: 'Withdraw your earnings',
        summary: `${formatEth(pending)} of licence revenue credited to you is paid out to your account.`,
        fields: [
          { label: 'Contract', value: `LicenseMarket ${contracts.market}`, mono: true },
          { label: 'Function', value: 'withdraw()' },
          { label: 'Amount', value: formatEth(pending) },
        ],
        address: contracts.market as Address,
        abi: licenseMarketAbi,
        functionName: 'withdraw',
        args: [],
      });
      onStatus({ kind: 'ok', text: `${formatEth(pending)} withdrawn to your account.` });
    } catch (err) {
      const w = err instanceof WalletActionError ? err : new WalletActionError(String(err));
      onStatus({ kind: 'error', text: w.message, hint: w.hint });
    } finally {
      setBusy(false);
    }
  };
  return (
    <article className="card" aria-labelledby="my-earnings">
      <h2 id="my-earnings">My earnings</h2>
      {earnings.isLoading ? <Loading what="earnings" /> : null}
      {earnings.error ? <ErrorNotice error={earnings.error} /> : null}
      {e ? (
        <>
          <dl className="kv">
            <dt>To withdraw</dt>
            <dd data-testid="pending-earnings">
              <strong>{formatEth(pending)}</strong>
            </dd>
            <dt>Earned in all</dt>
            <dd>{formatEth(BigInt(e.totalWei))}</dd>
            {e.byLineage.map((l) => (
              <div key={l.lineageId} className="kv-row">
                <dt>
                  {lineages.data?.find((x) => x.lineageId === l.lineageId)?.name ?? `Lineage #${l.lineageId}`}
                </dt>
                <dd>{formatEth(BigInt(l.earnedWei))}</dd>
              </div>
            ))}
          </dl>
          <div className="row">
            <button
              type="button"
              disabled={busy || pending === 0n}
              aria-describedby={pending === 0n ? 'nothing-to-withdraw' : undefined}
              onClick={() => void withdraw()}
            >
              {busy ? 'Withdrawing…' : 'Withdraw'}
            </button>
            {pending === 0n ? (
              <span id="nothing-to-withdraw" className="muted small">
                Nothing to withdraw: your shares of licence sales of your models, their descendants and the
                lineages you created are credited here.
              </span>
            ) : null}
          </div>
        </>
      ) : null}
    </article>
  );
}
