// demo.test.mjs - the demo page (web/demo) in headless Chromium, served like `npm start` does,
// with the synthetic test weights as the site's weights/xception.gcw:
// - loads (threaded, progress in MB), a sample photo gives the API's top 5, and the overlay and
//   heatmap canvases equal, pixel for pixel, what gc.explain() returns for the same inputs;
// - another class, another layer, another method each change the heatmap; class search;
//   the four views (Guided Grad-CAM at the image's full resolution); PNG downloads; drop and
//   paste; faithfulness metrics; the fake camera (snapshot, live frames);
// - offline: once the service worker is ready, the server is stopped and the context set
//   offline; a reload works and explains again (weights from Cache Storage);
// - privacy: every request goes to the page's origin; no CSP violation; the CSP header is sent;
// - errors, on a server without COOP/COEP (single-thread mode): a corrupt weights file on the
//   site, a picked weights file, a non-image file: readable messages, the page stays usable,
//   and the picked weights are kept (not asked again after a reload).
// Screenshots at 1280x720 and 390x844 go to test-output/browser/ (git-ignored).
process.env.PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS = '1'; // see the service worker's requests too

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { root, testWeights } from '../js/helpers.mjs';
import { startServer, DEMO_CSP } from '../../tools/release/serve.mjs';
import { blockForeign, CHROMIUM, CHROMIUM_ARGS, TEST_MOUNTS } from './browser.mjs';

const weights = testWeights(1);
const shots = `${root}test-output/browser`;
mkdirSync(shots, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'gradcam-demo-'));
const goodDir = join(tmp, 'good');
const corruptDir = join(tmp, 'corrupt');
mkdirSync(goodDir);
mkdirSync(corruptDir);
symlinkSync(weights.f16, join(goodDir, 'xception.gcw'));
// a weights file whose bytes are damaged after the header: the checksum must catch it
const damaged = Buffer.from(readFileSync(weights.f16).subarray(0, 4 << 20));
for (let i = 4096; i < damaged.length; i += 997) damaged[i] ^= 0x5a;
writeFileSync(join(corruptDir, 'xception.gcw'), damaged);
const notImage = join(tmp, 'holiday.jpg');
writeFileSync(notImage, 'this is text, not a JPEG');
const badWeights = join(tmp, 'my-weights.gcw');
writeFileSync(badWeights, Buffer.alloc(1000, 7));

