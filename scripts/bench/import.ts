/**
 * npm run bench:import — importing 124M-parameter models (the targets: a GPT-2 small
 * model.safetensors in < 5 s and < 2× its size in memory; nanoGPT's ckpt.pt with AdamW state in < 10 s).
 *
 * The files are made by PyTorch (scripts/bench/make_import_files.py, Debian's python3-torch) with random
 * weights in a temp directory, or taken from XAI_LINK_BENCH_IMPORT_DIR (gpt2/ and ckpt.pt). Each import
 * runs in a fresh child process (runs.import end to end: read, convert, write the run's checkpoint) that
 * reports its wall and CPU time and its memory growth (peak RSS minus RSS before the import), with the
 * machine's load average (wall time on a shared machine says little without it). The last line printed
 * is one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventBus } from '../../src/main/rpc/eventBus.ts';
import { RunsService } from '../../src/main/runs/runsService.ts';

const TORCH_PYTHON = process.env.XAI_LINK_TORCH_PYTHON ?? '/usr/bin/python3';

async function child(file: string, runsDir: string): Promise<void> {
  const before = process.memoryUsage().rss;
  const runs = new RunsService({ runsDir, events: new EventBus() });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await runs.import({ path: file });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const peak = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(
    `${JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, growthBytes: peak - before, params: r.run.params, hasOptimizer: r.hasOptimizer })}\n`,
  );
}

function measure(file: string, runsDir: string) {
  const res = spawnSync(process.execPath, [import.meta.filename, '--child', file, runsDir], {
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`import of ${file} failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').at(-1)!) as {
    seconds: number;
    cpuSeconds: number;
    growthBytes: number;
    params: number;
    hasOptimizer: boolean;
  };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'xai-bench-import-'));
  try {
    let dir = process.env.XAI_LINK_BENCH_IMPORT_DIR ? resolve(process.env.XAI_LINK_BENCH_IMPORT_DIR) : '';
    if (!dir) {
      dir = join(work, 'files');
      console.log(`making the 124M files with PyTorch (${TORCH_PYTHON})…`);
      const made = spawnSync(TORCH_PYTHON, [join(import.meta.dirname, 'make_import_files.py'), dir], {
        stdio: 'inherit',
      });
      if (made.status !== 0)
        throw new Error(
          'could not make the files: this bench needs PyTorch (apt-get install python3-torch), or XAI_LINK_BENCH_IMPORT_DIR with gpt2/ and ckpt.pt',
        );
    }
    const st = join(dir, 'gpt2', 'model.safetensors');
    const pt = join(dir, 'ckpt.pt');
    for (const f of [st, pt]) if (!existsSync(f)) throw new Error(`missing ${f}`);
    const hf = measure(st, join(work, 'runs'));
    const stBytes = statSync(st).size;
    const hfRatio = hf.growthBytes / stBytes;
    console.log(
      `GPT-2 safetensors (${(stBytes / 2 ** 20).toFixed(0)} MiB, ${hf.params.toLocaleString('en-US')} params): ${hf.seconds.toFixed(2)} s (target < 5 s; CPU ${hf.cpuSeconds.toFixed(2)} s), memory +${(hf.growthBytes / 2 ** 20).toFixed(0)} MiB = ${hfRatio.toFixed(2)}× the file (target < 2×)`,
    );
    const nano = measure(pt, join(work, 'runs'));
    const ptBytes = statSync(pt).size;
    console.log(
      `nanoGPT ckpt.pt with AdamW state (${(ptBytes / 2 ** 20).toFixed(0)} MiB): ${nano.seconds.toFixed(2)} s (target < 10 s; CPU ${nano.cpuSeconds.toFixed(2)} s), memory +${(nano.growthBytes / 2 ** 20).toFixed(0)} MiB`,
    );
    console.log(
      JSON.stringify({
        bench: 'import',
        safetensors_mb: Math.round(stBytes / 2 ** 20),
        safetensors_s: Number(hf.seconds.toFixed(2)),
        safetensors_cpu_s: Number(hf.cpuSeconds.toFixed(2)),
        safetensors_memory_x: Number(hfRatio.toFixed(2)),
        ckpt_pt_mb: Math.round(ptBytes / 2 ** 20),
        ckpt_pt_s: Number(nano.seconds.toFixed(2)),
        ckpt_pt_cpu_s: Number(nano.cpuSeconds.toFixed(2)),
        ckpt_pt_memory_mb: Math.round(nano.growthBytes / 2 ** 20),
        targets_met: hf.seconds < 5 && hfRatio < 2 && nano.seconds < 10,
        load_average: Number(loadavg()[0]!.toFixed(1)),
        cores: cpus().length,
        node: process.version,
      }),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4]!);
else await main();
