import { useState } from 'react';
import { hrefFor } from '../../app/router.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { Field } from '../../components/Field.tsx';
import { FilePicker, type PickedFile } from '../../components/FilePicker.tsx';
import { ErrorNotice } from '../../components/StatusViews.tsx';
import { useImportRunMutation } from './runsApi.ts';

/**
 * Runs → Import: a model trained elsewhere becomes a run (nanoGPT's ckpt.pt with its meta.pkl, or
 * Hugging Face GPT-2's model.safetensors with its config.json). The files are read as data only.
 */
export function ImportRunDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [model, setModel] = useState<PickedFile | null>(null);
  const [meta, setMeta] = useState<PickedFile | null>(null);
  const [config, setConfig] = useState<PickedFile | null>(null);
  const [tokenizer, setTokenizer] = useState<'' | 'char' | 'gpt2'>('');
  const [name, setName] = useState('');
  const [importRun, state] = useImportRunMutation();
  const isSafetensors = model?.name.endsWith('.safetensors') ?? false;

  const submit = async () => {
    if (!model) return;
    const r = await importRun({
      path: model.path,
      ...(meta ? { meta: meta.path } : {}),
      ...(config && isSafetensors ? { config: config.path } : {}),
      ...(tokenizer ? { tokenizer } : {}),
      ...(name.trim() ? { name: name.trim() } : {}),
    });
    if ('data' in r && r.data) {
      onClose();
      location.hash = hrefFor('runs', r.data.run.id);
    }
  };

  return (
    <Dialog
      open={open}
      title="Import a model"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="button" disabled={!model || state.isLoading} onClick={() => void submit()}>
            {state.isLoading ? 'Importing…' : 'Import'}
          </button>
        </>
      }
    >
      <p className="muted small">
        nanoGPT&apos;s <code>ckpt.pt</code> (weights, AdamW state and iteration: training continues where it
        stopped) or Hugging Face GPT-2 <code>model.safetensors</code>. The file is read as data; nothing in it
        runs.
      </p>
      <FilePicker
        label="Model file (ckpt.pt or model.safetensors)"
        accept=".pt,.safetensors"
        onPicked={(f) => setModel(f[0] ?? null)}
      />
      {model ? <p className="small">Model: {model.name}</p> : null}
      {isSafetensors ? (
        <>
          <FilePicker
            label="config.json (if not next to the model)"
            accept=".json"
            onPicked={(f) => setConfig(f[0] ?? null)}
          />
          {config ? <p className="small">Config: {config.name}</p> : null}
        </>
      ) : (
        <>
          <FilePicker
            label="meta.pkl (char vocabulary, optional)"
            accept=".pkl"
            onPicked={(f) => setMeta(f[0] ?? null)}
          />
          {meta ? <p className="small">Vocabulary: {meta.name}</p> : null}
        </>
      )}
      <Field label="Tokenizer" hint="automatic: from meta.pkl, else GPT-2 for GPT-2 vocabularies">
        {(a) => (
          <select
            {...a}
            value={tokenizer}
            onChange={(e) => setTokenizer(e.target.value as '' | 'char' | 'gpt2')}
          >
            <option value="">automatic</option>
            <option value="char">char (from meta.pkl)</option>
            <option value="gpt2">GPT-2</option>
          </select>
        )}
      </Field>
      <Field label="Name (optional)">
        {(a) => <input {...a} value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />}
      </Field>
      {state.error ? <ErrorNotice error={state.error} /> : null}
    </Dialog>
  );
}
