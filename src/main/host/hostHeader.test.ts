import { describe, expect, it } from 'vitest';
import { hostHeaderAllowed, hostNameOf } from './hostHeader.ts';

describe('Host header guard (DNS rebinding)', () => {
  it('reads the host name of a header', () => {
    expect(hostNameOf('127.0.0.1:7865')).toBe('127.0.0.1');
    expect(hostNameOf('[::1]:7865')).toBe('::1');
    expect(hostNameOf('LocalHost.')).toBe('localhost');
    expect(hostNameOf('[::1')).toBeNull();
    expect(hostNameOf('a:b')).toBeNull();
    expect(hostNameOf('')).toBeNull();
  });

  it('accepts the bound address and the loopback names, on any port', () => {
    for (const header of ['127.0.0.1:7865', 'localhost:7865', 'localhost', '[::1]:9000', 'LOCALHOST:1'])
      expect(hostHeaderAllowed(header, '127.0.0.1'), header).toBe(true);
    expect(hostHeaderAllowed('192.168.1.5:7865', '192.168.1.5')).toBe(true);
    expect(hostHeaderAllowed('myhost.lan:7865', 'myhost.lan')).toBe(true);
  });

  it('refuses any other name, a missing header and junk', () => {
    for (const header of [
      undefined,
      '',
      'evil.example',
      'evil.example:7865',
      'localhost.evil.example',
      '127.0.0.1.nip.io',
      '[::1]x',
      '10.0.0.1:7865',
    ])
      expect(hostHeaderAllowed(header, '127.0.0.1'), String(header)).toBe(false);
  });

  it('bound to every interface, accepts IP literals but still no DNS name', () => {
    expect(hostHeaderAllowed('10.0.0.1:7865', '0.0.0.0')).toBe(true);
    expect(hostHeaderAllowed('[fe80::1]:7865', '::')).toBe(true);
    expect(hostHeaderAllowed('evil.example:7865', '0.0.0.0')).toBe(false);
  });
});
