// relaxed.test.mjs - the relaxed SIMD build in headless Chromium, which validates relaxed SIMD:
// - on a cross-origin isolated page GradCam.load() takes build/wasm-relaxed (and nothing else),
//   and classify / explain equal the native CLI with --arithmetic fma within 2e-7 (rel L2; the
//   bound and why: tests/js/relaxed.test.mjs);
// - where WebAssembly.validate refuses the relaxed probe (forced off before the page's scripts
//   run), the package falls back to build/wasm-mt;
// - on a site that has no wasm-relaxed/ folder (an older copy of the package's files), it
//   falls back to wasm-mt/ after the failed fetch.
// relaxedSimd: false is tested by api.test.mjs, whose threaded page uses it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, imagesDir, relL2, testWeights } from '../js/helpers.mjs';
import { openBrowser, TEST_MOUNTS } from './browser.mjs';

const weights = testWeights(1);
const IMAGE = 'skimage_chelsea.png';
const BOUND = 2e-7;
const built = (requests, flavour) => requests.some((u) => u.endsWith(`/build/${flavour}/gradcam.wasm`));

/** A page of the test harness; `before` runs in the page before its scripts (an init script). */
async function harness({ mounts, before } = {}) {
  const b = await openBrowser({ isolation: true, mounts, path: null });
  if (before) await b.context.addInitScript(before);
  await b.page.goto(`${b.url}/tests/browser/harness.html`);
  await b.page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 30000 });
  return b;
}

describe('relaxed SIMD build in Chromium', () => {
  const open = [];
  after(async () => { for (const b of open) await b.close(); });

  test('chosen by default on an isolated page, and equal to the native CLI with --arithmetic fma', async () => {
    const b = await harness();
    open.push(b);
    const top = cli(['predict', '--arithmetic', 'fma', '--weights', weights.f32, '--image', `${imagesDir}/${IMAGE}`, '--json', '--top', '5'], { json: true });
    assert.equal(top.status, 0, top.stderr);
    const cls = top.json.top[0].index;
    const refs = [['gradcam-b8', { method: 'gradcam', layer: 'block8_sepconv3_act', classIndex: cls }],
      ['saliency', { method: 'saliency', classIndex: cls }]].map(([name, o]) => {
      const args = ['explain', '--arithmetic', 'fma', '--weights', weights.f32, '--image', `${imagesDir}/${IMAGE}`, '--json',
        '--threads', '2', '--method', o.method, '--class', String(o.classIndex), ...(o.layer ? ['--layer', o.layer] : [])];
      const r = cli(args, { json: true });
      assert.equal(r.status, 0, r.stderr);
      return { name, o, cam: Float32Array.from(r.json.cam) };
    });
    const r = await b.page.evaluate(async ([url, img, cases]) => {
      const gc = await window.pkg.GradCam.load({ weights: url, wasmBase: '/build/', threads: 2 });
      const blob = await (await fetch(img)).blob();
      const c = await gc.classify(blob);
      const cams = [];
      for (const o of cases) cams.push(Array.from((await gc.explain(blob, o)).cam.data));
      const info = gc.info();
      gc.dispose();
      return { info, logits: Array.from(c.logits), top: c.top.map((t) => t.index), forward: c.timings.forward, cams };
    }, [`/test-data/${weights.f32.split('/').pop()}`, `/images/${IMAGE}`, refs.map((x) => x.o)]);
    assert.deepEqual([r.info.mode, r.info.build, r.info.arithmetic, r.info.threads], ['threaded', 'relaxed', 'fma', 2]);
    const e = relL2(Float32Array.from(r.logits), Float32Array.from(top.json.logits));
    console.log(`  wasm-relaxed in Chromium: logits rel L2 vs CLI fma ${e.toExponential(2)}, forward ${r.forward.toFixed(0)} ms`);
    assert.ok(e <= BOUND, `logits rel L2 ${e}`);
    assert.deepEqual(r.top, top.json.top.map((t) => t.index));
    refs.forEach((ref, i) => {
      const ec = relL2(Float32Array.from(r.cams[i]), ref.cam);
      console.log(`  wasm-relaxed in Chromium ${ref.name}: cam rel L2 vs CLI fma ${ec.toExponential(2)}`);
      assert.ok(ec <= BOUND, `${ref.name}: cam rel L2 ${ec}`);
    });
    assert.ok(built(b.requests, 'wasm-relaxed'), 'the relaxed build was fetched');
    assert.ok(!built(b.requests, 'wasm-mt') && !built(b.requests, 'wasm-st'), 'and no other');
    assert.deepEqual(b.foreign, []);
  });

  test('falls back to wasm-mt where relaxed SIMD does not validate (forced off)', async () => {
    const b = await harness({
      before: () => { // an engine without relaxed SIMD: its relaxed_madd opcode (0xfd 0x85 0x02) is refused
        const validate = WebAssembly.validate;
        WebAssembly.validate = (bytes) => !new Uint8Array(bytes).join().includes('253,133,2') && validate(bytes);
      },
    });
    open.push(b);
    const r = await b.page.evaluate(async () => {
      const f = window.pkg.detectFeatures();
      const gc = await window.pkg.GradCam.load({ wasmBase: '/build/', threads: 2 });
      const info = gc.info();
      gc.dispose();
      return { f, info };
    });
    assert.deepEqual([r.f.simd, r.f.relaxedSimd, r.f.threads], [true, false, true]);
    assert.deepEqual([r.info.mode, r.info.build, r.info.arithmetic], ['threaded', 'simd', 'portable']);
    assert.ok(built(b.requests, 'wasm-mt') && !built(b.requests, 'wasm-relaxed'));
  });

  test('falls back to wasm-mt where the site has no wasm-relaxed/ folder', async () => {
    const mounts = { ...TEST_MOUNTS };
    delete mounts['/build/wasm-relaxed/'];
    const b = await harness({ mounts });
    open.push(b);
    const info = await b.page.evaluate(async () => {
      const gc = await window.pkg.GradCam.load({ wasmBase: '/build/', threads: 2 });
      const i = gc.info();
      gc.dispose();
      return i;
    });
    assert.deepEqual([info.mode, info.build, info.arithmetic], ['threaded', 'simd', 'portable']);
    assert.ok(b.requests.some((u) => u.includes('/build/wasm-relaxed/')), 'the relaxed build was tried first');
    assert.ok(built(b.requests, 'wasm-mt'));
  });
});
