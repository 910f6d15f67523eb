// package.test.mjs - the npm package as a user gets it: `npm pack` (prepack assembles dist/),
// the tarball's file list, then a fresh app in a temporary folder that installs the tarball
// and imports the package by name (plain ES modules with an import map, no bundler), served
// by tools/release/serve.mjs with COOP/COEP, classifying in Chromium with the wasm and worker found
// next to the installed module, and Keras .h5 weights converted by the core's import (the
// package has no runtime dependency).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, imagesDir, relL2, testWeights } from '../js/helpers.mjs';
import { openBrowser } from './browser.mjs';
import { measure, pack, readmeSizes, sizesBlock, sizesDiffer } from '../../tools/release/package.mjs';

const weights = testWeights(1);
const base = (p) => p.split('/').pop();
const work = mkdtempSync(join(tmpdir(), 'gradcam-package-'));
let packed;
let b;

before(() => {
  const t0 = Date.now();
  packed = pack(work);
  console.log(`  npm pack: ${base(packed.file)} ${(packed.size / 1024).toFixed(0)} KB, ${packed.entries.length} files, ${(packed.unpackedSize / 1024).toFixed(0)} KB unpacked (${Date.now() - t0} ms)`);
});
after(async () => {
  await b?.close();
  rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the JS, the types, the three wasm builds, the CLI for Node and the licence files, nothing else', () => {
  const files = new Set(packed.entries);
  const modules = readdirSync(new URL('../../web/', import.meta.url)).filter((f) => f.endsWith('.js')).map((f) => `dist/${f}`);
  for (const f of ['package.json', 'README.md', 'LICENSE', 'NOTICE', 'dist/index.d.ts', 'dist/vite.d.ts', ...modules,
    'dist/wasm-st/gradcam.mjs', 'dist/wasm-st/gradcam.wasm',
    'dist/wasm-mt/gradcam.mjs', 'dist/wasm-mt/gradcam.wasm', 'dist/wasm-mt/gradcam.worker.js',
    'dist/wasm-relaxed/gradcam.mjs', 'dist/wasm-relaxed/gradcam.wasm', 'dist/wasm-relaxed/gradcam.worker.js',
    'dist/node/index.js', 'dist/node/index.d.ts', 'dist/node/cli.js', 'dist/cli/gradcam-cli.js', 'dist/cli/gradcam-cli.wasm']) {
    assert.ok(files.has(f), `${f} is in the tarball`);
  }
  for (const f of files) assert.match(f, /^(dist\/|package\.json$|README\.md$|LICENSE$|NOTICE$)/, `unexpected ${f}`);
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url)));
  assert.equal(pkg.type, 'module');
  // only the element's module has a side effect (it defines <xception-gradcam>)
  assert.deepEqual(pkg.sideEffects, ['./dist/element.js']);
  assert.deepEqual(pkg.exports['./element'], { types: './dist/element.d.ts', default: './dist/element.js' });
  assert.ok(files.has('dist/element.d.ts'), 'the element\'s types are in the tarball');
  assert.deepEqual(Object.keys(pkg.exports['.']), ['types', 'default'], 'types first');
  assert.deepEqual(Object.keys(pkg.exports['./vite']), ['types', 'default'], 'the Vite plugin, types first');
  assert.equal(pkg.dependencies, undefined, 'no runtime dependency');
});

test('web/README.md\'s sizes block says what this pack measured (npm run package writes it)', () => {
  const now = sizesBlock(measure(), packed);
  assert.match(now, /wasm-relaxed\/gradcam\.wasm.*\| \d+ KB \| \d+ KB \|/);
  assert.deepEqual(sizesDiffer(readmeSizes(), now), [], 'the sizes in web/README.md are stale: run npm run package');
  assert.notDeepEqual(sizesDiffer(now.replace(/\| (\d+) KB \| (\d+) KB \|/, (m, a, b) => `| ${Number(a) + 1} KB | ${b} KB |`), now), [], 'a wasm figure off by 1 KB is stale');
});

