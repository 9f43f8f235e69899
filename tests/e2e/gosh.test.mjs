// End-to-end test of the GOSH and L'Abbé plots of the Sensitivity pane (issue 12). On the BCG
// trials (log risk ratios from the 2×2 tables, REML): the L'Abbé plot draws a point per trial;
// GOSH runs in the engine's worker, counts up to all 2¹³ − 1 = 8,191 subsets, and its summary
// (estimate and I² min–max) equals `meridian gosh`'s; marking a trial redraws, and the marked
// trial is the page's highlighted one, or the one the pointer rests on in a plot or the
// influence table (linked selection). On 30 studies
// with 10⁵ random subsets, Cancel stops the worker's job mid-run and the plot keeps what it
// drew. Screenshots in target/e2e/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { serveDir } from './server.mjs';
import { downloaded, freshContext, openCleared } from './browser.mjs';
import { studies, paste } from './tables.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'target', 'e2e');
/** The same engine compiled to Wasm and natively: round-off only. */
const RTOL = 1e-9;

let server;
before(async () => {
  await mkdir(SHOTS, { recursive: true });
  server = await serveDir(process.env.MERIDIAN_DIST ?? join(ROOT, 'dist'));
});
after(async () => server?.close());

/** `meridian gosh` on the bundled BCG example, as the page analyses it on a first visit. */
function cliGosh() {
  const bin = process.env.MERIDIAN_BIN ?? join(ROOT, 'target', 'debug', 'meridian');
  const out = execFileSync(bin, [
    'gosh', join(ROOT, 'assets/examples/bcg.csv'),
    '--measure', 'RR', '--ai', 'tpos', '--bi', 'tneg', '--ci', 'cpos', '--di', 'cneg',
    '--subsets', '100000', '--seed', '1', '--json',
  ]);
  return JSON.parse(out.toString());
}

/** How many pixels of the canvas are not white: what has been drawn. */
async function inked(page) {
  return page.locator('[data-testid="gosh-canvas"]').evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250) n++;
    return n;
  });
}

function close(actual, expected, what) {
  const scale = Math.max(Math.abs(expected), 1e-12);
  assert.ok(Math.abs(actual - expected) / scale < RTOL, `${what}: ${actual} vs the CLI's ${expected}`);
}

