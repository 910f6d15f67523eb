// package-engine.test.mjs - the npm package's worker engine (web/engine.js, everything the
// Web Worker does except decoding images and fetching) in Node, with both WebAssembly
// flavours: classify and explain equal the native CLI (raw maps, heatmap and overlay PNGs,
// metrics) for every method of the registry, Keras .h5 weights converted in the engine by the
// core's import equal the CLI's conversion, errors carry the public codes. Also the page-side
// error class, the explain() option checks and feature detection. (The worker protocol, image
// inputs and the queue are tested in Chromium: tests/browser.)
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cli, createNodeEngine, dataDir, imagesDir, pixelDiff, relL2, testWeights } from './helpers.mjs';
import { decodePng } from './png.mjs';
import { checkExplainOptions, ErrorCode, GradCamError, toGradCamError } from '../../web/errors.js';
import { detectFeatures, GradCam } from '../../web/index.js';

const weights = testWeights(1);
const IMAGE = 'skimage_chelsea.png';

const createEngine = (flavour, threads = 2) => createNodeEngine(flavour, { threads });

const native = cli(['predict', '--weights', weights.f32, '--image', `${imagesDir}/${IMAGE}`, '--json', '--top', '5'], { json: true });

for (const flavour of ['st', 'mt']) {
  test(`engine wasm-${flavour}: classify equals the native CLI; .h5 converted by the core's import in the engine equals .gcw`, async () => {
    assert.equal(native.status, 0, native.stderr);
    const engine = await createEngine(flavour);
    try {
      const info = engine.info();
      assert.equal(info.mode, flavour === 'mt' ? 'threaded' : 'single');
      assert.equal(info.threads, flavour === 'mt' ? 2 : 1);
      assert.equal(info.loaded, false);
      assert.equal(info.model, null);
      assert.equal(engine.layers().length, 94, 'every activation, with the fused *_bn pre-activations');
      assert.equal(engine.layers().find((l) => l.name === 'block14_sepconv2_act').shape.join('x'), '1x10x10x2048');
      assert.equal(engine.layers().find((l) => l.name === 'block5_sepconv1_bn').shape.join('x'), '1x19x19x728');
      checkMethods(engine.methods());
      assert.deepEqual(engine.colormaps(), ['jet', 'viridis', 'inferno', 'turbo', 'gray', 'diverging']);

      const img = decodePng(readFileSync(`${imagesDir}/${IMAGE}`));
      assert.throws(() => engine.classify(img.rgba, img.width, img.height), { code: ErrorCode.NOT_LOADED });

      const r = await engine.loadWeights(new Uint8Array(readFileSync(weights.f32)));
      assert.equal(r.format, 'gcw');
      assert.equal(r.params, 22910480);
      assert.deepEqual(r.model, engine.info().model);
      assert.deepEqual([r.model.classes, r.model.inputSize, r.model.head], [1000, [299, 299], 'GlobalAveragePooling2D -> Dense(1000, softmax)']);
      const out = engine.classify(img.rgba, img.width, img.height, { topK: 5 });
      const e = relL2(out.logits, Float32Array.from(native.json.logits));
      console.log(`  wasm-${flavour} engine vs native CLI (${IMAGE}): logits rel L2 ${e.toExponential(2)}, forward ${out.timings.forward.toFixed(0)} ms`);
      assert.ok(e <= 1e-5, `rel L2 ${e}`);
      assert.equal(native.json.arithmetic, 'portable');
      assert.equal(e, 0, 'the same floats as the native CLI (portable arithmetic)');
      assert.deepEqual(out.top.map((t) => t.index), native.json.top.map((t) => t.index));
      assert.deepEqual(out.top.map((t) => t.name), native.json.top.map((t) => t.name));
      assert.equal(out.probs.length, 1000);
      assert.ok(Math.abs(out.probs.reduce((a, b) => a + b, 0) - 1) < 1e-4);

      // Keras .h5 converted in the engine (f32) by the core's import: the CLI's conversion, the same logits
      const progress = [];
      const h = await engine.loadWeights(new Uint8Array(readFileSync(weights.h5)), {
        dtype: 'f32', keepConverted: true, onProgress: (p) => progress.push(p),
      });
      assert.equal(h.format, 'keras2-h5');
      assert.deepEqual([...new Set(progress.map((p) => p.phase))], ['convert', 'pack']);
      const convert = progress.filter((p) => p.phase === 'convert');
      assert.deepEqual(convert.map((p) => p.loaded), Array.from({ length: 237 }, (_, i) => i), 'one report per tensor, 236 tensors');
      assert.ok(convert.every((p) => p.total === 236));
      const cliConverted = `${exWork}/cli-f32.gcw`;
      const c = cli(['convert', '--in', weights.h5, '--out', cliConverted, '--dtype', 'f32']);
      assert.equal(c.status, 0, c.stderr);
      assert.ok(Buffer.from(h.converted).equals(readFileSync(cliConverted)), 'the engine\'s .gcw is the CLI\'s, byte for byte');
      const out2 = engine.classify(img.rgba, img.width, img.height);
      assert.equal(relL2(out2.logits, out.logits), 0, 'h5 vs gcw');
    } finally {
      engine.dispose();
    }
  });
}

