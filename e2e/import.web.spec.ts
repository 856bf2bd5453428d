import { expectNoSeriousA11yViolations } from './support/a11y.ts';
import { expect, test } from './support/fixtures.ts';

/**
 * Runs → Import in the headless host: nanoGPT's ckpt.pt (written by PyTorch) and its meta.pkl uploaded
 * from the browser become a run at PyTorch's iteration, whose page samples text; a hostile checkpoint is
 * refused with the global it asked for, and no run appears for it.
 */
const FIXTURES = 'src/main/interop/fixtures';

test('import a nanoGPT checkpoint as a run; a hostile one is refused', async ({ appPage: page }) => {
  test.setTimeout(120_000);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Runs');

  await test.step('a hostile checkpoint is refused', async () => {
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Import a model' });
    await dialog
      .getByLabel('Model file (ckpt.pt or model.safetensors)')
      .setInputFiles(`${FIXTURES}/hostile.pt`);
    await expect(dialog.getByText('Model: hostile.pt')).toBeVisible({ timeout: 30_000 });
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(dialog.getByRole('alert')).toContainText('refusing to load global posix.system');
    await expectNoSeriousA11yViolations(page, 'the import dialog with an error');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  await test.step('ckpt.pt with its meta.pkl becomes a run at step 150', async () => {
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Import a model' });
    await dialog
      .getByLabel('Model file (ckpt.pt or model.safetensors)')
      .setInputFiles(`${FIXTURES}/plain.pt`);
    await expect(dialog.getByText('Model: plain.pt')).toBeVisible({ timeout: 30_000 });
    await dialog
      .getByLabel('meta.pkl (char vocabulary, optional)')
      .setInputFiles(`${FIXTURES}/nanogpt-data/meta.pkl`);
    await expect(dialog.getByText('Vocabulary: meta.pkl')).toBeVisible({ timeout: 30_000 });
    await dialog.getByLabel('Name', { exact: false }).fill('from PyTorch');
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Run: from PyTorch', {
      timeout: 30_000,
    });
    await expect(page.getByText('150 / 150').first()).toBeVisible();
  });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
  await expect(page.getByRole('link', { name: 'from PyTorch' })).toBeVisible();
  await expect(page.getByRole('link', { name: /hostile/ })).toHaveCount(0);
});
