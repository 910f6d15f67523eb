// stability.test.mjs - 1,000 consecutive explains in the single-thread wasm build under Node
// (web/engine.js, mixed methods, layers and small images at inputSize 71), with the wasm heap
// and the JS heap sampled: after a warm-up that meets every method and layer once, the wasm
// heap must not grow at all and the JS heap by at most 1 MB. Also 50 overlapping explain calls
// on one engine (which runs them one at a time): each result equals the same call made alone.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createSingleEngine, testWeights } from './helpers.mjs';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc');

const weights = testWeights(1);

async function createEngine() {
  const e = await createSingleEngine();
  await e.loadWeights(new Uint8Array(readFileSync(weights.f16)));
  return e;
}

// the mix: CAMs at several depths (block14's need no backward pass, the others one to their
// layer), one and two classes, and backward passes to the input (saliency, SmoothGrad with one
// sample); the multi-pass methods at their smallest settings appear in the 50-call test
const MIX = [
  { method: 'gradcam' },
  { method: 'xgradcam', topK: 2 },
  { method: 'eigencam', layer: 'block13_sepconv2_bn' },
  { method: 'hirescam', layer: 'block14_sepconv1_act', blend: 'alpha', alpha: 0.7 },
  { method: 'gradcam++' },
  { method: 'layercam', layer: 'block13_sepconv2_act', colormap: 'viridis' },
  { method: 'gradcam++', layer: 'block8_sepconv3_act' },
  { method: 'saliency', colormap: 'gray' },
  { method: 'gradcam', layer: 'block11_add', classIndex: 7 },
  { method: 'smoothgrad', methodOptions: { samples: 1, seed: 3 } },
];

/** A small deterministic RGBA image, different for each i. */
function smallImage(i) {
  const w = 8 + (i % 9);
  const h = 8 + ((i * 7) % 11);
  const data = new Uint8Array(w * h * 4);
  let s = (i + 1) * 2654435761 >>> 0;
  for (let k = 0; k < data.length; k++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    data[k] = s & 255;
  }
  return { data, width: w, height: h };
}

const MB = 2 ** 20;

test('1000 consecutive explains: the wasm heap stays flat after the warm-up, the JS heap within 1 MB', async () => {
  const engine = await createEngine();
  const N = 1000;
  const WARMUP = 2 * MIX.length * 4; // every option set met (with different image sizes) 8 times
  const samples = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < N; i++) {
      const img = smallImage(i);
      const r = await engine.explain(img.data, img.width, img.height, { ...MIX[i % MIX.length], inputSize: 71 });
      const first = Array.isArray(r) ? r[0] : r;
      assert.equal(first.overlay.width, img.width);
      if ((i + 1) % 100 === 0 || i + 1 === WARMUP) {
        collect();
        samples.push({ i: i + 1, wasmMB: engine.memory().wasmHeap / MB, jsMB: +(process.memoryUsage().heapUsed / MB).toFixed(2), s: +((performance.now() - t0) / 1000).toFixed(1) });
      }
    }
  } finally {
    engine.dispose();
  }
  console.log(`  ${N} explains in ${((performance.now() - t0) / 1000).toFixed(1)} s; samples (after i explains: wasm heap MB, JS heap MB used, seconds):`);
  for (const s of samples) console.log(`    ${String(s.i).padStart(4)}: wasm ${s.wasmMB} MB, JS ${s.jsMB} MB, ${s.s} s`);
  const base = samples.find((s) => s.i === WARMUP);
  const later = samples.filter((s) => s.i > WARMUP);
  assert.ok(later.length >= 9);
  for (const s of later) {
    assert.equal(s.wasmMB, base.wasmMB, `the wasm heap grew after the warm-up: ${base.wasmMB} MB at ${WARMUP}, ${s.wasmMB} MB at ${s.i}`);
    assert.ok(s.jsMB - base.jsMB <= 1, `the JS heap grew by ${(s.jsMB - base.jsMB).toFixed(1)} MB after the warm-up (at ${s.i})`);
  }
});

// the multi-pass methods at small settings join the mix here
const MIX50 = [...MIX,
  { method: 'scorecam', methodOptions: { channels: 3 } },
  { method: 'integrated-gradients', methodOptions: { steps: 2 } },
  { method: 'guided-gradcam', layer: 'block10_sepconv3_act' },
  { method: 'gradcam', layer: 'block2_pool', classIndex: 7, metrics: { steps: 1 } },
];

/** Enough of a result to tell two apart: class, layer, map size, map and overlay bytes. */
function digest(r) {
  if (Array.isArray(r)) return r.map(digest).join(' ');
  return `${r.classIndex}/${r.layer}/${r.method}/${r.cam.height}x${r.cam.width}x${r.cam.channels}/` +
    `${Buffer.from(r.cam.data.buffer).toString('base64')}/${Buffer.from(r.overlay.data).toString('base64')}/${r.metrics ? Array.from(r.metrics.deletion).join() : ''}`;
}

test('50 overlapping explain calls on one engine: answered in call order, each equal to the same call made alone', async () => {
  const engine = await createEngine();
  try {
    const call = (i) => {
      const img = smallImage(i);
      return engine.explain(img.data, img.width, img.height, { ...MIX50[i % MIX50.length], inputSize: 71 });
    };
    const order = [];
    const together = await Promise.all(Array.from({ length: 50 }, (_, i) => call(i).then((r) => { order.push(i); return digest(r); })));
    const alone = [];
    for (let i = 0; i < 50; i++) alone.push(digest(await call(i)));
    assert.deepEqual(order, Array.from({ length: 50 }, (_, i) => i));
    assert.equal(new Set(alone).size, 50, '50 different results');
    for (let i = 0; i < 50; i++) assert.equal(together[i], alone[i], `call ${i}`);
  } finally {
    engine.dispose();
  }
});
