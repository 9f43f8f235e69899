// End-to-end test of the "model τ² too" switch (issue 13): a location-scale model fitted in
// the page's worker, its α table, QS test and τ² plot, against the metafor 3.8.1 fixture of
// tests/r/make_models_fixtures.R (Bangert-Drowns et al. 2004, mods = ~ ni100, scale = ~ ni100).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { serveDir } from './server.mjs';
import { freshContext } from './browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'target', 'e2e');
/** metafor's location-scale optimum is good to about 3e-7 (see tests/stats_models.rs). */
const RTOL = 5e-6;

let server;
let cases;
before(async () => {
  server = await serveDir(process.env.MERIDIAN_DIST ?? join(ROOT, 'dist'));
  await mkdir(SHOTS, { recursive: true });
  const text = await readFile(join(ROOT, 'tests/fixtures/models/location_scale.json'), 'utf8');
  cases = JSON.parse(text).cases;
});
after(async () => server?.close());

function close(actual, expected, what) {
  const scale = Math.max(Math.abs(expected), 1e-12);
  assert.ok(Math.abs(actual - expected) / scale < RTOL, `${what}: ${actual} vs metafor ${expected}`);
}

async function value(locator) {
  return Number(await locator.getAttribute('data-value'));
}

for (const method of ['ML', 'REML']) {
  test(`switching "model τ² too" on fits metafor's location-scale model (${method})`, async () => {
    const c = cases.find((x) => x.expected.method === method);
    const context = await freshContext();
    const page = context.pages()[0] ?? (await context.newPage());
    const errors = [];
    page.on('pageerror', (err) => errors.push(err.message));
    try {
      await page.setViewportSize({ width: 1400, height: 900 });
      await page.goto(server.url);
      await page.locator('[data-testid="coef-table"]').waitFor();
      await page.locator('[data-testid="example-select"]').selectOption('');
      await page.locator('[data-testid="data-input"]').fill(c.csv);
      await page.locator('[data-testid="measure-select"]').selectOption('');
      await page.locator('[data-testid="role-yi"]').selectOption('yi');
      await page.locator('[data-testid="role-vi"]').selectOption('vi');
      await page.locator('[data-testid="stat-k"][data-value="48"]').waitFor();
      await page.locator('[data-testid="model-method"]').selectOption(method);
      await page.locator('[data-testid="mod-ni100"]').check();
      await page.locator('[data-testid="scale-on"]').check();
      // Switched on, τ² starts with the location model's moderators.
      assert.equal(await page.locator('[data-testid="scale-formula"]').inputValue(), 'ni100');
      const table = page.locator('[data-testid="alpha-table"]');
      await table.waitFor();
      for (const a of c.expected.alpha) {
        const cells = table.locator(`tr[data-term="${a.name}"] td [data-value]`);
        close(await value(cells.nth(0)), a.estimate, `α ${a.name}`);
        close(await value(cells.nth(1)), a.se, `SE(α ${a.name})`);
        close(await value(cells.nth(3)), a.p_value, `p(α ${a.name})`);
      }
      close(await value(page.locator('[data-testid="stat-qs"]')), c.expected.qs, 'QS');
      // Heterogeneity as metafor prints it for rma.ls: no single τ², I² or H²; the range of
      // τ²ᵢ, QE and QS (with their df and p).
      assert.equal(await page.locator('[data-testid="stat-tau2"]').count(), 0);
      assert.equal(await page.locator('[data-testid="stat-i2"]').count(), 0);
      assert.equal(await page.locator('[data-testid="stat-h2"]').count(), 0);
      const range = page.locator('[data-testid="stat-tau2-range"]');
      close(Number(await range.getAttribute('data-min')), Math.min(...c.expected.tau2_i), 'min τ²ᵢ');
      close(Number(await range.getAttribute('data-max')), Math.max(...c.expected.tau2_i), 'max τ²ᵢ');
      const qe = page.locator('[data-testid="stat-qe"]');
      close(await value(qe), c.expected.qe, 'QE');
      assert.equal(Number(await qe.getAttribute('data-df')), c.expected.qe_df);
      close(Number(await qe.getAttribute('data-p')), c.expected.qe_p, 'QE p');
      const qs = page.locator('[data-testid="stat-qs"]');
      assert.equal(Number(await qs.getAttribute('data-df')), c.expected.qs_df);
      close(Number(await qs.getAttribute('data-p')), c.expected.qs_p, 'QS p');
      // The location part, as metafor reports it beside α.
      const b = page.locator('[data-testid="coef-table"] tr[data-term="ni100"] td [data-value]');
      close(await value(b.nth(0)), c.expected.coefficients[1].estimate, 'β ni100');
      // The τ² plot draws every study.
      await page.locator('[data-testid="scale-plot"]').waitFor();
      // The plot and its list of studies are drawn in the next frame.
      await page.locator('[data-testid="scale-plot-studies"] li').nth(47).waitFor({ state: 'attached' });
      assert.equal(await page.locator('[data-testid="scale-plot-studies"] li').count(), 48);
      await page.locator('[data-testid="scale-results"]').screenshot({
        path: join(SHOTS, `scale-results-${method}.png`),
      });
      // Saved in a share link: the link opens the same model.
      await page.locator('[data-testid="share"]').click();
      const url = await page.locator('[data-testid="share-url"]').inputValue();
      const other = await context.newPage();
      await other.goto(url);
      await other.locator('[data-testid="alpha-table"]').waitFor();
      assert.equal(await other.locator('[data-testid="scale-on"]').isChecked(), true);
      const shared = other.locator(`[data-testid="alpha-table"] tr[data-term="ni100"] td [data-value]`);
      close(await value(shared.nth(0)), c.expected.alpha[1].estimate, 'α ni100 from the link');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
}

test('a row without a value of a scale moderator is marked as left out in the Data pane', async () => {
  const c = cases.find((x) => x.expected.method === 'REML');
  // Row 3 loses its ni100 (the only moderator: location and scale).
  const lines = c.csv.trim().split('\n');
  const header = lines[0].split(',');
  const col = header.indexOf('ni100');
  const cells = lines[3].split(',');
  cells[col] = 'NA';
  lines[3] = cells.join(',');
  const context = await freshContext();
  const page = context.pages()[0] ?? (await context.newPage());
  try {
    await page.goto(server.url);
    await page.locator('[data-testid="coef-table"]').waitFor();
    await page.locator('[data-testid="example-select"]').selectOption('');
    await page.locator('[data-testid="data-input"]').fill(lines.join('\n') + '\n');
    await page.locator('[data-testid="measure-select"]').selectOption('');
    await page.locator('[data-testid="role-yi"]').selectOption('yi');
    await page.locator('[data-testid="role-vi"]').selectOption('vi');
    await page.locator('[data-testid="stat-k"][data-value="48"]').waitFor();
    // Moderating τ² only: the location model has no moderators, so the row is left out
    // only because the scale formula reads the missing column.
    assert.equal(await page.locator('tr.row--excluded').count(), 0);
    await page.locator('[data-testid="scale-on"]').check();
    await page.locator('[data-testid="scale-ni100"]').check();
    await page.locator('[data-testid="stat-k"][data-value="47"]').waitFor();
    const marked = page.locator('tr.row--excluded');
    assert.equal(await marked.count(), 1);
    assert.equal(await marked.getAttribute('data-row'), '3');
    assert.match(await marked.locator('.row-note').innerText(), /left out: no value for ni100/);
  } finally {
    await context.close();
  }
});
