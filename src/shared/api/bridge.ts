import type { ResultEnvelope } from './wire.ts';

/**
 * What the preload script exposes as `window.xai`, and nothing more: one call to invoke a
 * contract request, one to listen to contract events, the path of a chosen file and the runtime
 * versions. Results come back as envelopes rather than thrown errors because Electron IPC drops an
 * error's fields.
 */
export interface XaiBridge {
  invoke(method: string, params: unknown): Promise<ResultEnvelope>;
  /** Listens to every contract event; returns the unsubscribe function. */
  onEvent(listener: (event: string, payload: unknown) => void): () => void;
  /**
   * Desktop only: the path on disk of a file the user chose or dropped (Electron's
   * webUtils.getPathForFile). In a browser, files are uploaded to the host instead.
   */
  pathForFile?(file: File): string;
  /** Where the bridge runs, for the System page. */
  readonly runtime: { readonly electron: string; readonly chromium: string; readonly node: string };
}