function checkMethods(methods) {
  // the registry's own consistency is tests/js/registry.test.mjs's; here what the engine adds
  assert.ok(methods.length >= 15, methods.map((m) => m.name).join());
  for (const m of methods) {
    assert.equal(m.channels, m.name.startsWith('guided-') ? 3 : 1, m.name);
    assert.ok(m.description.length > 40 && m.description.endsWith('.') && !m.description.includes('\n'), m.name);
    assert.ok(!('summary' in m), 'the summary is the description');
    for (const q of m.params) assert.ok(q.min <= q.default && q.default <= q.max, `${m.name}.${q.name}`);
  }
}

// ---- explain against the native CLI -----------------------------------------------------
// Each case runs `gradcam explain ... --json --out-heatmap --out-overlay` once (shared by both
// flavours) and engine.explain() on the PNG's pixels: every method, CAMs at three depths. The
// issue's bound is 1e-5 (relative L2) for the raw maps; with the native build's default
// "portable" arithmetic (src/arith.c: XNNPACK's kernels that multiply and add separately, in
// the WebAssembly kernels' order) the two builds compute the same floats, so the maps, PNGs and
// metrics must be identical. (With --arithmetic fma they differ in the last bits, and a max
// pool's gradient can take the other cell of a near-tied window: maxpool-ties.test.mjs.)
const EX_IMAGE = 'skimage_chelsea.png';
const exWork = `${dataDir}/package-engine`;
rmSync(exWork, { recursive: true, force: true });
mkdirSync(exWork, { recursive: true });
const CASES = [
  // name, options (classIndex 'top1' / 'top2' from the native predict)
  { name: 'gradcam-b14', o: { method: 'gradcam', layer: 'block14_sepconv2_act' },
    metrics: { steps: 1, baseline: 'mean' } }, // metrics (5 batched forward passes) with the threaded build only
  { name: 'gradcam-b8', o: { method: 'gradcam', layer: 'block8_sepconv3_act', classIndex: 'top1', colormap: 'viridis', alpha: 0.6, blend: 'alpha' } },
  { name: 'layercam-b8', o: { method: 'layercam', layer: 'block8_sepconv3_act', classIndex: 'top2' } },
  { name: 'gradcam++-b3', o: { method: 'gradcam++', layer: 'block3_sepconv2_act', classIndex: 'top2', colormap: 'turbo' } },
  { name: 'hirescam-b13', o: { method: 'hirescam', layer: 'block13_sepconv2_act' } },
  { name: 'xgradcam-b4', o: { method: 'xgradcam', layer: 'block4_pool', classIndex: 'top1' } },
  { name: 'eigencam-b14', o: { method: 'eigencam' } },
  { name: 'scorecam-b14', o: { method: 'scorecam', classIndex: 'top2', methodOptions: { channels: 6 } } },
  { name: 'guided-backprop', o: { method: 'guided-backprop', classIndex: 'top1', colormap: 'gray' } },
  { name: 'guided-gradcam-b8', o: { method: 'guided-gradcam', layer: 'block8_sepconv3_act' } },
  { name: 'saliency', o: { method: 'saliency', classIndex: 'top2', colormap: 'inferno', alpha: 0.3 } },
  { name: 'smoothgrad', o: { method: 'smoothgrad', methodOptions: { samples: 2, sigma: 0.2, seed: 7, target: 'prob' } } },
  { name: 'integrated-gradients', o: { method: 'integrated-gradients', classIndex: 'top1', methodOptions: { steps: 3 } } },
  { name: 'eigengradcam-b13', o: { method: 'eigengradcam', layer: 'block13_sepconv2_act', classIndex: 'top2' } },
  { name: 'ablationcam-b14', o: { method: 'ablationcam' } },
  { name: 'gradient-input', o: { method: 'gradient-input', classIndex: 'top1' } },
];
// methodOptions -> the CLI's options, from the registry's params (cli names) and --target
const CLI_METHOD_OPTIONS = { target: '--target' };
for (const m of (await createEngine('st', 1).then((e) => { const ms = e.methods(); e.dispose(); return ms; }))) {
  for (const q of m.params) CLI_METHOD_OPTIONS[q.name] = `--${q.cli}`;
}
const exTop = native.json.top.map((t) => t.index);
const classOf = (c) => (c === 'top1' ? exTop[0] : c === 'top2' ? exTop[1] : c);
const nativeEx = new Map();
function nativeExplain(c) {
  if (!nativeEx.has(c.name)) {
    const o = c.o;
    const h = `${exWork}/${c.name}-heatmap.png`;
    const ov = `${exWork}/${c.name}-overlay.png`;
    const args = ['explain', '--weights', weights.f32, '--image', `${imagesDir}/${EX_IMAGE}`, '--method', o.method,
      '--json', '--threads', '2', '--out-heatmap', h, '--out-overlay', ov];
    if (o.classIndex !== undefined) args.push('--class', String(classOf(o.classIndex)));
    if (o.layer) args.push('--layer', o.layer);
    for (const k of ['colormap', 'alpha', 'blend']) if (o[k] !== undefined) args.push(`--${k}`, String(o[k]));
    for (const [k, v] of Object.entries(o.methodOptions ?? {})) args.push(CLI_METHOD_OPTIONS[k], String(v));
    if (c.metrics) args.push('--metrics', '--steps', String(c.metrics.steps), '--baseline', c.metrics.baseline);
    const r = cli(args, { json: true });
    assert.equal(r.status, 0, r.stderr);
    nativeEx.set(c.name, { json: r.json, heatmap: decodePng(readFileSync(h)), overlay: decodePng(readFileSync(ov)) });
  }
  return nativeEx.get(c.name);
}