const FAKE_MEDIA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/** Serve the repository with `weightsDir` as /weights/, and open a fresh Chromium profile. */
async function open({ weightsDir, isolation = true, viewport = { width: 1280, height: 720 } }) {
  const server = await startServer({ port: 0, isolation, mounts: { ...TEST_MOUNTS, '/weights/': weightsDir } });
  const profile = mkdtempSync(join(tmpdir(), 'gradcam-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...FAKE_MEDIA], viewport, acceptDownloads: true,
  });
  const origin = new URL(server.url).origin;
  const requests = [];
  const foreign = [];
  await blockForeign(context, origin, foreign);
  context.on('request', (r) => requests.push(r.url()));
  // what the page said (status lines) and any CSP violation, recorded from the first script on
  await context.addInitScript(() => {
    window.__statuses = [];
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    new MutationObserver(() => {
      const s = document.getElementById('status');
      if (s && window.__statuses.at(-1) !== s.textContent) window.__statuses.push(s.textContent);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  const page = context.pages()[0] || await context.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  return {
    server, url: server.url, origin, context, page, requests, foreign, consoleLines,
    async close() {
      await context.close().catch(() => {});
      await server.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const T = 90000;
const state = (page, states, timeout = T) => page.waitForFunction((s) => s.includes(document.body.dataset.state), states, { timeout });
const counter = (page, name) => page.evaluate((n) => Number(document.body.dataset[n] || 0), name);
/** Run `action` and wait until the page finished one more `name` (explained, classified ...). */
async function andWait(page, name, action, { final = name === 'explained' || name === 'classified' ? name : null } = {}) {
  const n = await counter(page, name);
  await action();
  await page.waitForFunction(([k, n0, f]) => Number(document.body.dataset[k] || 0) > n0 && (!f || document.body.dataset.state === f),
    [name, n, final], { timeout: T });
}
// explain() arrived after the page: until a build has it, the page classifies only, and the
// tests of explanations are skipped (with this reason) rather than failed
let canExplain = true;
const NO_EXPLAIN = 'this build of the package has no explain() yet (methods() is empty)';
const analysed = () => (canExplain ? 'explained' : 'classified');
const shot = (page, name) => page.screenshot({ path: `${shots}/demo-${name}.png` });

/** A hash of a canvas's pixels (to tell two heatmaps apart). */
const canvasHash = (page, id) => page.evaluate((id) => {
  const c = document.getElementById(id);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let h = 2166136261;
  for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i], 16777619);
  return `${c.width}x${c.height}:${h >>> 0}`;
}, id);

/** The page's canvases against gc.explain() called directly with the page's image and options. */
const compareWithApi = (page) => page.evaluate(async () => {
  const S = window.demo;
  const opts = S.explainOptions();
  const r = await window.gradcam.explain(S.image.source, opts);
  const diff = (id, im) => {
    const c = document.getElementById(id);
    if (c.width !== im.width || c.height !== im.height) return { size: `${c.width}x${c.height} vs ${im.width}x${im.height}` };
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i++) if (d[i] !== im.data[i]) n++;
    return { bytes: d.length, differing: n };
  };
  return { opts, classIndex: r.classIndex, overlay: diff('overlay-canvas', r.overlay), heatmap: diff('heatmap-canvas', r.heatmap) };
});

/** Check a PNG file: signature, chunk CRCs, IHDR, and that IDAT inflates to the right size. */
function checkPng(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'PNG signature');
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  let off = 8;
  let ihdr = null;
  const idat = [];
  for (;;) {
    const len = bytes.readUInt32BE(off);
    const type = bytes.toString('latin1', off + 4, off + 8);
    const body = bytes.subarray(off + 8, off + 8 + len);
    assert.equal(bytes.readUInt32BE(off + 8 + len), crc(bytes.subarray(off + 4, off + 8 + len)), `CRC of ${type}`);
    if (type === 'IHDR') ihdr = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), depth: body[8], color: body[9] };
    if (type === 'IDAT') idat.push(body);
    off += 12 + len;
    if (type === 'IEND') break;
  }
  assert.ok(ihdr, 'IHDR');
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[ihdr.color];
  assert.ok(channels && ihdr.depth === 8, `8-bit colour type ${ihdr.color}`);
  assert.equal(inflateSync(Buffer.concat(idat)).length, ihdr.height * (1 + ihdr.width * channels), 'pixel data size');
  return ihdr;
}

async function download(page, button) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: T }), page.click(button)]);
  const path = await dl.path();
  return { name: dl.suggestedFilename(), bytes: readFileSync(path) };
}

after(() => rmSync(tmp, { recursive: true, force: true }));

