#!/usr/bin/env node
// Deterministic synthetic weights for Keras' Xception (22,910,480 parameters), written either in the
// layout of Keras' official xception_weights_tf_dim_ordering_tf_kernels.h5 or as a TF.js
// layers-format directory (model.json + 4 MiB group1-shardKofN.bin).
//
//   node tools/gen-test-weights.mjs --out FILE.h5 [--seed N] [--format h5] [--old-names]
//   node tools/gen-test-weights.mjs --out DIR --format tfjs [--seed N] [--old-names] [--no-suffix]
//   add --debug [--debug-size N] to run the TF.js oracle (tests/oracle) on the result and print the
//   per-block activation std and the logit spread.
//
// The same seed always gives the same values (and byte-identical files): every tensor has its own
// mulberry32 stream seeded from (seed, index of the tensor in file order), and normal deviates are
// Irwin-Hall sums of 4 uniforms (only +, *, sqrt: exactly reproducible, no libm transcendental).
// The values do not depend on --old-names or on the format.
//
// This file deliberately does not import the oracle's model code (except in --debug): the
// architecture below is an independent transcription of keras/applications/xception.py.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const EXPECTED_PARAMS = 22910480;

// ----------------------------------------------------------------------------------------------
// Architecture: every layer of the Keras model, in model.layers order (what Keras writes to the
// root attribute layer_names), with its weights.

export function xceptionLayers({ oldNames = false } = {}) {
  const L = [];
  const auto = (base, i) => (oldNames ? `${base}_${i + 1}` : (i === 0 ? base : `${base}_${i}`));
  let nConv = 0, nBn = 0, nAdd = 0;
  // role: what feeds the layer, used only for the weight scaling ('image', 'relu', 'linear').
  const conv = (name, k, cin, cout, feed) => L.push({ name, kind: 'conv', feed, weights: [['kernel', [k, k, cin, cout]]] });
  const bn = (name, c, extra = {}) => L.push({ name, kind: 'bn', ...extra, weights: [['gamma', [c]], ['beta', [c]], ['moving_mean', [c]], ['moving_variance', [c]]] });
  const sep = (name, cin, cout, feed) => L.push({ name, kind: 'sepconv', feed, weights: [['depthwise_kernel', [3, 3, cin, 1]], ['pointwise_kernel', [1, 1, cin, cout]]] });
  const plain = (name, kind) => L.push({ name, kind, weights: [] });

  plain('input_1', 'input');
  conv('block1_conv1', 3, 3, 32, 'image'); bn('block1_conv1_bn', 32); plain('block1_conv1_act', 'relu');
  conv('block1_conv2', 3, 32, 64, 'relu'); bn('block1_conv2_bn', 64); plain('block1_conv2_act', 'relu');

  // Entry-flow-like block (2, 3, 4, 13). Keras' model.layers order (layers sorted by depth, ties by
  // discovery order from the output) puts the residual 1x1 conv after <b>_sepconv2_bn and its BN
  // after <b>_pool.
  const entry = (b, cin, c1, c2) => {
    if (b !== 2) plain(`block${b}_sepconv1_act`, 'relu');
    sep(`block${b}_sepconv1`, cin, c1, 'relu'); bn(`block${b}_sepconv1_bn`, c1);
    plain(`block${b}_sepconv2_act`, 'relu');
    sep(`block${b}_sepconv2`, c1, c2, 'relu'); bn(`block${b}_sepconv2_bn`, c2, { entryLastBn: true });
    conv(auto('conv2d', nConv++), 1, cin, c2, 'residual');
    plain(`block${b}_pool`, 'maxpool');
    bn(auto('batch_normalization', nBn++), c2, { residualBn: true });
    plain(auto('add', nAdd++), 'add');
  };
  entry(2, 64, 128, 128);
  entry(3, 128, 256, 256);
  entry(4, 256, 728, 728);
  for (let b = 5; b <= 12; b++) {
    for (let k = 1; k <= 3; k++) {
      plain(`block${b}_sepconv${k}_act`, 'relu');
      sep(`block${b}_sepconv${k}`, 728, 728, 'relu');
      bn(`block${b}_sepconv${k}_bn`, 728, k === 3 ? { middleLastBn: true } : {});
    }
    plain(auto('add', nAdd++), 'add');
  }
  entry(13, 728, 728, 1024);
  sep('block14_sepconv1', 1024, 1536, 'linear'); bn('block14_sepconv1_bn', 1536); plain('block14_sepconv1_act', 'relu');
  sep('block14_sepconv2', 1536, 2048, 'relu'); bn('block14_sepconv2_bn', 2048, { lastBn: true }); plain('block14_sepconv2_act', 'relu');
  plain('avg_pool', 'gap');
  L.push({ name: 'predictions', kind: 'dense', weights: [['kernel', [2048, 1000]], ['bias', [1000]]] });
  return L;
}

