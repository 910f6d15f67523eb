// package-engine.test.mjs - the npm package's worker engine (web/engine.js, everything the
// Web Worker does except decoding images and fetching) in Node, with both WebAssembly
// flavours: classify equals the native CLI, Keras .h5 weights converted in the engine equal
// the CLI's conversion, errors carry the public codes. Also the page-side error class and
// feature detection. (The worker protocol, image inputs and the queue are tested in Chromium:
// tests/browser.)
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { cli, imagesDir, relL2, root, testWeights } from './helpers.mjs';
import { decodePng } from './png.mjs';
import { Engine, weightsFormat } from '../../web/engine.js';
import { ErrorCode, GradCamError, toGradCamError } from '../../web/errors.js';
import { detectFeatures, GradCam } from '../../web/index.js';

const weights = testWeights(1);
const IMAGE = 'skimage_chelsea.png';

async function createEngine(flavour, threads = 2) {
  const dir = `${root}build/wasm-${flavour}/`;
  // Emscripten 3.1.6's ES6 output uses CommonJS require/__dirname under Node (see tools/node-core.mjs)
  globalThis.require ??= createRequire(import.meta.url);
  globalThis.__dirname ??= dir;
  const { default: factory } = await import(pathToFileURL(`${dir}gradcam.mjs`).href);
  const wasmModule = await WebAssembly.compile(readFileSync(`${dir}gradcam.wasm`));
  return Engine.create({
    factory, wasmModule, mode: flavour === 'mt' ? 'threaded' : 'single', threads,
    moduleOptions: { locateFile: (f) => dir + f },
  });
}

// the browser build of h5wasm (in-memory file system), as the worker uses it
const h5wasm = () => import('h5wasm');

const native = cli(['predict', '--weights', weights.f32, '--image', `${imagesDir}/${IMAGE}`, '--json', '--top', '5'], { json: true });

for (const flavour of ['st', 'mt']) {
  test(`engine wasm-${flavour}: classify equals the native CLI; .h5 converted by the engine equals .gcw`, async () => {
    assert.equal(native.status, 0, native.stderr);
    const engine = await createEngine(flavour);
    try {
      const info = engine.info();
      assert.equal(info.mode, flavour === 'mt' ? 'threaded' : 'single');
      assert.equal(info.threads, flavour === 'mt' ? 2 : 1);
      assert.equal(info.loaded, false);
      assert.equal(engine.layers().find((l) => l.name === 'block14_sepconv2_act').shape.join('x'), '1x10x10x2048');
      assert.deepEqual(engine.methods(), []);

      const img = decodePng(readFileSync(`${imagesDir}/${IMAGE}`));
      assert.throws(() => engine.classify(img.rgba, img.width, img.height), { code: ErrorCode.NOT_LOADED });

      const r = await engine.loadWeights(new Uint8Array(readFileSync(weights.f32)));
      assert.equal(r.format, 'gcw');
      assert.equal(r.params, 22910480);
      const out = engine.classify(img.rgba, img.width, img.height, { topK: 5 });
      const e = relL2(out.logits, Float32Array.from(native.json.logits));
      console.log(`  wasm-${flavour} engine vs native CLI (${IMAGE}): logits rel L2 ${e.toExponential(2)}, forward ${out.timings.forward.toFixed(0)} ms`);
      assert.ok(e <= 1e-5, `rel L2 ${e}`);
      assert.deepEqual(out.top.map((t) => t.index), native.json.top.map((t) => t.index));
      assert.deepEqual(out.top.map((t) => t.name), native.json.top.map((t) => t.name));
      assert.equal(out.probs.length, 1000);
      assert.ok(Math.abs(out.probs.reduce((a, b) => a + b, 0) - 1) < 1e-4);

      // Keras .h5 converted in the engine (f32) gives the same logits as the CLI-converted .gcw
      const phases = new Set();
      const h = await engine.loadWeights(new Uint8Array(readFileSync(weights.h5)), {
        dtype: 'f32', h5wasm, onProgress: (p) => phases.add(p.phase),
      });
      assert.equal(h.format, 'h5');
      assert.deepEqual([...phases], ['convert', 'pack']);
      const out2 = engine.classify(img.rgba, img.width, img.height);
      assert.ok(relL2(out2.logits, out.logits) <= 1e-6, 'h5 vs gcw');
      assert.throws(() => engine.explain(), { code: ErrorCode.NOT_IMPLEMENTED });
    } finally {
      engine.dispose();
    }
  });
}

