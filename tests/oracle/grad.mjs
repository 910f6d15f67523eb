// Independent GRADIENT oracle for Xception (issue 3): the reference the C core's backward pass
// and explanation methods are compared with.
//
// Nothing here is shared with the C core (src/) or the weight generator. The network is written a
// second time as a plain function of TF.js ops (no tf.layers, no BN folding), evaluated on TF.js'
// pure-JS cpu backend in float32, and differentiated by TF.js' autodiff (tf.grad). Two building
// blocks have their own JS kernels because TF.js' are very slow: the 1x1 convolutions (a matrix
// product, float64 accumulation) and the max-pool backward (first maximum of each window); with
// {tfjsKernels: true} TF.js' own tf.conv2d / MaxPoolGrad are used instead (agree to ~2e-7).
// The explanation methods are re-implemented from their papers in float64 JS from (A, G).
//
// Exports (W = a weights path, or the object returned by loadWeights; x = Float32Array NHWC,
// batch 1, 3 channels, already preprocessed to [-1, 1]; h, w >= 71; c = class index 0..999):
//   loadWeights(path)                                         -> weights object (cached per path)
//   forward(W, x, h, w, layers, {tfjsKernels})                -> {logits: Float32Array(1000), acts: {name: Float32Array}, shapes}
//   gradAt(W, x, h, w, layer, c, {target, guided, tfjsKernels}) -> {activation, grad, shape: [H, W, C], score}
//   gradInput(W, x, h, w, c, {target, guided, tfjsKernels})   -> Float32Array NHWC (h*w*3): d y_c / d x
//   smoothgradInput(W, x, h, w, c, {n, sigma, noise, seed, target, guided, batch}) -> Float32Array NHWC
//   integratedGradients(W, x, h, w, c, {steps, target, batch}) -> Float32Array NHWC
//   gradcam / hirescam / layercam (A, G, shape), gradcamPlusPlus / xgradcam (A, G, shape, {eps})
//                                                             -> Float64Array(H*W), raw, before normalisation
//   eigencam(A, shape) -> Float64Array(H*W);  saliency(g, h, w) -> Float64Array(h*w)
//   METHODS {gradcam, 'gradcam++', hirescam, xgradcam, layercam, eigencam}: (A, G, shape) -> map
//   layerNames(), LAYER_ALIASES, resolveLayer(name), layerShape(name, h, w), gaussianNoise(seed, n),
//   topEigen(C, n), xceptionGraph(P, x4d, {inject: {layer, delta}, guided, want, tfjsKernels})
//   (the methods also accept the object returned by gradAt in place of (A, G, shape))
//
// target: 'logit' (default; y_c = pre-softmax score, as in Grad-CAM) or 'prob' (softmax output).
// guided: every ReLU's backward passes gradient only where its forward input AND the incoming
// gradient are positive (guided backpropagation, Springenberg et al. 2015).

import fs from 'node:fs';
import path from 'node:path';
import { tf, initBackend, readKerasH5 } from './xception.mjs';

export { tf, initBackend };

const BN_EPSILON = 1e-3;

// ------------------------------------------------------------------------------------------------
// Weights: the Keras HDF5 file, read in file order. Layers named by Keras (block*, predictions) are
// matched by name; the auto-named residual 1x1 convolutions (conv2d*) and their batch norms
// (batch_normalization*) by order, into the residual slots of blocks 2, 3, 4, 13 (whatever the
// naming generation of the file: conv2d..conv2d_3 or conv2d_1..conv2d_4). Every shape is checked.

const RES_BLOCKS = [2, 3, 4, 13];

/** Expected weighted layers: name -> {kind, shapes}. */
function weightSpec() {
  const s = new Map();
  const conv = (n, k, ci, co) => s.set(n, { kind: 'conv', shapes: [[k, k, ci, co]] });
  const bn = (n, c) => s.set(n, { kind: 'bn', shapes: [[c], [c], [c], [c]] });
  const sep = (n, ci, co) => s.set(n, { kind: 'sep', shapes: [[3, 3, ci, 1], [1, 1, ci, co]] });
  conv('block1_conv1', 3, 3, 32); bn('block1_conv1_bn', 32);
  conv('block1_conv2', 3, 32, 64); bn('block1_conv2_bn', 64);
  const entry = (b, ci, c1, c2) => {
    sep(`block${b}_sepconv1`, ci, c1); bn(`block${b}_sepconv1_bn`, c1);
    sep(`block${b}_sepconv2`, c1, c2); bn(`block${b}_sepconv2_bn`, c2);
    conv(`block${b}_residual_conv`, 1, ci, c2); bn(`block${b}_residual_bn`, c2);
  };
  entry(2, 64, 128, 128); entry(3, 128, 256, 256); entry(4, 256, 728, 728);
  for (let b = 5; b <= 12; b++) {
    for (let k = 1; k <= 3; k++) { sep(`block${b}_sepconv${k}`, 728, 728); bn(`block${b}_sepconv${k}_bn`, 728); }
  }
  entry(13, 728, 728, 1024);
  sep('block14_sepconv1', 1024, 1536); bn('block14_sepconv1_bn', 1536);
  sep('block14_sepconv2', 1536, 2048); bn('block14_sepconv2_bn', 2048);
  s.set('predictions', { kind: 'dense', shapes: [[2048, 1000], [1000]] });
  return s;
}

const weightCache = new Map();

/**
 * Reads a Keras HDF5 weight file into tf tensors (kept until disposeWeights). Cached per resolved
 * path, so passing the same path again costs nothing.
 */