// ----------------------------------------------------------------------------------------------
// Deterministic random numbers.

function mix32(h) { // murmur3 fmix32
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296; // exact double in [0, 1)
  };
}

// Streams of one tensor: uniform in [0,1) and an approximately standard normal (Irwin-Hall, n=4,
// rescaled to unit variance; bounded by +-3.46, which also avoids outliers).
function streams(seed, tensorIndex) {
  const u = mulberry32(mix32(mix32(seed >>> 0) ^ Math.imul(tensorIndex + 1, 0x9E3779B9)));
  const SQ3 = Math.sqrt(3);
  const n = () => (u() + u() + u() + u() - 2) * SQ3;
  return { u, n };
}

// ----------------------------------------------------------------------------------------------
// Scales. Chosen (and measured with --debug) so that on inputs in [-1, 1] every block output keeps
// a standard deviation of order 1 and the 1000 logits have a std of about 3..6.
export const SCALES = {
  gain: { image: Math.sqrt(3), relu: Math.sqrt(2), linear: 1.0, residual: 1.0 }, // x 1/sqrt(fan_in)
  depthwise: 1.0,          // depthwise std = depthwise / sqrt(9)
  gammaJitter: 0.1,        // gamma = 1 + 0.1 * N
  betaStd: 0.1,
  meanStd: 0.1,
  varLo: 0.5, varHi: 1.5,  // moving_variance ~ U(0.5, 1.5)
  middleLastGamma: 0.3,    // gamma of block5..12 _sepconv3_bn: residual branches add less
  entryLastGamma: 0.5,     // gamma of block2,3,4,13 _sepconv2_bn (before the max pool)
  residualGamma: 0.5,      // gamma of the 1x1 residual convs' BNs
  lastBeta: 0.0,           // mean beta of block14_sepconv2_bn
  denseStd: 7.5,           // dense kernel std = denseStd / sqrt(2048) (x denseGain)
  denseGain: 1.0,
  biasStd: 0.1,
  // Planted top-5: with random weights the features' input-independent part decides the ranking and
  // the top logits of 1000 Gaussians are often within 0.01 of each other. So 5 classes (chosen from
  // the seed) get kernel columns 0.1 * random + delta_j * U(0, 2), whose logits are about
  // plantedLogits[j] * (mean feature / plantedRefMean): well above the rest, 2..4 apart.
  plantedLogits: [28, 25, 22, 19, 16],
  plantedRefMean: 0.35,    // typical mean of avg_pool features for these weights
  plantedNoise: 0.1,
};

