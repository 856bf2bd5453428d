import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import type { DatasetSummary } from '../src/shared/api/datasets.ts';
import type { JobSummary } from '../src/shared/api/jobs.ts';
import { expect, test } from './support/fixtures.ts';

/**
 * The error paths and empty states of the Datasets, Models, Marketplace and Leaderboard pages, and a long
 * job cancelled from the jobs bar: each asserts the message the user sees and that it says what to do.
 * A host of its own, so that its chain is fresh (nothing minted, no lineage) whatever ran before.
 */
test.use({ ownHost: 'page-errors' });

const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });

/** Adds an input to the import form by its path on the machine running XAI-Link (as the form allows). */
async function addInputByPath(page: Page, path: string): Promise<void> {
  const form = page.getByRole('article', { name: 'Import text' });
  await form.getByLabel('or a path on the machine running XAI-Link').fill(path);
  await form.getByRole('button', { name: 'Use path' }).click();
}

/** Connects the local test account #index on the Wallet page. */
async function useTestAccount(page: Page, index: number): Promise<void> {
  await nav(page).getByRole('link', { name: 'Wallet' }).click();
  const row = page.getByRole('table', { name: 'Local test accounts' }).locator('tbody tr').nth(index);
  await row.getByRole('button', { name: `Use test account ${index}` }).click({ timeout: 60_000 });
  await expect(row).toContainText('in use');
}

test('the leaderboard on a fresh chain says how to get on it', async ({ appPage: page }) => {
  await nav(page).getByRole('link', { name: 'Leaderboard' }).click();
  // The local chain starts on first use.
  await expect(page.getByText('No lineages yet')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByText(/Create one on the Models page, then prove improvements in it/)).toBeVisible();
  const overall = page.getByRole('article', { name: 'Overall' });
  await expect(overall).toContainText('0 licences sold');
  await expect(overall.getByText('No contributors yet.')).toBeVisible();
  await expect(page.getByRole('table', { name: 'Contributors overall' })).toHaveCount(0);
});

