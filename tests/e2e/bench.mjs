// Browser benchmark in Chromium. At k = 1,000: pasting the studies and fitting a moderator
// (wall clock, and the page's own stage measures), the fits that plot-option changes cause
// (none expected), and the redraw time of the forest and bubble plots. Then issue 14's
// figures: the longest main-thread task (Long Tasks API) while pasting 20,000 studies and
// fitting REML with 3 moderators (pasted as a user does, a clipboard `paste` event, and set
// into the box with one `input` event, as the e2e tests load tables), the keystroke-to-frame latency of the formula box, 10,000
// permutations at k = 50 (REML, 2 moderators) on the page's workers, and the first load's
// gzip size (Wasm + JS + CSS + HTML; the workers run the same module).
// Run with `node tests/e2e/bench.mjs` after `trunk build --release` (or MERIDIAN_DIST=dir).
// The page times each pipeline stage with a User Timing measure ("meridian:parse",
// "meridian:fit", …) and each redraw ("meridian:draw plot"); a redraw is triggered by
// highlighting a study from the table, as a user would.
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDir } from './server.mjs';
import { freshContext, watchLongTasks } from './browser.mjs';
import { studies, paste, copyToClipboard, clipboardPaste } from './tables.mjs';
import { readdir, readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const K = 1000;
const REDRAWS = 25;

const server = await serveDir(process.env.MERIDIAN_DIST ?? join(ROOT, 'dist'));
const context = await freshContext();
const page = context.pages()[0] ?? (await context.newPage());
await page.goto(server.url);
await page.locator('[data-testid="coef-table"]').waitFor();
await page.locator('[data-testid="example-select"]').selectOption('');
const started = Date.now();
await paste(page, studies(K));
await page.locator('[data-testid="model-formula"]').fill('x');
await page.locator('[data-testid="model-formula"]').press('Enter');
await page.locator('[data-testid="coef-table"] [data-term="x"]').waitFor();
console.log(`k = ${K}: pasted, fitted with x and drawn in ${Date.now() - started} ms (wall clock)`);

/** Total duration and count of the page's measures named `meridian:${name}`. */
async function stage(name) {
  return page.evaluate((n) => {
    const entries = performance.getEntriesByName(`meridian:${n}`);
    return { count: entries.length, ms: entries.reduce((sum, e) => sum + e.duration, 0) };
  }, name);
}
const stages = [];
for (const name of ['parse', 'studies', 'design', 'engine:parse', 'engine:studies', 'engine:design', 'engine:fit', 'engine:predict']) {
  const { count, ms } = await stage(name);
  stages.push(`${name} ${count}× ${ms.toFixed(1)} ms`);
}
console.log(`stages so far: ${stages.join(', ')}`);

// Every plot option in turn: the page should refit nothing.
const fitsBefore = (await stage('engine:fit')).count;
for (const tab of ['bubble', 'funnel', 'heterogeneity', 'forest']) {
  await page.locator(`[data-testid="tab-${tab}"]`).click();
  await page.waitForTimeout(100);
}
await page.locator('[data-testid="forest-sort"]').selectOption('weight');
await page.locator('[data-testid="tab-funnel"]').click();
await page.locator('[data-testid="funnel-contours"]').check();
await page.locator('[data-testid="tab-forest"]').click();
await page.waitForTimeout(300);
console.log(`plot-option changes: ${(await stage('engine:fit')).count - fitsBefore} fits`);

async function redraws(tab) {
  await page.locator(`[data-testid="tab-${tab}"]`).click();
  await page.waitForTimeout(300);
  await page.evaluate(() => performance.clearMeasures());
  for (let i = 0; i < REDRAWS; i++) {
    await page.locator('[data-testid="data-table"] tbody tr').nth(i % 20).click();
    await page.waitForTimeout(30);
  }
  const times = await page.evaluate(() =>
    performance.getEntriesByName('meridian:draw plot').map((e) => e.duration));
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const p95 = times[Math.floor(times.length * 0.95)];
  console.log(`${tab}: ${times.length} redraws, median ${median.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`);
}

await redraws('forest');
await redraws('bubble');
await context.close();

/** A fresh page of the app, with a Long Tasks observer from the start. */
async function fresh(query = '') {
  const ctx = await freshContext();
  const p = ctx.pages()[0] ?? (await ctx.newPage());
  await watchLongTasks(p);
  await p.goto(`${server.url}${query}`);
  await p.locator('[data-testid="coef-table"]').waitFor();
  return { ctx, p };
}

/** Loads 20,000 studies into a fresh page by `load` (after `prepare`, outside the measurement),
 * fits REML with x + z + w, and prints the wall clock and the longest main-thread tasks;
 * returns the page. */
async function twentyThousand(how, load, prepare = async () => {}) {
  const { ctx, p } = await fresh();
  await p.locator('[data-testid="example-select"]').selectOption('');
  await p.waitForTimeout(300);
  const text = studies(20_000);
  await prepare(p, text);
  await p.evaluate(() => { window.longTasks = []; performance.clearMeasures(); });
  const start = Date.now();
  await load(p, text);
  await p.locator('[data-testid="stat-k"][data-value="20000"]').waitFor({ timeout: 120_000 });
  await p.locator('[data-testid="model-formula"]').fill('x + z + w');
  await p.locator('[data-testid="model-formula"]').press('Enter');
  await p.locator('[data-testid="coef-table"] [data-term="w"]').waitFor({ timeout: 120_000 });
  const wall = Date.now() - start;
  await p.waitForTimeout(300);
  const tasks = await p.evaluate(() => window.longTasks);
  console.log(`k = 20,000 ${how}, REML with x + z + w: fitted in ${wall} ms (wall clock); ` +
    `${tasks.length} long tasks, longest ${Math.max(0, ...tasks).toFixed(0)} ms`);
  return { ctx, p };
}

await (await twentyThousand('pasted (clipboard event)', clipboardPaste, copyToClipboard)).ctx.close();

{
  const { ctx, p } = await twentyThousand('set in the box (input event)', paste);
  // What the main thread spent it on: the page's own measures (the state edit, its stages,
  // posting requests, building the table's rows, the layout a plot's redraw waits for).
  const spent = await p.evaluate(() => {
    const sums = {};
    for (const e of performance.getEntriesByType('measure')) {
      if (!e.name.startsWith('meridian:') || e.name.startsWith('meridian:engine:')) continue;
      const name = e.name.slice('meridian:'.length);
      sums[name] = (sums[name] ?? 0) + e.duration;
    }
    return sums;
  });
  console.log(`main thread at k = 20,000: ${Object.entries(spent)
    .map(([n, ms]) => `${n} ${ms.toFixed(1)} ms`).join(', ')}`);

  // Keystroke latency: from each input event to the next frame, typing a formula.
  await p.evaluate(() => {
    window.keyLatency = [];
    document.querySelector('[data-testid="model-formula"]').addEventListener('input', (e) => {
      const t = e.timeStamp;
      requestAnimationFrame(() => window.keyLatency.push(performance.now() - t));
    });
  });
  const box = p.locator('[data-testid="model-formula"]');
  await box.fill('');
  await box.pressSequentially('x + z + w + x:z', { delay: 50 });
  await p.waitForTimeout(300);
  const lat = (await p.evaluate(() => window.keyLatency)).sort((a, b) => a - b);
  console.log(`formula box at k = 20,000: ${lat.length} keystrokes, input to next frame median ` +
    `${lat[Math.floor(lat.length / 2)].toFixed(1)} ms, max ${lat[lat.length - 1].toFixed(1)} ms`);
  await ctx.close();
}

{
  const { ctx, p } = await fresh();
  await p.locator('[data-testid="example-select"]').selectOption('');
  await paste(p, studies(50));
  await p.locator('[data-testid="model-formula"]').fill('x + z');
  await p.locator('[data-testid="model-formula"]').press('Enter');
  await p.locator('[data-testid="coef-table"] [data-term="z"]').waitFor();
  await p.locator('[data-testid="permutation-iterations"]').fill('10000');
  await p.locator('[data-testid="permutation-iterations"]').dispatchEvent('change');
  // A first short run starts the workers, so the timed run measures the permutations.
  await p.locator('[data-testid="permutation-run"]').click();
  await p.locator('[data-testid="permutation-result"]:not(.stale)').waitFor({ timeout: 120_000 });
  await p.evaluate(() => { window.longTasks = []; });
  const start = await p.evaluate(() => performance.now());
  await p.locator('[data-testid="permutation-run"]').click();
  await p.locator('[data-testid="permutation-result"]:not(.stale)').waitFor({ timeout: 120_000 });
  const ms = (await p.evaluate(() => performance.now())) - start;
  const lanes = await p.locator('[data-testid="permutation-result"]').getAttribute('data-lanes');
  const tasks = await p.evaluate(() => window.longTasks);
  console.log(`10,000 permutations at k = 50 (REML, x + z) on ${lanes} workers: ${ms.toFixed(0)} ms ` +
    `(second run; longest main-thread task ${Math.max(0, ...tasks).toFixed(0)} ms)`);
  await ctx.close();
}

{
  const dist = process.env.MERIDIAN_DIST ?? join(ROOT, 'dist');
  let total = 0;
  const parts = [];
  for (const f of await readdir(dist)) {
    if (!/\.(wasm|js|css|html)$/.test(f)) continue;
    const gz = gzipSync(await readFile(join(dist, f)), { level: 9 }).length;
    total += gz;
    parts.push(`${f} ${(gz / 1024).toFixed(0)} KiB`);
  }
  console.log(`first load, gzip -9: ${(total / 1024).toFixed(0)} KiB (${parts.join(', ')})`);
}
await server.close();