export async function loadWeights(file) {
  await initBackend();
  const key = path.resolve(file);
  if (weightCache.has(key)) return weightCache.get(key);
  const { layers } = await readKerasH5(key);
  const spec = weightSpec();
  const arrays = new Map();
  let nConv = 0, nBn = 0;
  for (const l of layers) {
    if (l.weights.length === 0) continue;
    let name = l.name;
    if (/^conv2d(_\d+)?$/.test(name)) {
      if (nConv >= RES_BLOCKS.length) throw new Error(`${file}: more than 4 auto-named conv2d layers (${name})`);
      name = `block${RES_BLOCKS[nConv++]}_residual_conv`;
    } else if (/^batch_normalization(_\d+)?$/.test(name)) {
      if (nBn >= RES_BLOCKS.length) throw new Error(`${file}: more than 4 auto-named batch_normalization layers (${name})`);
      name = `block${RES_BLOCKS[nBn++]}_residual_bn`;
    }
    const sp = spec.get(name);
    if (!sp) throw new Error(`${file}: unexpected weighted layer "${l.name}"`);
    if (arrays.has(name)) throw new Error(`${file}: layer "${l.name}" appears twice`);
    if (sp.shapes.length !== l.weights.length) {
      throw new Error(`${file}: layer "${l.name}" has ${l.weights.length} weights, expected ${sp.shapes.length}`);
    }
    sp.shapes.forEach((want, j) => {
      const got = l.weights[j].shape;
      if (got.length !== want.length || got.some((d, k) => d !== want[k])) {
        throw new Error(`${file}: ${l.name}/${l.weights[j].name} has shape [${got}], expected [${want}]`);
      }
    });
    arrays.set(name, l.weights);
  }
  if (!arrays.has('predictions')) spec.delete('predictions'); // a notop file: features only
  const missing = [...spec.keys()].filter((n) => !arrays.has(n));
  if (missing.length) throw new Error(`${file}: missing weights for ${missing.join(', ')}`);

  const P = { oracleGradWeights: true, path: key };
  for (const [name, ws] of arrays) {
    const kind = spec.get(name).kind;
    const t = ws.map((v) => tf.keep(tf.tensor(v.data, v.shape, 'float32')));
    if (kind === 'conv') P[name] = { kernel: t[0] };
    else if (kind === 'sep') P[name] = { depthwise: t[0], pointwise: t[1] };
    else if (kind === 'bn') P[name] = { gamma: t[0], beta: t[1], mean: t[2], variance: t[3] };
    else P[name] = { kernel: t[0], bias: t[1], kernelData: ws[0].data }; // kernelData: [2048][1000] row-major
  }
  // the ImageNet head of keras.applications.Xception: global average pooling, Dense(1000) softmax
  P.head = { pooling: 'avg', dense: P.predictions ? [{ ...P.predictions, activation: 'softmax' }] : [] };
  weightCache.set(key, P);
  return P;
}

/**
 * Reads the raw form of a synthetic model (tools/fixtures/gen-test-weights.mjs --raw: model.json with the
 * graph and weights.f32) straight from its bytes, heads included: P.head = {pooling, dense:
 * [{kernel, bias, activation}]} in order, P.rescaling = {scale, offset} | null. The base's layers
 * are matched by name (the residual convolutions and their BNs, unnamed in the graph, by order).
 */
export async function loadRawWeights(dir) {
  await initBackend();
  const key = `raw:${path.resolve(dir)}`;
  if (weightCache.has(key)) return weightCache.get(key);
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const b = fs.readFileSync(path.join(dir, m.data));
  const all = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  const layers = [];
  for (const part of ['base', 'top']) {
    for (const l of m.parts[part] ?? []) {
      const ws = m.tensors.filter((t) => t.part === part && t.layer === l.index);
      layers.push({ ...l, ws: ws.map((t) => ({ name: t.weight, shape: t.shape, data: all.slice(t.offset, t.offset + t.count) })) });
    }
  }
  const spec = weightSpec();
  spec.delete('predictions');
  const P = { oracleGradWeights: true, path: key };
  let nConv = 0, nBn = 0;
  const dense = [];
  let pooling = null, rescaling = null;
  for (const l of layers) {
    if (l.kind === 'gap' || l.kind === 'gmp') pooling = l.kind === 'gap' ? 'avg' : 'max';
    if (l.kind === 'rescaling') rescaling = { scale: l.args.scale, offset: l.args.offset };
    if (l.kind === 'dense') {
      dense.push({ kernel: tf.keep(tf.tensor(l.ws[0].data, l.ws[0].shape)), bias: tf.keep(tf.tensor(l.ws[1].data, l.ws[1].shape)),
        kernelData: l.ws[0].data, activation: l.args.activation, units: l.args.units });
      continue;
    }
    if (!l.ws.length) continue;
    let name = l.name;
    if (name === null && l.kind === 'conv') name = `block${RES_BLOCKS[nConv++]}_residual_conv`;
    if (name === null && l.kind === 'bn') name = `block${RES_BLOCKS[nBn++]}_residual_bn`;
    const sp = spec.get(name);
    if (!sp) throw new Error(`${dir}: unexpected weighted layer ${name}`);
    sp.shapes.forEach((want, j) => {
      if (want.join() !== l.ws[j].shape.join()) throw new Error(`${dir}: ${name}/${l.ws[j].name} has shape [${l.ws[j].shape}], expected [${want}]`);
    });
    const t = l.ws.map((v) => tf.keep(tf.tensor(v.data, v.shape, 'float32')));
    if (sp.kind === 'conv') P[name] = { kernel: t[0] };
    else if (sp.kind === 'sep') P[name] = { depthwise: t[0], pointwise: t[1] };
    else P[name] = { gamma: t[0], beta: t[1], mean: t[2], variance: t[3] };
    spec.delete(name);
  }
  if (spec.size) throw new Error(`${dir}: missing weights for ${[...spec.keys()].join(', ')}`);
  P.head = { pooling: pooling ?? 'avg', dense };
  P.rescaling = rescaling;
  if (dense.length) P.predictions = dense[dense.length - 1];
  weightCache.set(key, P);
  return P;
}

/** Number of outputs of the model's last Dense layer (the classes, or 1 for a binary head). */
export function classCount(P) {
  const d = P.head.dense;
  if (!d.length) throw new Error('the model has no head (notop)');
  return d[d.length - 1].kernel.shape[1];
}

/**
 * The model's input from pixels in [0, 255] (NHWC float32): its Rescaling layer's
 * x * scale + offset, or keras.applications.xception.preprocess_input's x / 127.5 - 1.
 */
export function preprocess(pixels, rescaling = null) {
  const out = new Float32Array(pixels.length);
  if (rescaling) {
    const sc = Math.fround(rescaling.scale), of = Math.fround(rescaling.offset);
    for (let i = 0; i < out.length; i++) out[i] = Math.fround(Math.fround(pixels[i] * sc) + of);
  } else {
    for (let i = 0; i < out.length; i++) out[i] = Math.fround(Math.fround(pixels[i] / 127.5) - 1);
  }
  return out;
}

/** Frees the tensors of a weights object (and forgets it in the cache). */
export function disposeWeights(P) {
  for (const v of Object.values(P)) {
    if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
      for (const t of Object.values(v)) if (t instanceof tf.Tensor) t.dispose();
    }
  }
  weightCache.delete(P.path);
}

