import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { expect, test } from './support/fixtures.ts';

/** The IPFS page on the embedded node: add by upload, read back verified, CAR export and import, unpin, GC. */
test('add a file, read it back, export and re-import it as CAR, collect garbage', async ({
  appPage: page,
}, testInfo) => {
  const file = testInfo.outputPath('hello.txt');
  writeFileSync(file, `Hello from the XAI-Link e2e run ${Date.now()}\n`);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'IPFS' }).click();
  await expect(page.getByTestId('ipfs-online')).toHaveText('offline');

  await page.getByLabel('File or folder to add').setInputFiles(file);
  const added = page.getByTestId('added-cid');
  await expect(added).toContainText('Added', { timeout: 30_000 });
  const cid = (await added.locator('code').getAttribute('data-value'))!;
  expect(cid).toMatch(/^baf/);

  // Read back (verified block by block).
  await page.getByLabel('CID or IPFS path').fill(cid);
  await page.getByRole('button', { name: 'Read', exact: true }).click();
  await expect(page.getByTestId('cat-result')).toContainText('Hello from the XAI-Link e2e run');

  // Export the pinned DAG as a CAR file.
  const row = page.getByRole('table', { name: 'Pins' }).locator(`tr[data-cid="${cid}"]`);
  await row.getByRole('button', { name: 'Export CAR' }).click();
  const dialog = page.getByRole('dialog', { name: 'Export as a CAR file' });
  const carPath = testInfo.outputPath('hello.car');
  await dialog.getByLabel(/Save to/).fill(carPath);
  await dialog.getByRole('button', { name: 'Export' }).click();
  await expect(page.getByTestId('car-exported')).toContainText('Exported', { timeout: 30_000 });
  expect(existsSync(carPath)).toBe(true);

  // Exported to the default place (the data directory's exports/), the browser downloads it from the host.
  await row.getByRole('button', { name: 'Export CAR' }).click();
  await expect(dialog.getByLabel(/Save to/)).toHaveValue(new RegExp(`exports.${cid}\\.car$`));
  await dialog.getByRole('button', { name: 'Export' }).click();
  const exported = page.getByTestId('car-exported');
  await expect(exported.locator('code')).toHaveAttribute('data-value', new RegExp(`${cid}\\.car$`), {
    timeout: 30_000,
  });
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    exported.getByRole('link', { name: 'Download' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(`${cid}.car`);
  expect(readFileSync(await download.path())).toEqual(readFileSync(carPath));

  // Unpin, collect garbage: the block is gone; import the CAR: it is back and pinned.
  await row.getByRole('button', { name: 'Unpin' }).click();
  await expect(row).toHaveCount(0);
  await page.getByRole('button', { name: 'Collect garbage' }).click();
  await page
    .getByRole('dialog', { name: 'Collect garbage?' })
    .getByRole('button', { name: 'Delete unpinned blocks' })
    .click();
  await expect(page.getByText(/Removed \d+ blocks/)).toBeVisible({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Read', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('not in the local IPFS repository');

  await page.getByLabel('CAR file to import').setInputFiles(carPath);
  await expect(page.getByText(/Imported \d+ blocks/)).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('table', { name: 'Pins' }).locator(`tr[data-cid="${cid}"]`)).toBeVisible();
  await page.getByRole('button', { name: 'Read', exact: true }).click();
  await expect(page.getByTestId('cat-result')).toContainText('Hello from the XAI-Link e2e run');
});
