/**
 * Renders resources/icon.png (512×512, the app icon) from the same SVG as the renderer's favicon,
 * with headless Chromium. Run after changing the logo: node scripts/render-icon.ts
 */
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright';
import { chromiumLaunchOptions } from '../e2e/support/chromium.ts';

const svg = readFileSync('src/renderer/public/favicon.svg', 'utf8');
const browser = await chromium.launch(chromiumLaunchOptions());
const page = await browser.newPage({ viewport: { width: 512, height: 512 } });
await page.setContent(
  `<html><body style="margin:0;background:transparent">${svg.replace('<svg ', '<svg width="512" height="512" ')}</body></html>`,
);
await page.screenshot({ path: 'resources/icon.png', omitBackground: true });
await browser.close();
console.log('wrote resources/icon.png');
