import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rpcCall } from '../chain/anvil.ts';
import { EmbeddedChain } from '../chain/embeddedChain.ts';
import { loadCheckpoint } from '../engine/checkpoint.ts';
import { shakespearePath } from '../engine/testing/charDataset.ts';
import { SettingsService } from '../settings/settingsService.ts';

/**
 * The crash-safety matrix: each operation runs in a child process (the real CLI, as a user runs it) and is
 * SIGKILLed at a seeded random moment; then the data directory must open, hold no torn file, have lost
 * nothing that was acknowledged before the kill, and the interrupted operation, run again, must end with
 * the same result (CID or content hash) as an uninterrupted run. Used by the CI test (3 kills per
 * operation) and by `npm run bench:crash` (20+).
 */

const CLI = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const SETTINGS_WRITER = fileURLToPath(new URL('./settingsWriter.ts', import.meta.url));
const CHAIN_WRITER = fileURLToPath(new URL('./chainWriter.ts', import.meta.url));

export interface KillOutcome {
  /** The kill came before the operation ended (otherwise it ran to completion first). */
  interrupted: boolean;
  /** The data directory opened and the operation, run again, ended with the uninterrupted result. */
  recovered: boolean;
  /** Acknowledged items (a pinned CID, a saved setting) missing after the restart. */
  lost: number;
  /** Why it did not recover, when it did not. */
  problem?: string;
}

export interface CrashOperation {
  readonly name: string;
  /** Builds the inputs and the uninterrupted reference once; returns how long the operation takes (ms). */
  setup(workDir: string): Promise<number>;
  /** One kill after `delayMs` on a fresh copy of the starting data directory, then the restart checks. */
  killOnce(runDir: string, delayMs: number): Promise<KillOutcome>;
}

interface Spawned {
  code: number | null;
  killed: boolean;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs `node <script> args`, SIGKILLed after `killAfterMs` if it still runs then. With `group`, the kill
 * takes its whole process group (the processes it started, such as its anvil), as a crash of the machine
 * or a service manager's kill would.
 */
export function runChild(
  script: string,
  args: string[],
  killAfterMs?: number,
  opts: { group?: boolean } = {},
): Promise<Spawned> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: opts.group ?? false,
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer =
      killAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            if (opts.group && child.pid) {
              try {
                process.kill(-child.pid, 'SIGKILL');
                killed = true;
              } catch {
                killed = false;
              }
            } else killed = child.kill('SIGKILL');
          }, killAfterMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, killed: killed && code === null, stdout, stderr, ms: performance.now() - started });
    });
  });
}

const cli = (dataDir: string, args: string[], killAfterMs?: number): Promise<Spawned> =>
  runChild(CLI, ['--data-dir', dataDir, ...args], killAfterMs);

