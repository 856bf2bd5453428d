import { useMemo, useState } from 'react';
import { prepareParamsSchema, type PrepareResult } from '../../../../shared/api/datasets.ts';
import type { RequestParams } from '../../../../shared/api/index.ts';
import { Field } from '../../components/Field.tsx';
import { FilePicker, type PickedFile } from '../../components/FilePicker.tsx';
import { ErrorNotice } from '../../components/StatusViews.tsx';
import { hrefFor } from '../../app/router.ts';
import { formatBytes, formatCount, formatDuration } from '../../util/format.ts';
import { InlineJobProgress } from '../jobs/InlineJobProgress.tsx';
import { useInspectInputQuery, usePrepareDatasetMutation } from './datasetsApi.ts';
import { TokenizerPreview } from './TokenizerPreview.tsx';

interface FormState {
  name: string;
  tokenizer: 'char' | 'gpt2' | 'bpe';
  bpeVocab: string;
  valRatio: string;
  dedup: boolean;
  nearDupOn: boolean;
  nearDup: string;
  lowercase: boolean;
  minChars: string;
  maxChars: string;
  textField: string;
  csvColumn: string;
  seed: string;
}

const initial: FormState = {
  name: '',
  tokenizer: 'char',
  bpeVocab: '4096',
  valRatio: '0.1',
  dedup: true,
  nearDupOn: false,
  nearDup: '0.8',
  lowercase: false,
  minChars: '0',
  maxChars: '',
  textField: 'text',
  csvColumn: 'text',
  seed: '1337',
};

/** Text → number for the schema; non-numbers become NaN, which the checks below report in words. */
const num = (s: string): number => (s.trim() === '' ? Number.NaN : Number(s));

/** Builds the request from the form and checks it with the contract's own schema, field by field. */
function validate(
  inputs: PickedFile[],
  f: FormState,
): { params: RequestParams<'datasets.prepare'> | null; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const numeric: [keyof FormState, string, boolean][] = [
    ['valRatio', 'the validation share', true],
    ['minChars', 'the minimum length', true],
    ['seed', 'the seed', true],
    ['maxChars', 'the maximum length', false],
  ];
  for (const [key, what, required] of numeric) {
    const text = String(f[key]).trim();
    if ((required || text !== '') && !Number.isFinite(num(text))) errors[key] = `Enter a number for ${what}.`;
  }
  if (f.tokenizer === 'bpe' && !/^\d+$/.test(f.bpeVocab.trim()))
    errors.tokenizer = 'Enter the BPE vocabulary size, e.g. 4096.';
  if (f.nearDupOn && !Number.isFinite(num(f.nearDup)))
    errors.nearDup = 'Enter a similarity between 0 and 1, e.g. 0.8.';
  const raw = {
    inputs: inputs.map((i) => i.path),
    tokenizer: f.tokenizer === 'bpe' ? `bpe:${f.bpeVocab.trim()}` : f.tokenizer,
    valRatio: num(f.valRatio),
    dedup: f.dedup,
    nearDup: f.nearDupOn ? num(f.nearDup) : null,
    lowercase: f.lowercase,
    minChars: num(f.minChars),
    maxChars: f.maxChars.trim() === '' ? null : num(f.maxChars),
    textField: f.textField.trim(),
    csvColumn: f.csvColumn.trim(),
    seed: num(f.seed),
    ...(f.name.trim() ? { name: f.name.trim() } : {}),
  };
  const parsed = prepareParamsSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? 'form');
      errors[key] ??=
        key === 'inputs' && inputs.length === 0 ? 'Add at least one input file.' : issue.message;
    }
  }
  return {
    params: Object.keys(errors).length === 0 ? (raw as RequestParams<'datasets.prepare'>) : null,
    errors,
  };
}