test('GOSH on BCG fits all 8,191 subsets in the worker and agrees with the CLI; L\'Abbé plot', async () => {
  const context = await freshContext({ acceptDownloads: true });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  try {
    await page.goto(server.url);
    await page.locator('[data-testid="coef-table"]').waitFor();
    await page.locator('[data-testid="sensitivity-open"]').click();
    await page.locator('[data-testid="influence-row"]').nth(12).waitFor();

    // The L'Abbé plot of the 2×2 tables: a point per trial.
    await page.locator('[data-testid="labbe-studies"] li').nth(12).waitFor({ state: 'attached' });
    assert.equal(await page.locator('[data-testid="labbe-studies"] li').count(), 13);
    await page.locator('[data-testid="labbe"]').scrollIntoViewIfNeeded();
    await page.locator('[data-testid="labbe"]').screenshot({ path: join(SHOTS, 'labbe.png') });

    const blank = await inked(page);
    await page.locator('[data-testid="gosh-run"]').click();
    const progress = page.locator('[data-testid="gosh-progress"]');
    await page.locator('[data-testid="gosh-progress"][data-state="done"]').waitFor({ timeout: 60000 });
    assert.equal(await progress.textContent(), '8,191 subsets (all of them)');
    const cli = cliGosh();
    assert.equal(cli.subsets, 8191);
    for (const key of ['estimate', 'i2']) {
      for (const which of ['min', 'max']) {
        const cell = page.locator(`[data-testid="gosh-${key}-${which}"]`);
        close(Number(await cell.getAttribute('data-value')), cli.summary[key][which], `${key} ${which}`);
      }
    }
    // The subsets and the summary download as CSV: a row per subset with a 0/1 column per
    // trial, and the CLI's summary.
    const subsets = await downloaded(page, 'gosh-subsets-csv');
    assert.equal(subsets.name, 'meridian-gosh-subsets.csv');
    const lines = subsets.text.trim().split('\n');
    assert.equal(lines.length, 8192);
    assert.equal(lines[0].split(',').length, 2 + 13);
    assert.ok(lines[0].startsWith('estimate,I2,Aronson,Ferguson & Simes,'), lines[0]);
    const summary = await downloaded(page, 'gosh-summary-csv');
    const rows = summary.text.trim().split('\n').map((l) => l.split(','));
    assert.deepEqual(rows.map((r) => r[0]), ['statistic', 'estimate', 'I2', 'tau2', 'QE']);
    close(Number(rows[1][1]), cli.summary.estimate.min, 'CSV estimate min');
    close(Number(rows[2][2]), cli.summary.i2.max, 'CSV I² max');

    // Drawn progressively, animation frame by animation frame; let the last frames land.
    await page.waitForTimeout(500);
    const drawn = await inked(page);
    assert.ok(drawn > blank + 2000, `${drawn} inked pixels after, ${blank} before`);
    await page.locator('[data-testid="gosh"]').scrollIntoViewIfNeeded();
    await page.locator('[data-testid="gosh"]').screenshot({ path: join(SHOTS, 'gosh-bcg.png') });

    // Marking Aronson's trial redraws the subsets holding it in the second colour.
    await page.locator('[data-testid="gosh-study"]').selectOption('0');
    await page.waitForTimeout(500);
    const reds = await page.locator('[data-testid="gosh-canvas"]').evaluate((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 2] < 180 && d[i] - d[i + 2] > 60) n++;
      return n;
    });
    assert.ok(reds > 500, `${reds} vermillion pixels`);
    await page.locator('[data-testid="gosh"]').screenshot({ path: join(SHOTS, 'gosh-bcg-marked.png') });

    // Linked selection: the GOSH marker is the page's highlighted study. Of the 8,191 subsets,
    // 2¹² = 4,096 hold any one trial. Picking a trial here highlights it in the influence table
    // and the data table; clicking one in the influence table marks its subsets here.
    const gosh = page.locator('[data-testid="gosh"]');
    await page.locator('[data-testid="gosh"][data-marked="0"][data-marked-subsets="4096"]').waitFor();
    const influence = (i) => page.locator(`[data-testid="influence-row"][data-study="${i}"]`);
    assert.match(await influence(0).getAttribute('class'), /row--highlight/);
    const dataRows = page.locator('[data-testid="data-table"] tbody tr');
    assert.match(await dataRows.nth(0).getAttribute('class'), /row--selected/);
    await influence(5).locator('[data-col="hat"]').click();
    await page.locator('[data-testid="gosh"][data-marked="5"][data-marked-subsets="4096"]').waitFor();
    assert.equal(await page.locator('[data-testid="gosh-study"]').inputValue(), '5');
    assert.doesNotMatch(await influence(0).getAttribute('class'), /row--highlight/);
    assert.match(await dataRows.nth(5).getAttribute('class'), /row--selected/);
    assert.equal(await gosh.getAttribute('data-marked'), '5');

    // Pointing at a trial marks its subsets once the pointer rests: in the influence table…
    await influence(8).locator('[data-col="hat"]').hover();
    await page.locator('[data-testid="gosh"][data-marked="8"][data-marked-subsets="4096"]').waitFor();
    // …and in a plot: the Baujat plot's mark of trial 2, where the page says it is drawn.
    const baujat = page.locator('[data-testid="baujat"]');
    await baujat.evaluate((e) => e.scrollIntoView({ block: 'center' }));
    const box = await baujat.boundingBox();
    const mark = page.locator('[data-testid="baujat-studies"] li[data-study="2"]');
    const at = [Number(await mark.getAttribute('data-x')), Number(await mark.getAttribute('data-y'))];
    await page.mouse.move(box.x + at[0], box.y + at[1]);
    await page.locator('[data-testid="gosh"][data-marked="2"][data-marked-subsets="4096"]').waitFor();
    // Off every study, the mark goes back to the highlighted trial.
    await page.mouse.move(box.x + box.width / 2, box.y + box.height - 4);
    await page.locator('[data-testid="gosh"][data-marked="5"][data-marked-subsets="4096"]').waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('Cancel stops a GOSH run of 10⁵ subsets at k = 30 and keeps what was drawn', async () => {
  const { context, page, errors } = await openCleared(server.url);
  try {
    await paste(page, studies(30));
    await page.locator('[data-testid="coef-table"]').waitFor();
    await page.locator('[data-testid="sensitivity-open"]').click();
    await page.locator('[data-testid="influence-row"]').nth(29).waitFor();
    // Effects given as yi and vi: no L'Abbé plot.
    assert.equal(await page.locator('[data-testid="labbe"]').count(), 0);

    await page.locator('[data-testid="gosh-run"]').click();
    const progress = page.locator('[data-testid="gosh-progress"]');
    // Wait for some subsets, then cancel mid-run.
    let text = '';
    for (let tries = 0; tries < 200; tries++) {
      text = await progress.textContent();
      const m = text.match(/^([\d,]+) of 100,000 subsets$/);
      if (m && Number(m[1].replaceAll(',', '')) >= 2000) break;
      await page.waitForTimeout(25);
    }
    assert.match(text, /^[\d,]+ of 100,000 subsets$/);
    await page.locator('[data-testid="gosh-cancel"]').click();
    await page.locator('[data-testid="gosh-progress"][data-state="cancelled"]').waitFor();
    const cancelled = await progress.textContent();
    const m = cancelled.match(/^Cancelled after ([\d,]+) of 100,000 subsets; the plot keeps them\.$/);
    assert.ok(m, cancelled);
    assert.ok(Number(m[1].replaceAll(',', '')) < 100000);
    await page.waitForTimeout(800);
    const after = await inked(page);
    // Nothing more arrives, and the dots drawn stay.
    assert.equal(await progress.textContent(), cancelled);
    await page.waitForTimeout(300);
    assert.equal(await inked(page), after);
    assert.ok(after > 5000, `${after} inked pixels`);
    await page.locator('[data-testid="gosh-run"]').waitFor();
    await page.locator('[data-testid="gosh"]').scrollIntoViewIfNeeded();
    await page.locator('[data-testid="gosh"]').screenshot({ path: join(SHOTS, 'gosh-cancelled.png') });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

/** The GOSH summary's cells (`data-value`s) at k = 30 with 20,000 random subsets, seed 1. */
async function goshSummary(query) {
  const { context, page, errors } = await openCleared(server.url + query);
  try {
    await paste(page, studies(30));
    await page.locator('[data-testid="coef-table"]').waitFor();
    await page.locator('[data-testid="sensitivity-open"]').click();
    await page.locator('[data-testid="influence-row"]').nth(29).waitFor();
    await page.locator('[data-testid="gosh-subsets"]').fill('20000');
    await page.locator('[data-testid="gosh-subsets"]').dispatchEvent('change');
    await page.locator('[data-testid="gosh-run"]').click();
    await page.locator('[data-testid="gosh-progress"][data-state="done"]').waitFor({ timeout: 60000 });
    const text = await page.locator('[data-testid="gosh-progress"]').textContent();
    const cells = await page
      .locator('[data-testid="gosh-summary"] [data-value]')
      .evaluateAll((cs) => Object.fromEntries(cs.map((c) => [c.dataset.testid, c.dataset.value])));
    assert.deepEqual(errors, []);
    return { text, cells };
  } finally {
    await context.close();
  }
}

test('the same seed gives the same GOSH subsets and summary on 1 worker, on 3 and natively', async () => {
  const one = await goshSummary('?workers=1');
  const three = await goshSummary('?workers=3');
  assert.equal(one.text, '20,000 subsets (a random sample)');
  assert.equal(Object.keys(one.cells).length, 12);
  // Bit for bit: the three workers' parts merge into the one worker's summary.
  assert.deepEqual(three, one);
  // The native engine draws the same random subsets (round-off only between Wasm and native).
  const file = join(SHOTS, 'gosh-k30.csv');
  await writeFile(file, studies(30));
  const bin = process.env.MERIDIAN_BIN ?? join(ROOT, 'target', 'debug', 'meridian');
  const cli = JSON.parse(
    execFileSync(bin, ['gosh', file, '--subsets', '20000', '--seed', '1', '--json']).toString(),
  );
  assert.equal(cli.exact, false);
  for (const key of ['estimate', 'i2', 'tau2', 'qe']) {
    for (const which of ['min', 'max', 'mean']) {
      close(Number(one.cells[`gosh-${key}-${which}`]), cli.summary[key][which], `${key} ${which}`);
    }
  }
});
