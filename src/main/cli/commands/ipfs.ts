import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { CliApp } from '../cliApp.ts';
import { formatBytes, printJson, printRecord, printTable } from '../output.ts';
import { collect } from '../options.ts';

export interface NetOpts {
  online?: boolean;
  peer?: string[];
  timeout: number;
}

function parseSeconds(value: string): number {
  const s = Number(value);
  if (!Number.isFinite(s) || s <= 0 || s > 3600)
    throw new InvalidArgumentError('a number of seconds from 0.1 to 3600');
  return s;
}

/** Options for commands that may fetch from the network (a CLI process starts offline, like the app). */
function withNetworkOptions(cmd: Command): Command {
  return cmd
    .option('--online', 'join the public IPFS network (bootstrap + DHT) to fetch what is not held locally')
    .option(
      '--peer <multiaddr>',
      'connect to this peer first (repeatable; implies networking, e.g. /ip4/10.0.0.2/tcp/4001/p2p/12D3Koo…)',
      collect,
    )
    .option('--timeout <seconds>', 'online: give up when no block arrives for this long', parseSeconds, 60);
}

/** Turns networking on for this process when --online or --peer asks for it, and connects to the peers. */
export async function goOnlineIfAsked(app: CliApp, opts: NetOpts): Promise<void> {
  if (!opts.online && !opts.peer?.length) return;
  await app.client.invoke('ipfs.setOnline', { online: true, publicNetwork: opts.online ?? false });
  for (const address of opts.peer ?? []) {
    const peer = await app.client.invoke('ipfs.connect', { address });
    process.stderr.write(`connected to ${peer.peerId}\n`);
  }
}