async function cliJson<T>(dataDir: string, args: string[]): Promise<T> {
  const r = await cli(dataDir, [...args, '--json']);
  if (r.code !== 0) throw new Error(`xai-link ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as T;
}

/** Seeded (mulberry32): the same seed kills at the same moments. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic input files: `count` files of pseudo-random text (so every run adds the same bytes). */
function writeInputTree(dir: string, count: number, bytesEach: number): void {
  mkdirSync(dir, { recursive: true });
  const random = seededRandom(7);
  const words = ['model', 'data', 'proof', 'block', 'token', 'chain', 'weight', 'loss', 'verify', 'mint'];
  for (let i = 0; i < count; i++) {
    let text = '';
    while (text.length < bytesEach) text += `${words[Math.floor(random() * words.length)]} `;
    writeFileSync(join(dir, `part-${String(i).padStart(3, '0')}.txt`), text);
  }
}

/** Files a crash must never leave behind in plain sight (temporary files are dot-files, cleaned or ignored). */
function visibleTempFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) =>
    /(^|\/)[^./][^/]*\.(tmp|partial)$/.test(p),
  );
}

/**
 * IPFS operations share a starting repository that holds one acknowledged, pinned file: after any kill it
 * must still be pinned and read back byte for byte.
 */
abstract class IpfsOperation implements CrashOperation {
  abstract readonly name: string;
  protected base = '';
  protected input = '';
  protected ackCid = '';
  protected ackText = 'acknowledged before the kill\n';
  protected expected = '';

  protected async prepareBase(workDir: string): Promise<void> {
    this.base = join(workDir, 'base');
    this.input = join(workDir, 'input');
    writeInputTree(this.input, 40, 150_000);
    writeFileSync(join(workDir, 'ack.txt'), this.ackText);
    this.ackCid = (
      await cliJson<{ cid: string }>(this.base, ['ipfs', 'add', '--pin', join(workDir, 'ack.txt')])
    ).cid;
  }

  abstract setup(workDir: string): Promise<number>;
  /** The operation to kill, on `dataDir`. */
  protected abstract args(): string[];
  /** Runs the operation again after the restart; returns the CID to compare with the reference. */
  protected abstract rerun(dataDir: string): Promise<string>;

  async killOnce(runDir: string, delayMs: number): Promise<KillOutcome> {
    const dataDir = join(runDir, 'data');
    cpSync(this.base, dataDir, { recursive: true });
    const run = await cli(dataDir, this.args(), delayMs);
    let lost = 0;
    try {
      const cat = await cli(dataDir, ['ipfs', 'cat', this.ackCid]);
      if (cat.code !== 0 || !cat.stdout.includes(this.ackText.trim())) lost += 1;
      const again = await this.rerun(dataDir);
      const torn = visibleTempFiles(dataDir);
      const recovered = again === this.expected && torn.length === 0;
      return {
        interrupted: run.killed,
        recovered,
        lost,
        ...(recovered
          ? {}
          : { problem: `result ${again}, expected ${this.expected}; stray files: ${torn.join(', ')}` }),
      };
    } catch (e) {
      return { interrupted: run.killed, recovered: false, lost, problem: (e as Error).message };
    }
  }
}

class IpfsAdd extends IpfsOperation {
  readonly name = 'ipfs add (6 MB, 40 files)';
  async setup(workDir: string): Promise<number> {
    await this.prepareBase(workDir);
    const reference = join(workDir, 'reference');
    cpSync(this.base, reference, { recursive: true });
    const started = performance.now();
    this.expected = (await cliJson<{ cid: string }>(reference, this.args())).cid;
    return performance.now() - started;
  }
  protected args(): string[] {
    return ['ipfs', 'add', '--pin', this.input];
  }
  protected async rerun(dataDir: string): Promise<string> {
    const added = await cliJson<{ cid: string; pinned: boolean }>(dataDir, this.args());
    // The repository must also survive a garbage collection after the crash, keeping what is pinned.
    await cliJson(dataDir, ['ipfs', 'gc']);
    return added.pinned ? added.cid : `${added.cid} (not pinned)`;
  }
}

class IpfsImportCar extends IpfsOperation {
  readonly name = 'ipfs CAR import (6 MB)';
  #car = '';
  async setup(workDir: string): Promise<number> {
    await this.prepareBase(workDir);
    const source = join(workDir, 'car-source');
    this.expected = (await cliJson<{ cid: string }>(source, ['ipfs', 'add', this.input])).cid;
    this.#car = join(workDir, 'input.car');
    await cliJson(source, ['ipfs', 'export', this.expected, '--out', this.#car]);
    const reference = join(workDir, 'reference');
    cpSync(this.base, reference, { recursive: true });
    const started = performance.now();
    await cliJson(reference, this.args());
    return performance.now() - started;
  }
  protected args(): string[] {
    return ['ipfs', 'import', this.#car];
  }
  protected async rerun(dataDir: string): Promise<string> {
    const result = await cliJson<{ roots: string[] }>(dataDir, this.args());
    return result.roots[0] ?? 'no root';
  }
}

class IpfsGc extends IpfsOperation {
  readonly name = 'ipfs gc (6 MB unpinned)';
  async setup(workDir: string): Promise<number> {
    await this.prepareBase(workDir);
    // Unpinned content for the collection to delete while it is killed.
    await cliJson(this.base, ['ipfs', 'add', this.input]);
    const reference = join(workDir, 'reference');
    cpSync(this.base, reference, { recursive: true });
    const started = performance.now();
    await cliJson(reference, this.args());
    this.expected = 'collected';
    return performance.now() - started;
  }
  protected args(): string[] {
    return ['ipfs', 'gc'];
  }
  protected async rerun(dataDir: string): Promise<string> {
    await cliJson(dataDir, this.args());
    const again = await cliJson<{ removedBlocks: number }>(dataDir, this.args());
    return again.removedBlocks === 0 ? 'collected' : `${again.removedBlocks} blocks left after a full gc`;
  }
}

/** Dataset preparation: the folder appears whole (temp + rename) or not at all; a rerun gives the same tokens. */
class Prepare implements CrashOperation {
  readonly name = 'dataset preparation (300 kB text, char)';
  #input = '';
  #expected = '';

  async setup(workDir: string): Promise<number> {
    this.#input = join(workDir, 'input.txt');
    writeInputTree(join(workDir, 'text'), 1, 300_000);
    cpSync(join(workDir, 'text', 'part-000.txt'), this.#input);
    const started = performance.now();
    this.#expected = await this.#run(join(workDir, 'reference'));
    return performance.now() - started;
  }

  async #run(dataDir: string): Promise<string> {
    const m = await cliJson<{ splits: Record<string, { sha256: string }> }>(dataDir, this.#args());
    return fingerprint(m.splits);
  }

  #args(): string[] {
    return ['prepare', this.#input, '--tokenizer', 'char', '--name', 'crash', '--seed', '1'];
  }

  async killOnce(runDir: string, delayMs: number): Promise<KillOutcome> {
    const dataDir = join(runDir, 'data');
    const run = await cli(dataDir, this.#args(), delayMs);
    try {
      const folder = join(dataDir, 'datasets', 'crash');
      let result: string;
      if (existsSync(folder)) {
        // The kill came after the rename: the dataset must be complete.
        const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as {
          splits: Record<string, { sha256: string; file: string }>;
        };
        for (const split of Object.values(manifest.splits)) {
          const bytes = readFileSync(join(folder, split.file));
          if (createHash('sha256').update(bytes).digest('hex') !== split.sha256)
            throw new Error(`${split.file} does not match its manifest: a torn dataset`);
        }
        result = fingerprint(manifest.splits);
      } else result = await this.#run(dataDir);
      const recovered = result === this.#expected;
      return {
        interrupted: run.killed,
        recovered,
        lost: 0,
        ...(recovered ? {} : { problem: `tokens ${result}, expected ${this.#expected}` }),
      };
    } catch (e) {
      return { interrupted: run.killed, recovered: false, lost: 0, problem: (e as Error).message };
    }
  }
}

