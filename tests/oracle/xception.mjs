// Independent reference implementation ("oracle") of Keras' Xception, built with TF.js layers on
// the pure-JS cpu backend. It shares no code with the C core (nor with tools/fixtures/gen-test-weights.mjs):
// the architecture is written out again here from Keras' keras/applications/xception.py, and the
// weights are assigned the way Keras' own HDF5 loader assigns them (by order, shapes checked).
//
// Exports:
//   buildXception(height, width, {oldNames}) -> tf.LayersModel   (logits output, NO softmax)
//   loadKerasH5(model, path)                  -> {fileLayers, modelLayers}
//   loadTfjsWeights(model, dir)               -> {tensors}
//   run(model, inputNHWC, h, w, layerNames)   -> {logits: Float32Array(1000), acts: {name: Float32Array}}
//   resolveLayerName(model, name), addAliases(model), softmax(logits), blockOutputNames(model)

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';

let backendReady = null;
export async function initBackend() {
  if (!backendReady) {
    backendReady = (async () => {
      await tf.setBackend('cpu');
      await tf.ready();
      if (tf.getBackend() !== 'cpu') throw new Error('could not select the TF.js cpu backend');
      // The cpu backend prints a "you are running in Node.js, install tfjs-node" banner on first
      // use; the native backend is deliberately not used here (and can't be installed offline).
      const be = tf.backend();
      if ('firstUse' in be) be.firstUse = false;
    })();
  }
  return backendReady;
}

export { tf };

const BN_EPSILON = 1e-3;

/**
 * Keras Xception (keras.applications.xception.Xception, include_top=True) for an input of
 * height x width x 3 (both >= 71). The last Dense layer ("predictions") has a LINEAR activation:
 * the model outputs logits; apply softmax() separately.
 *
 * Names of the auto-named layers (residual 1x1 convs, their BNs, the adds, the input):
 *   default (tf.keras 2.x style): conv2d, conv2d_1, conv2d_2, conv2d_3; batch_normalization,
 *     batch_normalization_1..3; add, add_1..add_11; input_1
 *   oldNames (Keras 2.0/2.1 style): conv2d_1..conv2d_4; batch_normalization_1..4; add_1..add_12; input_1
 */
