import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Page } from '@playwright/test';
import { format, resolveConfig } from 'prettier';

/**
 * What the e2e run leaves in docs/: screenshots of every page (docs/screenshots/) and the UI section of
 * docs/benchmarks.md. Set XAI_LINK_E2E_NO_DOCS=1 to leave docs/ untouched (the checks still run).
 */
export const writeDocs = process.env.XAI_LINK_E2E_NO_DOCS !== '1';

const BENCHMARKS = 'docs/benchmarks.md';
const START = '<!-- ui-benchmarks:start (written by e2e/chart-performance.web.spec.ts) -->';
const END = '<!-- ui-benchmarks:end -->';

/** Replaces the UI section of docs/benchmarks.md (other sections are left exactly as they are). */
export async function writeUiBenchmarkSection(body: string): Promise<void> {
  if (!writeDocs) return;
  const section = `## UI\n\n${START}\n${body.trim()}\n${END}\n`;
  let text = existsSync(BENCHMARKS) ? readFileSync(BENCHMARKS, 'utf8') : '# Benchmarks\n';
  const start = text.indexOf('## UI\n');
  const end = text.indexOf(END);
  if (start >= 0 && end > start) {
    text = text.slice(0, start) + section + text.slice(end + END.length + 1);
  } else {
    text = `${text.trimEnd()}\n\n${section}`;
  }
  // Formatted as `prettier --check .` expects.
  const options = (await resolveConfig(BENCHMARKS)) ?? {};
  writeFileSync(BENCHMARKS, await format(text, { ...options, parser: 'markdown' }));
}

/** Saves a full-window screenshot as docs/screenshots/<name>.png. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  if (!writeDocs) return;
  const path = `docs/screenshots/${name}.png`;
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
}