export function registerIpfsCommand(program: Command, app: CliApp): void {
  const ipfs = program
    .command('ipfs')
    .description('The embedded IPFS node: add, read, pin and export content by CID (offline unless asked)');

  ipfs
    .command('add')
    .description('Add a file or a directory; the last line printed is the root CID')
    .argument('<path>', 'file or directory to add')
    .option('--kubo', 'Kubo-compatible CIDs (CIDv0, 256 KiB chunks): the CID `ipfs add` gives')
    .option('--pin', 'pin the result so `ipfs gc` keeps it')
    .option('-H, --hidden', 'include files and folders whose name starts with "."')
    .option('--json', 'print the result as JSON')
    .action(
      async (path: string, opts: { kubo?: boolean; pin?: boolean; hidden?: boolean; json?: boolean }) => {
        const r = await app.withProgress(
          () =>
            app.client.invoke('ipfs.add', {
              path: resolve(path),
              kubo: opts.kubo ?? false,
              pin: opts.pin ?? false,
              hidden: opts.hidden ?? false,
            }),
          opts,
        );
        if (opts.json) return printJson(r);
        const what = r.directories > 0 ? `${r.files} files in ${r.directories} folders` : '1 file';
        process.stdout.write(
          `added ${what}, ${formatBytes(r.bytes)}${r.kubo ? ' (Kubo-compatible CIDv0)' : ''}${r.pinned ? ', pinned' : ''}\n`,
        );
        for (const s of r.skipped) process.stdout.write(`skipped ${s.path}: ${s.reason}\n`);
        if (r.skippedCount > r.skipped.length)
          process.stdout.write(`… and ${r.skippedCount - r.skipped.length} more skipped\n`);
        process.stdout.write(`${r.cid}\n`);
      },
    );

  withNetworkOptions(
    ipfs
      .command('cat')
      .description("Write a file's content to stdout (verified block by block)")
      .argument('<cid>', 'CID or CID/path'),
  ).action(async (cid: string, opts: NetOpts) => {
    await goOnlineIfAsked(app, opts);
    // Streams straight from the service: the ipfs.cat request returns at most 16 MiB as text.
    for await (const chunk of (await app.loadCore()).services.ipfs.cat(cid, {
      timeoutMs: opts.timeout * 1000,
    })) {
      if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
    }
  });

  withNetworkOptions(
    ipfs
      .command('get')
      .description('Write a file or directory to disk')
      .argument('<cid>', 'CID or CID/path')
      .option('-o, --output <path>', 'where to write it (must not exist; default: ./<cid>)')
      .option('--json', 'print the result as JSON'),
  ).action(async (cid: string, opts: NetOpts & { output?: string; json?: boolean }) => {
    await goOnlineIfAsked(app, opts);
    const out = resolve(opts.output ?? cid.replace(/^\/?ipfs\/|^ipfs:\/\//, '').replaceAll('/', '_'));
    const r = await app.withProgress(
      () => app.client.invoke('ipfs.get', { cid, path: out, timeoutMs: opts.timeout * 1000 }),
      opts,
    );
    if (opts.json) return printJson(r);
    for (const s of r.skipped) process.stdout.write(`skipped ${s.path}: ${s.reason}\n`);
    process.stdout.write(
      `wrote ${r.files} file${r.files === 1 ? '' : 's'} (${formatBytes(r.bytes)}) to ${r.path}\n`,
    );
  });

  withNetworkOptions(
    ipfs
      .command('pin')
      .description('Pin a DAG so garbage collection keeps it')
      .argument('<cid>', 'CID')
      .option('--json', 'print the result as JSON'),
  ).action(async (cid: string, opts: NetOpts & { json?: boolean }) => {
    await goOnlineIfAsked(app, opts);
    const r = await app.withProgress(
      () => app.client.invoke('ipfs.pin', { cid, timeoutMs: opts.timeout * 1000 }),
      opts,
    );
    if (opts.json) return printJson(r);
    process.stdout.write(`${r.alreadyPinned ? 'already pinned' : 'pinned'} ${r.cid}\n`);
  });

  ipfs
    .command('unpin')
    .description('Remove a pin (blocks stay until `ipfs gc`)')
    .argument('<cid>', 'CID')
    .option('--json', 'print the result as JSON')
    .action(async (cid: string, opts: { json?: boolean }) => {
      const r = await app.client.invoke('ipfs.unpin', { cid });
      if (opts.json) return printJson(r);
      process.stdout.write(`${r.unpinned ? 'unpinned' : 'was not pinned:'} ${r.cid}\n`);
    });

  ipfs
    .command('pins')
    .description('List pins')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const pins = await app.client.invoke('ipfs.pins', {});
      if (opts.json) return printJson(pins);
      printTable(
        pins.map((p) => ({
          cid: p.cid,
          type: p.recursive ? 'recursive' : p.depth === 0 ? 'direct' : `depth ${p.depth}`,
        })),
      );
    });

  withNetworkOptions(
    ipfs
      .command('export')
      .description('Write the whole DAG under a CID to a CAR file')
      .argument('<cid>', 'CID')
      .requiredOption('--out <file>', 'CAR file to write (must not exist)')
      .option('--json', 'print the result as JSON'),
  ).action(async (cid: string, opts: NetOpts & { out: string; json?: boolean }) => {
    await goOnlineIfAsked(app, opts);
    const r = await app.withProgress(
      () =>
        app.client.invoke('ipfs.exportCar', { cid, path: resolve(opts.out), timeoutMs: opts.timeout * 1000 }),
      opts,
    );
    if (opts.json) return printJson(r);
    process.stdout.write(`exported ${r.blocks} blocks (${formatBytes(r.bytes)}) to ${r.path}\n`);
  });

  ipfs
    .command('import')
    .description('Import a CAR file (every block checked against its CID) and pin its roots')
    .argument('<file>', 'CAR file')
    .option('--no-pin', 'do not pin the roots')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { pin: boolean; json?: boolean }) => {
      const r = await app.withProgress(
        () => app.client.invoke('ipfs.importCar', { path: resolve(file), pin: opts.pin }),
        opts,
      );
      if (opts.json) return printJson(r);
      process.stdout.write(`imported ${r.blocks} blocks (${formatBytes(r.bytes)})\n`);
      for (const root of r.roots)
        process.stdout.write(`root ${root}${r.pinned.includes(root) ? ' (pinned)' : ''}\n`);
    });

  ipfs
    .command('status')
    .description('Peer id, networking, repository size')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const s = await app.client.invoke('ipfs.status', {});
      if (opts.json) return printJson(s);
      printRecord([
        ['peer id', s.peerId],
        [
          'networking',
          s.online ? (s.publicNetwork ? 'online (public network)' : 'online (direct peers only)') : 'offline',
        ],
        ['listening on', s.listenAddresses.length ? s.listenAddresses.join(' ') : null],
        ['connected peers', s.connectedPeers],
        ['repository', s.repo.path],
        ['blocks', `${s.repo.blocks} (${formatBytes(s.repo.bytes)})`],
        ['pins', s.repo.pins],
      ]);
    });

  ipfs
    .command('gc')
    .description('Delete every block that no pin keeps')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const r = await app.withProgress(() => app.client.invoke('ipfs.gc', {}), opts);
      if (opts.json) return printJson(r);
      process.stdout.write(
        `removed ${r.removedBlocks} blocks, freed ${formatBytes(r.freedBytes)}; ${r.repo.blocks} blocks left\n`,
      );
    });

  ipfs
    .command('peers')
    .description(
      'Go online, find peers for a few seconds (the public network unless --no-public; the local network with --mdns; --peer to dial) and list the connected ones',
    )
    .option('--no-public', 'do not join the public IPFS network')
    .option('--mdns', 'find peers on the local network (multicast DNS)')
    .option('--peer <multiaddr>', 'connect to this peer first (repeatable)', collect)
    .option('--wait <seconds>', 'how long to look for peers', parseSeconds, 3)
    .option('--json', 'print the peers as JSON')
    .action(
      async (opts: { public: boolean; mdns?: boolean; peer?: string[]; wait: number; json?: boolean }) => {
        await app.client.invoke('ipfs.setOnline', {
          online: true,
          publicNetwork: opts.public,
          ...(opts.mdns ? { localDiscovery: true } : {}),
        });
        for (const address of opts.peer ?? []) await app.client.invoke('ipfs.connect', { address });
        await new Promise((r) => setTimeout(r, opts.wait * 1000));
        const peers = await app.client.invoke('ipfs.peers', {});
        if (opts.json) return printJson(peers);
        printTable(peers.map((p) => ({ peer: p.peerId, address: p.address, direction: p.direction })));
      },
    );

  ipfs
    .command('connect <multiaddr>')
    .description(
      'Go online (direct peers only) and connect to a peer by multiaddr (…/p2p/<peer id>): checks that it is reachable',
    )
    .option('--json', 'print the connection as JSON')
    .action(async (address: string, opts: { json?: boolean }) => {
      await app.client.invoke('ipfs.setOnline', { online: true, publicNetwork: false });
      const peer = await app.client.invoke('ipfs.connect', { address });
      if (opts.json) return printJson(peer);
      process.stdout.write(`connected to ${peer.peerId} at ${peer.address} (${peer.direction})\n`);
    });

  ipfs
    .command('online')
    .description('Stay online and serve the repository to peers until Ctrl+C')
    .option(
      '--listen <multiaddr>',
      'address to listen on (repeatable; default /ip4/0.0.0.0/tcp/4001)',
      collect,
    )
    .option('--no-public', 'do not join the public IPFS network: only peers that connect to you')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { listen?: string[]; public: boolean; json?: boolean }) => {
      const s = await app.client.invoke('ipfs.setOnline', {
        online: true,
        listen: opts.listen ?? ['/ip4/0.0.0.0/tcp/4001'],
        publicNetwork: opts.public,
      });
      if (opts.json) printJson(s);
      else {
        process.stdout.write(
          `IPFS node ${s.peerId} is online${s.publicNetwork ? ' (public network)' : ''}. Peers can connect to:\n`,
        );
        for (const a of s.listenAddresses) process.stdout.write(`    ${a}\n`);
        process.stdout.write('press Ctrl+C to stop\n');
      }
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          done();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