export function buildXception(height, width, { oldNames = false } = {}) {
  if (!(height >= 71 && width >= 71)) throw new Error(`Xception needs an input of at least 71x71, got ${height}x${width}`);
  const L = tf.layers;
  let convIdx = 0, bnIdx = 0, addIdx = 0;
  const autoName = (base, i) => (oldNames ? `${base}_${i + 1}` : (i === 0 ? base : `${base}_${i}`));
  const resConvName = () => autoName('conv2d', convIdx++);
  const resBnName = () => autoName('batch_normalization', bnIdx++);
  const addName = () => autoName('add', addIdx++);

  const bn = (name) => L.batchNormalization({ name, axis: -1, epsilon: BN_EPSILON, momentum: 0.99 });
  const relu = (name) => L.activation({ name, activation: 'relu' });
  const sep = (filters, name) => L.separableConv2d({
    name, filters, kernelSize: [3, 3], padding: 'same', useBias: false, depthMultiplier: 1,
  });
  const resConv = (filters) => L.conv2d({
    name: resConvName(), filters, kernelSize: [1, 1], strides: [2, 2], padding: 'same', useBias: false,
  });
  const pool = (name) => L.maxPooling2d({ name, poolSize: [3, 3], strides: [2, 2], padding: 'same' });

  const input = tf.input({ shape: [height, width, 3], name: 'input_1' });
  let x = L.conv2d({ name: 'block1_conv1', filters: 32, kernelSize: [3, 3], strides: [2, 2], padding: 'valid', useBias: false }).apply(input);
  x = bn('block1_conv1_bn').apply(x);
  x = relu('block1_conv1_act').apply(x);
  x = L.conv2d({ name: 'block1_conv2', filters: 64, kernelSize: [3, 3], padding: 'valid', useBias: false }).apply(x);
  x = bn('block1_conv2_bn').apply(x);
  x = relu('block1_conv2_act').apply(x);

  // Entry flow: blocks 2, 3, 4 (and the exit-flow block 13 has the same shape of graph).
  const entryBlock = (b, f1, f2) => {
    let residual = resConv(f2).apply(x);
    residual = resBnLayer().apply(residual);
    let y = x;
    if (b !== 2) y = relu(`block${b}_sepconv1_act`).apply(y);
    y = sep(f1, `block${b}_sepconv1`).apply(y);
    y = bn(`block${b}_sepconv1_bn`).apply(y);
    y = relu(`block${b}_sepconv2_act`).apply(y);
    y = sep(f2, `block${b}_sepconv2`).apply(y);
    y = bn(`block${b}_sepconv2_bn`).apply(y);
    y = pool(`block${b}_pool`).apply(y);
    x = L.add({ name: addName() }).apply([y, residual]);
  };
  const resBnLayer = () => bn(resBnName());

  entryBlock(2, 128, 128);
  entryBlock(3, 256, 256);
  entryBlock(4, 728, 728);

  // Middle flow: blocks 5..12.
  for (let b = 5; b <= 12; b++) {
    const residual = x;
    let y = x;
    for (let k = 1; k <= 3; k++) {
      y = relu(`block${b}_sepconv${k}_act`).apply(y);
      y = sep(728, `block${b}_sepconv${k}`).apply(y);
      y = bn(`block${b}_sepconv${k}_bn`).apply(y);
    }
    x = L.add({ name: addName() }).apply([y, residual]);
  }

  // Exit flow.
  entryBlock(13, 728, 1024);
  x = sep(1536, 'block14_sepconv1').apply(x);
  x = bn('block14_sepconv1_bn').apply(x);
  x = relu('block14_sepconv1_act').apply(x);
  x = sep(2048, 'block14_sepconv2').apply(x);
  x = bn('block14_sepconv2_bn').apply(x);
  x = relu('block14_sepconv2_act').apply(x);
  x = L.globalAveragePooling2d({ name: 'avg_pool' }).apply(x);
  x = L.dense({ name: 'predictions', units: 1000, activation: 'linear', useBias: true }).apply(x);
  const model = tf.model({ inputs: input, outputs: x, name: 'xception' });
  model.oracleInfo = { height, width, oldNames };
  return model;
}

/** Layers of the model that own weights, in model.layers order (what Keras' loader zips against). */
export function weightedLayers(model) {
  return model.layers.filter((l) => l.weights.length > 0);
}

/** Residual-add aliases: block2_add .. block13_add -> the model's own add layer names. */
export function addAliases(model) {
  const adds = model.layers.filter((l) => l.getClassName() === 'Add').map((l) => l.name);
  if (adds.length !== 12) throw new Error(`expected 12 add layers, found ${adds.length}`);
  const m = {};
  for (let b = 2; b <= 13; b++) m[`block${b}_add`] = adds[b - 2];
  return m;
}

export function resolveLayerName(model, name) {
  const aliases = addAliases(model);
  const real = aliases[name] ?? name;
  try {
    model.getLayer(real);
  } catch {
    throw new Error(`unknown layer "${name}" (aliases: ${Object.keys(aliases).join(', ')})`);
  }
  return real;
}

/** The output of each of the 14 blocks, by the model's layer names (for statistics). */
export function blockOutputNames(model) {
  const a = addAliases(model);
  const names = ['block1_conv2_act'];
  for (let b = 2; b <= 13; b++) names.push(a[`block${b}_add`]);
  names.push('block14_sepconv2_act');
  return names;
}

function shapeStr(s) { return `[${s.join(',')}]`; }

