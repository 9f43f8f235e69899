// Browser benchmark of the Sensitivity pane at k = 3,000 (REML, x + z): from the click that
// opens it to its influence table, the engine's refits run in the worker; the main thread
// decodes the record and draws the pane's plots. Prints the wall clock, the longest
// main-thread tasks (Long Tasks API) and the page's largest measures (each plot's drawing,
// "meridian:draw <name>", and the stages it timed), so a long task can be told apart; then the
// longest tasks while the pointer moves over the Baujat plot's studies.
// Run with `node tests/e2e/bench_sensitivity.mjs` after `trunk build --release` (or
// MERIDIAN_DIST=dir); K=1000 for another size.
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDir } from './server.mjs';
import { openCleared } from './browser.mjs';
import { studies, paste } from './tables.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const K = Number(process.env.K ?? 3000);

const server = await serveDir(process.env.MERIDIAN_DIST ?? join(ROOT, 'dist'));
const { context: ctx, page: p } = await openCleared(server.url, { longTasks: true });
await paste(p, studies(K));
await p.locator('[data-testid="model-formula"]').fill('x + z');
await p.locator('[data-testid="model-formula"]').press('Enter');
await p.locator('[data-testid="coef-table"]').waitFor();
await p.waitForTimeout(1500);
await p.evaluate(() => { window.longTasks = []; performance.clearMeasures(); });
const start = await p.evaluate(() => performance.now());
await p.locator('[data-testid="sensitivity-open"]').click();
await p.locator('[data-testid="influence-row"]').nth(40).waitFor({ timeout: 120_000 });
const ms = (await p.evaluate(() => performance.now())) - start;
// Let the plots' last frames land.
await p.waitForTimeout(1500);
const tasks = await p.evaluate(() => window.longTasks);
const measures = await p.evaluate(() =>
  performance.getEntriesByType('measure')
    .filter((e) => e.name.startsWith('meridian:') && e.duration >= 5)
    .map((e) => [e.name, e.duration]));
console.log(`Sensitivity pane at k = ${K} (REML, x + z): ${ms.toFixed(0)} ms from the click to its table`);
console.log(`main-thread tasks over 50 ms: ${tasks.map((t) => t.toFixed(0)).join(', ') || 'none'}`);
console.log(`measures of 5 ms or more: ${measures.map(([n, d]) => `${n.slice(9)} ${d.toFixed(0)}`).join('; ')}`);

// The pointer moving over the Baujat plot's studies: each move redraws every plot linked to
// the study under it (the results' forest plot, Baujat, leave-one-out, Q–Q).
await p.locator('[data-testid="gosh"]').waitFor({ timeout: 120_000 });
const list = p.locator('[data-testid="baujat-studies"]');
await list.evaluate((el) => el.previousElementSibling.scrollIntoView({ behavior: 'instant' }));
await p.waitForTimeout(500);
const canvas = await list.evaluate((el) => {
  const r = el.previousElementSibling.querySelector('canvas').getBoundingClientRect();
  return { x: r.x, y: r.y };
});
const points = await list.evaluate((el) => [...el.querySelectorAll('li[data-x]')].slice(0, 60)
  .filter((_, i) => i % 6 === 0).map((li) => [Number(li.dataset.x), Number(li.dataset.y)]));
await p.evaluate(() => { window.longTasks = []; performance.clearMeasures(); });
for (const [x, y] of points) {
  await p.mouse.move(canvas.x + x, canvas.y + y);
  await p.waitForTimeout(250);
}
const hoverTasks = await p.evaluate(() => window.longTasks);
const draws = await p.evaluate(() => performance.getEntriesByType('measure')
  .filter((e) => e.name.startsWith('meridian:draw ')).length);
console.log(`pointer over ${points.length} studies of the Baujat plot: ${draws} redraws, ` +
  `main-thread tasks over 50 ms: ${hoverTasks.map((t) => t.toFixed(0)).join(', ') || 'none'}`);
await ctx.close();
await server.close();
