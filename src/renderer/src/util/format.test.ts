import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatEth, parseEth, shortAddress } from './format.ts';

describe('format', () => {
  it('formats bytes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
  });
  it('formats durations', () => {
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(95)).toBe('1 min 35 s');
    expect(formatDuration(4000)).toBe('1 h 6 min');
  });
  it('formats and parses ether amounts', () => {
    expect(formatEth(10n ** 18n)).toBe('1 ETH');
    expect(formatEth(12_300_000_000_000_000n)).toBe('0.0123 ETH');
    expect(formatEth(1n)).toBe('0.000000000000000001 ETH');
    expect(parseEth('0.0123')).toBe(12_300_000_000_000_000n);
    expect(parseEth('1')).toBe(10n ** 18n);
    expect(parseEth('-1')).toBeNull();
    expect(parseEth('abc')).toBeNull();
  });
  it('shortens addresses', () => {
    expect(shortAddress('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266')).toBe('0xf39F…2266');
  });
});
