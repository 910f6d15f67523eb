// bundlers.test.mjs - the package in the tools apps are built with, and no setting for it: the
// fixture app (tests/apps/main.js: load the weights, classify a photo, explain its best class
// with Grad-CAM) in a temporary folder that installs the packed tarball, and is
//   - built by `vite build` (tests/apps/vite/) and served by a static server with COOP/COEP,
//   - served by `vite dev`, whose COOP/COEP headers come from the package's plugin
//     (xception-gradcam/vite, in the fixture's vite.config.js),
//   - built by webpack 5 (tests/apps/webpack/) and served like the first,
// then opened in headless Chromium: threaded (the page is cross-origin isolated), with the
// WebAssembly files the bundler emitted or served, logits and map equal to the native CLI's.
// The app must fail when the package's files cannot be found: the Vite build is also served
// without its .wasm files (WASM_LOAD_FAILED) and without the package's worker (WORKER_FAILED).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, linkSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cli, imagesDir, relL2, testWeights } from '../js/helpers.mjs';
import { openBrowser } from './browser.mjs';
import { pack, WASM_FILES } from '../../tools/release/package.mjs';

const weights = testWeights(1).f16;
const photo = `${imagesDir}/skimage_chelsea.png`;
const fixtures = fileURLToPath(new URL('../apps/', import.meta.url));
const viteBin = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
const work = mkdtempSync(join(tmpdir(), 'gradcam-bundlers-'));
const secs = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
let tarball;

before(() => {
  const t0 = Date.now();
  tarball = pack(work).file;
  console.log(`  npm pack: ${secs(t0)}`);
});
after(() => rmSync(work, { recursive: true, force: true }));

/** The CLI's logits, top classes and Grad-CAM map of the best class, for an arithmetic. */
const refs = {};
function reference(arithmetic) {
  if (refs[arithmetic]) return refs[arithmetic];
  const p = cli(['predict', '--arithmetic', arithmetic, '--weights', weights, '--image', photo, '--json'], { json: true });
  assert.equal(p.status, 0, p.stderr);
  const top = p.json.top.map((t) => t.index);
  const e = cli(['explain', '--arithmetic', arithmetic, '--weights', weights, '--image', photo, '--class', String(top[0]), '--json'], { json: true });
  assert.equal(e.status, 0, e.stderr);
  refs[arithmetic] = { logits: Float32Array.from(p.json.logits), top, cam: Float32Array.from(e.json.cam) };
  return refs[arithmetic];
}

/** A new app folder: the tarball installed, tests/apps/main.js and the fixture's files. */
function newApp(name, fixture) {
  const app = join(work, name);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: `gradcam-${name}-app`, private: true, type: 'module' }));
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], { cwd: app, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  copyFileSync(join(fixtures, 'main.js'), join(app, 'main.js'));
  cpSync(join(fixtures, fixture), app, { recursive: true });
  return app;
}

/** The weights (a hard link: 46 MB) and the photo as the app fetches them: ./test.gcw, ./photo.png. */
function addData(dir) {
  mkdirSync(dir, { recursive: true });
  try { linkSync(weights, join(dir, 'test.gcw')); } catch { copyFileSync(weights, join(dir, 'test.gcw')); }
  copyFileSync(photo, join(dir, 'photo.png'));
}

/** Open the app's page and wait for what it computed (window.result). */
async function result(b, path) {
  await b.page.goto(b.url + path);
  try {
    await b.page.waitForFunction(() => window.result, null, { timeout: 180000 });
  } catch (e) {
    throw new Error(`${path}: no result (${e.message}); console: ${b.consoleLines.map((l) => l.text).join(' | ')}`);
  }
  return b.page.evaluate(() => window.result);
}

/** The app at `path` classified and explained as the CLI does, threaded when isolated. */
async function check(b, path, { isolated = true, relaxed = true } = {}) {
  const r = await result(b, path);
  assert.equal(r.error, undefined, `${path}: ${JSON.stringify(r.error)}`);
  assert.equal(r.isolated, isolated);
  assert.equal(r.info.mode, isolated ? 'threaded' : 'single');
  const build = isolated && relaxed ? 'relaxed' : 'simd'; // Chromium validates relaxed SIMD
  assert.equal(r.info.build, build);
  // the relaxed build's arithmetic is the CLI's fma (tests/js/relaxed.test.mjs explains the bound)
  const ref = reference(build === 'relaxed' ? 'fma' : 'portable');
  const e = relL2(Float32Array.from(r.logits), ref.logits);
  const ec = relL2(Float32Array.from(r.cam), ref.cam);
  console.log(`  ${path} ${r.info.mode} (threads ${r.info.threads}, ${build} build): logits rel L2 vs native ${e.toExponential(2)}, Grad-CAM ${ec.toExponential(2)}`);
  assert.ok(e <= 1e-5, `logits rel L2 ${e}`);
  assert.deepEqual(r.top, ref.top);
  assert.deepEqual(r.camSize, [10, 10]);
  assert.deepEqual(r.overlaySize, [451, 300]);
  assert.ok(ec <= 1e-5, `Grad-CAM rel L2 ${ec}`);
  return r;
}

const wasmRequests = (b) => b.requests.map((u) => new URL(u).pathname).filter((p) => p.endsWith('.wasm'));

