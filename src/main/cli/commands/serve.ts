import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { startHeadlessHost } from '../../host/headlessHost.ts';
import { appRoot } from '../../util/appRoot.ts';
import type { CliApp } from '../cliApp.ts';

/** The built renderer, next to the sources (npm run build writes it). */
export const DEFAULT_RENDERER_DIR = join(appRoot() ?? process.cwd(), 'out', 'renderer');

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('a port is a whole number from 0 to 65535 (0 picks a free one)');
  }
  return port;
}

export function registerServeCommand(program: Command, app: CliApp): void {
  program
    .command('serve')
    .description('Run the app without a window: serve the UI and the API on 127.0.0.1 with an access token')
    .option('--port <port>', 'port to listen on (0 picks a free one)', parsePort, 7865)
    .option(
      '--host <address>',
      'address to bind; anything but loopback exposes the app to your network',
      '127.0.0.1',
    )
    .option('--renderer-dir <dir>', 'directory of the built UI', DEFAULT_RENDERER_DIR)
    .option('--json', 'print the URL as JSON')
    .action(async (opts: { port: number; host: string; rendererDir: string; json?: boolean }) => {
      if (!existsSync(`${opts.rendererDir}/index.html`)) {
        throw new Error(
          `The UI is not built (${opts.rendererDir}/index.html is missing). Run "npm run build" first.`,
        );
      }
      if (!['127.0.0.1', 'localhost', '::1'].includes(opts.host)) {
        process.stderr.write(
          `warning: binding ${opts.host} lets other machines on your network reach XAI-Link; ` +
            'only the access token protects it, and traffic is not encrypted.\n',
        );
      }
      app.entryPoint = 'host';
      const host = await startHeadlessHost({
        core: await app.loadCore(),
        rendererDir: opts.rendererDir,
        host: opts.host,
        port: opts.port,
      });
      if (opts.json)
        process.stdout.write(`${JSON.stringify({ url: host.url, port: host.port, dataDir: app.dataDir })}\n`);
      else {
        process.stdout.write(
          `XAI-Link is running. Open this URL in a browser (it contains the access token):\n\n    ${host.url}\n\n`,
        );
        process.stdout.write(`data directory: ${app.dataDir}\npress Ctrl+C to stop\n`);
      }
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      process.stderr.write('stopping…\n');
      await host.close();
    });
}
