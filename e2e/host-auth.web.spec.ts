import WebSocket from 'ws';
import { expect, test } from './support/fixtures.ts';

/** The headless host refuses everything that does not carry its access token. */
test('pages and the API need the access token', async ({ host, request }) => {
  const none = await request.get(`${host.origin}/`, { maxRedirects: 0 });
  expect(none.status()).toBe(401);
  expect(await none.text()).toContain('Access token needed');

  const wrong = await request.get(`${host.origin}/?token=${'0'.repeat(host.token.length)}`, {
    maxRedirects: 0,
  });
  expect(wrong.status()).toBe(401);

  const assets = await request.get(`${host.origin}/favicon.svg`);
  expect(assets.status()).toBe(401);

  const right = await request.get(host.url, { maxRedirects: 0 });
  expect(right.status()).toBe(303);
  expect(right.headers()['set-cookie']).toContain('HttpOnly');
  expect(right.headers()['set-cookie']).toContain('SameSite=Strict');
});

function openSocket(url: string, headers: Record<string, string> = {}): Promise<number | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(0));
  });
}

test('the WebSocket refuses a missing or wrong token and a foreign origin', async ({ host }) => {
  const wsBase = host.origin.replace('http', 'ws');
  expect(await openSocket(`${wsBase}/api/ws`)).toBe(401);
  expect(await openSocket(`${wsBase}/api/ws?token=nope`)).toBe(401);
  expect(await openSocket(`${wsBase}/api/ws?token=${host.token}`, { origin: 'https://evil.example' })).toBe(
    403,
  );
  expect(await openSocket(`${wsBase}/api/ws?token=${host.token}`, { origin: host.origin })).toBe('open');
});

test('the page has a strict Content-Security-Policy', async ({ host, request }) => {
  const res = await request.get(host.url);
  const csp = res.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-eval');
});
