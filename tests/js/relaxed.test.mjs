// relaxed.test.mjs - the relaxed SIMD build (build/wasm-relaxed: threads + SIMD + relaxed
// SIMD, XNNPACK's kernels on f32x4.relaxed_madd) in Node, and the choice of build:
// 1. feature detection: the relaxed probe validates only where relaxed SIMD is (a Node started
//    with --no-experimental-wasm-relaxed-simd refuses it), and chooseBuild() (web/index.js, the
//    one place that chooses) falls back to wasm-mt when it does not validate or when
//    relaxedSimd: false forces it off; the Node loader (tools/test/node-core.mjs) chooses the same;
// 2. the package's engine on the relaxed build against the native CLI with --arithmetic fma.
//
// The tolerance. Both sides multiply and add in one rounding (x86 FMA3 natively; relaxed_madd,
// which V8 turns into the same vfmadd instruction where the CPU has FMA3), so they need not
// equal the portable arithmetic (the SIMD builds, the CLI's default): measured rel L2 4e-7 on the
// logits. Fused on both sides still does not make them bit-identical by construction: XNNPACK's
// x86 kernels (5x16 tiles) and its wasm relaxed kernels (4x8 tiles) are different code, and
// nothing promises they sum each output in the same order. Measured on the test machine (Zen 3,
// AVX2 + FMA3): the logits and every layer's map of the CAM family are identical, and the
// input-space maps (saliency, guided backpropagation, SmoothGrad, Integrated Gradients) differ
// by 6e-8 to 9e-8 (rel L2), a few heatmap values by 1. The bound is 2e-7 (rel L2) for logits
// and maps, and heatmap values within 1: twice the largest measured difference, half the
// distance to the portable arithmetic (so a relaxed build that stopped fusing would fail on a
// CPU with FMA3), and far below what a max pool's near tie costs (a gradient routed to the
// other cell of a window whose two values agree to ~6 digits changes deeper maps by 3e-5 to
// 2e-3: maxpool-ties.test.mjs), so such a flip would fail here and has to be looked at, not
// absorbed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { cli, dataDir, imagesDir, pixelDiff, relL2, root, testWeights } from './helpers.mjs';
import { decodePng } from './png.mjs';
import { allowRelaxedSimd, loadNodeCore, nodeFlavour, shutdownCore } from '../../tools/test/node-core.mjs';
import { chooseBuild, detectFeatures } from '../../web/index.js';
import { Engine } from '../../web/engine.js';

const weights = testWeights(1);
const IMAGE = `${imagesDir}/skimage_chelsea.png`;
const BOUND = 2e-7;
const work = `${dataDir}/relaxed`;
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

