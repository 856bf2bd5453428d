import { InvalidArgumentError, type Command } from 'commander';
import type { Signer } from '../../shared/api/chain.ts';

/** Option parsers and flags that several command groups share. */

/** Parses a whole number in [min, max]; the error names the option. */
export function int(what: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${what}: an integer from ${min} to ${max}`);
    return n;
  };
}

/** An unsigned integer kept as a decimal string (wei amounts exceed JavaScript's safe integers). */
export function uint(value: string): string {
  if (!/^(0|[1-9][0-9]*)$/.test(value)) throw new InvalidArgumentError('an unsigned integer in decimal');
  return value;
}

/** For repeatable options: `--x a --x b` → ['a', 'b']. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export interface ChainSignerOpts {
  devAccount?: number;
  keyEnv?: string;
}

/** Chain writes sign with an anvil dev account (embedded chain) or with a key from an environment variable. */
export function withChainSigner(cmd: Command): Command {
  return cmd
    .option(
      '--dev-account <n>',
      "sign with anvil's dev account n (embedded chain only; default 0)",
      int('dev account', 0, 9),
    )
    .option(
      '--key-env <NAME>',
      'sign with the 0x-prefixed private key in this environment variable (never stored)',
    );
}

export function chainSignerFrom(opts: ChainSignerOpts, fallback: Signer = { devAccount: 0 }): Signer {
  if (opts.keyEnv !== undefined && opts.devAccount !== undefined)
    throw new InvalidArgumentError('use --dev-account or --key-env, not both');
  if (opts.keyEnv !== undefined) return { keyEnv: opts.keyEnv };
  if (opts.devAccount !== undefined) return { devAccount: opts.devAccount };
  return fallback;
}
