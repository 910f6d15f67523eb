// forward.test.mjs - the forward pass against the independent implementation (Keras Xception
// rebuilt with TF.js layers on its CPU backend, tests/oracle/), on synthetic weights written in
// the official Keras HDF5 layout and converted by the project's converter; then the
// WebAssembly builds (both flavours) against the native build.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  cli, createSingleEngine, dataDir, imagesDir, maxAbs, node, randomTensor, readF32, relL2, root, testWeights, topK,
} from './helpers.mjs';
import { buildXception, initBackend, loadKerasH5, run } from '../oracle/xception.mjs';
import { loadNodeCore, shutdownCore } from '../../tools/test/node-core.mjs';

const BLOCKS = ['block1_conv2_act', 'block2_add', 'block3_add', 'block4_add', 'block5_add', 'block6_add',
  'block7_add', 'block8_add', 'block9_add', 'block10_add', 'block11_add', 'block12_add', 'block13_add',
  'block14_sepconv2_act'];

// 3 real photos (one at the full 299x299) and 2 synthetic inputs
const CASES = [
  { name: 'chelsea (cat) 299x299', image: 'skimage_chelsea.png', h: 299, w: 299 },
  { name: 'coffee 128x128', image: 'skimage_coffee.png', h: 128, w: 128 },
  { name: 'astronaut 96x112', image: 'skimage_astronaut.png', h: 96, w: 112 },
  { name: 'random 71x71', seed: 3, h: 71, w: 71 },
  { name: 'random 150x100', seed: 4, h: 150, w: 100 },
];

const weights = testWeights(1);
const work = `${dataDir}/forward`;
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

/** Native forward pass: returns {input, logits, acts} (input = the preprocessed tensor). */
function native(c, weightsFile, tag, layers = BLOCKS) {
  const dir = `${work}/${tag}`;
  mkdirSync(dir, { recursive: true });
  const inputPath = `${dir}/input.f32`;
  const args = ['predict', '--weights', weightsFile, '--input-size', `${c.h}x${c.w}`, '--json', '--threads', '2',
    '--dump-dir', dir, '--dump-layers', layers.join(',')];
  if (c.image) {
    args.push('--image', `${imagesDir}/${c.image}`, '--save-input', inputPath);
  } else {
    writeFileSync(inputPath, randomTensor(c.seed, c.h, c.w));
    args.push('--input-tensor', inputPath);
  }
  const r = cli(args, { json: true });
  assert.equal(r.status, 0, r.stderr);
  const acts = Object.fromEntries(layers.map((l) => [l, readF32(`${dir}/${l}.f32`)]));
  return { input: readF32(inputPath), logits: Float32Array.from(r.json.logits), top: r.json.top, acts };
}

const results = new Map(); // case name -> native f32 result, reused by the wasm tests

test('converted test weights have the Keras parameter count', () => {
  const r = cli(['convert', '--in', weights.h5, '--out', `${work}/count.gcw`, '--dtype', 'f32']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /22910480 parameters/);
});

test('oracle agreement: logits, top-5 and every block output (fp32 weights)', async (t) => {
  await initBackend();
  for (const c of CASES) {
    await t.test(c.name, async () => {
      const mine = native(c, weights.f32, `f32-${c.h}x${c.w}-${c.image || c.seed}`);
      results.set(c.name, mine);
      const model = buildXception(c.h, c.w);
      await loadKerasH5(model, weights.h5);
      const ref = run(model, mine.input, c.h, c.w, BLOCKS);
      const e = relL2(mine.logits, ref.logits);
      console.log(`  ${c.name}: logits rel L2 ${e.toExponential(2)}, max |diff| ${maxAbs(mine.logits, ref.logits).toExponential(2)}`);
      assert.ok(e <= 1e-4, `logits relative L2 ${e}`);
      assert.deepEqual(topK(mine.logits), topK(ref.logits), 'top-5');
      assert.deepEqual(mine.top.map((x) => x.index), topK(ref.logits), 'CLI top-5');
      let worst = 0;
      for (const l of BLOCKS) {
        const el = relL2(mine.acts[l], ref.acts[l]);
        worst = Math.max(worst, el);
        assert.ok(el <= 1e-4, `${l} relative L2 ${el}`);
      }
      console.log(`  ${c.name}: worst block output rel L2 ${worst.toExponential(2)}`);
      model.dispose();
    });
  }
});

test('fp16-stored weights keep the top-5 and stay within 1e-2 of the fp32 oracle', async () => {
  await initBackend();
  for (const c of [CASES[1], CASES[3]]) {
    const mine = native(c, weights.f16, `f16-${c.h}x${c.w}`, ['block14_sepconv2_act']);
    const model = buildXception(c.h, c.w);
    await loadKerasH5(model, weights.h5);
    const ref = run(model, mine.input, c.h, c.w);
    const e = relL2(mine.logits, ref.logits);
    console.log(`  fp16 ${c.name}: logits rel L2 ${e.toExponential(2)}`);
    assert.ok(e <= 1e-2, `fp16 logits relative L2 ${e}`);
    assert.ok(e > 1e-7, 'fp16 weights really are rounded (the comparison can fail)');
    assert.deepEqual(topK(mine.logits), topK(ref.logits));
    model.dispose();
  }
});

