import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Page } from '@playwright/test';
import { startAnvil, type AnvilInstance } from '../src/main/chain/anvil.ts';
import {
  KEYS,
  trainer,
  verifierAddress,
  writeSeededModelPackage,
} from '../src/main/claims/testing/twoMachines.ts';
import { bundledShakespeare, TINY_GPT } from '../src/main/eval/testing/models.ts';
import { charTokenizerFromText } from '../src/shared/tokenizers/tokenizer.ts';
import { expect, test } from './support/fixtures.ts';

/**
 * Two machines in the browser (issue 13): two headless hosts with their own data directories and IPFS
 * repositories, one anvil reached by URL, two browser pages. B switches its verifier watcher on in the
 * Verifier page; A publishes and claims a model and announces it; B's page shows the verdict; A's claim
 * wizard shows B's on-chain attestation arriving; A mints; both leaderboards show the token in bits/byte.
 */
const HOST_ENV = { ...KEYS, XAI_LINK_VERIFIER_KEY: KEYS.XAI_TEST_VERIFIER_KEY };

function cli(dataDir: string, args: string[]): string {
  const r = spawnSync(process.execPath, ['bin/xai-link.js', '--data-dir', dataDir, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...HOST_ENV },
  });
  if (r.status !== 0) throw new Error(`xai-link ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

async function serve(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['bin/xai-link.js', '--data-dir', dataDir, 'serve', '--port', '0', '--json'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...HOST_ENV },
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stderr}`)), 60_000);
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
  });
  return { url: (JSON.parse(line) as { url: string }).url, child };
}

async function invoke<T>(page: Page, method: string, params: unknown): Promise<T> {
  await page.waitForFunction(() => window.xai !== undefined);
  const reply = await page.evaluate(([m, p]) => window.xai!.invoke(m as string, p), [
    method,
    params,
  ] as const);
  if (!reply.ok) throw new Error(`${method}: ${reply.error.message}`);
  return reply.result as T;
}

const root = mkdtempSync(join(tmpdir(), 'xai-e2e-network-'));
const dirA = join(root, 'a');
const dirB = join(root, 'b');
let anvil: AnvilInstance;
const hosts: ChildProcess[] = [];

test.afterAll(async () => {
  for (const h of hosts) {
    h.kill('SIGTERM');
    await new Promise((r) => (h.exitCode === null ? h.once('exit', r) : r(null)));
  }
  await anvil?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('a trainer and a verifier on two hosts: announced, re-run and attested by B, minted by A', async ({
  browser,
}) => {
  test.setTimeout(300_000);
  anvil = await startAnvil({ extraArgs: ['--block-time', '1'] });
  cli(dirA, ['chain', 'use', anvil.rpcUrl]);
  cli(dirA, ['chain', 'deploy', '--key-env', 'XAI_TEST_CREATOR_KEY']);
  mkdirSync(join(dirB, 'chain', 'deployments'), { recursive: true });
  copyFileSync(
    join(dirA, 'chain', 'deployments', `${anvil.chainId}.json`),
    join(dirB, 'chain', 'deployments', `${anvil.chainId}.json`),
  );
  cli(dirB, ['chain', 'use', anvil.rpcUrl]);
  const [a, b] = await Promise.all([serve(dirA), serve(dirB)]);
  hosts.push(a.child, b.child);
  const pageA = await (await browser.newContext()).newPage();
  const pageB = await (await browser.newContext()).newPage();
  await pageA.goto(a.url);
  await pageB.goto(b.url);

  // A: online on 127.0.0.1, the evaluation text on IPFS, a lineage naming B's verifier key.
  const onlineA = await invoke<{ listenAddresses: string[]; peerId: string }>(pageA, 'ipfs.setOnline', {
    online: true,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    publicNetwork: false,
  });
  const addressA = onlineA.listenAddresses.find((x) => x.startsWith('/ip4/127.0.0.1/'))!;
  const text = bundledShakespeare().slice(0, 20_000);
  writeFileSync(join(root, 'eval.txt'), text);
  const textCid = (
    await invoke<{ cid: string }>(pageA, 'ipfs.add', { path: join(root, 'eval.txt'), pin: true })
  ).cid;
  const { lineageId } = await invoke<{ lineageId: number }>(pageA, 'lineage.create', {
    params: {
      name: 'two hosts',
      evalDatasetCid: textCid,
      genesisScore: '8000000',
      minCommitAge: 1,
      verifiers: [verifierAddress],
      quorum: 1,
    },
    signer: { keyEnv: 'XAI_TEST_CREATOR_KEY' },
  });

  // B: online and connected to A, then the switch on the Verifier page.
  await invoke(pageB, 'ipfs.setOnline', {
    online: true,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    publicNetwork: false,
  });
  await invoke(pageB, 'ipfs.connect', { address: addressA });
  await pageB.goto(`${b.url}#/models/inbox`);
  const watchSwitch = pageB.getByRole('switch', { name: /start watching/ });
  await watchSwitch.click();
  await expect(pageB.getByRole('switch', { name: /Watching — stop/ })).toBeVisible();

  // A: a model package (the engine's GPT export) published, claimed and announced.
  const tokenizer = charTokenizerFromText(text);
  const cfg = { ...TINY_GPT, vocabSize: tokenizer.vocabSize };
  const pkgDir = join(root, 'pkg');
  await writeSeededModelPackage(pkgDir, cfg, tokenizer, 1);
  const modelCid = (await invoke<{ cid: string }>(pageA, 'ipfs.add', { path: pkgDir, pin: true })).cid;
  const trainerAddress = (
    await invoke<{ address: string }>(pageA, 'claims.signerAddress', { signer: trainer })
  ).address;
  const started = await invoke<{ id: string }>(pageA, 'claims.start', {
    lineageId,
    modelCid,
    trainer: trainerAddress,
  });
  for (const [method, extra] of [
    ['claims.commit', { signer: trainer }],
    ['claims.evaluate', {}],
    ['claims.sign', { signer: trainer }],
    ['claims.announce', { signer: trainer }],
  ] as const)
    await invoke(pageA, method, { claimId: started.id, ...extra });

  // A's wizard shows B's answer arriving from the chain; B's page shows its verdict.
  await pageA.goto(`${a.url}#/models/claim/${started.id}`);
  await expect(pageA.getByText(/Announced on chain in block/)).toBeVisible();
  await expect(pageA.getByRole('list', { name: "Verifiers' answers" })).toContainText('attested on chain', {
    timeout: 120_000,
  });
  await expect(pageB.getByRole('table', { name: 'Watcher queue and verdicts' })).toContainText('attested');

  // B's IPFS page says what it fetched, and from whom: A's node.
  await pageB.goto(`${b.url}#/ipfs`);
  await expect(
    pageB.locator(`table[aria-label="Network fetches"] code[title="${onlineA.peerId}"]`).first(),
  ).toBeVisible();

  const minted = await invoke<{ status: string; mint: { tokenId: number } }>(pageA, 'claims.submit', {
    claimId: started.id,
    signer: trainer,
  });
  expect(minted.status).toBe('minted');
  for (const [page, url] of [
    [pageA, a.url],
    [pageB, b.url],
  ] as const) {
    await page.goto(`${url}#/leaderboard`);
    await expect(page.getByText(/\d\.\d{4} bits\/byte/).first()).toBeVisible();
  }
  await pageB.goto(`${b.url}#/models/inbox`);
  await pageB.getByRole('switch', { name: /Watching — stop/ }).click();
  await expect(pageB.getByRole('switch', { name: /start watching/ })).toBeVisible();
});
