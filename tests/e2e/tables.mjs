// Tables the end-to-end tests and the benchmark paste, and the paste itself.

/** A reproducible table of `k` studies with numeric moderators x, z and w (linear congruential
 * noise); x carries the effect. */
export function studies(k) {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const lines = ['study,yi,vi,x,z,w'];
  for (let i = 0; i < k; i++) {
    const x = 10 + 50 * rand();
    const yi = 0.3 - 0.02 * x + 0.4 * (rand() - 0.5);
    const vi = 0.01 + 0.1 * rand();
    lines.push(`S${i + 1},${yi.toFixed(4)},${vi.toFixed(4)},${x.toFixed(2)},${(rand() * 4).toFixed(3)},${(rand() - 0.5).toFixed(3)}`);
  }
  return lines.join('\n') + '\n';
}

/** A reproducible table of `k` effects in clusters of 10 with cluster effects (columns cluster,
 * effect, yi, vi, x, z), as benches/profile.rs's `nested(k)`. */
export function nested(k) {
  let seed = 6789;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const lines = ['cluster,effect,yi,vi,x,z'];
  let shift = 0;
  for (let i = 0; i < k; i++) {
    if (i % 10 === 0) shift = 0.4 * (rand() - 0.5);
    const x = rand();
    const z = rand();
    const vi = 0.01 + 0.2 * rand();
    const yi = 0.3 - 0.2 * x + 0.1 * z + shift + 0.3 * (rand() - 0.5);
    lines.push(`C${Math.floor(i / 10)},E${i},${yi.toFixed(4)},${vi.toFixed(4)},${x.toFixed(3)},${z.toFixed(3)}`);
  }
  return lines.join('\n') + '\n';
}

/** Pastes `text` into the data box as one input event, as a paste does (Playwright's fill()
 * types). */
export async function paste(page, text) {
  await page.evaluate((t) => {
    const area = document.querySelector('[data-testid="data-input"]');
    area.value = t;
    area.dispatchEvent(new Event('input', { bubbles: true }));
  }, text);
}

/** Hands `text` to the page for [`clipboardPaste`] in a call of its own, so that the task of
 * the paste holds what the browser and the page do with it, not the test's hand-over of 800 KB. */
export async function copyToClipboard(page, text) {
  await page.evaluate((t) => { window.meridianClipboard = t; }, text);
}

/** Pastes the text [`copyToClipboard`] handed over into the data box as a user does: a
 * `paste` event carrying it on its clipboard data, which the page takes over for a long text
 * (the box never holds it). Over the box's whole text (Ctrl+A, Ctrl+V), or with `atEnd` at
 * the end of it (the caret there, nothing selected). */
export async function clipboardPaste(page, { atEnd = false } = {}) {
  await page.evaluate((end) => {
    const area = document.querySelector('[data-testid="data-input"]');
    const data = new DataTransfer();
    data.setData('text/plain', window.meridianClipboard);
    delete window.meridianClipboard;
    area.focus();
    if (end) area.setSelectionRange(area.value.length, area.value.length);
    else area.select();
    area.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, atEnd);
}
