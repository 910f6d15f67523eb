// api.test.mjs - the npm package's API in headless Chromium, on a page served by
// tools/release/serve.mjs with COOP/COEP (threaded SIMD build, chosen with relaxedSimd: false: the
// relaxed SIMD build Chromium would take has its own test, relaxed.test.mjs) and without
// (single-thread fallback): classify and explain results equal the native CLI's, every image
// input kind, Keras .h5 and a TF.js model (by URL, and as files in any order) converted in the
// browser by the core's import, class names, errors, abort, dispose, queued calls, a responsive
// main thread during classify and explain, no request off 127.0.0.1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cli, createSingleEngine, dataDir, imagesDir, node, relL2, root, testWeights } from '../js/helpers.mjs';
import { decodePng } from '../js/png.mjs';
import { openBrowser } from './browser.mjs';

const weights = testWeights(1);
const name = (p) => p.split('/').pop();
const W = { f32: `/test-data/${name(weights.f32)}`, f16: `/test-data/${name(weights.f16)}`, h5: `/test-data/${name(weights.h5)}` };
const IMAGE = 'skimage_chelsea.png';
// a TF.js layers copy of the test weights (model.json + shards), served as /test-data/tfjs-seed1/
if (!existsSync(`${dataDir}/tfjs-seed1/model.json`)) {
  const g = node(`${root}tools/fixtures/gen-test-weights.mjs`, ['--format', 'tfjs', '--out', `${dataDir}/tfjs-seed1`, '--seed', '1']);
  assert.equal(g.status, 0, g.stderr);
}
const registry = await (async () => { const e = await createSingleEngine(); const m = e.methods(); e.dispose(); return m; })();

function nativeRun(weightsFile, image) {
  const r = cli(['predict', '--weights', weightsFile, '--image', `${imagesDir}/${image}`, '--json', '--top', '5'], { json: true });
  assert.equal(r.status, 0, r.stderr);
  return { logits: Float32Array.from(r.json.logits), top: r.json.top.map((t) => t.index) };
}
const native = { f32: nativeRun(weights.f32, IMAGE), f16: nativeRun(weights.f16, IMAGE), coffee: nativeRun(weights.f32, 'skimage_coffee.png') };

// explain() against `gradcam explain --json --out-heatmap --out-overlay` on the same photo. As in
// tests/js/package-engine.test.mjs: the issue's bound is 1e-5 (relative L2), and the native
// CLI's default portable arithmetic computes the same floats as the WebAssembly build, so the
// maps and images must be identical.
const exWork = `${dataDir}/browser-explain`;
rmSync(exWork, { recursive: true, force: true });
mkdirSync(exWork, { recursive: true });
function nativeExplain(tag, weightsFile, args) {
  const h = `${exWork}/${tag}-heatmap.png`;
  const o = `${exWork}/${tag}-overlay.png`;
  const r = cli(['explain', '--weights', weightsFile, '--image', `${imagesDir}/${IMAGE}`, '--json', '--threads', '2',
    '--out-heatmap', h, '--out-overlay', o, ...args], { json: true });
  assert.equal(r.status, 0, r.stderr);
  return { json: r.json, heatmap: decodePng(readFileSync(h)).rgba, overlay: decodePng(readFileSync(o)).rgba };
}

function pixelDiff(a, b) {
  assert.equal(a.length, b.length);
  let max = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i] - b[i]); if (d) { n++; max = Math.max(max, d); } }
  return { n, max };
}

const bytesOf = (b64) => new Uint8Array(Buffer.from(b64, 'base64'));

/** Compare a page-side explain result (T.explained) with the native CLI's. */
function checkExplainAgainstNative(label, r, ref) {
  for (const k of ['heatmap', 'overlay']) r[k].data = bytesOf(r[k].data);
  r.cam.data = new Float32Array(bytesOf(r.cam.data).buffer);
  assert.equal(r.classIndex, ref.json.class, label);
  assert.equal(r.className, ref.json.name, label);
  assert.equal(r.layer, ref.json.layer, label);
  assert.equal(r.method, ref.json.method, label);
  assert.deepEqual([r.cam.height, r.cam.width, r.cam.channels], [ref.json.h, ref.json.w, ref.json.channels], label);
  assert.ok(r.cam.isFloat32Array && r.heatmap.isImageData && r.overlay.isImageData, label);
  assert.deepEqual([r.heatmap.width, r.heatmap.height, r.overlay.width, r.overlay.height], [451, 300, 451, 300], `${label}: the photo's size`);
  const e = relL2(r.cam.data, Float32Array.from(ref.json.cam));
  const dh = pixelDiff(r.heatmap.data, ref.heatmap);
  const dov = pixelDiff(r.overlay.data, ref.overlay);
  console.log(`  ${label}: cam rel L2 vs native CLI ${e.toExponential(2)}; heatmap ${dh.n} values off (max ${dh.max}), overlay ${dov.n} (max ${dov.max}); ` +
    `forward ${r.timings.forward.toFixed(0)} ms, explain ${r.timings.explain.toFixed(0)} ms, render ${r.timings.render.toFixed(0)} ms, total ${r.timings.total.toFixed(0)} ms`);
  assert.ok(e <= 1e-5, `${label}: cam relative L2 ${e}`);
  assert.equal(ref.json.arithmetic, 'portable', label);
  assert.equal(e, 0, `${label}: the same floats as the native CLI`);
  assert.equal(dh.n + dov.n, 0, `${label}: pixels off by ${dh.max} / ${dov.max}`);
}

