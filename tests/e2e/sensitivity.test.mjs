// End-to-end test of the Sensitivity pane (issue 12): BCG with latitude (REML, z), open the
// pane, find the most influential trial (largest Cook's distance), leave it out, and see R²
// change to metafor's value for the model without that trial, and the whole page (Results, the
// forest plot, a banner) shows the model without it; under FE, metafor's influential trials are
// marked with the reason in words and sort first; the leave-one-out and
// cumulative forest plots draw a row per refit at metafor's values, and their tables download;
// the Q–Q and radial plots draw a dot per trial.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { serveDir } from './server.mjs';
import { downloaded, freshContext, openCleared } from './browser.mjs';
import { paste, studies } from './tables.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Refits without a study are iterative (REML): five significant digits, as the fixtures. */
const RTOL = 1e-5;

const SHOTS = join(ROOT, 'target', 'e2e');

let server;
let bcgCsv;
let metafor;
let metaforNoMods;
before(async () => {
  await mkdir(SHOTS, { recursive: true });
  server = await serveDir(process.env.MERIDIAN_DIST ?? join(ROOT, 'dist'));
  bcgCsv = await readFile(join(ROOT, 'assets/examples/bcg.csv'), 'utf8');
  // metafor 3.8.1: influence() and rma(..., subset = -i) of rma(yi, vi, mods = ~ ablat) on the
  // log risk ratios (tests/r/make_sensitivity_fixtures.R).
  metafor = JSON.parse(
    await readFile(join(ROOT, 'tests/fixtures/sensitivity/bcg_ablat_reml_z.json'), 'utf8'),
  );
  // The same without moderators: leave1out() and cumul(res, order = year).
  metaforNoMods = JSON.parse(
    await readFile(join(ROOT, 'tests/fixtures/sensitivity/bcg_reml_z.json'), 'utf8'),
  );
});
after(async () => server?.close());

/** Loads the BCG trials as log risk ratios, with latitude as moderator if `ablat`. */
async function loadBcg(page, ablat) {
  await page.goto(server.url);
  await page.locator('[data-testid="coef-table"]').waitFor();
  await page.locator('[data-testid="example-select"]').selectOption('');
  await page.locator('[data-testid="data-input"]').fill(bcgCsv);
  await page.locator('[data-testid="measure-select"]').selectOption('RR');
  await page.locator('[data-testid="role-ai"]').selectOption('tpos');
  await page.locator('[data-testid="role-bi"]').selectOption('tneg');
  await page.locator('[data-testid="role-ci"]').selectOption('cpos');
  await page.locator('[data-testid="role-di"]').selectOption('cneg');
  if (ablat) {
    await page.locator('[data-testid="mod-ablat"]').check();
    await page.locator('[data-testid="coef-table"] [data-term="ablat"]').waitFor();
  }
}

