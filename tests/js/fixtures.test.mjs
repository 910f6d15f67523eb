// fixtures.test.mjs - the test fixtures themselves: every layout read back (h5py, zipfile) holds
// the raw tensors bit for bit, under the names and paths Keras' own code gives them; Keras 3's
// numbering and model.layers order re-derived from the graph; TF.js manifests add up to their
// shards; the oracle's heads against a plain-JS re-computation.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { kerasFixture, presetFixture, PRESETS, rawModel } from './fixtures.mjs';

const READBACK = new URL('../fixtures/readback.py', import.meta.url).pathname;

/** tests/fixtures/readback.py: re-reads a fixture with h5py / zipfile / json, compares with the raw form. */
function readback(f) {
  const r = spawnSync('/usr/bin/python3', [READBACK, f.layout, f.path, f.raw ?? '-'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const CASES = [
  ['keras1', {}], ['keras2', {}], ['keras2', { names: 'keras2.1' }], ['keras2', { notop: true }],
  ['keras2-full', {}], ['keras2-full', PRESETS.dense5Nested], ['keras2-full', { ...PRESETS.dense5, pooling: 'max' }],
  ['keras3-weights', {}], ['keras3-weights', { ...PRESETS.dense5Nested, groups: 'lazy' }],
  ['keras', PRESETS.transfer], ['keras', { ...PRESETS.transfer, groups: 'eager' }], ['keras', PRESETS.dense5],
  ['tfjs', {}], ['tfjs', PRESETS.dense5Nested], ['tfjs', { flavour: 'tfjs-layers', suffix: true }],
];

test('every layout holds the raw tensors bit for bit, where Keras puts them', async (t) => {
  for (const [layout, o] of CASES) {
    await t.test(`${layout} ${JSON.stringify(o)}`, async () => {
      const f = await kerasFixture({ ...o, layout });
      const r = readback(f);
      assert.ok(r.tensors > 0);
      assert.equal(r.mismatched, 0, r.detail);
      assert.deepEqual(r.problems, []);
      console.log(`  ${layout}: ${r.tensors} tensors, ${r.params} parameters equal, ${r.checks} structure checks`);
    });
  }
});

test('fixtures are deterministic and cached', async () => {
  const a = await kerasFixture({ layout: 'keras3-weights', ...PRESETS.dense5 });
  const m1 = statSync(a.path).mtimeMs;
  const b = await kerasFixture({ layout: 'keras3-weights', ...PRESETS.dense5 });
  assert.equal(b.path, a.path);
  assert.equal(statSync(b.path).mtimeMs, m1, 'second call reuses the file');
  const c = await kerasFixture({ layout: 'keras3-weights', ...PRESETS.dense5, seed: 2 });
  assert.notEqual(c.path, a.path);
});

test('the not-Xception model is written in every HDF5 layout and .keras', async () => {
  for (const layout of ['keras2', 'keras2-full', 'keras3-weights', 'keras']) {
    const f = await kerasFixture({ layout, other: 'resnet-like' });
    const r = readback(f);
    assert.deepEqual(r.problems, []);
    assert.ok(r.layers.includes('conv1_conv') || r.layers.includes('conv2d'), JSON.stringify(r.layers));
  }
});

test('the options are checked', async () => {
  await assert.rejects(kerasFixture({ layout: 'keras4' }), /unknown layout/);
  await assert.rejects(kerasFixture({ layout: 'keras', input: [70, 70] }), /71..1024/);
  await assert.rejects(kerasFixture({ layout: 'keras', head: [{ units: 5, activation: 'softmax' }, { units: 2 }] }), /activation/);
  await assert.rejects(kerasFixture({ layout: 'keras', colour: 1 }), /unknown fixture option/);
  await assert.rejects(kerasFixture({ ...PRESETS.transfer, layout: 'keras1' }), /failed/);
});

test('the oracle\'s head equals a plain-JS re-computation from its own features (Dense(64) relu + Dense(5), 150x150)', async () => {
  const O = await import('../oracle/grad.mjs');
  const { randomInput } = await import('../oracle/xception.mjs');
  await O.initBackend();
  for (const pooling of ['avg', 'max']) {
    const raw = rawModel(1, { ...PRESETS.dense5Nested, pooling });
    const P = await O.loadRawWeights(raw.dir);
    const [h, w] = [150, 150];
    const x = randomInput(5, h, w);
    const r = await O.forward(P, x, h, w, ['block14_sepconv2_act']);
    const A = r.acts.block14_sepconv2_act;
    const [H, W, C] = r.shapes.block14_sepconv2_act;
    // the head in float64 from the raw bytes of model.json / weights.f32, not from the oracle's tensors
    const buf = readFileSync(`${raw.dir}/weights.f32`);
    const all = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    const dense = raw.model.tensors.filter((t) => t.part === 'top' && raw.model.parts.top[t.layer].kind === 'dense');
    const feat = new Float64Array(C).fill(pooling === 'max' ? -Infinity : 0);
    for (let p = 0; p < H * W; p++) {
      for (let c = 0; c < C; c++) feat[c] = pooling === 'max' ? Math.max(feat[c], A[p * C + c]) : feat[c] + A[p * C + c] / (H * W);
    }
    let v = feat;
    for (let i = 0; i < dense.length; i += 2) {
      const [K, B] = [dense[i], dense[i + 1]];
      const [nin, nout] = K.shape;
      const out = new Float64Array(nout);
      for (let o = 0; o < nout; o++) {
        let s = all[B.offset + o];
        for (let k = 0; k < nin; k++) s += v[k] * all[K.offset + k * nout + o];
        out[o] = i + 2 < dense.length ? Math.max(0, s) : s;
      }
      v = out;
    }
    let num = 0, den = 0;
    for (let o = 0; o < v.length; o++) { num += (v[o] - r.logits[o]) ** 2; den += v[o] ** 2; }
    const e = Math.sqrt(num / den);
    console.log(`  ${pooling} pooling: logits ${Array.from(r.logits, (q) => q.toFixed(3)).join(' ')}; rel L2 vs plain JS ${e.toExponential(2)}`);
    assert.equal(r.logits.length, 5);
    assert.ok(e < 1e-5, `relative L2 ${e}`);
    assert.ok(Math.max(...v) - Math.min(...v) > 0.5, 'the logits are spread (the check can fail)');
  }
});

test('the gradient oracle explains a binary Dense(1) head by +logit (class 1) and -logit (class 0)', async () => {
  const O = await import('../oracle/grad.mjs');
  const { randomInput } = await import('../oracle/xception.mjs');
  const raw = rawModel(1, PRESETS.transfer);
  const P = await O.loadRawWeights(raw.dir);
  assert.deepEqual(P.rescaling, { scale: 1 / 127.5, offset: -1 });
  const x = randomInput(6, 150, 150);
  const g1 = await O.gradAt(P, x, 150, 150, 'block14_sepconv2_act', 1);
  const g0 = await O.gradAt(P, x, 150, 150, 'block14_sepconv2_act', 0);
  const f = await O.forward(P, x, 150, 150);
  assert.equal(f.logits.length, 1);
  assert.ok(Math.abs(g1.score - f.logits[0]) < 1e-5 && Math.abs(g0.score + f.logits[0]) < 1e-5);
  // at block14 the gradient of +logit is W[:, 0] / (H*W) everywhere, and that of class 0 its negative
  const [H, W, C] = g1.shape;
  const k = P.head.dense[0].kernelData;
  for (const c of [0, 7, 2047]) {
    assert.ok(Math.abs(g1.grad[5 * C + c] - k[c] / (H * W)) < 1e-7);
    assert.equal(g0.grad[5 * C + c], -g1.grad[5 * C + c]);
  }
  await assert.rejects(O.gradAt(P, x, 150, 150, 'block14_sepconv2_act', 2), /class index/);
});

test('presetFixture gives the issue\'s fixtures', async () => {
  const f = await presetFixture('transfer');
  assert.match(f.path, /model\.keras$/);
  const g = await presetFixture('dense5Nested', { layout: 'keras2-full' });
  assert.match(g.path, /model\.h5$/);
});