function checkAgainstNative(label, result, ref = native.f32) {
  const e = relL2(Float32Array.from(result.logits), ref.logits);
  console.log(`  ${label}: logits rel L2 vs native CLI ${e.toExponential(2)}`);
  assert.ok(e <= 1e-5, `${label}: relative L2 ${e}`);
  assert.equal(e, 0, `${label}: the same floats as the native CLI (portable arithmetic)`);
  assert.deepEqual(result.top.map((t) => t.index), ref.top, `${label}: top-5`);
}

// A blocked main thread would stop the 10 ms timer for a whole forward pass (0.4 to 1.5 s);
// a busy 2-core machine (tests of other builds running) delays it by up to about 150 ms.
const MAX_GAP = 250;

// page-side helpers, installed once per page
const HELPERS = () => {
  window.T = {
    async blob(url) { return (await fetch(url)).blob(); },
    async bytes(url) { return new Uint8Array(await (await fetch(url)).arrayBuffer()); },
    plain(r) { return { top: r.top, logits: Array.from(r.logits), probsLength: r.probs.length, timings: r.timings }; },
    // bytes as base64 (page.evaluate is slow with large arrays of numbers)
    b64(bytes) {
      const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let text = '';
      for (let i = 0; i < u8.length; i += 0x8000) text += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
      return btoa(text);
    },
    explained(r) {
      const img = (x) => ({ isImageData: x instanceof ImageData, width: x.width, height: x.height, data: T.b64(x.data) });
      const { cam, heatmap, overlay, ...rest } = r;
      return {
        ...rest,
        cam: { width: cam.width, height: cam.height, channels: cam.channels, isFloat32Array: cam.data instanceof Float32Array, data: T.b64(cam.data) },
        heatmap: img(heatmap), overlay: img(overlay),
        metrics: r.metrics && { ...r.metrics, deletion: Array.from(r.metrics.deletion), insertion: Array.from(r.metrics.insertion) },
      };
    },
    async err(promise) {
      try { await promise; return { resolved: true }; } catch (e) {
        return { name: e.name, code: e.code, message: e.message, detail: e.detail, isGradCamError: e instanceof window.pkg.GradCamError };
      }
    },
  };
};

