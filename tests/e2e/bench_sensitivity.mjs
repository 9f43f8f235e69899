// Browser benchmark of the Sensitivity pane at k = 3,000 (REML, x + z): from the click that
// opens it to its influence table, the engine's refits run in the worker; the main thread
// decodes the record and draws the pane's plots. Prints the wall clock, the longest
// main-thread tasks (Long Tasks API) and the page's largest measures (each plot's drawing,
// "meridian:draw <name>", and the stages it timed), so a long task can be told apart.
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
await ctx.close();
await server.close();
