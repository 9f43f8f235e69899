// End-to-end tests of issue 16, the guided exercises: every bundled exercise is walked from a
// teacher's link (#exercise=ID) as a student would do it — load the data, set the app up as the
// step asks (estimator, test, formula), answer, check — with a screenshot of every step in
// target/e2e/exercise-ID-N.png. One step gets a wrong answer and a hint first; progress must
// survive a reload; the panel must sit beside the workspace at 1280 px and on a 1024 px laptop;
// presentation mode is photographed too. The answers typed are the exercise files' expected
// values (metafor's, which tests/exercises.rs holds the engine to).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { serveDir } from './server.mjs';
import { freshContext } from './browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'target', 'e2e');
const IDS = [
  'heterogeneity',
  'fixed-random',
  'prediction-interval',
  'meta-regression',
  'interaction',
  'few-studies',
  'ecological-bias',
  'dependent-effects',
];

let server;
const exercises = {};
before(async () => {
  server = await serveDir(process.env.MERIDIAN_DIST ?? join(ROOT, 'dist'));
  await mkdir(SHOTS, { recursive: true });
  for (const id of IDS) {
    exercises[id] = JSON.parse(await readFile(join(ROOT, 'assets/exercises', `${id}.json`), 'utf8'));
  }
});
after(async () => server?.close());

async function open(hash, options) {
  const context = await freshContext(options);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${server.url}${hash}`);
  await page.locator('[data-testid="coef-table"]').waitFor();
  return { context, page, errors };
}

const byId = (id) => `[data-testid="${id}"]`;

/** The step's state: the exercise's start with the step's setup over it. */
function required(exercise, step) {
  return { ...exercise.start, ...(step.setup ?? {}) };
}

/** Waits until the results show the analysis of the state just set. */
async function settled(page) {
  await page.locator(byId('results-updating')).waitFor({ state: 'detached' });
  await page.locator(byId('analysis-computing')).waitFor({ state: 'detached' });
}

/** Sets the app up as a step asks, with the controls a student would use. */
async function setUp(page, setup) {
  await page.locator(byId('model-method')).selectOption(setup.method);
  await page.locator(byId('model-test')).selectOption(setup.test);
  const formula = page.locator(byId('model-formula'));
  const wanted = setup.terms.join(' + ');
  if ((await formula.inputValue()) !== wanted) {
    await formula.fill(wanted);
    await formula.press('Enter');
  }
  await settled(page);
}

/** The answer as a student would type it: the value rounded as the app shows it. */
function typed(check) {
  const decimals = Math.max(0, Math.ceil(-Math.log10(check.tolerance)) + 1);
  return check.expected.toFixed(Math.min(decimals, 8));
}

async function checkAnswer(page) {
  await page.locator(byId('exercise-check')).click();
  return page.locator(byId('exercise-feedback')).getAttribute('data-verdict');
}

test('every exercise can be walked with the right answers, from a teacher\'s link', async () => {
  for (const id of IDS) {
    const exercise = exercises[id];
    const { context, page, errors } = await open(`#exercise=${id}`);
    try {
      const panel = page.locator(byId('exercise-panel'));
      await panel.locator(`[data-exercise="${id}"]`).waitFor();
      await page.locator(byId('exercise-load')).click();
      await page.locator(byId('exercise-not-loaded')).waitFor({ state: 'detached' });
      for (const [i, step] of exercise.steps.entries()) {
        await page.locator(`${byId('exercise-step')}[data-step="${step.id}"]`).waitFor();
        await setUp(page, required(exercise, step));
        if (id === 'dependent-effects' && step.id === 'multilevel') {
          // The page's multilevel model (issue 11), as the step's task asks.
          await page.locator(byId('role-cluster')).selectOption('paper');
          await page.locator(byId('role-effect-id')).selectOption('id');
          await page.locator(byId('dep-within')).selectOption('multilevel');
          await settled(page);
        }
        if (step.id === 'permutation') {
          await page.locator(byId('permutation-run')).click();
          await page.locator(byId('permutation-result')).waitFor();
        }
        if (id === 'heterogeneity' && i === 0) {
          // One wrong answer and a hint, as a student might.
          await page.locator(byId('exercise-answer')).fill('12');
          assert.equal(await checkAnswer(page), 'wrong', `${id}: 12 is not Q`);
          await page.locator(byId('exercise-hint')).click();
          await page.locator(byId('exercise-hints')).waitFor();
          const announced = await page.locator(byId('exercise-announce')).textContent();
          assert.match(announced, /^Hint 1: /);
          await page.screenshot({ path: join(SHOTS, `exercise-${id}-${i + 1}-wrong-hint.png`) });
        }
        if (step.check.number) {
          await page.locator(byId('exercise-answer')).fill(typed(step.check.number));
        } else if (step.check.choice) {
          await page.locator(byId(`exercise-option-${step.check.choice.answer}`)).check();
        }
        const verdict = await checkAnswer(page);
        const feedback = await page.locator(byId('exercise-feedback')).textContent();
        assert.equal(verdict, 'right', `${id} step ${i + 1} (${step.id}): ${feedback}`);
        await page.locator(byId('exercise-explanation')).waitFor();
        await page.locator(byId('exercise-explanation')).scrollIntoViewIfNeeded();
        assert.equal(await page.locator(byId('exercise-announce')).textContent(), 'Right!');
        await page.screenshot({ path: join(SHOTS, `exercise-${id}-${i + 1}.png`) });
        if (i + 1 < exercise.steps.length) {
          await page.locator(byId('exercise-next')).click();
        }
      }
      const n = exercise.steps.length;
      assert.match(
        await page.locator(byId('exercise-progress')).textContent(),
        new RegExp(`^${n} of ${n} steps done`),
      );
      // The address is a link to the step shown.
      assert.ok(page.url().endsWith(`#exercise=${id}&step=${n}`), page.url());
      assert.deepEqual(errors, [], `${id}: page errors`);
    } finally {
      await context.close();
    }
  }
});

