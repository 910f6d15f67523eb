// hardening.test.mjs - the public API in headless Chromium (cross-origin isolated page, threaded
// build) under stress: the `chromium` rows of tests/BAD-INPUTS.md (the odd images, and every
// damaged or edited model and class names file of the `engine, chromium` rows); a request too large for the
// 2 GB wasm heap (OUT_OF_MEMORY, then the tab and the instance go on); 200 consecutive explains
// with the wasm heap (gc.memory()) and the page's JS heap sampled; 50 overlapping explain
// calls answered in order, each equal to the same call made alone; dispose during a run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { imagesDir, testWeights } from '../js/helpers.mjs';
import { animatedGif, flatJpeg, png } from '../js/bad-files.mjs';
import { CHROMIUM_IDS, jsResult, readRows } from '../js/bad-inputs.mjs';
import { badModel, MODEL_ROWS } from '../js/bad-models.mjs';
import { dataDir } from '../js/helpers.mjs';
import { openBrowser } from './browser.mjs';

const weights = testWeights(1);
const W16 = `/test-data/${weights.f16.split('/').pop()}`;
const rows = readRows().filter((r) => r.path === 'chromium');
const modelRows = readRows().filter((r) => r.path === 'engine, chromium');
const served = (path) => `/test-data/${path.slice(dataDir.length + 1)}`;
const b64 = (buf) => Buffer.from(buf).toString('base64');

// the files of the chromium image rows, and the reference each accepted one must equal
const photoPng = readFileSync(`${imagesDir}/skimage_coffee.png`);
const check8 = (x, y, c) => [[255, 0, 0], [0, 160, 255]][(x + y) & 1][c];
const FILES = {
  'c-text': [Buffer.from('hello, I am not an image\n'), 'text/plain'],
  'c-svg': [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="red"/></svg>'), 'image/svg+xml'],
  'c-truncated-png': [photoPng.subarray(0, photoPng.length >> 1), 'image/png'],
  'c-png16': [png({ width: 8, height: 8, type: 2, depth: 16, sample: (x, y, c) => 257 * check8(x, y, c) }), 'image/png',
    png({ width: 8, height: 8, type: 2, sample: check8 })],
  'c-cmyk-jpeg': [flatJpeg({ width: 16, height: 16, components: 4 }), 'image/jpeg'],
  'c-animated-gif': [animatedGif({ colors: [[255, 0, 0], [0, 0, 255]], frames: [0, 1] }), 'image/gif',
    png({ width: 4, height: 4, type: 2, sample: (x, y, c) => [255, 0, 0][c] })],
  'c-huge-header': [png({ width: 100000, height: 100000, idat: Buffer.from([0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1]) }), 'image/png'],
};

const HELPERS = () => {
  window.T = {
    blob(b64, type) { return new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type }); },
    async err(promise) {
      try { return { resolved: await promise }; } catch (e) {
        return { name: e.name, code: e.code, message: e.message, detail: e.detail, isGradCamError: e instanceof window.pkg.GradCamError };
      }
    },
    // a small deterministic image (ImageData), different for each i
    image(i) {
      const w = 8 + (i % 9);
      const h = 8 + ((i * 7) % 11);
      const data = new Uint8ClampedArray(w * h * 4);
      let s = ((i + 1) * 2654435761) >>> 0;
      for (let k = 0; k < data.length; k++) { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; data[k] = s & 255; }
      return new ImageData(data, w, h);
    },
    // a digest of a result, enough to tell two results apart: class, layer, cam bytes, overlay bytes
    digest(r) {
      const one = (x) => {
        let h = 2166136261;
        for (const u8 of [new Uint8Array(x.cam.data.buffer), x.overlay.data]) {
          for (let i = 0; i < u8.length; i++) { h ^= u8[i]; h = Math.imul(h, 16777619) >>> 0; }
        }
        return `${x.classIndex}/${x.layer}/${x.method}/${x.cam.height}x${x.cam.width}x${x.cam.channels}/${h.toString(16)}`;
      };
      return Array.isArray(r) ? r.map(one).join(' ') : one(r);
    },
  };
};

