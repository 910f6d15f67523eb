// The WebAssembly model gives up its copy of the weights file (web/core.js loadHeap's `file`,
// gc_model_set_weights_reader): right after loading it holds none in the module's memory, and
// what it makes later from the file (backward operators, a *_bn pre-activation, the randomized
// file of the Sanity check) reads the tensors back from the JavaScript side's copy. Every map
// equals the one of a model that kept its copy (same floats); a file changed after loading, or
// one that is gone, gives an error instead of other weights. The engine's import path (a Keras
// .h5 converted in the module) gives up the converted file too.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createNodeEngine, randomTensor, testWeights } from './helpers.mjs';
import { Core } from '../../web/core.js';
import { loadNodeCore, shutdownCore } from '../../tools/test/node-core.mjs';
import { ErrorCode } from '../../web/errors.js';

const weights = testWeights(1);
const SIZE = 71; // the smallest input: the same code paths, a fraction of the time
/** Flip bits in 4 KB from the middle of a file: inside tensors, not only in the padding between them. */
const damage = (f) => { for (let i = f.length >> 1; i < (f.length >> 1) + 4096; i++) f[i] ^= 0x40; };

/** The model that keeps its copy: the file put into the module's memory by hand, no `file`. */
function keeping(core, bytes) {
  const c = new Core(core.M);
  const p = core.M._malloc(bytes.length);
  core.M.HEAPU8.set(bytes, p);
  return c.loadHeap(p, bytes.length, { threads: 2 });
}

test('wasm-mt: the model frees its copy of the weights file and reads tensors back, with the same maps', async () => {
  const core = await loadNodeCore('mt');
  const bytes = new Uint8Array(readFileSync(weights.f32));
  let kept = null;
  try {
    core.load(bytes, { threads: 2 });
    assert.equal(core.weightsHeld(), 0, 'no copy of the file in the module after loading');
    kept = keeping(core, bytes);
    assert.equal(kept.weightsHeld(), bytes.length, 'without a file outside, the model keeps its copy');
    const x = randomTensor(7, SIZE, SIZE);
    // saliency makes every backward operator; Grad-CAM at a *_bn layer a pre-activation operator
    for (const [method, layer] of [['saliency', undefined], ['gradcam', 'block14_sepconv1_bn'], ['gradcam', 'block3_sepconv2_act']]) {
      core.forwardTensor(x, SIZE, SIZE);
      kept.forwardTensor(x, SIZE, SIZE);
      const a = core.explain({ method, layer });
      const b = kept.explain({ method, layer });
      assert.deepEqual(a.data, b.data, `${method} ${layer ?? ''}: the same floats from the tensors read back`);
      assert.equal(core.weightsHeld(), 0, 'still none held');
    }
    const r1 = core.randomized('block13_sepconv1_act', 5, { threads: 2 });
    const r2 = kept.randomized('block13_sepconv1_act', 5, { threads: 2 });
    try {
      r1.forwardTensor(x, SIZE, SIZE);
      r2.forwardTensor(x, SIZE, SIZE);
      assert.deepEqual(r1.logits(), r2.logits(), 'the randomized model from the file read back');
    } finally {
      r1.free();
      r2.free();
    }
    // the file changes after loading: the tensor's hash refuses it (a fresh model: nothing made yet)
    core.load(bytes.slice(), { threads: 2 });
    const file = core.M.gradcamFiles.get(core.model);
    damage(file);
    core.forwardTensor(x, SIZE, SIZE);
    assert.throws(() => core.explain({ method: 'saliency' }), (e) => e.code === 'WEIGHTS_CHECKSUM' && /changed/.test(e.message));
    assert.throws(() => core.randomized('block13_sepconv1_act', 5), { code: 'WEIGHTS_CHECKSUM' });
    // gone (a transferred, detached buffer looks like this): IO, and the model still works once it is back
    damage(file); // back as it was
    core.M.gradcamFiles.set(core.model, new Uint8Array(0));
    core.forwardTensor(x, SIZE, SIZE);
    assert.throws(() => core.explain({ method: 'saliency' }), { code: 'IO' });
    core.M.gradcamFiles.set(core.model, file);
    core.forwardTensor(x, SIZE, SIZE);
    kept.forwardTensor(x, SIZE, SIZE);
    assert.deepEqual(core.explain({ method: 'saliency' }).data, kept.explain({ method: 'saliency' }).data);
  } finally {
    kept?.free();
    shutdownCore(core);
  }
});

test('engine: a Keras .h5 converted in the module is given up too; a file changed after loading gives WEIGHTS_INVALID', async () => {
  const engine = await createNodeEngine('st');
  try {
    await engine.loadWeights(new Uint8Array(readFileSync(weights.h5)), { dtype: 'f32' });
    assert.equal(engine.core.weightsHeld(), 0, 'the converted .gcw is not kept in the module');
    const img = { rgba: new Uint8ClampedArray(SIZE * SIZE * 4).fill(128), width: SIZE, height: SIZE };
    engine.classify(img.rgba, img.width, img.height, { topK: 1 });
    const m = engine.core.explain({ method: 'gradcam', layer: 'block12_sepconv3_act' });
    assert.ok(m.data.some((v) => v !== 0), 'a map from the backward operators made from the file read back');
    const bytes = new Uint8Array(readFileSync(weights.f32));
    await engine.loadWeights(bytes);
    assert.equal(engine.core.weightsHeld(), 0);
    damage(bytes); // the caller's buffer is the file the model reads back
    engine.classify(img.rgba, img.width, img.height, { topK: 1 });
    await assert.rejects(engine.explain(img.rgba, img.width, img.height, { method: 'saliency' }),
      (e) => e.code === ErrorCode.WEIGHTS_INVALID && e.detail === 'WEIGHTS_CHECKSUM');
  } finally {
    engine.dispose?.();
  }
});