test('vite build: the app runs threaded from the files Vite emitted, and fails cleanly without them', async () => {
  const app = newApp('vite-build', 'vite');
  addData(join(app, 'public'));
  let t0 = Date.now();
  const r = spawnSync(process.execPath, [viteBin, 'build', '--logLevel', 'warn'], { cwd: app, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  console.log(`  vite build: ${secs(t0)}`);
  const out = join(app, 'dist');
  const assets = join(out, 'assets');
  const emitted = readdirSync(assets);
  assert.equal(emitted.filter((f) => f.endsWith('.wasm')).length, Object.keys(WASM_FILES).length, `one .wasm per build: ${emitted}`);
  // the static server's / leads to its own index page: serve the built page under another name
  copyFileSync(join(out, 'index.html'), join(out, 'app.html'));
  t0 = Date.now();
  let b = await openBrowser({ isolation: true, mounts: { '/': out }, path: null });
  try {
    await check(b, '/app.html');
    await check(b, '/app.html?relaxed=0', { relaxed: false });
    assert.ok(wasmRequests(b).length >= 2 && wasmRequests(b).every((p) => p.startsWith('/assets/')), `${wasmRequests(b)}`);
    assert.deepEqual(b.foreign, []);

    // without the .wasm files the app gets WASM_LOAD_FAILED, without the package's worker WORKER_FAILED
    const away = join(app, 'away');
    mkdirSync(away);
    const hide = (test) => emitted.filter(test).map((f) => { renameSync(join(assets, f), join(away, f)); return f; });
    const wasm = hide((f) => f.endsWith('.wasm'));
    const noWasm = await result(b, '/app.html');
    assert.equal(noWasm.error?.code, 'WASM_LOAD_FAILED', JSON.stringify(noWasm));
    for (const f of wasm) renameSync(join(away, f), join(assets, f));
    const worker = hide((f) => /^worker-.*\.js$/.test(f));
    assert.equal(worker.length, 1, `the package's worker is one file: ${emitted}`);
    const noWorker = await result(b, '/app.html');
    assert.equal(noWorker.error?.code, 'WORKER_FAILED', JSON.stringify(noWorker));
    renameSync(join(away, worker[0]), join(assets, worker[0]));
    console.log(`  without the .wasm files: ${noWasm.error.code}; without the worker: ${noWorker.error.code}`);
  } finally {
    await b.close();
  }
  // the same build on a host without COOP/COEP: single thread
  b = await openBrowser({ isolation: false, mounts: { '/': out }, path: null });
  try {
    await check(b, '/app.html', { isolated: false });
  } finally {
    await b.close();
  }
  console.log(`  vite build in Chromium: ${secs(t0)}`);
});

/** Start `vite` (the dev server) in `app` on a free port; resolves to {url, stop()}. */
function viteDev(app) {
  const child = spawn(process.execPath, [viteBin, '--host', '127.0.0.1', '--port', '0', '--strictPort'],
    { cwd: app, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise((r) => child.once('exit', r));
  const stop = async () => { if (child.exitCode === null) { child.kill(); await exited; } };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { stop(); reject(new Error(`vite dev did not start: ${output}`)); }, 60000);
    const read = (d) => {
      output += d;
      const m = /Local:\s+(http:\/\/\S+?)\/?\s/.exec(output);
      if (m) { clearTimeout(timer); resolve({ url: m[1], stop, output: () => output }); }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    exited.then((code) => { clearTimeout(timer); reject(new Error(`vite dev exited (${code}): ${output}`)); });
  });
}

test('vite dev: the app runs threaded from the package\'s files as the dev server serves them, isolated by the package\'s plugin', async () => {
  const app = newApp('vite-dev', 'vite');
  addData(join(app, 'public'));
  const t0 = Date.now();
  const dev = await viteDev(app);
  let b;
  try {
    const res = await fetch(`${dev.url}/`);
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin', 'xception-gradcam/vite: COOP');
    assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp', 'xception-gradcam/vite: COEP');
    b = await openBrowser({ server: { url: dev.url }, path: null });
    await check(b, '/');
    assert.ok(wasmRequests(b).includes('/node_modules/xception-gradcam/dist/wasm-relaxed/gradcam.wasm'), `${wasmRequests(b)}`);
    assert.deepEqual(b.foreign, []);
  } finally {
    await b?.close();
    await dev.stop();
  }
  console.log(`  vite dev, start to result: ${secs(t0)}`);
});

test('webpack 5: the app runs threaded from the files webpack emitted', async () => {
  const app = newApp('webpack', 'webpack');
  let t0 = Date.now();
  const { default: webpack } = await import('webpack');
  const { default: config } = await import(pathToFileURL(join(app, 'webpack.config.mjs')).href);
  const stats = await new Promise((resolve, reject) => webpack(config, (err, s) => (err ? reject(err) : resolve(s))));
  assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
  console.log(`  webpack build: ${secs(t0)}`);
  const out = config.output.path;
  const emitted = readdirSync(out);
  assert.equal(emitted.filter((f) => f.endsWith('.wasm')).length, Object.keys(WASM_FILES).length, `one .wasm per build: ${emitted}`);
  copyFileSync(join(app, 'index.html'), join(out, 'app.html'));
  addData(out);
  t0 = Date.now();
  const b = await openBrowser({ isolation: true, mounts: { '/': out }, path: null });
  try {
    await check(b, '/app.html');
    await check(b, '/app.html?relaxed=0', { relaxed: false });
    assert.ok(wasmRequests(b).length >= 2, `${wasmRequests(b)}`);
    assert.deepEqual(b.foreign, []);
  } finally {
    await b.close();
  }
  console.log(`  webpack app in Chromium: ${secs(t0)}`);
});
