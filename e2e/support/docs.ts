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

/** The tallest screenshot taken: a page longer than this is cut there. */
const MAX_SCREENSHOT_HEIGHT = 6000;

/**
 * Saves a screenshot of the whole page as docs/screenshots/<name>.png: everything below the fold too.
 * The app scrolls inside its <main> element (the sidebar and jobs bar stay put), so a document-level
 * `fullPage` shot alone would stop at the window's edge: the window is made as tall as the content for
 * the shot, then given its size back.
 */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  if (!writeDocs) return;
  const path = `docs/screenshots/${name}.png`;
  mkdirSync(dirname(path), { recursive: true });
  const viewport = page.viewportSize();
  const hidden = await page.evaluate(() => {
    const main = document.querySelector('main');
    return main ? main.scrollHeight - main.clientHeight : 0;
  });
  if (viewport && hidden > 0) {
    await page.setViewportSize({
      width: viewport.width,
      height: Math.min(viewport.height + hidden, MAX_SCREENSHOT_HEIGHT),
    });
    // Let charts and other resize observers lay out at the new size.
    await page.evaluate(
      () => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))),
    );
  }
  try {
    await page.screenshot({ path, fullPage: true, animations: 'disabled', caret: 'hide' });
  } finally {
    if (viewport && hidden > 0) await page.setViewportSize(viewport);
  }
}