test('a step answered with the app not set up says what to change', async () => {
  const { context, page, errors } = await open('#exercise=meta-regression&step=2');
  try {
    await page.locator(`${byId('exercise-step')}[data-step="slope"]`).waitFor();
    await page.locator(byId('exercise-load')).click();
    await settled(page);
    await page.locator(byId('exercise-answer')).fill('-0.029');
    assert.equal(await checkAnswer(page), 'not-set-up');
    assert.match(
      await page.locator(byId('exercise-feedback')).textContent(),
      /use exactly these model terms: ablat/,
    );
    await page.screenshot({ path: join(SHOTS, 'exercise-not-set-up.png') });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('progress stays in the browser across a reload, and restart forgets it', async () => {
  const { context, page, errors } = await open('#exercise=heterogeneity');
  try {
    await page.locator(byId('exercise-load')).click();
    await settled(page);
    await page.locator(byId('exercise-answer')).fill('152.23');
    assert.equal(await checkAnswer(page), 'right');
    await page.reload();
    await page.locator(byId('exercise-progress')).waitFor();
    assert.match(await page.locator(byId('exercise-progress')).textContent(), /^1 of 4 steps done · 1 right at the first try/);
    page.once('dialog', (d) => d.accept());
    await page.locator(byId('exercise-restart')).click();
    assert.match(await page.locator(byId('exercise-progress')).textContent(), /^0 of 4 steps done/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

for (const width of [1280, 1024]) {
  test(`at ${width} px the panel sits beside the data, model, results and plots`, async () => {
    const { context, page, errors } = await open('#exercise=meta-regression&step=2', {
      viewport: { width, height: 800 },
    });
    try {
      const panel = await page.locator(byId('exercise-panel')).boundingBox();
      assert.ok(panel.x + panel.width <= width + 1, 'the panel is on screen');
      for (const pane of ['data-title', 'model-title', 'results-title', 'plots-title']) {
        const box = await page.locator(`section:has(#${pane})`).boundingBox();
        assert.ok(box.x + box.width <= panel.x, `${pane}'s pane is left of the panel`);
        assert.ok(box.width >= 280, `${pane}'s pane keeps a usable width (${box.width}px)`);
      }
      await page.screenshot({ path: join(SHOTS, `exercise-layout-${width}.png`) });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
}

test('presentation mode shows the worked explanation in large type; Esc leaves it', async () => {
  const { context, page, errors } = await open('#exercise=prediction-interval&step=3');
  try {
    await page.locator(byId('exercise-solution')).click();
    await page.locator(byId('exercise-present')).click();
    const size = await page
      .locator(byId('exercise-explanation'))
      .evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    assert.ok(size >= 22, `large type: ${size}px`);
    await page.screenshot({ path: join(SHOTS, 'exercise-presentation.png') });
    await page.keyboard.press('Escape');
    assert.equal(await page.locator(byId('exercise-present')).getAttribute('aria-pressed'), 'false');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the panel can be used with the keyboard alone', async () => {
  const { context, page, errors } = await open('#exercise=heterogeneity&step=4');
  try {
    await page.locator(byId('exercise-load')).focus();
    await page.keyboard.press('Enter');
    await settled(page);
    await page.locator(byId('exercise-option-0')).focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab'); // from the options to Check
    await page.keyboard.press('Enter');
    assert.equal(await page.locator(byId('exercise-feedback')).getAttribute('data-verdict'), 'right');
    await page.locator(byId('exercise-prev')).focus();
    await page.keyboard.press('Enter');
    // The new step's heading takes the focus.
    const focused = await page.evaluate(() => document.activeElement?.tagName);
    assert.equal(focused, 'H4');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
