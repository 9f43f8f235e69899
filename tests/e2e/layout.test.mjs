// The page laid out for exploration (issue 13): at 1920, 1400 and 1024 px no card and no
// result table runs past its edge; on wide screens the plot and the key results stay in view
// beside the moderator checkboxes, on narrow ones the key results ride along the bottom of
// the window. Screenshots in target/e2e/layout-*.png.
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

/** The cards, and the result tables' scroll boxes, wider inside than they show. */
async function overflowing(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('main .card, main .card .table-scroll--short')]
      .filter((e) => e.scrollWidth > e.clientWidth + 1)
      .map((e) => `${e.className} (${e.querySelector('[data-testid]')?.getAttribute('data-testid')}): ${e.scrollWidth} > ${e.clientWidth}`),
  );
}

async function open(width, height) {
  const context = await freshContext({ viewport: { width, height } });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(server.url);
  await page.locator('[data-testid="coef-table"]').waitFor();
  return { context, page, errors };
}

/** Whether the element's box lies inside the window. */
async function inView(locator) {
  return locator.evaluate((e) => {
    const r = e.getBoundingClientRect();
    return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;
  });
}

for (const [width, height] of [[1920, 1080], [1400, 900], [1024, 768]]) {
  test(`nothing runs past a card's edge at ${width} × ${height}`, async () => {
    const { context, page, errors } = await open(width, height);
    try {
      await page.locator('[data-testid="mod-ablat"]').check();
      await page.locator('[data-testid="stat-qm"]').waitFor();
      assert.deepEqual(await overflowing(page), [], 'BCG with ablat');
      await page.screenshot({ path: join(SHOTS, `layout-${width}.png`) });
      // The widest result tables: a factor's coefficients and contrasts, then the α table of a
      // location-scale model.
      await page.locator('[data-testid="model-formula"]').fill('ablat + factor(alloc)');
      await page.locator('[data-testid="model-formula"]').press('Enter');
      await page.locator('[data-testid="contrast-add"]').click();
      await page.locator('[data-testid="contrast-row"]').waitFor();
      assert.deepEqual(await overflowing(page), [], 'a factor with a contrast');
      await page.screenshot({ path: join(SHOTS, `layout-${width}-full.png`), fullPage: true });
      await page.locator('[data-testid="model-formula"]').fill('ablat');
      await page.locator('[data-testid="model-formula"]').press('Enter');
      await page.locator('[data-testid="scale-on"]').check();
      await page.locator('[data-testid="alpha-table"]').waitFor();
      assert.deepEqual(await overflowing(page), [], 'a location-scale model');
      await page.screenshot({ path: join(SHOTS, `layout-${width}-scale.png`), fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
}

test('at 1400 px the plot and the key results stay in view when a moderator is ticked', async () => {
  const { context, page, errors } = await open(1400, 900);
  try {
    const box = page.locator('[data-testid="mod-year"]');
    await box.scrollIntoViewIfNeeded();
    await box.check();
    await page.locator('[data-testid="coef-table"] tr[data-term="year"]').waitFor();
    assert.ok(await inView(box), 'the checkbox is where the user ticked it');
    const strip = page.locator('[data-testid="key-strip"]');
    assert.ok(await inView(strip), 'the key results are in view');
    assert.ok(await strip.locator('[data-testid="key-qm-p"]').count() === 1);
    const plot = page.locator('canvas[data-testid="plot"]');
    const top = await plot.evaluate((e) => e.getBoundingClientRect().top);
    assert.ok(top >= 0 && top < 900 / 2, `the plot starts in the upper half of the window (top ${top})`);
    await page.screenshot({ path: join(SHOTS, 'layout-1400-ticked.png') });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('at 1024 px the key results follow the user along the bottom of the window', async () => {
  const { context, page, errors } = await open(1024, 768);
  try {
    const box = page.locator('[data-testid="mod-ablat"]');
    await box.scrollIntoViewIfNeeded();
    await box.check();
    const bar = page.locator('[data-testid="key-bar"]');
    await bar.locator('[data-testid="key-r2"]').waitFor();
    assert.ok(await inView(bar), 'the bar is in view beside the checkboxes');
    assert.equal(await page.locator('[data-testid="key-strip"]').isVisible(), false);
    const tau2 = Number(await bar.locator('[data-testid="key-tau2"]').getAttribute('data-value'));
    const shown = Number(await page.locator('[data-testid="stat-tau2"]').getAttribute('data-value'));
    assert.equal(tau2, shown);
    await page.screenshot({ path: join(SHOTS, 'layout-1024-bar.png') });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
