import { useState } from 'react';
import { CopyableValue } from '../../components/CopyButton.tsx';
import { DownloadLink } from '../../components/DownloadLink.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { Field } from '../../components/Field.tsx';
import { FilePicker } from '../../components/FilePicker.tsx';
import { Empty, ErrorNotice, Loading, PageHeader } from '../../components/StatusViews.tsx';
import { formatBytes, formatCount, joinPath, shortCid } from '../../util/format.ts';
import { InlineJobProgress } from '../jobs/InlineJobProgress.tsx';
import { useSystemInfoQuery } from '../system/systemApi.ts';
import {
  useIpfsAddMutation,
  useIpfsCatMutation,
  useIpfsConnectMutation,
  useIpfsExportCarMutation,
  useIpfsGcMutation,
  useIpfsImportCarMutation,
  useIpfsPeersQuery,
  useIpfsFetchesQuery,
  useIpfsPinMutation,
  useIpfsPinsQuery,
  useIpfsSetOnlineMutation,
  useIpfsStatusQuery,
  useIpfsUnpinMutation,
} from './ipfsApi.ts';

/** The embedded IPFS node: identity, networking, repository, pins, CAR files, garbage collection. */
export function IpfsPage() {
  const status = useIpfsStatusQuery(undefined);
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="IPFS">
        <button type="button" className="secondary" onClick={() => void status.refetch()}>
          Refresh
        </button>
      </PageHeader>
      {status.isLoading ? <Loading what="the IPFS node" /> : null}
      {status.error ? <ErrorNotice error={status.error} onRetry={() => void status.refetch()} /> : null}
      {status.data ? (
        <>
          <NodeCard />
          <div className="cards">
            <AddCard />
            <FetchCard online={status.data.online} />
          </div>
          <PinsCard />
          {status.data.online ? <PeersCard /> : null}
          {status.data.online ? <FetchesCard /> : null}
        </>
      ) : null}
    </section>
  );
}

function NodeCard() {
  const { data } = useIpfsStatusQuery(undefined);
  const [setOnline, online] = useIpfsSetOnlineMutation();
  const [publicNetwork, setPublicNetwork] = useState(false);
  const [localDiscovery, setLocalDiscovery] = useState(false);
  const [gc, gcState] = useIpfsGcMutation();
  const [confirmGc, setConfirmGc] = useState(false);
  if (!data) return null;
  return (
    <article className="card" aria-labelledby="ipfs-node-title">
      <div className="card-head">
        <h2 id="ipfs-node-title">Node</h2>
        <span className={`badge ${data.online ? 'badge-ok' : 'badge-no'}`} data-testid="ipfs-online">
          {data.online ? 'online' : 'offline'}
        </span>
      </div>
      <dl className="kv">
        <dt>Peer id</dt>
        <dd>
          <CopyableValue value={data.peerId} what="peer id" />
        </dd>
        <dt>Networking</dt>
        <dd>
          <div className="row">
            <button
              type="button"
              role="switch"
              aria-checked={data.online}
              className={data.online ? '' : 'secondary'}
              disabled={online.isLoading}
              onClick={() =>
                void setOnline(
                  data.online ? { online: false } : { online: true, publicNetwork, localDiscovery },
                )
              }
            >
              {online.isLoading ? 'Switching…' : data.online ? 'Online — go offline' : 'Offline — go online'}
            </button>
            {!data.online ? (
              <label className="checkbox">
                <input
                  type="checkbox"
                  checked={publicNetwork}
                  onChange={(e) => setPublicNetwork(e.target.checked)}
                />
                join the public IPFS network (bootstrap peers, DHT)
              </label>
            ) : null}
            {!data.online ? (
              <label className="checkbox">
                <input
                  type="checkbox"
                  checked={localDiscovery}
                  onChange={(e) => setLocalDiscovery(e.target.checked)}
                />
                find peers on the local network (mDNS)
              </label>
            ) : (
              <span className="muted">
                {data.publicNetwork ? 'public IPFS network' : 'direct peers only'} · {data.connectedPeers}{' '}
                peer{data.connectedPeers === 1 ? '' : 's'} connected
              </span>
            )}
          </div>
          {online.error ? <ErrorNotice error={online.error} /> : null}
          {!data.online ? (
            <p className="muted small">
              Offline: content is added, read, pinned and exported locally; nothing leaves this machine.
            </p>
          ) : null}
        </dd>
        {data.online ? (
          <>
            <dt>Listening on</dt>
            <dd>
              <ul className="plain-list mono small">
                {data.listenAddresses.map((a) => (
                  <li key={a}>{a}</li>
                ))}
              </ul>
            </dd>
          </>
        ) : null}
        <dt>Repository</dt>
        <dd>
          {formatBytes(data.repo.bytes)} in {formatCount(data.repo.blocks)} blocks · {data.repo.pins} pin
          {data.repo.pins === 1 ? '' : 's'} · <code className="small">{data.repo.path}</code>
        </dd>
        <dt>Garbage collection</dt>
        <dd>
          <button
            type="button"
            className="secondary"
            onClick={() => setConfirmGc(true)}
            disabled={gcState.isLoading}
          >
            {gcState.isLoading ? 'Collecting…' : 'Collect garbage'}
          </button>
          {gcState.data ? (
            <span className="muted small" role="status">
              {' '}
              Removed {formatCount(gcState.data.removedBlocks)} blocks, freed{' '}
              {formatBytes(gcState.data.freedBytes)}.
            </span>
          ) : null}
          {gcState.error ? <ErrorNotice error={gcState.error} /> : null}
          <InlineJobProgress kind="ipfs.gc" />
        </dd>
      </dl>
      <Dialog
        open={confirmGc}
        title="Collect garbage?"
        onClose={() => setConfirmGc(false)}
        footer={
          <>
            <button type="button" className="secondary" onClick={() => setConfirmGc(false)}>
              Keep everything
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                setConfirmGc(false);
                void gc(undefined);
              }}
            >
              Delete unpinned blocks
            </button>
          </>
        }
      >
        <p>Every block that no pin keeps is deleted from this node. Pinned datasets and models stay.</p>
      </Dialog>
    </article>
  );
}

