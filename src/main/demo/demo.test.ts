/**
 * `xai-link demo` as a user runs it (the CLI entry point, in process), twice, in a fresh data directory:
 * everything real — anvil, Helia, the engine's training worker, ONNX Runtime — with few training steps.
 * The second run must reuse every cached stage and the tokens already on chain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { demoSummarySchema, type DemoSummary } from '../../shared/api/pipelines.ts';
import { runCli } from '../cli/main.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'xai-demo-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function demo(): Promise<DemoSummary> {
  let out = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
    return true;
  });
  let rc: number;
  try {
    rc = await runCli(['--data-dir', dataDir, 'demo', '--iters', '30', '--json']);
  } finally {
    stdout.mockRestore();
  }
  expect(rc, out.slice(-2000)).toBe(0);
  return demoSummarySchema.parse(JSON.parse(out));
}

describe('xai-link demo', () => {
  it('proves and mints v1 and v2, sells a licence, pays out; a second run reuses everything', async () => {
    const first = await demo();
    expect(first.input).toMatch(/resources[/\\]tinyshakespeare\.txt$/);
    const [v1, v2] = first.versions;
    expect(v1).toMatchObject({ version: 1, tokenId: 1, iterations: 30 });
    expect(v2).toMatchObject({ version: 2, tokenId: 2, iterations: 60 });
    // each version beats the genesis (8 bits per byte), v2 beats v1 by more than ε = 1 %
    expect(v1!.bitsPerByte).toBeLessThan(8);
    expect(BigInt(v2!.score) * 100n).toBeLessThanOrEqual(BigInt(v1!.score) * 99n);
    expect(BigInt(v2!.suggestedPriceWei)).toBeGreaterThan(BigInt(v1!.suggestedPriceWei));
    for (const v of first.versions) {
      for (const cid of [
        v.modelCid,
        v.checkpointCid,
        v.evaluationCid,
        v.metadataCid,
        v.claimCid,
        v.pipelineCid,
      ])
        expect(cid).toMatch(/^baf[a-z0-9]+$/);
      expect(v.stages.map((s) => s.status)).toEqual(['cached', 'done', 'done', 'done', 'done']);
    }
    expect(first.licence).toMatchObject({
      tokenId: 2,
      buyer: first.accounts.buyer,
      alreadyHeld: false,
      priceWei: v2!.suggestedPriceWei,
    });
    // the licence's price is split between the trainer (owner + ancestor: it owns v1 too) and the creator
    const paid = first.withdrawals.reduce((s, w) => s + BigInt(w.amountWei), 0n);
    expect(paid).toBe(BigInt(first.licence.priceWei));
    expect(first.withdrawals.map((w) => w.role).sort()).toEqual(['creator', 'trainer']);
    expect(first.leaderboard.map((m) => [m.rank, m.tokenId, m.licences])).toEqual([
      [1, 2, 1],
      [2, 1, 0],
    ]);

    const second = await demo();
    expect(second.versions.map((v) => v.tokenId)).toEqual([1, 2]);
    expect(second.versions.map((v) => v.modelCid)).toEqual(first.versions.map((v) => v.modelCid));
    for (const v of second.versions) expect(v.stages.every((s) => s.status === 'cached')).toBe(true);
    expect(second.lineage.lineageId).toBe(first.lineage.lineageId);
    expect(second.licence.alreadyHeld).toBe(true);
    expect(second.withdrawals).toEqual([]);
    expect(second.seconds).toBeLessThan(first.seconds);
  }, 240_000);
});
