import { shell, type Session, type WebContents } from 'electron';
import { contentSecurityPolicy } from '../host/contentSecurityPolicy.ts';

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

/** Adds our CSP to every response the renderer loads (the HTML also carries it in a meta tag). */
export function applyContentSecurityPolicy(ses: Session): void {
  const csp = contentSecurityPolicy();
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
  // The app asks for no browser permission (camera, geolocation, notifications, …).
  ses.setPermissionRequestHandler((_wc, permission, callback) =>
    callback(permission === 'clipboard-sanitized-write'),
  );
  ses.setPermissionCheckHandler((_wc, permission) => permission === 'clipboard-sanitized-write');
}

/**
 * Locks a web contents to the app: no navigation away, no new windows, no <webview>; links to
 * allow-listed sites open in the user's browser instead.
 */
export function lockNavigation(contents: WebContents, isAppUrl: (url: string) => boolean): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalLink(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}
