// kept-pass.test.mjs - the engine's kept forward pass and its render / activation calls
// (web/engine.js, web/kept.js) on the single-thread wasm build in Node:
// - an explain of the same pixels reuses the last forward pass (another class, another layer,
//   after a multi-pass method that restores it) and gives exactly the maps a fresh pass gives;
//   other pixels, another input size, forget() and new weights run the network again;
// - render() of an explanation's map equals explain()'s own heatmap and overlay, for every
//   colormap, blend and both scales; activation() equals the core's activation after a fresh pass;
// - explain reports its stages as {done, total}.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createSingleEngine, imagesDir, testWeights } from './helpers.mjs';
import { decodePng } from './png.mjs';
import { imageKey } from '../../web/kept.js';

const weights = testWeights(1);
const img = decodePng(readFileSync(`${imagesDir}/skimage_coffee.png`));
const other = decodePng(readFileSync(`${imagesDir}/skimage_chelsea.png`));
const same = (a, b) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

let engine;
test.before(async () => {
  engine = await createSingleEngine();
  await engine.loadWeights(new Uint8Array(readFileSync(weights.f16)));
});
test.after(() => engine.dispose());

/** explain on a fresh forward pass (the kept one forgotten first) */
async function fresh(px, options) {
  engine.forget();
  const r = await engine.explain(px.rgba, px.width, px.height, options);
  assert.equal(r.reusedForward, false);
  return r;
}

test('image keys: the same pixels give the same key; one byte, the size or the input side change it', () => {
  const k = imageKey(img.rgba, img.width, img.height, 299);
  assert.equal(imageKey(new Uint8Array(img.rgba), img.width, img.height, 299), k);
  const changed = new Uint8Array(img.rgba);
  changed[12345] ^= 1;
  assert.notEqual(imageKey(changed, img.width, img.height, 299), k);
  assert.notEqual(imageKey(img.rgba, img.height, img.width, 299), k);
  assert.notEqual(imageKey(img.rgba, img.width, img.height, 224), k);
});

test('another class, another layer: no forward pass, and the same maps as a fresh pass', async () => {
  const a = await fresh(img, { method: 'gradcam' });
  const second = a.classes[1].index;
  const progress = [];
  const b = await engine.explain(img.rgba, img.width, img.height, { method: 'gradcam', classIndex: second }, { onProgress: (p) => progress.push(p) });
  assert.equal(b.reusedForward, true);
  assert.equal(b.timings.forward, 0);
  assert.deepEqual(progress.map((p) => [p.stage, p.done, p.total]), [['map', 0, 1], ['done', 1, 1]]);
  const bFresh = await fresh(img, { method: 'gradcam', classIndex: second });
  assert.ok(same(b.cam.data, bFresh.cam.data), 'class switch at block14 equals a fresh pass');
  const c = await engine.explain(img.rgba, img.width, img.height, { method: 'layercam', layer: 'block8_sepconv3_act', classIndex: second });
  assert.equal(c.reusedForward, true);
  const cFresh = await fresh(img, { method: 'layercam', layer: 'block8_sepconv3_act', classIndex: second });
  assert.ok(same(c.cam.data, cFresh.cam.data), 'layer switch equals a fresh pass');
  assert.ok(!same(c.cam.data.subarray(0, 10), b.cam.data.subarray(0, 10)));
});

test('after multi-pass methods (Score-CAM, SmoothGrad, Integrated Gradients, metrics) the kept pass is still the image\'s', async () => {
  const ref = await fresh(img, { method: 'hirescam', layer: 'block13_add' });
  const progress = [];
  const passes = [];
  const s = await engine.explain(img.rgba, img.width, img.height, { method: 'scorecam', methodOptions: { channels: 4 }, metrics: { steps: 2 } },
    { onProgress: (p) => (typeof p.passes === 'object' ? passes.push(p) : progress.push(p.stage)) });
  assert.equal(s.reusedForward, true);
  assert.deepEqual(progress, ['map', 'metrics', 'done']);
  // inside both stages the core reported its passes (done < total, counting up)
  for (const stage of ['map', 'metrics']) {
    const ps = passes.filter((p) => p.stage === stage).map((p) => p.passes);
    assert.ok(ps.length >= 1 && ps.every((q, i) => q.done < q.total && (i === 0 || q.done > ps[i - 1].done)), `${stage}: ${JSON.stringify(ps)}`);
  }
  // SmoothGrad: the core asks twice per sample (before it and between its forward and backward
  // half, to cancel sooner); each count is reported once
  const sg = [];
  await engine.explain(img.rgba, img.width, img.height, { method: 'smoothgrad', methodOptions: { samples: 2 } },
    { onProgress: (p) => { if (typeof p.passes === 'object') sg.push(p.passes); } });
  assert.deepEqual(sg, [{ done: 0, total: 2 }, { done: 1, total: 2 }]);
  const check = async (after) => {
    const again = await engine.explain(img.rgba, img.width, img.height, { method: 'hirescam', layer: 'block13_add' });
    assert.equal(again.reusedForward, true, after);
    assert.ok(same(again.cam.data, ref.cam.data), after);
    assert.deepEqual(again.classes.map((x) => x.index), ref.classes.map((x) => x.index), after);
  };
  await check('after SmoothGrad');
  // Integrated Gradients' last step is the input itself: the pass it leaves is the image's
  await engine.explain(img.rgba, img.width, img.height, { method: 'integrated-gradients', methodOptions: { steps: 3 } });
  await check('after Integrated Gradients');
});

