import { expectNoSeriousA11yViolations } from './support/a11y.ts';
import { saveScreenshot } from './support/docs.ts';
import { expect, test } from './support/fixtures.ts';

const SEPOLIA_ROUTER = '0xb83E47C2bC239B3bf370bc41e1459A34b41238D0';
const SEPOLIA_DON = 'fun-ethereum-sepolia-1';

test('Settings: Chainlink Functions values are checked as typed, saved, and kept across a reload', async ({
  appPage: page,
  dataDir,
}) => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings');

  const card = page.getByRole('article', { name: 'Chainlink Functions' });
  const router = card.getByLabel('Functions router');
  const save = card.getByRole('button', { name: 'Save Chainlink settings' });
  const status = card.getByTestId('chainlink-status');
  await expect(status).toContainText('not configured');
  await expect(status).toContainText('No Functions router is set');

  // A malformed router address: the schema's reason is shown as it is typed, and saving is refused.
  await router.fill('0x1234');
  await expect(card.getByText('A router address is 0x followed by 40 hexadecimal characters.')).toBeVisible();
  await expect(router).toHaveAttribute('aria-invalid', 'true');
  await expect(save).toBeDisabled();
  await router.press('Enter');
  await expect(card.getByText('Fix the fields marked above to save.')).toBeVisible();
  await expect(status).toContainText('No Functions router is set');

  // Chainlink's published Sepolia values replace it; with a subscription, only the attestor is missing.
  await card.getByRole('button', { name: 'Use Sepolia values' }).click();
  await expect(router).toHaveValue(SEPOLIA_ROUTER);
  await expect(router).toHaveAttribute('aria-invalid', 'false');
  await expect(card.getByLabel('DON id')).toHaveValue(SEPOLIA_DON);
  await expect(card.getByLabel('Chain id')).toHaveValue('11155111');
  await card.getByLabel('Subscription id').fill('4242');
  await card.getByLabel('Callback gas limit').fill('250 000');
  await save.click();
  await expect(card.getByText('Saved.')).toBeVisible();
  await expect(save).toBeDisabled(); // nothing left to save
  await expect(status).not.toContainText('No Functions router is set');
  await expect(status).not.toContainText('No DON id is set');
  await expect(status).not.toContainText('No Functions subscription is set');
  await expect(status).toContainText('No FunctionsAttestor is deployed');
  // The app runs on the embedded chain: the values are for Sepolia, and the card says so.
  await expect(card.getByText(/The app uses the embedded local chain \(chain 31337\)/)).toBeVisible();
  await expect(card.getByTestId('chainlink-other-chain')).toContainText('chain 11155111');

  // Saved in settings.json: a reload (the app starting again) shows the same values and status.
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings');
  await expect(router).toHaveValue(SEPOLIA_ROUTER);
  await expect(card.getByLabel('DON id')).toHaveValue(SEPOLIA_DON);
  await expect(card.getByLabel('Chain id')).toHaveValue('11155111');
  await expect(card.getByLabel('Subscription id')).toHaveValue('4242');
  await expect(card.getByLabel('Callback gas limit')).toHaveValue('250000');
  await expect(status).toContainText('No FunctionsAttestor is deployed');
  await expect(status).not.toContainText('No Functions router is set');

  // The data directory is the one the app was started with.
  await expect(page.getByTestId('data-dir')).toHaveText(dataDir);
  await expect(page.getByText(/^Loading /)).toHaveCount(0, { timeout: 30_000 });
  await expectNoSeriousA11yViolations(page, 'settings');
  await saveScreenshot(page, 'settings');

  // WalletConnect: a project id that is not 32 hex characters is refused before it reaches settings.
  const wc = page.getByRole('article', { name: 'WalletConnect' });
  await wc.getByLabel('Project id').fill('my-project');
  await expect(wc.getByText(/A project id is 32 hexadecimal characters/)).toBeVisible();
  await expect(wc.getByRole('button', { name: 'Save project id' })).toBeDisabled();
  await wc.getByLabel('Project id').fill('');

  // Back to "not configured" (other specs of this worker share the data directory): empty values save.
  for (const label of ['Functions router', 'DON id', 'Chain id', 'Subscription id'])
    await card.getByLabel(label).fill('');
  await card.getByLabel('Callback gas limit').fill('300000');
  await save.click();
  await expect(card.getByText('Saved.')).toBeVisible();
  await expect(status).toContainText('No Functions router is set');
  await expect(card.getByTestId('chainlink-other-chain')).toHaveCount(0);
});

test('the Wallet page sends the WalletConnect project id to Settings', async ({ appPage: page }) => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Wallet' }).click();
  const wc = page.getByRole('article', { name: 'WalletConnect' });
  const link = wc.getByRole('link', { name: 'Set the WalletConnect project id in Settings' });
  // The Wallet page appears once the embedded chain has started (the first time: a few seconds).
  await expect(link).toBeVisible({ timeout: 60_000 });
  await link.click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings');
  await expect(
    page.getByRole('article', { name: 'WalletConnect' }).getByText('Not set: WalletConnect is off.'),
  ).toBeVisible();
});
