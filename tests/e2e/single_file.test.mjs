// meridian.html, the whole app in one file (scripts/single_file.mjs), opened from disk as a
// person double-clicking it would: it fits BCG with metafor's numbers, runs a permutation test
// on its workers, and makes no request at all beyond its own file and the blob and data URLs
// it makes in memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { freshContext } from './browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FILE = process.env.MERIDIAN_SINGLE ?? join(ROOT, 'meridian.html');
/** Displayed values carry full precision in data-value: agreement with metafor's fits. */
const RTOL = 1e-6;

test('meridian.html opened from disk fits BCG and permutes on its workers with no request', async () => {
  // metafor 3.8: rma(yi, vi, method = "REML") on escalc("RR", …, data = dat.bcg).
  const fixture = JSON.parse(await readFile(join(ROOT, 'tests/fixtures/stats/bcg.json'), 'utf8'));
  const metafor = fixture.fits.find((f) => f.method === 'REML' && f.test === 'z');
  const url = pathToFileURL(FILE).href;
  const context = await freshContext();
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors = [];
    const requests = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
    context.on('request', (req) => {
      const u = req.url();
      if (u !== url && !u.startsWith('blob:') && !u.startsWith('data:')) requests.push(u);
    });
    await page.goto(url);
    const intercept = page.locator('[data-testid="coef-table"] [data-term="intrcpt"] [data-value]').first();
    await intercept.waitFor();
    const estimate = Number(await intercept.getAttribute('data-value'));
    assert.ok(
      Math.abs(estimate - metafor.beta[0]) <= RTOL * Math.abs(metafor.beta[0]),
      `pooled log risk ratio ${estimate} vs metafor ${metafor.beta[0]}`,
    );
    assert.equal(await page.locator('[data-testid="data-table"] tbody tr').count(), 13);

    await page.locator('[data-testid="permutation-run"]').click();
    const result = page.locator('[data-testid="permutation-result"]:not(.stale)');
    await result.waitFor({ timeout: 60_000 });
    assert.ok(Number(await result.getAttribute('data-lanes')) >= 1);
    assert.match(await result.innerText(), /permutations/);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [], 'the single file made requests');
  } finally {
    await context.close();
  }
});
