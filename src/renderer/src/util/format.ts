/** Display formats used on every page (English, as the rest of the UI). */

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v.toFixed(0) : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en');
}

/** 1.2k, 3.4M … for large counts in tight places. */
export function formatCompact(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** 95 → "1 min 35 s", 4000 → "1 h 7 min". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatLoss(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(4);
}

/** 0x1234…abcd */
export function shortAddress(address: string): string {
  return address.length > 14 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

/** bafybeig…xyz12 */
export function shortCid(cid: string): string {
  return cid.length > 20 ? `${cid.slice(0, 10)}…${cid.slice(-6)}` : cid;
}

/** Wei → "0.0123 ETH" with up to 6 significant decimals. */
export function formatEth(wei: bigint, symbol = 'ETH'): string {
  const negative = wei < 0n;
  const abs = negative ? -wei : wei;
  const whole = abs / 10n ** 18n;
  const frac = abs % 10n ** 18n;
  let fracStr = frac.toString().padStart(18, '0').replace(/0+$/, '');
  if (fracStr.length > 6) {
    // Keep 6 decimals, or enough to show the first significant digit of a tiny amount.
    const firstNonZero = fracStr.search(/[1-9]/);
    fracStr = fracStr.slice(0, Math.max(6, firstNonZero + 2));
  }
  return `${negative ? '-' : ''}${whole.toString()}${fracStr ? `.${fracStr}` : ''} ${symbol}`;
}

/** "0.01" (ETH) → wei; null when it is not a valid amount. */
export function parseEth(text: string): bigint | null {
  const t = text.trim();
  if (!/^\d+(\.\d{0,18})?$/.test(t)) return null;
  const [w, f = ''] = t.split('.');
  return BigInt(w!) * 10n ** 18n + BigInt(f.padEnd(18, '0'));
}

/** Joins a path on the machine running XAI-Link (which may be Windows) from the renderer. */
export function joinPath(dir: string, ...parts: string[]): string {
  const sep = dir.includes('\\') && !dir.includes('/') ? '\\' : '/';
  return [dir.replace(/[\\/]+$/, ''), ...parts].join(sep);
}