async function weightsOf(W) {
  if (typeof W === 'string') return fs.statSync(W).isDirectory() ? loadRawWeights(W) : loadWeights(W);
  if (W && W.oracleGradWeights) return W;
  throw new Error('weights: give a Keras HDF5 path or the object returned by loadWeights()');
}

// ------------------------------------------------------------------------------------------------
// Layer names and shapes.

const ORDER = [];      // canonical names in forward order
const ALIASES = {};    // alias -> canonical
(() => {
  const push = (...n) => ORDER.push(...n);
  push('input', 'block1_conv1', 'block1_conv1_bn', 'block1_conv1_act',
    'block1_conv2', 'block1_conv2_bn', 'block1_conv2_act');
  const sepUnit = (b, k, act) => {
    if (act) push(`block${b}_sepconv${k}_act`);
    push(`block${b}_sepconv${k}`, `block${b}_sepconv${k}_bn`);
  };
  let addIdx = 0, resIdx = 0;
  const keras = (base, i) => (i === 0 ? base : `${base}_${i}`);
  const entry = (b) => {
    sepUnit(b, 1, b !== 2); sepUnit(b, 2, true);
    push(`block${b}_pool`, `block${b}_residual_conv`, `block${b}_residual`, `block${b}_add`);
    ALIASES[keras('conv2d', resIdx)] = `block${b}_residual_conv`;
    ALIASES[keras('batch_normalization', resIdx)] = `block${b}_residual`;
    ALIASES[`block${b}_residual_bn`] = `block${b}_residual`;
    resIdx++;
    ALIASES[keras('add', addIdx++)] = `block${b}_add`;
  };
  entry(2); entry(3); entry(4);
  for (let b = 5; b <= 12; b++) {
    for (let k = 1; k <= 3; k++) sepUnit(b, k, true);
    push(`block${b}_add`);
    ALIASES[keras('add', addIdx++)] = `block${b}_add`;
  }
  entry(13);
  push('block14_sepconv1', 'block14_sepconv1_bn', 'block14_sepconv1_act',
    'block14_sepconv2', 'block14_sepconv2_bn', 'block14_sepconv2_act', 'avg_pool', 'predictions');
  ALIASES.input_1 = 'input';
})();
const ORDER_SET = new Set(ORDER);

/**
 * Every addressable layer output, in forward order. Keras names, except: the residual adds are
 * block2_add .. block13_add (Keras: add, add_1 .. add_11), the residual branch of blocks 2, 3, 4, 13
 * is block<N>_residual_conv (1x1 conv output; Keras conv2d .. conv2d_3) and block<N>_residual (its
 * BN output; Keras batch_normalization .. batch_normalization_3; also block<N>_residual_bn).
 * The Keras (tf.keras 2.x) names and input_1 are accepted as aliases (see LAYER_ALIASES).
 */
export function layerNames() { return ORDER.slice(); }
export const LAYER_ALIASES = Object.freeze({ ...ALIASES });

export function resolveLayer(name) {
  const c = ALIASES[name] ?? name;
  if (!ORDER_SET.has(c)) throw new Error(`unknown layer "${name}"`);
  return c;
}

/** Output shape of a layer for an h x w input, batch dimension dropped ([H, W, C], or [C]). */
export function layerShape(name, h, w) {
  const n = resolveLayer(name);
  if (!(h >= 71 && w >= 71)) throw new Error(`Xception needs an input of at least 71x71, got ${h}x${w}`);
  const half = (v) => Math.ceil(v / 2);
  const s1 = [Math.floor((h - 3) / 2) + 1, Math.floor((w - 3) / 2) + 1];
  const s2 = [s1[0] - 2, s1[1] - 2];
  const s3 = s2.map(half), s4 = s3.map(half), s5 = s4.map(half), s6 = s5.map(half);
  if (n === 'input') return [h, w, 3];
  if (n === 'avg_pool') return [2048];
  if (n === 'predictions') return [1000];
  if (n.startsWith('block1_conv1')) return [...s1, 32];
  if (n.startsWith('block1_conv2')) return [...s2, 64];
  const m = /^block(\d+)_(.*)$/.exec(n);
  const b = Number(m[1]), rest = m[2];
  const post = rest === 'pool' || rest === 'add' || rest.startsWith('residual');
  if (b === 2) return post ? [...s3, 128] : [...s2, 128];
  if (b === 3) return post ? [...s4, 256] : [...s3, rest === 'sepconv1_act' ? 128 : 256];
  if (b === 4) return post ? [...s5, 728] : [...s4, rest === 'sepconv1_act' ? 256 : 728];
  if (b <= 12) return [...s5, 728];
  if (b === 13) {
    if (post) return [...s6, 1024];
    return [...s5, rest.startsWith('sepconv2') && rest !== 'sepconv2_act' ? 1024 : 728];
  }
  // block 14
  return [...s6, rest.startsWith('sepconv1') ? 1536 : 2048];
}

// ------------------------------------------------------------------------------------------------
// The network as a function of tf ops.

// 1x1 convolution as a matrix product [N*H*W, Cin] x [Cin, Cout]. TF.js' cpu kernels for conv2d
// and matMul run at ~0.4 GFLOP/s here; this 4x4 register-blocked loop (float64 accumulation,
// rounded to float32 once per output) at ~2 GFLOP/s, and 95% of Xception's work is pointwise.
// Its input gradient is the same product with the transposed kernel (no weight gradient needed).
function matmulF32(A, B, M, K, N) {
  const C = new Float32Array(M * N);
  const Ap = new Float32Array(4 * K);
  for (let i = 0; i < M; i += 4) {
    const mi = Math.min(4, M - i);
    Ap.fill(0);
    for (let r = 0; r < mi; r++) for (let k = 0, o = (i + r) * K; k < K; k++) Ap[k * 4 + r] = A[o + k];
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = 0, bk = j, ak = 0; k < K; k++, bk += N, ak += 4) {
        const a0 = Ap[ak], a1 = Ap[ak + 1], a2 = Ap[ak + 2], a3 = Ap[ak + 3];
        const b0 = B[bk], b1 = B[bk + 1], b2 = B[bk + 2], b3 = B[bk + 3];
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      let o = i * N + j;
      C[o] = c00; C[o + 1] = c01; C[o + 2] = c02; C[o + 3] = c03;
      if (mi > 1) { o += N; C[o] = c10; C[o + 1] = c11; C[o + 2] = c12; C[o + 3] = c13; }
      if (mi > 2) { o += N; C[o] = c20; C[o + 1] = c21; C[o + 2] = c22; C[o + 3] = c23; }
      if (mi > 3) { o += N; C[o] = c30; C[o + 1] = c31; C[o + 2] = c32; C[o + 3] = c33; }
    }
    for (; j < N; j++) {
      for (let r = 0; r < mi; r++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += Ap[k * 4 + r] * B[k * N + j];
        C[(i + r) * N + j] = s;
      }
    }
  }
  return C;
}