export function ImportForm() {
  const [inputs, setInputs] = useState<PickedFile[]>([]);
  const [form, setForm] = useState<FormState>(initial);
  const [touched, setTouched] = useState(false);
  const [prepare, prepareState] = usePrepareDatasetMutation();
  const { params, errors } = useMemo(() => validate(inputs, form), [inputs, form]);
  const shown = (key: string) => (touched || key !== 'inputs' ? errors[key] : undefined);
  const set = <K extends keyof FormState>(key: K, value: FormState[K]) =>
    setForm((f) => ({ ...f, [key]: value }));

  return (
    <article className="card" aria-labelledby="import-title">
      <h2 id="import-title">Import text</h2>
      <p className="muted">
        Plain text, Markdown, JSON Lines (one text field per line) and CSV/TSV (one text column). Everything
        is prepared on this machine, offline.
      </p>
      <FilePicker
        label="Input files"
        multiple
        accept=".txt,.md,.jsonl,.csv,.tsv,text/plain"
        onPicked={(files) => {
          setInputs((old) => [...old, ...files.filter((f) => !old.some((o) => o.path === f.path))]);
          setTouched(true);
        }}
      />
      {inputs.length > 0 ? (
        <ul className="inputs" aria-label="Inputs">
          {inputs.map((i) => (
            <InputRow
              key={i.path}
              input={i}
              textField={form.textField}
              csvColumn={form.csvColumn}
              onTextField={(v) => set('textField', v)}
              onCsvColumn={(v) => set('csvColumn', v)}
              onRemove={() => setInputs((old) => old.filter((o) => o.path !== i.path))}
            />
          ))}
        </ul>
      ) : null}
      {shown('inputs') ? (
        <p className="field-error" role="alert">
          {errors.inputs}
        </p>
      ) : null}

      <form
        onSubmit={(e) => {
          e.preventDefault();
          setTouched(true);
          if (params) void prepare(params);
        }}
        noValidate
      >
        <fieldset>
          <legend>Tokenizer</legend>
          <div className="form-grid">
            <Field
              label="Kind"
              error={shown('tokenizer')}
              hint={
                form.tokenizer === 'char'
                  ? 'One token per character (nanoGPT shakespeare_char).'
                  : form.tokenizer === 'gpt2'
                    ? 'The GPT-2 encoding (50,257 tokens).'
                    : 'Byte-level BPE trained on this data.'
              }
            >
              {(p) => (
                <select
                  {...p}
                  value={form.tokenizer}
                  onChange={(e) => set('tokenizer', e.target.value as FormState['tokenizer'])}
                >
                  <option value="char">Characters</option>
                  <option value="bpe">BPE (trained here)</option>
                  <option value="gpt2">GPT-2</option>
                </select>
              )}
            </Field>
            {form.tokenizer === 'bpe' ? (
              <Field label="BPE vocabulary size" hint="258 to 262,144 tokens">
                {(p) => (
                  <input
                    {...p}
                    inputMode="numeric"
                    value={form.bpeVocab}
                    onChange={(e) => set('bpeVocab', e.target.value)}
                  />
                )}
              </Field>
            ) : null}
            <Field label="Name (optional)" error={shown('name')}>
              {(p) => (
                <input
                  {...p}
                  value={form.name}
                  onChange={(e) => set('name', e.target.value)}
                  placeholder="shakespeare-char"
                />
              )}
            </Field>
          </div>
        </fieldset>
        <fieldset>
          <legend>Cleaning</legend>
          <div className="row">
            <label className="checkbox">
              <input type="checkbox" checked={form.dedup} onChange={(e) => set('dedup', e.target.checked)} />{' '}
              remove exact duplicates
            </label>
            <label className="checkbox">
              <input
                type="checkbox"
                checked={form.nearDupOn}
                onChange={(e) => set('nearDupOn', e.target.checked)}
              />{' '}
              remove near-duplicates (MinHash)
            </label>
            <label className="checkbox">
              <input
                type="checkbox"
                checked={form.lowercase}
                onChange={(e) => set('lowercase', e.target.checked)}
              />{' '}
              lower-case
            </label>
          </div>
          <div className="form-grid">
            {form.nearDupOn ? (
              <Field label="Near-duplicate similarity" hint="Jaccard, 0–1" error={shown('nearDup')}>
                {(p) => (
                  <input
                    {...p}
                    inputMode="decimal"
                    value={form.nearDup}
                    onChange={(e) => set('nearDup', e.target.value)}
                  />
                )}
              </Field>
            ) : null}
            <Field label="Minimum length (characters)" error={shown('minChars')}>
              {(p) => (
                <input
                  {...p}
                  inputMode="numeric"
                  value={form.minChars}
                  onChange={(e) => set('minChars', e.target.value)}
                />
              )}
            </Field>
            <Field label="Maximum length (characters)" hint="empty: no limit" error={shown('maxChars')}>
              {(p) => (
                <input
                  {...p}
                  inputMode="numeric"
                  value={form.maxChars}
                  onChange={(e) => set('maxChars', e.target.value)}
                />
              )}
            </Field>
          </div>
        </fieldset>
        <fieldset>
          <legend>Split</legend>
          <div className="form-grid">
            <Field label="Validation share" hint="0 to 0.5 of the data" error={shown('valRatio')}>
              {(p) => (
                <input
                  {...p}
                  inputMode="decimal"
                  value={form.valRatio}
                  onChange={(e) => set('valRatio', e.target.value)}
                />
              )}
            </Field>
            <Field label="Seed" hint="same seed, same files" error={shown('seed')}>
              {(p) => (
                <input
                  {...p}
                  inputMode="numeric"
                  value={form.seed}
                  onChange={(e) => set('seed', e.target.value)}
                />
              )}
            </Field>
          </div>
        </fieldset>
        <details className="preview-details">
          <summary>Tokenizer preview</summary>
          <TokenizerPreview tokenizer={form.tokenizer === 'bpe' ? `bpe:${form.bpeVocab}` : form.tokenizer} />
        </details>
        <div className="row">
          <button type="submit" disabled={prepareState.isLoading || (touched && !params)}>
            {prepareState.isLoading ? 'Preparing…' : 'Prepare dataset'}
          </button>
          {touched && !params && inputs.length > 0 ? (
            <span className="field-error">Fix the fields marked above.</span>
          ) : null}
        </div>
      </form>
      <InlineJobProgress kind="datasets.prepare" label="Preparing the dataset" />
      {prepareState.error ? <ErrorNotice error={prepareState.error} /> : null}
      {prepareState.data ? <PrepareSummary result={prepareState.data} /> : null}
    </article>
  );
}