for (const flavour of ['st', 'mt']) {
  test(`engine wasm-${flavour}: explain equals the native CLI (raw map, heatmap and overlay PNGs, metrics)`, async () => {
    const engine = await createEngine(flavour);
    try {
      await engine.loadWeights(new Uint8Array(readFileSync(weights.f32)));
      const img = decodePng(readFileSync(`${imagesDir}/${EX_IMAGE}`));
      for (const c of CASES) {
        const ref = nativeExplain(c);
        const metrics = flavour === 'mt' ? c.metrics : undefined;
        const options = { ...c.o, metrics };
        if (options.classIndex !== undefined) options.classIndex = classOf(options.classIndex);
        const r = await engine.explain(img.rgba, img.width, img.height, options);
        const label = `wasm-${flavour} ${c.name}`;
        assert.equal(r.classIndex, ref.json.class, label);
        assert.equal(r.className, ref.json.name, label);
        assert.ok(Math.abs(r.prob - ref.json.prob) <= 1e-5, label);
        assert.equal(r.method, c.o.method);
        assert.equal(r.layer, ref.json.layer, label);
        assert.deepEqual(r.classes.map((x) => x.index), exTop, label);
        assert.deepEqual([r.cam.height, r.cam.width, r.cam.channels], [ref.json.h, ref.json.w, ref.json.channels], label);
        assert.ok(r.cam.data instanceof Float32Array);
        const e = relL2(r.cam.data, Float32Array.from(ref.json.cam));
        // rendering: the native map through the wasm core gives the CLI's PNGs exactly
        const again = engine.core.render({ height: ref.json.h, width: ref.json.w, channels: ref.json.channels, data: Float32Array.from(ref.json.cam) },
          img.rgba, img.width, img.height, { colormap: c.o.colormap, alpha: c.o.alpha, blend: c.o.blend });
        assert.deepEqual(pixelDiff(again.heatmap, ref.heatmap.rgba), { n: 0, max: 0 }, `${label}: heatmap of the native map`);
        assert.deepEqual(pixelDiff(again.overlay, ref.overlay.rgba), { n: 0, max: 0 }, `${label}: overlay of the native map`);
        // the engine's own images, at the photo's size
        for (const k of ['heatmap', 'overlay']) {
          assert.deepEqual([r[k].width, r[k].height], [img.width, img.height], `${label} ${k} size`);
          assert.ok(r[k].data instanceof Uint8ClampedArray);
        }
        const dh = pixelDiff(r.heatmap.data, ref.heatmap.rgba);
        const dov = pixelDiff(r.overlay.data, ref.overlay.rgba);
        console.log(`  ${label}: cam ${r.cam.height}x${r.cam.width}x${r.cam.channels} rel L2 ${e.toExponential(2)}; ` +
          `heatmap ${dh.n} values off (max ${dh.max}), overlay ${dov.n} (max ${dov.max}) of ${img.width * img.height * 4}; ` +
          `forward ${r.timings.forward.toFixed(0)} ms, explain ${r.timings.explain.toFixed(0)} ms, render ${r.timings.render.toFixed(0)} ms`);
        assert.equal(ref.json.arithmetic, 'portable', 'the native CLI defaults to the WebAssembly build\'s arithmetic');
        assert.ok(e <= 1e-5, `${label}: cam rel L2 ${e} > 1e-5`);
        assert.equal(e, 0, `${label}: the same floats (portable arithmetic)`);
        assert.equal(dh.n + dov.n, 0, `${label}: pixels off by ${dh.max} / ${dov.max}`);
        if (metrics) {
          const m = r.metrics;
          const n = ref.json.metrics;
          assert.equal(m.steps, n.steps);
          assert.equal(m.baseline, c.metrics.baseline);
          assert.ok(m.deletion instanceof Float32Array && m.deletion.length === n.steps + 1);
          const diffs = [...m.deletion.map((v, i) => v - n.deletion[i]), ...m.insertion.map((v, i) => v - n.insertion[i]),
            m.deletionAuc - n.deletion_auc, m.insertionAuc - n.insertion_auc, m.averageDrop - n.average_drop];
          const worst = Math.max(...diffs.map(Math.abs));
          console.log(`  ${label}: metrics (steps ${m.steps}) largest difference ${worst.toExponential(2)}, ${r.timings.metrics.toFixed(0)} ms`);
          assert.ok(worst <= 1e-5, `metrics differ by ${worst} (the CLI prints 6 digits)`);
          assert.equal(m.increaseInConfidence, n.increase_in_confidence === 1);
        } else {
          assert.equal(r.metrics, undefined);
          assert.equal(r.timings.metrics, undefined);
        }
      }
    } finally {
      engine.dispose();
    }
  });
}