function fingerprint(splits: Record<string, { sha256: string }>): string {
  return Object.entries(splits)
    .map(([name, s]) => `${name}:${s.sha256.slice(0, 12)}`)
    .sort()
    .join(',');
}

/** Settings saves in a tight loop: after the kill the file parses, and holds the last acknowledged save or a later one. */
class SettingsWrites implements CrashOperation {
  readonly name = 'settings writes';
  async setup(): Promise<number> {
    return 2500;
  }
  async killOnce(runDir: string, delayMs: number): Promise<KillOutcome> {
    const file = join(runDir, 'settings.json');
    const run = await runChild(SETTINGS_WRITER, [file], delayMs);
    const acks = [...run.stdout.matchAll(/ack (\d+)/g)].map((m) => Number(m[1]));
    const lastAck = acks.at(-1) ?? 0;
    const asideBefore = readdirSync(runDir).filter((f) => f.includes('.broken-')).length;
    const settings = await new SettingsService(file).get();
    const setAside = readdirSync(runDir).filter((f) => f.includes('.broken-')).length - asideBefore;
    const saved = Number(/^save-(\d+)$/.exec(settings.walletConnectProjectId)?.[1] ?? 0);
    const lost = saved >= lastAck ? 0 : 1;
    const recovered = setAside === 0 && lost === 0;
    return {
      interrupted: run.killed,
      recovered,
      lost,
      ...(recovered
        ? {}
        : { problem: `saved ${saved}, last acknowledged ${lastAck}, set aside ${setAside}` }),
    };
  }
}

/** A tiny character dataset (prepared by the real CLI) shared by the training and evaluation operations. */
async function prepareTinyDataset(workDir: string, dataDir: string, chars: number): Promise<string> {
  const text = join(workDir, 'tiny.txt');
  writeFileSync(text, readFileSync(shakespearePath(), 'utf8').slice(0, chars));
  return (
    await cliJson<{ path: string }>(dataDir, [
      'prepare',
      text,
      '--tokenizer',
      'char',
      '--name',
      'tiny',
      '--seed',
      '1',
    ])
  ).path;
}

