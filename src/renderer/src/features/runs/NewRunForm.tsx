import { useMemo, useState } from 'react';
import type { DatasetSummary } from '../../../../shared/api/datasets.ts';
import type { RequestParams } from '../../../../shared/api/index.ts';
import type { DeviceRequestName } from '../../../../shared/api/runs.ts';
import type { Precision } from '../../../../shared/engine/devices.ts';
import {
  checkConfigAgainstData,
  countParams,
  resolveModelConfig,
  runConfigSchema,
  tokensPerStep,
  type PresetId,
  type RunConfig,
} from '../../../../shared/engine/config.ts';
import { hrefFor } from '../../app/router.ts';
import { Field } from '../../components/Field.tsx';
import { Empty, ErrorNotice, Loading, PageHeader } from '../../components/StatusViews.tsx';
import { formatCompact, formatCount } from '../../util/format.ts';
import { useDatasetsQuery } from '../datasets/datasetsApi.ts';
import { useSystemInfoQuery } from '../system/systemApi.ts';
import { deviceChoices } from './deviceChoice.ts';
import { useCreateRunMutation, usePresetsQuery } from './runsApi.ts';

type Section = 'model' | 'train';
interface NumField {
  section: Section;
  key: string;
  label: string;
  hint: string;
  advanced?: boolean;
  /** May be left empty (then the engine's default applies). */
  optional?: boolean;
}

/** The hyperparameters the form shows, with nanoGPT's names as hints. */
const FIELDS: NumField[] = [
  { section: 'model', key: 'nLayer', label: 'Layers', hint: 'n_layer' },
  { section: 'model', key: 'nHead', label: 'Attention heads', hint: 'n_head' },
  { section: 'model', key: 'nEmbd', label: 'Embedding size', hint: 'n_embd' },
  { section: 'model', key: 'blockSize', label: 'Context length', hint: 'block_size, tokens' },
  { section: 'model', key: 'dropout', label: 'Dropout', hint: '0 to 0.9' },
  { section: 'train', key: 'batchSize', label: 'Batch size', hint: 'sequences per micro-batch' },
  { section: 'train', key: 'maxIters', label: 'Steps', hint: 'max_iters' },
  { section: 'train', key: 'learningRate', label: 'Learning rate', hint: 'peak, after warm-up' },
  { section: 'train', key: 'evalInterval', label: 'Evaluate every', hint: 'steps (and checkpoint)' },
  { section: 'train', key: 'evalIters', label: 'Evaluation batches', hint: 'eval_iters', advanced: true },
  {
    section: 'train',
    key: 'gradAccumSteps',
    label: 'Gradient accumulation',
    hint: 'micro-batches per step',
    advanced: true,
  },
  {
    section: 'train',
    key: 'minLr',
    label: 'Minimum learning rate',
    hint: 'end of the cosine decay',
    advanced: true,
  },
  { section: 'train', key: 'warmupIters', label: 'Warm-up steps', hint: 'warmup_iters', advanced: true },
  {
    section: 'train',
    key: 'lrDecayIters',
    label: 'Decay until step',
    hint: 'empty: the last step',
    advanced: true,
    optional: true,
  },
  { section: 'train', key: 'weightDecay', label: 'Weight decay', hint: 'AdamW', advanced: true },
  {
    section: 'train',
    key: 'gradClip',
    label: 'Gradient clipping',
    hint: 'global norm, 0 = off',
    advanced: true,
  },
  { section: 'train', key: 'beta1', label: 'Adam β1', hint: 'below 1', advanced: true },
  { section: 'train', key: 'beta2', label: 'Adam β2', hint: 'below 1', advanced: true },
  {
    section: 'train',
    key: 'logInterval',
    label: 'Log every',
    hint: 'steps between metric points',
    advanced: true,
  },
  {
    section: 'train',
    key: 'sampleInterval',
    label: 'Sample every',
    hint: 'steps, 0 = at the end',
    advanced: true,
  },
  { section: 'train', key: 'sampleTokens', label: 'Sample length', hint: 'tokens', advanced: true },
  { section: 'train', key: 'temperature', label: 'Sample temperature', hint: 'above 0', advanced: true },
  { section: 'train', key: 'seed', label: 'Seed', hint: 'same seed, same run', advanced: true },
];