test('the marketplace with nothing minted: an empty list, and no withdrawal of nothing', async ({
  appPage: page,
}) => {
  await useTestAccount(page, 0);
  await nav(page).getByRole('link', { name: 'Marketplace' }).click();
  await expect(page.getByText('Nothing minted yet')).toBeVisible({ timeout: 60_000 });
  await expect(
    page.getByText(/once a claim of improvement has been proven on the Models page/),
  ).toBeVisible();
  await expect(page.getByRole('table', { name: 'Minted model versions' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Buy licence' })).toHaveCount(0);
  await expect(page.getByText('No licences yet')).toBeVisible();
  await expect(page.getByTestId('pending-earnings')).toHaveText('0 ETH');
  const withdraw = page.getByRole('button', { name: 'Withdraw' });
  await expect(withdraw).toBeDisabled();
  // The disabled button says why.
  await expect(withdraw).toHaveAccessibleDescription(/^Nothing to withdraw: .*licence sales/);
});

test('Models: a claim CID the offline node does not hold, and a lineage that cannot be created', async ({
  appPage: page,
}) => {
  await useTestAccount(page, 0);
  await nav(page).getByRole('link', { name: 'Models' }).click();
  await page.getByRole('link', { name: 'Verifier inbox' }).click();
  // A valid CID of content that exists nowhere on this machine, with IPFS networking off (the default).
  await page.getByLabel('Claim CID').fill('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', {
    timeout: 60_000,
  });
  await page.getByRole('button', { name: 'Add to inbox' }).click();
  const alert = page.getByRole('article', { name: 'Add a claim by CID' }).getByRole('alert');
  await expect(alert).toContainText(/not in the local IPFS repository and IPFS networking is off/);
  await expect(alert).toContainText(/Turn networking on .* or import a CAR file that contains it/);
  await expect(page.getByText('Nothing to verify')).toBeVisible();

  await page.getByRole('link', { name: 'All models' }).click();
  await page.getByRole('link', { name: 'New lineage' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Bad shares');
  await page
    .getByLabel('Evaluation text CID')
    .fill('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy');
  const create = page.getByRole('button', { name: 'Create lineage' });
  await expect(create).toBeEnabled();
  await page.getByLabel('Owner share (%)').fill('80');
  await expect(page.getByText('The shares must add up to 100 %.')).toBeVisible();
  await expect(create).toBeDisabled();
  await page.getByLabel('Owner share (%)').fill('70');
  await page.getByLabel('Quorum').fill('3');
  await expect(page.getByText('The quorum cannot exceed the 1 verifier(s).')).toBeVisible();
  await expect(create).toBeDisabled();
  await page.getByLabel('Quorum').fill('1');
  await expect(create).toBeEnabled();
});

test('Datasets: a binary file and a CSV without the named column are explained per file', async ({
  appPage: page,
}, testInfo) => {
  const binary = testInfo.outputPath('weights.bin');
  writeFileSync(binary, Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(4096)]));
  const csv = testInfo.outputPath('quotes.csv');
  writeFileSync(
    csv,
    'author,quote\nHamlet,"To be, or not to be"\nPolonius,"Neither a borrower nor a lender be"\n',
  );
  await nav(page).getByRole('link', { name: 'Datasets' }).click();
  const form = page.getByRole('article', { name: 'Import text' });
  const inputs = form.getByRole('list', { name: 'Inputs' });

  // A binary file: the problem and what to do, before anything runs…
  await addInputByPath(page, binary);
  const binaryRow = inputs.locator('li.input-row').filter({ hasText: 'weights.bin' });
  await expect(binaryRow).toContainText('contains NUL bytes: a binary file, not text');
  await expect(binaryRow).toContainText(
    'Leave binary files (images, archives, PDFs, models) out of the inputs',
  );
  // …and preparing it anyway says nothing could be read, and why.
  await form.getByRole('button', { name: 'Prepare dataset' }).click();
  const failure = form.getByRole('alert').filter({ hasText: 'Nothing to tokenize' });
  await expect(failure).toContainText('0 documents found');
  await expect(failure).toContainText('a binary file, not text');
  await expect(failure).toContainText('Check the inputs');
  await binaryRow.getByRole('button', { name: 'Remove weights.bin' }).click();
  await expect(inputs).toHaveCount(0);

  // A CSV whose header has no "text" column: the columns it has, and a picker to choose one.
  await addInputByPath(page, csv);
  const csvRow = inputs.locator('li.input-row').filter({ hasText: 'quotes.csv' });
  await expect(csvRow).toContainText('not found in this file');
  await expect(csvRow).toContainText('no column "text" in the header (columns: "author", "quote")');
  await expect(csvRow).toContainText('Name the column that holds the text');
  await csvRow.getByLabel('Text column').selectOption('quote');
  await expect(csvRow).not.toContainText('not found in this file');
  await expect(csvRow).not.toContainText('no column');
  await expect(csvRow.locator('pre')).toContainText('To be, or not to be');
});

test('a long job is cancelled from the jobs bar and leaves nothing behind', async ({
  appPage: page,
  dataDir,
}) => {
  await nav(page).getByRole('link', { name: 'Datasets' }).click();
  await page.waitForFunction(() => window.xai !== undefined);
  const listed = async () =>
    page.evaluate(async () => {
      const r = await window.xai!.invoke('datasets.list', {});
      if (!r.ok) throw new Error(r.error.message);
      return (r.result as DatasetSummary[]).map((d) => d.name);
    });
  const before = await listed();
  const form = page.getByRole('article', { name: 'Import text' });
  // tiny-shakespeare with a BPE vocabulary of 8,000 trained here: a job of many seconds.
  await addInputByPath(page, resolve('resources/tinyshakespeare.txt'));
  await form.getByLabel('Kind').selectOption('bpe');
  await form.getByLabel('BPE vocabulary size').fill('8000');
  await form.getByLabel('Name (optional)').fill('cancel-me');
  await form.getByRole('button', { name: 'Prepare dataset' }).click();

  const bar = page.getByRole('complementary', { name: 'Running jobs' });
  await expect(bar.getByRole('progressbar')).toBeVisible({ timeout: 15_000 });
  // The same job shows where it was started, with its own Cancel.
  await expect(form.getByRole('status').filter({ hasText: 'Preparing the dataset' })).toBeVisible();
  await bar.getByRole('button', { name: 'Cancel' }).click();

  const notice = form.getByRole('alert').filter({ hasText: 'Cancelled.' });
  await expect(notice).toContainText('Dataset preparation was cancelled; nothing was written');
  await expect(bar).toBeHidden();
  await expect(form.getByRole('button', { name: 'Prepare dataset' })).toBeEnabled();
  const job = await page.evaluate(async () => {
    const r = await window.xai!.invoke('jobs.list', {});
    if (!r.ok) throw new Error(r.error.message);
    // Newest first: the job just cancelled.
    return (r.result as JobSummary[]).find((j) => j.kind === 'datasets.prepare');
  });
  expect(job?.status).toBe('cancelled');

  // Nothing left behind: no new dataset, no half-written folder.
  expect(await listed()).toEqual(before);
  await expect(page.getByRole('table', { name: 'Datasets' }).getByText('cancel-me')).toHaveCount(0);
  const datasetsDir = join(dataDir, 'datasets');
  const left = existsSync(datasetsDir) ? readdirSync(datasetsDir) : [];
  expect(left.filter((n) => n.includes('cancel-me'))).toEqual([]);
});