/** One layer, 16 wide, 8-token context, a checkpoint every 4 steps: on one CPU thread, deterministic. */
const TINY_TRAINING = [
  '--batch-size',
  '2',
  '--block-size',
  '8',
  '--set',
  'model.nLayer=1',
  '--set',
  'model.nHead=2',
  '--set',
  'model.nEmbd=16',
  '--eval-interval',
  '4',
  '--eval-iters',
  '1',
  '--device',
  'cpu',
  '--threads',
  '1',
  '--seed',
  '1',
];

/** The weights and AdamW moments of a checkpoint, and its step (its file also holds a creation time). */
function checkpointFingerprint(path: string): string {
  const ck = loadCheckpoint(path);
  const hash = createHash('sha256').update(`step ${ck.state.step}\n`);
  for (const a of [ck.state.params, ck.state.m, ck.state.v])
    hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return `step ${ck.state.step} ${hash.digest('hex').slice(0, 16)}`;
}

/**
 * A training run killed at any moment: its directory opens (run.json parses, the latest checkpoint loads),
 * `train --resume` takes it to the end (or, killed before its record was written, a new run), and the final
 * checkpoint holds exactly the weights and optimizer state of the uninterrupted run.
 */
class TrainCheckpoint implements CrashOperation {
  readonly name = 'training with checkpoints (60 steps, one every 4)';
  #dataset = '';
  #expected = '';

