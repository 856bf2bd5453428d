/**
 * npm run bench:crash [-- --kills 20 --seed 1 --only settings,prepare,ipfs-add,ipfs-gc,ipfs-import-car,
 *   train-checkpoint,eval,chain-state,claim]
 *
 * The crash-safety matrix: each operation runs as the real CLI in a child process and is SIGKILLed at
 * seeded random moments; after each kill the data directory must open, hold no torn file, have lost nothing
 * acknowledged, and the operation run again must end with the uninterrupted run's CID or content hash.
 * Prints the "faults survived" table (Markdown) and exits 1 if any kill was not recovered or lost anything.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CRASH_OPERATIONS, runCrashMatrix, type MatrixRow } from '../../src/main/faults/crashMatrix.ts';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    only: { type: 'string' },
  },
});
const keys = values.only ? values.only.split(',') : Object.keys(CRASH_OPERATIONS);
const unknown = keys.filter((k) => !(k in CRASH_OPERATIONS));
if (unknown.length)
  throw new Error(`unknown operation(s) ${unknown.join(', ')}: ${Object.keys(CRASH_OPERATIONS).join(', ')}`);
const dir = mkdtempSync(join(tmpdir(), 'xai-bench-crash-'));
const rows: MatrixRow[] = [];
try {
  for (const [i, key] of keys.entries()) {
    const started = performance.now();
    const row = await runCrashMatrix(key, Number(values.kills), Number(values.seed) + i, join(dir, key));
    rows.push(row);
    console.log(
      `${row.operation}: ${row.recovered}/${row.kills} recovered, ${row.lost} lost (${((performance.now() - started) / 1000).toFixed(0)} s)`,
    );
    for (const p of row.problems) console.log(`  ${p}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log('\n| operation | kills | killed mid-way | recovered | lost |\n|---|---|---|---|---|');
for (const r of rows)
  console.log(`| ${r.operation} | ${r.kills} | ${r.interrupted} | ${r.recovered} | ${r.lost} |`);
process.exitCode = rows.every((r) => r.recovered === r.kills && r.lost === 0) ? 0 : 1;
