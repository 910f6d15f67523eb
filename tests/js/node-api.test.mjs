// node-api.test.mjs - 'xception-gradcam/node' (web/node/index.js) from the repository's builds: the
// GradCam class in Node, single-threaded (wasm-st) and threaded (wasm-mt on worker_threads):
// images from paths and file bytes decoded by the core's stb_image, weights from paths (.gcw and
// Keras .h5, converted by the core), logits and maps bit for bit the native CLI's (portable
// arithmetic), and every failure a GradCamError with a public code.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cli, imagesDir, root, testWeights } from './helpers.mjs';
import { ErrorCode, GradCam, GradCamError } from '../../web/node/index.js';

const weights = testWeights(1);
const PNG = `${imagesDir}/skimage_chelsea.png`;
const JPEG = `${imagesDir}/darknet_eagle.jpg`;
const wasmBase = `${root}build/`;

const nativePredict = (image) => {
  const r = cli(['predict', '--weights', weights.f32, '--image', image, '--json'], { json: true });
  assert.equal(r.status, 0, r.stderr);
  return r.json;
};
/** The native CLI's printed floats (9 significant digits) are float32 values: these exact floats. */
const f32 = (values) => Float32Array.from(values);
const same = (a, b) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

for (const threads of [1, 2]) {
  test(`Node API, ${threads} thread(s): paths and bytes, .gcw and .h5, logits and maps bit for bit the native CLI's`, async () => {
    const gc = await GradCam.load({ weights: weights.f32, wasmBase, threads });
    try {
      const info = gc.info();
      assert.equal(info.dir, threads === 1 ? 'wasm-st' : 'wasm-mt');
      assert.equal(info.mode, threads === 1 ? 'single' : 'threaded');
      assert.equal(info.threads, threads);
      assert.equal(info.arithmetic, 'portable');
      for (const [image, input] of [[PNG, PNG], [JPEG, readFileSync(JPEG)]]) {
        const native = nativePredict(image);
        const r = await gc.classify(input, { topK: 5 });
        assert.ok(same(r.logits, f32(native.logits)), `${image}: logits differ from the native CLI's`);
        assert.deepEqual(r.top.map((t) => [t.index, t.name]), native.top.map((t) => [t.index, t.name]));
      }
      // an explanation at another layer: the raw map equals `gradcam explain --json`'s
      const ref = cli(['explain', '--weights', weights.f32, '--image', PNG, '--method', 'layercam', '--layer', 'block8_sepconv3_act', '--json'], { json: true });
      assert.equal(ref.status, 0, ref.stderr);
      const ex = await gc.explain(PNG, { method: 'layercam', layer: 'block8_sepconv3_act' });
      assert.equal(ex.classIndex, ref.json.class);
      assert.deepEqual([ex.cam.height, ex.cam.width], [ref.json.h, ref.json.w]);
      assert.ok(same(ex.cam.data, f32(ref.json.cam)), 'LayerCAM map differs from the native CLI\'s');
      assert.deepEqual([ex.overlay.width, ex.overlay.height], [451, 300]);
      const again = await gc.render(ex, { colormap: 'gray' }); // the kept pass's image
      assert.equal(again.heatmap.data.length, 451 * 300 * 4);
      // Keras .h5 by path, converted by the core's import
      const h = await gc.loadWeights(weights.h5, { dtype: 'f32' });
      assert.equal(h.format, 'keras2-h5');
      const r2 = await gc.classify(PNG);
      assert.ok(same(r2.logits, f32(nativePredict(PNG).logits)), '.h5 converted: the same logits');
    } finally {
      gc.dispose();
    }
    await assert.rejects(gc.classify(PNG), { code: ErrorCode.DISPOSED });
  });
}

test('Node API: bad images, weights and arguments reject with GradCamError codes (the native CLI\'s messages), and the instance stays usable', async () => {
  const gc = await GradCam.load({ weights: weights.f16, wasmBase, threads: 1 });
  try {
    const text = `${root}README.md`;
    const native = cli(['predict', '--weights', weights.f16, '--image', text]);
    assert.equal(native.status, 1);
    const e = await gc.classify(text).then(() => null, (x) => x);
    assert.ok(e instanceof GradCamError, String(e));
    assert.equal(e.code, ErrorCode.IMAGE_INVALID);
    assert.equal(e.detail, 'IMAGE_DECODE');
    assert.equal(`gradcam: ${text}: GC_ERR_IMAGE_DECODE: ${e.message}\n`, native.stderr, 'the native CLI says the same');
    await assert.rejects(gc.classify(readFileSync(PNG).subarray(0, 200)), { code: ErrorCode.IMAGE_INVALID, detail: 'IMAGE_DECODE' });
    await assert.rejects(gc.classify(`${root}no-such-image.png`), { code: ErrorCode.IMAGE_INVALID, detail: 'IO' });
    await assert.rejects(gc.classify(42), { code: ErrorCode.INVALID_ARGUMENT });
    await assert.rejects(gc.explain(PNG, { layer: 'block15_sepconv1_act' }), { code: ErrorCode.LAYER_UNKNOWN });
    assert.ok((await gc.classify(PNG)).top.length === 5, 'still usable');
    await assert.rejects(gc.loadWeights(text), (x) => x.code === ErrorCode.WEIGHTS_INVALID && x.detail === 'CONVERT' && x.message.includes('README.md'));
    await assert.rejects(gc.loadWeights(`${root}no-such.gcw`), { code: ErrorCode.WEIGHTS_INVALID, detail: 'IO' });
    await assert.rejects(gc.classify(PNG), { code: ErrorCode.NOT_LOADED }, 'a failed load leaves no model');
    await assert.rejects(GradCam.load({ wasmBase: `${root}no-such-dir/`, threads: 1 }), { code: ErrorCode.WASM_LOAD_FAILED });
  } finally {
    gc.dispose();
  }
});
