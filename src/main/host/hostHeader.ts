import { isIP } from 'node:net';

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '::1'];
const WILDCARD_ADDRESSES = ['0.0.0.0', '::'];

/** The host name of a Host header ("[::1]:7865" → "::1", "LocalHost." → "localhost"), or null when unreadable. */
export function hostNameOf(header: string): string | null {
  const value = header.trim().toLowerCase();
  if (value === '') return null;
  let name: string;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return null;
    const rest = value.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    name = value.slice(1, end);
  } else {
    const colon = value.lastIndexOf(':');
    if (colon >= 0 && !/^\d{1,5}$/.test(value.slice(colon + 1))) return null;
    name = colon >= 0 ? value.slice(0, colon) : value;
  }
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/**
 * Guards against DNS rebinding: a page of evil.example whose name is made to resolve to 127.0.0.1 reaches the
 * host with `Host: evil.example`. Only the names this host is really known by pass: the bound address, the
 * loopback names, and, when bound to every interface, any IP literal (a rebinding attack needs a DNS name).
 * The port is not compared, so an SSH tunnel to another local port still works.
 */
export function hostHeaderAllowed(header: string | undefined, boundHost: string): boolean {
  if (header === undefined) return false;
  const name = hostNameOf(header);
  if (name === null) return false;
  const bound = hostNameOf(boundHost.includes(':') ? `[${boundHost}]` : boundHost);
  if (name === bound || LOOPBACK_NAMES.includes(name)) return true;
  return WILDCARD_ADDRESSES.includes(boundHost) && isIP(name) !== 0;
}
