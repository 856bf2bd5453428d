import { describe, expect, it } from 'vitest';
import {
  chainlinkFunctionsPatchSchema,
  chainlinkFunctionsSettingsSchema,
  settingsRequests,
  settingsSchema,
} from './settings.ts';

describe('settings', () => {
  it('defaults the Chainlink Functions section to "not configured"', () => {
    const s = settingsSchema.parse({});
    expect(s.chainlinkFunctions).toMatchObject({
      chainId: null,
      routerAddress: '',
      donId: '',
      subscriptionId: '',
      attestorAddress: '',
    });
    expect(settingsSchema.parse({ theme: 'dark' }).chainlinkFunctions).toEqual(s.chainlinkFunctions);
  });

  it('a settings.update patch carries only the fields it names (no defaults that would overwrite others)', () => {
    const params = settingsRequests['settings.update'].params.parse({ patch: { theme: 'dark' } });
    expect(params.patch).toEqual({ theme: 'dark' });
    const section = chainlinkFunctionsSettingsSchema.parse({
      chainId: 11155111,
      donId: 'fun-ethereum-sepolia-1',
    });
    expect(
      settingsRequests['settings.update'].params.parse({ patch: { chainlinkFunctions: section } }).patch,
    ).toEqual({
      chainlinkFunctions: section,
    });
  });

  it('rejects a malformed router address or subscription id', () => {
    expect(chainlinkFunctionsSettingsSchema.safeParse({ routerAddress: '0x12' }).success).toBe(false);
    expect(chainlinkFunctionsSettingsSchema.safeParse({ subscriptionId: '-1' }).success).toBe(false);
    expect(chainlinkFunctionsSettingsSchema.safeParse({ subscriptionId: '123' }).success).toBe(true);
  });

  it('says why a value is refused, in words the Settings page can show as the reason', () => {
    const reason = (patch: Record<string, unknown>) => {
      const r = chainlinkFunctionsPatchSchema.safeParse(patch);
      return r.success ? null : r.error.issues[0]?.message;
    };
    expect(reason({ routerAddress: '0x12' })).toBe(
      'a router address is 0x followed by 40 hexadecimal characters',
    );
    expect(reason({ routerAddress: '' })).toBeNull(); // empty: not configured
    expect(reason({ subscriptionId: '007' })).toMatch(/without leading zeros/);
    expect(reason({ callbackGasLimit: 10 })).toBe('the callback gas limit is at least 50,000');
    expect(reason({ gatewayUrl: 'ftp://example.org/' })).toMatch(/http\(s\) URL/);
    expect(reason({ minSignatures: 9 })).toBe('a request carries at most 4 attestations');
    expect(reason({ chainId: 1.5 })).toMatch(/whole number/);
    expect(reason({ donId: 'x'.repeat(33) })).toMatch(/at most 32 characters/);
  });
});

describe('chainlink.configure patch', () => {
  it('names only the fields given', () => {
    expect(chainlinkFunctionsPatchSchema.parse({ donId: 'fun-ethereum-sepolia-1' })).toEqual({
      donId: 'fun-ethereum-sepolia-1',
    });
    expect(chainlinkFunctionsPatchSchema.safeParse({ unknown: 1 }).success).toBe(false);
  });
});
