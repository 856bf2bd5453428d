import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ApiError } from '../../shared/api/errors.ts';
import { readAppIdentity } from '../services/appInfo.ts';
import { DATA_DIR_ENV } from '../services/dataDir.ts';
import { CliApp } from './cliApp.ts';
import { registerChainCommands } from './commands/chain.ts';
import { registerClaimCommands } from './commands/claim.ts';
import { registerEvalCommands } from './commands/eval.ts';
import { registerFunctionsCommands } from './commands/functions.ts';
import { registerInfoCommand } from './commands/info.ts';
import { registerIpfsCommand } from './commands/ipfs.ts';
import { registerPipelineCommands } from './commands/pipeline.ts';
import { registerPrepareCommand } from './commands/prepare.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerTrainCommands } from './commands/train.ts';
import { registerVerifyCommand } from './commands/verify.ts';
import { registerVerifierCommands } from './commands/verifier.ts';

/** Exit codes: 0 ok, 1 failure, 2 bad usage or bad input. */
export async function runCli(argv: string[]): Promise<number> {
  const program = new Command('xai-link')
    .description(
      'XAI-Link: prepare datasets, train GPT models, store them on IPFS, prove improvements and mint them.',
    )
    .version(readAppIdentity().version)
    .option(
      '--data-dir <dir>',
      `where XAI-Link keeps everything (default: $${DATA_DIR_ENV} or the platform's app-data folder)`,
    )
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  const app = new CliApp(program);

  registerInfoCommand(program, app);
  registerChainCommands(program, app);
  registerFunctionsCommands(program, app);
  registerServeCommand(program, app);
  registerIpfsCommand(program, app);
  registerPrepareCommand(program, app);
  registerTrainCommands(program, app);
  registerEvalCommands(program, app);
  registerClaimCommands(program, app);
  registerVerifyCommand(program, app);
  registerVerifierCommands(program, app);
  registerPipelineCommands(program, app);

  try {
    await program.parseAsync(argv, { from: 'user' });
    // A command may report failure without throwing (e.g. a training run that ended "failed").
    return Number(process.exitCode ?? 0) || 0;
  } catch (e) {
    return reportError(e);
  } finally {
    await app.close();
  }
}

function reportError(e: unknown): number {
  // Thrown by a command's action (bad input found after parsing); Commander prints only its own parse errors.
  if (e instanceof InvalidArgumentError) {
    process.stderr.write(`error: ${e.message}\n(add --help for usage)\n`);
    return 2;
  }
  if (e instanceof CommanderError) {
    // Commander already printed the message (or the help / version text).
    return e.exitCode === 0 ? 0 : 2;
  }
  if (e instanceof ApiError) {
    process.stderr.write(`error: ${e.message}\n`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    return e.code === 'INVALID_PARAMS' ? 2 : 1;
  }
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  if (process.env.XAI_LINK_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  return 1;
}

if (import.meta.main) {
  process.exitCode = await runCli(process.argv.slice(2));
}