test('engine: explain with topK, abort between stages, and bad options give public error codes', async () => {
  const engine = await createEngine('mt');
  try {
    const img = decodePng(readFileSync(`${imagesDir}/${EX_IMAGE}`));
    await assert.rejects(engine.explain(img.rgba, img.width, img.height), { code: ErrorCode.NOT_LOADED });
    await engine.loadWeights(new Uint8Array(readFileSync(weights.f32)));
    const args = [img.rgba, img.width, img.height];
    // topK: an array, one result per class, best first, over one forward pass
    const many = await engine.explain(...args, { topK: 7, colormap: 'turbo' });
    assert.ok(Array.isArray(many) && many.length === 7);
    assert.deepEqual(many.slice(0, 5).map((r) => r.classIndex), exTop);
    assert.deepEqual(many[6].classes.map((x) => x.index), many.map((r) => r.classIndex), 'classes: the top 5, or topK when larger');
    assert.equal(new Set(many.map((r) => r.timings.forward)).size, 1, 'one forward pass');
    const one = await engine.explain(...args, { classIndex: exTop[1], colormap: 'turbo' });
    assert.ok(!Array.isArray(one));
    assert.deepEqual(one.cam.data, many[1].cam.data);
    assert.deepEqual(one.overlay.data, many[1].overlay.data);
    // abort: before the call, and while it runs (the forward pass finishes, the map is not made)
    await assert.rejects(engine.explain(...args, {}, { signal: AbortSignal.abort() }), { code: ErrorCode.ABORTED });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 0);
    await assert.rejects(engine.explain(...args, { topK: 2 }, { signal: ctl.signal }), { code: ErrorCode.ABORTED });
    // bad options and images, checked before the forward pass
    const bad = [
      [{ classIndex: 1000 }, ErrorCode.CLASS_OUT_OF_RANGE], [{ classIndex: -1 }, ErrorCode.CLASS_OUT_OF_RANGE],
      [{ classIndex: 2.5 }, ErrorCode.CLASS_OUT_OF_RANGE], [{ layer: 'block99_nope' }, ErrorCode.LAYER_UNKNOWN],
      [{ layer: 'Block14_sepconv2_act' }, ErrorCode.LAYER_UNKNOWN], [{ method: 'magic' }, ErrorCode.METHOD_UNKNOWN],
      [{ topK: 0 }, ErrorCode.INVALID_ARGUMENT], [{ topK: 2, classIndex: 3 }, ErrorCode.INVALID_ARGUMENT],
      [{ colormap: 'rainbow' }, ErrorCode.INVALID_ARGUMENT], [{ alpha: 1.5 }, ErrorCode.INVALID_ARGUMENT],
      [{ blend: 'screen' }, ErrorCode.INVALID_ARGUMENT], [{ methodOptions: { step: 4 } }, ErrorCode.INVALID_ARGUMENT],
      [{ method: 'smoothgrad', methodOptions: { samples: 0 } }, ErrorCode.INVALID_ARGUMENT], [{ methodOptions: { target: 'softmax' } }, ErrorCode.INVALID_ARGUMENT],
      [{ methodOptions: { samples: 4 } }, ErrorCode.INVALID_ARGUMENT], // not a setting of gradcam
      [{ method: 'smoothgrad', methodOptions: { sigma: 'lots' } }, ErrorCode.INVALID_ARGUMENT],
      [{ method: 'integrated-gradients', methodOptions: { steps: 2.5 } }, ErrorCode.INVALID_ARGUMENT],
      [{ method: 'scorecam', methodOptions: { channels: 'every' } }, ErrorCode.INVALID_ARGUMENT],
      [{ contrastClass: 1000 }, ErrorCode.CLASS_OUT_OF_RANGE], [{ classIndex: 5, contrastClass: 5 }, ErrorCode.INVALID_ARGUMENT],
      [{ detail: 'yes' }, ErrorCode.INVALID_ARGUMENT], [{ topK: 1001 }, ErrorCode.INVALID_ARGUMENT],
      [{ metrics: { steps: 65 } }, ErrorCode.INVALID_ARGUMENT], [{ metrics: { baseline: 'zero' } }, ErrorCode.INVALID_ARGUMENT],
      [{ method: 'guided-backprop', metrics: true }, ErrorCode.INVALID_ARGUMENT],
      [{ method: 'guided-gradcam', metrics: { steps: 4 } }, ErrorCode.INVALID_ARGUMENT],
    ];
    for (const [o, code] of bad) {
      await assert.rejects(engine.explain(...args, o), (e) => {
        assert.ok(e instanceof GradCamError, JSON.stringify(o));
        assert.equal(e.code, code, `${JSON.stringify(o)}: ${e.message}`);
        return true;
      });
    }
    await assert.rejects(engine.explain(...args, { method: 'guided-backprop', metrics: true }), /single-channel map/);
    await assert.rejects(engine.explain(new Uint8Array(0), 0, 0), { code: ErrorCode.IMAGE_INVALID });
    // methodOptions reach the core: the probability as the target gives another map
    const prob = await engine.explain(...args, { colormap: 'turbo', methodOptions: { target: 'prob' } });
    assert.equal(prob.classIndex, many[0].classIndex);
    assert.notDeepEqual(prob.cam.data, many[0].cam.data);
    const logit = await engine.explain(...args, { colormap: 'turbo', methodOptions: { target: 'logit' } });
    assert.deepEqual(logit.cam.data, many[0].cam.data);
    // Score-CAM's channels: 'all' is the registry's special word for its minimum (0: every channel);
    // at block1_conv2_act (64 channels, more than the default 32), where every channel is 64
    // passes, not 2048
    const early = { method: 'scorecam', inputSize: 71, layer: 'block1_conv2_act' };
    const every = await engine.explain(...args, { ...early, methodOptions: { channels: 'all' } });
    const zero = await engine.explain(...args, { ...early, methodOptions: { channels: 0 } });
    const byDefault = await engine.explain(...args, early);
    assert.notDeepEqual(every.cam.data, byDefault.cam.data, 'every channel is not the default 32');
    assert.deepEqual(every.cam.data, zero.cam.data);
    // still usable after the errors
    assert.deepEqual(logit.overlay.data, many[0].overlay.data);
  } finally {
    engine.dispose();
  }
});

