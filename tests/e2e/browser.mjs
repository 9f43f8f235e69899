// Launches the system Chromium through playwright-core: Playwright never downloads a browser
// here, and the flags keep Chromium from reaching for a network this machine does not have.
import { chromium } from 'playwright-core';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A fresh browser profile (its own user-data dir), as a new user would have. */
export async function freshContext(options = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'meridian-e2e-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    ...options,
  });
}

/**
 * Records, from the page's start, the duration of every main-thread task over 50 ms in
 * `window.longTasks` (the Long Tasks API).
 */
export async function watchLongTasks(page) {
  await page.addInitScript(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
}

/**
 * The page at `url` in a fresh profile, its example analysed and then cleared, with the page
 * errors it raises collected in `errors` (and its long tasks in `window.longTasks` if asked).
 */
export async function openCleared(url, { longTasks = false } = {}) {
  const context = await freshContext();
  const page = context.pages()[0] ?? (await context.newPage());
  if (longTasks) await watchLongTasks(page);
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(url);
  await page.locator('[data-testid="coef-table"]').waitFor();
  await page.locator('[data-testid="example-select"]').selectOption('');
  return { context, page, errors };
}

/** The text of the file a click on `testid` downloads (the context must accept downloads). */
export async function downloaded(page, testid) {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator(`[data-testid="${testid}"]`).click(),
  ]);
  const stream = await download.createReadStream();
  let text = '';
  for await (const chunk of stream) text += chunk;
  return { name: download.suggestedFilename(), text };
}
