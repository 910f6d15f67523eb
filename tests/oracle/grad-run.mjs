#!/usr/bin/env node
// CLI of the gradient oracle (grad.mjs), for manual comparisons with the C core.
//
//   node tests/oracle/grad-run.mjs --weights W.h5 --height H --width W (--input X.f32 | --random-input SEED)
//        [--class C] [--layer NAME] [--target logit|prob] [--guided] [--methods all|a,b]
//        [--input-grad] [--smoothgrad N --sigma S [--noise-seed K]] [--ig STEPS] [--out DIR] [--list-layers]
//
// Default class: the top-1 of the forward pass. Default layer: block14_sepconv2_act.
// Prints a JSON summary (class, score, shapes, per-array L2 norms, sums, timings, and each method's
// raw low-resolution map). With --out DIR also writes raw little-endian float32 files:
// activation.f32 and grad.f32 (HWC), <method>.f32 (H*W), input-grad.f32, smoothgrad.f32,
// integrated-gradients.f32 (NHWC without the batch dimension), and meta.json.

import fs from 'node:fs';
import path from 'node:path';
import { randomInput } from './xception.mjs';
import {
  loadWeights, forward, gradAt, gradInput, smoothgradInput, integratedGradients, METHODS, layerNames,
  layerShape, gaussianNoise,
} from './grad.mjs';

function usage(msg) {
  if (msg) console.error(`grad-run: ${msg}`);
  console.error('usage: node tests/oracle/grad-run.mjs --weights W.h5 --height H --width W (--input X.f32 | --random-input SEED) ' +
    '[--class C] [--layer NAME] [--target logit|prob] [--guided] [--methods all|a,b] [--input-grad] ' +
    '[--smoothgrad N --sigma S [--noise-seed K]] [--ig STEPS] [--out DIR] [--list-layers]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { layer: 'block14_sepconv2_act', target: 'logit', guided: false, methods: 'all', noiseSeed: 1, sigma: 0.3 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    const int = () => { const v = Number(val()); if (!Number.isInteger(v)) usage(`${a} needs an integer`); return v; };
    if (a === '--weights') o.weights = val();
    else if (a === '--input') o.input = val();
    else if (a === '--random-input') o.randomSeed = int();
    else if (a === '--height') o.height = int();
    else if (a === '--width') o.width = int();
    else if (a === '--class') o.cls = int();
    else if (a === '--layer') o.layer = val();
    else if (a === '--target') o.target = val();
    else if (a === '--guided') o.guided = true;
    else if (a === '--methods') o.methods = val();
    else if (a === '--input-grad') o.inputGrad = true;
    else if (a === '--smoothgrad') o.smoothgrad = int();
    else if (a === '--sigma') o.sigma = Number(val());
    else if (a === '--noise-seed') o.noiseSeed = int();
    else if (a === '--ig') o.ig = int();
    else if (a === '--out') o.out = val();
    else if (a === '--list-layers') o.list = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (o.list) return o;
  if (!o.weights) usage('--weights is required');
  if (!Number.isInteger(o.height) || !Number.isInteger(o.width)) usage('--height and --width are required');
  if ((o.input === undefined) === (o.randomSeed === undefined)) usage('give exactly one of --input and --random-input');
  if (!['logit', 'prob'].includes(o.target)) usage('--target is logit or prob');
  return o;
}

function readF32(file) {
  const b = fs.readFileSync(file);
  if (b.length % 4) throw new Error(`${file}: size ${b.length} is not a multiple of 4`);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}
function writeF32(file, arr) { fs.writeFileSync(file, Buffer.from(Float32Array.from(arr).buffer)); }
function summary(a) {
  let s = 0, s2 = 0;
  for (const v of a) { s += v; s2 += v * v; }
  return { sum: s, l2: Math.sqrt(s2) };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.list) {
    const h = o.height ?? 299, w = o.width ?? 299;
    for (const n of layerNames()) console.log(`${n.padEnd(24)}${layerShape(n, h, w).join('x')}`);
    return;
  }
  const T = {};
  let t = Date.now();
  const W = await loadWeights(o.weights);
  T.load = Date.now() - t;
  const { height: h, width: w } = o;
  const x = o.input !== undefined ? readF32(o.input) : randomInput(o.randomSeed, h, w);
  if (x.length !== h * w * 3) throw new Error(`input has ${x.length} floats, expected ${h}x${w}x3`);
  t = Date.now();
  const { logits } = await forward(W, x, h, w);
  T.forward = Date.now() - t;
  let cls = o.cls;
  if (cls === undefined) { cls = 0; for (let i = 1; i < 1000; i++) if (logits[i] > logits[cls]) cls = i; }

  const out = { class: cls, logit: logits[cls], layer: o.layer, target: o.target, guided: o.guided, h, w };
  const files = {};
  t = Date.now();
  const r = await gradAt(W, x, h, w, o.layer, cls, { target: o.target, guided: o.guided });
  T.gradAt = Date.now() - t;
  Object.assign(out, { shape: r.shape, score: r.score, activation: summary(r.activation), grad: summary(r.grad) });
  files.activation = r.activation; files.grad = r.grad;
  if (r.shape.length === 3) {
    const names = o.methods === 'all' ? Object.keys(METHODS) : o.methods.split(',').filter(Boolean);
    out.methods = {};
    for (const m of names) {
      if (!METHODS[m]) usage(`unknown method ${m} (${Object.keys(METHODS).join(', ')})`);
      const cam = METHODS[m](r.activation, r.grad, r.shape);
      out.methods[m] = Array.from(cam);
      files[m] = cam;
    }
  }
  if (o.inputGrad) {
    t = Date.now();
    const g = await gradInput(W, x, h, w, cls, { target: o.target, guided: o.guided });
    T.inputGrad = Date.now() - t;
    out.inputGrad = summary(g); files['input-grad'] = g;
  }
  if (o.smoothgrad) {
    const noise = Array.from({ length: o.smoothgrad }, (_, i) => gaussianNoise(o.noiseSeed + i, x.length));
    t = Date.now();
    const g = await smoothgradInput(W, x, h, w, cls, { noise, sigma: o.sigma, target: o.target, guided: o.guided });
    T.smoothgrad = Date.now() - t;
    out.smoothgrad = { n: o.smoothgrad, sigma: o.sigma, noiseSeed: o.noiseSeed, ...summary(g) }; files.smoothgrad = g;
  }
  if (o.ig) {
    t = Date.now();
    const g = await integratedGradients(W, x, h, w, cls, { steps: o.ig, target: o.target });
    T.ig = Date.now() - t;
    out.integratedGradients = { steps: o.ig, ...summary(g) }; files['integrated-gradients'] = g;
  }
  out.ms = T;
  if (o.out) {
    fs.mkdirSync(o.out, { recursive: true });
    for (const [n, a] of Object.entries(files)) writeF32(path.join(o.out, `${n}.f32`), a);
    writeF32(path.join(o.out, 'logits.f32'), logits);
    if (o.randomSeed !== undefined) writeF32(path.join(o.out, 'input.f32'), x);
    fs.writeFileSync(path.join(o.out, 'meta.json'), JSON.stringify({ ...out, methods: undefined }, null, 1));
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(`grad-run: ${e.message}`); process.exit(1); });