test('engine: bad weights, bad images and bad options give public error codes', async () => {
  const engine = await createEngine('st');
  try {
    const good = new Uint8Array(readFileSync(weights.f16));
    const corrupt = good.slice();
    corrupt.fill(7, 100000, 100004);
    for (const [name, bytes, detail] of [
      ['empty', new Uint8Array(0), 'WEIGHTS_TRUNCATED'],
      ['text', new TextEncoder().encode('<html>404 not found</html>'), 'WEIGHTS_MAGIC'],
      ['checksum', corrupt, 'WEIGHTS_CHECKSUM'],
      ['truncated', good.subarray(0, good.length - 10), 'WEIGHTS_TRUNCATED'],
    ]) {
      await assert.rejects(engine.loadWeights(bytes), (e) => {
        assert.ok(e instanceof GradCamError, name);
        assert.equal(e.code, ErrorCode.WEIGHTS_INVALID, name);
        assert.equal(e.detail, detail, name);
        return true;
      });
    }
    // an HDF5 file that is not Keras weights
    const notKeras = new Uint8Array(2048);
    notKeras.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(weightsFormat(notKeras), 'h5');
    await assert.rejects(engine.loadWeights(notKeras, { h5wasm }), { code: ErrorCode.WEIGHTS_INVALID });
    await assert.rejects(engine.loadWeights(notKeras), { code: ErrorCode.H5WASM_UNAVAILABLE });
    // still usable: good weights load after all that
    await engine.loadWeights(good);
    assert.throws(() => engine.classify(new Uint8Array(0), 0, 0), { code: ErrorCode.IMAGE_INVALID });
    assert.throws(() => engine.classify(new Uint8Array(12), 2, 2), { code: ErrorCode.IMAGE_INVALID });
    assert.throws(() => engine.classify(new Uint8Array(16), 2, 2, { topK: 0 }), { code: ErrorCode.INVALID_ARGUMENT });
    // a tiny image is resized up like any other
    const r = engine.classify(new Uint8Array(16).fill(128), 2, 2);
    assert.equal(r.top.length, 5);
    // the heap cannot grow past its 2 GB maximum: an allocation that would need it fails
    // with OUT_OF_MEMORY instead of aborting the module, which stays usable
    assert.throws(() => engine._run(() => engine.core._alloc(2 ** 31 + 4096)), { code: ErrorCode.OUT_OF_MEMORY });
    assert.equal(engine.classify(new Uint8Array(64 * 64 * 4).fill(200), 64, 64).logits.length, 1000);
    assert.throws(() => engine.setThreads(0), { code: ErrorCode.INVALID_ARGUMENT });
    assert.equal(engine.setThreads(3), 1, 'single build stays at 1 thread');
  } finally {
    engine.dispose();
  }
});

test('errors: GradCamError survives postMessage as plain data; core and wasm errors map to codes', () => {
  const e = new GradCamError(ErrorCode.IMAGE_INVALID, 'bad', 'IMAGE_SIZE');
  const back = GradCamError.from(structuredClone(e.toJSON()));
  assert.ok(back instanceof GradCamError && back instanceof Error);
  assert.deepEqual([back.code, back.message, back.detail], ['IMAGE_INVALID', 'bad', 'IMAGE_SIZE']);
  assert.equal(GradCamError.from({ code: 'NOPE', message: 'x' }).code, 'INTERNAL');
  const core = Object.assign(new Error('layer x'), { name: 'CoreError', code: 'LAYER_UNKNOWN' });
  assert.equal(toGradCamError(core).code, 'LAYER_UNKNOWN');
  assert.equal(toGradCamError(Object.assign(new Error('w'), { name: 'CoreError', code: 'WEIGHTS_SHAPE' })).code, 'WEIGHTS_INVALID');
  assert.equal(toGradCamError(new RangeError('WebAssembly.Memory(): could not allocate memory')).code, 'OUT_OF_MEMORY');
  assert.equal(toGradCamError(new TypeError('x is undefined')).code, 'INTERNAL');
  assert.equal(Object.keys(ErrorCode).length, new Set(Object.values(ErrorCode)).size);
});

test('page side in Node: SIMD is detected; load() refuses without Web Workers', async () => {
  const saved = globalThis.Worker; // the threaded Emscripten module defines one under Node
  delete globalThis.Worker;
  try {
    const f = detectFeatures();
    assert.equal(f.simd, true, 'Node 18+ has WebAssembly SIMD');
    assert.equal(f.worker, false);
    assert.equal(f.threads, false, 'Node is not cross-origin isolated');
    await assert.rejects(GradCam.load({}), { code: ErrorCode.UNSUPPORTED_BROWSER });
  } finally {
    if (saved) globalThis.Worker = saved;
  }
});
