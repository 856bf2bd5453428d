import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { VerdictView } from '../../../shared/api/claims.ts';
import { ApiError } from '../../../shared/api/errors.ts';
import { DEFAULT_SCORE_TOLERANCE } from '../../../shared/eval/metrics.ts';
import { formatScoreIn } from '../../../shared/eval/scoreFormat.ts';
import type { CliApp } from '../cliApp.ts';
import { printJson } from '../output.ts';
import {
  installPasswordPrompt,
  int,
  signerFromFlags,
  withSignerFlags,
  type SignerFlags,
} from './proofCommon.ts';
import { withStageProgress } from './stageProgress.ts';

/** A refusal ends the command with exit code 1 (after the verdict was printed). */
function refused(v: VerdictView): ApiError {
  return new ApiError(
    'FAILED_PRECONDITION',
    `the claim was refused (${v.refusal!.reason}); nothing was signed`,
  );
}

function printVerdict(v: VerdictView): void {
  for (const c of v.checks) process.stdout.write(`${c.ok ? '✓' : '✗'} ${c.id.padEnd(12)} ${c.message}\n`);
  process.stdout.write(
    v.ok
      ? `\nThe claim holds: ${formatScoreIn(v.claimed.score, v.metric)} reproduced as ${formatScoreIn(v.recomputed!.score, v.metric)}.\n`
      : `\nREFUSED (${v.refusal!.reason}): ${v.refusal!.message}\n`,
  );
}

export function registerVerifyCommand(program: Command, app: CliApp): void {
  withSignerFlags(
    program
      .command('verify <claim>')
      .description(
        'Verifier mode: fetch the model and the evaluation text by CID, re-run the evaluation, check the claim, and sign an Attestation only if it holds (claim: a CID or a file)',
      )
      .option(
        '--max-tolerance <units>',
        `largest tolerance accepted, in score units (default ${DEFAULT_SCORE_TOLERANCE})`,
        int('tolerance', 0, 1_000_000),
      )
      .option('--check-only', 'check and explain, sign nothing (the default when no signer is given)')
      .option('--json', 'print the verdict (and the attestation) as JSON'),
    'attest',
  ).action(
    async (
      arg: string,
      opts: SignerFlags & { maxTolerance?: number; checkOnly?: boolean; json?: boolean },
    ) => {
      installPasswordPrompt();
      const claim = existsSync(arg) ? { file: resolve(arg) } : { cid: arg.replace(/^ipfs:\/\//, '') };
      const hasSigner =
        opts.devAccount !== undefined || opts.keyEnv !== undefined || opts.keystore !== undefined;
      const maxTolerance = opts.maxTolerance ?? DEFAULT_SCORE_TOLERANCE;
      if (!hasSigner || opts.checkOnly) {
        const v = await withStageProgress(
          app,
          () => app.client.invoke('verifier.check', { claim, maxTolerance }),
          opts,
        );
        if (opts.json) printJson(v);
        else printVerdict(v);
        if (!v.ok) throw refused(v);
        return;
      }
      const r = await withStageProgress(
        app,
        () => app.client.invoke('verifier.attest', { claim, signer: signerFromFlags(opts), maxTolerance }),
        opts,
      );
      if (opts.json) printJson(r);
      else {
        printVerdict(r.verdict);
        if (r.attestationCid)
          process.stdout.write(
            `Attested by ${r.attestation!.attestation.verifier}.\nattestation CID: ${r.attestationCid}\n`,
          );
      }
      if (!r.verdict.ok) throw refused(r.verdict);
    },
  );
}
