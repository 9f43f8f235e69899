// Side-by-side speed of the whole `meridian fit` process and FOSMA's in-process fit of the
// same model (github.com/rbmichael/meta-analysis, MIT) at k = 20,000, in one run.
// FOSMA's code is not part of this repository: point FOSMA_DIR at a checkout of it.
//
//   cargo build --release && FOSMA_DIR=/path/to/meta-analysis node scripts/compare_fosma.mjs
//
// Prints, per model, the median wall time of each over RUNS runs and the ratio. Meridian's
// time includes starting the process, reading and parsing the file, the fit (REML, Q-profile
// intervals, pseudo-R²) and writing the JSON; FOSMA's is one call of its fit function on
// study objects already in memory. Meridian is timed twice: started by this script (Node's
// spawnSync, which forks this 100 MB process: 2 ms for /bin/true) and started by a shell
// (RUNS processes in one shell loop, its wall time divided by RUNS), the process alone.
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { studies } from '../tests/e2e/tables.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const K = Number(process.env.K ?? 20_000);
const RUNS = Number(process.env.RUNS ?? 7);
const fosmaDir = process.env.FOSMA_DIR;
if (!fosmaDir) {
  throw new Error('set FOSMA_DIR to a checkout of github.com/rbmichael/meta-analysis');
}
const meridian = process.env.MERIDIAN_BIN ?? join(ROOT, 'target/release/meridian');
const fosma = await import(pathToFileURL(join(fosmaDir, 'js/stats/analysis.js')).href);

const text = studies(K);
const file = join(await mkdtemp(join(tmpdir(), 'meridian-fosma-')), `k${K}.csv`);
await writeFile(file, text);
const rows = text.trim().split('\n').slice(1).map((line) => {
  const [study, yi, vi, x, z, w] = line.split(',');
  return { study, yi: +yi, vi: +vi, x: +x, z: +z, w: +w };
});

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(f) {
  const times = [];
  let out;
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    out = f();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { ms: median(times), out };
}

const MODELS = [
  {
    name: 'REML, intercept only',
    args: [],
    // A fresh array each run: FOSMA memoises meta() per array.
    fosma: () => fosma.meta(rows.map((r) => ({ ...r })), 'REML'),
    tau2: (r) => r.tau2,
  },
  {
    name: 'REML, 3 moderators (x + z + w)',
    args: ['--mods', 'x + z + w'],
    fosma: () =>
      fosma.metaRegression(
        rows.map((r) => ({ ...r })),
        ['x', 'z', 'w'].map((key) => ({ key, type: 'continuous' })),
        'REML',
      ),
    tau2: (r) => r.tau2,
  },
];

console.log(`k = ${K}, median of ${RUNS} runs each`);
for (const model of MODELS) {
  const args = ['fit', file, ...model.args, '--json'];
  const m = time(() => JSON.parse(execFileSync(meridian, args)));
  const quoted = [meridian, ...args].map((a) => `'${a}'`).join(' ');
  const loop = `for i in $(seq ${RUNS}); do ${quoted} > /dev/null; done`;
  const shell = time(() => execFileSync('bash', ['-c', loop])).ms / RUNS;
  const f = time(model.fosma);
  console.log(
    `${model.name}: meridian fit (whole process) ${m.ms.toFixed(1)} ms, ` +
      `FOSMA in-process ${f.ms.toFixed(1)} ms, ratio ${(f.ms / m.ms).toFixed(1)}× ` +
      `(tau2 ${m.out.tau2.toPrecision(6)} vs ${model.tau2(f.out).toPrecision(6)}); ` +
      `started by a shell ${shell.toFixed(1)} ms, ratio ${(f.ms / shell).toFixed(1)}×`,
  );
}
