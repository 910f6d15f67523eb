// serve.test.mjs - `npm start` (tools/release/serve.mjs): starts (weights or not), prints its URL,
// serves the demo with COOP/COEP/CORP and the right MIME types, and nothing outside its mounts.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { root } from './helpers.mjs';
import { WASM_FILES } from '../../tools/release/package.mjs';
import { NEEDED, startServer } from '../../tools/release/serve.mjs';

async function start(args) {
  const child = spawn(process.execPath, [`${root}tools/release/serve.mjs`, '--port', '0', '--no-build', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 10000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) { clearTimeout(timer); resolve(m[0].slice(0, -1)); }
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  return { child, url, output: () => out };
}

test('npm start serves the demo cross-origin isolated, with MIME types, and only its folders', async () => {
  const s = await start([]);
  try {
    const home = await fetch(`${s.url}/`, { redirect: 'manual' });
    assert.equal(home.status, 302);
    assert.equal(home.headers.get('location'), '/web/demo/');
    const page = await fetch(`${s.url}/web/demo/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.equal(page.headers.get('cross-origin-resource-policy'), 'same-origin');
    assert.match(await page.text(), /npm run weights/);
    for (const [path, type] of [['/build/wasm-st/gradcam.wasm', 'application/wasm'], ['/build/wasm-mt/gradcam.mjs', 'text/javascript'],
      ['/build/wasm-relaxed/gradcam.wasm', 'application/wasm'], ['/build/wasm-relaxed/gradcam.worker.js', 'text/javascript'],
      ['/build/wasm-mt/gradcam.worker.js', 'text/javascript'], ['/web/index.js', 'text/javascript'],
      ['/images/skimage_chelsea.png', 'image/png']]) {
      const r = await fetch(`${s.url}${path}`, { method: 'HEAD' });
      assert.equal(r.status, 200, path);
      assert.ok(r.headers.get('content-type').startsWith(type), `${path}: ${r.headers.get('content-type')}`);
      assert.ok(Number(r.headers.get('content-length')) > 0, path);
    }
    for (const path of ['/package.json', '/src/gradcam.h', '/node_modules/h5wasm/package.json', '/web/%2e%2e/package.json', '/web/..%2fpackage.json', '/node_modules/playwright-core/package.json']) {
      const r = await fetch(`${s.url}${path}`);
      assert.ok(r.status === 404 || r.status === 403, `${path}: ${r.status}`);
    }
    assert.equal((await fetch(`${s.url}/web/index.js`, { method: 'POST' })).status, 405);
  } finally {
    s.child.kill();
  }
});

test('npm start -- --no-isolation sends no COOP/COEP headers', async () => {
  const s = await start(['--no-isolation']);
  try {
    const page = await fetch(`${s.url}/web/demo/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('cross-origin-opener-policy'), null);
    assert.match(s.output(), /single-thread/);
  } finally {
    s.child.kill();
  }
});

test('the demo\'s service worker keeps every file of every WebAssembly build the package ships', () => {
  const sw = readFileSync(`${root}web/demo/sw.js`, 'utf8');
  const listed = new Set(sw.match(/'wasm-[a-z]+\/[a-z.]+'/g).map((q) => q.slice(1, -1)));
  const shipped = Object.entries(WASM_FILES).flatMap(([f, names]) => names.filter((n) => n !== 'package.json').map((n) => `${f}/${n}`));
  assert.deepEqual([...listed].sort(), shipped.sort());
});

test('npm start needs the WebAssembly builds only (the page never uses the native CLI), and turns isolation on when the threaded builds arrive', async () => {
  assert.deepEqual(Object.keys(NEEDED), Object.keys(WASM_FILES));
  const files = Object.values(NEEDED).flat();
  assert.ok(files.includes('build/wasm-st/gradcam.wasm') && files.includes('build/wasm-mt/gradcam.worker.js'), files.join(' '));
  assert.ok(!files.some((f) => f.startsWith('build/native')), files.join(' '));
  let ready = false; // serve.mjs asks at each request whether the threaded builds are there
  const s = await startServer({ port: 0, isolation: () => ready });
  try {
    const before = await fetch(`${s.url}/web/demo/`);
    assert.equal(before.status, 200);
    assert.equal(before.headers.get('cross-origin-embedder-policy'), null, 'single-threaded while they build');
    ready = true;
    const after = await fetch(`${s.url}/web/demo/`);
    assert.equal(after.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(after.headers.get('cross-origin-embedder-policy'), 'require-corp');
  } finally {
    await s.close();
  }
});