describe('demo page with weights (threaded, served with COOP/COEP)', () => {
  let b;
  let page;
  before(async () => { b = await open({ weightsDir: goodDir }); page = b.page; });
  after(async () => {
    if (b) console.log(`  demo: ${b.requests.length} requests, all to ${b.origin}`);
    await b?.close();
  });

  test('loads: weights download in MB, threaded mode, the CSP header', async () => {
    const t0 = Date.now();
    const res = await page.goto(`${b.url}/web/demo/`);
    assert.equal(res.headers()['content-security-policy'], DEMO_CSP);
    await state(page, ['ready']);
    console.log(`  page ready (core compiled, 46 MB of weights downloaded, loaded and kept) in ${Date.now() - t0} ms`);
    assert.match(await page.textContent('#mode'), /^Threaded: 2 threads/);
    canExplain = await page.evaluate(() => window.gradcam.methods().length > 0);
    if (!canExplain) console.log(`  note: ${NO_EXPLAIN}: the explanation tests are skipped`);
    const statuses = await page.evaluate(() => window.__statuses);
    assert.ok(statuses.some((s) => /Downloading the weights… [\d.]+ \/ 43\.7 MB/.test(s)), statuses.join(' | '));
    assert.ok(statuses.some((s) => /Compiling the WebAssembly core/.test(s)), statuses.join(' | '));
    assert.match(await page.textContent('#weights-state'), /22\.9 M parameters, from this site/);
    assert.equal(await page.isVisible('#weights-box'), false);
    await shot(page, '1280-ready');
  });

  test('a sample photo: the API\'s top 5, and the overlay equals gc.explain() pixel for pixel', async (t) => {
    await andWait(page, analysed(), () => page.click('#samples button[data-sample="cat"]'));
    const shown = await page.$$eval('#top5 li', (lis) => lis.map((li) => Number(li.dataset.index)));
    const api = await page.evaluate(async () => {
      const blob = await (await fetch('samples/cat.jpg')).blob();
      return (await window.gradcam.classify(blob, { topK: 5 })).top.map((t) => t.index);
    });
    assert.deepEqual(shown, api);
    if (!canExplain) { await shot(page, '1280-classified'); t.skip(`top 5 checked; ${NO_EXPLAIN}`); return; }
    assert.equal(await page.getAttribute('#top5 li:first-child button', 'aria-pressed'), 'true');
    const cmp = await compareWithApi(page);
    assert.equal(cmp.classIndex, api[0]);
    assert.deepEqual(cmp.overlay, { bytes: 451 * 300 * 4, differing: 0 });
    assert.deepEqual(cmp.heatmap, { bytes: 451 * 300 * 4, differing: 0 });
    assert.match(await page.textContent('#timings'), /forward \d+(\.\d)? ms/);
    await shot(page, '1280-overlay');
  });

  test('another class, another layer, another method each change the heatmap', async (t) => {
    if (!canExplain) { t.skip(NO_EXPLAIN); return; }
    const h0 = await canvasHash(page, 'heatmap-canvas');
    const second = await page.getAttribute('#top5 li:nth-child(2)', 'data-index');
    await andWait(page, 'explained', () => page.click('#top5 li:nth-child(2) button'));
    assert.equal(await page.getAttribute('#top5 li:nth-child(2) button', 'aria-pressed'), 'true');
    assert.equal(await page.evaluate(() => window.demo.result.classIndex), Number(second));
    const h1 = await canvasHash(page, 'heatmap-canvas');
    assert.notEqual(h1, h0, 'another class');
    await andWait(page, 'explained', () => page.selectOption('#layer', 'block8_sepconv3_act'));
    const h2 = await canvasHash(page, 'heatmap-canvas');
    assert.notEqual(h2, h1, 'another layer');
    assert.equal(await page.evaluate(() => window.demo.result.layer), 'block8_sepconv3_act');
    await andWait(page, 'explained', () => page.selectOption('#method', 'layercam'));
    const h3 = await canvasHash(page, 'heatmap-canvas');
    assert.notEqual(h3, h2, 'another method');
    assert.match(await page.textContent('#method-description'), /LayerCAM/);
    await andWait(page, 'explained', () => page.selectOption('#colormap', 'viridis'));
    await andWait(page, 'explained', () => page.$eval('#alpha', (el) => {
      el.value = '0.7';
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }));
    assert.equal(await page.textContent('#alpha-value'), '0.70');
    const cmp = await compareWithApi(page);
    assert.deepEqual(cmp.opts, { classIndex: Number(second), method: 'layercam', colormap: 'viridis', alpha: 0.7, blend: 'additive', layer: 'block8_sepconv3_act' });
    assert.equal(cmp.overlay.differing, 0);
    assert.equal(cmp.heatmap.differing, 0);
    await shot(page, '1280-layercam-block8');
    // an input-space method has no layer
    await andWait(page, 'explained', () => page.selectOption('#method', 'saliency'));
    assert.equal(await page.isDisabled('#layer'), true);
    assert.equal(await page.evaluate(() => window.demo.result.layer), 'input');
    // a method's own settings reach explain() as methodOptions
    // (the cheapest setting chosen beforehand, as a person would after a first run)
    await page.evaluate(() => { window.demo.settings['integrated-gradients'] = { steps: 4 }; });
    await andWait(page, 'explained', () => page.selectOption('#method', 'integrated-gradients'));
    assert.equal(await page.inputValue('#opt-steps'), '4');
    assert.deepEqual(await page.evaluate(() => window.demo.explainOptions().methodOptions), { steps: 4 });
    assert.equal(await page.evaluate(() => window.demo.result.method), 'integrated-gradients');
    await andWait(page, 'explained', () => page.selectOption('#method', 'gradcam'));
    assert.equal(await page.isVisible('#method-options'), false);
  });

  test('class search explains any of the 1000 classes', async (t) => {
    if (!canExplain) { t.skip(NO_EXPLAIN); return; }
    await page.fill('#class-search', 'cat');
    const hits = await page.$$eval('#class-results button', (bs) => bs.map((x) => x.textContent));
    assert.ok(hits.length >= 3 && hits.every((h) => /cat/i.test(h)), hits.join(', '));
    const first = Number(await page.getAttribute('#class-results button >> nth=0', 'data-index'));
    await andWait(page, 'explained', () => page.press('#class-search', 'Enter'));
    assert.equal(await page.evaluate(() => window.demo.result.classIndex), first);
    assert.match(await page.textContent('#explaining'), /cat/i);
    await shot(page, '1280-search');
  });

  test('views: side by side, heatmap, Guided Grad-CAM at full resolution; PNG downloads', async (t) => {
    if (!canExplain) { t.skip(NO_EXPLAIN); return; }
    await page.check('input[name="view"][value="side"]');
    assert.equal(await page.isVisible('#original-canvas'), true);
    assert.equal(await page.isVisible('#overlay-canvas'), true);
    await shot(page, '1280-side-by-side');
    await page.check('input[name="view"][value="heatmap"]');
    assert.equal(await page.isVisible('#heatmap-canvas'), true);
    assert.equal(await page.isVisible('#overlay-canvas'), false);
    await shot(page, '1280-heatmap');
    const g = await counter(page, 'guided');
    await page.check('input[name="view"][value="guided"]');
    await page.waitForFunction((n) => Number(document.body.dataset.guided || 0) > n && document.body.dataset.state === 'explained', g, { timeout: T });
    const guided = await page.evaluate(() => {
      const c = document.getElementById('guided-canvas');
      const r = c.getBoundingClientRect();
      return { w: c.width, h: c.height, cssW: Math.round(r.width), method: window.demo.guided.method };
    });
    assert.deepEqual(guided, { w: 451, h: 300, cssW: 451, method: 'guided-gradcam' });
    await shot(page, '1280-guided');
    const heat = await download(page, '#download-heatmap');
    assert.match(heat.name, /^cat-.+-guided\.png$/);
    assert.deepEqual(checkPng(heat.bytes), { width: 451, height: 300, depth: 8, color: 6 });
    await page.check('input[name="view"][value="overlay"]');
    const over = await download(page, '#download-overlay');
    assert.match(over.name, /^cat-.+-gradcam-block8_sepconv3_act-overlay\.png$/);
    assert.deepEqual(checkPng(over.bytes), { width: 451, height: 300, depth: 8, color: 6 });
  });

  test('drop and paste an image', async () => {
    const give = (kind) => page.evaluate(async (k) => {
      const blob = await (await fetch('samples/coffee.jpg')).blob();
      const dt = new DataTransfer();
      dt.items.add(new File([blob], k === 'drop' ? 'dropped.jpg' : 'image.png', { type: 'image/jpeg' }));
      const ev = k === 'drop' ? new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true })
        : new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
      document.body.dispatchEvent(ev);
    }, kind);
    await andWait(page, analysed(), () => give('drop'));
    assert.equal(await page.evaluate(() => window.demo.image.name), 'dropped.jpg');
    await andWait(page, analysed(), () => give('paste'));
    assert.equal(await page.evaluate(() => window.demo.image.name), 'pasted image');
  });

  test('choices in quick succession: the last one wins', async () => {
    await andWait(page, analysed(), async () => {
      for (const s of ['rocket', 'astronaut', 'eagle', 'coffee']) await page.click(`#samples button[data-sample="${s}"]`);
    });
    await page.waitForTimeout(300); // nothing stale arrives after
    assert.equal(await page.evaluate(() => document.body.dataset.state), analysed());
    assert.equal(await page.evaluate(() => window.demo.image.name), 'coffee.jpg');
    const shown = await page.$$eval('#top5 li', (lis) => lis.map((li) => Number(li.dataset.index)));
    const api = await page.evaluate(async () => (await window.gradcam.classify(window.demo.image.source, { topK: 5 })).top.map((x) => x.index));
    assert.deepEqual(shown, api);
    if (canExplain) {
      const cmp = await compareWithApi(page);
      assert.equal(cmp.overlay.differing, 0);
      assert.equal(await page.$eval('#original-canvas', (c) => `${c.width}x${c.height}`), '600x400');
    }
  });

  test('faithfulness metrics: curves plotted, AUC shown', async (t) => {
    if (!canExplain) { t.skip(NO_EXPLAIN); return; }
    await page.click('#metrics-box summary');
    await page.selectOption('#metrics-steps', '4');
    assert.match(await page.textContent('#metrics-cost'), /10 forward passes/);
    await andWait(page, 'metrics', () => page.click('#metrics-run'));
    await state(page, ['explained']);
    const m = await page.evaluate(() => {
      const r = window.demo.result.metrics;
      return { del: r.deletion.length, ins: r.insertion.length, auc: [r.deletionAuc, r.insertionAuc] };
    });
    assert.deepEqual([m.del, m.ins], [5, 5]);
    assert.ok(m.auc.every(Number.isFinite));
    assert.equal(await page.isVisible('#metrics-plot'), true);
    assert.match(await page.textContent('#metrics-numbers'), /Deletion AUC.*Insertion AUC/s);
    await page.locator('#controls-box').screenshot({ path: `${shots}/demo-1280-metrics.png` });
  });

  test('camera (fake device): a snapshot, then live frames with their rate', async (t) => {
    await page.click('#camera-open');
    await page.waitForFunction(() => document.body.dataset.camera === 'on' && document.getElementById('camera').videoWidth > 0, null, { timeout: T });
    await andWait(page, analysed(), () => page.click('#camera-snap'));
    assert.equal(await page.evaluate(() => window.demo.image.name), 'camera snapshot');
    assert.equal(await page.$$eval('#top5 li', (l) => l.length), 5);
    if (!canExplain) { await page.click('#camera-close'); t.skip(`snapshot checked; live: ${NO_EXPLAIN}`); return; }
    await page.click('#camera-live');
    await page.waitForFunction(() => Number(document.body.dataset.liveFrames || 0) >= 3, null, { timeout: T });
    assert.match(await page.textContent('#fps'), /^[\d.]+ frames per second$/);
    assert.match(await page.textContent('#explaining'), /^Live: /);
    await shot(page, '1280-camera-live');
    await andWait(page, 'explained', () => page.click('#camera-live')); // stopping explains the last frame in full
    await page.click('#camera-close');
    assert.equal(await page.evaluate(() => document.getElementById('camera').srcObject), null);
  });

  test('keyboard and labels: every control has a name; a sample opens with the keyboard', async () => {
    const unnamed = await page.evaluate(() => [...document.querySelectorAll('button, input, select, canvas, video')]
      .filter((el) => !el.closest('[hidden]') || el.type === 'file')
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.textContent.trim()
        || el.querySelector('img[alt]') || el.closest('label')))
      .map((el) => el.outerHTML.slice(0, 80)));
    assert.deepEqual(unnamed, []);
    await page.focus('#samples button[data-sample="eagle"]');
    await andWait(page, analysed(), () => page.keyboard.press('Enter'));
    assert.equal(await page.evaluate(() => window.demo.image.name), 'eagle.jpg');
    // the gallery marks the sample on the stage, and only it
    assert.deepEqual(await page.$$eval('#samples button[aria-pressed="true"]', (l) => l.map((b) => b.dataset.sample)), ['eagle']);
    await page.keyboard.press('Tab'); // the focus ring is visible
  });

  test('layouts: 1280x720 projector and 390x844 phone, no horizontal scrolling', async () => {
    const fits = () => page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: innerWidth }));
    let f = await fits();
    assert.ok(f.scroll <= f.inner, `1280: ${f.scroll} > ${f.inner}`);
    const stage = await page.$eval('#stage', (el) => el.getBoundingClientRect().bottom);
    assert.ok(stage <= 720, `the image fits the projector's screen (bottom ${stage})`);
    await page.setViewportSize({ width: 390, height: 844 });
    f = await fits();
    assert.ok(f.scroll <= f.inner, `390: ${f.scroll} > ${f.inner}`);
    await page.screenshot({ path: `${shots}/demo-390-top.png` });
    await page.screenshot({ path: `${shots}/demo-390-full.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 720 });
  });

  test('offline: after one visit, a reload with the server stopped explains again; installable', async () => {
    await page.waitForFunction(() => document.body.dataset.offline === 'ready', null, { timeout: T });
    await b.server.close();
    await b.context.setOffline(true);
    const t0 = Date.now();
    await page.reload();
    await state(page, ['ready']);
    console.log(`  offline reload ready in ${Date.now() - t0} ms`);
    assert.match(await page.textContent('#weights-state'), /kept in this browser/);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    assert.match(await page.textContent('#mode'), /^Threaded/);
    await andWait(page, analysed(), () => page.click('#samples button[data-sample="cat-and-dog"]'));
    if (canExplain) assert.equal(await page.evaluate(() => window.demo.result.overlay.width), 224);
    else assert.equal(await page.$$eval('#top5 li', (l) => l.length), 5);
    await shot(page, '1280-offline');
    // installable: a valid manifest, and Chromium finds nothing missing
    const cdp = await b.context.newCDPSession(page);
    const manifest = await cdp.send('Page.getAppManifest');
    assert.deepEqual(manifest.errors, []);
    const installability = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installability.installabilityErrors, []);
    await cdp.detach();
    await b.context.setOffline(false);
  });

  test('privacy: every request went to the page\'s origin, no CSP violation', async () => {
    assert.deepEqual(b.foreign, []);
    const others = b.requests.filter((u) => !u.startsWith(`${b.origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'));
    assert.deepEqual(others, []);
    assert.ok(b.requests.some((u) => u.endsWith('/weights/xception.gcw')));
    assert.ok(b.requests.some((u) => u.endsWith('/build/wasm-mt/gradcam.wasm')));
    // the single-thread build is fetched only by the service worker's install: its requests are seen too
    assert.ok(b.requests.some((u) => u.endsWith('/build/wasm-st/gradcam.wasm')));
    assert.deepEqual(await page.evaluate(() => window.__csp), []);
    const errors = b.consoleLines.filter((l) => /^(error|pageerror)/.test(l) && !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(l));
    assert.deepEqual(errors, []);
  });
});

