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
      const [info, live] = await Promise.all([
        app.client.invoke('system.info', { refresh: false }),
        app.client.invoke('system.stats', {}),
      ]);
      if (opts.json) return printJson({ ...info, live });
      printRecord([
        ['app', `${info.app.name} ${info.app.version}`],
        ['data directory', info.dataDir],
        ['node', info.runtime.node],
        ['electron', info.runtime.electron],
        ['platform', `${info.runtime.platform} ${info.runtime.arch}`],
        ['cpu', `${info.cpu.model} (${info.cpu.cores} cores)`],
        ['memory', `${formatBytes(info.memory.freeBytes)} free of ${formatBytes(info.memory.totalBytes)}`],
        ['load average', live.cpu.loadAverage1m.toFixed(2)],
        ...live.gpus.map((g): [string, string] => [
          `gpu ${g.index}`,
          [
            g.name,
            g.memoryTotalBytes === null ? null : `${formatBytes(g.memoryTotalBytes)}`,
            g.utilizationPercent === null ? null : `${g.utilizationPercent}% busy`,
            g.temperatureC === null ? null : `${g.temperatureC} °C`,
          ]
            .filter((x) => x !== null)
            .join(', '),
        ]),
        ...(live.gpuNote ? ([['gpu', live.gpuNote]] as [string, string][]) : []),
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
