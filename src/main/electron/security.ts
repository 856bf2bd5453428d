import type { Session, WebContents } from 'electron';
import type { ResultEnvelope } from '../../shared/api/wire.ts';
import { contentSecurityPolicy } from '../host/contentSecurityPolicy.ts';

/**
 * The Electron shell's security decisions, as pure functions of plain values (unit-tested without Electron),
 * and the thin wiring that applies them to Electron objects. Only types come from 'electron' here: the
 * caller passes what needs the running app (`shell.openExternal`).
 */

/** Pages a link in the app may open in the user's browser; anything else is ignored. */
export const EXTERNAL_LINK_ALLOW_LIST = [
  'https://github.com/',
  'https://docs.ipfs.tech/',
  'https://sepolia.etherscan.io/',
  'https://etherscan.io/',
  'https://cloud.reown.com/',
  'https://walletconnect.com/',
  'https://onnxruntime.ai/',
];

export function isAllowedExternalLink(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:' || parsed.username || parsed.password) return false;
  return EXTERNAL_LINK_ALLOW_LIST.some((prefix) => parsed.href.startsWith(prefix));
}

/**
 * Whether a URL is the app's own page: on the dev server's origin (development), or the bundled
 * index.html itself, whatever its query or #route (packaged). Anything else is a foreign page.
 */
export function appUrlMatcher(app: {
  devServerUrl?: string | null;
  rendererIndexUrl: string;
}): (url: string) => boolean {
  const parse = (url: string): URL | null => {
    try {
      return new URL(url);
    } catch {
      return null;
    }
  };
  if (app.devServerUrl) {
    const origin = new URL(app.devServerUrl).origin;
    return (url) => parse(url)?.origin === origin;
  }
  const index = new URL(app.rendererIndexUrl);
  return (url) => {
    const u = parse(url);
    return u !== null && u.protocol === 'file:' && u.host === index.host && u.pathname === index.pathname;
  };
}

/** The answer to an IPC request from a frame that is not the app's page (null: the request may proceed). */
export function ipcSenderRefusal(
  senderUrl: string | null | undefined,
  isAppUrl: (url: string) => boolean,
): ResultEnvelope | null {
  if (senderUrl && isAppUrl(senderUrl)) return null;
  return { ok: false, error: { code: 'UNAUTHORIZED', message: 'request from a page that is not XAI-Link' } };
}

/** The app asks for no browser permission (camera, geolocation, notifications, …) but writing the clipboard. */
export function isPermissionGranted(permission: string): boolean {
  return permission === 'clipboard-sanitized-write';
}

/** Response headers with our CSP in place of any Content-Security-Policy the response had (any letter case). */
export function withContentSecurityPolicy(
  headers: Record<string, string | string[]> | undefined,
  csp: string,
): Record<string, string | string[]> {
  const kept = Object.entries(headers ?? {}).filter(
    ([name]) => name.toLowerCase() !== 'content-security-policy',
  );
  return { ...Object.fromEntries(kept), 'Content-Security-Policy': [csp] };
}

/** Adds our CSP to every response the renderer loads (the HTML also carries it in a meta tag). */
export function applyContentSecurityPolicy(ses: Session): void {
  const csp = contentSecurityPolicy();
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders, csp) });
  });
  ses.setPermissionRequestHandler((_wc, permission, callback) => callback(isPermissionGranted(permission)));
  ses.setPermissionCheckHandler((_wc, permission) => isPermissionGranted(permission));
}

/**
 * Locks a web contents to the app: no navigation away, no new windows, no <webview>; links to
 * allow-listed sites open in the user's browser (`openExternal`: Electron's shell.openExternal) instead.
 */
export function lockNavigation(
  contents: WebContents,
  isAppUrl: (url: string) => boolean,
  openExternal: (url: string) => Promise<void>,
): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalLink(url)) void openExternal(url);
    return { action: 'deny' };
  });
}
