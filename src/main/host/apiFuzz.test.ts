import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppCore } from '../rpc/localClient.ts';
import { createServices } from '../services/services.ts';
import { FUZZED_METHODS, FuzzTally, fuzzCase, VALID_PARAMS_EXCLUDED } from './testing/apiFuzz.ts';
import { startHostProcess, type HostProcess } from './testing/hostProcess.ts';
import { frame, openRawClient } from './testing/rawFrames.ts';
import { RawApiClient } from './testing/wsClient.ts';
import { apiRequests } from '../../shared/api/index.ts';
import { PIPELINE_FORMAT } from '../../shared/pipelines/pipeline.ts';

/**
 * The API fuzz in CI (a few thousand cases; `npm run bench:fuzz` runs 100,000+). Everything runs against a
 * temporary data directory, and from a temporary working directory so that relative paths land there.
 */
const dir = mkdtempSync(join(tmpdir(), 'xai-fuzz-'));
const seed = Number(process.env.FUZZ_SEED ?? 20261204);
const previousCwd = process.cwd();

beforeAll(() => {
  mkdirSync(join(dir, 'cwd'), { recursive: true });
  process.chdir(join(dir, 'cwd'));
});
afterAll(() => {
  process.chdir(previousCwd);
  rmSync(dir, { recursive: true, force: true });
});