function checkAndAssign(model, perLayerValues, perLayerLabels, sourceDesc) {
  const layers = weightedLayers(model);
  if (layers.length !== perLayerValues.length) {
    throw new Error(`You are trying to load a weight file containing ${perLayerValues.length} layers ` +
      `into a model with ${layers.length} layers (${sourceDesc})`);
  }
  const pending = [];
  try {
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i];
      const vals = perLayerValues[i];
      const ws = layer.weights;
      if (ws.length !== vals.length) {
        throw new Error(`Layer #${i} (named "${layer.name}") expects ${ws.length} weights, but the saved ` +
          `weights (${perLayerLabels[i]}) have ${vals.length} elements (${sourceDesc})`);
      }
      const tensors = [];
      for (let j = 0; j < ws.length; j++) {
        const want = ws[j].shape;
        const { shape, data, name } = vals[j];
        if (want.length !== shape.length || want.some((d, k) => d !== shape[k])) {
          throw new Error(`Layer #${i} (named "${layer.name}"), weight ${ws[j].originalName ?? ws[j].name} has shape ` +
            `${shapeStr(want)}, but the saved weight "${name}" (layer "${perLayerLabels[i]}") has shape ${shapeStr(shape)}`);
        }
        const n = want.reduce((a, b) => a * b, 1);
        if (data.length !== n) throw new Error(`weight "${name}": ${data.length} values for shape ${shapeStr(shape)}`);
        tensors.push(tf.tensor(data, want, 'float32'));
      }
      pending.push([layer, tensors]);
    }
    for (const [layer, tensors] of pending) layer.setWeights(tensors);
  } finally {
    for (const [, tensors] of pending) tensors.forEach((t) => t.dispose());
  }
}

// HDF5 is read by libhdf5 through Debian's python3-h5py (tests/oracle/h5dump.py), which dumps the
// file's layers, weight names and values; nothing of the project's own HDF5 reader is used.
const h5dump = () => fileURLToPath(new URL('./h5dump.py', import.meta.url)); // when used (the benchmark page imports this module)

