/**
 * `xai-link verify` as a verifier runs it: the real CLI in a child process, against the embedded chain
 * (anvil, contracts deployed) with a lineage created by `xai-link lineage create`. The claims are signed
 * here by a fresh trainer key; one is tampered with after signing.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex, type Address } from 'viem';
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  improvementToJson,
  improvementTypedData,
  registryDomain,
  type Improvement,
} from '../../../shared/chain/eip712.ts';
import { CLAIM_FORMAT, type ClaimFile } from '../../../shared/claims/claim.ts';
import { EVALUATOR_NAME, EVALUATOR_VERSION } from '../../../shared/eval/metrics.ts';
import { cliWithDataDir, jsonOf, type Cli } from '../testing/cliProcess.ts';

interface VerdictJson {
  ok: boolean;
  checks: { id: string; ok: boolean; message: string }[];
  refusal: { reason: string; message: string } | null;
}

let dir: string;
let cli: Cli;
let chain: { chainId: number; registry: Address };
let lineageId: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xai-cli-verify-'));
  cli = cliWithDataDir(join(dir, 'data'));
  const started = jsonOf<{ deployment: { chainId: number; registry: Address } }>(
    await cli('chain', 'start', '--json'),
  );
  chain = started.deployment;
  // Anvil's dev account 1 (default mnemonic) verifies this lineage.
  const verifier = mnemonicToAccount('test test test test test test test test test test test junk', {
    addressIndex: 1,
  }).address;
  const created = jsonOf<{ lineageId: number }>(
    await cli(
      'lineage',
      'create',
      '--name',
      'verify-cli',
      '--genesis-score',
      '5000000',
      '--verifier',
      verifier,
      '--json',
    ),
  );
  lineageId = created.lineageId;
});
afterAll(async () => {
  await cli('chain', 'stop');
  rmSync(dir, { recursive: true, force: true });
});

/** A claim for the lineage signed by a fresh trainer key; `tamper` edits it after signing. */
async function signedClaimFile(name: string, tamper?: (c: ClaimFile) => void): Promise<string> {
  const trainer = privateKeyToAccount(generatePrivateKey());
  const improvement: Improvement = {
    lineageId: BigInt(lineageId),
    parentTokenId: 0n,
    trainer: trainer.address,
    modelCid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
    metadataCid: 'bafkreidgvpkjawlxz6sffxzwgooowe5yt7i6wsyg236mfoks77nywkptdq',
    evaluationCid: 'bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq',
    score: 4_000_000n,
    nonce: 0n,
    deadline: BigInt(Math.floor(Date.now() / 1000) + 3600),
  };
  const signature = await trainer.signTypedData(
    improvementTypedData(registryDomain(chain.chainId, chain.registry), improvement),
  );
  const claim: ClaimFile = {
    format: CLAIM_FORMAT,
    version: 1,
    chainId: chain.chainId,
    registry: chain.registry,
    improvement: improvementToJson(improvement),
    salt: toHex(randomBytes(32)),
    trainerSignature: signature,
    metric: { name: 'bits_per_byte', value: 4, tolerance: 1000 },
    evaluator: { name: EVALUATOR_NAME, version: EVALUATOR_VERSION },
    createdAt: new Date().toISOString(),
  };
  tamper?.(claim);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(claim, null, 2)}\n`);
  return file;
}

describe('xai-link verify', () => {
  it('refuses a claim altered after signing: the failed check and why, exit code 1, nothing signed', async () => {
    // The trainer signed 4.000000 bits per byte; the file now claims 3.000000.
    const tampered = await signedClaimFile('tampered', (c) => {
      c.improvement.score = '3000000';
      c.metric.value = 3;
    });
    const human = await cli('verify', tampered);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^✓ chain +registry 0x[0-9a-fA-F]{40} on chain 31337$/m);
    expect(human.stdout).toMatch(
      /^✗ bad-signature +the trainer signature does not match this claim and trainer 0x[0-9a-fA-F]{40}: the claim was altered or signed by someone else$/m,
    );
    expect(human.stdout).toMatch(/^REFUSED \(bad-signature\): the trainer signature does not match/m);
    expect(human.stderr).toMatch(/^error: the claim was refused \(bad-signature\); nothing was signed$/m);

    // As a verifier with a key: the same refusal, and no attestation.
    const asVerifier = await cli('verify', tampered, '--dev-account', '1', '--json');
    expect(asVerifier.code).toBe(1);
    const attested = JSON.parse(asVerifier.stdout) as {
      verdict: VerdictJson;
      attestation: unknown;
      attestationCid: string | null;
    };
    expect(attested.verdict).toMatchObject({ ok: false, refusal: { reason: 'bad-signature' } });
    expect(attested).toMatchObject({ attestation: null, attestationCid: null });
  });

  it('passes the signature of an unaltered claim and explains the next missing piece (no commitment on chain)', async () => {
    const intact = await signedClaimFile('intact');
    const r = await cli('verify', intact, '--json');
    expect(r.code).toBe(1);
    const verdict = JSON.parse(r.stdout) as VerdictJson;
    expect(verdict.checks.filter((c) => c.ok).map((c) => c.id)).toEqual([
      'chain',
      'signature',
      'lineage',
      'parent',
    ]);
    expect(verdict.refusal).toMatchObject({ reason: 'no-commitment' });
    expect(verdict.refusal!.message).toMatch(
      /^no commitment to bafkrei\w+ by 0x[0-9a-fA-F]{40} with this salt/,
    );
  });

  it('refuses bad input with exit code 2 and says what to fix', async () => {
    const notAClaim = join(dir, 'not-a-claim.json');
    writeFileSync(notAClaim, '{"format":"something-else"}\n');
    const [wrongFile, twoSigners] = await Promise.all([
      cli('verify', notAClaim),
      cli('verify', notAClaim, '--dev-account', '1', '--key-env', 'SOME_KEY'),
    ]);
    expect(wrongFile.code).toBe(2);
    expect(wrongFile.stderr).toMatch(/^error: not a valid XAI-Link claim: format: /m);
    expect(twoSigners.code).toBe(2);
    expect(twoSigners.stderr).toMatch(/use one of --dev-account, --key-env and --keystore/);
  });
});