function AddCard() {
  const [add, addState] = useIpfsAddMutation();
  const [importCar, importState] = useIpfsImportCarMutation();
  const [kubo, setKubo] = useState(false);
  const [pin, setPin] = useState(true);
  return (
    <article className="card" aria-labelledby="ipfs-add-title">
      <h2 id="ipfs-add-title">Add content</h2>
      <div className="row">
        <label className="checkbox">
          <input type="checkbox" checked={pin} onChange={(e) => setPin(e.target.checked)} /> pin it
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={kubo} onChange={(e) => setKubo(e.target.checked)} /> Kubo-compatible
          CID (CIDv0, as <code>ipfs add</code>)
        </label>
      </div>
      <FilePicker
        label="File or folder to add"
        onPicked={(files) => {
          const f = files[0];
          if (f) void add({ path: f.path, kubo, pin });
        }}
      />
      <InlineJobProgress kind="ipfs.add" />
      {addState.error ? <ErrorNotice error={addState.error} /> : null}
      {addState.data ? (
        <p role="status" data-testid="added-cid">
          Added {formatBytes(addState.data.bytes)} ({addState.data.files} file
          {addState.data.files === 1 ? '' : 's'}): <CopyableValue value={addState.data.cid} what="CID" />
        </p>
      ) : null}
      <h3>Import a CAR file</h3>
      <FilePicker
        label="CAR file to import"
        accept=".car"
        onPicked={(files) => {
          const f = files[0];
          if (f) void importCar({ path: f.path, pin: true });
        }}
      />
      <InlineJobProgress kind="ipfs.importCar" />
      {importState.error ? <ErrorNotice error={importState.error} /> : null}
      {importState.data ? (
        <p role="status">
          Imported {formatCount(importState.data.blocks)} blocks ({formatBytes(importState.data.bytes)}),
          pinned {importState.data.pinned.map((c) => shortCid(c)).join(', ') || 'nothing'}.
        </p>
      ) : null}
    </article>
  );
}

