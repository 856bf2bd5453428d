import { writeFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures.ts';

/** Each page's error paths: bad form input is explained before anything runs; failures say what to do. */

async function prepareSmallDataset(page: Page, path: string, name: string): Promise<void> {
  await page.waitForFunction(() => window.xai !== undefined);
  const r = await page.evaluate(
    ([p, n]) => window.xai!.invoke('datasets.prepare', { inputs: [p], tokenizer: 'char', name: n }),
    [path, name] as const,
  );
  expect(r.ok, JSON.stringify(r)).toBe(true);
}

test('the new-run form explains bad hyperparameters as you type and will not start', async ({
  appPage: page,
}, testInfo) => {
  const text = testInfo.outputPath('small.txt');
  writeFileSync(text, 'To be, or not to be, that is the question.\n'.repeat(200));
  await prepareSmallDataset(page, text, 'errors-small');
  await page.evaluate(() => (location.hash = '#/runs/new'));
  await page.getByLabel('Dataset').selectOption({ label: 'errors-small' });
  const start = page.getByRole('button', { name: 'Start training' });
  await expect(start).toBeEnabled();

  // nEmbd must be divisible by nHead: the engine's own rule, with what to change.
  await page.getByLabel('Embedding size').fill('130');
  await expect(
    page.getByText('nEmbd (130) must be divisible by nHead (4): use nEmbd 128 or 132'),
  ).toBeVisible();
  await expect(page.getByLabel('Embedding size')).toHaveAttribute('aria-invalid', 'true');
  await expect(start).toBeDisabled();
  await page.getByLabel('Embedding size').fill('128');

  // Not a number.
  await page.getByLabel('Batch size').fill('twelve');
  await expect(page.getByText('Batch size must be a number.')).toBeVisible();
  await page.getByLabel('Batch size').fill('12');

  // The context must fit in the data (checked against the dataset's own token counts).
  await page.getByLabel('Context length').fill('100000');
  await expect(page.getByText(/blockSize 100000 does not fit the train split/)).toBeVisible();
  await page.getByLabel('Context length').fill('64');
  await expect(start).toBeEnabled();
  await expect(page.getByTestId('run-estimate')).toContainText('parameters');
});

test('the import form refuses a validation share above one half', async ({ appPage: page }) => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Datasets' }).click();
  await page.getByLabel('Validation share').fill('0.9');
  await expect(page.getByLabel('Validation share')).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('Validation share').fill('abc');
  await expect(page.getByText('Enter a number for the validation share.')).toBeVisible();
});

test('reading a CID the offline node does not hold fails fast and says why', async ({ appPage: page }) => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'IPFS' }).click();
  await expect(page.getByTestId('ipfs-online')).toHaveText('offline');
  // A valid CID of content that exists nowhere on this machine.
  await page
    .getByLabel('CID or IPFS path')
    .fill('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy');
  const started = Date.now();
  await page.getByRole('button', { name: 'Read', exact: true }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toBeVisible({ timeout: 15_000 });
  expect(Date.now() - started).toBeLessThan(10_000);
  await expect(alert).toContainText(/not in the local IPFS repository and IPFS networking is off/);
  // …and what to do about it.
  await expect(alert).toContainText(/Turn networking on|import a CAR file/);
});

test('a claim step that fails says what to do', async ({ appPage: page }) => {
  await page.evaluate(() => (location.hash = '#/models/claim/claim-does-not-exist'));
  await expect(page.getByRole('alert')).toContainText('no claim claim-does-not-exist');
});

test('the network switch refuses an RPC URL that is not one, before changing anything', async ({
  appPage: page,
}) => {
  await page.evaluate(() => (location.hash = '#/wallet'));
  await page.getByRole('radio', { name: 'Custom RPC' }).check();
  await page.getByLabel('RPC URL').fill('not a url');
  await expect(page.getByText('This is not a URL.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Use this network' })).toBeDisabled();
  await page.getByLabel('RPC URL').fill('ftp://example.org');
  await expect(page.getByText('Use an http:// or https:// URL.')).toBeVisible();
  await page.getByRole('radio', { name: 'Embedded local chain' }).check();
  await expect(page.getByRole('button', { name: 'Use this network' })).toBeEnabled();
});
