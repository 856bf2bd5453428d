/**
 * npm run bench:ipfs — the embedded IPFS node's throughput on this machine.
 *
 * Adds a 100 MiB file of random bytes to a fresh repository (each run gets its own, so no block is
 * deduplicated) in the default mode (CIDv1, raw leaves, 1 MiB chunks) and in the Kubo-compatible mode
 * (CIDv0, 256 KiB dag-pb leaves), and reads it back through `cat` (every block verified against its
 * CID) and `get` (written to disk). Also times the offline node's start in this fresh process.
 * MB = 10^6 bytes. The input file is in the page cache; writes go to the page cache too (no fsync).
 *
 * Options: --mib <n> (default 100), --runs <n> (default 3; the median is reported), --dir <tmp root>.
 * The last line printed is one JSON object.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { IpfsService } from '../../src/main/ipfs/ipfsService.ts';
import { seededBytes } from '../../src/main/ipfs/testUtil.ts';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
    dir: { type: 'string' },
  },
});
const MIB = Number(values.mib);
const RUNS = Number(values.runs);
const SIZE = MIB * 1024 * 1024;

const PROBE = fileURLToPath(new URL('../../src/main/ipfs/startProbe.ts', import.meta.url));
const root = await mkdtemp(join(values.dir ?? tmpdir(), 'xai-bench-ipfs-'));
const app = { name: 'xai-link-bench', version: '0' };
let repoCount = 0;
const fresh = (): IpfsService => new IpfsService({ repoDir: join(root, `repo-${repoCount++}`), app });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
const mbps = (bytes: number, ms: number): number => Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10;
/** CPU time (user + system, all threads) since `since`, in ms: throughput per CPU-second is far less
 * sensitive than wall time to other work on a shared machine. */
const cpuMs = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};
const log = (line: string): void => void process.stderr.write(`${line}\n`);

