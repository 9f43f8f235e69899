// End-to-end test of issue 11 on the page: dependent effect sizes. Load the bundled
// dat.konstantopoulos2011 (56 studies in 11 school districts; Konstantopoulos, 2011, Research
// Synthesis Methods 2, 61–76), say which column is the cluster and which the effect ID, choose
// the three-level model, and read the variance components and the cluster-robust results
// against metafor 3.8.1 and clubSandwich 0.5.8 (tests/fixtures/multilevel/konstantopoulos_reml.json,
// written by tests/r/make_multilevel_fixtures.R): rma.mv(yi, vi, random = ~ 1 | district/study),
// robust(res, cluster = district, clubSandwich = TRUE) and robust(res, cluster = district,
// adjust = TRUE).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { serveDir } from './server.mjs';
import { freshContext } from './browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'target', 'e2e');
/** Agreement with metafor: six significant digits, as everywhere in Meridian. */
const RTOL = 1e-6;
/** Decimals the page prints (format::DECIMALS). */
const SHOWN = 4;

let server;
let fixture;
before(async () => {
  server = await serveDir(process.env.MERIDIAN_DIST ?? join(ROOT, 'dist'));
  await mkdir(SHOTS, { recursive: true });
  fixture = JSON.parse(
    await readFile(join(ROOT, 'tests/fixtures/multilevel/konstantopoulos_reml.json'), 'utf8'),
  );
});
after(async () => server?.close());

/** Runs `body(page)` on the page in a fresh browser context, which it closes after; the page
 * must throw no error. */
async function onPage(body) {
  const context = await freshContext();
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  try {
    await page.goto(server.url);
    await page.locator('[data-testid="coef-table"]').waitFor();
    await body(page);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
}

/** Replaces the example with the CSV file at `path` (from the repository root), of `k` rows. */
async function paste(page, path, k) {
  await page.locator('[data-testid="example-select"]').selectOption('');
  await page.locator('[data-testid="data-input"]').fill(await readFile(join(ROOT, path), 'utf8'));
  await page.locator(`[data-testid="stat-k"][data-value="${k}"]`).waitFor();
}

/** The value shown under `testid`: its full-precision data-value close to `expected`, and its
 * text equal to `expected` to the digits shown. */
async function shows(page, testid, expected, what) {
  const el = page.locator(`[data-testid="${testid}"]`).first();
  const actual = Number(await el.getAttribute('data-value'));
  const scale = Math.max(Math.abs(expected), 1e-12);
  assert.ok(Math.abs(actual - expected) / scale < RTOL, `${what}: ${actual} vs R ${expected}`);
  assert.equal((await el.textContent()).trim(), expected.toFixed(SHOWN), `${what} as shown`);
}

test('three-level model of Konstantopoulos (2011): σ² and robust SEs equal metafor and clubSandwich', async () => {
  await onPage(async (page) => {
    await page.locator('[data-testid="example-select"]').selectOption('konstantopoulos2011.csv');
    await page.locator('[data-testid="stat-k"][data-value="56"]').waitFor();
    // Before a cluster is named the Model pane says what the section is for.
    assert.match(await page.locator('[data-testid="dependence"]').textContent(), /cluster \(study\) column/);

    await page.locator('[data-testid="role-cluster"]').selectOption('district');
    await page.locator('[data-testid="role-effect-id"]').selectOption('study');
    // Robust inference is on by default once a cluster is set (CR2), the model still rma.uni:
    // the page warns that the districts' studies are treated as independent.
    await page.locator('[data-testid="robust-se-0"]').waitFor();
    assert.match(
      await page.locator('[data-testid="dependence-warnings"]').textContent(),
      /56 effects come from 11 values of district/,
    );

    await page.locator('[data-testid="dep-within"]').selectOption('multilevel');
    await page.locator('[data-testid="sigma2-table"]').waitFor();
    const r = fixture.result;
    for (const j of [0, 1]) {
      const name = r.sigma2_names[j];
      const row = page.locator(`[data-testid="sigma2-table"] tr[data-component="${name}"]`);
      await row.waitFor();
      await shows(page, `sigma2-${j}`, r.sigma2[j], `σ² ${name}`);
      await shows(page, `sigma-${j}`, Math.sqrt(r.sigma2[j]), `σ ${name}`);
      await shows(page, `sigma2-lower-${j}`, r.sigma2_ci[j][0], `σ² ${name} lower`);
      await shows(page, `sigma2-upper-${j}`, r.sigma2_ci[j][1], `σ² ${name} upper`);
      assert.equal(Number(await page.locator(`[data-testid="nlvls-${j}"]`).textContent()), r.sigma2_nlvls[j]);
    }
    // The key results follow the chosen model: the pooled effect, Σσ² and the multilevel I².
    const strip = page.locator('[data-testid="key-bar"]');
    await strip.locator('[data-testid="key-model"]').waitFor({ state: 'attached' });
    const key = async (id) => Number(await strip.locator(`[data-testid="${id}"]`).getAttribute('data-value'));
    const near = (a, b, what) => assert.ok(Math.abs(a - b) / Math.abs(b) < RTOL, `${what}: ${a} vs R ${b}`);
    near(await key('key-estimate'), r.beta[0], 'key pooled effect');
    near(await key('key-sigma2'), r.sigma2[0] + r.sigma2[1], 'key Σσ²');
    near(await key('key-i2'), r.i2.total, 'key I²');
    await shows(page, 'dep-estimate-0', r.beta[0], 'estimate');
    await shows(page, 'dep-se-0', r.se[0], 'model-based SE');
    const cr2 = fixture.robust.cr2;
    await shows(page, 'robust-se-0', cr2.se[0], 'CR2 SE');
    await shows(page, 'robust-df-0', cr2.df[0], 'CR2 df');
    await shows(page, 'robust-lower-0', cr2.ci_lower[0], 'CR2 CI lower');
    await shows(page, 'robust-upper-0', cr2.ci_upper[0], 'CR2 CI upper');
    // The multilevel model accounts for the dependence: no warning about independence.
    assert.doesNotMatch(await page.locator('[data-testid="dependence-warnings"]').textContent(), /independent/);
    await page.screenshot({ path: join(SHOTS, 'multilevel-konstantopoulos-cr2.png'), fullPage: true });

    // CR1, metafor's robust(adjust = TRUE): n − p = 10 df.
    await page.locator('[data-testid="dep-robust"]').selectOption('CR1');
    await page.locator('[data-testid="robust-df-0"][data-value="10"]').waitFor();
    const cr1 = fixture.robust.cr1;
    await shows(page, 'robust-se-0', cr1.se[0], 'CR1 SE');
    await shows(page, 'robust-lower-0', cr1.ci_lower[0], 'CR1 CI lower');

    // The forest plot grouped by district, each with its own summary.
    await page.locator('[data-testid="forest-subgroup"]').selectOption('district');
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(SHOTS, 'multilevel-forest-by-district.png'), fullPage: true });

    // The R export writes the rma.mv and robust calls.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-testid="export-r"]').click(),
    ]);
    const script = await readFile(await download.path(), 'utf8');
    assert.match(script, /rma\.mv\(res\$yi, res\$vi, mods = res\$X, intercept = FALSE, random = list\(~ 1 \| district\/study\)/);
    assert.match(script, /robust\(res\.mv, cluster = dat\.mv\[\["district"\]\], adjust = TRUE\)/);

    // Saved with the session: a reload shows the same model.
    await page.reload();
    await page.locator('[data-testid="sigma2-table"]').waitFor();
    await shows(page, 'sigma2-0', r.sigma2[0], 'σ² district after reload');
  });
});