/** The 5 planted classes, best first (depends only on the seed). */
export function plantedClasses(seed) {
  const { u } = streams(seed, 1000003);
  const out = [];
  while (out.length < 5) {
    const c = Math.floor(u() * 1000);
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

function genTensor(layer, wname, shape, rng, S, seed) {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  const normal = (std, mean = 0) => { for (let i = 0; i < n; i++) a[i] = Math.fround(mean + std * rng.n()); };
  switch (wname) {
    case 'kernel':
      if (layer.kind === 'dense') {
        normal(S.denseStd * S.denseGain / Math.sqrt(shape[0]));
        const [nIn, nOut] = shape;
        plantedClasses(seed).forEach((c, j) => {
          const delta = S.plantedLogits[j] / (nIn * S.plantedRefMean);
          for (let k = 0; k < nIn; k++) a[k * nOut + c] = Math.fround(S.plantedNoise * a[k * nOut + c] + delta * 2 * rng.u());
        });
      } else {
        const fanIn = shape[0] * shape[1] * shape[2];
        normal(S.gain[layer.feed] / Math.sqrt(fanIn));
      }
      break;
    case 'depthwise_kernel': normal(S.depthwise / 3); break;
    case 'pointwise_kernel': normal(S.gain[layer.feed] / Math.sqrt(shape[2])); break;
    case 'bias': normal(S.biasStd); break;
    case 'gamma': {
      const g = layer.middleLastBn ? S.middleLastGamma : layer.entryLastBn ? S.entryLastGamma : layer.residualBn ? S.residualGamma : 1.0;
      normal(g * S.gammaJitter, g);
      break;
    }
    case 'beta': normal(S.betaStd, layer.lastBn ? S.lastBeta : 0); break;
    case 'moving_mean': normal(S.meanStd); break;
    case 'moving_variance': for (let i = 0; i < n; i++) a[i] = Math.fround(S.varLo + (S.varHi - S.varLo) * rng.u()); break;
    default: throw new Error(`no rule for weight ${wname}`);
  }
  return a;
}

/** All tensors, in file order: [{layer, wname, shape, data}]. */
export function generate(seed, { oldNames = false, scales = SCALES } = {}) {
  const layers = xceptionLayers({ oldNames });
  const out = [];
  let idx = 0;
  for (const layer of layers) {
    for (const [wname, shape] of layer.weights) {
      out.push({ layer: layer.name, wname, shape, data: genTensor(layer, wname, shape, streams(seed, idx), scales, seed) });
      idx++;
    }
  }
  return { layers, tensors: out };
}

// ----------------------------------------------------------------------------------------------
// HDF5 output (h5wasm), Keras 2.1.2 layout.

// h5wasm writes fixed-length strings as H5T_C_S1 NULLTERM; h5py (and so Keras) writes numpy 'S<n>'
// arrays, which are NULLPAD. The bytes are the same (zero-filled up to the fixed size, no
// terminator for the longest string); only the padding flag in the datatype message differs. With
// superblock 0 / object header v1 there are no checksums, so set the flag in place: find each
// attribute message (version 1: 01 00 <name size> <dt size> <ds size> name\0 pad8) of our string
// attributes and patch its datatype's class bit field (13 00 00 00 -> 13 01 00 00).
function patchNullpad(buf, attrNames, expectedCount) {
  let count = 0;
  for (const an of attrNames) {
    const name = Buffer.from(an + '\0', 'latin1');
    const padded = (name.length + 7) & ~7;
    let pos = 0;
    while ((pos = buf.indexOf(name, pos)) !== -1) {
      const h = pos - 8;
      const dt = pos + padded;
      if (h >= 0 && buf[h] === 1 && buf[h + 1] === 0 && buf.readUInt16LE(h + 2) === name.length &&
          buf[dt] === 0x13 && buf[dt + 1] === 0x00 && buf[dt + 2] === 0 && buf[dt + 3] === 0) {
        buf[dt + 1] = 0x01; // H5T_STR_NULLPAD, H5T_CSET_ASCII
        count++;
      }
      pos += name.length;
    }
  }
  if (count !== expectedCount) throw new Error(`NULLPAD patch: found ${count} string attributes, expected ${expectedCount}`);
}

async function writeH5(out, layers, tensors) {
  const h5wasm = (await import('h5wasm/node')).default;
  await h5wasm.ready;
  // HDF5 stores object modification times; pin the clock so that the file is byte-identical.
  const realNow = Date.now;
  Date.now = () => 1513296000000; // 2017-12-15, around Keras 2.1.2
  const file = path.resolve(out);
  const tmp = file + '.tmp';
  try {
    fs.rmSync(tmp, { force: true });
    // libver (earliest, v108): superblock 0, v1 object headers, symbol-table groups, like h5py.
    const f = new h5wasm.File(tmp, 'w', { libver: ['earliest', 'v108'] });
    const strAttr = (obj, name, values, scalar = false) => {
      const size = Math.max(1, ...values.map((s) => Buffer.byteLength(s)));
      if (scalar) obj.create_attribute(name, values[0], null, `A${size}`);
      else obj.create_attribute(name, values, [values.length], `A${size}`);
    };
    strAttr(f, 'layer_names', layers.map((l) => l.name));
    strAttr(f, 'backend', ['tensorflow'], true);
    strAttr(f, 'keras_version', ['2.1.2'], true);
    let ti = 0, nStr = 3;
    for (const layer of layers) {
      const g = f.create_group(layer.name);
      if (layer.weights.length === 0) {
        // Keras does g.attrs['weight_names'] = [] and h5py stores np.asarray([]): float64, shape (0,).
        g.create_attribute('weight_names', new Float64Array(0), [0], '<d');
        continue;
      }
      const names = layer.weights.map(([w]) => `${layer.name}/${w}:0`);
      strAttr(g, 'weight_names', names);
      nStr++;
      const sub = g.create_group(layer.name);
      for (const [w] of layer.weights) {
        const t = tensors[ti++];
        if (t.layer !== layer.name || t.wname !== w) throw new Error('internal: tensor order');
        sub.create_dataset({ name: `${w}:0`, data: t.data, shape: t.shape, dtype: '<f4' });
      }
    }
    f.close();
    const buf = fs.readFileSync(tmp);
    patchNullpad(buf, ['layer_names', 'backend', 'keras_version', 'weight_names'], nStr);
    fs.writeFileSync(file, buf);
  } finally {
    Date.now = realNow;
    fs.rmSync(tmp, { force: true });
  }
}

// ----------------------------------------------------------------------------------------------
// TF.js layers-format output.

const SHARD_BYTES = 4 * 1024 * 1024;

function writeTfjs(dir, tensors, seed, { suffix = true } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const total = tensors.reduce((a, t) => a + t.data.length * 4, 0);
  const nShards = Math.ceil(total / SHARD_BYTES);
  const paths = [];
  for (let k = 1; k <= nShards; k++) paths.push(`group1-shard${k}of${nShards}.bin`);
  for (const f of fs.readdirSync(dir)) if (/^group1-shard\d+of\d+\.bin$/.test(f) && !paths.includes(f)) fs.rmSync(path.join(dir, f));
  // One little-endian buffer with every tensor in manifest order, cut into 4 MiB shards.
  const all = Buffer.alloc(total);
  let off = 0;
  for (const t of tensors) {
    for (let i = 0; i < t.data.length; i++, off += 4) all.writeFloatLE(t.data[i], off);
  }
  for (let k = 0; k < nShards; k++) fs.writeFileSync(path.join(dir, paths[k]), all.subarray(k * SHARD_BYTES, Math.min(total, (k + 1) * SHARD_BYTES)));
  const weights = tensors.map((t) => ({
    name: `${t.layer === 'predictions' && suffix ? 'predictions_1' : t.layer}/${t.wname}`,
    shape: t.shape,
    dtype: 'float32',
  }));
  const modelJson = {
    format: 'layers-model',
    generatedBy: `tools/gen-test-weights.mjs (synthetic Xception weights, seed ${seed})`,
    convertedBy: null,
    // No modelTopology: consumers of this file only need the manifest (weights are matched by order).
    weightsManifest: [{ paths, weights }],
  };
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson, null, 1) + '\n');
  return { nShards, total };
}