/** Cached row-major [Cin][Cout] data of a [1, 1, Cin, Cout] kernel and its transpose. */
function kernelMatrices(k) {
  if (!k.oracleMats) {
    const [, , ci, co] = k.shape;
    const m = k.dataSync();
    const t = new Float32Array(ci * co);
    for (let a = 0; a < ci; a++) for (let b = 0; b < co; b++) t[b * ci + a] = m[a * co + b];
    k.oracleMats = { m, t, ci, co };
  }
  return k.oracleMats;
}

/**
 * 1x1 convolution of a [N, H, W, Cin] tensor with kernel k [1, 1, Cin, Cout], stride 1 or 2.
 * Stride 2 with TF "same" padding pads nothing for a 1x1 kernel ((ceil(n/2)-1)*2+1 <= n): it
 * samples the even rows and columns, and its input gradient scatters back to them (zeros elsewhere).
 */
function pointwiseConv(x, k, stride = 1) {
  const { m, t, ci, co } = kernelMatrices(k);
  const op = tf.customGrad((xt) => {
    const [n, hh, ww] = xt.shape;
    const ho = stride === 1 ? hh : Math.ceil(hh / 2), wo = stride === 1 ? ww : Math.ceil(ww / 2);
    const rows = n * ho * wo;
    let xs = xt.dataSync();
    if (stride === 2) {
      const g = new Float32Array(rows * ci);
      for (let b = 0, r = 0; b < n; b++) {
        for (let i = 0; i < ho; i++) {
          for (let j = 0; j < wo; j++, r++) {
            const src = ((b * hh + 2 * i) * ww + 2 * j) * ci;
            g.set(xs.subarray(src, src + ci), r * ci);
          }
        }
      }
      xs = g;
    }
    return {
      value: tf.tensor4d(matmulF32(xs, m, rows, ci, co), [n, ho, wo, co]),
      gradFunc: (dy) => {
        const d = matmulF32(dy.dataSync(), t, rows, co, ci);
        if (stride === 1) return tf.tensor4d(d, [n, hh, ww, ci]);
        const dx = new Float32Array(n * hh * ww * ci);
        for (let b = 0, r = 0; b < n; b++) {
          for (let i = 0; i < ho; i++) {
            for (let j = 0; j < wo; j++, r++) dx.set(d.subarray(r * ci, (r + 1) * ci), ((b * hh + 2 * i) * ww + 2 * j) * ci);
          }
        }
        return tf.tensor4d(dx, [n, hh, ww, ci]);
      },
    };
  });
  return op(x);
}

/**
 * Input gradient of MaxPooling2D 3x3 stride 2 "same" (NHWC): each output gradient goes to the
 * first maximum of its window in row-major order (strict >, as TF); padded cells never win; windows
 * overlap, so contributions add up. Same result as TF.js' MaxPoolGrad kernel (checked with ties),
 * 50x faster.
 */
function maxPoolBackward(x, [n, hh, ww, c], dy) {
  const ho = Math.ceil(hh / 2), wo = Math.ceil(ww / 2);
  const padT = Math.floor(Math.max((ho - 1) * 2 + 3 - hh, 0) / 2);
  const padL = Math.floor(Math.max((wo - 1) * 2 + 3 - ww, 0) / 2);
  const dx = new Float32Array(x.length);
  const best = new Float32Array(c), at = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        best.fill(-Infinity); at.fill(-1);
        for (let a = 0; a < 3; a++) {
          const r = 2 * i - padT + a;
          if (r < 0 || r >= hh) continue;
          for (let q = 0; q < 3; q++) {
            const s = 2 * j - padL + q;
            if (s < 0 || s >= ww) continue;
            const o = ((b * hh + r) * ww + s) * c;
            for (let k = 0; k < c; k++) if (x[o + k] > best[k]) { best[k] = x[o + k]; at[k] = o + k; }
          }
        }
        const od = ((b * ho + i) * wo + j) * c;
        for (let k = 0; k < c; k++) if (at[k] >= 0) dx[at[k]] += dy[od + k];
      }
    }
  }
  return dx;
}

const maxPoolFast = tf.customGrad((x, save) => {
  save([x]);
  return {
    value: tf.maxPool(x, [3, 3], [2, 2], 'same'),
    gradFunc: (dy, [xs]) => tf.tensor4d(maxPoolBackward(xs.dataSync(), xs.shape, dy.dataSync()), xs.shape),
  };
});

// GlobalMaxPooling2D: max over H, W per channel. Gradient as TensorFlow's for reduce_max (what
// Keras differentiates): shared equally among the cells that tie for the maximum.
const globalMaxPool = tf.customGrad((x, save) => {
  const y = tf.max(x, [1, 2]);
  save([x, y]);
  return {
    value: y,
    gradFunc: (dy, [xs, ys]) => {
      const hit = tf.cast(tf.equal(xs, tf.reshape(ys, [ys.shape[0], 1, 1, ys.shape[1]])), 'float32');
      const count = tf.sum(hit, [1, 2], true);
      return tf.mul(tf.div(hit, count), tf.reshape(dy, [dy.shape[0], 1, 1, dy.shape[1]]));
    },
  };
});

// Guided backpropagation ReLU (Springenberg et al., ICLR-W 2015): dx = dy * [x > 0] * [dy > 0].
const guidedRelu = tf.customGrad((x, save) => {
  save([x]);
  return {
    value: tf.relu(x),
    gradFunc: (dy, [xs]) => tf.mul(tf.relu(dy), tf.cast(tf.greater(xs, 0), 'float32')),
  };
});