/** The studies of a plot's hidden list, top to bottom as drawn. */
async function drawnRows(page, name) {
  const items = page.locator(`[data-testid="${name}-studies"] li`);
  const rows = await items.evaluateAll((els) =>
    els.map((el) => ({ study: Number(el.dataset.study), y: Number(el.dataset.y), text: el.textContent })),
  );
  return rows.sort((a, b) => a.y - b.y);
}

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

    // The toggle is the page's: the whole analysis leaves the trial out. The banner names it
    // with the change; Results show metafor's refit; the forest plot draws one trial fewer.
    const label = await rows.first().locator('th').textContent();
    const banner = page.locator('[data-testid="without-banner"]');
    await banner.waitFor();
    assert.match(await banner.textContent(), new RegExp(`^Without ${label}: ablat from .+ R² from .+ to .+\\.`));
    await page.waitForFunction(
      () => document.querySelector('[data-testid="stat-k"]')?.dataset.value === '12',
    );
    close(
      Number(await page.locator('[data-testid="stat-r2"]').getAttribute('data-value')),
      metafor.leave1out[most].r2,
      'R² in Results',
    );
    close(
      Number(await page.locator('[data-testid="stat-tau2"]').getAttribute('data-value')),
      metafor.leave1out[most].tau2,
      'τ² in Results',
    );
    const forest = page.locator('[data-testid="plot-studies"] li');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="plot-studies"] li').length === 12,
    );
    const drawn = await forest.allTextContents();
    assert.ok(!drawn.some((t) => t.startsWith(label)), `${label} is not in the forest plot`);
    // The data stay as they are, and the Sensitivity pane's refits keep every trial.
    assert.equal(await page.locator('[data-testid="data-table"] tbody tr').count(), 13);
    assert.equal(await rows.count(), 13);
    await page.screenshot({ path: join(SHOTS, 'sensitivity-without.png'), fullPage: true });

    // A refit (another estimator) keeps the study out; Restore brings it back everywhere.
    const remlTau2 = await page.locator('[data-testid="stat-tau2"]').getAttribute('data-value');
    await page.locator('[data-testid="model-method"]').selectOption('DL');
    await page.waitForFunction((reml) => {
      const tau2 = document.querySelector('[data-testid="stat-tau2"]')?.dataset.value;
      return tau2 !== undefined && tau2 !== reml;
    }, remlTau2);
    assert.equal(await page.locator('[data-testid="stat-k"]').getAttribute('data-value'), '12');
    await banner.waitFor();
    await page.locator('[data-testid="without-restore"]').click();
    await banner.waitFor({ state: 'detached' });
    await page.waitForFunction(
      () => document.querySelector('[data-testid="stat-k"]')?.dataset.value === '13'
        && document.querySelectorAll('[data-testid="plot-studies"] li').length === 13,
    );
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the influence table marks metafor\'s influential trials, says why in words, and sorts them first', async () => {
  // metafor 3.8.1: influence(rma(yi, vi, mods = ~ ablat, method = "FE")) flags three trials.
  const fe = JSON.parse(
    await readFile(join(ROOT, 'tests/fixtures/sensitivity/bcg_ablat_fe_z.json'), 'utf8'),
  );
  const flagged = fe.influence.flatMap((s, i) => (s.influential ? [i] : []));
  assert.equal(flagged.length, 3);
  // metafor's rule, applied to its own numbers (k = 13 trials, p = 2 coefficients); the χ²₂
  // distribution function is 1 − e^(−x/2).
  const [k, p] = [13, 2];
  const why = (s) => ({
    'DFFITS': Math.abs(s.dffits) > 3 * Math.sqrt(p / (k - p)),
    'Cook\'s distance': 1 - Math.exp(-s.cook_d / 2) > 0.5,
    'hat value': s.hat > (3 * p) / k,
    'DFBETAS': s.dfbetas.some((b) => Math.abs(b) > 1),
  });
  const context = await freshContext();
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  try {
    await loadBcg(page, true);
    await page.locator('[data-testid="model-method"]').selectOption('FE');
    await page.locator('[data-testid="sensitivity-open"]').click();
    const rows = page.locator('[data-testid="influence-row"]');
    await rows.nth(12).waitFor();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="influence-row"].row--influential').length > 0,
    );
    await page.locator('[data-testid="sort-influential"]').click();
    for (let j = 0; j < 13; j++) {
      const row = rows.nth(j);
      const study = Number(await row.getAttribute('data-study'));
      const marked = /row--influential/.test(await row.getAttribute('class'));
      const reason = (await row.locator('[data-testid="influence-reason"]').textContent()).trim();
      // Influential trials first, in input order; then the rest, unmarked and without reason.
      assert.equal(study, j < 3 ? flagged[j] : study);
      assert.equal(marked, j < 3, `row ${j} (trial ${study})`);
      if (j >= 3) {
        assert.ok(!flagged.includes(study));
        assert.equal(reason, '');
        continue;
      }
      assert.match(reason, /^★ Influential: it .+\.$/);
      for (const [words, met] of Object.entries(why(fe.influence[study]))) {
        assert.equal(reason.includes(words), met, `trial ${study}: "${words}" in "${reason}"`);
      }
    }
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('refit forest plots draw metafor\'s refits and download as CSV; Q–Q and radial plots', async () => {
  const context = await freshContext({ acceptDownloads: true });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  try {
    await loadBcg(page, false);
    await page.locator('[data-testid="sensitivity-open"]').click();
    await page.locator('[data-testid="influence-row"]').nth(12).waitFor();

    // Leave-one-out: a row per trial in input order, each the pooled effect without it.
    await page.locator('[data-testid="leave1out-studies"] li').nth(12).waitFor({ state: 'attached' });
    const left = await drawnRows(page, 'leave1out');
    assert.deepEqual(left.map((r) => r.study), [...Array(13).keys()]);
    const csv = await downloaded(page, 'leave1out-csv');
    assert.equal(csv.name, 'meridian-leave1out.csv');
    const lines = csv.text.trim().split('\n');
    assert.equal(lines[0], 'slab,estimate,se,zval,pval,ci.lb,ci.ub,Q,Qp,tau2,I2,H2');
    assert.equal(lines.length, 14);
    lines.slice(1).forEach((line, i) => {
      const cells = line.split(',');
      close(Number(cells[cells.length - 11]), metaforNoMods.leave1out[i].estimate, `estimate without ${i}`);
      close(Number(cells[cells.length - 3]), metaforNoMods.leave1out[i].tau2, `τ² without ${i}`);
    });

    // Cumulative by year: the rows top to bottom are metafor's steps.
    await page.locator('[data-testid="cumul-order"]').selectOption('year');
    const years = metaforNoMods.year;
    const byYear = [...Array(13).keys()].sort((a, b) => years[a] - years[b] || a - b);
    // The rows are redrawn once the new order's analysis arrives.
    let steps = [];
    for (let tries = 0; tries < 100; tries++) {
      steps = await drawnRows(page, 'cumul');
      if (steps.map((r) => r.study).join() === byYear.join()) break;
      await page.waitForTimeout(100);
    }
    assert.deepEqual(steps.map((r) => r.study), byYear);
    const cumulCsv = await downloaded(page, 'cumul-csv');
    const rows = cumulCsv.text.trim().split('\n').slice(1);
    rows.forEach((line, j) => {
      const cells = line.split(',');
      const k = Number(cells[cells.length - 12]);
      assert.equal(k, j + 1);
      close(Number(cells[cells.length - 11]), metaforNoMods.cumul[j].estimate, `step ${j + 1}`);
    });

    // Clicking a study's row in the cumulative plot highlights it in the influence table.
    const target = steps[3];
    const box = await page.locator('[data-testid="cumul"]').boundingBox();
    await page.mouse.move(box.x + 40, box.y + target.y);
    await page.mouse.click(box.x + 40, box.y + target.y);
    await page.locator(`[data-testid="influence-row"][data-study="${target.study}"].row--highlight`).waitFor();

    await page.locator('[data-testid="leave1out"]').scrollIntoViewIfNeeded();
    await page.locator('[data-testid="leave1out"]').screenshot({ path: join(SHOTS, 'leave1out.png') });
    await page.locator('[data-testid="cumul"]').screenshot({ path: join(SHOTS, 'cumul.png') });

    // The Q–Q and radial plots: a dot per trial, the highlighted one among them.
    for (const name of ['qq', 'radial']) {
      const drawn = await drawnRows(page, name);
      assert.equal(drawn.length, 13, name);
      await page.locator(`[data-testid="${name}"]`).scrollIntoViewIfNeeded();
      await page.locator(`[data-testid="${name}"]`).screenshot({ path: join(SHOTS, `${name}.png`) });
    }

    // With latitude the leave-one-out plot draws its coefficient, and cumul says why it cannot.
    await page.locator('[data-testid="mod-ablat"]').check();
    await page.locator('[data-testid="leave1out-coefficient"]').waitFor();
    await page.locator('[data-testid="cumul-error"]').waitFor();
    await page.locator('[data-testid="radial-none"]').waitFor();
    const csvMods = await downloaded(page, 'leave1out-csv');
    const header = csvMods.text.split('\n')[0].split(',');
    const first = csvMods.text.split('\n')[1].split(',');
    const at = header.indexOf('ablat');
    assert.ok(at > 0, header.join(','));
    close(Number(first[first.length - header.length + at]), metafor.leave1out[0].coefficients[1].estimate, 'ablat without the first trial');
    close(Number(first[first.length - 1]), metafor.leave1out[0].r2, 'R² without the first trial');
    await page.screenshot({ path: join(SHOTS, 'sensitivity-refits.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('at k = 3,000 the refits show their progress, Cancel closes the pane, and a finished pane keeps 80 rows in the document', async () => {
  const { context, page, errors } = await openCleared(server.url);
  try {
    await paste(page, studies(3000));
    await page.locator('[data-testid="stat-k"][data-value="3000"]').waitFor();
    const formula = page.locator('[data-testid="model-formula"]');
    await formula.fill('x + z');
    await formula.press('Enter');
    const slope = page.locator('[data-testid="coef-table"] tr[data-term="x"] [data-value]').first();
    await slope.waitFor();
    const before = await slope.getAttribute('data-value');

    await page.locator('[data-testid="sensitivity-open"]').click();
    const remaining = page.locator('[data-testid="sensitivity-remaining"]');
    await remaining.waitFor();
    assert.match(await remaining.textContent(), /Refitting without each study: \d+ of 3000/);
    await page.locator('[data-testid="sensitivity-cancel"]').click();
    await page.locator('[data-testid="sensitivity-open"]').waitFor();
    assert.equal(await page.locator('[data-testid="sensitivity-progress"]').count(), 0);
    // The rest of the page keeps its result.
    assert.equal(await slope.getAttribute('data-value'), before);

    // Every attribute change of a cell in the influence table's rows: a second rendering of
    // the rows (as when the row height, measured a frame after they are built, was read by
    // the closure that renders them) removes and sets each cell's attributes again.
    await page.evaluate(() => {
      window.cellChanges = 0;
      new MutationObserver((records) => {
        for (const r of records) {
          if (r.target.matches('td, th') && r.target.closest('[data-testid="influence-row"]')) {
            window.cellChanges += 1;
          }
        }
      }).observe(document.body, { attributes: true, subtree: true });
    });
    await page.locator('[data-testid="sensitivity-open"]').click();
    await page.locator('[data-testid="influence-row"]').first().waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('[data-testid="sensitivity-progress"]').count(), 0);
    assert.equal(await page.locator('[data-testid="influence-row"]').count(), 80);
    // The plots come one group a frame after the table; the GOSH panel is the last.
    await page.locator('[data-testid="gosh"]').waitFor();
    assert.equal(await page.evaluate(() => window.cellChanges), 0);
    // The spacer below the window stands for the other 2,920 rows at their measured height.
    const rowPx = await page.locator('[data-testid="influence-row"]').first()
      .evaluate((tr) => tr.getBoundingClientRect().height);
    const spacerPx = await page.locator('[data-testid="influence-table"] tr.row-spacer td').last()
      .evaluate((td) => td.getBoundingClientRect().height);
    assert.ok(Math.abs(spacerPx - 2920 * rowPx) < 2, `spacer ${spacerPx} px, rows ${rowPx} px`);
    // Each plot's hidden list names the first 500 studies and counts the rest.
    const listed = page.locator('[data-testid="baujat-studies"] li');
    assert.equal(await listed.count(), 501);
    assert.match(await listed.last().textContent(), /and 2500 more studies/);

    // The pointer on a study redraws every linked plot with it marked; the hidden lists
    // follow where the studies are drawn, which a highlight leaves as it was, so they are not
    // built again (they were, 500 items a plot, with every move of the pointer).
    const baujat = page.locator('[data-testid="baujat-studies"]');
    await baujat.evaluate((el) => el.previousElementSibling.scrollIntoView({ behavior: 'instant' }));
    const canvas = await baujat.evaluate((el) => {
      const r = el.previousElementSibling.querySelector('canvas').getBoundingClientRect();
      return { x: r.x, y: r.y };
    });
    // The rightmost and the topmost dot, clear of the crowd near the origin.
    const [right, top] = await baujat.evaluate((ul) => {
      const items = [...ul.querySelectorAll('li[data-x]')];
      const most = (key, sign) => items.reduce((a, b) => (sign * b.dataset[key] > sign * a.dataset[key] ? b : a));
      return [most('x', 1), most('y', -1)].map((li) => [Number(li.dataset.x), Number(li.dataset.y), li.textContent.split(',')[0]]);
    });
    assert.notEqual(right[2], top[2]);
    const tip = page.locator('[data-testid="plot-tooltip"] strong');
    const point = async ([x, y, label]) => {
      await page.mouse.move(canvas.x + x, canvas.y + y);
      await tip.filter({ hasText: new RegExp(`^${label}$`) }).waitFor();
      await page.waitForTimeout(300);
    };
    await point(right);
    await page.evaluate(() => {
      window.listChanges = 0;
      for (const list of document.querySelectorAll('ul.visually-hidden')) {
        new MutationObserver((records) => { window.listChanges += records.length; })
          .observe(list, { attributes: true, childList: true, subtree: true, characterData: true });
      }
    });
    await point(top);
    assert.equal(await page.evaluate(() => window.listChanges), 0);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
