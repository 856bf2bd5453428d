import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * Parses the placement report out of an ONNX Runtime verbose log. Each provider's header states how many nodes it
 * lists; a report whose lists fall short of their headers (a log cut off or garbled) is refused rather than read as
 * fewer CPU nodes or copies than there are.
 */
export function parsePlacementLog(log: string, requested: DeviceName): Placement {
  const providers: Record<string, string[]> = {};
  const announced: Record<string, number> = {};
  let current: string[] | null = null;
  for (const line of log.split('\n')) {
    const all = /All nodes placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
    if (all) {
      // the short form lists no op types: only counts are known
      providers[all[1]!] = new Array<string>(Number(all[2])).fill('?');
      current = null;
      continue;
    }
    const head = /Node\(s\) placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
    if (head) {
      current = providers[head[1]!] ??= [];
      announced[head[1]!] = Number(head[2]);
      continue;
    }
    // a node line carries the report's own source tag, so other lines (other threads' log) do not end a list
    const node = /VerifyEachNodeIsAssignedToAnEp\]\s{2,}(\S+) \(/.exec(line);
    if (node && current) current.push(node[1]!);
  }
  if (Object.keys(providers).length === 0) {
    throw new Error(
      'no placement report in the ONNX Runtime log (was the session created with verbose logging?)',
    );
  }
  for (const [provider, count] of Object.entries(announced)) {
    const listed = providers[provider]!.length;
    if (listed !== count) {
      throw new Error(
        `the placement report in the ONNX Runtime log is incomplete: ${provider} announces ${count} nodes but ${listed} are listed (was the log cut off?)`,
      );
    }
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
 * to the native stderr, which only a child process can redirect) and returns the parsed placement.
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
    // The log goes to a file, not a pipe: Node makes its stdio pipes non-blocking, so once a pipe is full (64 KiB)
    // while this process is busy, ONNX Runtime's native writes fail and the rest of its report is silently lost.
    const logFile = join(dir, 'session.log');
    const fd = openSync(logFile, 'w');
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [probe, file, device, JSON.stringify(opts.gpuOutputs ?? [])], {
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        stdio: ['ignore', fd, fd],
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    }).finally(() => closeSync(fd));
    const log = readFileSync(logFile, 'utf8');
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
