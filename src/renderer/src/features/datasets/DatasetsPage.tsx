import { useState } from 'react';
import type { DatasetManifest } from '../../../../shared/datasets/manifest.ts';
import type { FileReport } from '../../../../shared/datasets/report.ts';
import { hrefFor } from '../../app/router.ts';
import { CopyableValue } from '../../components/CopyButton.tsx';
import { DownloadLink } from '../../components/DownloadLink.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { Empty, ErrorNotice, Loading, PageHeader } from '../../components/StatusViews.tsx';
import { formatBytes, formatCount, formatTime, joinPath, shortCid } from '../../util/format.ts';
import { useIpfsExportCarMutation, useIpfsPinsQuery } from '../ipfs/ipfsApi.ts';
import { InlineJobProgress } from '../jobs/InlineJobProgress.tsx';
import { useSystemInfoQuery } from '../system/systemApi.ts';
import {
  useDatasetQuery,
  useDatasetsQuery,
  useDeleteDatasetMutation,
  usePublishDatasetMutation,
} from './datasetsApi.ts';
import { ImportForm } from './ImportForm.tsx';
import { TokenizerPreview } from './TokenizerPreview.tsx';

export function DatasetsPage({ rest }: { rest: string[] }) {
  const id = rest[0];
  return id ? <DatasetDetail id={id} /> : <DatasetList />;
}

