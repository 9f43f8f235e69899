// End-to-end test of the ecological-bias lab (issue 15 §2): opened from the toolbar (and
// exercise 7), the non-collapsibility preset shows the across-trial slope and the within-trial
// estimate as numbers — the engine's, seed 9, as tests/lab.rs asserts them natively (across
// −0.1458 per point, CI below 0; within −0.0063) — and as lines on the canvas (their
// colours' pixels are counted), and not in the risk-ratio view, where the reading says why
// it is left out; "Analyse this in Meridian" loads the trials as a 2×2 table
// with the mean score as moderator. Screenshots (1400 × 900) in MERIDIAN_SHOTS or target/e2e.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { serveDir } from './server.mjs';
import { freshContext } from './browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = process.env.MERIDIAN_SHOTS ?? join(ROOT, 'target', 'e2e');
const byId = (id) => `[data-testid="${id}"]`;

let server;
before(async () => {
  server = await serveDir(process.env.MERIDIAN_DIST ?? join(ROOT, 'dist'));
  await mkdir(SHOTS, { recursive: true });
});
after(async () => server?.close());

/** Pixels of the lab canvas within 40 of an RGB colour (the plot's line colours). */
async function pixelsOf(page, [r, g, b]) {
  return page.locator(`${byId('lab')} canvas`).first().evaluate((canvas, [r, g, b]) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 40) n += 1;
    }
    return n;
  }, [r, g, b]);
}

const cells = async (page, id) =>
  page.locator(`${byId(id)} td`).allTextContents();

test('the lab shows non-collapsibility and loads its trials into the workspace', async () => {
  const context = await freshContext({ viewport: { width: 1400, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(server.url);
  await page.locator(byId('coef-table')).waitFor();

  await page.locator(byId('open-lab')).click();
  await page.locator(byId('lab')).waitFor();
  await page.locator(byId('lab-preset-non-collapsibility')).click();
  // The simulation runs in the engine's worker: its numbers come once the results are current.
  await page.locator(`${byId('lab-results')}:not(.stale) ${byId('lab-across')}`).waitFor();
  const across = await cells(page, 'lab-across');
  const within = await cells(page, 'lab-within');
  assert.equal(across[1], '-0.146', across.join(' | '));
  assert.match(across[2], /^-0\.253 to -0\.039$/);
  assert.equal(within[1], '-0.006', within.join(' | '));
  assert.match(await page.locator(byId('lab-reading')).textContent(), /non-collapsibility/);
  await page.waitForTimeout(300);
  // Vermillion (213, 94, 0): the across line; bluish green (0, 158, 115): the within line.
  assert.ok((await pixelsOf(page, [213, 94, 0])) > 200, 'the across-trial line is drawn');
  assert.ok((await pixelsOf(page, [0, 158, 115])) > 200, 'the within-trial line is drawn');
  await page.screenshot({ path: join(SHOTS, 'lab-noncollapsibility.png') });
  await page.locator(byId('lab')).screenshot({ path: join(SHOTS, 'lab-noncollapsibility-full.png') });

  await page.locator(byId('lab-measure')).selectOption('1');
  assert.match(await page.locator(byId('lab-reading')).textContent(), /risk ratio collapses/);
  // The within-trial estimate is a log-OR quantity: no row and no line on the RR scale, and
  // the reading says why.
  assert.match(await page.locator(byId('lab-reading')).textContent(), /within-trial estimate is not shown here/);
  assert.equal(await page.locator(byId('lab-within')).count(), 0);
  await page.waitForTimeout(300);
  const greenRr = await pixelsOf(page, [0, 158, 115]);
  console.log(`within-line colour pixels in the RR view: ${greenRr}`);
  assert.ok(greenRr < 50, `no within-trial line on the RR scale (${greenRr} pixels)`);
  await page.locator(byId('lab')).screenshot({ path: join(SHOTS, 'lab-risk-ratio.png') });
  await page.locator(byId('lab-measure')).selectOption('0');

  await page.locator(byId('lab-preset-aggregation-bias')).click();
  await page.locator(byId('lab-reading')).filter({ hasText: /aggregation bias/ }).waitFor();
  await page.waitForTimeout(300);
  await page.locator(byId('lab')).screenshot({ path: join(SHOTS, 'lab-aggregation-bias.png') });

  const ms = await page.evaluate(() =>
    performance.getEntriesByName('meridian:engine:lab').map((e) => e.duration));
  console.log(`meridian:engine:lab durations in the worker (ms): ${ms.map((d) => d.toFixed(1)).join(', ')}`);

  await page.locator(byId('lab-analyse')).click();
  await page.locator(byId('lab')).waitFor({ state: 'detached' });
  await page.locator(`${byId('coef-table')} >> text=mean_score`).waitFor();
  await page.screenshot({ path: join(SHOTS, 'lab-analysed.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('exercise 7 opens the lab', async () => {
  const context = await freshContext({ viewport: { width: 1400, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${server.url}#exercise=ecological-bias`);
  await page.locator(byId('exercise-open-lab')).click();
  await page.locator(byId('lab')).waitFor();
  await page.screenshot({ path: join(SHOTS, 'lab-from-exercise.png') });
  await context.close();
});