// A multivariate model in the page: 40 simulated studies reporting two or three of outcomes
// A, B, C (tests/data/mvsim.csv), ~ outcome | study with CS, moderators outcome - 1, against
// metafor 3.8.1 rma.mv and the profile-likelihood intervals of τ² and ρ
// (tests/fixtures/multilevel/mvsim_cs.json, written by tests/r/make_multilevel_fixtures.R).
test('multivariate CS model of simulated outcomes: τ², ρ and their profile intervals equal metafor', async () => {
  const mv = JSON.parse(await readFile(join(ROOT, 'tests/fixtures/multilevel/mvsim_cs.json'), 'utf8'));
  await onPage(async (page) => {
    await paste(page, 'tests/data/mvsim.csv', 102);
    await page.locator('[data-testid="model-formula"]').fill('outcome - 1');
    await page.locator('[data-testid="model-formula"]').press('Enter');
    await page.locator('[data-testid="role-cluster"]').selectOption('study');
    await page.locator('[data-testid="dep-within"]').selectOption('multivariate');
    // Without an outcome column the page says what is missing.
    await page.getByText(/needs the column that names each effect's outcome/).first().waitFor();
    await page.locator('[data-testid="dep-outcome"]').selectOption('outcome');
    await page.locator('[data-testid="dep-structure"]').selectOption('CS');
    await page.locator('[data-testid="struct-table"]').waitFor();
    const r = mv.result;
    await shows(page, 'struct-tau2-0', r.tau2[0], 'τ²');
    await shows(page, 'struct-rho-0', r.rho[0], 'ρ');
    await shows(page, 'struct-tau2-0-lower', mv.struct_ci.tau2[0][0], 'τ² lower');
    await shows(page, 'struct-tau2-0-upper', mv.struct_ci.tau2[0][1], 'τ² upper');
    await shows(page, 'struct-rho-0-lower', mv.struct_ci.rho[0][0], 'ρ lower');
    await shows(page, 'struct-rho-0-upper', mv.struct_ci.rho[0][1], 'ρ upper');
    for (const j of [0, 1, 2]) {
      await shows(page, `dep-estimate-${j}`, r.beta[j], `estimate ${r.names[j]}`);
      await shows(page, `dep-se-${j}`, r.se[j], `SE ${r.names[j]}`);
    }
    assert.match(await page.locator('[data-testid="struct-table"] caption').textContent(), /~ outcome \| study, CS/);
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.locator('[data-testid="struct-table"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'multivariate-cs.png') });
  });
});

// The bubble plot of a multilevel meta-regression draws that model's line and bands, the
// studies sized by its weights: rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/study)
// (tests/fixtures/multilevel/konstantopoulos_year_t.json; its line is checked against
// metafor's predict() in src/app/dependence/tests.rs, through the same record).
test('the bubble and profile plots of a multilevel meta-regression draw the rma.mv fit', async () => {
  await onPage(async (page) => {
    await page.locator('[data-testid="example-select"]').selectOption('konstantopoulos2011.csv');
    await page.locator('[data-testid="stat-k"][data-value="56"]').waitFor();
    await page.locator('[data-testid="model-formula"]').fill('year');
    await page.locator('[data-testid="model-formula"]').press('Enter');
    await page.locator('[data-testid="tab-bubble"]').click();
    const plot = page.locator('[data-testid="plot"][aria-label*="No other moderators"]');
    await plot.waitFor();
    // Independent effects: the rma.uni line, no model named.
    assert.doesNotMatch(await plot.getAttribute('aria-label'), /Multilevel/);
    await page.locator('[data-testid="role-cluster"]').selectOption('district');
    await page.locator('[data-testid="role-effect-id"]').selectOption('study');
    await page.locator('[data-testid="dep-within"]').selectOption('multilevel');
    await page.locator('[data-testid="sigma2-table"]').waitFor();
    await page.locator('[data-testid="plot"][aria-label*="Multilevel model (rma.mv)"]').waitFor();
    // The plot and its list of studies are drawn in the next frame.
    await page.locator('[data-testid="plot-studies"] li').nth(55).waitFor({ state: 'attached' });
    assert.equal(await page.locator('[data-testid="plot-studies"] li').count(), 56);
    await page.locator('[data-testid="plot"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'multilevel-bubble.png') });
    // The profile plot draws each σ² (metafor's profile() of the rma.mv fit) with its
    // profile-likelihood interval, equal to metafor's confint() (the fixture of the model
    // with year; t or z tests leave the σ² and their intervals unchanged).
    const year = JSON.parse(
      await readFile(join(ROOT, 'tests/fixtures/multilevel/konstantopoulos_year_t.json'), 'utf8'),
    );
    await page.locator('[data-testid="tab-profile"]').click();
    for (const j of [0, 1]) {
      await page.locator('[data-testid="profile-component"]').selectOption(String(j));
      const name = year.result.sigma2_names[j];
      await page.locator('[data-testid="profile-max"]', { hasText: `of ${name} =` }).waitFor();
      const value = async (sel) =>
        Number(await page.locator(`[data-testid="${sel}"] .num`).nth(0).getAttribute('data-value'));
      const pl = page.locator('[data-testid="profile-pl"] .num');
      const bounds = [Number(await pl.nth(0).getAttribute('data-value')), Number(await pl.nth(1).getAttribute('data-value'))];
      const close = (a, b, what) => assert.ok(Math.abs(a - b) / Math.max(Math.abs(b), 1e-12) < RTOL, `${what}: ${a} vs R ${b}`);
      close(await value('profile-max'), year.result.sigma2[j], `σ² ${name}`);
      close(bounds[0], year.result.sigma2_ci[j][0], `σ² ${name} lower`);
      close(bounds[1], year.result.sigma2_ci[j][1], `σ² ${name} upper`);
    }
    await page.locator('[data-testid="plot"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'multilevel-profile.png') });
    // Back to independent effects: the rma.uni line again.
    await page.locator('[data-testid="tab-bubble"]').click();
    await page.locator('[data-testid="dep-within"]').selectOption('independent');
    await page.waitForFunction(
      () => !/Multilevel/.test(document.querySelector('[data-testid="plot"]')?.getAttribute('aria-label') ?? 'Multilevel'),
    );
  });
});

// Cluster-mean centring typed in the formula: between(decade, district) and
// within(decade, district) in the three-level model, against metafor's rma.mv on the ave()
// columns (tests/fixtures/multilevel/konstantopoulos_centring.json).
test('between() and within() in the formula give metafor’s between- and within-district slopes', async () => {
  const cen = JSON.parse(
    await readFile(join(ROOT, 'tests/fixtures/multilevel/konstantopoulos_centring.json'), 'utf8'),
  );
  await onPage(async (page) => {
    await paste(page, 'tests/data/konstantopoulos_decade.csv', 56);
    await page.locator('[data-testid="model-formula"]').fill('between(decade, district) + within(decade, district)');
    await page.locator('[data-testid="model-formula"]').press('Enter');
    await page.locator('[data-testid="role-cluster"]').selectOption('district');
    await page.locator('[data-testid="role-effect-id"]').selectOption('study');
    await page.locator('[data-testid="dep-within"]').selectOption('multilevel');
    await page.locator('[data-testid="sigma2-table"]').waitFor();
    const r = cen.result;
    for (const j of [0, 1, 2]) {
      await shows(page, `dep-estimate-${j}`, r.beta[j], `estimate ${r.names[j]}`);
      await shows(page, `dep-se-${j}`, r.se[j], `SE ${r.names[j]}`);
    }
    assert.match(await page.locator('[data-testid="coef-table"]').textContent(), /within\(decade, district\)/);
  });
});
