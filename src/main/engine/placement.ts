import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeviceName } from './device.ts';

/**
 * Where ONNX Runtime placed each node of a graph, read from its own placement report (the verbose
 * session log, "Node placements"). A node an accelerator's provider does not implement runs on the CPU
 * provider, with copy nodes (MemcpyFromHost / MemcpyToHost) inserted around it: what makes a "GPU"
 * run slow while still correct, so the engine measures it instead of assuming.
 */
export interface Placement {
  /** Provider name (e.g. WebGpuExecutionProvider) → op types of its nodes, copies included. */
  providers: Record<string, string[]>;
  /** Nodes on the CPU provider while an accelerator was asked for (0 when the CPU was asked for). */
  cpuNodes: number;
  /** Host↔device copy nodes ONNX Runtime inserted. */
  copyNodes: number;
  /** Op type → count, of the CPU-placed nodes. */
  cpuOps: Record<string, number>;
}

const CPU_PROVIDER = 'CPUExecutionProvider';

/** Parses the placement report out of an ONNX Runtime verbose log. */
export function parsePlacementLog(log: string, requested: DeviceName): Placement {
  const providers: Record<string, string[]> = {};
  let current: string[] | null = null;
  for (const line of log.split('\n')) {
    const all = /All nodes placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
    if (all) {
      // the short form lists no op types: only counts are known
      providers[all[1]!] = new Array<string>(Number(all[2])).fill('?');
      current = null;
      continue;
    }
    const head = /Node\(s\) placed on \[(\w+)\]\. Number of nodes: \d+/.exec(line);
    if (head) {
      current = providers[head[1]!] ??= [];
      continue;
    }
    const node = /VerifyEachNodeIsAssignedToAnEp\]\s{2,}(\S+) \(/.exec(line);
    if (node && current) {
      current.push(node[1]!);
      continue;
    }
    if (!/VerifyEachNodeIsAssignedToAnEp/.test(line)) current = null;
  }
  if (Object.keys(providers).length === 0) {
    throw new Error(
      'no placement report in the ONNX Runtime log (was the session created with verbose logging?)',
    );
  }
  const cpuList = requested === 'cpu' ? [] : (providers[CPU_PROVIDER] ?? []);
  const cpuOps: Record<string, number> = {};
  for (const opType of cpuList) cpuOps[opType] = (cpuOps[opType] ?? 0) + 1;
  const copyNodes = Object.values(providers)
    .flat()
    .filter((t) => t.startsWith('Memcpy')).length;
  return { providers, cpuNodes: cpuList.length, copyNodes, cpuOps };
}

/**
 * Creates a session for `model` on `device` in a child process with verbose logging (the report goes
 * to the native stderr, which only a child's pipe can capture) and returns the parsed placement.
 */
export async function measurePlacement(
  model: Uint8Array,
  device: DeviceName,
  opts: { timeoutMs?: number; gpuOutputs?: string[] } = {},
): Promise<Placement> {
  const dir = mkdtempSync(join(tmpdir(), 'xai-placement-'));
  const file = join(dir, 'model.onnx');
  writeFileSync(file, model);
  const probe = join(dirname(fileURLToPath(import.meta.url)), 'placementProbe.ts');
  try {
    const { code, log } = await new Promise<{ code: number | null; log: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [probe, file, device, JSON.stringify(opts.gpuOutputs ?? [])], {
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.stderr.on('data', (c: Buffer) => chunks.push(c));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve({ code: c, log: Buffer.concat(chunks).toString('utf8') });
      });
    });
    if (code !== 0) {
      const tail = log
        .split('\n')
        .filter((l) => !/\[V:|\[I:/.test(l))
        .slice(-5)
        .join('\n');
      throw new Error(`could not create a ${device} session to read its placement (exit ${code}): ${tail}`);
    }
    return parsePlacementLog(log, device);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
