import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { ClaimRecord } from '../../../shared/api/claims.ts';
import { ApiError } from '../../../shared/api/errors.ts';
import { DEFAULT_SCORE_TOLERANCE } from '../../../shared/eval/metrics.ts';
import { formatScoreIn } from '../../../shared/eval/scoreFormat.ts';
import { accountFromKeystore, encryptKeystore } from '../../claims/keystore.ts';
import type { CliApp } from '../cliApp.ts';
import { printJson, printRecord, printTable } from '../output.ts';
import {
  collect,
  installPasswordPrompt,
  int,
  promptHidden,
  signerFromFlags,
  withSignerFlags,
  type SignerFlags,
} from './proofCommon.ts';
import { withStageProgress } from './stageProgress.ts';

function printClaim(c: ClaimRecord): void {
  printRecord([
    ['claim', c.id],
    ['status', c.status],
    ['lineage', c.lineageId],
    ['model CID', c.model.cid],
    ['trainer', c.trainer],
    ['committed', c.commit ? new Date(c.commit.committedAt * 1000).toISOString() : null],
    ['score', c.evaluation ? formatScoreIn(c.evaluation.score, c.evaluation.metric) : null],
    ['evaluation CID', c.evaluation?.reportCid],
    ['metadata CID', c.evaluation?.metadataCid],
    ['claim CID', c.claimCid],
    [
      'attestations',
      `${c.attestations.length} of ${c.quorum}${c.attestations.length ? ` (${c.attestations.map((a) => a.verifier).join(', ')})` : ''}`,
    ],
    ['token', c.mint ? `#${c.mint.tokenId} (tx ${c.mint.txHash})` : null],
    ['problem', c.error],
  ]);
}

