// demo.test.mjs - the demo page's main view (web/demo) in headless Chromium, served like `npm
// start` does, with the synthetic test weights as the site's weights/xception.gcw:
// - the first screen speaks plain words (no command, no version until the details are opened);
//   loads threaded with the weights' progress in MB; the CSP header;
// - a sample photo: the API's top 5, and the canvases equal gc.explain() pixel for pixel;
// - instant controls: colours, scale, blend and strength re-render the kept map (gc.render, no
//   explain call) and equal gc.explain() with those options; another guess at block14 and
//   another layer reuse the kept forward pass; the layer list shows the 14 block outputs, all
//   activations on request;
// - pixel methods on their own, grey, scaled to the top 1 %, with a colour scale in words;
// - a slow method shows "Step k of n" and Cancel; the caption keeps describing the picture on
//   screen; Cancel and a superseding request bring the page back quickly;
// - errors next to the picture and announced; search, downloads, drop, paste, metrics, camera;
// - keyboard and axe-core (0 violations); screenshots at 1280x800 and 390x844 in
//   test-output/browser/; every request stays on the page's origin, no CSP violation.
// Errors on a server without COOP/COEP (single thread): a corrupt site weights file, a picked
// .h5 kept across a reload, a non-image file, a bad picked weights file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_CSP } from '../../tools/release/serve.mjs';
import {
  andWait, axe, canvasVs, checkPng, counter, download, goodWeightsDir, openDemo, PHONE, PROJECTOR, shot, shots, state, T, weights,
} from './demo-helpers.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'gradcam-demo-'));
const goodDir = goodWeightsDir(tmp);
const corruptDir = join(tmp, 'corrupt');
mkdirSync(corruptDir);
// a weights file whose bytes are damaged after the header: the checksum must catch it
const damaged = Buffer.from(readFileSync(weights.f16).subarray(0, 4 << 20));
for (let i = 4096; i < damaged.length; i += 997) damaged[i] ^= 0x5a;
writeFileSync(join(corruptDir, 'xception.gcw'), damaged);
const notImage = join(tmp, 'holiday.jpg');
writeFileSync(notImage, 'this is text, not a JPEG');
const badWeights = join(tmp, 'my-weights.gcw');
writeFileSync(badWeights, Buffer.alloc(1000, 7));

after(() => rmSync(tmp, { recursive: true, force: true }));

/** The page's canvases against gc.explain() called directly with the page's photo and options. */
async function compareWithApi(page) {
  const r = await page.evaluate(async () => {
    const S = window.demo;
    const opts = S.shownOptions();
    const x = await window.gradcam.explain(S.image.source, opts);
    return { opts, classIndex: x.classIndex, overlay: { width: x.overlay.width, height: x.overlay.height, data: Array.from(x.overlay.data) },
      heatmap: { width: x.heatmap.width, height: x.heatmap.height, data: Array.from(x.heatmap.data) } };
  });
  return { opts: r.opts, classIndex: r.classIndex, overlay: await canvasVs(page, 'overlay-canvas', r.overlay), heatmap: await canvasVs(page, 'heatmap-canvas', r.heatmap) };
}