function FetchCard({ online }: { online: boolean }) {
  const [cid, setCid] = useState('');
  const [cat, catState] = useIpfsCatMutation();
  const [pin, pinState] = useIpfsPinMutation();
  return (
    <article className="card" aria-labelledby="ipfs-fetch-title">
      <h2 id="ipfs-fetch-title">Read or pin by CID</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (cid.trim()) void cat({ cid: cid.trim(), maxBytes: 4096, timeoutMs: online ? 30_000 : 5_000 });
        }}
      >
        <Field
          label="CID or IPFS path"
          hint={online ? undefined : 'Offline: only content held on this node can be read.'}
        >
          {(p) => (
            <input
              {...p}
              value={cid}
              onChange={(e) => setCid(e.target.value)}
              placeholder="bafy… or /ipfs/bafy…/file"
            />
          )}
        </Field>
        <div className="row">
          <button type="submit" disabled={!cid.trim() || catState.isLoading}>
            {catState.isLoading ? 'Reading…' : 'Read'}
          </button>
          <button
            type="button"
            className="secondary"
            disabled={!cid.trim() || pinState.isLoading}
            onClick={() => void pin({ cid: cid.trim(), timeoutMs: online ? 120_000 : 5_000 })}
          >
            {pinState.isLoading ? 'Pinning…' : 'Pin'}
          </button>
        </div>
      </form>
      <InlineJobProgress kind="ipfs.pin" />
      {catState.error ? <ErrorNotice error={catState.error} /> : null}
      {pinState.error ? <ErrorNotice error={pinState.error} /> : null}
      {pinState.data ? (
        <p role="status">
          {pinState.data.alreadyPinned ? 'Already pinned.' : `Pinned ${shortCid(pinState.data.cid)}.`}
        </p>
      ) : null}
      {catState.data ? (
        <div data-testid="cat-result">
          <p className="muted small">
            {formatBytes(catState.data.size)} · showing {formatBytes(catState.data.bytes)}
            {catState.data.truncated ? ' (start only)' : ''} · verified against its CID
          </p>
          <pre className="preview">
            {catState.data.encoding === 'utf8' ? catState.data.content : '(binary content)'}
          </pre>
        </div>
      ) : null}
    </article>
  );
}

