/**
 * `xai-link import` and `export --format nanogpt` as a user runs them (the real CLI in a child process),
 * on the PyTorch fixtures of src/main/interop/fixtures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../shared/api/runs.ts';
import { readNanoGptCheckpoint } from '../../interop/nanoGptCheckpoint.ts';
import { cliWithDataDir, jsonOf } from '../testing/cliProcess.ts';

const FIXTURES = join(import.meta.dirname, '../../interop/fixtures');
const dir = mkdtempSync(join(tmpdir(), 'xai-cli-import-'));
const cli = cliWithDataDir(join(dir, 'data'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('xai-link import', () => {
  it('imports ckpt.pt + meta.pkl; --json prints { run } last; sample, resume on a nanoGPT data folder, export back', async () => {
    const r = await cli(
      'import',
      join(FIXTURES, 'plain.pt'),
      '--meta',
      join(FIXTURES, 'nanogpt-data', 'meta.pkl'),
      '--json',
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      run: string;
      step: number;
      tokenizer: string;
    };
    expect(out.run).toMatch(/^run-/);
    expect(out).toMatchObject({ step: 150, tokenizer: 'char', hasOptimizer: true });

    const sample = await cli(
      'sample',
      '--checkpoint',
      out.run,
      '--prompt',
      'the ',
      '--tokens',
      '10',
      '--temperature',
      '0',
    );
    expect(sample.code).toBe(0);
    expect(sample.stdout).toMatch(/^the [ .acehmnost]{10}/);

    const noData = await cli('train', '--resume', out.run, '--max-iters', '152', '--device', 'cpu');
    expect(noData.code).not.toBe(0);
    expect(noData.stderr).toMatch(/--data/);
    const resumed = jsonOf<RunSummary>(
      await cli(
        'train',
        '--resume',
        out.run,
        '--data',
        join(FIXTURES, 'nanogpt-data'),
        '--max-iters',
        '152',
        '--device',
        'cpu',
        '--threads',
        '1',
        '--json',
      ),
    );
    expect(resumed).toMatchObject({ status: 'completed', step: 152 });

    const ckpt = join(dir, 'out', 'ckpt.pt');
    const ex = await cli('export', '--checkpoint', out.run, '--latest', '--format', 'nanogpt', '--out', ckpt);
    expect(ex.code).toBe(0);
    expect(readNanoGptCheckpoint(ckpt).state.step).toBe(152);
  });

  it('refuses a hostile checkpoint with exit code 2 and the global it asked for', async () => {
    const r = await cli('import', join(FIXTURES, 'hostile.pt'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to load global posix\.system/);
    const runs = jsonOf<RunSummary[]>(await cli('runs', '--json'));
    expect(runs.some((x) => x.name.startsWith('hostile.pt'))).toBe(false);
  });
});