  async setup(workDir: string): Promise<number> {
    this.#dataset = await prepareTinyDataset(workDir, join(workDir, 'data'), 20_000);
    const reference = join(workDir, 'reference');
    const started = performance.now();
    await cliJson(join(workDir, 'reference-data'), this.#args(reference));
    const ms = performance.now() - started;
    this.#expected = checkpointFingerprint(join(reference, 'checkpoints', 'latest.safetensors'));
    return ms;
  }

  #args(out: string): string[] {
    return ['train', '--data', this.#dataset, '--max-iters', '60', ...TINY_TRAINING, '--out', out];
  }

  async killOnce(runDir: string, delayMs: number): Promise<KillOutcome> {
    const dataDir = join(runDir, 'data');
    const out = join(runDir, 'run');
    const run = await cli(dataDir, this.#args(out), delayMs);
    try {
      const record = join(out, 'run.json');
      const latest = join(out, 'checkpoints', 'latest.safetensors');
      let status = 'none';
      if (existsSync(record))
        status = (JSON.parse(readFileSync(record, 'utf8')) as { status: string }).status;
      // Throws on a torn checkpoint: the run directory must open as it is.
      if (existsSync(latest)) checkpointFingerprint(latest);
      if (status === 'none') await cliJson(dataDir, this.#args(out));
      else if (status !== 'completed') {
        const resumed = await cliJson<{ status: string }>(dataDir, ['train', '--resume', '--out', out]);
        if (resumed.status !== 'completed') throw new Error(`the resumed run ended ${resumed.status}`);
      }
      const result = checkpointFingerprint(latest);
      const torn = visibleTempFiles(out);
      const recovered = result === this.#expected && torn.length === 0;
      return {
        interrupted: run.killed,
        recovered,
        lost: 0,
        ...(recovered
          ? {}
          : {
              problem: `final checkpoint ${result}, expected ${this.#expected}; stray files: ${torn.join(', ')}`,
            }),
      };
    } catch (e) {
      return { interrupted: run.killed, recovered: false, lost: 0, problem: (e as Error).message };
    }
  }
}

/**
 * The deterministic evaluation of a checkpoint, published to IPFS, killed at any moment: the repository
 * opens, an evaluation report published before (acknowledged) still reads back, and the evaluation run
 * again gives the same model and text hashes, metrics and on-chain scores. (The report's CID itself differs
 * from run to run: the report records when it ran and for how long.)
 */
class Evaluation implements CrashOperation {
  readonly name = 'evaluation (40 kB text, published)';
  #base = '';
  #checkpoint = '';
  #text = '';
  #ackReport = '';
  #expected = '';

  async setup(workDir: string): Promise<number> {
    this.#base = join(workDir, 'base');
    // The evaluation text is part of the prepared text: a char tokenizer knows only the characters it saw.
    const dataset = await prepareTinyDataset(workDir, this.#base, 160_000);
    const run = join(workDir, 'model');
    await cliJson(this.#base, [
      'train',
      '--data',
      dataset,
      '--max-iters',
      '8',
      ...TINY_TRAINING,
      '--out',
      run,
    ]);
    this.#checkpoint = join(run, 'checkpoints', 'latest.safetensors');
    this.#text = join(workDir, 'eval.txt');
    writeFileSync(this.#text, readFileSync(shakespearePath(), 'utf8').slice(100_000, 140_000));
    const small = join(workDir, 'eval-small.txt');
    writeFileSync(small, readFileSync(shakespearePath(), 'utf8').slice(0, 2_000));
    this.#ackReport = (
      await cliJson<{ reportCid: string }>(this.#base, [
        'eval',
        'run',
        this.#checkpoint,
        '--text',
        small,
        '--publish',
      ])
    ).reportCid;
    const reference = join(workDir, 'reference');
    cpSync(this.#base, reference, { recursive: true });
    const started = performance.now();
    this.#expected = await this.#run(reference);
    return performance.now() - started;
  }

  async #run(dataDir: string): Promise<string> {
    const r = await cliJson<{
      report: { model: unknown; text: unknown; result: unknown };
      reportCid: string;
    }>(dataDir, this.#args());
    if (!r.reportCid) return 'no report CID';
    const { model, text, result } = r.report;
    return createHash('sha256').update(JSON.stringify({ model, text, result })).digest('hex').slice(0, 16);
  }

  #args(): string[] {
    return ['eval', 'run', this.#checkpoint, '--text', this.#text, '--publish'];
  }

  async killOnce(runDir: string, delayMs: number): Promise<KillOutcome> {
    const dataDir = join(runDir, 'data');
    cpSync(this.#base, dataDir, { recursive: true });
    const run = await cli(dataDir, this.#args(), delayMs);
    let lost = 0;
    try {
      const before = await cli(dataDir, ['eval', 'report', this.#ackReport]);
      if (before.code !== 0 || !before.stdout.includes('xai-link-evaluation')) lost += 1;
      const result = await this.#run(dataDir);
      const torn = visibleTempFiles(dataDir);
      const recovered = result === this.#expected && torn.length === 0;
      return {
        interrupted: run.killed,
        recovered,
        lost,
        ...(recovered
          ? {}
          : { problem: `evaluation ${result}, expected ${this.#expected}; stray files: ${torn.join(', ')}` }),
      };
    } catch (e) {
      return { interrupted: run.killed, recovered: false, lost, problem: (e as Error).message };
    }
  }
}

/**
 * Transactions on the embedded chain, the app and its anvil killed together at any moment (anvil holds the
 * chain in memory): the chain must start again from its state file, or from nothing after setting a damaged
 * file aside with a message, and every transaction whose receipt the app had seen must still be there.
 */
class ChainState implements CrashOperation {
  readonly name = 'embedded chain transactions (app and anvil killed)';
  async setup(): Promise<number> {
    return 5000;
  }
  async killOnce(runDir: string, delayMs: number): Promise<KillOutcome> {
    const dir = join(runDir, 'chain');
    const run = await runChild(CHAIN_WRITER, [dir], delayMs, { group: true });
    const acked = [...run.stdout.matchAll(/ack (\d+) (0x[0-9a-f]{64})/g)].map((m) => m[2]! as `0x${string}`);
    const chain = new EmbeddedChain(dir);
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => warnings.push(a.join(' '));
    try {
      const { rpcUrl } = await chain.ensureRunning();
      let lost = 0;
      for (const hash of acked) {
        const receipt = await rpcCall(rpcUrl, 'eth_getTransactionReceipt', [hash], 5000);
        if (!receipt) lost += 1;
      }
      const setAside = readdirSync(dir).filter((f) => f.includes('.broken-')).length;
      const torn = visibleTempFiles(dir);
      const recovered = lost === 0 && setAside === 0 && torn.length === 0;
      return {
        interrupted: run.killed,
        recovered,
        lost,
        ...(recovered
          ? {}
          : {
              problem: `${lost} of ${acked.length} acknowledged transactions lost; ${setAside} state file(s) set aside (${warnings.join('; ')}); stray files: ${torn.join(', ')}`,
            }),
      };
    } catch (e) {
      return { interrupted: run.killed, recovered: false, lost: acked.length, problem: (e as Error).message };
    } finally {
      await chain.stop().catch(() => undefined);
      console.warn = warn;
    }
  }
}

/** anvil's dev account 2 (its default mnemonic): the lineage's verifier. */
const DEV_ACCOUNT_2 = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

interface MintedToken {
  tokenId: number;
  modelCid: string;
  metadataCid: string;
  evaluationCid: string;
  score: string;
}

/**
 * The claim stage of a pipeline on the embedded chain (commit → evaluate → sign → a verifier attests →
 * claim and mint), killed at any moment (the app and its anvil together, or every other time the app
 * alone): run again, the pipeline resumes and
 * ends with exactly one minted token carrying the uninterrupted run's model, metadata and evaluation CIDs and
 * score (the claim's own id and CID differ from run to run: a random id, a deadline). Never two mints.
 */
class ClaimPipeline implements CrashOperation {
  readonly name = 'claim pipeline (commit, attest, claim, mint)';
  #base = '';
  #pipeline = '';
  #expected = '';

  async setup(workDir: string): Promise<number> {
    this.#base = join(workDir, 'base');
    writeFileSync(join(workDir, 'text.txt'), readFileSync(shakespearePath(), 'utf8').slice(0, 30_000));
    this.#pipeline = join(workDir, 'pipeline.json');
    writeFileSync(
      this.#pipeline,
      JSON.stringify({
        format: 'xai-link-pipeline',
        version: 1,
        name: 'crash-claim',
        stages: {
          prepare: { inputs: ['text.txt'], tokenizer: 'char', valRatio: 0.1 },
          train: {
            preset: 'cpu-tiny',
            model: { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8 },
            train: { batchSize: 2, evalIters: 1, warmupIters: 1, logInterval: 1, sampleTokens: 4 },
            iters: 8,
          },
          evaluate: { text: 'prepared' },
          publish: { pin: true },
          claim: {
            lineageId: 1,
            trainer: { devAccount: 1 },
            verifiers: [{ devAccount: 2 }],
            name: 'crash',
          },
        },
      }),
    );
    // Everything before the claim is done once; the lineage's evaluation text is the prepared one.
    const prepared = await cliJson<{ outputs: { prepare: { evalTextCid: string } } }>(this.#base, [
      'run',
      this.#pipeline,
      '--until',
      'prepare',
    ]);
    await cliJson(this.#base, [
      'lineage',
      'create',
      '--name',
      'crash',
      '--eval-cid',
      prepared.outputs.prepare.evalTextCid,
      '--genesis-score',
      '100000000',
      '--verifier',
      DEV_ACCOUNT_2,
      '--quorum',
      '1',
      '--min-commit-age',
      '1',
      '--dev-account',
      '0',
    ]);
    await cliJson(this.#base, ['run', this.#pipeline, '--until', 'publish']);
    const reference = join(workDir, 'reference');
    cpSync(this.#base, reference, { recursive: true });
    const started = performance.now();
    await cliJson(reference, ['run', this.#pipeline]);
    const ms = performance.now() - started;
    this.#expected = await this.minted(reference);
    return ms;
  }

  get pipelinePath(): string {
    return this.#pipeline;
  }

  get expected(): string {
    return this.#expected;
  }

  async minted(dataDir: string): Promise<string> {
    const { tokens } = await cliJson<{ tokens: MintedToken[] }>(dataDir, ['tokens', 'list']);
    return tokens
      .map(
        (t) =>
          `#${t.tokenId} model ${t.modelCid} metadata ${t.metadataCid} evaluation ${t.evaluationCid} score ${t.score}`,
      )
      .join('; ');
  }

  async killOnce(runDir: string, delayMs: number): Promise<KillOutcome> {
    const dataDir = join(runDir, 'data');
    cpSync(this.#base, dataDir, { recursive: true });
    // Every other kill takes only the app: its anvil lives on with what was sent (a transaction may be
    // mined without the app having seen its receipt), and the restarted app finds and uses it.
    const group = delayMs % 2 === 0;
    const run = await runChild(CLI, ['--data-dir', dataDir, 'run', this.#pipeline, '--json'], delayMs, {
      group,
    });
    try {
      const again = await cliJson<{
        outputs: { claim: { tokenId: number | null; metadataCid: string | null } };
      }>(dataDir, ['run', this.#pipeline]);
      const result = await this.minted(dataDir);
      const torn = visibleTempFiles(dataDir);
      const recovered = result === this.#expected && torn.length === 0 && again.outputs.claim.tokenId === 1;
      return {
        interrupted: run.killed,
        recovered,
        lost: 0,
        ...(recovered
          ? {}
          : {
              problem: `minted ${result || 'nothing'} (the rerun says token ${again.outputs.claim.tokenId}), expected ${this.#expected}; stray files: ${torn.join(', ')}`,
            }),
      };
    } catch (e) {
      return { interrupted: run.killed, recovered: false, lost: 0, problem: (e as Error).message };
    } finally {
      // The anvil the killed app left running (the rerun used it without owning it).
      await cli(dataDir, ['chain', 'stop']);
    }
  }
}

/**
 * The moment the crash matrix meets only by chance, made on purpose: an attempt of the claim pipeline that sent its
 * mint and was stopped before it read the receipt (the token exists on chain, the claim record and the stage's
 * outputs do not say so). The pipeline is run to the end, then made to forget its mint, then run again: it must find
 * that mint and record it, not ask its verifiers again (they refuse a claim whose parent is no longer the lineage's
 * best) nor mint twice. Returns the tokens before and after, and the token the rerun reports.
 */
export async function claimAfterUnseenMint(
  workDir: string,
): Promise<{ expected: string; minted: string; tokenId: number | null }> {
  const op = new ClaimPipeline();
  mkdirSync(workDir, { recursive: true });
  await op.setup(workDir);
  const dataDir = join(workDir, 'reference');
  const cache = join(dataDir, 'pipelines', 'cache', 'claim');
  for (const key of readdirSync(cache)) {
    const id = readFileSync(join(cache, key, 'claim-id.txt'), 'utf8').trim();
    rmSync(join(cache, key, 'outputs.json'));
    const file = join(dataDir, 'claims', `${id}.json`);
    const claim = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...claim, mint: null, status: 'signed' }));
  }
  const again = await cliJson<{ outputs: { claim: { tokenId: number | null } } }>(dataDir, [
    'run',
    op.pipelinePath,
  ]);
  return { expected: op.expected, minted: await op.minted(dataDir), tokenId: again.outputs.claim.tokenId };
}

export const CRASH_OPERATIONS: Record<string, () => CrashOperation> = {
  settings: () => new SettingsWrites(),
  prepare: () => new Prepare(),
  'ipfs-add': () => new IpfsAdd(),
  'ipfs-gc': () => new IpfsGc(),
  'ipfs-import-car': () => new IpfsImportCar(),
  'train-checkpoint': () => new TrainCheckpoint(),
  eval: () => new Evaluation(),
  'chain-state': () => new ChainState(),
  claim: () => new ClaimPipeline(),
};

export interface MatrixRow {
  operation: string;
  kills: number;
  interrupted: number;
  recovered: number;
  lost: number;
  problems: string[];
}

/**
 * Kills one operation `kills` times at seeded random moments between the child's start and a little past
 * the uninterrupted run's duration (so some kills land during start-up and a few after the end).
 */
export async function runCrashMatrix(
  key: string,
  kills: number,
  seed: number,
  workDir: string,
): Promise<MatrixRow> {
  const operation = CRASH_OPERATIONS[key]!();
  mkdirSync(workDir, { recursive: true });
  const duration = await operation.setup(workDir);
  const random = seededRandom(seed);
  const row: MatrixRow = {
    operation: operation.name,
    kills,
    interrupted: 0,
    recovered: 0,
    lost: 0,
    problems: [],
  };
  for (let i = 0; i < kills; i++) {
    const runDir = join(workDir, `kill-${i}`);
    mkdirSync(runDir, { recursive: true });
    const delay = Math.round(300 + random() * duration * 1.05);
    const outcome = await operation.killOnce(runDir, delay);
    if (outcome.interrupted) row.interrupted += 1;
    if (outcome.recovered) row.recovered += 1;
    row.lost += outcome.lost;
    if (outcome.problem) row.problems.push(`kill at ${delay} ms: ${outcome.problem}`);
    rmSync(runDir, { recursive: true, force: true });
  }
  return row;
}
