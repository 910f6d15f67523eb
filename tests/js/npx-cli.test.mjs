// npx-cli.test.mjs - `npx xception-gradcam` (web/node/cli.js running the native CLI's C code built for
// Node, build/wasm-st/gradcam-cli.js) against the native CLI: the same help (so the same option
// table, src/cli/options.c), the same JSON for predict and explain, the same layers, PNGs and
// converted .gcw bytes, the same messages and exit statuses on bad input. Only the timings
// ("ms") may differ. The packed tarball's npx is tested in npx-tarball.test.mjs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, imagesDir, root, testWeights } from './helpers.mjs';

const weights = testWeights(1);
const PNG = `${imagesDir}/skimage_chelsea.png`;
const JPEG = `${imagesDir}/darknet_eagle.jpg`;
const work = mkdtempSync(join(tmpdir(), 'gradcam-npx-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

/** `node web/node/cli.js ARGS` as npx runs the package's bin: {status, stdout, stderr, json?}. */
export function npx(args, { json = false, cwd } = {}) {
  const r = spawnSync(process.execPath, [`${root}web/node/cli.js`, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, cwd });
  const out = { status: r.status, stdout: r.stdout, stderr: r.stderr };
  if (json && r.status === 0) out.json = JSON.parse(r.stdout);
  return out;
}

/** The JSON without its timings ("ms" objects, at any depth: explain --top K prints an array). */
const withoutMs = (v) => (Array.isArray(v) ? v.map(withoutMs)
  : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'ms').map(([k, x]) => [k, withoutMs(x)])) : v);

/** Run both; both must exit 0 and print the same JSON but for the timings. */
function sameJson(args) {
  const a = npx(args, { json: true });
  const b = cli(args, { json: true });
  assert.equal(a.status, 0, `npx ${args.join(' ')}: ${a.stderr}`);
  assert.equal(b.status, 0, `gradcam ${args.join(' ')}: ${b.stderr}`);
  assert.deepEqual(withoutMs(a.json), withoutMs(b.json), args.join(' '));
  return a.json;
}

test('npx: the same help as the native CLI, for every command (one option table: src/cli/options.c)', () => {
  for (const args of [['help'], ...['predict', 'explain', 'layers', 'convert', 'bench'].map((c) => ['help', c]), ['explain', '--help']]) {
    const a = npx(args);
    const b = cli(args);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, b.stdout, `gradcam ${args.join(' ')}`);
    assert.match(a.stdout, /^usage:\n[^]*options/);
  }
});

test('npx predict, explain, layers, convert: the native CLI\'s JSON (portable arithmetic, bit for bit), PNGs and converted weights byte for byte', () => {
  for (const image of [PNG, JPEG]) {
    const j = sameJson(['predict', '--weights', weights.f32, '--image', image, '--json']);
    assert.equal(j.top.length, 5);
    assert.equal(j.arithmetic, 'portable');
  }
  sameJson(['predict', '--weights', weights.f16, '--image', PNG, '--json', '--top', '3', '--input-size', '151']);
  const out = (who, f) => join(work, `${who}-${f}`);
  for (const [who, run] of [['npx', npx], ['native', cli]]) {
    const r = run(['explain', '--weights', weights.f16, '--image', PNG, '--layer', 'block8_sepconv3_act', '--method', 'gradcam++',
      '--out-overlay', out(who, 'overlay.png'), '--out-heatmap', out(who, 'heatmap.png')]);
    assert.equal(r.status, 0, r.stderr);
  }
  for (const f of ['overlay.png', 'heatmap.png']) assert.ok(readFileSync(out('npx', f)).equals(readFileSync(out('native', f))), f);
  const ex = sameJson(['explain', '--weights', weights.f16, '--image', PNG, '--method', 'saliency', '--json', '--detail']);
  assert.equal(ex.method, 'saliency');
  sameJson(['explain', '--weights', weights.f16, '--image', PNG, '--top', '2', '--metrics', '--steps', '4', '--json', '--input-size', '99']);
  for (const args of [['layers'], ['layers', '--weights', weights.f16, '--input-size', '71']]) {
    const a = npx(args);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, cli(args).stdout, args.join(' '));
    assert.match(a.stdout, /block14_sepconv2_act/);
  }
  for (const [who, run] of [['npx', npx], ['native', cli]]) {
    const r = run(['convert', '--in', weights.h5, '--out', out(who, 'model.gcw')]);
    assert.equal(r.status, 0, r.stderr);
  }
  assert.ok(readFileSync(out('npx', 'model.gcw')).equals(readFileSync(out('native', 'model.gcw'))), 'convert: the same .gcw');
});

test('npx: bad input gives the native CLI\'s message and exit status', () => {
  const text = join(work, 'notes.txt');
  writeFileSync(text, 'not an image\n');
  const cases = [
    ['predict', '--weights', weights.f16, '--image', text], // GC_ERR_IMAGE_DECODE, exit 1
    ['predict', '--weights', text, '--image', PNG], // GC_ERR_CONVERT, exit 1
    ['predict', '--weights', join(work, 'missing.gcw'), '--image', PNG], // exit 1
    ['predict', '--image', PNG], // usage, exit 2
    ['explain', '--weights', weights.f16, '--image', PNG, '--alpha', '2'], // range, exit 2
    ['explain', '--weights', weights.f16, '--image', PNG, '--method', 'gradcam3'],
    ['predict', '--bogus'],
    ['frobnicate'],
  ];
  for (const args of cases) {
    const a = npx(args);
    const b = cli(args);
    assert.notEqual(b.status, 0, `native: ${args.join(' ')}`);
    assert.deepEqual([a.status, a.stderr, a.stdout], [b.status, b.stderr, b.stdout], args.join(' '));
  }
  // the WebAssembly build has only the portable arithmetic: --arithmetic fma is refused, as in a native build without FMA
  const fma = npx(['predict', '--weights', weights.f16, '--image', PNG, '--arithmetic', 'fma']);
  assert.equal(fma.status, 2);
  assert.match(fma.stderr, /--arithmetic fma is not available in this build/);
});
