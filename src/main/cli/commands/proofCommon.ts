import { InvalidArgumentError, type Command } from 'commander';
import { int } from '../options.ts';
import type { SignerSpec } from '../../../shared/claims/signer.ts';
import { setPasswordPrompt } from '../../claims/keystore.ts';

/**
 * What the proof commands (claim, verify, run, demo, key) share: signer flags and the keystore password
 * prompt. A key is read from an environment variable or an encrypted keystore file; neither the key nor the
 * password is ever printed, logged or written.
 */
export interface SignerFlags {
  devAccount?: number;
  keyEnv?: string;
  keystore?: string;
  passwordEnv?: string;
}

export { collect, int } from '../options.ts';

export function withSignerFlags(cmd: Command, who = 'sign'): Command {
  return cmd
    .option(
      '--dev-account <n>',
      `${who} with anvil's dev account n (embedded chain only)`,
      int('dev account', 0, 9),
    )
    .option(
      '--key-env <NAME>',
      `${who} with the 0x-prefixed private key in this environment variable (never stored)`,
    )
    .option('--keystore <file>', `${who} with an encrypted JSON keystore (geth/ethers/cast format)`)
    .option(
      '--password-env <NAME>',
      'the keystore password is in this environment variable (default: asked in the terminal)',
    );
}

/** The signer the flags name; `fallback` when none is given (null: one is required). */
export function signerFromFlags(o: SignerFlags, fallback: SignerSpec | null = null): SignerSpec {
  const given = [o.devAccount !== undefined, o.keyEnv !== undefined, o.keystore !== undefined].filter(
    Boolean,
  ).length;
  if (given > 1) throw new InvalidArgumentError('use one of --dev-account, --key-env and --keystore');
  if (o.passwordEnv !== undefined && o.keystore === undefined)
    throw new InvalidArgumentError('--password-env goes with --keystore');
  if (o.devAccount !== undefined) return { devAccount: o.devAccount };
  if (o.keyEnv !== undefined) return { keyEnv: o.keyEnv };
  if (o.keystore !== undefined)
    return { keystore: o.keystore, ...(o.passwordEnv ? { passwordEnv: o.passwordEnv } : {}) };
  if (fallback) return fallback;
  throw new InvalidArgumentError('say who signs: --dev-account N, --key-env NAME or --keystore FILE');
}

/** Reads a password from the terminal without echoing it. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY)
    return Promise.reject(new Error('no terminal to ask the keystore password in: use --password-env NAME'));
  return new Promise((resolve, reject) => {
    process.stderr.write(question);
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

let installed = false;
/** The CLI may ask for keystore passwords in the terminal. */
export function installPasswordPrompt(): void {
  if (installed) return;
  installed = true;
  setPasswordPrompt(promptHidden);
}
