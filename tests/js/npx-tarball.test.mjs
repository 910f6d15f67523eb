// npx-tarball.test.mjs - the package as a Node user gets it: `npm pack` (tools/release/package.mjs),
// the tarball installed offline into a fresh folder, then `npx xception-gradcam predict --json`
// (no native build anywhere in that folder) prints the native CLI's top-5 and logits, and
// `import { GradCam } from 'xception-gradcam/node'` classifies with the wasm found next to it,
// threaded and not, with the same logits.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, imagesDir, testWeights } from './helpers.mjs';
import { pack } from '../../tools/release/package.mjs';

const weights = testWeights(1);
const IMAGE = `${imagesDir}/skimage_chelsea.png`;
const work = mkdtempSync(join(tmpdir(), 'gradcam-npx-tarball-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

test('the packed tarball, installed offline in a fresh folder: npx predict and the Node API give the native CLI\'s numbers', () => {
  const t0 = Date.now();
  const packed = pack(join(work, 'pack'));
  for (const f of ['dist/node/cli.js', 'dist/cli/gradcam-cli.js', 'dist/cli/gradcam-cli.wasm', 'dist/cli/package.json', 'dist/node/index.js', 'dist/node/index.d.ts']) {
    assert.ok(packed.entries.includes(f), `${f} is in the tarball`);
  }
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'gradcam-node-app', private: true, type: 'module' }));
  const inst = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', packed.file], { cwd: app, encoding: 'utf8' });
  assert.equal(inst.status, 0, inst.stderr);
  assert.ok(existsSync(join(app, 'node_modules/.bin/xception-gradcam')), 'npm linked the bin');
  console.log(`  pack + offline install: ${Date.now() - t0} ms (${(packed.size / 1024).toFixed(0)} KB tarball)`);

  const native = cli(['predict', '--weights', weights.f32, '--image', IMAGE, '--json'], { json: true });
  assert.equal(native.status, 0, native.stderr);
  const r = spawnSync('npx', ['--offline', '--no-install', 'xception-gradcam', 'predict', '--weights', weights.f32, '--image', IMAGE, '--json'],
    { cwd: app, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.top, native.json.top, 'the same top-5: classes, names, probabilities, logits');
  assert.deepEqual(j.logits, native.json.logits, 'the same 1000 logits');
  const bad = spawnSync('npx', ['--offline', '--no-install', 'xception-gradcam', 'predict', '--weights', weights.f32, '--image', join(app, 'package.json')],
    { cwd: app, encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^gradcam: .*package\.json: GC_ERR_IMAGE_DECODE: image could not be decoded/);

  // the Node API by its export name, wasm next to the installed module
  writeFileSync(join(app, 'run.mjs'), `import { GradCam } from 'xception-gradcam/node';
const out = [];
for (const threads of [1, 2]) {
  const gc = await GradCam.load({ weights: process.argv[2], threads });
  const r = await gc.classify(process.argv[3]);
  out.push({ dir: gc.info().dir, logits: Array.from(r.logits) });
  gc.dispose();
}
console.log(JSON.stringify(out));
`);
  const api = spawnSync(process.execPath, ['run.mjs', weights.f32, IMAGE], { cwd: app, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(api.status, 0, api.stderr);
  const runs = JSON.parse(api.stdout);
  assert.deepEqual(runs.map((x) => x.dir), ['wasm-st', 'wasm-mt']);
  const floats = Array.from(Float32Array.from(native.json.logits)); // the CLI prints float32 values to 9 digits
  for (const x of runs) assert.deepEqual(x.logits, floats, `${x.dir}: the native CLI's floats`);
});
