/**
 * One Content-Security-Policy for the renderer, used by the Electron window and the headless host.
 * Scripts only from the app itself; no eval; no plugins; no framing. Connections: the app's own origin
 * (the host's WebSocket), the loopback chain RPC, and WalletConnect's relay and verify services.
 * Inline styles are allowed because the chart and QR libraries set element styles.
 */
export const WALLETCONNECT_ORIGINS = [
  'https://*.walletconnect.com',
  'wss://*.walletconnect.com',
  'https://*.walletconnect.org',
  'wss://*.walletconnect.org',
  'https://*.reown.com',
  'wss://*.reown.com',
];

export function contentSecurityPolicy(extraConnect: string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ws://127.0.0.1:* http://127.0.0.1:* ${[...WALLETCONNECT_ORIGINS, ...extraConnect].join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
