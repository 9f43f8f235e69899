// Browser benchmark of GOSH in the page (issue 12): 10⁵ random subsets at k = 30 (REML, no
// moderators) fitted by the engine's worker and drawn on the canvas as the subsets arrive.
// Prints the wall clock from Run to the summary, the canvas drawing time (the page's
// "meridian:gosh-chunk" measures: count, total, longest) and the longest main-thread task
// (Long Tasks API) while it runs. A first short run starts the worker, so the timed run
// measures the subsets.
// Run with `node tests/e2e/bench_gosh.mjs` after `trunk build --release` (or MERIDIAN_DIST=dir).
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDir } from './server.mjs';
import { openCleared } from './browser.mjs';
import { studies, paste } from './tables.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const K = 30;
const SUBSETS = 100_000;

const server = await serveDir(process.env.MERIDIAN_DIST ?? join(ROOT, 'dist'));
const { context: ctx, page: p } = await openCleared(server.url, { longTasks: true });
await paste(p, studies(K));
await p.locator('[data-testid="sensitivity-open"]').click();
await p.locator('[data-testid="influence-row"]').nth(K - 1).waitFor();

async function run(subsets) {
  await p.locator('[data-testid="gosh-subsets"]').fill(String(subsets));
  await p.locator('[data-testid="gosh-subsets"]').dispatchEvent('change');
  await p.locator('[data-testid="gosh-run"]').click();
  await p.locator('[data-testid="gosh-progress"][data-state="done"]').waitFor({ timeout: 600_000 });
}
await run(1000);
await p.evaluate(() => { window.longTasks = []; performance.clearMeasures(); });
const start = await p.evaluate(() => performance.now());
await run(SUBSETS);
const ms = (await p.evaluate(() => performance.now())) - start;
// The canvas may still be drawing its last frames: wait for the chunks to stop.
let chunks = [];
for (let tries = 0; tries < 50; tries++) {
  await p.waitForTimeout(200);
  const now = await p.evaluate(() =>
    performance.getEntriesByName('meridian:gosh-chunk').map((e) => e.duration));
  if (now.length === chunks.length) break;
  chunks = now;
}
const tasks = await p.evaluate(() => window.longTasks);
const text = await p.locator('[data-testid="gosh-progress"]').textContent();
const total = chunks.reduce((a, b) => a + b, 0);
console.log(`GOSH ${SUBSETS.toLocaleString('en')} subsets at k = ${K} (REML) in the worker: ${ms.toFixed(0)} ms ` +
  `to the summary ("${text}")`);
console.log(`canvas: ${chunks.length} chunks, ${total.toFixed(0)} ms in all, longest ${Math.max(0, ...chunks).toFixed(1)} ms; ` +
  `longest main-thread task ${Math.max(0, ...tasks).toFixed(0)} ms (${tasks.length} tasks over 50 ms)`);
await ctx.close();
await server.close();
