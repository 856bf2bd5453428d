import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resultEnvelopeSchema } from '../../shared/api/wire.ts';
import { contentSecurityPolicy } from '../host/contentSecurityPolicy.ts';
import {
  appUrlMatcher,
  EXTERNAL_LINK_ALLOW_LIST,
  ipcSenderRefusal,
  isAllowedExternalLink,
  isPermissionGranted,
  withContentSecurityPolicy,
} from './security.ts';

describe('external links', () => {
  it('opens https pages of the allow-listed sites', () => {
    for (const url of [
      'https://github.com/xai-link/xai-link/issues',
      'https://sepolia.etherscan.io/tx/0xabc',
      'https://docs.ipfs.tech/concepts/content-addressing/',
      'https://github.com', // the URL parser adds the path "/"
      'HTTPS://GitHub.com/x', // scheme and host are case-insensitive
    ])
      expect(isAllowedExternalLink(url), url).toBe(true);
  });

  it('ignores everything else: other schemes, look-alike hosts, credentials, ports, non-URLs', () => {
    for (const url of [
      'http://github.com/',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'https://github.com.evil.example/',
      'https://evil.example/https://github.com/',
      'https://github.com@evil.example/',
      'https://user:secret@github.com/',
      'https://github.com:8443/',
      'https://gist.github.com/',
      'not a url',
      '',
    ])
      expect(isAllowedExternalLink(url), url).toBe(false);
  });

  it('lists only https origins ending in "/", so no entry is a prefix of another host', () => {
    for (const prefix of EXTERNAL_LINK_ALLOW_LIST) expect(prefix).toMatch(/^https:\/\/[a-z0-9.-]+\/$/);
  });
});

describe("the app's own page", () => {
  const index = pathToFileURL('/opt/XAI Link/resources/out/renderer/index.html').href;

  it('packaged: the bundled index.html, with any query or #route, and nothing else', () => {
    const isApp = appUrlMatcher({ rendererIndexUrl: index });
    expect(index).toContain('XAI%20Link'); // Electron reports file URLs percent-encoded
    for (const url of [index, `${index}#/runs/run-1`, `${index}?theme=dark`])
      expect(isApp(url), url).toBe(true);
    for (const url of [
      `${index}.evil.html`,
      index.replace('index.html', 'other.html'),
      'file:///etc/passwd',
      index.replace('file:///', 'file://remote-host/'),
      'https://github.com/',
      'about:blank',
      'not a url',
    ])
      expect(isApp(url), url).toBe(false);
  });

  it("development: the dev server's origin only", () => {
    const isApp = appUrlMatcher({ devServerUrl: 'http://localhost:5173', rendererIndexUrl: index });
    for (const url of ['http://localhost:5173/', 'http://localhost:5173/#/runs'])
      expect(isApp(url), url).toBe(true);
    for (const url of [
      'http://localhost:5174/',
      'https://localhost:5173/',
      'http://localhost:5173.evil.example/',
      'http://localhost:5173@evil.example/',
      index,
    ])
      expect(isApp(url), url).toBe(false);
  });
});

describe('IPC sender check', () => {
  const isApp = appUrlMatcher({ rendererIndexUrl: 'file:///app/out/renderer/index.html' });

  it("answers requests from the app's page", () => {
    expect(ipcSenderRefusal('file:///app/out/renderer/index.html#/datasets', isApp)).toBeNull();
  });

  it('refuses any other frame, or one without a URL, with an UNAUTHORIZED result the renderer reads', () => {
    for (const sender of ['https://evil.example/', 'file:///tmp/page.html', '', null, undefined]) {
      const refusal = ipcSenderRefusal(sender, isApp);
      expect(resultEnvelopeSchema.parse(refusal)).toEqual({
        ok: false,
        error: { code: 'UNAUTHORIZED', message: 'request from a page that is not XAI-Link' },
      });
    }
  });
});

describe('browser permissions', () => {
  it('grants writing the clipboard (copy buttons) and nothing else', () => {
    expect(isPermissionGranted('clipboard-sanitized-write')).toBe(true);
    for (const p of [
      'clipboard-read',
      'media',
      'geolocation',
      'notifications',
      'openExternal',
      'fullscreen',
      'usb',
    ])
      expect(isPermissionGranted(p), p).toBe(false);
  });
});

describe('Content-Security-Policy header', () => {
  const csp = contentSecurityPolicy();

  it("sets ours on every response, replacing the response's own in any letter case, keeping other headers", () => {
    expect(withContentSecurityPolicy(undefined, csp)).toEqual({ 'Content-Security-Policy': [csp] });
    expect(
      withContentSecurityPolicy(
        {
          'content-security-policy': ["default-src *; script-src 'unsafe-eval'"],
          'CONTENT-SECURITY-POLICY': ['default-src *'],
          'Content-Type': ['text/html'],
        },
        csp,
      ),
    ).toEqual({ 'Content-Type': ['text/html'], 'Content-Security-Policy': [csp] });
  });

  it('allows scripts only from the app itself, no eval, no plugins, no framing', () => {
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-eval/);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
  });
});