const fieldId = (f: Pick<NumField, 'section' | 'key'>) => `${f.section}.${f.key}`;

function valuesFromConfig(config: RunConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of FIELDS) {
    const v = (config[f.section] as Record<string, unknown>)[f.key];
    out[fieldId(f)] = v === undefined || v === null ? '' : String(v);
  }
  out['model.bias'] = String(config.model.bias);
  out['train.decayLr'] = String(config.train.decayLr);
  return out;
}

interface Checked {
  config: RunConfig | null;
  errors: Record<string, string>;
}

/** Checks the form with the engine's own schema and against the chosen dataset, field by field. */
function check(
  preset: PresetId,
  values: Record<string, string>,
  dataset: DatasetSummary | undefined,
): Checked {
  const errors: Record<string, string> = {};
  const model: Record<string, unknown> = { bias: values['model.bias'] === 'true' };
  const train: Record<string, unknown> = { decayLr: values['train.decayLr'] !== 'false' };
  for (const f of FIELDS) {
    const text = (values[fieldId(f)] ?? '').trim();
    if (text === '' && f.optional) continue;
    const n = Number(text);
    if (text === '' || !Number.isFinite(n)) {
      errors[fieldId(f)] = `${f.label} must be a number.`;
      continue;
    }
    (f.section === 'model' ? model : train)[f.key] = n;
  }
  const parsed = runConfigSchema.safeParse({ preset, model, train });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.slice(0, 2).join('.');
      errors[key] ??= issue.message;
    }
  }
  const config = parsed.success ? parsed.data : null;
  if (
    config &&
    dataset &&
    dataset.vocabSize !== null &&
    dataset.trainTokens !== null &&
    dataset.valTokens !== null
  ) {
    for (const issue of checkConfigAgainstData(config, {
      vocabSize: dataset.vocabSize,
      trainTokens: dataset.trainTokens,
      valTokens: dataset.valTokens,
    })) {
      errors[issue.path] ??= issue.message;
    }
  }
  return { config: Object.keys(errors).length === 0 ? config : null, errors };
}

