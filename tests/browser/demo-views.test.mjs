// demo-views.test.mjs - the demo page's teaching views in headless Chromium (threaded, the
// synthetic test weights), each checked against the package's API:
// - Compare methods: one picture per CAM-family method (the methods() with a layer and one
//   channel), then with the pixel methods; every map equals a single gc.explain() of that method;
//   the grid saved as one valid PNG;
// - Layer by layer: Grad-CAM at the 14 block outputs, each equal to a single explain;
// - Feature maps: the layer's activation equals gc.activation(); arrow keys and Enter show one
//   channel large, whose pixels are that channel scaled by its own min and max;
// - Many photos: three photos and a non-image file; each guess equals gc.classify(); the ZIP
//   (stored, CRCs checked) holds a PNG per photo and predictions.csv with the API's top 5;
// - each view: axe-core finds no violation; screenshots at 1280x800 and 390x844.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from '../js/helpers.mjs';
import {
  andWait, checkPng, demoWithPhoto, download, goodWeightsDir, look, readZip, shots,
} from './demo-helpers.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'gradcam-views-'));
const goodDir = goodWeightsDir(tmp);
const notImage = join(tmp, 'notes.png');
writeFileSync(notImage, 'not a picture');
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Each shown result's raw map against a single gc.explain() with the same method, layer and class. */
const mapsAgainstApi = (page, list) => page.evaluate(async (which) => {
  const S = window.demo;
  const out = [];
  for (const { method, layer, result } of S[which]) {
    const o = { classIndex: result.classIndex, method, methodOptions: S.settings[method] };
    if (result.layer !== 'input') o.layer = layer || result.layer;
    const single = await window.gradcam.explain(S.image.source, o);
    const a = result.cam.data;
    const b = single.cam.data;
    let differing = a.length === b.length ? 0 : -1;
    for (let i = 0; differing >= 0 && i < a.length; i++) if (!Object.is(a[i], b[i])) differing++;
    out.push({ method, layer: result.layer, differing, size: `${single.cam.width}x${single.cam.height}x${single.cam.channels}` });
  }
  return out;
}, list);

