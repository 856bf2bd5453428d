import type { Command } from 'commander';
import type { CliApp } from '../cliApp.ts';
import { formatBytes, printJson, printRecord, printTable } from '../output.ts';

export function registerInfoCommand(program: Command, app: CliApp): void {
  program
    .command('info')
    .description(
      'Show versions, hardware, the data directory and the ONNX Runtime execution providers that work here',
    )
    .option('--json', 'print the report as JSON')
    .action(async (opts: { json?: boolean }) => {
      const info = await app.client.invoke('system.info', { refresh: false });
      if (opts.json) return printJson(info);
      printRecord([
        ['app', `${info.app.name} ${info.app.version}`],
        ['data directory', info.dataDir],
        ['node', info.runtime.node],
        ['electron', info.runtime.electron],
        ['platform', `${info.runtime.platform} ${info.runtime.arch}`],
        ['cpu', `${info.cpu.model} (${info.cpu.cores} cores)`],
        ['memory', `${formatBytes(info.memory.freeBytes)} free of ${formatBytes(info.memory.totalBytes)}`],
        ['onnx runtime', info.onnxRuntime.version],
      ]);
      process.stdout.write('\nexecution providers\n');
      printTable(
        info.onnxRuntime.providers.map((p) => ({
          provider: p.name,
          usable: p.usable ? 'yes' : 'no',
          detail: p.detail,
        })),
      );
    });
}