export function NewRunForm({ datasetId }: { datasetId?: string }) {
  const presets = usePresetsQuery(undefined);
  const datasets = useDatasetsQuery(undefined);
  const info = useSystemInfoQuery({ refresh: false });
  const [create, createState] = useCreateRunMutation();

  const [name, setName] = useState('');
  const [pickedDataset, setDataset] = useState(datasetId ?? '');
  const [preset, setPreset] = useState<PresetId>('cpu-tiny');
  const [device, setDevice] = useState<DeviceRequestName>('auto');
  const [precision, setPrecision] = useState<Precision>('f32');
  const [threads, setThreads] = useState('');
  const [edited, setValues] = useState<Record<string, string> | null>(null);

  const presetInfo = presets.data?.find((p) => p.id === preset);
  // The form shows the preset's values until the user edits one.
  const values = edited ?? (presetInfo ? valuesFromConfig(presetInfo.config) : null);
  const usable = (datasets.data ?? []).filter((d) => !d.error);
  const dataset = pickedDataset || usable[0]?.id || '';

  const chosen = usable.find((d) => d.id === dataset);
  const { config, errors } = useMemo(
    () => (values ? check(preset, values, chosen) : { config: null, errors: {} }),
    [preset, values, chosen],
  );
  const threadsError =
    threads.trim() !== '' && !/^[1-9]\d*$/.test(threads.trim())
      ? 'Threads must be a whole number above 0.'
      : null;

  const choices = deviceChoices(info.data?.onnxRuntime.providers ?? []);
  // f16 products exist on the engine's kernels where the adapter has matrix units (the System probe says)
  const f16Offered = (info.data?.onnxRuntime.providers ?? []).some(
    (p) => p.name === 'dawn' && p.usable && p.precisions?.includes('f16'),
  );
  const f16Possible = f16Offered && (device === 'dawn' || device === 'auto');
  const runPrecision: Precision = f16Possible ? precision : 'f32';

  const submit = async () => {
    if (!config || !chosen || threadsError) return;
    const params: RequestParams<'runs.create'> = {
      data: { path: chosen.path },
      preset,
      model: config.model,
      train: config.train,
      device,
      precision: runPrecision,
      ...(name.trim() ? { name: name.trim() } : {}),
      ...(threads.trim() ? { threads: Number(threads) } : {}),
    };
    const r = await create(params);
    if ('data' in r && r.data) location.hash = hrefFor('runs', r.data.id);
  };

  const params =
    config && chosen?.vocabSize
      ? countParams(resolveModelConfig(config, { vocabSize: chosen.vocabSize }))
      : null;

  return (
    <section aria-labelledby="page-title">
      <PageHeader title="New training run">
        <a className="button secondary" href={hrefFor('runs')}>
          All runs
        </a>
      </PageHeader>
      {presets.isLoading || datasets.isLoading ? <Loading what="presets and datasets" /> : null}
      {presets.error ? <ErrorNotice error={presets.error} onRetry={() => void presets.refetch()} /> : null}
      {datasets.error ? <ErrorNotice error={datasets.error} onRetry={() => void datasets.refetch()} /> : null}
      {datasets.data && usable.length === 0 ? (
        <Empty title="No dataset to train on">
          Prepare one first on the <a href={hrefFor('datasets')}>Datasets</a> page (tiny-shakespeare takes a
          second).
        </Empty>
      ) : null}
      {values && usable.length > 0 ? (
        <form
          className="card"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <div className="form-grid">
            <Field
              label="Dataset"
              hint={
                chosen
                  ? `${chosen.tokenizer ?? '?'} · vocabulary ${chosen.vocabSize ?? '?'} · ${formatCompact(chosen.trainTokens ?? 0)} train tokens`
                  : undefined
              }
            >
              {(p) => (
                <select {...p} value={dataset} onChange={(e) => setDataset(e.target.value)}>
                  {usable.map((d) => (
                    <option key={d.id} value={d.id}>
                      {d.name ?? d.id}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Preset" hint={presetInfo?.description}>
              {(p) => (
                <select
                  {...p}
                  value={preset}
                  onChange={(e) => {
                    const id = e.target.value as PresetId;
                    setPreset(id);
                    const info = presets.data?.find((x) => x.id === id);
                    if (info) setValues(valuesFromConfig(info.config));
                  }}
                >
                  {(presets.data ?? []).map((p) => (
                    <option key={p.id} value={p.id}>
                      {p.label}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field
              label="Device"
              hint={
                device === 'auto'
                  ? choices.autoHint
                  : 'Only devices that passed the probe on this machine are listed (see System).'
              }
            >
              {(p) => (
                <select
                  {...p}
                  value={device}
                  onChange={(e) => setDevice(e.target.value as DeviceRequestName)}
                >
                  {choices.devices.map((d) => (
                    <option key={d} value={d}>
                      {choices.label(d)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {f16Possible ? (
              <Field
                label="Matrix products"
                hint={
                  precision === 'f16'
                    ? "f16 operands on the GPU's matrix units (tensor cores), summed in f32; weights and AdamW stay f32. Trains on the engine kernels."
                    : 'f32: the arithmetic of nanoGPT and of the CPU.'
                }
              >
                {(p) => (
                  <select
                    {...p}
                    value={precision}
                    onChange={(e) => setPrecision(e.target.value as Precision)}
                  >
                    <option value="f32">f32 (exact)</option>
                    <option value="f16">f16 on matrix units</option>
                  </select>
                )}
              </Field>
            ) : null}
            <Field label="Name (optional)">
              {(p) => (
                <input
                  {...p}
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                  placeholder="shakespeare v1"
                />
              )}
            </Field>
            <Field label="CPU threads" hint="empty: one per core" error={threadsError}>
              {(p) => (
                <input
                  {...p}
                  inputMode="numeric"
                  value={threads}
                  onChange={(e) => setThreads(e.target.value)}
                />
              )}
            </Field>
          </div>
          <fieldset>
            <legend>Model</legend>
            <div className="form-grid">
              <NumberFields
                fields={FIELDS.filter((f) => f.section === 'model')}
                values={values}
                setValues={setValues}
                errors={errors}
              />
              <label className="checkbox">
                <input
                  type="checkbox"
                  checked={values['model.bias'] === 'true'}
                  onChange={(e) => setValues({ ...values, 'model.bias': String(e.target.checked) })}
                />
                bias in linear layers
              </label>
            </div>
            {errors['model.vocabSize'] ? <p className="field-error">{errors['model.vocabSize']}</p> : null}
          </fieldset>
          <fieldset>
            <legend>Training</legend>
            <div className="form-grid">
              <NumberFields
                fields={FIELDS.filter((f) => f.section === 'train' && !f.advanced)}
                values={values}
                setValues={setValues}
                errors={errors}
              />
            </div>
            <details open={FIELDS.some((f) => f.advanced && errors[fieldId(f)])}>
              <summary>More settings</summary>
              <div className="form-grid">
                <NumberFields
                  fields={FIELDS.filter((f) => f.section === 'train' && f.advanced)}
                  values={values}
                  setValues={setValues}
                  errors={errors}
                />
                <label className="checkbox">
                  <input
                    type="checkbox"
                    checked={values['train.decayLr'] !== 'false'}
                    onChange={(e) => setValues({ ...values, 'train.decayLr': String(e.target.checked) })}
                  />
                  cosine learning-rate decay
                </label>
              </div>
            </details>
          </fieldset>
          <p className="muted" role="status" data-testid="run-estimate">
            {config && params !== null
              ? `${formatCompact(params)} parameters · ${formatCount(tokensPerStep(config))} tokens per step · ${formatCompact(tokensPerStep(config) * config.train.maxIters)} tokens in all`
              : `${Object.keys(errors).length} setting${Object.keys(errors).length === 1 ? '' : 's'} to fix before the run can start.`}
          </p>
          {createState.error ? <ErrorNotice error={createState.error} /> : null}
          <div className="row">
            <button
              type="submit"
              disabled={!config || !chosen || Boolean(threadsError) || createState.isLoading}
            >
              {createState.isLoading ? 'Starting…' : 'Start training'}
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}

/** One number field per entry, each with its own validation message. */
function NumberFields({
  fields,
  values,
  setValues,
  errors,
}: {
  fields: NumField[];
  values: Record<string, string>;
  setValues: (v: Record<string, string>) => void;
  errors: Record<string, string | undefined>;
}) {
  return fields.map((f) => (
    <NumberField
      key={fieldId(f)}
      field={f}
      values={values}
      setValues={setValues}
      error={errors[fieldId(f)]}
    />
  ));
}

function NumberField({
  field,
  values,
  setValues,
  error,
}: {
  field: NumField;
  values: Record<string, string>;
  setValues: (v: Record<string, string>) => void;
  error: string | undefined;
}) {
  const id = fieldId(field);
  return (
    <Field label={field.label} hint={field.hint} error={error}>
      {(p) => (
        <input
          {...p}
          name={id}
          inputMode="decimal"
          value={values[id] ?? ''}
          onChange={(e) => {
            const next = { ...values, [id]: e.target.value };
            // The presets decay the learning rate until their last step: keep it so when the steps change.
            if (id === 'train.maxIters' && values['train.lrDecayIters'] === values['train.maxIters']) {
              next['train.lrDecayIters'] = e.target.value;
            }
            setValues(next);
          }}
        />
      )}
    </Field>
  );
}