function DatasetList() {
  const list = useDatasetsQuery(undefined);
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Datasets" />
      <ImportForm />
      <article className="card" aria-labelledby="datasets-title">
        <h2 id="datasets-title">Prepared datasets</h2>
        {list.isLoading ? <Loading what="datasets" /> : null}
        {list.error ? <ErrorNotice error={list.error} onRetry={() => void list.refetch()} /> : null}
        {list.data && list.data.length === 0 ? (
          <Empty title="No datasets yet">
            Import a text file above; tiny-shakespeare (1 MB) prepares in about a second.
          </Empty>
        ) : null}
        {list.data && list.data.length > 0 ? (
          <table className="table" aria-label="Datasets">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Tokenizer</th>
                <th scope="col">Vocabulary</th>
                <th scope="col">Train tokens</th>
                <th scope="col">Val tokens</th>
                <th scope="col">Size</th>
                <th scope="col">IPFS</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((d) => (
                <tr key={d.id} data-dataset={d.id}>
                  <td>
                    <a href={hrefFor('datasets', d.id)}>{d.name ?? d.id}</a>
                    {d.error ? <div className="error-text small">{d.error}</div> : null}
                  </td>
                  <td>{d.tokenizer ?? '—'}</td>
                  <td>{d.vocabSize === null ? '—' : formatCount(d.vocabSize)}</td>
                  <td>{d.trainTokens === null ? '—' : formatCount(d.trainTokens)}</td>
                  <td>{d.valTokens === null ? '—' : formatCount(d.valTokens)}</td>
                  <td>{formatBytes(d.bytes)}</td>
                  <td>{d.cid ? <code title={d.cid}>{shortCid(d.cid)}</code> : 'not published'}</td>
                  <td>{d.createdAt ? formatTime(Date.parse(d.createdAt)) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </article>
    </section>
  );
}

function DatasetDetail({ id }: { id: string }) {
  const q = useDatasetQuery(id);
  const [remove, removeState] = useDeleteDatasetMutation();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const d = q.data;
  const m = d?.manifest;
  return (
    <section aria-labelledby="page-title">
      <PageHeader title={m ? `Dataset: ${m.name}` : 'Dataset'}>
        <a className="button secondary" href={hrefFor('datasets')}>
          All datasets
        </a>
        {d ? (
          <a className="button" href={hrefFor('runs', 'new', id)}>
            Train on this dataset
          </a>
        ) : null}
      </PageHeader>
      {q.isLoading ? <Loading what="the dataset" /> : null}
      {q.error ? <ErrorNotice error={q.error} onRetry={() => void q.refetch()} /> : null}
      {d && m ? (
        <>
          <div className="cards">
            <article className="card" aria-labelledby="ds-stats">
              <h2 id="ds-stats">Statistics</h2>
              <dl className="kv">
                <dt>Tokenizer</dt>
                <dd>
                  {m.tokenizerSpec ?? m.tokenizer.kind} · vocabulary {formatCount(m.vocabSize)} · {m.dtype}
                </dd>
                <dt>Created</dt>
                <dd>{formatTime(Date.parse(m.createdAt))}</dd>
                <dt>Folder</dt>
                <dd>
                  <CopyableValue value={d.path} what="path" />
                </dd>
              </dl>
              <table className="table compact" aria-label="Splits">
                <thead>
                  <tr>
                    <th scope="col">Split</th>
                    <th scope="col">Documents</th>
                    <th scope="col">Characters</th>
                    <th scope="col">Tokens</th>
                    <th scope="col">Size</th>
                  </tr>
                </thead>
                <tbody>
                  {(['train', 'val'] as const).map((s) => (
                    <tr key={s}>
                      <th scope="row">{s}</th>
                      <td>{formatCount(m.splits[s].documents)}</td>
                      <td>{formatCount(m.splits[s].characters)}</td>
                      <td>{formatCount(m.splits[s].tokens)}</td>
                      <td>{formatBytes(m.splits[s].bytes)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </article>
            <PublishCard id={d.id} name={m.name} cid={d.cid} publishedAt={d.publishedAt} />
          </div>
          <CleaningReport cleaning={d.report?.cleaning ?? m.cleaning} />
          {d.report ? <FilesReport files={d.report.files} /> : null}
          <article className="card" aria-labelledby="ds-tokens">
            <h2 id="ds-tokens">Tokenizer preview</h2>
            <TokenizerPreview dataset={id} />
          </article>
          <details className="card">
            <summary>
              <strong>Dataset card</strong> (README.md)
            </summary>
            <pre className="preview card-text">{d.card}</pre>
          </details>
          <div className="row">
            <button type="button" className="danger" onClick={() => setConfirmDelete(true)}>
              Delete dataset
            </button>
            {removeState.error ? <ErrorNotice error={removeState.error} /> : null}
          </div>
          <Dialog
            open={confirmDelete}
            title={`Delete “${m.name}”?`}
            onClose={() => setConfirmDelete(false)}
            footer={
              <>
                <button type="button" className="secondary" onClick={() => setConfirmDelete(false)}>
                  Keep it
                </button>
                <button
                  type="button"
                  className="danger"
                  onClick={() => {
                    setConfirmDelete(false);
                    void remove(id).then((r) => {
                      if ('data' in r) location.hash = hrefFor('datasets');
                    });
                  }}
                >
                  Delete
                </button>
              </>
            }
          >
            <p>
              The folder <code>{d.path}</code> is deleted. Runs trained on it keep their checkpoints; copies
              on IPFS stay until unpinned.
            </p>
          </Dialog>
        </>
      ) : null}
    </section>
  );
}

function PublishCard({
  id,
  name,
  cid,
  publishedAt,
}: {
  id: string;
  name: string;
  cid: string | null;
  publishedAt: string | null;
}) {
  const [publish, publishState] = usePublishDatasetMutation({ fixedCacheKey: `publish:${id}` });
  const [exportCar, exportState] = useIpfsExportCarMutation();
  const pins = useIpfsPinsQuery(undefined, { skip: !cid });
  const info = useSystemInfoQuery({ refresh: false });
  const pinned = cid ? pins.data?.some((p) => p.cid === cid) : false;
  return (
    <article className="card" aria-labelledby="ds-ipfs">
      <h2 id="ds-ipfs">IPFS</h2>
      <p className="muted">
        Publishing adds the whole dataset folder to the embedded IPFS node and pins it; its CID names exactly
        these bytes, and the dataset keeps it.
      </p>
      {!cid ? (
        <button type="button" disabled={publishState.isLoading} onClick={() => void publish(id)}>
          {publishState.isLoading ? 'Adding…' : 'Add to IPFS'}
        </button>
      ) : (
        <dl className="kv">
          <dt>CID</dt>
          <dd data-testid="dataset-cid">
            <CopyableValue value={cid} display={shortCid(cid)} what="CID" />
          </dd>
          <dt>Published</dt>
          <dd>{publishedAt ? formatTime(Date.parse(publishedAt)) : '—'}</dd>
          <dt>Pinned</dt>
          <dd>
            {pins.isLoading ? (
              '…'
            ) : pinned ? (
              'yes'
            ) : (
              <>
                no{' '}
                <button
                  type="button"
                  className="secondary small-button"
                  disabled={publishState.isLoading}
                  onClick={() => void publish(id)}
                >
                  Pin again
                </button>
              </>
            )}
          </dd>
          <dt>CAR</dt>
          <dd>
            <button
              type="button"
              className="secondary small-button"
              disabled={exportState.isLoading || !info.data}
              onClick={() =>
                info.data &&
                void exportCar({
                  cid,
                  path: joinPath(info.data.dataDir, 'exports', `${name}-${Date.now()}.car`),
                })
              }
            >
              Export CAR
            </button>
            {exportState.data ? (
              <div className="small" role="status">
                Written to <code>{exportState.data.path}</code> ({formatBytes(exportState.data.bytes)}){' '}
                <DownloadLink path={exportState.data.path} />
              </div>
            ) : null}
          </dd>
        </dl>
      )}
      <InlineJobProgress kind="datasets.publish" />
      {publishState.error ? <ErrorNotice error={publishState.error} /> : null}
      {exportState.error ? <ErrorNotice error={exportState.error} /> : null}
    </article>
  );
}

type Cleaning = NonNullable<DatasetManifest['cleaning']>;

function CleaningReport({ cleaning }: { cleaning: Cleaning | undefined }) {
  if (!cleaning) return null;
  return (
    <article className="card" aria-labelledby="ds-cleaning">
      <h2 id="ds-cleaning">Cleaning report</h2>
      <p>
        {formatCount(cleaning.documentsIn)} documents ({formatCount(cleaning.charactersIn)} characters) in,{' '}
        {formatCount(cleaning.documentsOut)} ({formatCount(cleaning.charactersOut)} characters) kept.{' '}
        {cleaning.normalizedDocuments > 0
          ? `${formatCount(cleaning.normalizedDocuments)} normalised (Unicode NFC, line endings).`
          : ''}
      </p>
      <table className="table compact" aria-label="Cleaning steps">
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">What it does</th>
            <th scope="col">Removed documents</th>
            <th scope="col">Removed characters</th>
          </tr>
        </thead>
        <tbody>
          {cleaning.steps.map((s) => (
            <tr key={s.step} className={s.enabled ? '' : 'muted'}>
              <th scope="row">
                {s.step}
                {s.enabled ? '' : ' (off)'}
              </th>
              <td>
                {s.description}
                {s.examples.length > 0 ? (
                  <details>
                    <summary className="small">examples</summary>
                    <ul className="small">
                      {s.examples.map((e, i) => (
                        <li key={i}>
                          <code>{e.document}</code> {e.duplicateOf ? `duplicates ${e.duplicateOf}` : ''}{' '}
                          {e.similarity !== undefined ? `(${(e.similarity * 100).toFixed(0)}% similar)` : ''}:{' '}
                          <span className="muted">{e.preview}</span>
                        </li>
                      ))}
                    </ul>
                  </details>
                ) : null}
              </td>
              <td>{formatCount(s.removedDocuments)}</td>
              <td>{formatCount(s.removedCharacters)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}

function FilesReport({ files }: { files: FileReport[] }) {
  return (
    <article className="card" aria-labelledby="ds-files">
      <h2 id="ds-files">Input files</h2>
      <table className="table compact" aria-label="Input files">
        <thead>
          <tr>
            <th scope="col">File</th>
            <th scope="col">Format</th>
            <th scope="col">Status</th>
            <th scope="col">Documents</th>
            <th scope="col">Size</th>
          </tr>
        </thead>
        <tbody>
          {files.map((f) => (
            <tr key={f.path}>
              <td>
                <code>{f.path}</code>
                {f.problems.map((p, i) => (
                  <div key={i} className="small">
                    <span className="error-text">{p.message}</span> <span className="muted">{p.hint}</span>
                  </div>
                ))}
              </td>
              <td>{f.format ?? '—'}</td>
              <td>
                <span className={`badge ${f.status === 'ok' ? 'badge-ok' : 'badge-no'}`}>{f.status}</span>
              </td>
              <td>{formatCount(f.documents)}</td>
              <td>{formatBytes(f.bytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}
