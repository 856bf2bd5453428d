import { useEffect, useState } from 'react';

/** Copies a value to the clipboard and says so (for screen readers too). */
export function CopyButton({ value, label = 'Copy' }: { value: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const t = setTimeout(() => setState('idle'), 1800);
    return () => clearTimeout(t);
  }, [state]);
  return (
    <button
      type="button"
      className="secondary small-button"
      onClick={() => {
        navigator.clipboard.writeText(value).then(
          () => setState('copied'),
          () => setState('failed'),
        );
      }}
    >
      <span aria-live="polite">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : label}
      </span>
    </button>
  );
}

/** A CID (or address) in monospace, shortened with the full value in its title, and a copy button. */
export function CopyableValue({
  value,
  display,
  what,
}: {
  value: string;
  display?: string;
  /** "CID", "address"… used in the button's accessible name. */
  what: string;
}) {
  return (
    <span className="copyable">
      <code title={value} data-value={value}>
        {display ?? value}
      </code>
      <CopyButton value={value} label={`Copy ${what}`} />
    </span>
  );
}
