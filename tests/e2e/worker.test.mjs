// End-to-end tests of the engine off the main thread: the permutation test runs in Web
// Workers with the same p-values on 1 and 4 of them (and on the main thread when no worker may
// start), and a cancelled run returns the panel to its last result. Pasting 20,000 studies and
// fitting three moderators holds the main thread for no task over 200 ms (issue 14's loose
// guard; bench.mjs measures the longest task against the 50 ms goal): the data box folds a
// text that long instead of laying it out, and the table renders only the rows in view. A
// long paste goes to the page past the box, spliced in where the box would have put it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { serveDir } from './server.mjs';
import { freshContext, openCleared } from './browser.mjs';
import { studies, nested, paste, copyToClipboard, clipboardPaste } from './tables.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let server;
before(async () => {
  server = await serveDir(process.env.MERIDIAN_DIST ?? join(ROOT, 'dist'));
});
after(async () => server?.close());

async function open(query = '') {
  const context = await freshContext();
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${server.url}${query}`);
  await page.locator('[data-testid="coef-table"]').waitFor();
  return { context, page, errors };
}

/** Fits `x` on k studies, runs `iterations` permutations and returns the panel's p-values. */
async function permutationP(page, k, iterations) {
  await page.locator('[data-testid="example-select"]').selectOption('');
  await paste(page, studies(k));
  await page.locator('[data-testid="model-formula"]').fill('x');
  await page.locator('[data-testid="model-formula"]').press('Enter');
  await page.locator('[data-testid="coef-table"] [data-term="x"]').waitFor();
  await page.locator('[data-testid="permutation-iterations"]').fill(String(iterations));
  await page.locator('[data-testid="permutation-iterations"]').dispatchEvent('change');
  await page.locator('[data-testid="permutation-run"]').click();
  const result = page.locator('[data-testid="permutation-result"]:not(.stale)');
  await result.waitFor({ timeout: 60_000 });
  const lanes = Number(await result.getAttribute('data-lanes'));
  const ps = await page
    .locator('[data-testid="permutation-table"] [data-value]')
    .evaluateAll((cells) => cells.map((c) => c.getAttribute('data-value')));
  const qm = await page.locator('[data-testid="permutation-qm"]').getAttribute('data-value');
  return { lanes, ps, qm };
}

test('the same seed gives the same permutation p-values with 1 and 4 workers and without', async () => {
  const runs = {};
  for (const workers of [1, 4, 0]) {
    const { context, page, errors } = await open(`?workers=${workers}`);
    try {
      runs[workers] = await permutationP(page, 30, 400);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  }
  assert.equal(runs[1].lanes, 1);
  assert.equal(runs[4].lanes, 4);
  assert.equal(runs[0].lanes, 1, 'the main thread is one lane');
  assert.equal(runs[1].ps.length, 2);
  assert.deepEqual(runs[4], { ...runs[1], lanes: 4 }, 'four workers, one worker');
  assert.deepEqual(runs[0], runs[1], 'the main thread, one worker');
});

test('cancelling a long permutation run returns to the previous result', async () => {
  const { context, page, errors } = await open('?workers=2');
  try {
    const first = await permutationP(page, 200, 200);
    await page.locator('[data-testid="permutation-iterations"]').fill('1000000');
    await page.locator('[data-testid="permutation-iterations"]').dispatchEvent('change');
    await page.locator('[data-testid="permutation-run"]').click();
    await page.locator('[data-testid="permutation-progress"]').waitFor();
    // While it runs, the last result stays in view, dimmed, with a note.
    await page.locator('[data-testid="permutation-result"].stale').waitFor();
    await page.locator('[data-testid="permutation-updating"]').waitFor();
    await page.locator('[data-testid="permutation-remaining"]').filter({ hasText: 'left' }).waitFor();
    await page.locator('[data-testid="permutation-cancel"]').click();
    const result = page.locator('[data-testid="permutation-result"]:not(.stale)');
    await result.waitFor();
    const ps = await page
      .locator('[data-testid="permutation-table"] [data-value]')
      .evaluateAll((cells) => cells.map((c) => c.getAttribute('data-value')));
    assert.deepEqual(ps, first.ps, 'the previous p-values, intact');
    assert.match(await result.innerText(), /200 permutations/);
    assert.equal(await page.locator('[data-testid="permutation-progress"]').count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the profile likelihood of a three-level model shows its progress, Cancel stops it and keeps the page, and asking again draws it', async () => {
  const { context, page, errors } = await open('?workers=2');
  try {
    await page.locator('[data-testid="example-select"]').selectOption('');
    await paste(page, nested(3000));
    await page.locator('[data-testid="stat-k"][data-value="3000"]').waitFor();
    await page.locator('[data-testid="role-cluster"]').selectOption('cluster');
    await page.locator('[data-testid="role-effect-id"]').selectOption('effect');
    await page.locator('[data-testid="dep-within"]').selectOption('multilevel');
    const sigma2 = page.locator('[data-testid="sigma2-table"] [data-value]').first();
    await sigma2.waitFor();
    const before = await sigma2.getAttribute('data-value');

    await page.locator('[data-testid="tab-profile"]').click();
    const remaining = page.locator('[data-testid="profile-remaining"]');
    await remaining.waitFor();
    assert.match(await remaining.textContent(), /Profile likelihood: \d+ of about \d+ fits/);
    await page.locator('[data-testid="profile-cancel"]').click();
    await page.locator('[data-testid="profile-compute"]').waitFor();
    assert.equal(await page.locator('[data-testid="profile-progress"]').count(), 0);
    assert.match(await page.locator('[data-testid="plot-message"]').textContent(), /cancelled/);
    // The rest of the page keeps its result.
    assert.equal(await sigma2.getAttribute('data-value'), before);

    await page.locator('[data-testid="profile-compute"]').click();
    await page.locator('[data-testid="profile-max"]').waitFor({ timeout: 120_000 });
    assert.equal(await page.locator('[data-testid="profile-progress"]').count(), 0);
    assert.equal(await page.locator('[data-testid="profile-component"] option').count(), 2);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('a long paste goes to the page past the box: spliced in at the caret or over the selection, with no main-thread task over 200 ms', async () => {
  const { context, page, errors } = await openCleared(server.url, { longTasks: true });
  try {
    // The box holds the header and 5 studies; 19,995 more are pasted after them.
    const text = studies(20_000);
    const cut = text.split('\n').slice(0, 6).join('\n').length + 1;
    const box = page.locator('[data-testid="data-input"]');
    await box.fill(text.slice(0, cut));
    await page.locator('[data-testid="stat-k"][data-value="5"]').waitFor();
    await copyToClipboard(page, text.slice(cut));
    await page.evaluate(() => { window.longTasks = []; });
    await clipboardPaste(page, { atEnd: true });
    await page.locator('[data-testid="stat-k"][data-value="20000"]').waitFor({ timeout: 120_000 });
    await page.locator('[data-testid="data-folded"]').filter({ hasText: '20000 rows' }).waitFor();
    assert.equal(await box.isVisible(), false);
    const tasks = await page.evaluate(() => window.longTasks);
    assert.ok(Math.max(0, ...tasks) < 200, `long tasks (ms): ${tasks.map((t) => t.toFixed(0)).join(', ')}`);
    await page.locator('[data-testid="data-edit"]').click();
    await box.waitFor();
    assert.equal(await box.inputValue(), text);

    // Over the whole text selected, a paste replaces it.
    await copyToClipboard(page, studies(3000));
    await clipboardPaste(page);
    await page.locator('[data-testid="stat-k"][data-value="3000"]').waitFor({ timeout: 120_000 });
    await page.locator('[data-testid="data-folded"]').filter({ hasText: '3000 rows' }).waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('pasting 20,000 studies and fitting REML with 3 moderators takes no main-thread task over 200 ms', async () => {
  const { context, page, errors } = await openCleared(server.url, { longTasks: true });
  try {
    await page.waitForTimeout(300);
    const text = studies(20_000);
    await page.evaluate(() => { window.longTasks = []; });
    await paste(page, text);
    await page.locator('[data-testid="stat-k"][data-value="20000"]').waitFor({ timeout: 120_000 });
    await page.locator('[data-testid="model-formula"]').fill('x + z + w');
    await page.locator('[data-testid="model-formula"]').press('Enter');
    await page.locator('[data-testid="coef-table"] [data-term="w"]').waitFor({ timeout: 120_000 });
    await page.waitForTimeout(300);
    const tasks = await page.evaluate(() => window.longTasks);
    assert.ok(Math.max(0, ...tasks) < 200, `long tasks (ms): ${tasks.map((t) => t.toFixed(0)).join(', ')}`);

    // The box is folded, with what is loaded; every row can be scrolled to, and only the rows
    // near the view are in the document.
    await page.locator('[data-testid="data-folded"]').filter({ hasText: '20000 rows' }).waitFor();
    assert.equal(await page.locator('[data-testid="data-input"]').isVisible(), false);
    const rows = page.locator('[data-testid="data-table"] tbody tr[data-row]');
    assert.ok((await rows.count()) <= 80, `${await rows.count()} rows in the document`);
    await page.locator('.table-scroll:has([data-testid="data-table"])').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await page.locator('[data-testid="data-table"] tr[data-row="20000"]').waitFor();
    assert.match(await page.locator('[data-testid="data-table"] tr[data-row="20000"]').innerText(), /S20000/);
    assert.ok((await rows.count()) <= 80);

    // Asked for, the box shows the whole text to edit.
    await page.locator('[data-testid="data-edit"]').click();
    const box = page.locator('[data-testid="data-input"]');
    await box.waitFor();
    assert.equal((await box.inputValue()).length, text.length);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