function PinsCard() {
  const pins = useIpfsPinsQuery(undefined);
  const info = useSystemInfoQuery({ refresh: false });
  const [unpin] = useIpfsUnpinMutation();
  const [exportCar, exportState] = useIpfsExportCarMutation();
  const [exporting, setExporting] = useState<string | null>(null);
  const [exportPath, setExportPath] = useState('');

  const openExport = (cid: string) => {
    setExporting(cid);
    setExportPath(info.data ? joinPath(info.data.dataDir, 'exports', `${cid}.car`) : `${cid}.car`);
  };

  return (
    <article className="card" aria-labelledby="ipfs-pins-title">
      <h2 id="ipfs-pins-title">Pins</h2>
      {pins.isLoading ? <Loading what="pins" /> : null}
      {pins.error ? <ErrorNotice error={pins.error} onRetry={() => void pins.refetch()} /> : null}
      {pins.data && pins.data.length === 0 ? (
        <Empty title="Nothing is pinned">
          Add a file above, or publish a dataset or a model: pinned content survives garbage collection.
        </Empty>
      ) : null}
      {pins.data && pins.data.length > 0 ? (
        <table className="table" aria-label="Pins">
          <thead>
            <tr>
              <th scope="col">CID</th>
              <th scope="col">Kind</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {pins.data.map((p) => (
              <tr key={p.cid} data-cid={p.cid}>
                <td>
                  <CopyableValue value={p.cid} display={shortCid(p.cid)} what="CID" />
                </td>
                <td>{p.recursive ? 'recursive' : p.depth === null ? 'direct' : `depth ${p.depth}`}</td>
                <td className="actions">
                  <button type="button" className="secondary small-button" onClick={() => openExport(p.cid)}>
                    Export CAR
                  </button>
                  <button
                    type="button"
                    className="secondary small-button"
                    onClick={() => void unpin({ cid: p.cid })}
                  >
                    Unpin
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <InlineJobProgress kind="ipfs.exportCar" />
      {exportState.error ? <ErrorNotice error={exportState.error} /> : null}
      {exportState.data ? (
        <p role="status" data-testid="car-exported">
          Exported {formatCount(exportState.data.blocks)} blocks ({formatBytes(exportState.data.bytes)}) to{' '}
          <CopyableValue value={exportState.data.path} what="path" />{' '}
          <DownloadLink path={exportState.data.path} />
        </p>
      ) : null}
      <Dialog
        open={exporting !== null}
        title="Export as a CAR file"
        onClose={() => setExporting(null)}
        footer={
          <>
            <button type="button" className="secondary" onClick={() => setExporting(null)}>
              Cancel
            </button>
            <button
              type="button"
              disabled={!exportPath.trim()}
              onClick={() => {
                if (exporting) void exportCar({ cid: exporting, path: exportPath.trim() });
                setExporting(null);
              }}
            >
              Export
            </button>
          </>
        }
      >
        <p>
          The whole DAG under <code>{exporting ? shortCid(exporting) : ''}</code> is written to one CAR file,
          for a pinning service or to carry to another machine.
        </p>
        <Field label="Save to (on the machine running XAI-Link)" hint="The file must not exist yet.">
          {(p) => <input {...p} value={exportPath} onChange={(e) => setExportPath(e.target.value)} />}
        </Field>
      </Dialog>
    </article>
  );
}

function PeersCard() {
  const peers = useIpfsPeersQuery(undefined, { pollingInterval: 5000 });
  const [connect, connectState] = useIpfsConnectMutation();
  const [address, setAddress] = useState('');
  return (
    <article className="card" aria-labelledby="ipfs-peers-title">
      <h2 id="ipfs-peers-title">Peers</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (address.trim()) void connect({ address: address.trim() });
        }}
      >
        <label htmlFor="peer-address">Connect to</label>
        <input
          id="peer-address"
          className="grow"
          value={address}
          onChange={(e) => setAddress(e.target.value)}
          placeholder="/ip4/192.168.1.20/tcp/4001/p2p/12D3Koo…"
        />
        <button type="submit" disabled={!address.trim() || connectState.isLoading}>
          Connect
        </button>
      </form>
      {connectState.error ? <ErrorNotice error={connectState.error} /> : null}
      {peers.error ? <ErrorNotice error={peers.error} /> : null}
      {peers.data && peers.data.length === 0 ? <Empty title="No peers connected yet" /> : null}
      {peers.data && peers.data.length > 0 ? (
        <table className="table" aria-label="Connected peers">
          <thead>
            <tr>
              <th scope="col">Peer</th>
              <th scope="col">Address</th>
              <th scope="col">Direction</th>
            </tr>
          </thead>
          <tbody>
            {peers.data.map((p) => (
              <tr key={`${p.peerId}-${p.address}`}>
                <td>
                  <code title={p.peerId}>{shortCid(p.peerId)}</code>
                </td>
                <td className="mono small">{p.address}</td>
                <td>{p.direction}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </article>
  );
}

/** What is being fetched from the network, and from whom: blocks received over bitswap per peer. */
function FetchesCard() {
  const fetches = useIpfsFetchesQuery(undefined, { pollingInterval: 1500 });
  const list = fetches.data ? [...fetches.data].reverse() : [];
  return (
    <article className="card" aria-labelledby="ipfs-fetches-title">
      <h2 id="ipfs-fetches-title">Fetching from the network</h2>
      {fetches.error ? <ErrorNotice error={fetches.error} /> : null}
      {fetches.data && list.length === 0 ? <Empty title="Nothing fetched from peers yet" /> : null}
      {list.length > 0 ? (
        <table className="table" aria-label="Network fetches">
          <thead>
            <tr>
              <th scope="col">Content</th>
              <th scope="col">State</th>
              <th scope="col">Blocks</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {list.map((f) => (
              <tr key={`${f.cid}-${f.startedAt}`}>
                <td>
                  <code title={f.cid}>{shortCid(f.cid)}</code>
                </td>
                <td>{f.error ? `failed: ${f.error}` : f.endedAt ? 'done' : 'fetching…'}</td>
                <td>{f.blocks}</td>
                <td>
                  {f.peers.length === 0
                    ? f.blocks === 0
                      ? 'held here'
                      : '–'
                    : f.peers.map((p) => (
                        <span key={p.peerId}>
                          <code title={p.peerId}>{shortCid(p.peerId)}</code> ({p.blocks}){' '}
                        </span>
                      ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </article>
  );
}
