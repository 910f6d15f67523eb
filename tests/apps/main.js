// main.js - the fixture app of tests/browser/bundlers.test.mjs, as a user of the package writes
// it: import the package by name, load the weights, classify a photo, explain its best class
// with Grad-CAM. Built unchanged by `vite build`, served by `vite dev` and built by webpack 5
// (tests/apps/vite/, tests/apps/webpack/). It puts what it got (or the error) on window.result.
// `?relaxed=0` passes relaxedSimd: false.
import { GradCam } from 'xception-gradcam';

async function run() {
  const relaxedSimd = new URLSearchParams(location.search).get('relaxed') !== '0';
  const gc = await GradCam.load({ weights: './test.gcw', relaxedSimd });
  try {
    const photo = await (await fetch('./photo.png')).blob();
    const c = await gc.classify(photo);
    const ex = await gc.explain(photo, { classIndex: c.top[0].index, method: 'gradcam' });
    return {
      info: gc.info(), isolated: self.crossOriginIsolated, logits: Array.from(c.logits), top: c.top.map((t) => t.index),
      cam: Array.from(ex.cam.data), camSize: [ex.cam.height, ex.cam.width], overlaySize: [ex.overlay.width, ex.overlay.height],
    };
  } finally {
    gc.dispose();
  }
}

run().then((r) => { window.result = r; }, (e) => { window.result = { error: { code: e.code, message: String(e.message || e) } }; });
