// Browser benchmark at k = 1,000 in Chromium: pasting the studies and fitting a moderator
// (wall clock, and the page's own stage measures), the fits that plot-option changes cause
// (none expected), and the redraw time of the forest and bubble plots.
// Run with `node tests/e2e/bench.mjs` after `trunk build --release` (or MERIDIAN_DIST=dir).
// The page times each pipeline stage with a User Timing measure ("meridian:parse",
// "meridian:fit", …) and each redraw ("meridian:draw plot"); a redraw is triggered by
// highlighting a study from the table, as a user would.
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDir } from './server.mjs';
import { freshContext } from './browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const K = 1000;
const REDRAWS = 25;

/** A reproducible table of K studies with a numeric moderator (linear congruential noise). */
function studies() {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const lines = ['study,yi,vi,x'];
  for (let i = 0; i < K; i++) {
    const x = 10 + 50 * rand();
    lines.push(`S${i + 1},${(0.3 - 0.02 * x + 0.4 * (rand() - 0.5)).toFixed(4)},${(0.01 + 0.1 * rand()).toFixed(4)},${x.toFixed(2)}`);
  }
  return lines.join('\n') + '\n';
}

const server = await serveDir(process.env.MERIDIAN_DIST ?? join(ROOT, 'dist'));
const context = await freshContext();
const page = context.pages()[0] ?? (await context.newPage());
await page.goto(server.url);
await page.locator('[data-testid="coef-table"]').waitFor();
await page.locator('[data-testid="example-select"]').selectOption('');
const started = Date.now();
// One input event with the whole table, as a paste makes (Playwright's fill() also types).
await page.evaluate((text) => {
  const area = document.querySelector('[data-testid="data-input"]');
  area.value = text;
  area.dispatchEvent(new Event('input', { bubbles: true }));
}, studies());
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
for (const name of ['parse', 'studies', 'design', 'fit', 'predict']) {
  const { count, ms } = await stage(name);
  stages.push(`${name} ${count}× ${ms.toFixed(1)} ms`);
}
console.log(`stages so far: ${stages.join(', ')}`);

// Every plot option in turn: the page should refit nothing.
const fitsBefore = (await stage('fit')).count;
for (const tab of ['bubble', 'funnel', 'heterogeneity', 'forest']) {
  await page.locator(`[data-testid="tab-${tab}"]`).click();
  await page.waitForTimeout(100);
}
await page.locator('[data-testid="forest-sort"]').selectOption('weight');
await page.locator('[data-testid="tab-funnel"]').click();
await page.locator('[data-testid="funnel-contours"]').check();
await page.locator('[data-testid="tab-forest"]').click();
await page.waitForTimeout(300);
console.log(`plot-option changes: ${(await stage('fit')).count - fitsBefore} fits`);

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
await server.close();
