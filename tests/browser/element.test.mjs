// element.test.mjs - <xception-gradcam> on a plain HTML page (no framework), served with
// COOP/COEP, in headless Chromium: two elements with the same weights share one worker, the
// top class equals the native CLI's, the overlay is drawn, colormap/alpha re-colour without a
// network pass, method/class/src changes run what they need, the class buttons work from the
// keyboard, a superseded request does not hold the latest back, errors are `error` events with
// the package's codes, and the instance is disposed when the last element goes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, imagesDir, testWeights } from '../js/helpers.mjs';
import { openElementPage } from './element-helpers.mjs';

const weights = testWeights(1);
const gcw = `/test-data/${weights.f32.split('/').pop()}`;
const work = mkdtempSync(join(tmpdir(), 'gradcam-element-'));
let b;
let page;
const t0 = Date.now();

before(async () => {
  writeFileSync(join(work, 'index.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>element</title>
<script type="module" src="/pkg/element.js"></script></head>
<body>
<xception-gradcam id="a" weights="${gcw}" src="/images/skimage_chelsea.png"></xception-gradcam>
<xception-gradcam id="b" weights="${gcw}" src="/images/gradcam_both_cat_dog.png" method="layercam" layer="block8_sepconv3_act" colormap="viridis" alpha="0.6"></xception-gradcam>
</body></html>
`);
  b = await openElementPage('/el/', work);
  page = b.page;
});
after(async () => {
  await b?.close();
  rmSync(work, { recursive: true, force: true });
  console.log(`  element tests: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

const results = (id) => page.evaluate((i) => window.elementEvents.filter((e) => e.id === i), id);

test('two elements with the same weights: one worker, one GradCam; the top class is the CLI\'s; the overlay is drawn and described', async () => {
  await page.waitForFunction(() => ['a', 'b'].every((id) => window.elementEvents.some((e) => e.id === id && (e.type === 'result' || e.type === 'error'))), null, { timeout: 120000 });
  const ev = await page.evaluate(() => window.elementEvents.map((e) => ({ type: e.type, id: e.id, detail: e.detail && { ...e.detail, timings: undefined } })));
  assert.deepEqual(ev.filter((e) => e.type === 'error'), [], 'no error');
  assert.deepEqual(ev.filter((e) => e.type === 'ready').map((e) => e.id).sort(), ['a', 'b']);
  const shared = await page.evaluate(() => ({
    workers: window.workerCount,
    same: document.getElementById('a').gradcam === document.getElementById('b').gradcam,
    build: document.getElementById('a').gradcam.info().build,
  }));
  assert.equal(shared.workers, 1, 'one worker for the page');
  assert.equal(shared.same, true, 'one GradCam instance');
  const ra = ev.find((e) => e.id === 'a' && e.type === 'result').detail;
  const rb = ev.find((e) => e.id === 'b' && e.type === 'result').detail;
  // the relaxed SIMD build is the CLI's fma arithmetic (see web/README.md, Accuracy)
  const ref = cli(['predict', '--arithmetic', shared.build === 'relaxed' ? 'fma' : 'portable', '--weights', weights.f32, '--image', `${imagesDir}/skimage_chelsea.png`, '--json'], { json: true });
  assert.equal(ref.status, 0, ref.stderr);
  assert.equal(ra.top[0].index, ref.json.top[0].index, 'top-1 equals the native CLI\'s');
  assert.deepEqual(ra.top.map((t) => t.index), ref.json.top.slice(0, 5).map((t) => t.index));
  assert.equal(ra.classIndex, ra.top[0].index, 'the best class explained by default');
  assert.deepEqual([ra.method, ra.kind], ['gradcam', 'explain']);
  assert.deepEqual([rb.method, rb.layer, rb.colormap, rb.alpha], ['layercam', 'block8_sepconv3_act', 'viridis', 0.6]);
  const s = await page.evaluate(() => window.overlayStats(document.getElementById('a')));
  assert.deepEqual([s.width, s.height, s.hidden], [451, 300, false], 'the overlay at the image size');
  assert.ok(s.lit > 451 * 300 * 0.9, `overlay pixels drawn (${s.lit})`);
  assert.match(s.label, new RegExp(`Grad-CAM explanation of the class “${ra.className.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}”`));
  const list = await page.evaluate(() => [...document.getElementById('a').shadowRoot.querySelectorAll('ol > li > button')]
    .map((x) => ({ pressed: x.getAttribute('aria-pressed'), label: x.getAttribute('aria-label'), index: Number(x.dataset.index) })));
  assert.equal(list.length, 5);
  assert.deepEqual(list.map((x) => x.index), ra.top.map((t) => t.index));
  assert.deepEqual(list.map((x) => x.pressed), ['true', 'false', 'false', 'false', 'false']);
});

test('colormap and alpha re-colour the kept explanation without a network pass', async () => {
  const r = await page.evaluate(async () => {
    const a = document.getElementById('a');
    const n = window.spyCalls(a.gradcam);
    const before = window.overlayStats(a);
    const p = window.nextEvent(a);
    a.colormap = 'inferno';
    a.alpha = 0.8;
    const e = await p;
    // (both changes in one task: one re-render)
    await new Promise((res) => setTimeout(res, 300));
    return { e, n: { ...n }, before, after: window.overlayStats(a), attrs: [a.getAttribute('colormap'), a.getAttribute('alpha')] };
  });
  assert.equal(r.e.type, 'result', JSON.stringify(r.e.detail));
  assert.equal(r.e.detail.kind, 'render');
  assert.deepEqual([r.e.detail.colormap, r.e.detail.alpha], ['inferno', 0.8]);
  assert.deepEqual(r.attrs, ['inferno', '0.8'], 'properties reflect to attributes');
  assert.deepEqual(r.n, { classify: 0, explain: 0, render: 1 }, 'no classify or explain: no network pass');
  assert.equal(r.e.detail.timings.forward, undefined, 'a render has no forward time');
  assert.notEqual(r.after.sum, r.before.sum, 'the overlay changed');
});

test('keyboard: Tab reaches the class buttons, Enter explains that class (no classify); focus is visible', async () => {
  await page.evaluate(() => { document.activeElement?.blur(); window.spy = window.spyCalls(document.getElementById('a').gradcam); });
  // Tab until the focus is on element a's second class button
  let at = null;
  for (let i = 0; i < 12 && !(at && at.id === 'a' && at.n === 1); i++) {
    await page.keyboard.press('Tab');
    at = await page.evaluate(() => {
      const host = document.activeElement;
      const f = host && host.shadowRoot && host.shadowRoot.activeElement;
      if (!f) return null;
      return { id: host.id, n: [...host.shadowRoot.querySelectorAll('button')].indexOf(f), outline: getComputedStyle(f).outlineStyle };
    });
  }
  assert.deepEqual([at?.id, at?.n], ['a', 1], 'Tab reached the second class button');
  assert.notEqual(at.outline, 'none', 'visible focus');
  const p = page.evaluate(() => window.nextEvent(document.getElementById('a')));
  await page.keyboard.press('Enter');
  const e = await p;
  const r = await page.evaluate(() => ({ n: { ...window.spy }, pressed: [...document.getElementById('a').shadowRoot.querySelectorAll('button')].map((x) => x.getAttribute('aria-pressed')), attr: document.getElementById('a').getAttribute('class-index') }));
  assert.equal(e.type, 'result', JSON.stringify(e.detail));
  assert.equal(e.detail.classIndex, e.detail.top[1].index, 'the second class explained');
  assert.equal(r.attr, String(e.detail.top[1].index));
  assert.deepEqual(r.pressed, ['false', 'true', 'false', 'false', 'false']);
  assert.deepEqual([r.n.classify, r.n.explain], [0, 1]);
});

test('method and src changes: explain again, classify again; a superseded request does not hold the latest back', async () => {
  const r = await page.evaluate(async () => {
    const a = document.getElementById('a');
    const n = window.spyCalls(a.gradcam);
    let p = window.nextEvent(a);
    a.method = 'gradcam++';
    const m = await p;
    const afterMethod = { ...n };
    p = window.nextEvent(a);
    a.src = '/images/skimage_coffee.png';
    a.classIndex = null; // the best class of the new photo
    const s = await p;
    const afterSrc = { ...n };
    // a slow multi-pass method, superseded at once by Grad-CAM
    const before = window.elementEvents.length;
    p = window.nextEvent(a);
    a.method = 'scorecam';
    await new Promise((res) => setTimeout(res, 50));
    const t = performance.now();
    a.method = 'gradcam';
    const g = await p;
    const late = performance.now() - t;
    await new Promise((res) => setTimeout(res, 500));
    const since = window.elementEvents.slice(before).filter((e) => e.id === 'a').map((e) => [e.type, e.detail.method || e.detail.code]);
    // one forward pass now, on this machine under its present load (the yardstick of the bound below)
    await a.gradcam.forget();
    const fwd = (await a.gradcam.classify(a.shadowRoot.querySelector('canvas'))).timings.forward;
    return { m, afterMethod, s, afterSrc, g, late, since, fwd };
  });
  assert.equal(r.m.type, 'result');
  assert.deepEqual([r.m.detail.method, r.m.detail.kind], ['gradcam++', 'explain']);
  assert.deepEqual([r.afterMethod.classify, r.afterMethod.explain], [0, 1], 'a method change explains, no classify');
  assert.equal(r.s.type, 'result');
  assert.equal(r.s.detail.method, 'gradcam++');
  assert.deepEqual([r.afterSrc.classify, r.afterSrc.explain], [1, 2], 'a src change classifies again');
  const ref = cli(['predict', '--arithmetic', 'fma', '--weights', weights.f32, '--image', `${imagesDir}/skimage_coffee.png`, '--json'], { json: true });
  assert.equal(r.s.detail.top[0].index, ref.json.top[0].index, 'the new photo\'s top-1 is the CLI\'s');
  assert.equal(r.g.type, 'result', JSON.stringify(r.g.detail));
  assert.equal(r.g.detail.method, 'gradcam', 'the latest request answered');
  assert.deepEqual(r.since, [['result', 'gradcam']], 'the superseded Score-CAM gives neither a result nor an error');
  console.log(`  Score-CAM superseded by Grad-CAM: the Grad-CAM result ${r.late.toFixed(0)} ms after the change (a forward pass: ${r.fwd.toFixed(0)} ms)`);
  // Score-CAM to its end took 14.6 s on the 2-core test machine, about 30 forward passes (its 32
  // masked passes); the latest answer came 0.8 to 2.5 s after the change (the abort within one
  // pass, then a forward pass and the map): 12 forward passes is far from both
  assert.ok(r.late < 12 * r.fwd, `the latest request did not wait for the superseded Score-CAM (${r.late.toFixed(0)} ms, forward ${r.fwd.toFixed(0)} ms)`);
});

test('errors are `error` events with the package\'s codes', async () => {
  const r = await page.evaluate(async () => {
    const a = document.getElementById('a');
    const out = {};
    let p = window.nextEvent(a);
    a.method = 'no-such-method';
    out.method = await p;
    p = window.nextEvent(a);
    a.method = 'gradcam';
    await p;
    p = window.nextEvent(a);
    a.src = '/images/no-such-photo.png';
    out.image = await p;
    p = window.nextEvent(a);
    a.src = '/images/skimage_chelsea.png';
    out.back = await p;
    const make = async (id, weights) => {
      const el = document.createElement('xception-gradcam');
      el.id = id;
      const q = window.nextEvent(el);
      el.setAttribute('weights', weights);
      el.setAttribute('src', '/images/skimage_chelsea.png');
      document.body.append(el);
      const e = await q;
      el.remove();
      return e;
    };
    out.missing = await make('c', '/test-data/no-such-weights.gcw');
    out.notModel = await make('d', '/images/skimage_chelsea.png');
    // removed while its model loads (and fails): no event, nothing unhandled
    const gone = document.createElement('xception-gradcam');
    gone.id = 'e';
    gone.setAttribute('weights', '/test-data/no-such-weights-either.gcw');
    const goneEvents = [];
    for (const t of ['ready', 'result', 'error']) gone.addEventListener(t, () => goneEvents.push(t));
    document.body.append(gone);
    await new Promise((res) => setTimeout(res, 0));
    gone.remove();
    await new Promise((res) => setTimeout(res, 500));
    out.goneEvents = goneEvents;
    return out;
  });
  assert.deepEqual([r.method.type, r.method.detail.code], ['error', 'METHOD_UNKNOWN']);
  assert.deepEqual([r.image.type, r.image.detail.code], ['error', 'IMAGE_INVALID']);
  assert.ok(r.image.detail.message.length > 0);
  assert.equal(r.back.type, 'result', 'the element works again');
  assert.deepEqual([r.missing.type, r.missing.detail.code], ['error', 'WEIGHTS_FETCH_FAILED']);
  assert.deepEqual([r.notModel.type, r.notModel.detail.code], ['error', 'WEIGHTS_INVALID']);
  assert.deepEqual(r.goneEvents, [], 'an element removed while loading reports nothing');
  const pageErrors = b.consoleLines.filter((l) => l.type === 'pageerror');
  assert.deepEqual(pageErrors, [], 'nothing uncaught');
});

test('the shared instance lives while an element uses it and is disposed with the last', async () => {
  const r = await page.evaluate(async () => {
    const a = document.getElementById('a');
    const bEl = document.getElementById('b');
    const gc = a.gradcam;
    const alive = async () => gc.memory().then(() => 'alive', (e) => e.code);
    document.body.append(a); // a move keeps the instance
    await new Promise((res) => setTimeout(res, 100));
    const moved = [await alive(), a.gradcam === gc];
    a.remove();
    await new Promise((res) => setTimeout(res, 100));
    const one = await alive();
    bEl.remove();
    await new Promise((res) => setTimeout(res, 100));
    const none = await alive();
    return { moved, one, none, workers: window.workerCount, restarts: gc.restarts || 0 };
  });
  assert.deepEqual(r.moved, ['alive', true]);
  assert.equal(r.one, 'alive', 'still used by the other element');
  assert.equal(r.none, 'DISPOSED', 'disposed with the last element');
  assert.equal(r.workers, 4 + r.restarts, 'one worker for the shared instance (and its restarts), one for each failed load of the error test');
});