// ----------------------------------------------------------------------------------------------

function usage(msg) {
  if (msg) console.error(`gen-test-weights: ${msg}`);
  console.error('usage: node tools/gen-test-weights.mjs --out FILE.h5|DIR [--seed N] [--format h5|tfjs] [--old-names] [--no-suffix] [--debug [--debug-size N]] [--quiet]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { seed: 1, format: 'h5', oldNames: false, suffix: true, debug: false, debugSize: 96, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    if (a === '--out') o.out = val();
    else if (a === '--seed') o.seed = Number(val());
    else if (a === '--format') o.format = val();
    else if (a === '--old-names') o.oldNames = true;
    else if (a === '--no-suffix') o.suffix = false;
    else if (a === '--debug') o.debug = true;
    else if (a === '--debug-size') o.debugSize = Number(val());
    else if (a === '--quiet') o.quiet = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!o.out) usage('--out is required');
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) usage('--seed must be an integer in 0..2^32-1');
  if (o.format !== 'h5' && o.format !== 'tfjs') usage('--format must be h5 or tfjs');
  return o;
}

async function debugReport(o) {
  const oracle = await import('../tests/oracle/xception.mjs');
  await oracle.initBackend();
  const s = o.debugSize;
  const model = oracle.buildXception(s, s, { oldNames: o.oldNames });
  if (o.format === 'h5') await oracle.loadKerasH5(model, o.out); else oracle.loadTfjsWeights(model, o.out);
  const names = oracle.blockOutputNames(model);
  for (const inSeed of [1, 2, 3]) {
    const x = oracle.randomInput(inSeed, s, s);
    const t0 = Date.now();
    const r = oracle.run(model, x, s, s, names);
    const ms = Date.now() - t0;
    console.log(`debug: ${s}x${s}, random input seed ${inSeed}, forward ${ms} ms`);
    names.forEach((n, b) => {
      const st = oracle.stats(r.acts[n]);
      console.log(`  block${String(b + 1).padEnd(2)} ${n.padEnd(22)} mean ${st.mean.toFixed(3).padStart(7)} std ${st.std.toFixed(3).padStart(7)} max ${st.max.toFixed(2)}`);
    });
    const ls = oracle.stats(r.logits);
    const top = oracle.topK(r.logits, 7);
    console.log(`  logits mean ${ls.mean.toFixed(3)} std ${ls.std.toFixed(3)} min ${ls.min.toFixed(2)} max ${ls.max.toFixed(2)}`);
    console.log(`  top5 ${top.slice(0, 5).map(([c, v]) => `${c}:${v.toFixed(3)}`).join(' ')}; gaps ${top.slice(0, 5).map((p, i) => (p[1] - top[i + 1][1]).toFixed(3)).join(' ')}; ` +
      `6th, 7th ${top.slice(5).map(([c, v]) => `${c}:${v.toFixed(3)}`).join(' ')}`);
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const log = o.quiet ? () => {} : (...a) => console.log(...a);
  const t0 = Date.now();
  const { layers, tensors } = generate(o.seed, { oldNames: o.oldNames });
  const params = tensors.reduce((a, t) => a + t.data.length, 0);
  if (params !== EXPECTED_PARAMS) throw new Error(`parameter count ${params} != ${EXPECTED_PARAMS}`);
  const t1 = Date.now();
  let extra = '';
  if (o.format === 'h5') {
    await writeH5(o.out, layers, tensors);
  } else {
    const { nShards } = writeTfjs(o.out, tensors, o.seed, { suffix: o.suffix });
    extra = `, ${nShards} shards`;
  }
  const t2 = Date.now();
  log(`gen-test-weights: seed ${o.seed}, ${o.format}${o.oldNames ? ', old names' : ''}: ${layers.length} layers, ` +
    `${layers.filter((l) => l.weights.length).length} with weights, ${tensors.length} tensors, ` +
    `${params.toLocaleString('en-US')} parameters -> ${o.out}${extra} (generate ${t1 - t0} ms, write ${t2 - t1} ms); ` +
    `planted top-5 classes ${plantedClasses(o.seed).join(' ')}`);
  if (o.debug) await debugReport(o);
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  main().catch((e) => { console.error(`gen-test-weights: ${e.stack || e}`); process.exit(1); });
}
