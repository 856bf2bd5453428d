import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures.ts';

/** The page talks to main only through window.xai; whatever it sends, main answers with a clear error. */
async function invoke(page: Page, method: unknown, params: unknown) {
  await page.waitForFunction(() => window.xai !== undefined);
  return page.evaluate(([m, p]) => window.xai!.invoke(m as string, p), [method, params] as const);
}

test('a well-formed request goes through the bridge', async ({ appPage }) => {
  const reply = await invoke(appPage, 'system.ping', { message: 'hello' });
  expect(reply).toMatchObject({ ok: true, result: { message: 'hello' } });
});

test('a request with a wrong field type is refused, naming the field', async ({ appPage }) => {
  const reply = await invoke(appPage, 'system.ping', { message: 42 });
  expect(reply.ok).toBe(false);
  if (reply.ok) return;
  expect(reply.error.code).toBe('INVALID_PARAMS');
  expect(reply.error.field).toBe('message');
  expect(reply.error.message).toContain('field "message"');
});

test('an unknown field is refused', async ({ appPage }) => {
  const reply = await invoke(appPage, 'system.info', { refresh: false, sneaky: true });
  expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS' } });
  if (!reply.ok) expect(reply.error.message).toContain('sneaky');
});

test('an unknown method is refused', async ({ appPage }) => {
  const reply = await invoke(appPage, 'system.formatDisk', {});
  expect(reply).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
});

test('a method name that is not a string is refused', async ({ appPage }) => {
  const reply = await invoke(appPage, { toString: null }, null);
  expect(reply.ok).toBe(false);
});