describe('demo page errors (single thread, no COOP/COEP)', () => {
  let b;
  let page;
  before(async () => { b = await open({ weightsDir: corruptDir, isolation: false }); page = b.page; });
  after(async () => { await b?.close(); });

  test('a corrupt weights file on the site: a readable message, `npm run weights`, a file picker', async () => {
    await page.goto(`${b.url}/web/demo/`);
    await state(page, ['no-weights']);
    assert.match(await page.textContent('#mode'), /^Single thread/);
    assert.match(await page.textContent('#error'), /weights file of this site \(\/weights\/xception\.gcw\) cannot be used: .*\(WEIGHTS_INVALID\)/);
    assert.equal(await page.isVisible('#weights-box'), true);
    assert.match(await page.textContent('#weights-box'), /npm run weights/);
    await shot(page, '1280-corrupt-weights');
    await page.setViewportSize({ width: 390, height: 844 });
    const f = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: innerWidth }));
    assert.ok(f.scroll <= f.inner, `390: ${f.scroll} > ${f.inner}`);
    await page.screenshot({ path: `${shots}/demo-390-corrupt-weights.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 720 });
  });

  test('a picked Keras .h5 file is converted in the page and kept: after a reload it is not asked again', async () => {
    let t0 = Date.now();
    await page.setInputFiles('#weights-file', weights.h5);
    await state(page, ['ready']);
    console.log(`  picked .h5 (88 MB) read, converted and kept in ${Date.now() - t0} ms (single thread)`);
    assert.equal(await page.isVisible('#weights-box'), false);
    assert.equal(await page.isVisible('#error'), false);
    assert.match(await page.textContent('#weights-state'), /xception-seed1\.h5, converted from Keras \.h5 in this page/);
    const statuses = await page.evaluate(() => window.__statuses);
    assert.ok(statuses.some((s) => /Converting the Keras weights… \d+ \/ \d+ tensors/.test(s)), statuses.join(' | '));
    t0 = Date.now();
    await page.reload();
    await state(page, ['ready']);
    console.log(`  reload with the kept .h5 ready in ${Date.now() - t0} ms`);
    assert.match(await page.textContent('#weights-state'), /xception-seed1\.h5, converted .*, kept in this browser/);
    // what was kept is the converted file (project format, half the size), so the reload did not convert again
    const kept = await page.evaluate(async () => {
      const cache = await caches.open('xception-gradcam-weights');
      const res = await cache.match(new URL('picked-weights', location.href).href);
      const b = new Uint8Array(await res.arrayBuffer());
      return { magic: String.fromCharCode(...b.slice(0, 7)), size: b.length, from: res.headers.get('x-converted-from') };
    });
    assert.deepEqual({ magic: kept.magic, from: kept.from }, { magic: 'GCAMWTS', from: 'h5' });
    assert.ok(kept.size < 50e6, `kept ${kept.size} bytes`);
    const after = await page.evaluate(() => window.__statuses);
    assert.ok(!after.some((s) => /Converting the Keras weights/.test(s)), after.join(' | '));
  });

  test('a non-image file and a bad weights file: readable messages, the page stays usable', async () => {
    await page.setInputFiles('#image-file', notImage);
    await state(page, ['error']);
    assert.match(await page.textContent('#error'), /holiday\.jpg: .*not an image.*\(IMAGE_INVALID\)/);
    await shot(page, '1280-not-an-image');
    await andWait(page, analysed(), () => page.click('#samples button[data-sample="coffee"]'));
    assert.equal(await page.isVisible('#error'), false);
    assert.equal(await page.$$eval('#top5 li', (l) => l.length), 5);
    await page.setInputFiles('#weights-file', badWeights);
    await page.waitForFunction(() => /my-weights\.gcw cannot be used/.test(document.getElementById('error').textContent), null, { timeout: T });
    await state(page, [analysed()]);
    assert.match(await page.textContent('#error'), /\(WEIGHTS_INVALID\) The previous weights are loaded again\./);
    if (canExplain) await andWait(page, 'explained', () => page.click('#top5 li:nth-child(3) button'));
    else await andWait(page, 'classified', () => page.click('#samples button[data-sample="eagle"]'));
    assert.deepEqual(b.foreign, []);
  });
});
