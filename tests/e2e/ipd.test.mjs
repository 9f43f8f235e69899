// End-to-end test of the "Participant data (IPD)" view (issue 15 §1): opened from the
// toolbar, the committed IPD fixtures uploaded as a user would (tests/fixtures/ipd/*.csv) give
// the within-study and across-study estimates and their difference of R (glm per study and
// metafor's rma, tests/r/make_ipd_fixtures.R) to 1e-6, read from the cells' data-value; the
// family is guessed from the outcome (logistic for the 0/1 one). A study with complete
// separation is left out with the engine's sentence naming it while the others are analysed.
// The subgroup-effects table gives R's estimates too, and "Analyse as a meta-analysis" loads
// the studies' effects into the workspace, whose meta-regression slope on covariate_mean is
// R's across-study slope; the R script (glm per study, rma) downloads. Screenshots
// (1400 × 900) in MERIDIAN_SHOTS or target/e2e.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { serveDir } from './server.mjs';
import { freshContext } from './browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = process.env.MERIDIAN_SHOTS ?? join(ROOT, 'target', 'e2e');
const FIXTURES = join(ROOT, 'tests', 'fixtures', 'ipd');
const byId = (id) => `[data-testid="${id}"]`;
const fixture = async (name) => JSON.parse(await readFile(join(FIXTURES, name), 'utf8'));

let server;
before(async () => {
  server = await serveDir(process.env.MERIDIAN_DIST ?? join(ROOT, 'dist'));
  await mkdir(SHOTS, { recursive: true });
});
after(async () => server?.close());

function close(got, want, what) {
  // τ² at the boundary: metafor's REML stops near 1e-14 where the engine reaches 0.
  const tol = Math.abs(want) < 1e-6 ? 1e-9 : 1e-6 * Math.abs(want);
  assert.ok(Math.abs(got - want) <= tol, `${what}: page ${got}, R ${want}`);
}