/** Reads the layer -> [{name, shape, data}] lists of a Keras HDF5 weight file, in file order. */
export async function readKerasH5(file) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oracle-h5-'));
  try {
    const r = spawnSync('/usr/bin/python3', [h5dump(), path.resolve(file), dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${file}: ${(r.stderr || String(r.error)).trim()}`);
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
    const b = fs.readFileSync(path.join(dir, 'data.f32'));
    const all = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
    const layers = index.layers.map((l) => ({
      name: l.name,
      weights: l.weights.map((w) => ({ name: w.name, shape: w.shape, data: all.slice(w.offset, w.offset + w.count) })),
    }));
    return { layers, backend: index.backend, kerasVersion: index.keras_version };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Assigns an HDF5 weight file the way Keras' load_weights (by_name=False) does: the file's layers
 * with a non-empty weight_names, in file order, zipped with the model's layers that have weights, in
 * model order; every shape is checked. Returns the pairing for inspection.
 */
export async function loadKerasH5(model, file) {
  const { layers } = await readKerasH5(file);
  const fileLayers = layers.filter((l) => l.weights.length > 0);
  checkAndAssign(model, fileLayers.map((l) => l.weights), fileLayers.map((l) => l.name), file);
  return { fileLayers: fileLayers.map((l) => l.name), modelLayers: weightedLayers(model).map((l) => l.name) };
}

/**
 * Reads a TF.js layers-format directory (model.json + group*-shard*of*.bin): every weight of the
 * weightsManifest, in manifest order, as {name, shape, data}.
 */
export function readTfjsWeights(dir) {
  const manifestPath = path.join(dir, 'model.json');
  const mj = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  if (!Array.isArray(mj.weightsManifest)) throw new Error(`${manifestPath}: no weightsManifest`);
  const all = [];
  for (const group of mj.weightsManifest) {
    const bufs = group.paths.map((p) => fs.readFileSync(path.join(dir, p)));
    const buf = Buffer.concat(bufs);
    let off = 0;
    for (const w of group.weights) {
      if (w.dtype && w.dtype !== 'float32') throw new Error(`weight ${w.name}: dtype ${w.dtype} not supported`);
      if (w.quantization) throw new Error(`weight ${w.name}: quantized weights not supported`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (off + 4 * n > buf.length) throw new Error(`weight ${w.name}: shards too short`);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(off + 4 * i);
      off += 4 * n;
      all.push({ name: w.name, shape: w.shape, data });
    }
    if (off !== buf.length) throw new Error(`${dir}: ${buf.length - off} unused bytes at the end of the shards`);
  }
  return all;
}

/** Loads TF.js-format weights by order: each weighted layer takes its next layer.weights.length tensors. */
export function loadTfjsWeights(model, dir) {
  const all = readTfjsWeights(dir);
  const layers = weightedLayers(model);
  const need = layers.reduce((a, l) => a + l.weights.length, 0);
  if (need !== all.length) throw new Error(`${dir}: ${all.length} weights in the manifest, the model has ${need}`);
  const per = [], labels = [];
  let k = 0;
  for (const l of layers) {
    const vals = all.slice(k, k + l.weights.length);
    k += l.weights.length;
    per.push(vals);
    labels.push(vals.map((v) => v.name).join(' '));
  }
  checkAndAssign(model, per, labels, dir);
  return { tensors: all.length };
}

const subModels = new WeakMap();

/**
 * Forward pass. input: Float32Array NHWC (batch 1, 3 channels, already preprocessed).
 * layerNames: layer names (or block<N>_add aliases) whose activations are wanted.
 */
export function run(model, input, h, w, layerNames = []) {
  if (input.length !== h * w * 3) throw new Error(`input has ${input.length} floats, expected ${h}x${w}x3 = ${h * w * 3}`);
  const [, mh, mw] = model.inputs[0].shape;
  if (mh !== h || mw !== w) throw new Error(`model was built for ${mh}x${mw}, input is ${h}x${w}`);
  const real = layerNames.map((n) => resolveLayerName(model, n));
  const uniq = [...new Set(real)]; // a name and its alias may both be asked for
  const key = uniq.join(',');
  let cache = subModels.get(model);
  if (!cache) { cache = new Map(); subModels.set(model, cache); }
  let sub = cache.get(key);
  if (!sub) {
    sub = uniq.length === 0 ? model : tf.model({
      inputs: model.inputs,
      outputs: [model.outputs[0], ...uniq.map((n) => model.getLayer(n).output)],
    });
    cache.set(key, sub);
  }
  const x = tf.tensor4d(input, [1, h, w, 3], 'float32');
  let outs = sub.predict(x);
  if (!Array.isArray(outs)) outs = [outs];
  const logits = outs[0].dataSync().slice();
  const acts = {}, shapes = {};
  layerNames.forEach((n, i) => {
    const t = outs[uniq.indexOf(real[i]) + 1];
    acts[n] = t.dataSync().slice();
    shapes[n] = t.shape.slice(1);
  });
  x.dispose();
  outs.forEach((t) => t.dispose());
  return { logits, acts, shapes };
}

export function softmax(logits) {
  let m = -Infinity;
  for (const v of logits) m = Math.max(m, v);
  const out = new Float64Array(logits.length);
  let s = 0;
  for (let i = 0; i < logits.length; i++) { out[i] = Math.exp(logits[i] - m); s += out[i]; }
  for (let i = 0; i < out.length; i++) out[i] /= s;
  return out;
}

export function stats(a) {
  let s = 0, s2 = 0, mn = Infinity, mx = -Infinity;
  for (const v of a) { s += v; s2 += v * v; if (v < mn) mn = v; if (v > mx) mx = v; }
  const mean = s / a.length;
  return { mean, std: Math.sqrt(Math.max(0, s2 / a.length - mean * mean)), min: mn, max: mx };
}

/** Deterministic input in [-1, 1] (mulberry32), NHWC. */
export function randomInput(seed, h, w) {
  let a = (seed >>> 0) ^ 0x5bd1e995;
  const next = () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(h * w * 3);
  for (let i = 0; i < out.length; i++) out[i] = next() * 2 - 1;
  return out;
}

export function topK(logits, k = 5) {
  return Array.from(logits, (v, i) => [i, v]).sort((p, q) => q[1] - p[1] || p[0] - q[0]).slice(0, k);
}