function InputRow({
  input,
  textField,
  csvColumn,
  onTextField,
  onCsvColumn,
  onRemove,
}: {
  input: PickedFile;
  textField: string;
  csvColumn: string;
  onTextField: (v: string) => void;
  onCsvColumn: (v: string) => void;
  onRemove: () => void;
}) {
  const inspect = useInspectInputQuery({ path: input.path, textField, csvColumn });
  const d = inspect.data;
  return (
    <li className="input-row">
      <div className="row">
        <strong>{input.name}</strong>
        {d ? (
          <span className="muted small">
            {d.kind === 'directory' && d.directory
              ? `folder: ${d.directory.truncated ? 'over ' : ''}${d.directory.files} files, ${formatBytes(d.directory.bytes)}${d.directory.truncated ? ' (counted the first entries only)' : ''}`
              : `${d.format ?? d.kind} · ${formatBytes(d.bytes)}`}
          </span>
        ) : inspect.isLoading ? (
          <span className="muted small">inspecting…</span>
        ) : null}
        <button
          type="button"
          className="secondary small-button"
          onClick={onRemove}
          aria-label={`Remove ${input.name}`}
        >
          Remove
        </button>
      </div>
      {inspect.error ? <ErrorNotice error={inspect.error} /> : null}
      {d && (d.format === 'jsonl' || d.format === 'csv' || d.format === 'tsv') && d.fields.length > 0 ? (
        <label className="row small">
          {d.format === 'jsonl' ? 'Text field' : 'Text column'}
          <select
            value={d.format === 'jsonl' ? textField : csvColumn}
            onChange={(e) =>
              d.format === 'jsonl' ? onTextField(e.target.value) : onCsvColumn(e.target.value)
            }
          >
            {d.fields.map((f) => (
              <option key={f}>{f}</option>
            ))}
          </select>
          {d.textFieldFound === false ? <span className="field-error">not found in this file</span> : null}
        </label>
      ) : null}
      {d && d.problems.length > 0 ? (
        <ul className="problems">
          {d.problems.map((p, i) => (
            <li key={i}>
              <strong>{p.message}</strong> <span className="muted">{p.hint}</span>
            </li>
          ))}
        </ul>
      ) : null}
      {d && d.samples[0] ? <pre className="preview small">{d.samples[0].slice(0, 300)}</pre> : null}
    </li>
  );
}

function PrepareSummary({ result }: { result: PrepareResult }) {
  const m = result.manifest;
  const c = result.cleaning;
  return (
    <div className="result" role="status" data-testid="prepare-result">
      <h3>
        Prepared “{m.name}” in {formatDuration(result.timings.totalSeconds)}
      </h3>
      <p>
        {formatCount(c.documentsIn)} documents in, {formatCount(c.documentsOut)} kept ·{' '}
        {formatCount(m.splits.train.tokens)} train tokens, {formatCount(m.splits.val.tokens)} val tokens ·
        vocabulary {formatCount(m.vocabSize)}
      </p>
      {result.files.some((f) => f.status !== 'ok') ? (
        <p className="error-text">
          {result.files.filter((f) => f.status !== 'ok').length} file(s) were skipped or partly read: see the
          report.
        </p>
      ) : null}
      {result.id ? (
        <a href={hrefFor('datasets', result.id)}>Open the dataset and its report</a>
      ) : (
        <code>{result.path}</code>
      )}
    </div>
  );
}