test('checkExplainOptions: defaults, and null means not given', () => {
  const known = {
    layers: ['block14_sepconv2_act', 'block8_sepconv3_act'], methods: [{ name: 'gradcam', label: 'Grad-CAM', channels: 1, params: [] }],
    colormaps: ['jet', 'gray'], classes: 5, inputSize: 150,
  };
  assert.deepEqual(checkExplainOptions(undefined, known), {
    classIndex: undefined, topK: undefined, contrastClass: undefined, layer: 'block14_sepconv2_act', method: 'gradcam', colormap: 'jet', alpha: 0.4,
    blend: 'additive', scale: 'max', methodOptions: {}, metrics: null, detail: false, inputSize: 150,
  });
  assert.deepEqual(checkExplainOptions({ classIndex: null, layer: null, metrics: true, methodOptions: { target: 'prob', seed: undefined } }, known).metrics,
    { steps: 16, baseline: 'blur' });
  assert.deepEqual(checkExplainOptions({ methodOptions: { target: 'prob' } }, known).methodOptions, { target: 'prob' });
  assert.throws(() => checkExplainOptions('gradcam', known), { code: ErrorCode.INVALID_ARGUMENT });
  // the ranges are the model's: 5 classes here
  assert.equal(checkExplainOptions({ classIndex: 4 }, known).classIndex, 4);
  assert.throws(() => checkExplainOptions({ classIndex: 5 }, known), { code: ErrorCode.CLASS_OUT_OF_RANGE, message: /0\.\.4/ });
  assert.throws(() => checkExplainOptions({ topK: 6 }, known), { code: ErrorCode.INVALID_ARGUMENT, message: /1\.\.5/ });
  assert.throws(() => checkExplainOptions({ classIndex: 0 }, { ...known, classes: 0 }), { code: ErrorCode.NO_HEAD });
});