describe('API fuzz', () => {
  it('covers every method of the contract, and excludes valid params only for named heavy ones', () => {
    expect(FUZZED_METHODS).toEqual(Object.keys(apiRequests));
    for (const method of Object.keys(VALID_PARAMS_EXCLUDED)) expect(FUZZED_METHODS).toContain(method);
  });

  it('through the dispatcher: every reply is a valid result or a typed error', async () => {
    const services = createServices({ dataDir: join(dir, 'dispatcher-data'), entryPoint: 'host' });
    const { dispatcher } = createAppCore(services);
    const tally = new FuzzTally();
    try {
      await fc.assert(
        fc.asyncProperty(fuzzCase, async (c) => {
          tally.add(c, await dispatcher.invoke(c.method, c.params, { entryPoint: 'host' }));
          for (const job of services.jobs.list())
            if (job.status === 'running') services.jobs.cancel(job.jobId);
          expect(
            await dispatcher.invoke('system.ping', { message: 'ok' }, { entryPoint: 'host' }),
          ).toMatchObject({
            ok: true,
          });
        }),
        { numRuns: 2000, seed },
      );
    } finally {
      await services.dispose();
    }
    expect(tally.internal).toEqual([]);
    expect(Object.keys(tally.byMethod).length).toBeGreaterThan(FUZZED_METHODS.length * 0.9);
    expect(tally.byVerdict.result).toBeGreaterThan(0);
  }, 180_000);

  it('regressions it found: each is a typed error that says what to fix, not INTERNAL', async () => {
    const services = createServices({ dataDir: join(dir, 'regression-data'), entryPoint: 'host' });
    const { dispatcher } = createAppCore(services);
    const invoke = (method: string, params: unknown) =>
      dispatcher.invoke(method, params, { entryPoint: 'host' });
    writeFileSync(join(dir, 'not-a-car.car'), 'plain text');
    try {
      expect(await invoke('ipfs.importCar', { path: join(dir, 'not-a-car.car') })).toMatchObject({
        ok: false,
        error: { code: 'INVALID_PARAMS', message: expect.stringMatching(/is not a CAR file/) as unknown },
      });
      // A folder where a CAR file belongs (bench:fuzz seed 47 sent "/": EISDIR came back as INTERNAL).
      expect(await invoke('ipfs.importCar', { path: dir })).toMatchObject({
        ok: false,
        error: {
          code: 'INVALID_PARAMS',
          message: expect.stringMatching(/is a folder, not a CAR file/) as unknown,
        },
      });
      expect(await invoke('ipfs.add', { path: 'a\u0000b' })).toMatchObject({
        ok: false,
        error: { code: 'INVALID_PARAMS' },
      });
      // An environment variable named like an Object.prototype member is unset, not a function.
      expect(await invoke('claims.signerAddress', { signer: { keyEnv: 'constructor' } })).toMatchObject({
        ok: false,
        error: { code: 'FAILED_PRECONDITION', message: expect.stringMatching(/is not set/) as unknown },
      });
      expect(await invoke('datasets.tokenize', { text: '', tokenizer: 'char' })).toMatchObject({
        ok: false,
        error: { code: 'INVALID_PARAMS', field: 'text' },
      });
      // A file that is not a checkpoint (bench:fuzz sent /etc/shadow), and one that is cut short.
      for (const [name, bytes] of [
        ['not-a-checkpoint.safetensors', 'plain text, no header'],
        ['truncated.safetensors', Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 0x7b])],
      ] as const) {
        writeFileSync(join(dir, name), bytes);
        expect(
          await invoke('runs.export', {
            checkpointPath: join(dir, name),
            outPath: join(dir, 'out.onnx'),
          }),
        ).toMatchObject({
          ok: false,
          error: {
            code: 'INVALID_PARAMS',
            field: 'checkpointPath',
            message: expect.stringMatching(/not a safetensors file/) as unknown,
          },
        });
      }
      // Paths a client may name that are no regular file (a probe setting every string field to each).
      // /dev/zero as a keystore was read whole: std::bad_alloc aborted the process.
      const notAFile = {
        ok: false,
        error: { message: expect.stringMatching(/not a regular file/) as unknown },
      };
      const unreadable = {
        ok: false,
        error: { code: 'FAILED_PRECONDITION', message: expect.stringMatching(/EIO/) as unknown },
      };
      expect(await invoke('claims.signerAddress', { signer: { keystore: '/dev/zero' } })).toMatchObject(
        notAFile,
      );
      expect(await invoke('verifier.check', { claim: { file: '/dev/zero' } })).toMatchObject(notAFile);
      expect(await invoke('runs.import', { path: '/dev/zero' })).toMatchObject(notAFile);
      expect(await invoke('eval.hold', { file: '/dev/zero' })).toMatchObject(notAFile);
      expect(await invoke('verifier.check', { claim: { file: dir } })).toMatchObject({
        ok: false,
        error: { code: 'FAILED_PRECONDITION', message: expect.stringMatching(/is a folder/) as unknown },
      });
      // /proc/self/mem is a "regular file" that fails every read with EIO (was INTERNAL).
      for (const [method, params] of [
        ['claims.signerAddress', { signer: { keystore: '/proc/self/mem' } }],
        ['eval.hold', { file: '/proc/self/mem' }],
        ['ipfs.add', { path: '/proc/self/mem' }],
        ['ipfs.importCar', { path: '/proc/self/mem' }],
      ] as const)
        expect(await invoke(method, params), method).toMatchObject(unreadable);
      expect(await invoke('runs.import', { path: '/proc/self/mem' })).toMatchObject({
        ok: false,
        error: { code: 'INVALID_PARAMS', message: expect.stringMatching(/cannot read .*EIO/) as unknown },
      });
      // A named pipe is opened without waiting for a writer: a blocking open stalled the whole process.
      const fifo = join(dir, 'pipe.onnx');
      const fifoCheckpoint = join(dir, 'pipe.safetensors');
      execFileSync('mkfifo', [fifo, fifoCheckpoint]);
      for (const [method, params] of [
        ['runs.sample', { path: fifo }],
        ['runs.sample', { path: fifoCheckpoint }],
        ['runs.export', { checkpointPath: fifoCheckpoint, outPath: join(dir, 'out.onnx') }],
        ['runs.create', { preset: 'cpu-tiny', data: { path: fifo, vocabSize: 65 } }],
        ['eval.hold', { file: fifo }],
      ] as const)
        expect(await invoke(method, params), method).toMatchObject(notAFile);
      // A pipeline input folder with a symbolic-link loop was walked until ELOOP (INTERNAL); now the walk
      // is the preparation's own, loops cut, and the unreadable second input is named.
      mkdirSync(join(dir, 'loopy'));
      writeFileSync(join(dir, 'loopy', 'a.txt'), 'some text');
      symlinkSync('.', join(dir, 'loopy', 'loop'));
      const pipeline = {
        format: PIPELINE_FORMAT,
        version: 1,
        name: 'loopy',
        stages: {
          prepare: { inputs: [join(dir, 'loopy'), '/proc/self/mem'], tokenizer: 'char' },
          train: { preset: 'cpu-tiny', iters: 1 },
        },
      };
      expect(await invoke('pipelines.run', { source: { pipeline } })).toMatchObject({
        ok: false,
        error: {
          code: 'FAILED_PRECONDITION',
          message: expect.stringMatching(/\/proc\/self\/mem cannot be read \(EIO\)/) as unknown,
        },
      });
    } finally {
      await services.dispose();
    }
  });

  describe('through the WebSocket of a real host process', () => {
    let host: HostProcess;
    beforeAll(async () => {
      host = await startHostProcess(join(dir, 'host-data'), { cwd: join(dir, 'cwd') });
    }, 60_000);
    afterAll(async () => {
      await host?.stop();
    });

    it('requests: the host lives and answers a cheap call after each case', async () => {
      let client = await RawApiClient.connect(host.port, host.token);
      const tally = new FuzzTally();
      await fc.assert(
        fc.asyncProperty(fuzzCase, async (c) => {
          tally.add(c, await client.invoke(c.method, c.params));
          const jobs = await client.invoke('jobs.list', {});
          if (jobs.ok)
            for (const job of jobs.result as { jobId: string; status: string }[])
              if (job.status === 'running') await client.invoke('jobs.cancel', { jobId: job.jobId });
          expect(host.alive(), host.log()).toBe(true);
          expect(await client.invoke('system.ping', { message: 'ok' })).toMatchObject({ ok: true });
        }),
        { numRuns: 1000, seed: seed + 1 },
      );
      client.close();
      client = await RawApiClient.connect(host.port, host.token);
      expect(await client.invoke('system.ping', { message: 'ok' })).toMatchObject({ ok: true });
      client.close();
      expect(tally.internal).toEqual([]);
    }, 180_000);

    it('raw frames: any opcode, bits, mask and length close at most that client', async () => {
      const rawFrame = fc.record({
        opcode: fc.integer({ min: 0, max: 15 }),
        rsv: fc.integer({ min: 0, max: 7 }),
        fin: fc.boolean(),
        mask: fc.boolean(),
        payload: fc.uint8Array({ maxLength: 300 }),
        declaredLength: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(rawFrame, { minLength: 1, maxLength: 4 }), async (frames) => {
          const client = await openRawClient(host.port, host.token);
          for (const f of frames) client.write(frame(f.opcode, Buffer.from(f.payload), f));
          await new Promise((r) => setTimeout(r, 5));
          client.socket.destroy();
          expect(host.alive(), host.log()).toBe(true);
        }),
        { numRuns: 300, seed: seed + 2 },
      );
      const check = await RawApiClient.connect(host.port, host.token);
      expect(await check.invoke('system.ping', { message: 'ok' })).toMatchObject({ ok: true });
      check.close();
    }, 120_000);
  });
});
