import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimFileSchema } from '../../shared/claims/claim.ts';
import { arbitraryOf } from '../../shared/api/testing/zodArbitrary.ts';
import { createAppCore } from '../rpc/localClient.ts';
import { createServices } from '../services/services.ts';

const dir = mkdtempSync(join(tmpdir(), 'xai-inbox-'));
const services = createServices({ dataDir: join(dir, 'data'), entryPoint: 'cli' });
afterAll(async () => {
  await services.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('verifier inbox', () => {
  it('adds a claim given as JSON and answers with its entry (the fuzz once got nothing back here)', async () => {
    const claim = fc
      .sample(arbitraryOf(claimFileSchema), { numRuns: 200, seed: 3 })
      .find((c) => claimFileSchema.safeParse(c).success);
    if (!claim) throw new Error('the generator gave no valid claim');
    const { dispatcher } = createAppCore(services);
    const reply = await dispatcher.invoke(
      'verifier.addToInbox',
      { claim: { json: claim } },
      { entryPoint: 'cli' },
    );
    if (!reply.ok) throw new Error(reply.error.message);
    const entry = reply.result as { claimCid: string; verdict: unknown };
    expect(entry.claimCid).toMatch(/^baf/);
    expect(entry.verdict).toBeNull();
    const inbox = await dispatcher.invoke('verifier.inbox', {}, { entryPoint: 'cli' });
    expect(inbox).toMatchObject({ ok: true, result: [{ claimCid: entry.claimCid }] });
  });
});
