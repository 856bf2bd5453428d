import { z } from 'zod';

/**
 * Who signs in the main process (CLI, headless host, pipelines, the demo). Private keys never cross the
 * API: only where to find them. In the desktop app the user's wallet signs in the renderer instead
 * (wagmi `signTypedData` on the typed data `claims.typedData` / `verifier.typedData` return).
 *
 * - devAccount: one of anvil's unlocked accounts (embedded chain only);
 * - keyEnv: a 0x-prefixed private key in an environment variable of the main process;
 * - keystore: an encrypted JSON keystore (Web3 Secret Storage v3, as geth, ethers and `cast wallet`
 *   write), unlocked with the password in `passwordEnv` or, in a terminal, typed at a prompt.
 */
const envVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

export const signerSpecSchema = z.union([
  z.strictObject({ devAccount: z.number().int().min(0).max(9) }),
  z.strictObject({ keyEnv: envVarName }),
  z.strictObject({ keystore: z.string().min(1).max(4096), passwordEnv: envVarName.optional() }),
]);
export type SignerSpec = z.infer<typeof signerSpecSchema>;

export function describeSigner(s: SignerSpec): string {
  if ('devAccount' in s) return `dev account ${s.devAccount}`;
  if ('keyEnv' in s) return `the key in $${s.keyEnv}`;
  return `keystore ${s.keystore}`;
}