// Keras BatchNormalization (inference): y = (x - mean) / sqrt(var + 1e-3) * gamma + beta,
// evaluated as (x - mean) * (gamma / sqrt(var + 1e-3)) + beta (one full-size op fewer).
const bn = (t, p) => tf.add(tf.mul(tf.sub(t, p.mean), tf.div(p.gamma, tf.sqrt(tf.add(p.variance, BN_EPSILON)))), p.beta);
// Plain TF.js versions of the building blocks (tfjsKernels: true), for cross-checks.
const plain = {
  sep: (t, p) => tf.conv2d(tf.depthwiseConv2d(t, p.depthwise, 1, 'same'), p.pointwise, 1, 'same'),
  resConv: (t, k) => tf.conv2d(t, k, 2, 'same'),
  pool: (t) => tf.maxPool(t, [3, 3], [2, 2], 'same'),
};
// Default: pointwise and residual 1x1 convolutions by the JS matrix product above, and max pooling
// with the JS backward above (TF.js' cpu kernels for these are 5-50x slower).
const fast = {
  // SeparableConv2D: depthwise 3x3 "same" (depth multiplier 1), then pointwise 1x1, no bias.
  sep: (t, p) => pointwiseConv(tf.depthwiseConv2d(t, p.depthwise, 1, 'same'), p.pointwise, 1),
  // Residual branch: Conv2D 1x1 stride 2 "same", no bias.
  resConv: (t, k) => pointwiseConv(t, k, 2),
  // MaxPooling2D 3x3 stride 2 "same" (TF padding: pad_before = floor(total / 2)).
  pool: (t) => maxPoolFast(t),
};

/** Building blocks, exported for the oracle's own checks only. */
export const _internals = Object.freeze({
  bn, plain, fast, pointwiseConv, maxPoolBackward, matmulF32, guidedRelu: (t) => guidedRelu(t),
});

/**
 * Xception forward pass on a [N, h, w, 3] tensor. Must run inside tf.tidy / tf.grad.
 * opts.inject = {layer, delta}: adds delta ([N, ...layerShape]) to that layer's output.
 * opts.guided: guided-backprop ReLUs. opts.want: iterable of layer names to return in acts.
 * opts.tfjsKernels: use only TF.js' own kernels and gradients (tf.conv2d for the 1x1 convolutions,
 * tf.maxPool's gradient): slower, for cross-checking the default fast paths.
 * Returns {logits: [N, 1000] tensor, acts: {canonical name: tensor}}.
 */
export function xceptionGraph(P, x, { inject = null, guided = false, want = [], tfjsKernels = false } = {}) {
  const { sep, resConv, pool } = tfjsKernels ? plain : fast;
  const wantSet = new Set([...want].map(resolveLayer));
  const injName = inject ? resolveLayer(inject.layer) : null;
  const acts = {};
  const tap = (name, t) => {
    if (name === injName) t = tf.add(t, inject.delta);
    if (wantSet.has(name)) acts[name] = t;
    return t;
  };
  const relu = guided ? (t) => guidedRelu(t) : (t) => tf.relu(t);

  let h = tap('input', x);
  h = tap('block1_conv1', tf.conv2d(h, P.block1_conv1.kernel, 2, 'valid'));
  h = tap('block1_conv1_bn', bn(h, P.block1_conv1_bn));
  h = tap('block1_conv1_act', relu(h));
  h = tap('block1_conv2', tf.conv2d(h, P.block1_conv2.kernel, 1, 'valid'));
  h = tap('block1_conv2_bn', bn(h, P.block1_conv2_bn));
  h = tap('block1_conv2_act', relu(h));

  const sepUnit = (t, b, k, act) => {
    const n = `block${b}_sepconv${k}`;
    if (act) t = tap(`${n}_act`, relu(t));
    t = tap(n, sep(t, P[n]));
    return tap(`${n}_bn`, bn(t, P[`${n}_bn`]));
  };
  const entry = (t, b) => {
    let y = sepUnit(t, b, 1, b !== 2);
    y = sepUnit(y, b, 2, true);
    y = tap(`block${b}_pool`, pool(y));
    let r = tap(`block${b}_residual_conv`, resConv(t, P[`block${b}_residual_conv`].kernel));
    r = tap(`block${b}_residual`, bn(r, P[`block${b}_residual_bn`]));
    return tap(`block${b}_add`, tf.add(y, r));
  };
  h = entry(h, 2); h = entry(h, 3); h = entry(h, 4);
  for (let b = 5; b <= 12; b++) {
    let y = h;
    for (let k = 1; k <= 3; k++) y = sepUnit(y, b, k, true);
    h = tap(`block${b}_add`, tf.add(y, h));
  }
  h = entry(h, 13);
  h = tap('block14_sepconv1', sep(h, P.block14_sepconv1));
  h = tap('block14_sepconv1_bn', bn(h, P.block14_sepconv1_bn));
  h = tap('block14_sepconv1_act', relu(h));
  h = tap('block14_sepconv2', sep(h, P.block14_sepconv2));
  h = tap('block14_sepconv2_bn', bn(h, P.block14_sepconv2_bn));
  h = tap('block14_sepconv2_act', relu(h));
  if (!P.head.dense.length) return { logits: h, acts }; // notop: the features are the output
  h = tap('avg_pool', P.head.pooling === 'max' ? globalMaxPool(h) : tf.mean(h, [1, 2]));
  // Dropout is the identity at inference; hidden Dense layers apply their activation, the last
  // one's output before its activation is the logits.
  const d = P.head.dense;
  for (let i = 0; i < d.length - 1; i++) {
    h = tf.add(tf.matMul(h, d[i].kernel), d[i].bias);
    if (d[i].activation === 'relu') h = relu(h);
  }
  const logits = tap('predictions', tf.add(tf.matMul(h, d[d.length - 1].kernel), d[d.length - 1].bias));
  return { logits, acts };
}

function checkInput(x, h, w, n = 1) {
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 71 || w < 71) throw new Error(`input size must be integers >= 71, got ${h}x${w}`);
  if (!x || x.length !== n * h * w * 3) throw new Error(`input has ${x?.length} floats, expected ${n}x${h}x${w}x3`);
}

function checkClass(c, target = 'logit', P = null) {
  const n = P ? Math.max(2, classCount(P)) : 1000;
  if (!Number.isInteger(c) || c < 0 || c >= n) throw new Error(`class index must be an integer in [0, ${n}), got ${c}`);
  if (target !== 'logit' && target !== 'prob') throw new Error(`target must be 'logit' or 'prob', got ${target}`);
}

