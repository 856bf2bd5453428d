import type { Command } from 'commander';
import type { WatchJob, WatcherStatus } from '../../../shared/api/verifierNetwork.ts';
import { DEFAULT_SCORE_TOLERANCE } from '../../../shared/eval/metrics.ts';
import type { CliApp } from '../cliApp.ts';
import { collect } from '../options.ts';
import {
  installPasswordPrompt,
  int,
  signerFromFlags,
  withSignerFlags,
  type SignerFlags,
} from './proofCommon.ts';

interface WatchFlags extends SignerFlags {
  lineage?: number[];
  maxTolerance?: number;
  confirmations: number;
  poll: number;
  peer?: string[];
  listen?: string[];
  public: boolean;
  mdns?: boolean;
  json?: boolean;
}

function describeJob(j: WatchJob): string {
  const what = `${j.claimCid} (lineage ${j.lineageId}, trainer ${j.trainer ?? j.requester})`;
  if (j.status === 'attested') return `attested ${what}${j.txHash ? ` in tx ${j.txHash}` : ''}`;
  if (j.status === 'refused') return `refused ${what}: ${j.reason}: ${j.message}`;
  return `failed ${what}: ${j.message}`;
}

function progressLine(s: WatcherStatus): string {
  const waiting = s.jobs.filter((j) => j.status === 'queued').length;
  const done = s.jobs.filter((j) => ['attested', 'refused', 'failed'].includes(j.status)).length;
  const current = s.jobs.find((j) => j.claimCid === s.current);
  return (
    `block ${s.cursor ?? '-'}/${s.latestBlock ?? '-'} · ${waiting} queued · ${done} done` +
    (current ? ` · ${current.claimCid.slice(0, 16)}… ${current.step ?? current.status}` : ' · idle') +
    (s.stopping ? ' · stopping after this step' : '') +
    (s.error ? ` · error: ${s.error}` : '')
  );
}

export function registerVerifierCommands(program: Command, app: CliApp): void {
  const verifier = program
    .command('verifier')
    .description('Run a verifier that finds claims on chain, re-runs them and attests on chain');
  verifier.hook('preAction', installPasswordPrompt);
  withSignerFlags(
    verifier
      .command('watch')
      .description(
        'Follow claim announcements on chain from a saved cursor; fetch each claim, model and evaluation text over IPFS, re-run it, and attest on chain only if it holds (Ctrl+C stops after the current step)',
      )
      .option(
        '--lineage <id>',
        'only this lineage (repeatable; default: every lineage this key verifies)',
        (v: string, p: number[] = []) => [...p, int('lineage id', 1)(v)],
      )
      .option(
        '--max-tolerance <units>',
        `largest tolerance accepted, in score units (default ${DEFAULT_SCORE_TOLERANCE})`,
        int('tolerance', 0, 1_000_000),
      )
      .option(
        '--confirmations <n>',
        'blocks re-read on every poll (reorganisations up to this depth)',
        int('confirmations', 0, 64),
        6,
      )
      .option(
        '--poll <ms>',
        'how often the chain is asked for new blocks',
        int('poll interval', 50, 60_000),
        2_000,
      )
      .option('--peer <multiaddr>', 'connect to this IPFS peer (repeatable), e.g. a trainer’s node', collect)
      .option(
        '--listen <multiaddr>',
        'IPFS listen address (repeatable; default a free port on every interface)',
        collect,
      )
      .option('--mdns', 'find IPFS peers on the local network (multicast DNS) and connect to them')
      .option('--no-public', 'do not join the public IPFS network: only the peers you name or that connect')
      .option('--json', 'print each verdict as one JSON line'),
    'attest',
  ).action(async (opts: WatchFlags) => {
    const signer = signerFromFlags(opts);
    const ipfs = await app.client.invoke('ipfs.setOnline', {
      online: true,
      publicNetwork: opts.public,
      ...(opts.mdns ? { localDiscovery: true } : {}),
      ...(opts.listen?.length ? { listen: opts.listen } : {}),
    });
    for (const address of opts.peer ?? []) {
      const peer = await app.client.invoke('ipfs.connect', { address });
      process.stderr.write(`connected to ${peer.peerId}\n`);
    }
    const started = await app.client.invoke('watcher.start', {
      signer,
      lineages: opts.lineage ?? [],
      ...(opts.maxTolerance !== undefined ? { maxTolerance: opts.maxTolerance } : {}),
      confirmations: opts.confirmations,
      pollMs: opts.poll,
    });
    process.stderr.write(
      `verifier ${started.verifier} watching ${started.lineages.length ? `lineages ${started.lineages.join(', ')}` : 'every lineage it verifies'} on chain ${started.chainId} (registry ${started.registry}) from block ${started.cursor ?? 'deployment'}\n` +
        `IPFS node ${ipfs.peerId} listening on ${ipfs.listenAddresses.join(' ')}\n`,
    );
    const reported = new Set(
      started.jobs.filter((j) => ['attested', 'refused', 'failed'].includes(j.status)).map((j) => j.claimCid),
    );
    const tty = Boolean(process.stderr.isTTY);
    let lastLine = '';
    let stopping: Promise<unknown> | null = null;
    const onSignal = () => {
      if (stopping) return;
      process.stderr.write('\nstopping after the current step…\n');
      stopping = app.client.invoke('watcher.stop', {});
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      for (;;) {
        const s = await app.client.invoke('watcher.status', {});
        for (const j of s.jobs) {
          if (reported.has(j.claimCid) || !['attested', 'refused', 'failed'].includes(j.status)) continue;
          reported.add(j.claimCid);
          if (tty) process.stderr.write('\r\x1b[2K');
          if (opts.json) process.stdout.write(`${JSON.stringify(j)}\n`);
          else process.stdout.write(`${describeJob(j)}\n`);
        }
        const line = progressLine(s);
        if (tty) process.stderr.write(`\r\x1b[2K${line}`);
        else if (line !== lastLine) process.stderr.write(`${line}\n`);
        lastLine = line;
        if (!s.running) break;
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await stopping;
      if (tty) process.stderr.write('\n');
    }
  });
}