/** The full-precision values of a row of the estimates table, in column order. */
async function values(page, row) {
  const cells = page.locator(`${byId(row)} [data-value]`);
  return (await cells.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value')))));
}

/** Waits until the within row's estimate is `want` (a newer answer replaces an older one). */
async function waitForWithin(page, want) {
  await page.waitForFunction(
    (want) => {
      const el = document.querySelector('[data-testid="ipd-within"] [data-value]');
      return el && Math.abs(Number(el.getAttribute('data-value')) - want) <= 1e-6 * Math.abs(want);
    },
    want,
  );
}

/** Every number of the within, across and difference rows against the fixture's. */
async function sameAsR(page, want, what) {
  await waitForWithin(page, want.within.estimate);
  for (const part of ['within', 'across']) {
    const [estimate, se, lo, hi, p, tau2] = await values(page, `ipd-${part}`);
    const w = want[part];
    close(estimate, w.estimate, `${what} ${part} estimate`);
    close(se, w.se, `${what} ${part} se`);
    close(lo, w.ci_lower, `${what} ${part} ci_lower`);
    close(hi, w.ci_upper, `${what} ${part} ci_upper`);
    close(p, w.p_value, `${what} ${part} p`);
    close(tau2, w.tau2, `${what} ${part} tau2`);
  }
  const [d, dse, dp] = await values(page, 'ipd-difference');
  close(d, want.difference.estimate, `${what} difference`);
  close(dse, want.difference.se, `${what} difference se`);
  close(dp, want.difference.p_value, `${what} difference p`);
}

/** A table of participants: three ordinary studies and "Sep", completely separated. */
function separatedCsv() {
  let text = 'study,treat,y,x\n';
  // Shifted covariates: the studies' means differ, as the across-study slope needs.
  ['A', 'B', 'C'].forEach((s, k) => {
    for (let i = 0; i < 40; i += 1) {
      text += `${s},${i % 2},${(i * 13) % 7 < 3 ? 1 : 0},${(i % 11) + 2 * k}\n`;
    }
  });
  for (let i = 0; i < 30; i += 1) text += `Sep,${i % 2},${i % 2},${i}\n`;
  return text;
}

test('participant data: R\'s within and across estimates, a separated study left out, subgroups, and the one-click meta-analysis', async () => {
  const context = await freshContext({ viewport: { width: 1400, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  try {
    await page.goto(server.url);
    await page.locator(byId('coef-table')).waitFor();
    await page.locator(byId('open-ipd')).click();
    await page.locator(byId('ipd-empty')).waitFor();
    await page.screenshot({ path: join(SHOTS, 'ipd-empty.png') });

    const continuous = await fixture('continuous.json');
    await page.locator(byId('ipd-upload')).setInputFiles(join(FIXTURES, 'continuous.csv'));
    await sameAsR(page, continuous, 'continuous');
    assert.match(await page.locator(byId('ipd-family-used')).textContent(), /Linear regression/);
    assert.match(await page.locator(byId('ipd-reading')).textContent(), /the two differ/);
    assert.equal(await page.locator(`${byId('ipd-studies')} tbody tr`).count(), continuous.studies.length);
    await page.screenshot({ path: join(SHOTS, 'ipd-continuous.png') });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator(byId('ipd-r-script')).click(),
    ]);
    const script = await readFile(await download.path(), 'utf8');
    assert.match(script, /glm\(y ~ treat \* x, family = gaussian/);
    assert.match(script, /rma\(ai, sei = ase, mods = ~ covariate_mean/);
    await page.locator(byId('ipd')).screenshot({ path: join(SHOTS, 'ipd-continuous-full.png') });

    const binary = await fixture('binary.json');
    await page.locator(byId('ipd-upload')).setInputFiles(join(FIXTURES, 'binary.csv'));
    await sameAsR(page, binary, 'binary');
    assert.match(await page.locator(byId('ipd-family-used')).textContent(), /Logistic regression/);

    await page.locator(byId('ipd-text')).fill(separatedCsv());
    await page.locator(byId('ipd-text')).blur();
    const leftOut = page.locator(byId('ipd-left-out'));
    await leftOut.waitFor();
    const sentence = await leftOut.textContent();
    assert.match(sentence, /study "Sep"/);
    assert.match(sentence, /separation/);
    assert.equal(await page.locator(`${byId('ipd-studies')} tbody tr`).count(), 3);
    await page.locator(byId('ipd')).screenshot({ path: join(SHOTS, 'ipd-left-out.png') });

    // Two studies left: no analysis, and the sentence says why.
    await page.locator(byId('ipd-text')).fill(separatedCsv().split('\n').filter((l) => !l.startsWith('C,')).join('\n'));
    await page.locator(byId('ipd-text')).blur();
    await page.locator(byId('ipd-error')).waitFor();
    assert.match(await page.locator(byId('ipd-error')).textContent(), /study "Sep"/);

    await page.locator(byId('ipd-input')).selectOption('subgroups');
    await page.locator(byId('ipd-upload')).setInputFiles(join(FIXTURES, 'subgroups.csv'));
    await sameAsR(page, await fixture('subgroups.json'), 'subgroups');
    await page.locator(byId('ipd')).screenshot({ path: join(SHOTS, 'ipd-subgroups.png') });

    await page.locator(byId('ipd-input')).selectOption('participants');
    await page.locator(byId('ipd-upload')).setInputFiles(join(FIXTURES, 'continuous.csv'));
    await waitForWithin(page, continuous.within.estimate);
    await page.locator(byId('ipd-analyse')).click();
    await page.locator(byId('ipd')).waitFor({ state: 'detached' });
    const slope = page.locator(`${byId('coef-table')} tr[data-term="covariate_mean"] [data-value]`).first();
    await slope.waitFor();
    close(Number(await slope.getAttribute('data-value')), continuous.across.estimate, 'workspace slope');
    await page.screenshot({ path: join(SHOTS, 'ipd-as-meta-analysis.png') });
    const ms = await page.evaluate(() =>
      performance.getEntriesByName('meridian:engine:ipd').map((e) => e.duration));
    console.log(`meridian:engine:ipd durations (ms, in the worker): ${ms.map((d) => d.toFixed(1)).join(', ')}`);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the lab\'s participants open in the IPD view, and its example, with the lab\'s within-trial estimates', async () => {
  const context = await freshContext({ viewport: { width: 1400, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  try {
    await page.goto(server.url);
    await page.locator(byId('coef-table')).waitFor();
    // "Try simulated trials": the lab's aggregation-bias preset, as its lab view shows it.
    await page.locator(byId('open-ipd')).click();
    await page.locator(byId('ipd-example')).click();
    await page.locator(byId('ipd-within')).waitFor();
    const example = Number(await page.locator(`${byId('ipd-within')} [data-value]`).first().getAttribute('data-value'));
    await page.locator(byId('ipd')).screenshot({ path: join(SHOTS, 'ipd-example.png') });
    await page.locator(byId('open-lab')).click();
    await page.locator(byId('lab-preset-aggregation-bias')).click();
    // The lab simulates in the engine's worker: read it once its result is the preset's.
    await page.locator(`${byId('lab-results')}:not(.stale) ${byId('lab-reading')}`)
      .filter({ hasText: /aggregation bias/ }).waitFor();
    const labAggregation = await page.locator(`${byId('lab-within')} td`).allTextContents();
    assert.equal(example.toFixed(3), labAggregation[1]);

    await page.locator(byId('lab-preset-non-collapsibility')).click();
    await page.locator(`${byId('lab-results')}:not(.stale) ${byId('lab-reading')}`)
      .filter({ hasText: /non-collapsibility/ }).waitFor();
    const within = await page.locator(`${byId('lab-within')} td`).allTextContents();
    await page.locator(byId('lab-open-ipd')).click();
    await page.locator(byId('ipd-within')).waitFor();
    const estimate = Number(await page.locator(`${byId('ipd-within')} [data-value]`).first().getAttribute('data-value'));
    // The lab shows 3 decimals; tests/lab.rs checks the two agree to 1e-8.
    assert.equal(estimate.toFixed(3), within[1]);
    assert.match(await page.locator(byId('ipd-family-used')).textContent(), /Logistic regression/);
    // The lab's preset leaves 3 trials out of the within-trial analysis (T1, T9, T17).
    assert.equal(await page.locator(byId('ipd-left-out')).count(), 3);
    await page.locator(byId('ipd')).screenshot({ path: join(SHOTS, 'ipd-from-lab.png') });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
