// maxpool-ties.test.mjs - why the native build with --arithmetic fma gives gradients below a
// max pool that differ from the WebAssembly build's by more than 1e-5, and a check that this is
// the only reason. (The native default, --arithmetic portable, computes the same floats as the
// WebAssembly build, so there is nothing to route differently: package-engine.test.mjs.)
//
// With fma, the two builds run the same C code on XNNPACK kernels that sum in different ways
// (AVX FMA natively, wasm SIMD mul + add), so their activations differ by ~1e-7 relative. A max
// pool's gradient goes to the arg-max of each window: where two cells of a window are equal to
// about 6 digits, the two builds can pick different cells, and the gradient entry moves to the
// neighbour. That is the behaviour of the function itself (TensorFlow's rule applied to values
// that are equal within rounding), not an error of either build.
//
// On skimage_chelsea at 299x299 (the photo of the package tests), for block13_pool (the only
// pool between the logits and block8) this test checks, with both builds on the same weights:
// 1. the pool's input activations agree (<= 1e-5) and the gradient arriving at the pool's
//    output agrees (<= 1e-5);
// 2. each build's pool gradient is exactly TensorFlow's rule (first maximum of the window) on
//    that build's own activations, re-implemented here;
// 3. every window whose arg-max differs between the builds is a near tie (its two cells differ
//    by <= 1e-5 of the largest activation);
// 4. routing the WebAssembly build's output gradient with the native activations gives the
//    native gradient (<= 1e-5): the routing at near ties is the whole difference.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cli, dataDir, imagesDir, readF32, relL2, testWeights } from './helpers.mjs';
import { decodePng } from './png.mjs';
import { loadNodeCore, shutdownCore } from '../../tools/test/node-core.mjs';

const weights = testWeights(1);
const IMAGE = `${imagesDir}/skimage_chelsea.png`;
const work = `${dataDir}/maxpool-ties`;
const POOL_IN = 'block13_sepconv2_bn';
const POOL_OUT = 'block13_pool';

/** TensorFlow's max-pool 3x3/2 "same" gradient: each window's gradient to its first maximum. */
function poolBackward(x, ih, iw, c, g, oh, ow) {
  const pt = Math.max(0, (oh - 1) * 2 + 3 - ih) >> 1;
  const pl = Math.max(0, (ow - 1) * 2 + 3 - iw) >> 1;
  const dx = new Float64Array(ih * iw * c);
  const arg = new Int32Array(oh * ow * c);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let k = 0; k < c; k++) {
        let best = -Infinity;
        let at = -1;
        for (let y = 2 * oy - pt; y < 2 * oy - pt + 3; y++) {
          for (let xx = 2 * ox - pl; xx < 2 * ox - pl + 3; xx++) {
            if (y < 0 || y >= ih || xx < 0 || xx >= iw) continue;
            const i = (y * iw + xx) * c + k;
            if (x[i] > best) { best = x[i]; at = i; }
          }
        }
        arg[(oy * ow + ox) * c + k] = at;
        dx[at] += g[(oy * ow + ox) * c + k];
      }
    }
  }
  return { dx: Float32Array.from(dx), arg };
}

test('wasm vs native below block13_pool: the differences are arg-max flips at near ties, nothing else', async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // native: the pool's input, and the gradients at the pool's output and input for the top class
  const p = cli(['predict', '--arithmetic', 'fma', '--weights', weights.f32, '--image', IMAGE, '--json', '--top', '1',
    '--dump-dir', work, '--dump-layers', POOL_IN]);
  assert.equal(p.status, 0, p.stderr);
  const cls = JSON.parse(p.stdout).top[0].index;
  for (const layer of [POOL_OUT, POOL_IN]) {
    const r = cli(['explain', '--arithmetic', 'fma', '--weights', weights.f32, '--image', IMAGE, '--class', String(cls), '--layer', layer,
      '--threads', '2', '--save-grad', `${work}/grad-${layer}.f32`, '--json']);
    assert.equal(r.status, 0, r.stderr);
  }
  const xN = readF32(`${work}/${POOL_IN}.f32`);
  const gOutN = readF32(`${work}/grad-${POOL_OUT}.f32`);
  const gInN = readF32(`${work}/grad-${POOL_IN}.f32`);

  // WebAssembly (single-thread build): the same quantities
  const core = await loadNodeCore('st');
  let xW; let gOutW; let gInW; let shapeIn; let shapeOut;
  try {
    core.load(readFileSync(weights.f32));
    const img = decodePng(readFileSync(IMAGE));
    core.forwardImage(img.rgba, img.width, img.height);
    const a = core.activation(POOL_IN);
    xW = a.data;
    shapeIn = a.shape;
    const go = core.gradient(cls, POOL_OUT);
    gOutW = go.data;
    shapeOut = go.shape;
    gInW = core.gradient(cls, POOL_IN).data;
  } finally {
    shutdownCore(core);
  }
  const [, ih, iw, c] = shapeIn;
  const [, oh, ow] = shapeOut;
  assert.deepEqual([ih, iw, c, oh, ow], [19, 19, 1024, 10, 10]);
  assert.equal(xN.length, xW.length);
  assert.equal(gInN.length, gInW.length);

  // 1. what goes into the pool agrees
  const eX = relL2(xW, xN);
  const eGout = relL2(gOutW, gOutN);
  assert.ok(eX <= 1e-5, `${POOL_IN} activations: rel L2 ${eX}`);
  assert.ok(eGout <= 1e-5, `gradient at ${POOL_OUT}: rel L2 ${eGout}`);

  // 2. each build follows TensorFlow's rule on its own values
  const refN = poolBackward(xN, ih, iw, c, gOutN, oh, ow);
  const refW = poolBackward(xW, ih, iw, c, gOutW, oh, ow);
  const eN = relL2(gInN, refN.dx);
  const eW = relL2(gInW, refW.dx);
  assert.ok(eN <= 1e-6, `native pool gradient vs the rule: ${eN}`);
  assert.ok(eW <= 1e-6, `wasm pool gradient vs the rule: ${eW}`);

  // 3. every window that routes differently is a near tie
  let scale = 0;
  for (const v of xN) scale = Math.max(scale, Math.abs(v));
  const flips = [];
  for (let w = 0; w < refN.arg.length; w++) {
    if (refN.arg[w] === refW.arg[w]) continue;
    const gap = Math.abs(xN[refN.arg[w]] - xN[refW.arg[w]]);
    flips.push(gap / scale);
  }
  for (const f of flips) assert.ok(f <= 1e-5, `a window routes differently although its cells differ by ${f} of the largest activation`);

  // 4. routed by the same activations, the wasm gradient is the native one
  const routed = poolBackward(xN, ih, iw, c, gOutW, oh, ow).dx;
  const eRouted = relL2(routed, gInN);
  assert.ok(eRouted <= 1e-5, `wasm output gradient routed with the native activations: ${eRouted}`);

  const eDirect = relL2(gInW, gInN);
  console.log(`  ${POOL_IN}: activations ${eX.toExponential(2)}, gradient at ${POOL_OUT} ${eGout.toExponential(2)}; `
    + `windows routed differently ${flips.length} of ${refN.arg.length} (gaps ${flips.map((f) => f.toExponential(1)).join(', ') || 'none'} of max |x|); `
    + `gradient at ${POOL_IN}: direct ${eDirect.toExponential(2)}, same routing ${eRouted.toExponential(2)}`);
});