describe('demo page, main view (threaded, served with COOP/COEP)', () => {
  let b;
  let page;
  before(async () => {
    b = await openDemo({ weightsDir: goodDir, args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
    page = b.page;
  });
  after(async () => {
    if (b) console.log(`  demo: ${b.requests.length} requests, all to ${b.origin}`);
    await b?.close();
  });

  test('first screen in plain words; loads threaded with the weights in MB; the CSP header', async () => {
    const t0 = Date.now();
    const res = await page.goto(`${b.url}/web/demo/`);
    assert.equal(res.headers()['content-security-policy'], DEMO_CSP);
    await state(page, ['ready']);
    console.log(`  page ready (core compiled, 46 MB of weights downloaded, loaded and kept) in ${Date.now() - t0} ms`);
    const visible = await page.evaluate(() => document.body.innerText);
    assert.doesNotMatch(visible, /npm run|core \d+\.\d+|WebAssembly/, 'no developer words before the details are opened');
    assert.match(visible, /red[\s\S]*evidence/, 'what red means');
    assert.equal(await page.isVisible('#mode'), false);
    await page.click('#tech summary');
    assert.match(await page.textContent('#mode'), /^Threaded: 2 threads/);
    assert.match(await page.textContent('#weights-state'), /22\.9 M parameters, from this site/);
    await page.click('#tech summary');
    const statuses = await page.evaluate(() => window.__statuses);
    assert.ok(statuses.some((s) => /Downloading the network's weights… [\d.]+ \/ 43\.7 MB/.test(s)), statuses.join(' | '));
    assert.deepEqual(await axe(page), []);
    await shot(page, '1280-ready');
  });

  test('a sample photo: the API\'s top 5, and the picture equals gc.explain() pixel for pixel', async () => {
    await andWait(page, 'explained', () => page.click('#samples button[data-sample="cat"]'));
    const shown = await page.$$eval('#top5 li', (lis) => lis.map((li) => Number(li.dataset.index)));
    const api = await page.evaluate(async () => {
      const blob = await (await fetch('samples/cat.jpg')).blob();
      return (await window.gradcam.classify(blob, { topK: 5 })).top.map((t) => t.index);
    });
    assert.deepEqual(shown, api);
    assert.equal(await page.getAttribute('#top5 li:first-child button', 'aria-pressed'), 'true');
    const cmp = await compareWithApi(page);
    assert.equal(cmp.classIndex, api[0]);
    assert.deepEqual(cmp.overlay, { bytes: 451 * 300 * 4, differing: 0 });
    assert.deepEqual(cmp.heatmap, { bytes: 451 * 300 * 4, differing: 0 });
    assert.match(await page.textContent('#caption'), /^chain mail \(\d+\.\d %\): Grad-CAM at Block 14 output, 10×10$/);
    assert.match(await page.textContent('#legend-high'), /more evidence for chain mail/);
    assert.deepEqual(await axe(page), []);
    await shot(page, '1280-overlay');
  });

  test('instant controls: colours, scale, blend and strength re-render with no explain call', async () => {
    const explained = await counter(page, 'explained');
    await andWait(page, 'rendered', () => page.selectOption('#colormap', 'viridis'));
    await andWait(page, 'rendered', () => page.selectOption('#blend', 'alpha'));
    await andWait(page, 'rendered', () => page.$eval('#alpha', (el) => { el.value = '0.7'; el.dispatchEvent(new Event('input', { bubbles: true })); }));
    await page.waitForFunction(() => document.body.dataset.rendering === 'no', null, { timeout: T });
    assert.equal(await counter(page, 'explained'), explained, 'no explanation ran');
    assert.equal(await page.textContent('#alpha-value'), '0.70');
    const cmp = await compareWithApi(page);
    assert.equal(cmp.opts.colormap, 'viridis');
    assert.equal(cmp.opts.alpha, 0.7);
    assert.equal(cmp.overlay.differing, 0);
    assert.equal(cmp.heatmap.differing, 0);
    const ms = Number(await page.evaluate(() => document.body.dataset.renderMs));
    console.log(`  re-render after a control change: ${ms} ms`);
    assert.ok(ms < 200, `re-render took ${ms} ms`);
    await page.selectOption('#colormap', 'jet');
    await page.selectOption('#blend', 'additive');
    await andWait(page, 'rendered', () => page.$eval('#alpha', (el) => { el.value = '0.4'; el.dispatchEvent(new Event('input', { bubbles: true })); }));
  });

  test('another guess and another layer reuse the kept forward pass; 14 block outputs, all on request', async () => {
    const second = Number(await page.getAttribute('#top5 li:nth-child(2)', 'data-index'));
    await andWait(page, 'explained', () => page.click('#top5 li:nth-child(2) button'));
    let r = await page.evaluate(() => ({ c: window.demo.result.classIndex, reused: window.demo.result.reusedForward, f: window.demo.result.timings.forward }));
    assert.deepEqual(r, { c: second, reused: true, f: 0 });
    const options = await page.$$eval('#layer option', (o) => o.map((x) => x.value));
    assert.equal(options.length, 14);
    assert.deepEqual([options[0], options[1], options[12], options[13]], ['block1_conv2_act', 'block2_add', 'block13_add', 'block14_sepconv2_act']);
    await andWait(page, 'explained', () => page.selectOption('#layer', 'block8_add'));
    r = await page.evaluate(() => ({ layer: window.demo.result.layer, reused: window.demo.result.reusedForward }));
    assert.deepEqual(r, { layer: 'block8_add', reused: true });
    assert.match(await page.textContent('#caption'), /Grad-CAM at Block 8 output, 19×19$/);
    const cmp = await compareWithApi(page);
    assert.equal(cmp.overlay.differing, 0);
    await page.check('#all-layers');
    const all = await page.$$eval('#layer option', (o) => o.length);
    const spatial = await page.evaluate(() => window.gradcam.layers().filter((l) => l.shape.length === 4 && /^block\d+_/.test(l.name)).length);
    assert.equal(all, spatial);
    assert.ok(all > 80, `${all} activations`);
    assert.equal(await page.inputValue('#layer'), 'block8_add');
    await page.uncheck('#all-layers');
    await andWait(page, 'explained', () => page.selectOption('#layer', 'block14_sepconv2_act'));
  });

  test('pixel methods on their own: grey, scaled to the top 1 %, with words on the scale', async () => {
    await andWait(page, 'explained', () => page.selectOption('#method', 'saliency'));
    assert.equal(await page.isDisabled('#layer'), true);
    assert.deepEqual(await page.evaluate(() => ({ ...window.demo.shownOptions(), classIndex: 0 })),
      { classIndex: 0, method: 'saliency', colormap: 'gray', alpha: 0.6, blend: 'alpha', scale: 'percentile' });
    assert.equal(await page.isVisible('#heatmap-canvas'), true, 'the map alone');
    assert.equal(await page.isVisible('#overlay-canvas'), false);
    assert.match(await page.textContent('#legend-high'), /changes the score of .* most \(the top 1 % and above\)/);
    const cmp = await compareWithApi(page);
    assert.equal(cmp.heatmap.differing, 0);
    await shot(page, '1280-saliency');
    await andWait(page, 'explained', () => page.selectOption('#method', 'guided-backprop'));
    assert.equal(await page.isVisible('#legend-bar'), false);
    assert.match(await page.textContent('#legend-note'), /Grey: no effect/);
    // the overlay stays one click away
    await page.check('input[name="view"][value="overlay"]');
    assert.equal(await page.isVisible('#overlay-canvas'), true);
    await page.check('input[name="view"][value="heatmap"]');
    await andWait(page, 'explained', () => page.selectOption('#method', 'gradcam'));
    assert.equal(await page.isVisible('#overlay-canvas'), true, 'Grad-CAM over the photo again');
  });

  test('a slow method: step k of n and Cancel; the caption keeps describing the picture on screen', async () => {
    const caption = await page.textContent('#caption');
    await page.evaluate(() => { window.demo.settings['integrated-gradients'] = { steps: 64 }; });
    await page.selectOption('#method', 'integrated-gradients');
    await page.waitForSelector('#job:not([hidden])', { timeout: T });
    // the core reports its passes: the bar and the words follow them
    await page.waitForFunction(() => /^Step 1 of 1: Integrated Gradients for .* \(pass \d+ of 64\)/.test(document.getElementById('job-text').textContent), null, { timeout: T });
    assert.equal(await page.textContent('#caption'), caption, 'the caption still describes the Grad-CAM picture');
    await shot(page, '1280-progress');
    const t0 = Date.now();
    await page.click('#job-cancel');
    assert.equal(await page.isVisible('#job'), false);
    await state(page, ['explained']);
    assert.equal(await page.textContent('#caption'), caption);
    // the worker is free again within about one pass: the core stopped (the page shares its
    // cancel flag with the worker), no worker was replaced (demo-cancel.test.mjs measures it)
    const idle = await page.evaluate(async () => { const t = performance.now(); await window.gradcam.memory(); return performance.now() - t; });
    console.log(`  Cancel -> idle ${Date.now() - t0} ms (memory() answered after ${idle.toFixed(0)} ms; worker restarts: ${await page.evaluate(() => window.gradcam.restarts || 0)})`);
    assert.ok(Date.now() - t0 < 10000, `Cancel took ${Date.now() - t0} ms`);
    assert.equal(await page.evaluate(() => window.gradcam.restarts || 0), 0, 'the core stopped by itself');
    // a new request supersedes a running one
    await page.selectOption('#method', 'integrated-gradients');
    await page.waitForSelector('#job:not([hidden])', { timeout: T });
    const t1 = Date.now();
    await andWait(page, 'explained', () => page.selectOption('#method', 'gradcam'));
    console.log(`  Grad-CAM chosen during Integrated Gradients: shown after ${Date.now() - t1} ms`);
    assert.equal(await page.evaluate(() => window.demo.result.method), 'gradcam');
    assert.ok(Date.now() - t1 < 15000);
    await page.evaluate(() => { window.demo.settings['integrated-gradients'] = { steps: 4 }; });
  });

  test('class search explains any of the 1000 classes; PNG downloads', async () => {
    await page.fill('#class-search', 'cat');
    const hits = await page.$$eval('#class-results button', (bs) => bs.map((x) => x.textContent));
    assert.ok(hits.length >= 3 && hits.every((h) => /cat/i.test(h)), hits.join(', '));
    const first = Number(await page.getAttribute('#class-results button >> nth=0', 'data-index'));
    await andWait(page, 'explained', () => page.press('#class-search', 'Enter'));
    assert.equal(await page.evaluate(() => window.demo.result.classIndex), first);
    assert.match(await page.textContent('#caption'), /cat/i);
    const pic = await download(page, () => page.click('#download-overlay'));
    assert.match(pic.name, /^cat-.+-gradcam-block14_sepconv2_act-picture\.png$/);
    assert.deepEqual(checkPng(pic.bytes), { width: 451, height: 300, depth: 8, color: 6 });
    const map = await download(page, () => page.click('#download-heatmap'));
    assert.match(map.name, /-map\.png$/);
    checkPng(map.bytes);
  });

  test('drop and paste a photo', async () => {
    const give = (kind) => page.evaluate(async (k) => {
      const blob = await (await fetch('samples/coffee.jpg')).blob();
      const dt = new DataTransfer();
      dt.items.add(new File([blob], k === 'drop' ? 'dropped.jpg' : 'image.png', { type: 'image/jpeg' }));
      const ev = k === 'drop' ? new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true })
        : new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
      document.body.dispatchEvent(ev);
    }, kind);
    await andWait(page, 'explained', () => give('drop'));
    assert.equal(await page.evaluate(() => window.demo.image.name), 'dropped.jpg');
    await andWait(page, 'explained', () => give('paste'));
    assert.equal(await page.evaluate(() => window.demo.image.name), 'pasted photo');
  });

  test('photos chosen in quick succession: the last one wins', async () => {
    await andWait(page, 'explained', async () => {
      for (const s of ['rocket', 'astronaut', 'eagle', 'coffee']) await page.click(`#samples button[data-sample="${s}"]`);
    });
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'explained');
    assert.equal(await page.evaluate(() => window.demo.image.name), 'coffee.jpg');
    const cmp = await compareWithApi(page);
    assert.equal(cmp.overlay.differing, 0);
    assert.equal(await page.$eval('#original-canvas', (c) => `${c.width}x${c.height}`), '600x400');
  });

  test('faithfulness metrics: step k of n, curves plotted, areas shown', async () => {
    await page.click('#metrics-box summary');
    await page.selectOption('#metrics-steps', '4');
    assert.match(await page.textContent('#metrics-cost'), /11 passes through the network/);
    await andWait(page, 'metrics', () => page.click('#metrics-run'));
    await state(page, ['explained']);
    const m = await page.evaluate(() => {
      const r = window.demo.result.metrics;
      return { del: r.deletion.length, ins: r.insertion.length, auc: [r.deletionAuc, r.insertionAuc] };
    });
    assert.deepEqual([m.del, m.ins], [5, 5]);
    assert.ok(m.auc.every(Number.isFinite));
    assert.match(await page.textContent('#metrics-numbers'), /Deletion area.*Insertion area/s);
    assert.deepEqual(await axe(page), []);
    await page.locator('#controls-box').screenshot({ path: `${shots}/demo-1280-metrics.png` });
    await page.click('#metrics-box summary');
  });

  test('camera (fake device): a photo, then Live with its rate', async () => {
    await page.click('#camera-open');
    await page.waitForFunction(() => document.body.dataset.camera === 'on' && document.getElementById('camera').videoWidth > 0, null, { timeout: T });
    await andWait(page, 'explained', () => page.click('#camera-snap'));
    assert.equal(await page.evaluate(() => window.demo.image.name), 'camera photo');
    await page.click('#camera-live');
    await page.waitForFunction(() => Number(document.body.dataset.liveFrames || 0) >= 3, null, { timeout: T });
    assert.match(await page.textContent('#fps'), /^[\d.]+ pictures per second$/);
    assert.match(await page.textContent('#caption'), /^Live: /);
    await andWait(page, 'explained', () => page.click('#camera-live'));
    await page.click('#camera-close');
    assert.equal(await page.evaluate(() => document.getElementById('camera').srcObject), null);
  });

  test('keyboard: a sample, a guess and the views open with the keyboard', async () => {
    await page.focus('#samples button[data-sample="eagle"]');
    await andWait(page, 'explained', () => page.keyboard.press('Enter'));
    assert.equal(await page.evaluate(() => window.demo.image.name), 'eagle.jpg');
    assert.deepEqual(await page.$$eval('#samples button[aria-pressed="true"]', (l) => l.map((x) => x.dataset.sample)), ['eagle']);
    await page.focus('#top5 li:nth-child(3) button');
    await andWait(page, 'explained', () => page.keyboard.press('Space'));
    assert.equal(await page.getAttribute('#top5 li:nth-child(3) button', 'aria-pressed'), 'true');
    await page.focus('#view-tabs button[data-view="layers"]');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.body.dataset.view), 'layers');
    await page.focus('#view-tabs button[data-view="explain"]');
    await page.keyboard.press('Enter');
    assert.equal(await page.isVisible('#stage-box'), true);
  });

  test('layouts: 1280x800 projector and 390x844 phone: the guesses right under the picture, no sideways scrolling', async () => {
    const fits = () => page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: innerWidth }));
    let f = await fits();
    assert.ok(f.scroll <= f.inner, `1280: ${f.scroll} > ${f.inner}`);
    const stage = await page.$eval('#stage', (el) => el.getBoundingClientRect().bottom);
    assert.ok(stage <= PROJECTOR.height, `the picture fits the projector's screen (bottom ${stage})`);
    await shot(page, '1280-explained');
    await page.setViewportSize(PHONE);
    await page.evaluate(() => window.scrollTo(0, 0));
    f = await fits();
    assert.ok(f.scroll <= f.inner, `390: ${f.scroll} > ${f.inner}`);
    const pos = await page.evaluate(() => ({
      stage: document.getElementById('stage').getBoundingClientRect().top,
      guess: document.querySelector('#top5 li button').getBoundingClientRect().top,
      method: document.getElementById('method').getBoundingClientRect().top,
    }));
    assert.ok(pos.guess < PHONE.height, `the first guess is on the phone's first screen (top ${pos.guess})`);
    assert.ok(pos.method - pos.stage < 1000, `the method is less than a screen below the picture (${pos.method - pos.stage} px)`);
    assert.deepEqual(await axe(page), []);
    await page.screenshot({ path: `${shots}/demo-390-explain.png` });
    await page.screenshot({ path: `${shots}/demo-390-full.png`, fullPage: true });
    await page.setViewportSize(PROJECTOR);
  });

  test('privacy: every request went to the page\'s origin, no CSP violation, no page error', async () => {
    assert.deepEqual(b.foreign, []);
    assert.ok(b.requests.some((u) => u.endsWith('/weights/xception.gcw')));
    assert.ok(b.requests.some((u) => u.endsWith('/build/wasm-relaxed/gradcam.wasm')), 'the page\'s build (relaxed SIMD)');
    // the other builds are fetched only by the service worker's install: its requests are seen too
    assert.ok(b.requests.some((u) => u.endsWith('/build/wasm-mt/gradcam.wasm')));
    assert.ok(b.requests.some((u) => u.endsWith('/build/wasm-st/gradcam.wasm')));
    assert.deepEqual(await page.evaluate(() => window.__csp), []);
    const errors = b.consoleLines.filter((l) => /^(error|pageerror)/.test(l) && !/Failed to load resource/.test(l));
    assert.deepEqual(errors, []);
  });
});

