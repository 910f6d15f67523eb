// demo-core-views.test.mjs - the demo's teaching views that need the core's new calls, in
// headless Chromium (threaded, the synthetic test weights), each checked against the API:
// - Inside Grad-CAM: the channel weights and the weighted sum from explain({detail: true}), the
//   sum equal to sum_k w_k A^k of activation(), the raw map its ReLU, shown as a grid of numbers
//   that are the API's values, the largest weights in the bar chart and the top channels' maps;
// - Two classes: Grad-CAM of two guesses and the contrastive map, equal to ReLU(sum_k (w_a - w_b) A^k)
//   from two detail calls (the CLI has no --contrast yet: the engine's own numbers are the check);
// - Sanity check: the table's maps and similarities equal gc.sanityCheck() called directly; the
//   randomised copies change Grad-CAM; the loaded model is untouched and the copies are freed;
// - a dropped Keras model (keras.io's transfer .keras, 150x150, Dense(1)) with a class names file:
//   its names in the guesses and the model's words; a notop model: no guesses, Feature maps work;
// - each view reachable by keyboard in two key presses, axe-core clean at 1280x800 and 390x844.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kerasFixture, presetFixture } from '../js/fixtures.mjs';
import { relL2 } from '../js/helpers.mjs';
import { andWait, axe, demoWithPhoto, goodWeightsDir, look, T } from './demo-helpers.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'gradcam-core-views-'));
const goodDir = goodWeightsDir(tmp);
const labels = join(tmp, 'pets.txt');
writeFileSync(labels, 'cat\ndog\n');
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Open a view from the keyboard: focus its tab, press Enter (two key presses from the tabs). */
async function openByKeyboard(page, view, counterName) {
  await page.focus('#view-tabs button[data-view="explain"]');
  const tabs = await page.$$eval('#view-tabs button', (bs) => bs.map((x) => x.dataset.view));
  for (let i = 0; i < tabs.indexOf(view); i++) await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.view), view);
  await andWait(page, counterName, () => page.keyboard.press('Enter'));
}

