import type { Page } from '@playwright/test';
import { expectNoSeriousA11yViolations } from './support/a11y.ts';
import { saveScreenshot } from './support/docs.ts';
import { expect, test } from './support/fixtures.ts';

/**
 * Every page, in the light and the dark theme, at the smallest supported window (1024×700): no serious or
 * critical axe violation, nothing wider than the window, and no page stuck loading.
 */
const routes = [
  '#/datasets',
  '#/runs',
  '#/runs/new',
  '#/models',
  '#/models/new-lineage',
  '#/models/inbox',
  '#/marketplace',
  '#/leaderboard',
  '#/ipfs',
  '#/wallet',
  '#/system',
  '#/settings',
];

async function setTheme(page: Page, theme: 'light' | 'dark' | 'system'): Promise<void> {
  // The sidebar's switch (the Settings page has the same one).
  await page.getByRole('navigation', { name: 'Main' }).getByLabel('Theme').selectOption(theme);
  if (theme !== 'system') await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
}

for (const theme of ['light', 'dark'] as const) {
  test(`every page is accessible in the ${theme} theme at 1024×700`, async ({ appPage: page }) => {
    test.setTimeout(180_000);
    await page.setViewportSize({ width: 1024, height: 700 });
    await setTheme(page, theme);
    try {
      for (const route of routes) {
        await page.evaluate((h) => (location.hash = h), route);
        await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
        // Loading states end (the local chain starts on the first chain page: give it time).
        await expect(page.getByText(/^Loading /)).toHaveCount(0, { timeout: 60_000 });
        await expectNoSeriousA11yViolations(page, `${route} (${theme})`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${route} is wider than the window`).toBeLessThanOrEqual(0);
      }
      if (theme === 'dark') {
        await page.evaluate(() => (location.hash = '#/wallet'));
        await expect(page.getByRole('table', { name: 'Local test accounts' })).toBeVisible();
        await saveScreenshot(page, 'wallet-dark');
      }
    } finally {
      await setTheme(page, 'system');
    }
  });
}

test('the app can be used from the keyboard', async ({ appPage: page }) => {
  await page.evaluate(() => (location.hash = '#/system'));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('System');
  await page.locator('body').focus();

  // The first Tab reaches "Skip to content", which moves focus to the page's content.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('#main')).toBeFocused();

  // Navigation links work with Enter.
  const ipfsLink = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'IPFS' });
  await ipfsLink.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('IPFS');

  // A dialog opened from the keyboard traps focus, closes with Escape and gives focus back.
  const gc = page.getByRole('button', { name: 'Collect garbage' });
  await gc.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Collect garbage?' });
  await expect(dialog).toBeVisible();
  await page.keyboard.press('Tab');
  expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(gc).toBeFocused();
});
