// real-models.test.mjs - "Real models in", end to end: Keras files of every generation and head
// (tests/js/fixtures.mjs) loaded by the package's engine through the core's import, against the
// independent gradient oracle (tests/oracle/grad.mjs: Xception and its heads written again in
// TF.js ops, reading the raw weights the fixtures were written from, differentiated by autodiff):
// logits within 1e-4 (relative L2), Grad-CAM at block14_sepconv2_act within 1e-3 for two classes;
// and the native CLI on the same file and picture gives the same logits and maps, bit for bit.
// Fixtures: Keras 1 names (ImageNet head), Keras 3 .weights.h5 of the ImageNet model (its head
// inferred), keras.io's transfer .keras (150x150, Rescaling, GAP, Dropout, Dense(1): class 1 is
// +logit, class 0 -logit), a .keras with Dense(64, relu) + Dense(5, softmax), a Keras 2
// model.save() .h5 of it with the base nested, and its TF.js conversion (model.json + shards).
// The ImageNet ones run at 71x71 (the input size is free), the others at their own 150x150.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cli, createNodeEngine, dataDir, relL2 } from './helpers.mjs';
import { png } from './bad-files.mjs';
import { kerasFixture, PRESETS } from './fixtures.mjs';
import * as O from '../oracle/grad.mjs';

const work = `${dataDir}/real-models`;
mkdirSync(work, { recursive: true });

const CASES = [
  { name: 'Keras 1 names, ImageNet head (inferred)', f: { layout: 'keras1' }, size: 71, format: 'keras1-h5', classes: 1000, inferred: true },
  { name: 'Keras 3 .weights.h5, ImageNet head (inferred)', f: { layout: 'keras3-weights' }, size: 71, format: 'keras3-weights-h5', classes: 1000, inferred: true },
  { name: 'keras.io transfer .keras, Dense(1)', f: { ...PRESETS.transfer }, size: 150, format: 'keras3-keras', classes: 2, flavours: ['st', 'mt'] },
  { name: '.keras, Dense(64, relu) + Dense(5, softmax)', f: { layout: 'keras', ...PRESETS.dense5 }, size: 150, format: 'keras3-keras', classes: 5 },
  { name: 'Keras 2 model.save() .h5, nested base, Dense(64) + Dense(5)', f: { layout: 'keras2-full', ...PRESETS.dense5Nested }, size: 150, format: 'keras2-model-h5', classes: 5 },
  { name: 'TF.js layers model of it', f: { layout: 'tfjs', ...PRESETS.dense5Nested }, size: 150, format: 'tfjs-layers', classes: 5 },
];

/** A deterministic picture of size x size: smooth colours and a bright square, RGBA. */
function picture(size) {
  const rgba = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = 4 * (y * size + x);
      const inside = x > size / 3 && x < (2 * size) / 3 && y > size / 4 && y < size / 2;
      rgba[i] = inside ? 240 : (x * 255) / size;
      rgba[i + 1] = inside ? 200 : (y * 255) / size;
      rgba[i + 2] = ((x + y) * 97) % 256;
      rgba[i + 3] = 255;
    }
  }
  return rgba;
}

/** The model's files: one, or a TF.js folder's model.json and shards. */
function filesOf(fx) {
  if (fx.layout !== 'tfjs') return { engine: new Uint8Array(readFileSync(fx.path)), cli: fx.path };
  const names = readdirSync(fx.path).filter((n) => n !== '.done');
  return { engine: names.map((n) => ({ name: n, bytes: new Uint8Array(readFileSync(`${fx.path}/${n}`)) })), cli: `${fx.path}/model.json` };
}

for (const c of CASES) {
  test(`${c.name}: the engine's logits and Grad-CAM against the oracle; the CLI's bit for bit`, async () => {
    const fx = await kerasFixture(c.f);
    const { size } = c;
    const rgba = picture(size);
    const img = `${work}/picture-${size}.png`;
    writeFileSync(img, png({ width: size, height: size, type: 2, sample: (x, y, ch) => rgba[4 * (y * size + x) + ch] }));
    const files = filesOf(fx);

    // the oracle: the raw weights, its own preprocessing of the same pixels
    const P = await O.loadRawWeights(fx.raw);
    const rgb = new Float32Array(size * size * 3);
    for (let i = 0; i < size * size; i++) for (let ch = 0; ch < 3; ch++) rgb[3 * i + ch] = rgba[4 * i + ch];
    const x = O.preprocess(rgb, P.rescaling);
    const ref = await O.forward(P, x, size, size);

    for (const flavour of c.flavours ?? ['st']) {
      const engine = await createNodeEngine(flavour);
      try {
        // float32, as the CLI converts in memory (the package's default float16 rounds the weights)
        const r = await engine.loadWeights(files.engine, { dtype: 'f32' });
        assert.equal(r.format, c.format);
        assert.deepEqual([r.model.classes, !!r.model.inferred], [c.classes, !!c.inferred], JSON.stringify(r.model));
        const k = engine.classify(rgba, size, size, { inputSize: size, topK: Math.min(5, c.classes) });
        // a Dense(1) head: the core's two classes are -z and +z of the oracle's one logit
        const oracleLogits = c.classes === 2 ? Float32Array.from([-ref.logits[0], ref.logits[0]]) : ref.logits;
        const eLogits = relL2(k.logits, oracleLogits);
        const top = k.top.slice(0, 2).map((t) => t.index);
        const cams = [];
        for (const cls of top) {
          const e = await engine.explain(rgba, size, size, { classIndex: cls, inputSize: size });
          const g = await O.gradAt(P, x, size, size, 'block14_sepconv2_act', cls);
          const want = O.gradcam(g);
          const err = relL2(e.cam.data, want);
          cams.push({ cls, err, cam: e.cam.data });
          assert.ok(err <= 1e-3, `${c.name} wasm-${flavour}: Grad-CAM of class ${cls} rel L2 ${err}`);
        }
        console.log(`  ${c.name}, wasm-${flavour}: logits rel L2 ${eLogits.toExponential(2)}; Grad-CAM block14 ${cams.map((m) => `class ${m.cls} ${m.err.toExponential(2)}`).join(', ')}`);
        assert.ok(eLogits <= 1e-4, `${c.name}: logits rel L2 ${eLogits}`);

        // the native CLI on the same file and picture: the same floats. (--input-size only where the
        // size is not the model's: the CLI then preprocesses as Keras' preprocess_input, whatever
        // the model's Rescaling layer says)
        const sized = r.model.inputSize[0] === size ? [] : ['--input-size', `${size}x${size}`];
        const p = cli(['predict', '--weights', files.cli, '--image', img, ...sized, '--json'], { json: true });
        assert.equal(p.status, 0, p.stderr);
        assert.deepEqual(Float32Array.from(p.json.logits), k.logits, `${c.name}: the CLI's logits are the engine's`);
        for (const m of cams) {
          const ex = cli(['explain', '--weights', files.cli, '--image', img, ...sized, '--class', String(m.cls), '--json'], { json: true });
          assert.equal(ex.status, 0, ex.stderr);
          assert.deepEqual(Float32Array.from(ex.json.cam), m.cam, `${c.name}: the CLI's Grad-CAM of class ${m.cls} is the engine's`);
        }
      } finally {
        engine.dispose();
      }
    }
  });
}
