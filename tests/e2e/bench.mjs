// Browser benchmark: redraw time of the forest and bubble plots at k = 1,000 in Chromium.
// Run with `node tests/e2e/bench.mjs` after `trunk build --release` (or MERIDIAN_DIST=dir).
// Each redraw is timed by the app's own User Timing measure ("meridian:draw plot"); a redraw
// is triggered by highlighting a study from the table, as a user would.
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