test('a fresh app installs the tarball, imports the package by name and classifies in Chromium', async () => {
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'gradcam-test-app', private: true, type: 'module' }));
  const t0 = Date.now();
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', packed.file],
    { cwd: app, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  console.log(`  npm install of the tarball into a new app: ${Date.now() - t0} ms`);
  writeFileSync(join(app, 'index.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>app</title>
<script type="importmap">{ "imports": { "xception-gradcam": "./node_modules/xception-gradcam/dist/index.js" } }</script>
<script type="module">
  import { GradCam, GradCamError, ErrorCode } from 'xception-gradcam';
  window.pkg = { GradCam, GradCamError, ErrorCode };
  document.body.dataset.ready = '1';
</script></head><body></body></html>
`);
  b = await openBrowser({ isolation: true, mounts: { '/app/': app, '/test-data/': 'build/test-data', '/images/': 'tests/data/images' }, path: '/app/index.html' });
  await b.page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 30000 });
  const res = await b.page.evaluate(async ([gcw, h5, img]) => {
    const blob = await (await fetch(img)).blob();
    const gc = await window.pkg.GradCam.load({ weights: gcw }); // wasm found next to the module
    const a = await gc.classify(blob);
    const ex = await gc.explain(blob, { classIndex: a.top[0].index }); // Grad-CAM at block14
    await gc.loadWeights(h5, { dtype: 'f32' }); // converted by the core's import in the worker
    const c = await gc.classify(blob);
    const info = gc.info();
    gc.dispose();
    return {
      info, a: Array.from(a.logits), top: a.top.map((t) => t.index), c: Array.from(c.logits),
      cam: Array.from(ex.cam.data), camSize: [ex.cam.height, ex.cam.width], overlaySize: [ex.overlay.width, ex.overlay.height],
    };
  }, [`/test-data/${base(weights.f32)}`, `/test-data/${base(weights.h5)}`, '/images/skimage_chelsea.png']);
  // Chromium validates relaxed SIMD: the package takes its relaxed build, whose arithmetic is the
  // CLI's fma (tests/js/relaxed.test.mjs explains the bound)
  assert.equal(res.info.build, 'relaxed');
  const ref = cli(['predict', '--arithmetic', 'fma', '--weights', weights.f32, '--image', `${imagesDir}/skimage_chelsea.png`, '--json'], { json: true });
  assert.equal(ref.status, 0, ref.stderr);
  const e = relL2(Float32Array.from(res.a), Float32Array.from(ref.json.logits));
  const eh5 = relL2(Float32Array.from(res.c), Float32Array.from(ref.json.logits));
  console.log(`  installed package, threaded: logits rel L2 vs native ${e.toExponential(2)}; via .h5 ${eh5.toExponential(2)}`);
  assert.equal(res.info.mode, 'threaded');
  assert.ok(e <= 1e-5 && eh5 <= 1e-5);
  assert.deepEqual(res.top, ref.json.top.map((t) => t.index));
  // an explanation from the installed package equals the CLI's raw map
  const refCam = cli(['explain', '--arithmetic', 'fma', '--weights', weights.f32, '--image', `${imagesDir}/skimage_chelsea.png`, '--class',
    String(ref.json.top[0].index), '--json'], { json: true });
  assert.equal(refCam.status, 0, refCam.stderr);
  const ec = relL2(Float32Array.from(res.cam), Float32Array.from(refCam.json.cam));
  console.log(`  installed package: Grad-CAM rel L2 vs native ${ec.toExponential(2)}`);
  assert.deepEqual(res.camSize, [10, 10]);
  assert.deepEqual(res.overlaySize, [451, 300], 'overlay at the image size');
  assert.ok(ec <= 1e-5);
  const paths = b.requests.map((u) => new URL(u).pathname);
  assert.ok(paths.includes('/app/node_modules/xception-gradcam/dist/wasm-relaxed/gradcam.wasm'), 'wasm next to the module');
  assert.deepEqual(readdirSync(join(app, 'node_modules')).filter((d) => !d.startsWith('.')), ['xception-gradcam'], 'nothing else installed');
  assert.deepEqual(b.foreign, []);
});

test('the installed package\'s element: its export resolves by name, and it classifies and draws in Chromium', async () => {
  assert.ok(b, 'the app of the previous test');
  const app = join(work, 'app');
  // Node resolves the export through package.json, and the module imports where there is no DOM
  const r = spawnSync(process.execPath, ['--input-type=module', '-e',
    "const m = await import('xception-gradcam/element'); console.log(typeof m.XceptionGradcamElement, typeof customElements)"],
  { cwd: app, encoding: 'utf8' });
  assert.equal(r.stdout.trim(), 'function undefined', r.stderr);
  writeFileSync(join(app, 'element.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>element</title>
<script>window.got = []; for (const t of ['result', 'error']) document.addEventListener(t, (e) => window.got.push({ t, d: e.detail }), true);</script>
<script type="importmap">{ "imports": { "xception-gradcam/element": "./node_modules/xception-gradcam/dist/element.js" } }</script>
<script type="module">import 'xception-gradcam/element';</script></head>
<body><xception-gradcam weights="/test-data/${base(weights.f32)}" src="/images/skimage_chelsea.png"></xception-gradcam></body></html>
`);
  await b.page.goto(`${b.url}/app/element.html`);
  await b.page.waitForFunction(() => window.got.length > 0, null, { timeout: 60000 });
  const got = await b.page.evaluate(() => window.got.map((g) => ({ t: g.t, top: g.d.top && g.d.top.map((x) => x.index), code: g.d.code })));
  const ref = cli(['predict', '--arithmetic', 'fma', '--weights', weights.f32, '--image', `${imagesDir}/skimage_chelsea.png`, '--json'], { json: true });
  assert.deepEqual(got, [{ t: 'result', top: ref.json.top.slice(0, 5).map((t) => t.index), code: undefined }]);
  const paths = b.requests.map((u) => new URL(u).pathname);
  assert.ok(paths.includes('/app/node_modules/xception-gradcam/dist/element.js'));
  assert.deepEqual(b.foreign, []);
});
