import { readFileSync, writeFileSync } from 'node:fs';
import type { Locator, Page } from '@playwright/test';
import { expectNoSeriousA11yViolations } from './support/a11y.ts';
import { saveScreenshot } from './support/docs.ts';
import { expect, test } from './support/fixtures.ts';

/**
 * Pipelines from the app, in the headless host: upload a pipeline file (a refused variant first, whose
 * error names the field), read its stages, run it stage by stage, run it again stopping early and then in
 * full (every stage cached), and claim its model in a lineage: the claim carries the pipeline's CID.
 */
test('run a pipeline file, re-run it from the cache, claim its model with the pipeline CID', async ({
  appPage: page,
}, testInfo) => {
  test.setTimeout(300_000);
  const text = testInfo.outputPath('tiny.txt');
  writeFileSync(text, readFileSync('resources/tinyshakespeare.txt', 'utf8').slice(0, 20_000));
  // Modelled on docs/examples/pipeline.json, small enough to train in seconds on 2 cores. The input is an
  // absolute path: the uploaded pipeline file does not sit next to it on the host.
  const pipeline = (iters: number) => ({
    format: 'xai-link-pipeline',
    version: 1,
    name: 'e2e-tiny',
    description: 'A tiny character-level GPT on 20 kB of tiny-shakespeare.',
    stages: {
      prepare: { inputs: [text], tokenizer: 'char', valRatio: 0.1 },
      train: {
        preset: 'cpu-tiny',
        model: { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 32 },
        train: { batchSize: 4, evalIters: 2, warmupIters: 2, logInterval: 1, sampleTokens: 4 },
        iters,
      },
      evaluate: { text: 'prepared' },
      publish: { pin: true },
    },
  });
  const broken = testInfo.outputPath('broken-pipeline.json');
  writeFileSync(broken, JSON.stringify(pipeline(-5), null, 2));
  const good = testInfo.outputPath('tiny-pipeline.json');
  writeFileSync(good, JSON.stringify(pipeline(20), null, 2));

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Models' }).click();
  await page.getByRole('link', { name: 'Pipelines', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Pipelines');

  await test.step('start from the example pipeline', async () => {
    await page.getByRole('button', { name: 'Start from the example' }).click();
    await expect(page.getByRole('heading', { name: 'Pipeline “shakespeare-char”' })).toBeVisible({
      timeout: 30_000,
    });
    await expect(page.getByTestId('chosen-pipeline')).toContainText('docs/examples/pipeline.json');
    await expect(page.getByRole('list', { name: 'Stages' }).locator('[data-stage="prepare"]')).toContainText(
      'resources/tinyshakespeare.txt',
    );
  });

  await test.step('a broken pipeline file is refused, naming the field', async () => {
    await page.getByLabel('Pipeline file', { exact: true }).setInputFiles(broken);
    const invalid = page.getByTestId('pipeline-invalid');
    await expect(invalid).toContainText('stages.train.iters', { timeout: 30_000 });
    await expect(page.getByRole('button', { name: 'Run pipeline' })).toHaveCount(0);
  });

  const result = page.getByTestId('pipeline-result');
  const stages = page.getByRole('table', { name: 'Stages of the last run' });
  let pipelineCid = '';

  await test.step('a valid one shows its stages and runs, stage by stage', async () => {
    await page.getByLabel('Pipeline file', { exact: true }).setInputFiles(good);
    await expect(page.getByRole('heading', { name: 'Pipeline “e2e-tiny”' })).toBeVisible({ timeout: 30_000 });
    const declared = page.getByRole('list', { name: 'Stages' });
    await expect(declared.locator('[data-stage]')).toHaveCount(4);
    await expect(declared.locator('[data-stage="train"]')).toContainText('nLayer=1');
    await expect(declared.locator('[data-stage="prepare"]')).toContainText('tiny.txt');

    await page.getByRole('button', { name: 'Run pipeline' }).click();
    // The job's progress events name the stage it is at.
    await expect(
      page.getByRole('list', { name: 'Progress of the run' }).locator('[aria-current="step"]'),
    ).toBeVisible();
    await expectStatuses(stages, {
      prepare: 'done',
      train: 'done',
      evaluate: 'done',
      publish: 'done',
      claim: 'skipped',
    });
    await expect(stages.locator('tr[data-stage="train"]')).toContainText('ran');
    await expect(result.getByTestId('pipeline-model').locator('code')).toHaveAttribute('data-value', /^baf/);
    pipelineCid = (await result.getByTestId('pipeline-cid').locator('code').getAttribute('data-value')) ?? '';
    expect(pipelineCid).toMatch(/^baf/);
    await result.scrollIntoViewIfNeeded();
    await saveScreenshot(page, 'pipelines');
  });

  await test.step('run again: stopped after evaluate, then in full, every stage comes from the cache', async () => {
    await page.getByLabel('Stop after').selectOption('evaluate');
    await page.getByRole('button', { name: 'Run pipeline' }).click();
    await expectStatuses(stages, {
      prepare: 'cached',
      train: 'cached',
      evaluate: 'cached',
      publish: 'skipped',
      claim: 'skipped',
    });
    await expect(stages.locator('tr[data-stage="publish"]')).toContainText('stopped after evaluate');

    await page.getByLabel('Stop after').selectOption('');
    await page.getByRole('button', { name: 'Run pipeline' }).click();
    await expectStatuses(stages, {
      prepare: 'cached',
      train: 'cached',
      evaluate: 'cached',
      publish: 'cached',
      claim: 'skipped',
    });
    // Same inputs, same pipeline file: the same CID.
    await expect(result.getByTestId('pipeline-cid').locator('code')).toHaveAttribute(
      'data-value',
      pipelineCid,
    );
  });

  await test.step('claim the model in a lineage: the claim carries the pipeline CID', async () => {
    await useTestAccount(page, 0);
    const evalText = testInfo.outputPath('heldout.txt');
    writeFileSync(evalText, readFileSync('resources/tinyshakespeare.txt', 'utf8').slice(-5_000));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Models' }).click();
    await page.getByRole('link', { name: 'New lineage' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Pipeline e2e');
    await page.getByLabel('Evaluation text', { exact: true }).setInputFiles(evalText);
    await expect(page.getByLabel('Evaluation text CID')).toHaveValue(/^baf/, { timeout: 30_000 });
    await page.getByRole('button', { name: 'Create lineage' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create the lineage “Pipeline e2e”' });
    await dialog.getByRole('button', { name: 'Send', exact: true }).click({ timeout: 30_000 });
    await expect(page.getByRole('heading', { name: 'Pipeline e2e' })).toBeVisible({ timeout: 30_000 });

    // The last run is still there after visiting other pages.
    await page.getByRole('link', { name: 'All models' }).click();
    await page.getByRole('link', { name: 'Pipelines', exact: true }).click();
    await expect(result.getByTestId('pipeline-cid').locator('code')).toHaveAttribute(
      'data-value',
      pipelineCid,
    );
    await result.getByLabel('Lineage').selectOption({ label: 'Pipeline e2e' });
    await expectNoSeriousA11yViolations(page, 'pipelines');
    await result.getByRole('button', { name: 'Claim improvement' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Claim an improvement', {
      timeout: 30_000,
    });
    await expect(page.getByTestId('claim-pipeline').locator('code')).toHaveAttribute(
      'data-value',
      pipelineCid,
    );
  });
});

/** Waits until the last run's table shows these outcomes (a new run replaces it when it ends). */
async function expectStatuses(table: Locator, statuses: Record<string, string>): Promise<void> {
  await expect
    .poll(
      async () =>
        Object.fromEntries(
          await table
            .locator('tbody tr')
            .evaluateAll((rows) =>
              rows.map((r) => [r.getAttribute('data-stage'), r.getAttribute('data-status')]),
            ),
        ),
      { timeout: 120_000 },
    )
    .toEqual(statuses);
}

/** Connects the local test account #index on the Wallet page (unless it is already in use). */
async function useTestAccount(page: Page, index: number): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Wallet' }).click();
  const row = page.getByRole('table', { name: 'Local test accounts' }).locator('tbody tr').nth(index);
  await expect(row).toBeVisible({ timeout: 60_000 });
  if (!(await row.textContent())?.includes('in use'))
    await row.getByRole('button', { name: `Use test account ${index}` }).click({ timeout: 60_000 });
  await expect(row).toContainText('in use');
}