try {
  // Offline start: a fresh Node process starting the node on an existing repository (what the app
  // does on its first IPFS call), via startProbe.ts; then a start in this process once modules are loaded.
  const initialized = fresh();
  await initialized.start();
  const startRepo = initialized.repoDir;
  await initialized.stop();
  const probes: { startMs: number; timings: { importMs: number; startMs: number } }[] = [];
  for (let i = 0; i < 3; i++) {
    const { stdout } = await promisify(execFile)(process.execPath, [PROBE, startRepo]);
    probes.push(JSON.parse(stdout.trim().split('\n').at(-1)!) as (typeof probes)[number]);
  }
  const coldStart = probes.sort((a, b) => a.startMs - b.startMs)[1]!; // the median of three
  const loadedStartMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const again = new IpfsService({ repoDir: startRepo, app });
    const t = performance.now();
    await again.start();
    loadedStartMs.push(performance.now() - t);
    await again.stop();
  }
  const offlineStartMs = coldStart.startMs;
  const warmStartMs = median(loadedStartMs);
  log(
    `offline start: ${offlineStartMs.toFixed(1)} ms in a fresh process (loading the core modules and opening the repository ` +
      `${coldStart.timings.importMs.toFixed(1)} ms + Helia start ${coldStart.timings.startMs.toFixed(1)} ms), ${warmStartMs.toFixed(1)} ms once loaded`,
  );

  log(`writing a ${MIB} MiB input file…`);
  const input = join(root, 'input.bin');
  const data = seededBytes(SIZE, 'bench');
  await writeFile(input, data);
  const sha = createHash('sha256').update(data).digest('hex');

  async function runMode(kubo: boolean): Promise<{
    add: number[];
    cat: number[];
    get: number[];
    addCpu: number[];
    catCpu: number[];
    cid: string;
  }> {
    const add: number[] = [];
    const cat: number[] = [];
    const get: number[] = [];
    const addCpu: number[] = [];
    const catCpu: number[] = [];
    let cid = '';
    for (let i = 0; i < RUNS; i++) {
      const ipfs = fresh();
      await ipfs.start();
      let t = performance.now();
      let cpu = process.cpuUsage();
      const r = await ipfs.addPath(input, { kubo });
      add.push(mbps(SIZE, performance.now() - t));
      addCpu.push(mbps(SIZE, cpuMs(cpu)));
      cid = r.cid;

      t = performance.now();
      cpu = process.cpuUsage();
      const h = createHash('sha256');
      let n = 0;
      for await (const chunk of ipfs.cat(r.cid)) {
        h.update(chunk);
        n += chunk.byteLength;
      }
      cat.push(mbps(SIZE, performance.now() - t));
      catCpu.push(mbps(SIZE, cpuMs(cpu)));
      if (n !== SIZE || h.digest('hex') !== sha) throw new Error('cat returned different bytes');

      t = performance.now();
      await ipfs.getToDir(r.cid, join(root, `out-${repoCount}-${i}.bin`));
      get.push(mbps(SIZE, performance.now() - t));
      await ipfs.stop();
      await rm(join(root, `repo-${repoCount - 1}`), { recursive: true, force: true });
      await rm(join(root, `out-${repoCount}-${i}.bin`), { force: true });
      log(
        `${kubo ? 'kubo   ' : 'default'} run ${i + 1}: add ${add.at(-1)} MB/s (${addCpu.at(-1)} per CPU-s), ` +
          `cat ${cat.at(-1)} MB/s (${catCpu.at(-1)} per CPU-s), get ${get.at(-1)} MB/s  (${r.cid})`,
      );
    }
    return { add, cat, get, addCpu, catCpu, cid };
  }

  const def = await runMode(false);
  const kubo = await runMode(true);

  // Adding with --pin walks the new DAG once more to record the pin.
  const pinned = fresh();
  await pinned.start();
  const tp = performance.now();
  await pinned.addPath(input, { pin: true });
  const addPinMbps = mbps(SIZE, performance.now() - tp);
  await pinned.stop();
  log(`default add + pin: ${addPinMbps} MB/s`);

  const result = {
    bench: 'ipfs',
    size_mib: MIB,
    runs: RUNS,
    cpu: `${cpus()[0]?.model.trim() ?? 'unknown'} x${cpus().length}`,
    node: process.versions.node,
    // Other work on the machine skews the figures: the 1-minute load average when the runs ended.
    load_avg_1m: Math.round(loadavg()[0]! * 100) / 100,
    offline_start_ms: Math.round(offlineStartMs * 10) / 10,
    offline_start_module_load_ms: Math.round(coldStart.timings.importMs * 10) / 10,
    offline_start_helia_ms: Math.round(coldStart.timings.startMs * 10) / 10,
    offline_start_loaded_ms: Math.round(warmStartMs * 10) / 10,
    add_mb_per_s: median(def.add),
    read_mb_per_s: median(def.cat),
    get_mb_per_s: median(def.get),
    add_pin_mb_per_s: addPinMbps,
    kubo_add_mb_per_s: median(kubo.add),
    kubo_read_mb_per_s: median(kubo.cat),
    kubo_get_mb_per_s: median(kubo.get),
    // The fastest run: the one least disturbed by other work on a shared machine.
    add_mb_per_s_best: Math.max(...def.add),
    read_mb_per_s_best: Math.max(...def.cat),
    kubo_add_mb_per_s_best: Math.max(...kubo.add),
    add_mb_per_cpu_s: median(def.addCpu),
    read_mb_per_cpu_s: median(def.catCpu),
    kubo_add_mb_per_cpu_s: median(kubo.addCpu),
    kubo_read_mb_per_cpu_s: median(kubo.catCpu),
    add_runs: def.add,
    read_runs: def.cat,
    kubo_add_runs: kubo.add,
    default_cid: def.cid,
    kubo_cid: kubo.cid,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await rm(root, { recursive: true, force: true });
}
