/** contracts/generated is committed: it must be exactly what compiling contracts/src gives now. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_DIR, MAX_RUNTIME_BYTES, compileContracts, renderGenerated } from '../scripts/compile.ts';

describe('contracts/generated', () => {
  const result = compileContracts();

  it('is up to date with contracts/src (run `npm run build:contracts` if not)', () => {
    const expected = renderGenerated(result);
    const present = readdirSync(GENERATED_DIR)
      .filter((f) => f.endsWith('.ts'))
      .sort();
    expect(present).toEqual([...expected.keys()].sort());
    for (const [name, text] of expected)
      expect(readFileSync(join(GENERATED_DIR, name), 'utf8'), name).toBe(text);
  });

  it('keeps every contract under the EIP-170 size limit, with no compiler warning about our code', () => {
    for (const c of result.contracts) expect(c.runtimeBytes, c.name).toBeLessThanOrEqual(MAX_RUNTIME_BYTES);
    expect(result.warnings).toEqual([]);
  });
});