/** Sum over the batch of y_c: the logit, or the softmax probability (target 'prob'). */
// A binary Dense(1) head scores class 1 by +logit and class 0 by -logit; 'prob' applies the
// last layer's activation (sigmoid of the signed logit for one unit; softmax; sigmoid per unit).
function score(logits, c, target, P = null) {
  const d = P?.head.dense;
  const act = d && d.length ? d[d.length - 1].activation : 'softmax';
  if (logits.shape[1] === 1) {
    const y = c === 1 ? logits : tf.neg(logits);
    return tf.sum(target === 'prob' ? tf.sigmoid(y) : y);
  }
  if (target === 'logit') return tf.sum(tf.slice(logits, [0, c], [-1, 1]));
  if (target === 'prob') return tf.sum(tf.slice(act === 'sigmoid' ? tf.sigmoid(logits) : tf.softmax(logits), [0, c], [-1, 1]));
  throw new Error(`target must be 'logit' or 'prob', got ${target}`);
}

/** Forward pass: {logits: Float32Array(1000), acts: {requested name: Float32Array}, shapes}. */
export async function forward(W, x, h, w, layers = [], { tfjsKernels = false } = {}) {
  const P = await weightsOf(W);
  checkInput(x, h, w);
  // (tf.tidy walks whatever its callback returns, typed arrays element by element: return nothing)
  const r = { logits: null, acts: {}, shapes: {} };
  tf.tidy(() => {
    const { logits, acts } = xceptionGraph(P, tf.tensor4d(x, [1, h, w, 3], 'float32'), { want: layers, tfjsKernels });
    r.logits = logits.dataSync().slice();
    for (const n of layers) {
      const t = acts[resolveLayer(n)];
      r.acts[n] = t.dataSync().slice();
      r.shapes[n] = t.shape.slice(1);
    }
  });
  return r;
}

/**
 * d y_c / d A for the layer's output A: tf.grad with respect to a zero tensor added to that output.
 * Returns {activation: Float32Array, grad: Float32Array, shape: [H, W, C], score: y_c}.
 */
export async function gradAt(W, x, h, w, layer, classIndex, { target = 'logit', guided = false, tfjsKernels = false } = {}) {
  const P = await weightsOf(W);
  checkInput(x, h, w); checkClass(classIndex, target, P);
  const name = resolveLayer(layer);
  const shape = name === 'predictions' ? [classCount(P)] : layerShape(name, h, w);
  let act = null, y = null;
  try {
    const g = tf.tidy(() => {
      const xt = tf.tensor4d(x, [1, h, w, 3], 'float32');
      const f = (delta) => {
        const { logits, acts } = xceptionGraph(P, xt, { inject: { layer: name, delta }, guided, want: [name], tfjsKernels });
        act = tf.keep(acts[name]);
        const s = score(logits, classIndex, target, P);
        y = tf.keep(s.clone());
        return s;
      };
      return tf.grad(f)(tf.zeros([1, ...shape]));
    });
    const grad = g.dataSync().slice();
    g.dispose();
    return { activation: act.dataSync().slice(), grad, shape, score: y.dataSync()[0] };
  } finally {
    act?.dispose(); y?.dispose();
  }
}

/** Per-sample input gradients of y_c for `n` stacked inputs (Float32Array n*h*w*3), NHWC. */
function inputGradBatch(P, xs, n, h, w, c, target, guided, tfjsKernels = false) {
  let out = null;
  tf.tidy(() => {
    const xt = tf.tensor4d(xs, [n, h, w, 3], 'float32');
    // Samples are independent (inference BN), so d(sum_n y_c(x_n))/dx_n = d y_c(x_n)/dx_n.
    const g = tf.grad((t) => score(xceptionGraph(P, t, { guided, tfjsKernels }).logits, c, target, P))(xt);
    out = g.dataSync().slice();
  });
  return out;
}

/** d y_c / d x, NHWC (h*w*3) - vanilla gradient; with guided: true, guided backpropagation. */
export async function gradInput(W, x, h, w, classIndex, { guided = false, target = 'logit', tfjsKernels = false } = {}) {
  const P = await weightsOf(W);
  checkInput(x, h, w); checkClass(classIndex, target, P);
  return inputGradBatch(P, x, 1, h, w, classIndex, target, guided, tfjsKernels);
}

/** Samples per TF.js call for SmoothGrad / IG: a few at small sizes (less per-op overhead), 1 above 128x128 (memory). */
function defaultBatch(h, w) { return h * w <= 128 * 128 ? 4 : 1; }

/** Deterministic standard normal samples (mulberry32 + Box-Muller), for when no noise is given. */
export function gaussianNoise(seed, count) {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296; // (0, 1)
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u())), th = 2 * Math.PI * u();
    out[i] = r * Math.cos(th);
    if (i + 1 < count) out[i + 1] = r * Math.sin(th);
  }
  return out;
}

/**
 * SmoothGrad (Smilkov et al. 2017, arXiv 1706.03825): (1/n) sum_i d y_c / d x at x + sigma * z_i.
 * noise: array of n Float32Arrays (h*w*3 each) of standard-normal z_i, taken as given so a seeded
 * C implementation can be reproduced exactly (pass its z_i); if absent, n samples from
 * gaussianNoise(seed + i). sigma is the absolute std in preprocessed units (the paper's noise
 * level times (x_max - x_min) = 2; e.g. 0.15 * 2 = 0.3). If your noise arrays are already scaled,
 * pass sigma: 1. Returns the mean gradient, NHWC.
 */
