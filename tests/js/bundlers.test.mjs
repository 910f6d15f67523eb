// bundlers.test.mjs - what lets bundlers find the package's files, checked on the source (the
// apps built by Vite and webpack run in tests/browser/bundlers.test.mjs): every file the browser
// side loads is named by a static `new URL('./…', import.meta.url)` (builds.js, queue.js), the
// only form Vite and webpack follow; no other use of import.meta.url in the modules a page loads
// (webpack replaces a bare import.meta.url by the build machine's file: URL); builds.js is the
// list tools/release/package.mjs ships; the Vite plugin's export and headers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { root } from './helpers.mjs';
import { buildFiles, buildUrls } from '../../web/builds.js';
import gradcam, { ISOLATION_HEADERS } from '../../web/vite.js';
import { WASM_FILES } from '../../tools/release/package.mjs';

const source = (f) => readFileSync(`${root}web/${f}`, 'utf8');
const code = (f) => source(f).replace(/^\s*(\/\/|\*|\/\*).*$/gm, ''); // without its comment lines
const LITERAL = /new URL\('(\.\/[^'$`]+)', import\.meta\.url\)/g;

/** The package's modules a page or its worker loads: index.js, worker.js and what they import. */
function browserModules() {
  const seen = new Set();
  const visit = (f) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const [, spec] of source(f).matchAll(/(?:from|import\()\s*'\.\/([^']+\.js)'/g)) visit(spec);
  };
  visit('index.js');
  visit('worker.js');
  return [...seen].sort();
}

test('each file of each build is one static new URL literal of builds.js, named by its key; the list is what the package ships', () => {
  const text = code('builds.js');
  const literals = [...text.matchAll(LITERAL)].map((m) => m[1]);
  const files = buildFiles();
  const expected = Object.entries(files).flatMap(([dir, names]) => Object.keys(names).map((n) => `./${dir}/${n}`));
  assert.deepEqual(literals, expected, 'one literal per file, in the table\'s order');
  for (const [dir, names] of Object.entries(files)) {
    for (const [name, url] of Object.entries(names)) {
      assert.ok(url.href.endsWith(`/web/${dir}/${name}`), `${dir}/${name}: ${url.href}`);
      assert.ok(existsSync(`${root}build/${dir}/${name}`), `build/${dir}/${name} is built`);
    }
    assert.deepEqual(WASM_FILES[dir].filter((n) => n !== 'package.json'), Object.keys(names), `${dir}: package.mjs ships the list`);
  }
  assert.deepEqual(Object.keys(WASM_FILES), Object.keys(files));
  // wasmBase: the same names under another folder
  const under = buildUrls(new URL('https://example.invalid/models/gc/'));
  assert.equal(under['wasm-mt']['gradcam.worker.js'], 'https://example.invalid/models/gc/wasm-mt/gradcam.worker.js');
  assert.equal(buildUrls()['wasm-st']['gradcam.wasm'], files['wasm-st']['gradcam.wasm'].href);
});

test('the modules a page loads use import.meta.url only in static new URL literals; the worker is one', () => {
  const modules = browserModules();
  assert.ok(modules.includes('builds.js') && modules.includes('queue.js') && modules.includes('engine.js'), `${modules}`);
  for (const f of modules) {
    const text = code(f);
    const uses = text.split('import.meta.url').length - 1;
    const literals = [...text.matchAll(LITERAL)].length;
    assert.equal(uses, literals, `${f}: import.meta.url outside a new URL('./…', import.meta.url) literal`);
  }
  assert.match(source('queue.js'), /new Worker\(new URL\('\.\/worker\.js', import\.meta\.url\), \{ type: 'module'/);
});

test('xception-gradcam/vite: exported, typed, and sends COOP/COEP from vite dev and vite preview', () => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  assert.deepEqual(pkg.exports['./vite'], { types: './dist/vite.d.ts', default: './dist/vite.js' });
  assert.ok(existsSync(`${root}web/vite.d.ts`));
  assert.deepEqual({ ...ISOLATION_HEADERS }, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
  const plugin = gradcam();
  assert.equal(plugin.name, 'xception-gradcam');
  const config = plugin.config();
  assert.deepEqual(config.server.headers, { ...ISOLATION_HEADERS });
  assert.deepEqual(config.preview.headers, { ...ISOLATION_HEADERS });
});
