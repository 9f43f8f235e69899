// End-to-end tests of the page's pipeline as a user drives it: plot options refit nothing,
// rows that cannot be analysed are marked with the reason, the bubble plot's menu shows the
// moderator drawn, the prediction form keeps its values, and a permutation run stops when the
// analysis changes. The page marks each stage it runs with a User Timing measure
// ("meridian:parse", …) and adds each stage the engine ran in its worker ("meridian:engine:fit",
// …), which these tests count.
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

async function open() {
  const context = await freshContext();
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(server.url);
  await page.locator('[data-testid="coef-table"]').waitFor();
  return { context, page, errors };
}

/** How many times the page ran stage `name` (its User Timing measures). */
async function runs(page, name) {
  return page.evaluate((n) => performance.getEntriesByName(`meridian:${n}`).length, name);
}

/** Pastes `text` into the data box as one input event, as a paste does. */
async function paste(page, text) {
  await page.evaluate((t) => {
    const area = document.querySelector('[data-testid="data-input"]');
    area.value = t;
    area.dispatchEvent(new Event('input', { bubbles: true }));
  }, text);
}

test('plot options refit nothing; a new estimator refits without re-parsing', async () => {
  const { context, page, errors } = await open();
  try {
    await page.locator('[data-testid="mod-ablat"]').check();
    await page.locator('[data-testid="coef-table"] [data-term="ablat"]').waitFor();
    // The engine fits in a worker: its stages are 'engine:NAME'; the page itself never fits.
    const fits = await runs(page, 'engine:fit');
    const parses = await runs(page, 'parse');
    for (const tab of ['bubble', 'funnel', 'heterogeneity', 'forest']) {
      await page.locator(`[data-testid="tab-${tab}"]`).click();
      await page.locator('[data-testid="plot"]').waitFor();
    }
    await page.locator('[data-testid="forest-sort"]').selectOption('weight');
    await page.locator('[data-testid="forest-subgroup"]').selectOption('alloc');
    await page.locator('[data-testid="tab-funnel"]').click();
    await page.locator('[data-testid="funnel-contours"]').check();
    await page.waitForTimeout(200);
    assert.equal(await runs(page, 'engine:fit'), fits, 'a plot option refitted the model');
    assert.equal(await runs(page, 'parse'), parses, 'a plot option re-parsed the data');
    // The subgroups are a derived analysis of their own, run when the forest plot asked.
    assert.equal(await runs(page, 'engine:subgroups'), 1);

    await page.locator('[data-testid="model-method"]').selectOption('DL');
    await page.locator('[data-testid="summary"]').filter({ hasText: '(DL)' }).waitFor();
    assert.equal(await runs(page, 'engine:fit'), fits + 1);
    assert.equal(await runs(page, 'fit'), 0, 'the main thread fitted');
    assert.equal(await runs(page, 'parse'), parses);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('rows that cannot be analysed are left out, marked with the reason', async () => {
  const { context, page, errors } = await open();
  try {
    await page.locator('[data-testid="example-select"]').selectOption('');
    await paste(page, 'study,yi,vi\nA,0.1,0.02\nB,0.5,0\nC,0.3,0.01\nD,NA,0.03\nE,-0.1,0.04\n');
    await page.locator('[data-testid="stat-k"][data-value="3"]').waitFor();
    const row = page.locator('[data-testid="data-table"] tbody tr[data-row="2"]');
    assert.match(await row.innerText(), /left out: column "vi" is 0: expected a sampling variance/);
    assert.match(await row.getAttribute('class'), /row--excluded/);
    const missing = page.locator('[data-testid="data-table"] tbody tr[data-row="4"]');
    assert.match(await missing.innerText(), /left out: no value for yi/);
    assert.match(await page.locator('[data-testid="warnings"]').innerText(), /2 rows left out/);
    await page.screenshot({ path: join(SHOTS, 'excluded-rows.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the bubble plot menu shows the moderator the plot draws', async () => {
  const { context, page, errors } = await open();
  try {
    // A categorical first moderator: the plot draws the numeric one, and the menu says so.
    await page.locator('[data-testid="model-formula"]').fill('factor(alloc) + ablat');
    await page.locator('[data-testid="model-formula"]').press('Enter');
    await page.locator('[data-testid="coef-table"] [data-term="ablat"]').waitFor();
    await page.locator('[data-testid="tab-bubble"]').click();
    const menu = page.locator('[data-testid="bubble-moderator"]');
    await menu.waitFor();
    assert.equal(await menu.inputValue(), 'ablat');
    // The plot (and its list of studies) is drawn in the next frame.
    await page.locator('[data-testid="plot-studies"] li').first().waitFor({ state: 'attached' });
    assert.match(await page.locator('[data-testid="plot-studies"]').innerText(), /ablat: 44/);
    await menu.selectOption('alloc');
    await page.waitForTimeout(100);
    assert.equal(await menu.inputValue(), 'alloc');
    await page.screenshot({ path: join(SHOTS, 'bubble-menu.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the prediction form keeps its values through a re-analysis', async () => {
  const { context, page, errors } = await open();
  try {
    await page.locator('[data-testid="mod-ablat"]').check();
    const input = page.locator('[data-testid="predict-ablat"]');
    await input.waitFor();
    await input.fill('20');
    await input.press('Enter');
    await page.locator('[data-testid="model-test"]').selectOption('knha');
    await page.locator('[data-testid="stat-qm"]').filter({ hasText: 'F(1, 11)' }).waitFor();
    assert.equal(await input.inputValue(), '20');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

/** A reproducible table of `k` studies with a numeric moderator x. */
function studies(k) {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const lines = ['study,yi,vi,x'];
  for (let i = 0; i < k; i++) {
    const x = 10 + 50 * rand();
    lines.push(`S${i + 1},${(0.3 - 0.02 * x + 0.4 * (rand() - 0.5)).toFixed(4)},${(0.01 + 0.1 * rand()).toFixed(4)},${x.toFixed(2)}`);
  }
  return lines.join('\n') + '\n';
}

test('a permutation run stops when the analysis changes', async () => {
  const { context, page, errors } = await open();
  try {
    // Enough studies that 1,000 refits take seconds, so a run outlives the change below.
    await page.locator('[data-testid="example-select"]').selectOption('');
    await paste(page, studies(1000));
    await page.locator('[data-testid="model-formula"]').fill('x');
    await page.locator('[data-testid="model-formula"]').press('Enter');
    await page.locator('[data-testid="coef-table"] [data-term="x"]').waitFor();
    await page.locator('[data-testid="permutation-run"]').click();
    await page.locator('[data-testid="permutation-progress"]').waitFor();
    await page.locator('[data-testid="model-method"]').selectOption('DL');
    await page.locator('[data-testid="summary"]').filter({ hasText: '(DL)' }).waitFor();
    await page.waitForTimeout(200);
    const slices = await runs(page, 'permutation-slice');
    await page.waitForTimeout(1000);
    assert.equal(await runs(page, 'permutation-slice'), slices, 'the old run kept refitting');
    assert.ok(await page.locator('[data-testid="permutation-run"]').isVisible());
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