describe('cross-origin isolated page (threaded SIMD build)', () => {
  let b;
  before(async () => {
    b = await openBrowser({ isolation: true });
    await b.page.evaluate(HELPERS);
    const t0 = Date.now();
    const r = await b.page.evaluate(async (url) => {
      const phases = {};
      const gc = await window.pkg.GradCam.load({
        weights: url, wasmBase: '/build/', relaxedSimd: false,
        onProgress: (p) => { (phases[p.phase] ??= []).push([p.loaded, p.total]); },
      });
      window.gc = gc;
      return { info: gc.info(), phases, isolated: crossOriginIsolated, layers: gc.layers(), methods: gc.methods(), colormaps: gc.colormaps() };
    }, W.f32);
    console.log(`  load (wasm + 88 MB f32 weights): ${Date.now() - t0} ms`);
    b.loaded = r;
  });
  after(async () => { await b?.close(); });

  test('load: threaded build, progress for compile, download and packing, layers', () => {
    const { info, phases, isolated, layers, methods, colormaps } = b.loaded;
    assert.equal(isolated, true);
    assert.equal(info.mode, 'threaded');
    assert.deepEqual([info.build, info.arithmetic], ['simd', 'portable'], 'relaxedSimd: false takes wasm-mt/');
    assert.equal(info.simd, true);
    assert.ok(info.threads >= 1 && info.threads <= 4);
    assert.equal(info.loaded, true);
    assert.deepEqual(Object.keys(phases), ['compile', 'download', 'pack']);
    for (const phase of ['compile', 'download']) {
      const last = phases[phase].at(-1);
      assert.ok(last[1] > 0 && last[0] === last[1], `${phase} ends complete: ${last}`);
    }
    assert.deepEqual(phases.pack, [[0, 1], [1, 1]]);
    assert.equal(layers.length, 94);
    assert.deepEqual(layers.find((l) => l.name === 'block14_sepconv2_act').shape, [1, 10, 10, 2048]);
    assert.deepEqual(layers.find((l) => l.name === 'block13_sepconv2_bn').shape, [1, 19, 19, 1024]);
    // the core's registry, as the engine gives it in Node (tests/js/registry.test.mjs checks it against C)
    assert.deepEqual(methods, registry);
    assert.deepEqual(methods.filter((m) => m.channels === 3).map((m) => m.name), ['guided-backprop', 'guided-gradcam']);
    assert.ok(methods.every((m) => m.description.length > 40), 'a description each');
    assert.deepEqual(colormaps, ['jet', 'viridis', 'inferno', 'turbo', 'gray', 'diverging']);
    assert.equal(b.consoleLines.filter((l) => /COOP|Cross-Origin/.test(l.text)).length, 0, 'no isolation warning');
  });

  test('classify equals the native CLI for every image input kind', async () => {
    const r = await b.page.evaluate(async (img) => {
      const blob = await T.blob(img);
      const out = {};
      out.blob = T.plain(await gc.classify(blob, { topK: 5 }));
      out.file = T.plain(await gc.classify(new File([blob], 'cat.png', { type: 'image/png' })));
      const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
      out.imageBitmap = T.plain(await gc.classify(bitmap));
      out.bitmapStillUsable = bitmap.width > 0;
      const canvas = document.createElement('canvas');
      canvas.width = bitmap.width; canvas.height = bitmap.height;
      canvas.getContext('2d').drawImage(bitmap, 0, 0);
      out.canvas = T.plain(await gc.classify(canvas));
      const imageData = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      out.imageData = T.plain(await gc.classify(imageData));
      out.imageDataIntact = imageData.data.length === canvas.width * canvas.height * 4;
      const off = new OffscreenCanvas(bitmap.width, bitmap.height);
      off.getContext('2d').drawImage(bitmap, 0, 0);
      out.offscreenCanvas = T.plain(await gc.classify(off));
      const el = new Image();
      el.src = URL.createObjectURL(blob); // classify waits for it to decode
      out.imageElement = T.plain(await gc.classify(el));
      // a video: record a few frames of the canvas, play them back, classify the current frame
      try {
        const stream = canvas.captureStream(10);
        const rec = new MediaRecorder(stream, { mimeType: 'video/webm' });
        const chunks = [];
        rec.ondataavailable = (e) => chunks.push(e.data);
        const stopped = new Promise((res) => { rec.onstop = res; });
        rec.start();
        const tick = setInterval(() => canvas.getContext('2d').drawImage(bitmap, 0, 0), 50);
        await new Promise((res) => setTimeout(res, 400));
        rec.stop(); await stopped; clearInterval(tick);
        const video = document.createElement('video');
        video.muted = true;
        video.src = URL.createObjectURL(new Blob(chunks, { type: 'video/webm' }));
        await new Promise((res, rej) => { video.onloadeddata = res; video.onerror = () => rej(new Error('video did not load')); });
        await video.play();
        await new Promise((res) => video.requestVideoFrameCallback(res));
        video.pause();
        const v = await gc.classify(video, { topK: 3 });
        out.video = { width: video.videoWidth, height: video.videoHeight, top: v.top.length, logits: v.logits.length };
      } catch (e) {
        out.video = { error: String(e) };
      }
      return out;
    }, `/images/${IMAGE}`);
    for (const kind of ['blob', 'file', 'imageBitmap', 'canvas', 'imageData', 'offscreenCanvas', 'imageElement']) {
      checkAgainstNative(`threaded, ${kind}`, r[kind]);
    }
    assert.equal(r.blob.probsLength, 1000);
    assert.ok(r.blob.timings.forward > 0 && r.blob.timings.total >= r.blob.timings.forward);
    console.log(`  threaded forward ${r.blob.timings.forward.toFixed(0)} ms, decode ${r.blob.timings.decode.toFixed(0)} ms, total ${r.blob.timings.total.toFixed(0)} ms`);
    assert.ok(r.bitmapStillUsable && r.imageDataIntact, "the caller's objects are not detached");
    assert.deepEqual(r.video, { width: 451, height: 300, top: 3, logits: 1000 }, JSON.stringify(r.video));
  });

  test('the main thread stays responsive during a classify', async () => {
    const r = await b.page.evaluate(async (img) => {
      const blob = await T.blob(img);
      let frames = 0;
      let ticks = 0;
      let last = performance.now();
      let maxGap = 0;
      let running = true;
      const raf = () => { frames++; if (running) requestAnimationFrame(raf); };
      requestAnimationFrame(raf);
      const timer = setInterval(() => { const t = performance.now(); maxGap = Math.max(maxGap, t - last); last = t; ticks++; }, 10);
      const t0 = performance.now();
      await gc.classify(blob);
      await gc.classify(blob);
      const ms = performance.now() - t0;
      running = false;
      clearInterval(timer);
      return { ms, frames, ticks, maxGap };
    }, `/images/${IMAGE}`);
    console.log(`  during ${r.ms.toFixed(0)} ms of classify: ${r.frames} animation frames, ${r.ticks} timer ticks, longest timer gap ${r.maxGap.toFixed(0)} ms`);
    assert.ok(r.maxGap < MAX_GAP, `the longest gap between 10 ms timer ticks was ${r.maxGap} ms`);
    assert.ok(r.frames >= r.ms / 100, `only ${r.frames} animation frames in ${r.ms} ms`);
  });

  test('explain equals the native CLI: 3 methods, 2 layers, topK, ImageData in and out', async () => {
    const second = native.f32.top[1];
    const refs = {
      gradcam: nativeExplain('gradcam-b14', weights.f32, ['--method', 'gradcam']),
      layercam: nativeExplain('layercam-b8', weights.f32, ['--method', 'layercam', '--layer', 'block8_sepconv3_act',
        '--class', String(second), '--colormap', 'viridis', '--blend', 'alpha', '--alpha', '0.5']),
      gradcampp: nativeExplain('gradcampp-b14', weights.f32, ['--method', 'gradcam++', '--colormap', 'inferno']),
    };
    const r = await b.page.evaluate(async ([img, cls]) => {
      const blob = await T.blob(img);
      const out = {};
      out.gradcam = T.explained(await gc.explain(blob));
      out.layercam = T.explained(await gc.explain(blob, {
        method: 'layercam', layer: 'block8_sepconv3_act', classIndex: cls, colormap: 'viridis', blend: 'alpha', alpha: 0.5,
      }));
      const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      canvas.getContext('2d').drawImage(bitmap, 0, 0);
      const imageData = canvas.getContext('2d').getImageData(0, 0, bitmap.width, bitmap.height);
      out.gradcampp = T.explained(await gc.explain(imageData, { method: 'gradcam++', colormap: 'inferno' }));
      out.imageDataIntact = imageData.data.length === bitmap.width * bitmap.height * 4;
      const many = await gc.explain(blob, { topK: 2 });
      out.many = many.map((x) => ({ classIndex: x.classIndex, overlay: x.overlay instanceof ImageData, cam: x.cam.data.length }));
      // the overlay goes straight onto a canvas
      const view = document.createElement('canvas');
      view.width = many[0].overlay.width; view.height = many[0].overlay.height;
      view.getContext('2d').putImageData(many[0].overlay, 0, 0);
      out.drawn = Array.from(view.getContext('2d').getImageData(200, 150, 1, 1).data);
      out.expected = Array.from(many[0].overlay.data.subarray((150 * view.width + 200) * 4, (150 * view.width + 200) * 4 + 4));
      return out;
    }, [`/images/${IMAGE}`, second]);
    checkExplainAgainstNative('threaded gradcam at block14_sepconv2_act', r.gradcam, refs.gradcam);
    checkExplainAgainstNative('threaded layercam at block8_sepconv3_act', r.layercam, refs.layercam);
    checkExplainAgainstNative('threaded gradcam++ at block14_sepconv2_act, ImageData input', r.gradcampp, refs.gradcampp);
    assert.deepEqual(r.gradcam.classes.map((c) => c.index), native.f32.top);
    assert.equal(r.gradcam.metrics, undefined);
    assert.ok(r.imageDataIntact, "the caller's ImageData is not detached");
    assert.deepEqual(r.many, [{ classIndex: native.f32.top[0], overlay: true, cam: 100 }, { classIndex: second, overlay: true, cam: 100 }]);
    assert.deepEqual(r.drawn, r.expected);
  });

  test('the main thread stays responsive during an explain; a running explain can be aborted', async () => {
    const r = await b.page.evaluate(async (img) => {
      const blob = await T.blob(img);
      let frames = 0;
      let ticks = 0;
      let last = performance.now();
      let maxGap = 0;
      let running = true;
      const raf = () => { frames++; if (running) requestAnimationFrame(raf); };
      requestAnimationFrame(raf);
      const timer = setInterval(() => { const t = performance.now(); maxGap = Math.max(maxGap, t - last); last = t; ticks++; }, 10);
      const t0 = performance.now();
      const a = await gc.explain(blob, { method: 'guided-backprop' });
      const c = await gc.explain(blob, { method: 'layercam', layer: 'block8_sepconv3_act', topK: 2 });
      const ms = performance.now() - t0;
      running = false;
      clearInterval(timer);
      // abort a running explain (3 classes at block4): it rejects at once, the worker stops
      // after its current step, and the next call is answered
      const ctl = new AbortController();
      const t1 = performance.now();
      const aborted = T.err(gc.explain(blob, { method: 'layercam', layer: 'block4_sepconv2_act', topK: 3, signal: ctl.signal }));
      await new Promise((res) => setTimeout(res, 300));
      ctl.abort();
      const abortedResult = await aborted;
      const abortMs = performance.now() - t1;
      const next = await gc.explain(blob);
      const nextMs = performance.now() - t1;
      return {
        ms, frames, ticks, maxGap, guided: [a.cam.channels, a.layer], topK: c.length, abortedResult, abortMs, nextMs,
        next: next.classIndex, timings: a.timings,
      };
    }, `/images/${IMAGE}`);
    console.log(`  during ${r.ms.toFixed(0)} ms of explain (guided-backprop, then layercam for 2 classes): ${r.frames} animation frames, ` +
      `${r.ticks} timer ticks, longest timer gap ${r.maxGap.toFixed(0)} ms`);
    console.log(`  guided-backprop: forward ${r.timings.forward.toFixed(0)} ms, explain ${r.timings.explain.toFixed(0)} ms, render ${r.timings.render.toFixed(0)} ms`);
    console.log(`  explain aborted after ${r.abortMs.toFixed(0)} ms; the next explain answered ${r.nextMs.toFixed(0)} ms after the aborted call started`);
    assert.ok(r.maxGap < MAX_GAP, `the longest gap between 10 ms timer ticks was ${r.maxGap} ms`);
    assert.ok(r.frames >= r.ms / 100, `only ${r.frames} animation frames in ${r.ms} ms`);
    assert.deepEqual(r.guided, [3, 'input']);
    assert.equal(r.topK, 2);
    assert.equal(r.abortedResult.code, 'ABORTED');
    assert.ok(r.abortMs < 1000, `the abort took ${r.abortMs} ms`);
    assert.equal(r.next, native.f32.top[0]);
  });

  test('setThreads changes the thread count (at most 4) and results stay the same', async () => {
    const r = await b.page.evaluate(async (img) => {
      const blob = await T.blob(img);
      const out = [];
      for (const n of [1, 8, 2]) {
        const used = await gc.setThreads(n);
        const res = T.plain(await gc.classify(blob));
        out.push({ n, used, info: gc.info().threads, res });
      }
      out.bad = await T.err(gc.setThreads(0));
      return { runs: out, bad: out.bad };
    }, `/images/${IMAGE}`);
    assert.deepEqual(r.runs.map((x) => [x.n, x.used, x.info]), [[1, 1, 1], [8, 4, 4], [2, 2, 2]]);
    for (const x of r.runs) checkAgainstNative(`${x.used} thread(s)`, x.res);
    assert.equal(r.bad.code, 'INVALID_ARGUMENT');
  });

  test('concurrent calls are queued and all answered in order; abort drops queued work', async () => {
    const r = await b.page.evaluate(async ([a, c]) => {
      const [cat, coffee] = [await T.blob(a), await T.blob(c)];
      const order = [];
      const calls = [cat, coffee, cat, coffee, cat].map((img, i) => gc.classify(img, { topK: 1 + i }).then((v) => { order.push(i); return v; }));
      const results = await Promise.all(calls);
      // abort: the second and third calls are queued behind the first and are dropped
      const ctl = new AbortController();
      const first = gc.classify(cat);
      const second = T.err(gc.classify(coffee, { signal: ctl.signal }));
      const third = T.err(gc.classify(coffee, { signal: ctl.signal }));
      ctl.abort();
      const afterAbort = await Promise.all([first.then(T.plain), second, third]);
      // aborting the running call rejects it at once; the instance goes on (the kept forward
      // pass is forgotten first, so the call has a pass to run)
      await gc.forget();
      const ctl2 = new AbortController();
      const running = T.err(gc.classify(cat, { signal: ctl2.signal }));
      await new Promise((res) => setTimeout(res, 50));
      ctl2.abort();
      const runningAborted = await running;
      const next = T.plain(await gc.classify(coffee));
      const preAborted = await T.err(gc.classify(cat, { signal: AbortSignal.abort() }));
      return {
        order, tops: results.map((x) => x.top.length), logits: results.map((x) => Array.from(x.logits)),
        afterAbort, runningAborted, next, preAborted,
      };
    }, [`/images/${IMAGE}`, '/images/skimage_coffee.png']);
    assert.deepEqual(r.order, [0, 1, 2, 3, 4]);
    assert.deepEqual(r.tops, [1, 2, 3, 4, 5]);
    for (const [i, ref] of [[0, native.f32], [1, native.coffee], [2, native.f32], [3, native.coffee], [4, native.f32]]) {
      const e = relL2(Float32Array.from(r.logits[i]), ref.logits);
      assert.ok(e <= 1e-5, `queued call ${i}: relative L2 ${e} against its own image`);
    }
    checkAgainstNative('call after the aborted ones', r.afterAbort[0]);
    assert.equal(r.afterAbort[1].code, 'ABORTED');
    assert.equal(r.afterAbort[2].code, 'ABORTED');
    assert.equal(r.runningAborted.code, 'ABORTED');
    assert.ok(relL2(Float32Array.from(r.next.logits), native.coffee.logits) <= 1e-5, 'usable after abort');
    assert.equal(r.preAborted.code, 'ABORTED');
  });

  test('bad input: named error codes, and the instance stays usable', async () => {
    const r = await b.page.evaluate(async ([img, good]) => {
      const out = {};
      out.text = await T.err(gc.classify(new Blob(['hello, not an image'], { type: 'image/png' })));
      out.emptyBlob = await T.err(gc.classify(new Blob([])));
      const c = document.createElement('canvas'); c.width = 0; c.height = 0;
      out.zeroCanvas = await T.err(gc.classify(c));
      out.zeroImageData = await T.err(gc.classify({ data: new Uint8ClampedArray(0), width: 0, height: 0 }));
      out.brokenImg = await T.err(gc.classify(Object.assign(new Image(), { src: '/images/nothing-here.png' })));
      out.number = await T.err(gc.classify(42));
      out.topK = await T.err(gc.classify(await T.blob(img), { topK: 0 }));
      out.explainClass = await T.err(gc.explain(await T.blob(img), { classIndex: 1000 }));
      out.explainLayer = await T.err(gc.explain(await T.blob(img), { layer: 'block99_nope' }));
      out.explainMethod = await T.err(gc.explain(await T.blob(img), { method: 'gradcam3000' }));
      out.explainMetrics = await T.err(gc.explain(await T.blob(img), { method: 'guided-backprop', metrics: true }));
      out.explainAlpha = await T.err(gc.explain(await T.blob(img), { alpha: -1 }));
      out.explainImage = await T.err(gc.explain(new Blob(['not an image'])));
      out.stillWorks = T.plain(await gc.classify(await T.blob(img)));
      // weights: wrong bytes, a 404 URL, then good weights again
      const bytes = await T.bytes(good);
      const corrupt = bytes.slice(); corrupt.fill(7, 100000, 100004);
      out.corrupt = await T.err(gc.loadWeights(corrupt));
      out.notWeights = await T.err(gc.loadWeights(new Blob(['<html>not weights</html>'])));
      out.afterFailedLoad = await T.err(gc.classify(await T.blob(img)));
      out.explainAfterFailedLoad = await T.err(gc.explain(await T.blob(img)));
      out.missingUrl = await T.err(gc.loadWeights('/test-data/no-such-weights.gcw'));
      out.badType = await T.err(gc.loadWeights({ some: 'object' }));
      out.reload = await gc.loadWeights(bytes.buffer);
      out.bytesIntact = bytes.byteLength > 0;
      out.again = T.plain(await gc.classify(await T.blob(img)));
      return out;
    }, [`/images/${IMAGE}`, W.f32]);
    for (const k of ['text', 'emptyBlob', 'zeroCanvas', 'zeroImageData', 'brokenImg', 'number']) {
      assert.equal(r[k].code, 'IMAGE_INVALID', `${k}: ${JSON.stringify(r[k])}`);
      assert.ok(r[k].isGradCamError && r[k].message.length > 10, k);
    }
    assert.equal(r.topK.code, 'INVALID_ARGUMENT');
    assert.equal(r.explainClass.code, 'CLASS_OUT_OF_RANGE');
    assert.equal(r.explainLayer.code, 'LAYER_UNKNOWN');
    assert.equal(r.explainMethod.code, 'METHOD_UNKNOWN');
    assert.equal(r.explainMetrics.code, 'INVALID_ARGUMENT');
    assert.match(r.explainMetrics.message, /single-channel/);
    assert.equal(r.explainAlpha.code, 'INVALID_ARGUMENT');
    assert.equal(r.explainImage.code, 'IMAGE_INVALID');
    for (const k of ['explainClass', 'explainLayer', 'explainMethod', 'explainMetrics']) assert.ok(r[k].isGradCamError, k);
    checkAgainstNative('after errors', r.stillWorks);
    assert.equal(r.corrupt.code, 'WEIGHTS_INVALID');
    assert.equal(r.corrupt.detail, 'WEIGHTS_CHECKSUM');
    assert.deepEqual([r.notWeights.code, r.notWeights.detail], ['WEIGHTS_INVALID', 'CONVERT']);
    assert.equal(r.afterFailedLoad.code, 'NOT_LOADED');
    assert.equal(r.explainAfterFailedLoad.code, 'NOT_LOADED');
    assert.equal(r.missingUrl.code, 'WEIGHTS_FETCH_FAILED');
    assert.match(r.missingUrl.message, /404/);
    assert.equal(r.badType.code, 'INVALID_ARGUMENT');
    assert.equal(r.reload.format, 'gcw');
    assert.ok(r.bytesIntact, 'the caller\'s ArrayBuffer is not detached');
    checkAgainstNative('after reloading weights', r.again);
  });

  test('Keras .h5 weights converted in the browser by the core\'s import equal the .gcw path', async () => {
    const r = await b.page.evaluate(async ([h5, img]) => {
      const phases = new Set();
      const t0 = performance.now();
      const info = await gc.loadWeights(h5, { dtype: 'f32', onProgress: (p) => phases.add(p.phase) });
      const ms = performance.now() - t0;
      const res = T.plain(await gc.classify(await T.blob(img)));
      return { info, phases: [...phases], ms, res, model: gc.info().model };
    }, [W.h5, `/images/${IMAGE}`]);
    console.log(`  .h5 download + conversion + packing in the browser: ${r.ms.toFixed(0)} ms`);
    assert.equal(r.info.format, 'keras2-h5');
    assert.deepEqual(r.info.model, r.model);
    assert.deepEqual(r.phases, ['download', 'convert', 'pack']);
    checkAgainstNative('.h5 converted in the browser', r.res);
  });

  test('a TF.js model.json by URL (its shards fetched beside it) and as files in any order; class names', async () => {
    let r;
    try {
      r = await b.page.evaluate(async ([dir, img]) => {
      const manifest = await (await fetch(`${dir}/model.json`)).json();
      const paths = manifest.weightsManifest.flatMap((g) => g.paths);
      const out = { shards: paths.length };
      const phases = [];
      out.byUrl = await gc.loadWeights(`${dir}/model.json`, { onProgress: (p) => phases.push(p.phase) });
      out.phases = [...new Set(phases)];
      out.byUrlTop = T.plain(await gc.classify(await T.blob(img)));
      const files = await Promise.all(paths.map(async (p) => new File([await (await fetch(`${dir}/${p}`)).blob()], p)));
      const json = new File([await (await fetch(`${dir}/model.json`)).blob()], 'model.json');
      const names = Array.from({ length: 1000 }, (_, i) => `thing ${i}`);
      out.byFiles = await gc.loadWeights([...files.reverse(), json], { labels: names });
      out.named = T.plain(await gc.classify(await T.blob(img)));
      out.labelsText = await gc.loadWeights([json, ...files], { labels: new Blob([names.map((n) => n.toUpperCase()).join('\n')]) });
      out.namedText = (await gc.classify(await T.blob(img), { topK: 1 })).top[0].name;
      out.badLabels = await T.err(gc.loadWeights([json, ...files], { labels: ['a', 'b'] }));
      out.afterBadLabels = await T.err(gc.classify(await T.blob(img)));
      out.missingShard = await T.err(gc.loadWeights([json, ...files.slice(1)]));
      return out;
      }, ['/test-data/tfjs-seed1', `/images/${IMAGE}`]);
    } finally {
      // the tests after this one use the .gcw
      await b.page.evaluate((w) => gc.loadWeights(w), W.f32);
    }
    assert.ok(r.shards > 1, 'several shards');
    assert.deepEqual([r.byUrl.format, r.byFiles.format], ['tfjs-layers', 'tfjs-layers']);
    assert.deepEqual(r.phases, ['download', 'convert', 'pack']);
    // converted to float16 (the default dtype): the native CLI on the .gcw float16 file
    checkAgainstNative('TF.js model.json by URL', r.byUrlTop, native.f16);
    checkAgainstNative('TF.js files', r.named, native.f16);
    assert.deepEqual(r.named.top.map((t) => t.name), native.f16.top.map((i) => `thing ${i}`), 'the names given');
    assert.equal(r.namedText, `THING ${native.f16.top[0]}`);
    assert.deepEqual([r.badLabels.code, r.badLabels.detail], ['LABELS_INVALID', 'LABELS']);
    assert.match(r.badLabels.message, /2 .*1000|1000 .*2/);
    assert.equal(r.afterBadLabels.code, 'NOT_LOADED', 'no model after labels that do not fit');
    assert.equal(r.missingShard.code, 'WEIGHTS_INVALID');
    assert.match(r.missingShard.message, /group1-shard/);
  });

  test('abort during the weights download, and dispose', async () => {
    const r = await b.page.evaluate(async ([url, img]) => {
      const out = {};
      const ctl = new AbortController();
      let sawDownload = false;
      const t0 = performance.now();
      out.loadAborted = await T.err(window.pkg.GradCam.load({
        weights: url, wasmBase: '/build/', signal: ctl.signal, relaxedSimd: false,
        onProgress: (p) => { if (p.phase === 'download' && p.loaded > 0 && !sawDownload) { sawDownload = true; ctl.abort(); } },
      }));
      out.abortMs = performance.now() - t0;
      out.sawDownload = sawDownload;
      // dispose: the running call and queued ones reject with DISPOSED, later calls too (the
      // kept forward pass forgotten first, so the running call has a pass to run)
      const blob = await T.blob(img);
      await gc.forget();
      const running = T.err(gc.classify(blob));
      const queued = T.err(gc.classify(blob));
      await new Promise((res) => setTimeout(res, 30));
      gc.dispose();
      out.running = await running;
      out.queued = await queued;
      out.after = await T.err(gc.classify(blob));
      try { gc.info(); out.info = 'no error'; } catch (e) { out.info = e.code; }
      out.disposedFlag = gc.disposed;
      gc.dispose(); // twice is fine
      return out;
    }, [W.f32, `/images/${IMAGE}`]);
    assert.equal(r.sawDownload, true);
    assert.equal(r.loadAborted.code, 'ABORTED');
    console.log(`  GradCam.load aborted mid-download after ${r.abortMs.toFixed(0)} ms`);
    for (const k of ['running', 'queued', 'after']) assert.equal(r[k].code, 'DISPOSED', k);
    assert.equal(r.info, 'DISPOSED');
    assert.equal(r.disposedFlag, true);
    // the workers are gone (module worker and its pthread workers)
    for (let i = 0; i < 150 && b.page.workers().length; i++) await new Promise((res) => setTimeout(res, 100));
    // The DevTools protocol can miss the end of a worker terminated while it was being
    // attached, and keep listing it: a listed worker must then not answer when asked to run
    // code (a live one, idle after dispose, answers at once).
    const left = await Promise.all(b.page.workers().map((w) => Promise.race([
      w.evaluate(() => 'alive').catch(() => 'gone'),
      new Promise((res) => setTimeout(() => res('no answer'), 3000)),
    ]).then((state) => ({ url: w.url(), state }))));
    if (left.length) console.log(`  still listed after dispose: ${left.map((w) => `${w.url} (${w.state})`).join(', ')}`);
    assert.deepEqual(left.filter((w) => w.state === 'alive'), [], 'a worker is still running after dispose');
  });

  test('no request left 127.0.0.1', () => {
    assert.deepEqual(b.foreign, []);
    const off = b.requests.filter((u) => !u.startsWith(`${b.origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'));
    assert.deepEqual(off, []);
    assert.ok(b.requests.some((u) => u.endsWith('/build/wasm-mt/gradcam.wasm')), 'the threaded build was fetched');
    assert.ok(!b.requests.some((u) => u.includes('/build/wasm-st/') || u.includes('/build/wasm-relaxed/')), 'the other builds were not');
  });
});

describe('page without COOP/COEP (single-thread fallback)', () => {
  let b;
  before(async () => { b = await openBrowser({ isolation: false }); await b.page.evaluate(HELPERS); });
  after(async () => { await b?.close(); });

  test('falls back to the single-thread build with a warning, and equals the native CLI (classify, explain)', async () => {
    const ref = nativeExplain('single-gradcam-b14', weights.f16, ['--colormap', 'turbo', '--alpha', '0.7']);
    const r = await b.page.evaluate(async ([url, img]) => {
      const gc = await window.pkg.GradCam.load({ weights: url, wasmBase: '/build/' });
      const res = T.plain(await gc.classify(await T.blob(img)));
      const explained = T.explained(await gc.explain(await T.blob(img), { colormap: 'turbo', alpha: 0.7 }));
      const info = gc.info();
      gc.dispose();
      return { isolated: crossOriginIsolated, info, res, explained };
    }, [W.f16, `/images/${IMAGE}`]);
    checkExplainAgainstNative('single-thread gradcam, f16 weights', r.explained, ref);
    assert.equal(r.isolated, false);
    assert.equal(r.info.mode, 'single');
    assert.equal(r.info.threads, 1);
    const warnings = b.consoleLines.filter((l) => l.type === 'warning' && /Cross-Origin-Embedder-Policy/.test(l.text));
    assert.equal(warnings.length, 1, JSON.stringify(b.consoleLines));
    console.log(`  single-thread forward ${r.res.timings.forward.toFixed(0)} ms`);
    checkAgainstNative('single-thread, f16 weights', r.res, nativeRun(weights.f16, IMAGE));
    assert.ok(b.requests.some((u) => u.endsWith('/build/wasm-st/gradcam.wasm')));
    assert.ok(!b.requests.some((u) => u.includes('/build/wasm-mt/') || u.includes('/build/wasm-relaxed/')));
    assert.deepEqual(b.foreign, []);
  });
});
