import { describe, expect, it } from 'vitest';
import { chainlinkFunctionsSettingsSchema } from '../../../../shared/api/settings.ts';
import { checkChainlinkForm, formFromSettings, withSepoliaValues } from './chainlinkForm.ts';

const saved = chainlinkFunctionsSettingsSchema.parse({});

describe('the Chainlink Functions settings form', () => {
  it('has nothing to save and nothing refused for the saved settings', () => {
    expect(checkChainlinkForm(formFromSettings(saved), saved)).toEqual({ errors: {}, changes: {} });
  });

  it('gives the schema’s reason for a bad router address and leaves it out of the changes', () => {
    const form = { ...formFromSettings(saved), routerAddress: '0x1234', donId: 'fun-x' };
    expect(checkChainlinkForm(form, saved)).toEqual({
      errors: { routerAddress: 'A router address is 0x followed by 40 hexadecimal characters.' },
      changes: { donId: 'fun-x' },
    });
  });

  it('fills Sepolia’s router, DON id and chain id, which become the changes', () => {
    const form = withSepoliaValues({ ...formFromSettings(saved), subscriptionId: '42' });
    expect(form).toMatchObject({
      routerAddress: '0xb83E47C2bC239B3bf370bc41e1459A34b41238D0',
      donId: 'fun-ethereum-sepolia-1',
      chainId: '11155111',
    });
    expect(checkChainlinkForm(form, saved)).toEqual({
      errors: {},
      changes: {
        chainId: 11155111,
        routerAddress: '0xb83E47C2bC239B3bf370bc41e1459A34b41238D0',
        donId: 'fun-ethereum-sepolia-1',
        subscriptionId: '42',
      },
    });
  });

  it('reads numbers as typed, with separators, and refuses text or an empty required number', () => {
    const base = formFromSettings(saved);
    expect(checkChainlinkForm({ ...base, callbackGasLimit: '250 000' }, saved).changes).toEqual({
      callbackGasLimit: 250_000,
    });
    expect(checkChainlinkForm({ ...base, callbackGasLimit: '40,000' }, saved).errors).toEqual({
      callbackGasLimit: 'The callback gas limit is at least 50,000.',
    });
    expect(checkChainlinkForm({ ...base, minSignatures: '' }, saved).errors.minSignatures).toBe(
      'The signature count is a whole number.',
    );
    expect(checkChainlinkForm({ ...base, chainId: 'sepolia' }, saved).errors.chainId).toMatch(
      /^A chain id is a whole number/,
    );
    // An empty chain id is "not configured", not an error.
    const configured = { ...saved, chainId: 5 };
    expect(checkChainlinkForm({ ...formFromSettings(configured), chainId: '' }, configured).changes).toEqual({
      chainId: null,
    });
  });
});