describe('demo page, teaching views (threaded)', () => {
  let b;
  let page;
  before(async () => {
    b = await demoWithPhoto(goodDir, 'cat-and-dog');
    page = b.page;
    // the slow methods with few passes, as a teacher would set them for a quick comparison
    await page.evaluate(() => Object.assign(window.demo.settings, {
      scorecam: { channels: 4 }, smoothgrad: { samples: 2 }, 'integrated-gradients': { steps: 2 },
    }));
  });
  after(async () => { await b?.close(); });

  test('Compare methods: the CAM family in one grid, each map equal to a single explain; the pixel methods on request; one PNG', async () => {
    await andWait(page, 'compared', () => page.click('#view-tabs button[data-view="compare"]'));
    const cam = await page.evaluate(() => window.gradcam.methods().filter((m) => m.usesLayer && m.channels === 1).map((m) => m.name));
    assert.deepEqual(cam, ['gradcam', 'gradcam++', 'hirescam', 'xgradcam', 'layercam', 'eigencam', 'scorecam', 'eigengradcam', 'ablationcam']);
    assert.deepEqual(await page.evaluate(() => window.demo.compare.map((x) => x.method)), cam);
    assert.equal(await page.$$eval('#compare-grid .cell', (c) => c.length), cam.length);
    const times = await page.$$eval('#compare-grid .cell .hint', (c) => c.map((x) => x.textContent));
    assert.ok(times.every((t) => /^\d+(\.\d)? (ms|s)/.test(t)), times.join(' | '));
    const checks = await mapsAgainstApi(page, 'compare');
    for (const r of checks) assert.equal(r.differing, 0, `${r.method} at ${r.layer}`);
    assert.deepEqual([...new Set(checks.map((r) => r.layer))], [await page.inputValue('#layer')], 'the main view\'s layer');
    await look(page, 'compare');
    await andWait(page, 'compared', () => page.check('#compare-pixels'));
    const all = await page.evaluate(() => window.demo.compare.map((x) => x.method));
    assert.deepEqual(all, await page.evaluate(() => window.gradcam.methods().map((m) => m.name)), 'every method of the registry');
    assert.equal(all.length, 15);
    for (const r of await mapsAgainstApi(page, 'compare')) assert.equal(r.differing, 0, `${r.method} at ${r.layer} (${r.size})`);
    const png = await download(page, () => page.click('#compare-save'));
    assert.match(png.name, /^cat-and-dog-.+-methods\.png$/);
    const ihdr = checkPng(png.bytes);
    assert.equal(ihdr.width, 4 * 320);
    await page.screenshot({ path: `${shots}/demo-1280-compare-all.png`, fullPage: true });
    await page.uncheck('#compare-pixels');
  });

  test('Layer by layer: Grad-CAM at the 14 block outputs, each equal to a single explain', async () => {
    await andWait(page, 'layered', () => page.click('#view-tabs button[data-view="layers"]'));
    const layers = await page.evaluate(() => window.demo.layersResults.map((x) => x.layer));
    assert.equal(layers.length, 14);
    assert.deepEqual([layers[0], layers[1], layers[13]], ['block1_conv2_act', 'block2_add', 'block14_sepconv2_act']);
    const checks = await mapsAgainstApi(page, 'layersResults');
    for (const r of checks) assert.equal(r.differing, 0, r.layer);
    assert.deepEqual([checks[0].size, checks[13].size], ['147x147x1', '10x10x1']);
    await look(page, 'layers');
  });

  test('Feature maps: the activation from the API; arrow keys and Enter show one channel large', async () => {
    await andWait(page, 'features', () => page.click('#view-tabs button[data-view="features"]'));
    const same = await page.evaluate(async () => {
      const S = window.demo;
      const a = await window.gradcam.activation(S.image.source, S.features.layer);
      return { layer: a.layer, shape: a.shape, equal: a.data.length === S.features.data.length && a.data.every((v, i) => Object.is(v, S.features.data[i])) };
    });
    assert.deepEqual(same, { layer: 'block3_add', shape: [1, 37, 37, 256], equal: true });
    assert.match(await page.textContent('#features-caption'), /256 feature maps of 37×37/);
    await page.focus('#features-grid');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    await andWait(page, 'featureShown', () => page.keyboard.press('Enter'));
    const shown = await page.evaluate(() => {
      const { data, shape: [, H, W, C] } = window.demo.features;
      const c = window.demo.featureShown.channel;
      const canvas = document.getElementById('features-large');
      const px = canvas.getContext('2d').getImageData(0, 0, W, H).data;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < H * W; i++) { lo = Math.min(lo, data[i * C + c]); hi = Math.max(hi, data[i * C + c]); }
      let worst = 0;
      for (let i = 0; i < H * W; i++) worst = Math.max(worst, Math.abs(px[4 * i] - ((data[i * C + c] - lo) / (hi - lo)) * 255));
      return { c, size: `${canvas.width}x${canvas.height}`, worst };
    });
    const cols = Math.ceil(Math.sqrt(256));
    assert.deepEqual({ c: shown.c, size: shown.size }, { c: 2 + cols, size: '37x37' });
    assert.ok(shown.worst <= 0.5, `pixels are the channel scaled to 0..255 (worst ${shown.worst})`);
    // another layer, chosen from all of them
    await page.check('#features-all');
    await andWait(page, 'features', () => page.selectOption('#features-layer', 'block1_conv1_act'));
    assert.deepEqual(await page.evaluate(() => window.demo.features.shape), [1, 149, 149, 32]);
    await look(page, 'features');
  });

  test('Many photos: each guess equals gc.classify(); a ZIP with a PNG per photo and predictions.csv', async () => {
    await page.click('#view-tabs button[data-view="batch"]');
    const files = ['cat', 'eagle', 'coffee'].map((s) => `${root}web/demo/samples/${s}.jpg`);
    await andWait(page, 'batched', () => page.setInputFiles('#batch-files', [...files, notImage]));
    assert.equal(await page.$$eval('#batch-grid .cell', (c) => c.length), 4);
    assert.match(await page.textContent('#batch-grid'), /notes\.png.*not readable as a photo/s);
    const api = await page.evaluate(async () => {
      const out = [];
      for (const s of ['cat', 'eagle', 'coffee']) {
        const blob = await (await fetch(`samples/${s}.jpg`)).blob();
        out.push((await window.gradcam.classify(blob, { topK: 5 })).top.map((t) => [t.name, t.index, t.prob.toFixed(6)]));
      }
      return out;
    });
    const zip = await download(page, () => page.click('#batch-save'));
    assert.equal(zip.name, 'gradcam-photos.zip');
    const entries = readZip(zip.bytes);
    assert.deepEqual(entries.map((e) => [e.name, e.method]), [
      ['pictures/cat-gradcam.png', 0], ['pictures/eagle-gradcam.png', 0], ['pictures/coffee-gradcam.png', 0], ['predictions.csv', 0]]);
    for (const e of entries.slice(0, 3)) checkPng(e.data);
    assert.deepEqual(checkPng(entries[0].data), { width: 451, height: 300, depth: 8, color: 6 });
    const rows = entries[3].data.toString('utf8').trim().split('\r\n').map((l) => l.split(','));
    assert.equal(rows[0].length, 16);
    assert.deepEqual(rows.slice(1).map((r) => r[0]), ['cat.jpg', 'eagle.jpg', 'coffee.jpg']);
    rows.slice(1).forEach((r, i) => assert.deepEqual(r.slice(1), api[i].flat().map(String), r[0]));
    await look(page, 'batch');
  });

  test('no request left the page\'s origin; no page error', () => {
    assert.deepEqual(b.foreign, []);
    const errors = b.consoleLines.filter((l) => /^(error|pageerror)/.test(l) && !/Failed to load resource/.test(l));
    assert.deepEqual(errors, []);
  });
});
