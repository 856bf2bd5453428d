import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { ChainlinkClaimRef } from '../../../shared/api/chainlink.ts';
import type { ChainlinkFunctionsSettings } from '../../../shared/api/settings.ts';
import { MAX_ATTESTATION_CIDS, SEPOLIA_FUNCTIONS } from '../../../shared/chain/functionsRequest.ts';
import type { CliApp } from '../cliApp.ts';
import { chainSignerFrom, collect, int, withChainSigner, type ChainSignerOpts } from '../options.ts';
import { printJson, printRecord } from '../output.ts';

/**
 * Chainlink attestation (docs/chainlink.md), under `xai-link chain`:
 *
 *   chain functions-status [--lineage ID] [--json]
 *   chain functions-config [--sepolia] [--router ADDR] [--don-id ID] [--subscription ID] [--gas-limit N] …
 *   chain functions-deploy [--add-consumer] [--dev-account N | --key-env NAME]
 *   chain functions-request <claim> [--attestation CID …] [--wait SECONDS] [--dev-account N | --key-env NAME]
 *   chain functions-result <requestId> [--json]
 */
/** `claim-…` is this machine's claim, an existing path a claim JSON file, anything else a CID. */
export function claimRefFrom(claim: string): ChainlinkClaimRef {
  if (/^claim-[0-9a-z-]+$/.test(claim)) return { claimId: claim };
  if (existsSync(claim)) return { file: claim };
  return { cid: claim.replace(/^ipfs:\/\//, '') };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function registerFunctionsCommands(program: Command, app: CliApp): void {
  const chain = program.commands.find((c) => c.name() === 'chain');
  if (!chain) throw new Error('register the chain commands before the Functions commands');

  chain
    .command('functions-status')
    .description(
      'Whether Chainlink attestation is configured on the current network, and the attestor on chain',
    )
    .option(
      '--lineage <id>',
      'also say whether the attestor is a verifier of this lineage',
      int('lineage id', 1, 2 ** 31),
    )
    .option('--json', 'print the status as JSON')
    .action(async (opts: { lineage?: number; json?: boolean }) => {
      const s = await app.client.invoke(
        'chainlink.status',
        opts.lineage === undefined ? {} : { lineageId: opts.lineage },
      );
      if (opts.json) return printJson(s);
      printRecord([
        ['configured', s.configured ? 'yes' : 'no'],
        ['chain id', s.chainId],
        ['router', s.settings.routerAddress || null],
        ['DON id', s.settings.donId || null],
        ['subscription', s.settings.subscriptionId || null],
        ['callback gas limit', s.settings.callbackGasLimit],
        ['gateway', s.settings.gatewayUrl],
        ['attestor', s.settings.attestorAddress || null],
        ['attestor source up to date', s.attestor?.sourceUpToDate ?? null],
        ...(s.lineage
          ? ([[`verifier of lineage ${s.lineage.lineageId}`, s.lineage.attestorIsVerifier]] as [
              string,
              unknown,
            ][])
          : []),
      ]);
      for (const p of s.problems) process.stdout.write(`- ${p}\n`);
    });

  chain
    .command('functions-config')
    .description('Set the Chainlink Functions values for the current network (others keep theirs)')
    .option('--sepolia', `use Ethereum Sepolia's router and DON id (${SEPOLIA_FUNCTIONS.donId})`)
    .option('--chain-id <id>', 'the chain these values are for', int('chain id', 1, 2 ** 53))
    .option('--router <address>', 'the Functions router')
    .option('--don-id <id>', 'the DON id, e.g. fun-ethereum-sepolia-1')
    .option('--subscription <id>', 'the Functions subscription that pays')
    .option(
      '--gas-limit <n>',
      'callback gas limit (public DONs: at most 300000)',
      int('gas limit', 50_000, 2_500_000),
    )
    .option('--gateway <url>', 'IPFS gateway prefix the DON fetches CIDs from')
    .option(
      '--min-signatures <n>',
      'valid verifier signatures the DON must find',
      int('signatures', 1, MAX_ATTESTATION_CIDS),
    )
    .option(
      '--tolerance <n>',
      'largest score difference accepted from a verifier',
      int('tolerance', 0, 1_000_000),
    )
    .option('--attestor <address>', 'a FunctionsAttestor deployed earlier')
    .option('--json', 'print the settings as JSON')
    .action(
      async (opts: {
        sepolia?: boolean;
        chainId?: number;
        router?: string;
        donId?: string;
        subscription?: string;
        gasLimit?: number;
        gateway?: string;
        minSignatures?: number;
        tolerance?: number;
        attestor?: string;
        json?: boolean;
      }) => {
        const patch: Partial<ChainlinkFunctionsSettings> = {};
        if (opts.sepolia) {
          patch.chainId = SEPOLIA_FUNCTIONS.chainId;
          patch.routerAddress = SEPOLIA_FUNCTIONS.router;
          patch.donId = SEPOLIA_FUNCTIONS.donId;
        }
        if (opts.chainId !== undefined) patch.chainId = opts.chainId;
        if (opts.router !== undefined) patch.routerAddress = opts.router;
        if (opts.donId !== undefined) patch.donId = opts.donId;
        if (opts.subscription !== undefined) patch.subscriptionId = opts.subscription;
        if (opts.gasLimit !== undefined) patch.callbackGasLimit = opts.gasLimit;
        if (opts.gateway !== undefined) patch.gatewayUrl = opts.gateway;
        if (opts.minSignatures !== undefined) patch.minSignatures = opts.minSignatures;
        if (opts.tolerance !== undefined) patch.scoreTolerance = opts.tolerance;
        if (opts.attestor !== undefined) patch.attestorAddress = opts.attestor;
        const s = await app.client.invoke('chainlink.configure', patch);
        if (opts.json) return printJson(s);
        printRecord(Object.entries(s));
      },
    );

  withChainSigner(
    chain
      .command('functions-deploy')
      .description(
        'Deploy a FunctionsAttestor on the current network, upload its Functions source and set DON, subscription and gas (the signer becomes its owner)',
      )
      .option('--add-consumer', 'also add it to the subscription (the signer must own the subscription)')
      .option('--json', 'print the result as JSON'),
  ).action(async (opts: ChainSignerOpts & { addConsumer?: boolean; json?: boolean }) => {
    const r = await app.client.invoke('chainlink.deploy', {
      signer: chainSignerFrom(opts),
      addConsumer: !!opts.addConsumer,
    });
    if (opts.json) return printJson(r);
    printRecord([
      ['chain id', r.chainId],
      ['attestor', r.attestor],
      ['transaction', r.txHash],
      ['source hash', r.sourceHash],
    ]);
    process.stdout.write(
      `Next: add ${r.attestor} as a verifier of your lineage (xai-link lineage add-verifier <id> ${r.attestor})` +
        (opts.addConsumer ? '.\n' : ' and as a consumer of the subscription.\n'),
    );
  });

  withChainSigner(
    chain
      .command('functions-request')
      .description(
        "Ask the Chainlink DON to check a claim's evaluation report and attestations and attest it (costs LINK)",
      )
      .argument('<claim>', "this machine's claim id (claim-…), a claim JSON file, or a claim CID")
      .option(
        '--attestation <cid>',
        'an attestation JSON CID (repeat; default: those recorded with the local claim)',
        collect,
      )
      .option('--wait <seconds>', 'wait up to this long for the DON to answer', int('seconds', 1, 3600))
      .option('--json', 'print the result as JSON'),
  ).action(
    async (
      claim: string,
      opts: ChainSignerOpts & { attestation?: string[]; wait?: number; json?: boolean },
    ) => {
      const sent = await app.client.invoke('chainlink.request', {
        claim: claimRefFrom(claim),
        signer: chainSignerFrom(opts),
        ...(opts.attestation ? { attestationCids: opts.attestation } : {}),
      });
      let result = null;
      if (opts.wait !== undefined) {
        const until = Date.now() + opts.wait * 1000;
        for (;;) {
          result = await app.client.invoke('chainlink.result', { requestId: sent.requestId });
          if (result.status !== 'pending' || Date.now() >= until) break;
          await sleep(Math.min(5_000, Math.max(0, until - Date.now())));
        }
      }
      if (opts.json) return printJson({ ...sent, result });
      printRecord([
        ['request id', sent.requestId],
        ['transaction', sent.txHash],
        ['attestor', sent.attestor],
        ['attestation digest', sent.attestationDigest],
        ['attestations', sent.attestationCids.join(', ')],
        ...(result
          ? ([
              ['status', result.status],
              ['failure', result.failure === 'none' ? null : `${result.failure}: ${result.detail}`],
            ] as [string, unknown][])
          : []),
      ]);
      if (result?.status === 'attested')
        process.stdout.write(
          `Attested: list ${sent.attestor} with an empty signature (0x) in the claim's attestations.\n`,
        );
    },
  );

  chain
    .command('functions-result')
    .description('Where a Chainlink attestation request stands')
    .argument('<requestId>', 'the request id functions-request printed')
    .option('--json', 'print the result as JSON')
    .action(async (requestId: string, opts: { json?: boolean }) => {
      const r = await app.client.invoke('chainlink.result', { requestId });
      if (opts.json) return printJson(r);
      printRecord([
        ['status', r.status],
        ['failure', r.failure === 'none' ? null : r.failure],
        ['detail', r.detail || null],
        ['lineage', r.lineageId],
        ['score', r.score],
        ['reported score', r.reportedScore],
        ['verifier signatures', r.signatures],
        ['requested at', new Date(r.requestedAt * 1000).toISOString()],
        ['fulfilled at', r.fulfilledAt ? new Date(r.fulfilledAt * 1000).toISOString() : null],
      ]);
    });
}
