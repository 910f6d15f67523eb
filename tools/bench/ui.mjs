// ui.mjs - the page side of `npm run bench:ui`: what the demo's controls cost through the
// package's API, on 299x299 photos, in the threaded build on a cross-origin isolated page.
// Each function returns milliseconds; the driver takes medians. Cancel is measured without
// restartOnAbort: the core itself stops before its next pass (the shared cancel flag).
import { GradCam } from '/web/index.js';

let gc = null;
const photos = [];

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };
const time = async (fn) => { const t = performance.now(); await fn(); return performance.now() - t; };

/** Load the package, the weights and the photos (resized to 299x299 on a canvas). */
export async function setup({ weightsUrl, photoUrls, threads }) {
  gc = await GradCam.load({ weights: weightsUrl, threads, wasmBase: '/build/' });
  for (const url of photoUrls) {
    const bitmap = await createImageBitmap(await (await fetch(url)).blob());
    const c = new OffscreenCanvas(299, 299);
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(bitmap, 0, 0, 299, 299);
    photos.push(g.getImageData(0, 0, 299, 299));
  }
  return { info: gc.info(), photos: photos.length };
}

/** A fresh forward pass (another photo each time, the kept pass forgotten): its time. */
export async function forward(runs) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    await gc.forget();
    const r = await gc.explain(photos[i % photos.length], { classIndex: 1 });
    out.push(r.timings.forward);
  }
  return median(out);
}

/** Colours, alpha, blend of the map on screen: gc.render() round trips. */
export async function rerender(runs) {
  const out = [];
  for (let p = 0; p < photos.length; p++) {
    const r = await gc.explain(photos[p], {});
    for (let i = 0; i < runs; i++) {
      const o = [{ colormap: 'viridis' }, { colormap: 'jet', alpha: 0.7 }, { colormap: 'jet', blend: 'alpha', alpha: 0.3 }][i % 3];
      out.push(await time(() => gc.render(r, o)));
    }
  }
  return { median: median(out), samples: out.length };
}

/** Another of the top-5 classes at block14 (Grad-CAM): explain() on the kept pass. */
export async function classSwitch(runs) {
  const out = [];
  let reused = 0;
  for (let p = 0; p < photos.length; p++) {
    const first = await gc.explain(photos[p], {});
    for (let i = 0; i < runs; i++) {
      const classIndex = first.classes[1 + (i % 4)].index;
      let r;
      out.push(await time(async () => { r = await gc.explain(photos[p], { classIndex }); }));
      reused += r.reusedForward ? 1 : 0;
    }
  }
  return { median: median(out), samples: out.length, reused };
}

/** Another layer: explain() on the kept pass, its total against the core's own explain time
 *  (the backward pass and the map). */
export async function layerSwitch(runs, layers) {
  const rows = [];
  for (const layer of layers) {
    const total = [];
    const backward = [];
    for (let p = 0; p < photos.length; p++) {
      await gc.explain(photos[p], {});
      for (let i = 0; i < runs; i++) {
        let r;
        total.push(await time(async () => { r = await gc.explain(photos[p], { layer, classIndex: 2 + (i % 3) }); }));
        backward.push(r.timings.explain);
      }
    }
    rows.push({ layer, total: median(total), backward: median(backward), overhead: median(total.map((t, i) => t - backward[i])) });
  }
  return rows;
}

/** Cancel of a long method (Integrated Gradients, 16 steps: a forward and a backward pass each)
 *  at `after` ms plus a spread over two passes (so the abort lands anywhere in a pass): from the
 *  abort to the moment the next call (memory()) is answered. Also the wasm heap before and after. */
export async function cancel(runs, after, spread) {
  const out = [];
  const heap = [(await gc.memory()).wasmHeap];
  for (let i = 0; i < runs; i++) {
    const ctl = new AbortController();
    let passes = 0;
    const running = gc.explain(photos[i % photos.length], {
      method: 'integrated-gradients', signal: ctl.signal, onProgress: (p) => { if (p.passes) passes = p.passes.done; },
    }).then(() => 'done', (e) => e.code);
    await new Promise((r) => setTimeout(r, after + (spread * i) / runs));
    const t = performance.now();
    ctl.abort();
    const code = await running;
    await gc.memory();
    out.push({ ms: performance.now() - t, passes, code });
  }
  heap.push((await gc.memory()).wasmHeap);
  return { median: median(out.map((x) => x.ms)), samples: out.map((x) => x.ms), passes: out.map((x) => x.passes), heap, restarts: gc.restarts || 0 };
}
