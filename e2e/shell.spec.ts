import { expect, runCli, test } from './support/fixtures.ts';

const pages = [
  'Datasets',
  'Runs',
  'Models',
  'Marketplace',
  'Leaderboard',
  'IPFS',
  'Wallet',
  'System',
  'Settings',
];

test('every page is reachable from the navigation', async ({ appPage }) => {
  const nav = appPage.getByRole('navigation', { name: 'Main' });
  for (const name of pages) {
    await nav.getByRole('link', { name, exact: true }).click();
    await expect(appPage.getByRole('heading', { level: 1 })).toHaveText(name);
    await expect(nav.getByRole('link', { name, exact: true })).toHaveAttribute('aria-current', 'page');
  }
});

test('the System page shows the execution providers the main side probed', async ({
  appPage,
  dataDir,
}, testInfo) => {
  await appPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'System' }).click();
  const table = appPage.getByRole('table', { name: 'Execution providers' });
  await expect(table).toBeVisible();

  // The same report through another entry point (the CLI) on the same data directory.
  const cli = runCli(dataDir, ['info', '--json']);
  expect(cli.status, cli.stderr).toBe(0);
  const report = JSON.parse(cli.stdout) as {
    dataDir: string;
    onnxRuntime: { providers: { name: string; usable: boolean }[] };
    live: { gpus: { name: string }[]; gpuNote: string | null };
  };
  expect(report.onnxRuntime.providers.find((p) => p.name === 'cpu')?.usable).toBe(true);

  for (const provider of report.onnxRuntime.providers) {
    const row = table.locator(`tr[data-provider="${provider.name}"]`);
    await expect(row).toContainText(provider.usable ? 'yes' : 'no');
  }
  await expect(appPage.getByText(report.dataDir)).toBeVisible();
  // Live readings: the page shows the GPUs the CLI reads, or why there are none.
  if (report.live.gpus.length === 0) await expect(appPage.getByText(report.live.gpuNote!)).toBeVisible();
  for (const gpu of report.live.gpus) await expect(appPage.getByText(gpu.name)).toBeVisible();
  await expect(
    appPage.getByText(testInfo.project.name === 'electron' ? 'desktop app' : 'headless host', {
      exact: true,
    }),
  ).toBeVisible();
});
