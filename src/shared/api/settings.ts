import { z } from 'zod';
import { request } from './contract.ts';

/**
 * Settings the user can change, stored as settings.json in the data directory.
 * Every field has a default, so an older or partial file still loads; unknown fields are dropped.
 */
export const settingsSchema = z.object({
  theme: z.enum(['system', 'light', 'dark']).default('system'),
  /** WalletConnect Cloud project id; empty means WalletConnect is not configured. */
  walletConnectProjectId: z.string().max(64).default(''),
});
export type Settings = z.infer<typeof settingsSchema>;

export const settingsRequests = {
  'settings.get': request({
    description: 'The current settings.',
    params: z.strictObject({}),
    result: settingsSchema,
  }),
  'settings.update': request({
    description: 'Changes some settings and saves them atomically; returns the new settings.',
    params: z.strictObject({ patch: settingsSchema.partial() }),
    result: settingsSchema,
  }),
};