export async function smoothgradInput(W, x, h, w, classIndex, {
  n = 8, sigma = 0.3, noise = null, seed = 1, target = 'logit', guided = false, batch = defaultBatch(h, w),
} = {}) {
  const P = await weightsOf(W);
  checkInput(x, h, w); checkClass(classIndex, target, P);
  const m = x.length;
  const zs = noise ?? Array.from({ length: n }, (_, i) => gaussianNoise(seed + i, m));
  if (!zs.length) throw new Error('smoothgrad: no samples');
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a positive integer, got ${batch}`);
  zs.forEach((z, i) => { if (z.length !== m) throw new Error(`smoothgrad: noise[${i}] has ${z.length} values, expected ${m}`); });
  const acc = new Float64Array(m);
  for (let s = 0; s < zs.length; s += batch) {
    const k = Math.min(batch, zs.length - s);
    const xs = new Float32Array(k * m);
    for (let j = 0; j < k; j++) {
      const z = zs[s + j];
      for (let i = 0; i < m; i++) xs[j * m + i] = x[i] + sigma * z[i];
    }
    const g = inputGradBatch(P, xs, k, h, w, classIndex, target, guided);
    for (let j = 0; j < k; j++) for (let i = 0; i < m; i++) acc[i] += g[j * m + i];
  }
  return Float32Array.from(acc, (v) => v / zs.length);
}

/**
 * Integrated Gradients (Sundararajan et al. 2017, arXiv 1703.01365), Riemann right sum:
 * IG = (x - x') * (1/m) sum_{k=1..m} d y_c / d x at x' + (k/m)(x - x'), black baseline x' = -1
 * (pixel 0 after x/127.5 - 1). NHWC.
 */
export async function integratedGradients(W, x, h, w, classIndex, { steps = 32, target = 'logit', batch = defaultBatch(h, w) } = {}) {
  const P = await weightsOf(W);
  checkInput(x, h, w); checkClass(classIndex, target, P);
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a positive integer, got ${batch}`);
  const m = x.length, base = -1;
  const acc = new Float64Array(m);
  for (let s = 1; s <= steps; s += batch) {
    const k = Math.min(batch, steps - s + 1);
    const xs = new Float32Array(k * m);
    for (let j = 0; j < k; j++) {
      const a = (s + j) / steps;
      for (let i = 0; i < m; i++) xs[j * m + i] = base + a * (x[i] - base);
    }
    const g = inputGradBatch(P, xs, k, h, w, classIndex, target, false);
    for (let j = 0; j < k; j++) for (let i = 0; i < m; i++) acc[i] += g[j * m + i];
  }
  return Float32Array.from(acc, (v, i) => (x[i] - base) * (v / steps));
}

// ------------------------------------------------------------------------------------------------
// Explanation methods from (A, G), float64. A, G: HWC arrays of shape [H, W, K]. Each returns the
// raw H x W map (Float64Array, row-major) before any normalisation.

function unpack(args, needG = true) {
  let [A, G, shape] = args;
  if (A && A.activation) ({ activation: A, grad: G, shape } = A);
  if (!needG && shape === undefined && Array.isArray(G)) { shape = G; G = null; }
  if (!shape || shape.length !== 3) throw new Error('give (A, G, [H, W, K]) or the object returned by gradAt');
  const [H, Wd, K] = shape;
  if (A.length !== H * Wd * K || (needG && G.length !== H * Wd * K)) throw new Error(`arrays do not match shape [${shape}]`);
  return { A, G, HW: H * Wd, K };
}

/** Removes and returns a trailing options object ({eps}) from the argument list. */
function splitOpts(args) {
  const last = args[args.length - 1];
  const isOpts = args.length > 1 && last && typeof last === 'object' && !ArrayBuffer.isView(last) &&
    !Array.isArray(last) && !('activation' in last);
  return isOpts ? args.pop() : {};
}

const relu0 = (v) => (v > 0 ? v : 0);

function channelCombination(A, HW, K, wts, relu) {
  const out = new Float64Array(HW);
  for (let p = 0; p < HW; p++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += wts[k] * A[p * K + k];
    out[p] = relu ? relu0(s) : s;
  }
  return out;
}

// Grad-CAM (Selvaraju et al., ICCV 2017): L = ReLU(sum_k alpha_k A^k), alpha_k = (1/HW) sum_ij dy/dA^k_ij.
export function gradcam(...args) {
  const { A, G, HW, K } = unpack(args);
  const wts = new Float64Array(K);
  for (let p = 0; p < HW; p++) for (let k = 0; k < K; k++) wts[k] += G[p * K + k];
  for (let k = 0; k < K; k++) wts[k] /= HW;
  return channelCombination(A, HW, K, wts, true);
}

// Grad-CAM++ (Chattopadhay et al., WACV 2018; closed form of pytorch-grad-cam): a_ij^k = G^2 / (2 G^2 + sum_ab A^k_ab * G^3) (0 where G = 0), w_k = sum_ij ReLU(G) a, L = ReLU(sum_k w_k A^k).
// opts.eps is added to the denominator (pytorch-grad-cam uses 1e-6; default 0 = the formula above;
// note that at block14 G ~ 1e-4, so G^2 ~ 1e-8 and an eps of 1e-6 changes the result a lot).
export function gradcamPlusPlus(...args) {
  const eps = splitOpts(args).eps ?? 0;
  const { A, G, HW, K } = unpack(args);
  const sumA = new Float64Array(K);
  for (let p = 0; p < HW; p++) for (let k = 0; k < K; k++) sumA[k] += A[p * K + k];
  const wts = new Float64Array(K);
  for (let p = 0; p < HW; p++) {
    for (let k = 0; k < K; k++) {
      const g = G[p * K + k];
      if (g === 0) continue;
      const g2 = g * g, g3 = g2 * g;
      const den = 2 * g2 + sumA[k] * g3 + eps;
      const a = den !== 0 ? g2 / den : 0;
      wts[k] += relu0(g) * a;
    }
  }
  return channelCombination(A, HW, K, wts, true);
}

// HiResCAM (Draelos & Carin, arXiv 2011.08891): L = ReLU(sum_k G^k ⊙ A^k) (elementwise, no pooling of the gradient).
export function hirescam(...args) {
  const { A, G, HW, K } = unpack(args);
  const out = new Float64Array(HW);
  for (let p = 0; p < HW; p++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += G[p * K + k] * A[p * K + k];
    out[p] = relu0(s);
  }
  return out;
}

// XGrad-CAM (Fu et al., BMVC 2020): w_k = sum_ij A^k_ij G^k_ij / (sum_ij A^k_ij + eps), L = ReLU(sum_k w_k A^k); eps = 1e-7 as pytorch-grad-cam.
export function xgradcam(...args) {
  const eps = splitOpts(args).eps ?? 1e-7;
  const { A, G, HW, K } = unpack(args);
  const num = new Float64Array(K), den = new Float64Array(K);
  for (let p = 0; p < HW; p++) {
    for (let k = 0; k < K; k++) { num[k] += A[p * K + k] * G[p * K + k]; den[k] += A[p * K + k]; }
  }
  const wts = num.map((v, k) => v / (den[k] + eps));
  return channelCombination(A, HW, K, wts, true);
}

// LayerCAM (Jiang et al., IEEE TIP 2021): L = ReLU(sum_k ReLU(G^k) ⊙ A^k).
export function layercam(...args) {
  const { A, G, HW, K } = unpack(args);
  const out = new Float64Array(HW);
  for (let p = 0; p < HW; p++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += relu0(G[p * K + k]) * A[p * K + k];
    out[p] = relu0(s);
  }
  return out;
}

