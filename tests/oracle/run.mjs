#!/usr/bin/env node
// CLI of the TF.js Xception oracle.
//
//   node tests/oracle/run.mjs --weights W.h5|DIR --height H --width W --out DIR
//        (--input X.f32 | --random-input SEED) [--layers a,b,c] [--old-names]
//
// --weights: a Keras HDF5 weight file, or a TF.js layers-format directory (or its model.json).
// --input: raw little-endian float32 NHWC, batch 1, 3 channels, already preprocessed (x/127.5-1).
// --random-input SEED: a deterministic input in [-1, 1] instead (also written as DIR/input.f32).
// Writes DIR/logits.f32 (1000 float32, pre-softmax), DIR/<layer>.f32 (raw float32 NHWC, batch
// dimension dropped) for each --layers name, and DIR/meta.json (shapes, aliases, top-5, timings).
// --layers accepts the model's layer names and the aliases block2_add .. block13_add.

import fs from 'node:fs';
import path from 'node:path';
import {
  initBackend, buildXception, loadKerasH5, loadTfjsWeights, run, addAliases, resolveLayerName,
  randomInput, softmax, topK, stats,
} from './xception.mjs';

function usage(msg) {
  if (msg) console.error(`oracle: ${msg}`);
  console.error('usage: node tests/oracle/run.mjs --weights W.h5|DIR --height H --width W --out DIR (--input X.f32 | --random-input SEED) [--layers a,b,c] [--old-names]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { layers: [], oldNames: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    if (a === '--weights') o.weights = val();
    else if (a === '--input') o.input = val();
    else if (a === '--random-input') o.randomSeed = Number(val());
    else if (a === '--height') o.height = Number(val());
    else if (a === '--width') o.width = Number(val());
    else if (a === '--out') o.out = val();
    else if (a === '--layers') o.layers = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--old-names') o.oldNames = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!o.weights) usage('--weights is required');
  if (!o.out) usage('--out is required');
  if (!Number.isInteger(o.height) || !Number.isInteger(o.width)) usage('--height and --width are required integers');
  if ((o.input === undefined) === (o.randomSeed === undefined)) usage('give exactly one of --input and --random-input');
  if (o.randomSeed !== undefined && !Number.isInteger(o.randomSeed)) usage('--random-input needs an integer seed');
  return o;
}

function writeF32(file, arr) {
  const buf = Buffer.alloc(arr.length * 4);
  for (let i = 0; i < arr.length; i++) buf.writeFloatLE(arr[i], i * 4);
  fs.writeFileSync(file, buf);
}

function readF32(file) {
  const buf = fs.readFileSync(file);
  if (buf.length % 4) throw new Error(`${file}: size ${buf.length} is not a multiple of 4`);
  const a = new Float32Array(buf.length / 4);
  for (let i = 0; i < a.length; i++) a[i] = buf.readFloatLE(i * 4);
  return a;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const T = { start: Date.now() };
  await initBackend();
  const model = buildXception(o.height, o.width, { oldNames: o.oldNames });
  T.built = Date.now();

  let wpath = o.weights, format;
  if (fs.statSync(wpath).isDirectory()) format = 'tfjs';
  else if (path.basename(wpath) === 'model.json') { format = 'tfjs'; wpath = path.dirname(wpath); }
  else format = 'h5';
  if (format === 'h5') await loadKerasH5(model, wpath); else loadTfjsWeights(model, wpath);
  T.loaded = Date.now();

  const resolved = o.layers.map((n) => resolveLayerName(model, n)); // validates before the forward pass
  const x = o.input !== undefined ? readF32(o.input) : randomInput(o.randomSeed, o.height, o.width);
  if (x.length !== o.height * o.width * 3) throw new Error(`input has ${x.length} floats, expected ${o.height}x${o.width}x3`);
  T.inputReady = Date.now();
  const r = run(model, x, o.height, o.width, o.layers);
  T.forward = Date.now();

  fs.mkdirSync(o.out, { recursive: true });
  if (o.randomSeed !== undefined) writeF32(path.join(o.out, 'input.f32'), x);
  writeF32(path.join(o.out, 'logits.f32'), r.logits);
  const layers = {};
  o.layers.forEach((n, i) => {
    writeF32(path.join(o.out, `${n}.f32`), r.acts[n]);
    const st = stats(r.acts[n]);
    layers[n] = { layer: resolved[i], file: `${n}.f32`, shape: r.shapes[n], layout: 'HWC (NHWC, batch 1 dropped)', mean: st.mean, std: st.std };
  });
  const probs = softmax(r.logits);
  const ls = stats(r.logits);
  const meta = {
    oracle: 'TF.js layers Xception (tests/oracle/xception.mjs), cpu backend, float32',
    weights: path.resolve(o.weights),
    weightsFormat: format,
    input: o.input !== undefined ? path.resolve(o.input) : { randomSeed: o.randomSeed, file: 'input.f32', range: [-1, 1] },
    height: o.height,
    width: o.width,
    inputShape: [1, o.height, o.width, 3],
    logits: { file: 'logits.f32', shape: [1000], preSoftmax: true, mean: ls.mean, std: ls.std },
    top5: topK(r.logits, 5).map(([c, v]) => ({ class: c, logit: v, prob: probs[c] })),
    layers,
    aliases: addAliases(model),
    timingMs: {
      build: T.built - T.start,
      loadWeights: T.loaded - T.built,
      forward: T.forward - T.inputReady,
      total: Date.now() - T.start,
    },
  };
  fs.writeFileSync(path.join(o.out, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  console.log(`oracle: ${o.height}x${o.width} ${format} -> ${o.out}; top5 ${meta.top5.map((t) => `${t.class}:${t.logit.toFixed(3)}`).join(' ')}; ` +
    `build ${meta.timingMs.build} ms, load ${meta.timingMs.loadWeights} ms, forward ${meta.timingMs.forward} ms`);
}

main().catch((e) => { console.error(`oracle: ${e.message || e}`); process.exit(1); });