describe('demo page errors (single thread, no COOP/COEP)', () => {
  let b;
  let page;
  before(async () => { b = await openDemo({ weightsDir: corruptDir, isolation: false }); page = b.page; });
  after(async () => { await b?.close(); });

  test('a corrupt weights file on the site: a readable message, a file picker, the set-up words behind a disclosure', async () => {
    await page.goto(`${b.url}/web/demo/`);
    await state(page, ['no-weights']);
    assert.match(await page.textContent('#error'), /weights file of this site \(\/weights\/xception\.gcw\) cannot be used: .*\(WEIGHTS_INVALID\)/);
    assert.equal(await page.isVisible('#weights-box'), true);
    assert.match(await page.textContent('#weights-box'), /npm run weights/);
    assert.equal(await page.isVisible('#weights-box code'), false, 'the command is behind "For the person who set up this page"');
    assert.deepEqual(await axe(page), []);
    await shot(page, '1280-no-weights');
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: `${shots}/demo-390-no-weights.png`, fullPage: true });
    await page.setViewportSize(PROJECTOR);
  });

  test('a picked Keras .h5 file is converted in the page and kept: after a reload it is not asked again', async () => {
    await page.setInputFiles('#weights-file', weights.h5);
    await state(page, ['ready']);
    assert.equal(await page.isVisible('#weights-box'), false);
    assert.equal(await page.isVisible('#error'), false);
    assert.match(await page.textContent('#weights-state'), /xception-seed1\.h5, converted from Keras 2 weights-only HDF5 \(\.h5, save_weights\) in this page/);
    await page.reload();
    await state(page, ['ready']);
    assert.match(await page.textContent('#weights-state'), /xception-seed1\.h5, converted .*, kept in this browser/);
    const after = await page.evaluate(() => window.__statuses);
    assert.ok(!after.some((s) => /Converting the Keras model/.test(s)), after.join(' | '));
  });

  test('a non-image file: the error next to the picture and announced; a bad weights file: the previous ones again', async () => {
    await page.setInputFiles('#image-file', notImage);
    await state(page, ['error']);
    assert.match(await page.textContent('#stage-error'), /holiday\.jpg: .*not an image.*\(IMAGE_INVALID\)/);
    assert.equal(await page.isVisible('#stage-error'), true);
    await page.waitForFunction(() => /holiday\.jpg/.test(document.getElementById('announce').textContent), null, { timeout: T });
    assert.equal(await page.getAttribute('#announce', 'aria-live'), 'assertive');
    await shot(page, '1280-not-an-image');
    await andWait(page, 'explained', () => page.click('#samples button[data-sample="coffee"]'));
    assert.equal(await page.isVisible('#stage-error'), false);
    await page.setInputFiles('#weights-file', badWeights);
    await page.waitForFunction(() => /my-weights\.gcw cannot be used/.test(document.getElementById('error').textContent), null, { timeout: T });
    await state(page, ['explained']);
    assert.match(await page.textContent('#error'), /\(WEIGHTS_INVALID\) The previous weights are loaded again\./);
    await andWait(page, 'explained', () => page.click('#top5 li:nth-child(3) button'));
    assert.deepEqual(b.foreign, []);
  });
});
