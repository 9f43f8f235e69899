// End-to-end test of the Sensitivity pane (issue 12): BCG with latitude (REML, z), open the
// pane, find the most influential trial (largest Cook's distance), leave it out, and see R²
// change to metafor's value for the model without that trial.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { serveDir } from './server.mjs';
import { freshContext } from './browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Refits without a study are iterative (REML): five significant digits, as the fixtures. */
const RTOL = 1e-5;

let server;
let bcgCsv;
let metafor;
before(async () => {
  server = await serveDir(process.env.MERIDIAN_DIST ?? join(ROOT, 'dist'));
  bcgCsv = await readFile(join(ROOT, 'assets/examples/bcg.csv'), 'utf8');
  // metafor 3.8.1: influence() and rma(..., subset = -i) of rma(yi, vi, mods = ~ ablat) on the
  // log risk ratios (tests/r/make_sensitivity_fixtures.R).
  metafor = JSON.parse(
    await readFile(join(ROOT, 'tests/fixtures/sensitivity/bcg_ablat_reml_z.json'), 'utf8'),
  );
});
after(async () => server?.close());

function close(actual, expected, what) {
  const scale = Math.max(Math.abs(expected), 1e-12);
  assert.ok(Math.abs(actual - expected) / scale < RTOL, `${what}: ${actual} vs metafor ${expected}`);
}

test('leaving out the most influential BCG trial gives metafor\'s R²', async () => {
  const context = await freshContext();
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  try {
    await page.goto(server.url);
    await page.locator('[data-testid="coef-table"]').waitFor();
    await page.locator('[data-testid="example-select"]').selectOption('');
    await page.locator('[data-testid="data-input"]').fill(bcgCsv);
    await page.locator('[data-testid="measure-select"]').selectOption('RR');
    await page.locator('[data-testid="role-ai"]').selectOption('tpos');
    await page.locator('[data-testid="role-bi"]').selectOption('tneg');
    await page.locator('[data-testid="role-ci"]').selectOption('cpos');
    await page.locator('[data-testid="role-di"]').selectOption('cneg');
    await page.locator('[data-testid="mod-ablat"]').check();
    await page.locator('[data-testid="coef-table"] [data-term="ablat"]').waitFor();

    await page.locator('[data-testid="sensitivity-open"]').click();
    const rows = page.locator('[data-testid="influence-row"]');
    await rows.nth(12).waitFor();
    assert.equal(await rows.count(), 13);

    // Sorting by Cook's distance puts the most influential trial first.
    await page.locator('[data-testid="sort-cook_d"]').click();
    const first = rows.first();
    const study = Number(await first.getAttribute('data-study'));
    const cooks = metafor.influence.map((s) => s.cook_d);
    const most = cooks.indexOf(Math.max(...cooks));
    assert.equal(study, most, 'the largest Cook\'s distance is metafor\'s');
    close(Number(await first.locator('[data-col="cook_d"]').getAttribute('data-value')), cooks[most], 'Cook\'s D');

    await page.locator(`[data-testid="without-${study}"]`).click();
    const r2 = page.locator('[data-testid="without-r2"]');
    await r2.waitFor();
    close(Number(await r2.getAttribute('data-value')), metafor.leave1out[most].r2, 'R² without it');
    close(
      Number(await page.locator('[data-testid="without-tau2"]').getAttribute('data-value')),
      metafor.leave1out[most].tau2,
      'τ² without it',
    );
    const sentence = await page.locator('[data-testid="without-sentence"]').textContent();
    assert.match(sentence, /^Without .+, ablat from .+ R² from .+ to .+\.$/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
