// End-to-end tests of the built app (dist/) in headless Chromium, as a new user meets it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { serveDir } from './server.mjs';
import { freshContext } from './browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'target', 'e2e');

let server;
before(async () => {
  server = await serveDir(process.env.MERIDIAN_DIST ?? join(ROOT, 'dist'));
  await mkdir(SHOTS, { recursive: true });
});
after(async () => server?.close());

/** Opens the app in a fresh profile; records every request that leaves our own origin. */
async function openApp() {
  const context = await freshContext();
  const page = context.pages()[0] ?? (await context.newPage());
  const foreign = [];
  const errors = [];
  // The engine's workers start from blob URLs of this page's own origin: memory, not network.
  const local = [server.url, 'data:', `blob:${server.url}`];
  page.on('request', (req) => {
    if (!local.some((prefix) => req.url().startsWith(prefix))) foreign.push(req.url());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(server.url);
  return { context, page, foreign, errors };
}

test('the BCG example loads with its 13 trials and a drawn plot', async () => {
  const { context, page, foreign, errors } = await openApp();
  try {
    const rows = page.locator('[data-testid="data-table"] tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 13);
    // The first row is Aronson (1948), the last Comstock et al (1976): Colditz et al. (1994).
    assert.match(await rows.first().innerText(), /Aronson/);
    assert.match(await rows.last().innerText(), /Comstock et al/);

    // The canvas is not blank: count pixels that differ from the white background.
    const canvas = page.locator('[data-testid="plot"]');
    await canvas.waitFor();
    const inked = await canvas.evaluate((el) => {
      const { data } = el.getContext('2d').getImageData(0, 0, el.width, el.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) n++;
      }
      return n / (el.width * el.height);
    });
    assert.ok(inked > 0.01, `only ${(inked * 100).toFixed(2)} % of the canvas is drawn`);

    await page.screenshot({ path: join(SHOTS, 'app.png'), fullPage: true });
    assert.deepEqual(errors, [], 'the page raised errors');
    assert.deepEqual(foreign, [], 'the page made requests beyond its own files');
  } finally {
    await context.close();
  }
});