function attestationSource(arg: string): { cid: string } | { file: string } {
  return existsSync(arg) ? { file: resolve(arg) } : { cid: arg.replace(/^ipfs:\/\//, '') };
}

/**
 * Polls the chain for the verifiers' answers to a claim, printing each as it arrives, until the lineage's
 * quorum attested; fails early when too many verifiers refused for the quorum to be reachable.
 */
async function waitForQuorum(app: CliApp, claimId: string, timeoutS: number, print: boolean): Promise<void> {
  const seen = new Set<string>();
  const deadline = Date.now() + timeoutS * 1000;
  const lineage = (await app.client.invoke('claims.get', { claimId })).lineageId;
  const verifiers = (await app.client.invoke('lineage.get', { lineageId: lineage })).verifiers.length;
  for (;;) {
    const s = await app.client.invoke('claims.networkStatus', { claimId });
    for (const v of s.verdicts) {
      const key = `${v.verifier}:${v.kind}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (print)
        process.stderr.write(
          `${v.at ?? 'earlier'}  ${v.verifier}  ${v.kind === 'declined' ? `REFUSED: ${v.reason}` : v.kind}\n`,
        );
    }
    if (s.minted || s.attestations >= s.quorum) return;
    const declined = new Set(s.verdicts.filter((v) => v.kind === 'declined').map((v) => v.verifier)).size;
    if (verifiers - declined < s.quorum)
      throw new ApiError(
        'FAILED_PRECONDITION',
        `${declined} of the lineage's ${verifiers} verifiers refused the claim: the quorum of ${s.quorum} cannot be reached`,
      );
    if (Date.now() > deadline)
      throw new ApiError(
        'UNAVAILABLE',
        `${s.attestations} of ${s.quorum} attestations after ${timeoutS} s${s.announced ? '' : ' (the claim was never announced: xai-link claim announce)'}`,
      );
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export function registerClaimCommands(program: Command, app: CliApp): void {
  const claim = program
    .command('claim')
    .description(
      'Prove that a model improves its lineage, and mint it (commit → evaluate → sign → attest → submit)',
    );
  // Keystore passwords may be asked in the terminal, only while a claim command runs (never for `serve`).
  claim.hook('preAction', installPasswordPrompt);

  withSignerFlags(
    claim
      .command('new <modelCid>')
      .description(
        'Start a claim for a published model package and take it to "signed": commit, evaluate, publish metadata, sign, publish the claim',
      )
      .requiredOption('--lineage <id>', 'the lineage', int('lineage id', 1))
      .option('--name <name>', "the token's name")
      .option('--description <text>', "the token's description")
      .option('--checkpoint-cid <cid>', 'the training checkpoint (default: from the model card)')
      .option('--dataset-cid <cid>', 'the dataset (default: from the model card)')
      .option('--pipeline-cid <cid>', 'the pipeline file that made the model')
      .option(
        '--tolerance <units>',
        `score units a verifier may find different (default ${DEFAULT_SCORE_TOLERANCE})`,
        int('tolerance', 0, 1_000_000),
      )
      .option('--json', 'print the claim as JSON'),
    'sign (and send the commit)',
  ).action(
    async (
      modelCid: string,
      opts: SignerFlags & {
        lineage: number;
        name?: string;
        description?: string;
        checkpointCid?: string;
        datasetCid?: string;
        pipelineCid?: string;
        tolerance?: number;
        json?: boolean;
      },
    ) => {
      const signer = signerFromFlags(opts);
      const c = await withStageProgress(
        app,
        async () => {
          const { address: trainer } = await app.client.invoke('claims.signerAddress', { signer });
          const started = await app.client.invoke('claims.start', {
            lineageId: opts.lineage,
            modelCid,
            trainer,
            ...(opts.name ? { name: opts.name } : {}),
            ...(opts.description ? { description: opts.description } : {}),
            ...(opts.checkpointCid ? { checkpointCid: opts.checkpointCid } : {}),
            ...(opts.datasetCid ? { datasetCid: opts.datasetCid } : {}),
            ...(opts.pipelineCid ? { pipelineCid: opts.pipelineCid } : {}),
            ...(opts.tolerance !== undefined ? { tolerance: opts.tolerance } : {}),
          });
          await app.client.invoke('claims.commit', { claimId: started.id, signer });
          await app.client.invoke('claims.evaluate', { claimId: started.id });
          return app.client.invoke('claims.sign', { claimId: started.id, signer });
        },
        opts,
      );
      if (opts.json) return printJson(c);
      printClaim(c);
      process.stdout.write(
        `\nAnnounce it to the lineage's verifiers: xai-link claim announce ${c.id} … && xai-link claim submit ${c.id} --wait …\n(or send them the claim CID: xai-link verify ${c.claimCid}, then xai-link claim attest ${c.id} --attestation <their attestation CID>)\n`,
      );
    },
  );

  claim
    .command('attest <claimId>')
    .description(
      "Add verifiers' attestations (attestation CIDs or files), or have a local verifier key re-run and attest",
    )
    .option('--attestation <cid|file>', 'an attestation from a verifier (repeatable)', collect, [])
    .option(
      '--verifier-dev-account <n>',
      'a local dev account re-runs the evaluation and attests (repeatable)',
      (v: string, p: number[] = []) => [...p, int('dev account', 0, 9)(v)],
      [],
    )
    .option('--json', 'print the claim as JSON')
    .action(
      async (
        claimId: string,
        opts: { attestation: string[]; verifierDevAccount: number[]; json?: boolean },
      ) => {
        let c = await app.client.invoke('claims.get', { claimId });
        for (const a of opts.attestation)
          c = await app.client.invoke('claims.addAttestation', {
            claimId,
            attestation: attestationSource(a),
          });
        for (const n of opts.verifierDevAccount) {
          const r = await withStageProgress(
            app,
            () => app.client.invoke('claims.attestLocally', { claimId, signer: { devAccount: n } }),
            opts,
          );
          if (!r.verdict.ok)
            throw new Error(
              `dev account ${n} refused (${r.verdict.refusal!.reason}): ${r.verdict.refusal!.message}`,
            );
          c = r.claim;
        }
        if (opts.json) return printJson(c);
        printClaim(c);
      },
    );

  withSignerFlags(
    claim
      .command('announce <claimId>')
      .description(
        "Announce the signed claim on chain (requestVerification) so the lineage's verifiers find it by themselves",
      )
      .option('--json', 'print the claim network status as JSON'),
    'send the transaction',
  ).action(async (claimId: string, opts: SignerFlags & { json?: boolean }) => {
    const s = await app.client.invoke('claims.announce', { claimId, signer: signerFromFlags(opts) });
    if (opts.json) return printJson(s);
    process.stdout.write(
      `announced in block ${s.announced?.blockNumber} (tx ${s.announced?.txHash}); ${s.attestations} of ${s.quorum} attestations so far\n` +
        `then: xai-link claim submit ${claimId} --wait …\n`,
    );
  });

  withSignerFlags(
    claim
      .command('submit <claimId>')
      .description(
        'Submit the signed and attested claim: the token is minted to the trainer. With --wait, first show remote verifiers’ answers as they arrive on chain and submit once the quorum is reached',
      )
      .option('--wait', "wait for the lineage's quorum of attestations (on chain or signed), then submit")
      .option('--timeout <seconds>', 'with --wait: give up after this long', int('timeout', 1, 86_400), 600)
      .option('--json', 'print the claim as JSON'),
    'send the transaction',
  ).action(
    async (claimId: string, opts: SignerFlags & { json?: boolean; wait?: boolean; timeout: number }) => {
      const signer = signerFromFlags(opts);
      if (opts.wait) await waitForQuorum(app, claimId, opts.timeout, !opts.json);
      const c = await app.client.invoke('claims.submit', { claimId, signer });
      if (opts.json) return printJson(c);
      printClaim(c);
    },
  );

  claim
    .command('status [claimId]')
    .description('Claims on this machine, or one claim in detail')
    .option('--json', 'print as JSON')
    .action(async (claimId: string | undefined, opts: { json?: boolean }) => {
      if (claimId) {
        const c = await app.client.invoke('claims.get', { claimId });
        return opts.json ? printJson(c) : printClaim(c);
      }
      const list = await app.client.invoke('claims.list', {});
      if (opts.json) return printJson(list);
      printTable(
        list.map((c) => ({
          claim: c.id,
          status: c.status,
          lineage: c.lineageId,
          score: c.evaluation ? formatScoreIn(c.evaluation.score, c.evaluation.metric) : '-',
          token: c.mint?.tokenId ?? '-',
          model: c.model.cid,
        })),
      );
    });

  const key = program
    .command('key')
    .description('Signing keys in encrypted JSON keystores (the key never leaves the file unencrypted)');
  // `key address` asks for the password in the terminal when --password-env names none.
  key.hook('preAction', installPasswordPrompt);
  key
    .command('new <file>')
    .description('Create a new key in an encrypted keystore file; prints only its address')
    .option(
      '--password-env <NAME>',
      'the password is in this environment variable (default: asked twice in the terminal)',
    )
    .option('--json', 'print the address and the keystore file as JSON (never the key)')
    .action(async (file: string, opts: { passwordEnv?: string; json?: boolean }) => {
      const path = resolve(file);
      if (existsSync(path)) throw new InvalidArgumentError(`${path} exists: choose another file`);
      let password: string;
      if (opts.passwordEnv) {
        const v = process.env[opts.passwordEnv];
        if (!v)
          throw new InvalidArgumentError(
            `the environment variable ${opts.passwordEnv} is not set: put the new keystore's password in it`,
          );
        password = v;
      } else {
        password = await promptHidden('New keystore password: ');
        if ((await promptHidden('Again: ')) !== password) throw new Error('the passwords differ');
      }
      const pk = generatePrivateKey();
      const ks = encryptKeystore(pk, password);
      writeFileSync(path, `${JSON.stringify(ks, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      const { address } = privateKeyToAccount(pk);
      if (opts.json) return printJson({ address, file: path });
      process.stdout.write(`${address}\n`);
    });
  key
    .command('address <file>')
    .description("Print a keystore's address (unlocks it to check the password)")
    .option(
      '--password-env <NAME>',
      'the password is in this environment variable (default: asked in the terminal)',
    )
    .option('--json', 'print the address and the keystore file as JSON')
    .action(async (file: string, opts: { passwordEnv?: string; json?: boolean }) => {
      const path = resolve(file);
      const { address } = await accountFromKeystore(path, opts.passwordEnv);
      if (opts.json) return printJson({ address, file: path });
      process.stdout.write(`${address}\n`);
    });
}