test('the import ignores naming styles and formats: old names, new names, TF.js give the same weights', async () => {
  const oldNames = testWeights(1, { oldNames: true });
  assert.ok(readFileSync(oldNames.f16).equals(readFileSync(weights.f16)), 'conv2d_1.. vs conv2d.. names');
  const dir = `${dataDir}/tfjs-seed1`;
  let r = node(`${root}tools/fixtures/gen-test-weights.mjs`, ['--format', 'tfjs', '--out', dir, '--seed', '1']);
  assert.equal(r.status, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(`${dir}/model.json`, 'utf8')).weightsManifest[0];
  assert.ok(manifest.paths.length > 1, 'several shards');
  assert.ok(manifest.weights.some((w) => w.name.startsWith('predictions_1/')), 'TF.js-style _1 suffix present');
  // the native CLI reads model.json and the shards beside it
  r = cli(['convert', '--in', `${dir}/model.json`, '--out', `${work}/tfjs.gcw`]);
  assert.equal(r.status, 0, r.stderr);
  // the package's engine, given the files in another order (shards first): the same file
  const engine = await createSingleEngine();
  try {
    const files = [...manifest.paths.map((p) => ({ name: p, bytes: new Uint8Array(readFileSync(`${dir}/${p}`)) })).reverse(),
      { name: 'model.json', bytes: new Uint8Array(readFileSync(`${dir}/model.json`)) }];
    const e = await engine.loadWeights(files, { keepConverted: true });
    assert.equal(e.format, 'tfjs-layers');
    assert.equal(e.params, 22910480);
    assert.ok(Buffer.from(e.converted).equals(readFileSync(`${work}/tfjs.gcw`)), 'engine and CLI write the same .gcw');
    // the same weights as the .h5's conversion: the same logits, bit for bit
    const px = new Uint8Array(71 * 71 * 4).map((_, i) => (i * 37) & 255);
    const a = engine.classify(px, 71, 71, { inputSize: 71 }).logits;
    await engine.loadWeights(new Uint8Array(readFileSync(weights.f16)));
    assert.deepEqual(engine.classify(px, 71, 71, { inputSize: 71 }).logits, a, 'TF.js layers format');
  } finally {
    engine.dispose();
  }
  // a broken manifest is refused with a message, not a crash
  const bad = JSON.parse(readFileSync(`${dir}/model.json`, 'utf8'));
  bad.weightsManifest[0].weights[3].shape = [7];
  writeFileSync(`${dir}/bad.json`, JSON.stringify(bad));
  r = cli(['convert', '--in', `${dir}/bad.json`, '--out', `${work}/bad.gcw`]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /GC_ERR_CONVERT: .*block1_conv1_bn/);
});

for (const flavour of ['st', 'mt']) {
  test(`wasm-${flavour} agrees with the native build (<= 1e-5)`, async () => {
    const core = await loadNodeCore(flavour);
    try {
      core.load(readFileSync(weights.f32), { threads: 2 });
      assert.equal(core.paramCount(), 22910480);
      assert.equal(core.threads(), flavour === 'mt' ? 2 : 1);
      for (const c of CASES) {
        const mine = results.get(c.name) || native(c, weights.f32, `f32-${c.h}x${c.w}-${c.image || c.seed}`);
        core.forwardTensor(mine.input, c.h, c.w);
        const e = relL2(core.logits(), mine.logits);
        assert.ok(e <= 1e-5, `${c.name}: logits relative L2 ${e}`);
        for (const l of ['block4_add', 'block14_sepconv2_act']) {
          const a = core.activation(l);
          const el = relL2(a.data, mine.acts[l]);
          assert.ok(el <= 1e-5, `${c.name} ${l}: relative L2 ${el}`);
        }
        console.log(`  wasm-${flavour} ${c.name}: logits rel L2 vs native ${e.toExponential(2)}`);
      }
      // the image entry point (resize + preprocess in wasm) against the CLI's
      const png = readFileSync(`${imagesDir}/gradcam_both_cat_dog.png`);
      const r = cli(['predict', '--weights', weights.f32, '--image', `${imagesDir}/gradcam_both_cat_dog.png`, '--json'], { json: true });
      assert.equal(r.status, 0, r.stderr);
      const { decodePng } = await import('./png.mjs');
      const img = decodePng(png);
      core.forwardImage(img.rgba, img.width, img.height, 4);
      assert.ok(relL2(core.logits(), Float32Array.from(r.json.logits)) <= 1e-5, 'forward_image');
    } finally {
      shutdownCore(core);
    }
  });
}