test('engine: bad weights, bad images and bad options give public error codes', async () => {
  const engine = await createEngine('st');
  try {
    const good = new Uint8Array(readFileSync(weights.f16));
    const corrupt = good.slice();
    corrupt.fill(7, 100000, 100004);
    for (const [name, bytes, detail] of [
      // not a .gcw: the core's import looks at the content and names what it is
      ['empty', new Uint8Array(0), 'CONVERT'],
      ['text', new TextEncoder().encode('<html>404 not found</html>'), 'CONVERT'],
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
    // an HDF5 signature followed by zeros: the core's HDF5 reader refuses it
    const notKeras = new Uint8Array(2048);
    notKeras.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
    await assert.rejects(engine.loadWeights(notKeras), { code: ErrorCode.WEIGHTS_INVALID, detail: 'H5' });
    assert.equal(engine.info().loaded, false, 'no model after a failed load');
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
  assert.equal(toGradCamError(Object.assign(new Error('layer x'), { name: 'CoreError', code: 'LAYER_UNKNOWN' })).code, 'LAYER_UNKNOWN');
  assert.equal(toGradCamError(Object.assign(new Error('w'), { name: 'CoreError', code: 'WEIGHTS_SHAPE' })).code, 'WEIGHTS_INVALID');
  assert.equal(toGradCamError(new RangeError('WebAssembly.Memory(): could not allocate memory')).code, 'OUT_OF_MEMORY');
  assert.equal(toGradCamError(new TypeError('x is undefined')).code, 'INTERNAL');
  const core = (code) => toGradCamError(Object.assign(new Error(`${code} text`), { name: 'CoreError', code }));
  for (const c of ['H5', 'ZIP', 'JSON', 'CONVERT']) assert.deepEqual([core(c).code, core(c).detail], ['WEIGHTS_INVALID', c]);
  assert.equal(core('LABELS').code, 'LABELS_INVALID');
  assert.equal(core('NO_HEAD').code, 'NO_HEAD');
  assert.deepEqual([core('CANCELLED').code, core('CANCELLED').message], ['ABORTED', 'the operation was aborted']);
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