// Eigen-CAM (Muhammad & Yeasin, IJCNN 2020; as pytorch-grad-cam's get_2d_projection): L = M v1, M = mean-centred (HW x K) activations, v1 = first right singular vector; sign: corr(L, channel-mean of A) >= 0. No ReLU.
export function eigencam(...args) {
  const { A, HW, K } = unpack(args, false);
  const M = new Float64Array(HW * K);
  const mean = new Float64Array(K);
  for (let p = 0; p < HW; p++) for (let k = 0; k < K; k++) mean[k] += A[p * K + k];
  for (let k = 0; k < K; k++) mean[k] /= HW;
  for (let p = 0; p < HW; p++) for (let k = 0; k < K; k++) M[p * K + k] = A[p * K + k] - mean[k];
  const proj = new Float64Array(HW);
  if (HW <= K) {
    // Gram matrix M M^T (HW x HW): its top eigenvector u gives M v1 = sqrt(lambda) u.
    const n = HW, C = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += M[i * K + k] * M[j * K + k];
        C[i * n + j] = s; C[j * n + i] = s;
      }
    }
    const { value, vector } = topEigen(C, n);
    const sc = Math.sqrt(Math.max(0, value));
    for (let i = 0; i < n; i++) proj[i] = sc * vector[i];
  } else {
    // Covariance M^T M (K x K): its top eigenvector is v1.
    const n = K, C = new Float64Array(n * n);
    for (let p = 0; p < HW; p++) {
      for (let i = 0; i < n; i++) {
        const mi = M[p * K + i];
        if (mi === 0) continue;
        for (let j = 0; j <= i; j++) C[i * n + j] += mi * M[p * K + j];
      }
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) C[j * n + i] = C[i * n + j];
    const { vector } = topEigen(C, n);
    for (let p = 0; p < HW; p++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += M[p * K + k] * vector[k];
      proj[p] = s;
    }
  }
  // Sign: correlate positively with the channel-mean of A.
  let cm = 0;
  const chMean = new Float64Array(HW);
  for (let p = 0; p < HW; p++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += A[p * K + k];
    chMean[p] = s / K; cm += chMean[p];
  }
  cm /= HW;
  let dot = 0;
  for (let p = 0; p < HW; p++) dot += proj[p] * (chMean[p] - cm); // proj has zero mean already
  if (dot < 0) for (let p = 0; p < HW; p++) proj[p] = -proj[p];
  return proj;
}

// Vanilla gradient saliency (Simonyan et al., arXiv 1312.6034): S_ij = max_c |d y / d x_ijc| (input NHWC).
export function saliency(g, h, w) {
  if (g.length !== h * w * 3) throw new Error(`saliency: ${g.length} values, expected ${h}x${w}x3`);
  const out = new Float64Array(h * w);
  for (let p = 0; p < h * w; p++) out[p] = Math.max(Math.abs(g[3 * p]), Math.abs(g[3 * p + 1]), Math.abs(g[3 * p + 2]));
  return out;
}

/** The gradient-based CAM methods by their project names: (A, G, shape) -> Float64Array(H*W). */
export const METHODS = Object.freeze({
  gradcam, 'gradcam++': gradcamPlusPlus, hirescam, xgradcam, layercam,
  eigencam: (A, G, shape) => eigencam(A, shape),
});

/**
 * Largest eigenvalue and its unit eigenvector of a symmetric n x n matrix (row-major Float64Array):
 * Householder tridiagonalisation + implicit QL (tred2/tql2, after EISPACK via JAMA).
 */
export function topEigen(Cflat, n) {
  const V = [];
  for (let i = 0; i < n; i++) V.push(Float64Array.from(Cflat.subarray(i * n, (i + 1) * n)));
  const d = new Float64Array(n), e = new Float64Array(n);
  if (n === 1) return { value: V[0][0], vector: Float64Array.of(1) };
  // tred2
  for (let j = 0; j < n; j++) d[j] = V[n - 1][j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0, hh = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) { d[j] = V[i - 1][j]; V[i][j] = 0; V[j][i] = 0; }
    } else {
      for (let k = 0; k < i; k++) { d[k] /= scale; hh += d[k] * d[k]; }
      let f = d[i - 1];
      let g = Math.sqrt(hh);
      if (f > 0) g = -g;
      e[i] = scale * g;
      hh -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j][i] = f;
        g = e[j] + V[j][j] * f;
        for (let k = j + 1; k <= i - 1; k++) { g += V[k][j] * d[k]; e[k] += V[k][j] * f; }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) { e[j] /= hh; f += e[j] * d[j]; }
      const h2 = f / (hh + hh);
      for (let j = 0; j < i; j++) e[j] -= h2 * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j]; g = e[j];
        for (let k = j; k <= i - 1; k++) V[k][j] -= f * e[k] + g * d[k];
        d[j] = V[i - 1][j];
        V[i][j] = 0;
      }
    }
    d[i] = hh;
  }
  for (let i = 0; i < n - 1; i++) {
    V[n - 1][i] = V[i][i];
    V[i][i] = 1;
    const hh = d[i + 1];
    if (hh !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k][i + 1] / hh;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k][i + 1] * V[k][j];
        for (let k = 0; k <= i; k++) V[k][j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) V[k][i + 1] = 0;
  }
  for (let j = 0; j < n; j++) { d[j] = V[n - 1][j]; V[n - 1][j] = 0; }
  V[n - 1][n - 1] = 1;
  e[0] = 0;
  // tql2
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0, tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) { if (Math.abs(e[m]) <= eps * tst1) break; m++; }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 200) throw new Error('topEigen: no convergence');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let hh = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= hh;
        f += hh;
        p = d[m];
        let c = 1, c2 = c, c3 = c;
        const el1 = e[l + 1];
        let s = 0, s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2; c2 = c; s2 = s;
          g = c * e[i];
          hh = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = hh + s * (c * g + s * d[i]);
          for (let k = 0; k < n; k++) {
            hh = V[k][i + 1];
            V[k][i + 1] = s * V[k][i] + c * hh;
            V[k][i] = c * V[k][i] - s * hh;
          }
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  let best = 0;
  for (let i = 1; i < n; i++) if (d[i] > d[best]) best = i;
  const vec = new Float64Array(n);
  for (let k = 0; k < n; k++) vec[k] = V[k][best];
  return { value: d[best], vector: vec };
}
