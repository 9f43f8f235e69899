// End-to-end tests of the engine off the main thread: the permutation test runs in Web
// Workers with the same p-values on 1 and 4 of them (and on the main thread when no worker may
// start), and a cancelled run returns the panel to its last result. The main thread's longest
// task while pasting 20,000 studies is measured by bench.mjs; the 200 ms guard of issue 14 is
// not met yet (the paste's own task, not the engine: see the notes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { serveDir } from './server.mjs';
import { freshContext } from './browser.mjs';
import { studies, paste } from './tables.mjs';

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

