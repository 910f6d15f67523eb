// kept-api.test.mjs - the package's interactive calls through the worker in headless Chromium
// (threaded): explain's progress stages, the kept pass across calls, render() of an explanation
// whose image the worker no longer keeps (sent again) and of a bare {cam} with an image,
// activation(); an Integrated Gradients call aborted in the middle of its passes: on a cross-origin
// isolated page the core stops before its next pass (the flag shared with the worker), elsewhere
// restartOnAbort replaces the worker; either way the next calls give the same maps as before.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testWeights } from '../js/helpers.mjs';
import { openBrowser } from './browser.mjs';

const weights = testWeights(1);
const W = `/test-data/${weights.f16.split('/').pop()}`;

describe('kept pass, render, progress and restartOnAbort (threaded)', () => {
  let b;
  before(async () => {
    b = await openBrowser({ isolation: true });
    await b.page.evaluate(async (w) => {
      const { GradCam } = window.pkg;
      window.W = w;
      window.gc = await GradCam.load({ weights: w, wasmBase: '/build/', threads: 2 });
      const photo = async (u) => {
        const bm = await createImageBitmap(await (await fetch(u)).blob());
        const c = new OffscreenCanvas(bm.width, bm.height);
        const g = c.getContext('2d');
        g.drawImage(bm, 0, 0);
        return g.getImageData(0, 0, bm.width, bm.height);
      };
      window.A = await photo('/web/demo/samples/coffee.jpg');
      window.B = await photo('/web/demo/samples/eagle.jpg');
      window.same = (x, y) => x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
    }, W);
  });
  after(async () => { await b?.close(); });

  test('explain reports its stages; the same photo reuses the kept pass', async () => {
    const r = await b.page.evaluate(async () => {
      const stages = [[], []];
      const a = await window.gc.explain(window.A, { onProgress: (p) => stages[0].push(`${p.stage} ${p.done}/${p.total}`) });
      const a2 = await window.gc.explain(window.A, { classIndex: a.classes[2].index, onProgress: (p) => stages[1].push(`${p.stage} ${p.done}/${p.total}`) });
      return { stages, reused: [a.reusedForward, a2.reusedForward], forward: a2.timings.forward, key: a.imageKey === a2.imageKey };
    });
    assert.deepEqual(r.stages, [['forward 0/2', 'map 1/2', 'done 2/2'], ['map 0/1', 'done 1/1']]);
    assert.deepEqual(r.reused, [false, true]);
    assert.equal(r.forward, 0);
    assert.equal(r.key, true);
  });

  test('render(): an explanation of a photo the worker no longer keeps, and a bare {cam} with an image', async () => {
    const r = await b.page.evaluate(async () => {
      const { gc, A, B, same } = window;
      const a = await gc.explain(A, { method: 'layercam', layer: 'block8_add' });
      await gc.explain(B, {}); // the worker now keeps B
      const again = await gc.render(a, { colormap: 'inferno', blend: 'alpha', alpha: 0.6 });
      const want = await gc.explain(A, { method: 'layercam', layer: 'block8_add', colormap: 'inferno', blend: 'alpha', alpha: 0.6 });
      const ramp = { width: 4, height: 1, channels: 1, data: Float32Array.from([0, 1 / 3, 2 / 3, 1]) };
      const bar = await gc.render({ cam: ramp }, { colormap: 'gray', image: new ImageData(4, 1) });
      let noImage = null;
      try { await gc.render({ cam: ramp }, {}); } catch (e) { noImage = `${e.code} ${e.detail}`; }
      return {
        overlay: same(again.overlay.data, want.overlay.data), heatmap: same(again.heatmap.data, want.heatmap.data),
        size: `${again.overlay.width}x${again.overlay.height}`, bar: Array.from(bar.heatmap.data.filter((_, i) => i % 4 === 0)), noImage,
      };
    });
    assert.deepEqual(r, { overlay: true, heatmap: true, size: '600x400', bar: [0, 85, 170, 255], noImage: 'INVALID_ARGUMENT IMAGE_NOT_KEPT' });
  });

  test('an abort during Integrated Gradients stops the core before its next pass (the shared flag): no restart, the next calls agree', async () => {
    const r = await b.page.evaluate(abortDuringIg, false);
    console.log(`  abort of Integrated Gradients (128 steps) -> next call answered after ${r.idle.toFixed(0)} ms (worker restarts: ${r.restarts})`);
    assert.equal(r.outcome, 'ABORTED');
    assert.equal(r.restarts, 0, 'the core stopped by itself');
    assert.equal(r.reusedAfter, false, 'the cancelled call left the model without its pass: the next one runs it');
    assert.equal(r.same, true, 'the same map as before');
    assert.equal(r.actReused, true);
    assert.ok(r.idle < 30000, `idle after ${r.idle} ms`);
  });
});

/** In the page: load an instance (restartOnAbort: ms or false), abort Integrated Gradients
 *  300 ms into its passes, then explain and read an activation again. */
async function abortDuringIg(restartOnAbort) {
  const { A, same } = window;
  const gc = await window.pkg.GradCam.load({ weights: window.W, wasmBase: '/build/', threads: 2, restartOnAbort });
  try {
    const before = await gc.explain(A, { method: 'hirescam', layer: 'block13_add', classIndex: 7 });
    const ctl = new AbortController();
    let mapStarted;
    const started = new Promise((resolve) => { mapStarted = resolve; });
    const running = gc.explain(A, {
      method: 'integrated-gradients', methodOptions: { steps: 128 }, signal: ctl.signal,
      onProgress: (p) => { if (p.stage === 'map') mapStarted(); },
    }).then(() => 'finished', (e) => e.code);
    await started;
    await new Promise((res) => setTimeout(res, 300));
    const t0 = performance.now();
    ctl.abort();
    const outcome = await running;
    await gc.memory();
    const idle = performance.now() - t0;
    const after = await gc.explain(A, { method: 'hirescam', layer: 'block13_add', classIndex: 7 });
    const act = await gc.activation(A, 'block13_add');
    return { outcome, idle, restarts: gc.restarts || 0, reusedAfter: after.reusedForward, same: same(before.cam.data, after.cam.data), actReused: act.reusedForward };
  } finally {
    gc.dispose();
  }
}

describe('restartOnAbort on a page that is not cross-origin isolated (single thread, no shared flag)', () => {
  let b;
  before(async () => {
    b = await openBrowser({ isolation: false });
    await b.page.evaluate(async (w) => {
      window.W = w;
      const bm = await createImageBitmap(await (await fetch('/web/demo/samples/coffee.jpg')).blob());
      const c = new OffscreenCanvas(bm.width, bm.height);
      c.getContext('2d').drawImage(bm, 0, 0);
      window.A = c.getContext('2d').getImageData(0, 0, bm.width, bm.height);
      window.same = (x, y) => x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
    }, W);
  });
  after(async () => { await b?.close(); });

  test('Integrated Gradients aborted during its passes: the worker is replaced and the next calls agree', async () => {
    const r = await b.page.evaluate(abortDuringIg, 200);
    console.log(`  abort of Integrated Gradients (128 steps) -> next call answered after ${r.idle.toFixed(0)} ms (worker restarts: ${r.restarts})`);
    assert.equal(r.outcome, 'ABORTED');
    assert.equal(r.restarts, 1);
    assert.equal(r.reusedAfter, false, 'a fresh worker keeps no pass');
    assert.equal(r.same, true, 'the new worker computes the same map');
    assert.equal(r.actReused, true);
    assert.ok(r.idle < 30000, `idle after ${r.idle} ms`);
  });
});
