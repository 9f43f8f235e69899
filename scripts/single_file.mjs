// Writes meridian.html beside dist/: the whole app in one file that works opened from disk
// (file://) with no request at all, for machines where nobody can run a server.
//
// From Trunk's dist/: the stylesheet goes into a <style>, the icon into a data: URL, the
// module's JavaScript and its Wasm (base64) into inert <script type="text/plain"> blocks. A
// small module script turns the JavaScript into a blob URL, decodes the Wasm and starts the
// app with it. The examples are compiled into the Wasm already.
//
// Chromium starts only classic workers from a file:// page (module workers and imports in
// workers fail there), so the same script also makes a classic worker script of the module's
// JavaScript — its `export`s dropped, its `import.meta.url` never read because the page posts
// the compiled module — and leaves its blob URL in window.meridianWorker for the engine's
// client (src/worker/client.rs).
//
// Usage: node scripts/single_file.mjs [dist-dir] [output-file]
import { readFile, writeFile, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(process.argv[2] ?? join(ROOT, 'dist'));
const output = resolve(process.argv[3] ?? join(ROOT, 'meridian.html'));

const html = await readFile(join(dist, 'index.html'), 'utf8');
const files = await readdir(dist);

/** The one file of dist/ matching `pattern`; anything else means Trunk's output changed. */
function one(pattern, what) {
  const found = files.filter((f) => pattern.test(f));
  if (found.length !== 1) {
    throw new Error(`expected one ${what} in ${dist}, found ${found.length}: ${found.join(', ')}`);
  }
  return found[0];
}

const glueFile = one(/^meridian-web-[0-9a-f]+\.js$/, 'module script');
const wasmFile = one(/^meridian-web-[0-9a-f]+_bg\.wasm$/, 'Wasm module');
const cssFile = one(/^main-[0-9a-f]+\.css$/, 'stylesheet');
const iconFile = one(/^favicon-[0-9a-f]+\.svg$/, 'icon');

const glue = await readFile(join(dist, glueFile), 'utf8');
if (/^\s*import[\s{*]/m.test(glue)) {
  // A snippet import would be a request (and fail from file://).
  throw new Error(`${glueFile} imports other files; inline them too`);
}
const wasm = await readFile(join(dist, wasmFile));
const css = await readFile(join(dist, cssFile), 'utf8');
const icon = await readFile(join(dist, iconFile));

/** Text safe inside a <script> or <style> element: nothing may close it early. */
function inert(text, tag) {
  if (new RegExp(`</${tag}`, 'i').test(text)) {
    throw new Error(`the text to inline contains </${tag}`);
  }
  return text;
}

// Trunk's head, without the links to files this page inlines and without its loader.
const head = html
  .match(/<head>([\s\S]*?)<\/head>/)[1]
  .replace(/<link[^>]*(rel="(stylesheet|icon|modulepreload|preload)")[^>]*>\s*/g, '')
  .replace(/<script type="module"[\s\S]*?<\/script>\s*/g, '');
const body = html
  .match(/<body>([\s\S]*?)<\/body>/)[1]
  .replace(/<script type="module"[\s\S]*?<\/script>\s*/g, '');

const boot = String.raw`
const text = (id) => document.getElementById(id).textContent;
const glue = URL.createObjectURL(new Blob([text('meridian-glue')], { type: 'text/javascript' }));
const base64 = text('meridian-wasm').trim();
const binary = atob(base64);
const bytes = new Uint8Array(binary.length);
for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
const classic = text('meridian-glue')
  .replace(/^export \{([^}]*)\};?$/gm, (_, names) => {
    const init = /(\w+) as default/.exec(names);
    return init ? 'const __meridian_init = ' + init[1] + ';' : '';
  })
  .replace(/^export default (\w+);?$/gm, 'const __meridian_init = $1;')
  .replace(/^export (function|class|const|let) /gm, '$1 ')
  .replace(/import\.meta\.url/g, 'self.location.href');
const start = 'self.onmessage = (e) => { self.onmessage = null; __meridian_init({ module_or_path: e.data }); };';
window.meridianWorker = URL.createObjectURL(
  new Blob([classic, '\n', start], { type: 'text/javascript' }),
);
const { default: init } = await import(glue);
await init({ module_or_path: bytes });
`;

const page = `<!DOCTYPE html>
<html lang="en">
  <head>
${head.trim()}
    <link rel="icon" href="data:image/svg+xml;base64,${icon.toString('base64')}" />
    <style>
${inert(css, 'style')}
    </style>
  </head>
  <body>
${body.trim()}
    <script type="text/plain" id="meridian-glue">
${inert(glue, 'script')}
    </script>
    <script type="text/plain" id="meridian-wasm">
${wasm.toString('base64')}
    </script>
    <script type="module">${boot}</script>
  </body>
</html>
`;
await writeFile(output, page);
console.log(`${output}: ${(page.length / 1024).toFixed(0)} KiB (Wasm ${(wasm.length / 1024).toFixed(0)} KiB)`);