/** detectFeatures() and nodeFlavour() in a fresh Node with the given V8 flag. */
function childFeatures(flag) {
  const code = `import('${pathToFileURL(`${root}tools/test/node-core.mjs`).href}').then(async (n) => {
    const { detectFeatures } = await import('${pathToFileURL(`${root}web/index.js`).href}');
    console.log(JSON.stringify({ relaxedSimd: detectFeatures().relaxedSimd, simd: detectFeatures().simd, flavour: n.nodeFlavour() }));
  })`;
  const r = spawnSync(process.execPath, [flag, '--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('feature detection chooses the relaxed build where relaxed SIMD validates, else wasm-mt', () => {
  // a real engine without relaxed SIMD refuses the probe (and has SIMD): the SIMD build
  assert.deepEqual(childFeatures('--no-experimental-wasm-relaxed-simd'), { relaxedSimd: false, simd: true, flavour: 'mt' });
  assert.deepEqual(childFeatures('--experimental-wasm-relaxed-simd'), { relaxedSimd: true, simd: true, flavour: 'relaxed' });
  allowRelaxedSimd(); // this process too, from here on
  const f = detectFeatures();
  assert.equal(f.relaxedSimd, true);
  assert.equal(nodeFlavour(), 'relaxed');
  assert.equal(nodeFlavour({ relaxedSimd: false }), 'mt', 'relaxedSimd: false forces the SIMD build');
  // the choice for every combination
  const on = { relaxedSimd: true };
  const off = { relaxedSimd: false };
  assert.deepEqual(chooseBuild(on, { threaded: true }), { dir: 'wasm-relaxed', mode: 'threaded', build: 'relaxed' });
  assert.deepEqual(chooseBuild(on, { threaded: true, relaxedSimd: false }), { dir: 'wasm-mt', mode: 'threaded', build: 'simd' });
  assert.deepEqual(chooseBuild(off, { threaded: true }), { dir: 'wasm-mt', mode: 'threaded', build: 'simd' });
  assert.deepEqual(chooseBuild(on, { threaded: false }), { dir: 'wasm-st', mode: 'single', build: 'simd' });
  // forced off in this process: an engine whose validate() refuses the relaxed opcode
  const validate = WebAssembly.validate;
  WebAssembly.validate = (bytes) => !new Uint8Array(bytes).join().includes('253,133,2') && validate(bytes);
  try {
    assert.equal(detectFeatures().relaxedSimd, false);
    assert.equal(detectFeatures().simd, true);
    assert.equal(nodeFlavour(), 'mt');
  } finally {
    WebAssembly.validate = validate;
  }
});

test('the relaxed build says what it computes with; the SIMD build too', async () => {
  allowRelaxedSimd();
  for (const [flavour, arithmetic] of [['relaxed', 'fma'], ['mt', 'portable']]) {
    const core = await loadNodeCore(flavour);
    try {
      assert.equal(core.arithmetic(), arithmetic, flavour);
    } finally {
      shutdownCore(core);
    }
  }
});

async function relaxedEngine() {
  const dir = `${root}build/wasm-relaxed/`;
  globalThis.require ??= createRequire(import.meta.url);
  globalThis.__dirname ??= dir;
  const { default: factory } = await import(pathToFileURL(`${dir}gradcam.mjs`).href);
  const wasmModule = await WebAssembly.compile(readFileSync(`${dir}gradcam.wasm`));
  return Engine.create({ factory, wasmModule, mode: 'threaded', threads: 2, build: 'relaxed', moduleOptions: { locateFile: (f) => dir + f } });
}

test('engine on the relaxed build equals the native CLI with --arithmetic fma (within 2e-7)', async () => {
  allowRelaxedSimd();
  const fma = cli(['predict', '--arithmetic', 'fma', '--weights', weights.f32, '--image', IMAGE, '--json', '--top', '5', '--threads', '2'], { json: true });
  const portable = cli(['predict', '--weights', weights.f32, '--image', IMAGE, '--json', '--top', '5'], { json: true });
  assert.equal(fma.status, 0, fma.stderr);
  assert.equal(fma.json.arithmetic, 'fma');
  assert.equal(portable.json.arithmetic, 'portable');
  const engine = await relaxedEngine();
  try {
    const info = engine.info();
    assert.deepEqual([info.mode, info.threads, info.build, info.arithmetic], ['threaded', 2, 'relaxed', 'fma']);
    await engine.loadWeights(new Uint8Array(readFileSync(weights.f32)));
    const img = decodePng(readFileSync(IMAGE));
    const out = engine.classify(img.rgba, img.width, img.height, { topK: 5 });
    const e = relL2(out.logits, Float32Array.from(fma.json.logits));
    const ep = relL2(out.logits, Float32Array.from(portable.json.logits));
    console.log(`  wasm-relaxed vs native CLI: logits rel L2 ${e.toExponential(2)} (fma), ${ep.toExponential(2)} (portable); forward ${out.timings.forward.toFixed(0)} ms`);
    assert.ok(e <= BOUND, `logits rel L2 ${e} vs the CLI's fma arithmetic`);
    assert.deepEqual(out.top.map((t) => t.index), fma.json.top.map((t) => t.index));

    const top = fma.json.top.map((t) => t.index);
    const cases = [
      ['gradcam-b8', { method: 'gradcam', layer: 'block8_sepconv3_act', classIndex: top[0] }], // below block13_pool
      ['gradcam++-b3', { method: 'gradcam++', layer: 'block3_sepconv2_act', classIndex: top[1], colormap: 'turbo' }],
      ['saliency', { method: 'saliency', classIndex: top[1] }], // the input gradient
      ['guided-gradcam-b8', { method: 'guided-gradcam', layer: 'block8_sepconv3_act' }], // RGB
    ];
    for (const [name, o] of cases) {
      const heat = `${work}/${name}-heatmap.png`;
      const args = ['explain', '--arithmetic', 'fma', '--weights', weights.f32, '--image', IMAGE, '--method', o.method,
        '--json', '--threads', '2', '--out-heatmap', heat];
      if (o.classIndex !== undefined) args.push('--class', String(o.classIndex));
      if (o.layer) args.push('--layer', o.layer);
      if (o.colormap) args.push('--colormap', o.colormap);
      const ref = cli(args, { json: true });
      assert.equal(ref.status, 0, ref.stderr);
      const r = await engine.explain(img.rgba, img.width, img.height, o);
      assert.equal(r.classIndex, ref.json.class, name);
      assert.deepEqual([r.cam.height, r.cam.width, r.cam.channels], [ref.json.h, ref.json.w, ref.json.channels], name);
      const ec = relL2(r.cam.data, Float32Array.from(ref.json.cam));
      const d = pixelDiff(r.heatmap.data, decodePng(readFileSync(heat)).rgba);
      console.log(`  wasm-relaxed ${name}: cam rel L2 ${ec.toExponential(2)} vs CLI fma; heatmap ${d.n} values off (max ${d.max})`);
      assert.ok(ec <= BOUND, `${name}: cam rel L2 ${ec}`);
      assert.ok(d.max <= 1, `${name}: heatmap values off by ${d.max}`);
    }
  } finally {
    engine.dispose();
  }
});