// a lighter mix than tests/js/stability.test.mjs's (Node runs the multi-pass methods): CAMs at
// several depths, one and two classes, backward passes to the input
const MIX = [
  { method: 'gradcam' },
  { method: 'gradcam++', layer: 'block8_sepconv3_act' },
  { method: 'layercam', layer: 'block4_sepconv2_act', colormap: 'viridis' },
  { method: 'eigencam', layer: 'block13_sepconv2_bn' },
  { method: 'saliency', colormap: 'gray' },
  { method: 'hirescam', layer: 'block12_add', blend: 'alpha', alpha: 0.7 },
  { method: 'xgradcam', topK: 2 },
  { method: 'guided-backprop' },
  { method: 'gradcam', layer: 'block2_pool', classIndex: 7 },
];

describe('the public API under stress (threaded build, cross-origin isolated page)', () => {
  let b;
  let cdp;
  before(async () => {
    b = await openBrowser({ isolation: true });
    await b.page.evaluate(HELPERS);
    await b.page.evaluate(async (url) => {
      window.gc = await window.pkg.GradCam.load({ weights: url, wasmBase: '/build/', threads: 2 });
    }, W16);
    cdp = await b.context.newCDPSession(b.page);
  });
  after(async () => { await b?.close(); });

  test('BAD-INPUTS.md: the chromium image rows', async () => {
    const diffs = [];
    for (const row of rows.filter((r) => FILES[r.id])) {
      const [bytes, type, ref] = FILES[row.id];
      const r = await b.page.evaluate(async ([data, t, refData]) => {
        const got = await T.err(gc.explain(T.blob(data, t), { inputSize: 71 }));
        if (got.resolved) {
          const bitmap = await createImageBitmap(T.blob(data, t), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
          const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d');
          ctx.drawImage(bitmap, 0, 0);
          got.pixel = Array.from(ctx.getImageData(0, 0, 1, 1).data.slice(0, 3)).join(', ');
          got.digest = T.digest(got.resolved);
          got.size = `${got.resolved.overlay.width}x${got.resolved.overlay.height}`;
          delete got.resolved;
          if (refData) got.refDigest = T.digest(await gc.explain(T.blob(refData, 'image/png'), { inputSize: 71 }));
        }
        return got;
      }, [b64(bytes), type, ref ? b64(ref) : null]);
      let got;
      if (r.digest) {
        got = { result: 'accepted', message: `decoded as ${r.size} pixels, the first one RGB (${r.pixel})` };
        if (r.refDigest) got.message = r.digest === r.refDigest ? row.message : `a map unlike the reference's (${r.digest} vs ${r.refDigest})`;
      } else {
        assert.ok(r.isGradCamError, `${row.id}: ${JSON.stringify(r)}`);
        got = { result: jsResult(r), message: r.message };
      }
      if (got.result !== row.result || got.message !== row.message) {
        diffs.push(`${row.id}:\n    table:  ${row.result} | ${row.message}\n    actual: ${got.result} | ${got.message}`);
      }
    }
    assert.deepEqual(diffs, [], `rows that differ:\n${diffs.join('\n')}`);
  });

  test('BAD-INPUTS.md: every damaged or edited model and class names file (the engine, chromium rows)', async () => {
    const diffs = [];
    const files = {};
    for (const row of modelRows) {
      assert.ok(MODEL_ROWS[row.id], `${row.id}: no model input`);
      const f = await badModel(row.id);
      files[row.id] = { model: served(f.model), labels: f.labels && served(f.labels) };
    }
    const got = await b.page.evaluate(async (fs) => {
      // a second instance: the first keeps its weights for the tests after this one
      const gm = await window.pkg.GradCam.load({ wasmBase: '/build/', threads: 2 });
      const out = {};
      for (const [id, f] of Object.entries(fs)) {
        const bytes = await (await fetch(f.model)).arrayBuffer();
        const labels = f.labels ? await (await fetch(f.labels)).arrayBuffer() : undefined;
        out[id] = await T.err(gm.loadWeights(bytes, { labels }));
        out[id].loadedAfter = gm.info().loaded;
      }
      gm.dispose();
      return out;
    }, files);
    for (const row of modelRows) {
      const r = got[row.id];
      assert.ok(r.isGradCamError, `${row.id}: ${JSON.stringify(r).slice(0, 200)}`);
      assert.equal(r.loadedAfter, false, `${row.id}: no model after a failed load`);
      if (jsResult(r) !== row.result || r.message !== row.message) {
        diffs.push(`${row.id}:\n    table:  ${row.result} | ${row.message}\n    actual: ${jsResult(r)} | ${r.message}`);
      }
    }
    console.log(`  ${modelRows.length} model and class names rows in Chromium`);
    assert.deepEqual(diffs, [], `rows that differ:\n${diffs.join('\n')}`);
  });

  test('200 consecutive explains: the wasm heap and the page\'s JS heap stay flat after the warm-up', async () => {
    const N = 200;
    const WARMUP = 2 * MIX.length;
    const samples = [];
    const t0 = Date.now();
    for (let start = 0; start < N; start += 20) {
      const r = await b.page.evaluate(async ([from, to, mix]) => {
        for (let i = from; i < to; i++) {
          const img = T.image(i);
          const x = await gc.explain(img, { ...mix[i % mix.length], inputSize: 71 });
          const first = Array.isArray(x) ? x[0] : x;
          if (first.overlay.width !== img.width) throw new Error(`explain ${i}: overlay ${first.overlay.width} wide, not ${img.width}`);
        }
        return (await gc.memory()).wasmHeap;
      }, [start, Math.min(N, start + 20), MIX]);
      await cdp.send('HeapProfiler.collectGarbage');
      const js = await cdp.send('Runtime.getHeapUsage');
      samples.push({ i: start + 20, wasmMB: r / 2 ** 20, jsMB: +(js.usedSize / 2 ** 20).toFixed(2), s: +((Date.now() - t0) / 1000).toFixed(1) });
    }
    console.log(`  ${N} explains in ${((Date.now() - t0) / 1000).toFixed(1)} s;` +
      ' samples (after i explains: wasm heap MB, page JS heap MB used, seconds):');
    for (const s of samples) console.log(`    ${String(s.i).padStart(4)}: wasm ${s.wasmMB} MB, JS ${s.jsMB} MB, ${s.s} s`);
    const base = samples.find((s) => s.i >= WARMUP);
    for (const s of samples.filter((x) => x.i > base.i)) {
      assert.equal(s.wasmMB, base.wasmMB, `the wasm heap changed after the warm-up (${base.wasmMB} MB at ${base.i}, ${s.wasmMB} MB at ${s.i})`);
      assert.ok(s.jsMB - base.jsMB <= 4, `the page's JS heap grew by ${(s.jsMB - base.jsMB).toFixed(2)} MB after the warm-up (at ${s.i})`);
    }
  });

  test('50 overlapping explain calls: answered in call order, each equal to the same call made alone', async () => {
    const r = await b.page.evaluate(async (mix) => {
      const order = [];
      const opts = (i) => ({ ...mix[i % mix.length], inputSize: 71 });
      const t0 = performance.now();
      const calls = [];
      for (let i = 0; i < 50; i++) calls.push(gc.explain(T.image(i), opts(i)).then((x) => { order.push(i); return T.digest(x); }));
      const together = await Promise.all(calls);
      const ms = performance.now() - t0;
      const alone = [];
      for (let i = 0; i < 50; i++) alone.push(T.digest(await gc.explain(T.image(i), opts(i))));
      return { order, together, alone, ms };
    }, MIX);
    console.log(`  50 overlapping explains answered in ${(r.ms / 1000).toFixed(1)} s`);
    assert.deepEqual(r.order, Array.from({ length: 50 }, (_, i) => i));
    assert.equal(new Set(r.alone).size, 50, 'the 50 calls give 50 different results');
    for (let i = 0; i < 50; i++) assert.equal(r.together[i], r.alone[i], `call ${i}`);
  });

  test('OUT_OF_MEMORY: a request needing more than 2 GB fails cleanly; the tab and the instance go on (c-oom)', async () => {
    const row = rows.find((r) => r.id === 'c-oom');
    const t0 = Date.now();
    const r = await b.page.evaluate(async () => {
      const img = T.image(1);
      const before = T.digest(await gc.explain(img, { method: 'saliency', inputSize: 71 }));
      const heapBefore = (await gc.memory()).wasmHeap;
      const oom = await T.err(gc.sanityCheck(img, { from: ['block14_sepconv2_act'], inputSize: 1024 }));
      const heapAfter = (await gc.memory()).wasmHeap;
      const after = T.digest(await gc.explain(img, { method: 'saliency', inputSize: 71 }));
      return { before, after, oom, heapBefore, heapAfter };
    });
    console.log(`  c-oom: ${r.oom.code} after ${((Date.now() - t0) / 1000).toFixed(1)} s; wasm heap ${r.heapBefore / 2 ** 20} MB before, ` +
      `${r.heapAfter / 2 ** 20} MB after; the next explain gave the same map as before: ${r.after === r.before}`);
    assert.equal(jsResult(r.oom), row.result);
    assert.equal(r.oom.message, row.message);
    assert.ok(r.oom.isGradCamError);
    assert.equal(r.after, r.before, 'the same explain after OUT_OF_MEMORY gives the same map');
    assert.ok(r.heapAfter > r.heapBefore, 'the heap grew before the request failed');
    assert.equal(await b.page.evaluate(() => 1 + 1), 2, 'the tab survives');
    assert.deepEqual(b.consoleLines.filter((l) => l.type === 'pageerror'), []);
  });

  test('abort of queued work gives ABORTED (c-abort-queued); dispose during a run rejects everything with DISPOSED (c-disposed)', async () => {
    const r = await b.page.evaluate(async () => {
      const out = {};
      // abort: two calls queued behind a running one
      const ctl = new AbortController();
      const running = gc.explain(T.image(1), { method: 'saliency', inputSize: 71 });
      const q1 = T.err(gc.explain(T.image(2), { inputSize: 71, signal: ctl.signal }));
      const q2 = T.err(gc.explain(T.image(3), { method: 'layercam', layer: 'block3_sepconv2_act', inputSize: 71, signal: ctl.signal }));
      ctl.abort();
      out.aborted = [await q1, await q2];
      out.runningDone = !!(await running).cam;
      // dispose while an explain runs and others wait: nothing hangs, all reject with DISPOSED
      const t0 = performance.now();
      const calls = [0, 1, 2, 3].map((i) => T.err(gc.explain(T.image(i), { method: 'smoothgrad', methodOptions: { samples: 4 }, inputSize: 71 })));
      await new Promise((res) => setTimeout(res, 50));
      gc.dispose();
      out.disposed = await Promise.all(calls);
      out.after = await T.err(gc.explain(T.image(5), { inputSize: 71 }));
      out.memoryAfter = await T.err(gc.memory());
      out.ms = performance.now() - t0;
      return out;
    });
    const q = rows.find((x) => x.id === 'c-abort-queued');
    for (const a of r.aborted) {
      assert.ok(a.isGradCamError);
      assert.deepEqual([jsResult(a), a.message], [q.result, q.message]);
    }
    assert.equal(r.runningDone, true, 'the running call still completes');
    const d = rows.find((x) => x.id === 'c-disposed');
    for (const x of [...r.disposed, r.after, r.memoryAfter]) {
      assert.ok(x.isGradCamError, JSON.stringify(x));
      assert.deepEqual([jsResult(x), x.message], [d.result, d.message]);
    }
    console.log(`  dispose during a run: all 4 calls and the next ones rejected with DISPOSED within ${r.ms.toFixed(0)} ms`);
    assert.ok(r.ms < 5000);
  });

  test('every chromium row of BAD-INPUTS.md ran here', () => {
    assert.deepEqual(rows.map((r) => r.id).sort(), [...CHROMIUM_IDS].sort());
    for (const id of CHROMIUM_IDS) assert.ok(FILES[id] || ['c-oom', 'c-abort-queued', 'c-disposed'].includes(id), id);
    assert.deepEqual(b.foreign, []);
  });
});