describe('demo page, the views on the core\'s detail, contrast and sanity check (threaded)', () => {
  let b;
  let page;
  before(async () => {
    b = await demoWithPhoto(goodDir, 'cat-and-dog');
    page = b.page;
    await page.selectOption('#layer', 'block12_add');
    await page.waitForFunction(() => window.demo.result && window.demo.result.layer === 'block12_add', null, { timeout: T });
  });
  after(async () => { await b?.close(); });

  test('Inside Grad-CAM: weights, feature maps, weighted sum, ReLU and upsampling, each as the API computes them', async () => {
    await openByKeyboard(page, 'inside', 'inside');
    const r = await page.evaluate(async () => {
      const S = window.demo;
      const { result, activation, layer, order } = S.inside;
      const api = await window.gradcam.explain(S.image.source, { classIndex: result.classIndex, method: 'gradcam', layer, detail: true });
      const act = await window.gradcam.activation(S.image.source, layer);
      const [, H, W, K] = act.shape;
      const w = api.detail.weights;
      // sum_k w_k A^k in float64, from the activation and the weights
      const sum = new Float64Array(H * W);
      for (let p = 0; p < H * W; p++) for (let k = 0; k < K; k++) sum[p] += w[k] * act.data[p * K + k];
      const cells = [...document.querySelectorAll('#inside-steps .numbers')].map((t) => [...t.querySelectorAll('td')].map((td) => [td.dataset.v, td.textContent]));
      const byMag = Array.from(w.keys()).sort((a, b) => Math.abs(w[b]) - Math.abs(w[a]) || a - b);
      return {
        layer, shape: act.shape, sameWeights: w.length === result.detail.weights.length && w.every((v, i) => Object.is(v, result.detail.weights[i])),
        sameAct: act.data.every((v, i) => Object.is(v, activation.data[i])),
        pre: Array.from(result.detail.preRelu.data), sum: Array.from(sum), cam: Array.from(result.cam.data), apiCam: Array.from(api.cam.data),
        cells, order: order.slice(0, 16), byMag: byMag.slice(0, 16),
        captions: [...document.querySelectorAll('#inside-steps figcaption')].map((f) => f.textContent),
        weights: Array.from(w.slice(0, 1)), wTop: byMag.slice(0, 6).map((k) => [k, w[k]]),
      };
    });
    assert.equal(r.layer, 'block12_add');
    assert.deepEqual(r.shape, [1, 19, 19, 728]);
    assert.ok(r.sameWeights && r.sameAct, 'the view shows the API\'s weights and activation');
    const e = relL2(r.pre, r.sum);
    console.log(`  Inside Grad-CAM at block12_add: weighted sum vs sum_k w_k A^k rel L2 ${e.toExponential(2)}`);
    assert.ok(e <= 1e-5, `the weighted sum is sum_k w_k A^k (rel L2 ${e})`);
    assert.deepEqual(r.cam, r.apiCam, 'the raw map is the API\'s');
    assert.deepEqual(r.cam, r.pre.map((v) => Math.max(0, v)), 'the raw map is the ReLU of the weighted sum');
    assert.equal(r.cells.length, 2, 'two grids of numbers (19x19 each)');
    // each cell shows its value to 2 significant digits (1 below 0.001): within half a unit of the last digit
    const close = (text, v) => {
      if (v === 0) return text === '0';
      const e = Math.floor(Math.log10(Math.abs(v)));
      return Math.abs(Number(text) - v) <= 0.5 * 10 ** (Math.abs(v) >= 0.001 ? e - 1 : e) * (1 + 1e-9);
    };
    for (const [grid, values] of [[r.cells[0], r.pre], [r.cells[1], r.cam]]) {
      assert.equal(grid.length, 361);
      grid.forEach(([v, text], i) => { assert.equal(Number(v), values[i]); assert.ok(close(text, values[i]), `${text} for ${values[i]}`); });
    }
    assert.deepEqual(r.order, r.byMag, 'the bars are the 16 largest weights');
    r.captions.slice(0, 6).forEach((c, i) => {
      const [, k, w] = /^channel (\d+) · weight (\S+)$/.exec(c);
      assert.equal(Number(k), r.wTop[i][0]);
      assert.ok(close(w, r.wTop[i][1]), c);
    });
    await look(page, 'inside', { fullPage: true });
  });

  test('Two classes: each guess\'s Grad-CAM and the contrastive map ReLU(sum_k (w_a - w_b) A^k)', async () => {
    await openByKeyboard(page, 'contrast', 'contrasted');
    const r = await page.evaluate(async () => {
      const S = window.demo;
      const { a, b, layer, results: { contrast } } = S.contrast;
      const da = (await window.gradcam.explain(S.image.source, { classIndex: a, layer, detail: true })).detail.weights;
      const db = (await window.gradcam.explain(S.image.source, { classIndex: b, layer, detail: true })).detail.weights;
      const act = await window.gradcam.activation(S.image.source, layer);
      const [, H, W, K] = act.shape;
      const sum = new Float64Array(H * W);
      for (let p = 0; p < H * W; p++) for (let k = 0; k < K; k++) sum[p] += (da[k] - db[k]) * act.data[p * K + k];
      return {
        a, b, top2: S.classes.slice(0, 2).map((c) => c.index), contrastClass: contrast.contrastClass, classIndex: contrast.classIndex,
        cam: Array.from(contrast.cam.data), pre: Array.from(contrast.detail.preRelu.data), sum: Array.from(sum),
        cells: document.querySelectorAll('#contrast-grid .cell').length, signed: contrast.signed.overlay.width, imageWidth: contrast.overlay.width,
      };
    });
    assert.deepEqual([r.a, r.b], r.top2, 'the first two guesses by default');
    assert.deepEqual([r.classIndex, r.contrastClass], [r.a, r.b]);
    const ePre = relL2(r.pre, r.sum);
    const eCam = relL2(r.cam, r.sum.map((v) => Math.max(0, v)));
    console.log(`  Two classes: contrastive sum vs sum_k (w_a - w_b) A^k rel L2 ${ePre.toExponential(2)}, map vs its ReLU ${eCam.toExponential(2)}`);
    assert.ok(ePre <= 1e-5 && eCam <= 1e-5);
    assert.equal(r.cells, 3);
    assert.equal(r.signed, r.imageWidth, 'the signed map over the photo');
    // another pair from the keyboard-usable selects
    await andWait(page, 'contrasted', () => page.selectOption('#contrast-b', { index: 2 }));
    assert.equal(await page.evaluate(() => window.demo.contrast.b), await page.evaluate(() => window.demo.classes[2].index));
    await look(page, 'contrast', { fullPage: true });
  });

  test('Sanity check: the table equals gc.sanityCheck(); random weights change Grad-CAM; the model is untouched and the copies freed', async () => {
    const before = await page.evaluate(async () => Array.from((await window.gradcam.classify(window.demo.image.source)).logits));
    await openByKeyboard(page, 'sanity', 'sanity');
    const heap1 = await page.evaluate(async () => (await window.gradcam.memory()).wasmHeap);
    const r = await page.evaluate(async () => {
      const S = window.demo;
      const direct = await window.gradcam.sanityCheck(S.image.source, S.sanity.options);
      const shown = S.sanity.result;
      const same = direct.steps.every((st, i) => st.from === shown.steps[i].from && st.maps.every((m, j) => {
        const o = shown.steps[i].maps[j];
        return m.method === o.method && m.similarity === o.similarity && m.cam.data.every((v, q) => Object.is(v, o.cam.data[q]));
      }));
      const texts = [...document.querySelectorAll('#sanity-table td p')].map((p) => [p.dataset.similarity, p.textContent]);
      return { same, options: S.sanity.options, steps: shown.steps.map((st) => [st.from, st.maps.map((m) => [m.method, m.similarity])]), texts };
    });
    const heap2 = await page.evaluate(async () => (await window.gradcam.memory()).wasmHeap);
    const afterLogits = await page.evaluate(async () => Array.from((await window.gradcam.classify(window.demo.image.source)).logits));
    console.log(`  sanity check (${r.options.from.join(', ')}): ${r.steps.map(([f, ms]) => `${f}: ${ms.map(([m, s]) => `${m} ${s.toFixed(2)}`).join(' ')}`).join('; ')}; heap ${heap1 / 2 ** 20} -> ${heap2 / 2 ** 20} MB`);
    assert.ok(r.same, 'the view shows what gc.sanityCheck() gives');
    assert.deepEqual(r.options.from, ['predictions', 'block14_sepconv1_bn', 'block13_residual', 'block12_sepconv1_act']);
    assert.equal(r.steps.length, 5);
    assert.ok(r.steps[0][1].every(([, s]) => s === 1), 'the trained network is the reference');
    const gradcam = r.steps.map(([, ms]) => ms.find(([m]) => m === 'gradcam')[1]);
    assert.ok(gradcam.slice(1).every((s) => s < 0.9), `a random network changes Grad-CAM: ${gradcam}`);
    assert.equal(r.texts.length, 15);
    assert.deepEqual(afterLogits, before, 'the loaded model is untouched');
    // each step loads a randomised copy of the model (its weights file and packed weights, over
    // 100 MB) and frees it; the heap grows in 16 MB steps, and where the allocator places four
    // copies' worth of blocks may take one step more on the second run (runs 3 to 5 then stay at
    // that size); a copy not freed would add over 100 MB
    assert.ok(heap2 - heap1 <= 16 * 2 ** 20, `a second run needs no more memory (one 16 MB growth step at most): the randomised copies are freed (${heap1 / 2 ** 20} -> ${heap2 / 2 ** 20} MB)`);
    await look(page, 'sanity', { fullPage: true });
  });

  test('a dropped Keras model with a class names file: its names and its words; a notop model: no guesses, feature maps', async () => {
    const transfer = await presetFixture('transfer');
    await page.click('#view-tabs button[data-view="explain"]');
    await andWait(page, 'explained', () => page.setInputFiles('#model-file', [transfer.path, labels]));
    const r = await page.evaluate(async () => {
      const S = window.demo;
      const api = await window.gradcam.classify(S.image.source);
      return {
        info: window.gradcam.info().model, top: [...document.querySelectorAll('#top5 .name')].map((x) => x.textContent), apiTop: api.top.map((t) => t.name),
        count: document.getElementById('class-count').textContent, model: document.getElementById('model-state').textContent, shown: S.result.className,
      };
    });
    assert.deepEqual([r.info.classes, r.info.inputSize], [2, [150, 150]]);
    assert.deepEqual(r.top, r.apiTop);
    assert.deepEqual([...r.top].sort(), ['cat', 'dog']);
    assert.equal(r.count, '2');
    assert.match(r.model, /Keras 3 model archive \(\.keras\); input 150×150; 2 classes/);
    assert.equal(r.shown, r.top[0]);
    assert.deepEqual(await axe(page), []);
    // a notop model: nothing to guess; the Feature maps view still works
    const notop = await kerasFixture({ layout: 'keras2', notop: true });
    await page.setInputFiles('#model-file', notop.path);
    await page.waitForFunction(() => /no classifier/.test(document.getElementById('status').textContent), null, { timeout: T });
    assert.match(await page.textContent('#model-state'), /no classifier/);
    await andWait(page, 'features', () => page.click('#view-tabs button[data-view="features"]'));
    await page.click('#view-tabs button[data-view="inside"]');
    assert.match(await page.textContent('#inside-caption'), /no classifier/);
    assert.deepEqual(b.foreign, []);
  });
});