test('other pixels, another input size, forget(), classify of another image: a new pass', async () => {
  await engine.explain(img.rgba, img.width, img.height, {});
  const o = await engine.explain(other.rgba, other.width, other.height, {});
  assert.equal(o.reusedForward, false);
  const small = await engine.explain(other.rgba, other.width, other.height, { inputSize: 160 });
  assert.equal(small.reusedForward, false);
  assert.equal(small.cam.width, 5);
  const c = engine.classify(other.rgba, other.width, other.height);
  assert.equal(c.reusedForward, false);
  const e = await engine.explain(other.rgba, other.width, other.height, {});
  assert.equal(e.reusedForward, true, 'classify then explain: one forward pass');
  assert.deepEqual(e.classes.slice(0, 5).map((x) => x.index), c.top.map((x) => x.index));
  engine.forget();
  assert.equal((await engine.explain(other.rgba, other.width, other.height, {})).reusedForward, false);
  await engine.loadWeights(new Uint8Array(readFileSync(weights.f16)));
  assert.equal((await engine.explain(other.rgba, other.width, other.height, {})).reusedForward, false, 'new weights');
});

test('render() of a map equals explain()\'s heatmap and overlay for every colormap, blend and scale', async () => {
  const base = await fresh(img, { method: 'gradcam' });
  const sal = await engine.explain(img.rgba, img.width, img.height, { method: 'saliency' });
  const gb = await engine.explain(img.rgba, img.width, img.height, { method: 'guided-backprop' });
  let n = 0;
  const combos = [['additive', 0.4, 'max'], ['alpha', 0.7, 'max'], ['alpha', 0.5, 'percentile']];
  for (const r0 of [base, sal, gb]) {
    // every colormap for Grad-CAM; two for the input-space maps (each explain is a backward pass)
    for (const colormap of r0 === base ? engine.colormaps() : ['gray', 'diverging']) {
      for (const [blend, alpha, scale] of combos) {
        const want = await engine.explain(img.rgba, img.width, img.height, { method: r0.method, colormap, blend, alpha, scale });
        const got = engine.render(r0.cam, img.rgba, img.width, img.height, { colormap, blend, alpha, scale });
        assert.ok(same(got.heatmap.data, want.heatmap.data), `${r0.method} ${colormap} ${blend} ${scale} heatmap`);
        assert.ok(same(got.overlay.data, want.overlay.data), `${r0.method} ${colormap} ${blend} ${scale} overlay`);
        n++;
      }
    }
  }
  assert.equal(n, (6 + 2 + 2) * 3);
  // the percentile scale shows saliency as the papers do: about 1% of the pixels white
  const grey = engine.render(sal.cam, img.rgba, img.width, img.height, { colormap: 'gray', scale: 'percentile' }).heatmap.data;
  const max = engine.render(sal.cam, img.rgba, img.width, img.height, { colormap: 'gray', scale: 'max' }).heatmap.data;
  const mean = (d) => { let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i]; return s / (d.length / 4); };
  assert.ok(mean(grey) > 2 * mean(max), `brighter than max-scaled (${mean(grey).toFixed(1)} vs ${mean(max).toFixed(1)})`);
  assert.throws(() => engine.render(sal.cam, img.rgba, img.width, img.height, { scale: 'log' }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => engine.render({ width: 3, height: 3, channels: 1, data: new Float32Array(8) }, img.rgba, img.width, img.height, {}), { code: 'INVALID_ARGUMENT' });
});

test('activation(): the kept pass, equal to the core\'s activation after a fresh pass', async () => {
  engine.forget();
  const a = await engine.activation(img.rgba, img.width, img.height, 'block3_add');
  assert.equal(a.reusedForward, false);
  assert.deepEqual(a.shape, [1, 37, 37, 256]);
  const b = await engine.activation(img.rgba, img.width, img.height, 'block1_conv1_act');
  assert.equal(b.reusedForward, true);
  engine.forget();
  engine.core.forwardImage(img.rgba, img.width, img.height, 4);
  assert.ok(same(b.data, engine.core.activation('block1_conv1_act').data));
  await assert.rejects(engine.activation(img.rgba, img.width, img.height, 'block99_act'), { code: 'LAYER_UNKNOWN' });
});

test('cancelled() polled by the core stops a multi-pass method between its passes; the kept pass is then forgotten', async () => {
  await fresh(img, { method: 'gradcam' });
  let seen = 0;
  const t0 = performance.now();
  await assert.rejects(engine.explain(img.rgba, img.width, img.height, { method: 'integrated-gradients', methodOptions: { steps: 64 } }, {
    onProgress: (p) => { if (typeof p.passes === 'object') seen = p.passes.done; },
    cancelled: () => seen >= 2,
  }), { code: 'ABORTED', message: 'the operation was aborted' });
  const ms = performance.now() - t0;
  console.log(`  Integrated Gradients (64 steps) cancelled after pass ${seen} of 64: ${ms.toFixed(0)} ms`);
  assert.equal(seen, 2, 'stopped right after the pass that asked');
  const next = await engine.explain(img.rgba, img.width, img.height, { method: 'gradcam' });
  assert.equal(next.reusedForward, false, 'the cancelled call left the model without its pass');
});
