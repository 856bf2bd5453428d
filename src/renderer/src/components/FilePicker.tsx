import { useId, useRef, useState, type DragEvent } from 'react';
import { uploadFile } from '../api/upload.ts';
import { formatBytes } from '../util/format.ts';

export interface PickedFile {
  /** A path on the machine that runs XAI-Link. */
  path: string;
  name: string;
  bytes: number | null;
}

/**
 * Choose input files: drop them on the zone or pick them with the file dialog (the browser uploads them
 * to the host), or type a path on the machine that runs XAI-Link (for files already there, and in the
 * desktop app, where the picked file is used where it is).
 */
export function FilePicker({
  label,
  accept,
  multiple = false,
  onPicked,
  disabled = false,
}: {
  label: string;
  accept?: string;
  multiple?: boolean;
  onPicked: (files: PickedFile[]) => void;
  disabled?: boolean;
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const [progress, setProgress] = useState<{ name: string; sent: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [typed, setTyped] = useState('');

  const upload = async (files: File[]) => {
    setError(null);
    const picked: PickedFile[] = [];
    try {
      for (const f of files) {
        setProgress({ name: f.name, sent: 0, total: f.size });
        const up = await uploadFile(f, (sent, total) => setProgress({ name: f.name, sent, total }));
        picked.push({ path: up.path, name: f.name, bytes: up.bytes });
      }
      onPicked(picked);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setProgress(null);
      if (input.current) input.current.value = '';
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (disabled) return;
    const files = [...e.dataTransfer.files];
    if (files.length > 0) void upload(multiple ? files : files.slice(0, 1));
  };

  return (
    <div className="file-picker">
      <div
        className={`drop-zone${dragging ? ' drop-zone-active' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        data-testid="drop-zone"
      >
        <p>
          <strong>{label}</strong>: drop {multiple ? 'files' : 'a file'} here, or{' '}
          <button
            type="button"
            className="secondary small-button"
            onClick={() => input.current?.click()}
            disabled={disabled || progress !== null}
          >
            choose {multiple ? 'files' : 'a file'}…
          </button>
        </p>
        <input
          ref={input}
          id={`${id}-file`}
          type="file"
          accept={accept}
          multiple={multiple}
          hidden
          aria-label={label}
          onChange={(e) => void upload([...(e.target.files ?? [])])}
        />
        {progress ? (
          <div role="status" className="small">
            Uploading {progress.name}: {formatBytes(progress.sent)} of {formatBytes(progress.total)}
            <progress
              max={progress.total || 1}
              value={progress.sent}
              aria-label={`Upload of ${progress.name}`}
            />
          </div>
        ) : null}
      </div>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const paths = typed
            .split('\n')
            .map((p) => p.trim())
            .filter(Boolean);
          if (paths.length === 0) return;
          onPicked(paths.map((p) => ({ path: p, name: p.split(/[\\/]/).pop() ?? p, bytes: null })));
          setTyped('');
        }}
      >
        <label htmlFor={`${id}-path`} className="muted small">
          or a path on the machine running XAI-Link
        </label>
        <input
          id={`${id}-path`}
          className="grow"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          placeholder="/home/me/data/input.txt"
          disabled={disabled}
        />
        <button type="submit" className="secondary" disabled={disabled || typed.trim() === ''}>
          Use path
        </button>
      </form>
      {error ? (
        <p role="alert" className="error-text small">
          {error}
        </p>
      ) : null}
    </div>
  );
}
