import type { SerializedError } from '@reduxjs/toolkit';
import type { ApiErrorData } from '../../../shared/api/errors.ts';

/** Every page shows the same three states the same way: loading, empty, error. */
export function Loading({ what }: { what: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children ? <div>{children}</div> : null}
    </div>
  );
}

export function errorMessage(error: ApiErrorData | SerializedError | undefined): {
  message: string;
  hint?: string;
} {
  if (!error) return { message: 'Unknown error' };
  if ('code' in error && typeof error.code === 'string' && 'message' in error) {
    const data = error as ApiErrorData;
    return { message: data.message, hint: data.hint };
  }
  return { message: (error as SerializedError).message ?? 'Unknown error' };
}

export function ErrorNotice({
  error,
  onRetry,
}: {
  error: ApiErrorData | SerializedError | undefined;
  onRetry?: () => void;
}) {
  const { message, hint } = errorMessage(error);
  // A job the user cancelled did not go wrong: say it stopped, not that it failed.
  const cancelled = error !== undefined && 'code' in error && error.code === 'CANCELLED';
  return (
    <div className="state state-error" role="alert">
      <strong>{cancelled ? 'Cancelled.' : 'Something went wrong.'}</strong>
      <p>{message}</p>
      {hint ? <p className="hint">{hint}</p> : null}
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function PageHeader({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <header className="page-header">
      <h1 id="page-title">{title}</h1>
      <div className="page-actions">{children}</div>
    </header>
  );
}
