// onnx.mjs - Keras Xception as an ONNX model, written from a float32 weights file of this
// project (.gcw), for the benchmark's ONNX Runtime Web contender (tools/bench/bench.mjs).
//
// A protobuf writer of the few ONNX messages needed (ModelProto, GraphProto, NodeProto,
// AttributeProto, TensorProto, ValueInfoProto; field numbers from onnx.proto) and the network
// written out as ONNX operators, opset 13, NCHW: Conv (group = channels for the depthwise
// halves of the separable convolutions), BatchNormalization (epsilon 0.001, as Keras), Relu,
// MaxPool, Add, GlobalAveragePool, Flatten, Gemm. TensorFlow's "same" padding becomes explicit
// pads (the extra row or column at the bottom and right, as TensorFlow puts it), so every
// contender computes the same function. The output is the logits (Keras' softmax left out, as
// this project's logits()). Input "input", [1, 3, 299, 299]; output "logits", [1, 1000].
import { readFileSync } from 'node:fs';

// ---- protobuf wire format ---------------------------------------------------------------------
const enc = new TextEncoder();

/** Unsigned varint of a non-negative integer below 2^53. */
function varint(n) {
  const out = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** A message under construction: an array of byte chunks. */
class Msg {
  constructor() { this.parts = []; this.length = 0; }
  _push(bytes) { this.parts.push(bytes); this.length += bytes.length; return this; }
  _tag(field, wire) { return this._push(Uint8Array.from(varint(field * 8 + wire))); }
  int(field, v) { return this._tag(field, 0)._push(Uint8Array.from(varint(v))); }
  float(field, v) { return this._tag(field, 5)._push(new Uint8Array(Float32Array.of(v).buffer)); }
  bytes(field, b) { return this._tag(field, 2)._push(Uint8Array.from(varint(b.length)))._push(b); }
  str(field, s) { return this.bytes(field, enc.encode(s)); }
  msg(field, m) { this._tag(field, 2)._push(Uint8Array.from(varint(m.length))); this.parts.push(...m.parts); this.length += m.length; return this; }
  ints(field, vs) { for (const v of vs) this.int(field, v); return this; } // unpacked repeated int64
  toBytes() {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) { out.set(p, o); o += p.length; }
    return out;
  }
}

const FLOAT = 1; // TensorProto.DataType
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 }; // AttributeProto.AttributeType

function attribute(name, v) {
  const a = new Msg().str(1, name);
  if (Array.isArray(v)) return a.ints(8, v).int(20, ATTR.INTS);
  if (Number.isInteger(v)) return a.int(3, v).int(20, ATTR.INT);
  return a.float(2, v).int(20, ATTR.FLOAT);
}

function node(op, inputs, outputs, attrs = {}) {
  const n = new Msg();
  for (const i of inputs) n.str(1, i);
  for (const o of outputs) n.str(2, o);
  n.str(3, outputs[0]).str(4, op);
  for (const [k, v] of Object.entries(attrs)) n.msg(5, attribute(k, v));
  return n;
}

function tensor(name, dims, data) {
  return new Msg().ints(1, dims).int(2, FLOAT).str(8, name)
    .bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function valueInfo(name, dims) {
  const shape = new Msg();
  for (const d of dims) shape.msg(1, new Msg().int(1, d));
  const tt = new Msg().int(1, FLOAT).msg(2, shape);
  return new Msg().str(1, name).msg(2, new Msg().msg(1, tt));
}

// ---- the weights -------------------------------------------------------------------------------
/** Tensors of a float32 .gcw file (weights/README.md; a version 2 file's byte blobs are skipped):
 *  Map name -> {dims, data: Float32Array}. */
export function readGcw(path) {
  const b = readFileSync(path);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.toString('latin1', 0, 7) !== 'GCAMWTS') throw new Error(`${path} is not a weights file of this project`);
  const n = dv.getUint32(32, true);
  const dataOffset = Number(dv.getBigUint64(40, true));
  const out = new Map();
  for (let i = 0; i < n; i++) {
    const e = 64 + 128 * i;
    const name = b.toString('latin1', e, e + 80).replace(/\0.*$/s, '');
    if (dv.getUint32(e + 80, true) === 2) continue; // a byte blob of version 2 (__model__, __classes__), not a tensor
    if (dv.getUint32(e + 80, true) !== 0) throw new Error(`${path}: ${name} is not float32 (write the ONNX model from an f32 file)`);
    const dims = Array.from({ length: dv.getUint32(e + 84, true) }, (_, d) => dv.getUint32(e + 88 + 4 * d, true));
    const off = dataOffset + Number(dv.getBigUint64(e + 104, true));
    const count = Number(dv.getBigUint64(e + 112, true)) / 4;
    out.set(name, { dims, data: new Float32Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + off + 4 * count)) });
  }
  return out;
}

/** [out][kh][kw][in] (the project's layout) -> [out][in][kh][kw] (ONNX's). */
function ohwiToOihw({ dims: [o, h, w, i], data }) {
  const t = new Float32Array(data.length);
  for (let a = 0; a < o; a++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < i; c++) {
    t[((a * i + c) * h + y) * w + x] = data[((a * h + y) * w + x) * i + c];
  }
  return { dims: [o, i, h, w], data: t };
}

// ---- the network --------------------------------------------------------------------------------
/** TensorFlow's "same" padding of one axis: [before, after], the odd one after. */
function samePads(size, k, s) {
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + k - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * The ONNX model (bytes) of Keras Xception for a size x size input, from a float32 .gcw file.
 * @returns {{bytes: Uint8Array, nodes: number, initializers: number}}
 */
export function xceptionOnnx(gcwPath, size = 299) {
  const W = readGcw(gcwPath);
  const nodes = [];
  const inits = [];
  const take = (name) => {
    const t = W.get(name);
    if (!t) throw new Error(`${gcwPath}: no tensor ${name}`);
    return t;
  };
  const init = (name, { dims, data }) => { inits.push(tensor(name, dims, data)); return name; };
  let hw = size; // spatial size of the current tensor

  const conv = (x, name, { k, s = 1, same, depthwise = false, kernel }) => {
    const t = depthwise ? { dims: [kernel.dims[3], 1, k, k], data: ohwiToOihw({ dims: [1, k, k, kernel.dims[3]], data: kernel.data }).data }
      : kernel.dims[1] === 1 && kernel.dims[2] === 1 ? { dims: [kernel.dims[0], kernel.dims[3], 1, 1], data: kernel.data } : ohwiToOihw(kernel);
    const [pb, pa] = same ? samePads(hw, k, s) : [0, 0];
    const attrs = { kernel_shape: [k, k], strides: [s, s], pads: [pb, pb, pa, pa] };
    if (depthwise) attrs.group = t.dims[0];
    nodes.push(node('Conv', [x, init(`${name}.w`, t)], [name], attrs));
    hw = same ? Math.ceil(hw / s) : Math.floor((hw - k) / s) + 1;
    return name;
  };
  const bn = (x, name) => {
    const p = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((f) => init(`${name}/${f}`, take(`${name}/${f}`)));
    nodes.push(node('BatchNormalization', [x, ...p], [name], { epsilon: 0.001 }));
    return name;
  };
  const relu = (x, name) => { nodes.push(node('Relu', [x], [name])); return name; };
  const sep = (x, name) => {
    const d = conv(x, `${name}_dw`, { k: 3, same: true, depthwise: true, kernel: take(`${name}/depthwise_kernel`) });
    return conv(d, name, { k: 1, same: true, kernel: take(`${name}/pointwise_kernel`) });
  };
  const pool = (x, name) => {
    const [pb, pa] = samePads(hw, 3, 2);
    nodes.push(node('MaxPool', [x], [name], { kernel_shape: [3, 3], strides: [2, 2], pads: [pb, pb, pa, pa] }));
    hw = Math.ceil(hw / 2);
    return name;
  };
  const add = (a, b, name) => { nodes.push(node('Add', [a, b], [name])); return name; };

  let x = 'input';
  x = relu(bn(conv(x, 'block1_conv1', { k: 3, s: 2, kernel: take('block1_conv1/kernel') }), 'block1_conv1_bn'), 'block1_conv1_act');
  x = relu(bn(conv(x, 'block1_conv2', { k: 3, kernel: take('block1_conv2/kernel') }), 'block1_conv2_bn'), 'block1_conv2_act');
  for (const b of [2, 3, 4]) { // entry flow: two separable convolutions, a pool, a strided 1x1 residual
    const size0 = hw;
    let y = b === 2 ? x : relu(x, `block${b}_sepconv1_act`);
    y = bn(sep(y, `block${b}_sepconv1`), `block${b}_sepconv1_bn`);
    y = bn(sep(relu(y, `block${b}_sepconv2_act`), `block${b}_sepconv2`), `block${b}_sepconv2_bn`);
    y = pool(y, `block${b}_pool`);
    const after = hw;
    hw = size0;
    const r = bn(conv(x, `block${b}_residual`, { k: 1, s: 2, same: true, kernel: take(`block${b}_residual/kernel`) }), `block${b}_residual_bn`);
    hw = after;
    x = add(y, r, `block${b}_add`);
  }
  for (let b = 5; b <= 12; b++) { // middle flow: three separable convolutions and the identity
    let y = x;
    for (const k of [1, 2, 3]) y = bn(sep(relu(y, `block${b}_sepconv${k}_act`), `block${b}_sepconv${k}`), `block${b}_sepconv${k}_bn`);
    x = add(y, x, `block${b}_add`);
  }
  { // exit flow
    const size0 = hw;
    let y = bn(sep(relu(x, 'block13_sepconv1_act'), 'block13_sepconv1'), 'block13_sepconv1_bn');
    y = pool(bn(sep(relu(y, 'block13_sepconv2_act'), 'block13_sepconv2'), 'block13_sepconv2_bn'), 'block13_pool');
    const after = hw;
    hw = size0;
    const r = bn(conv(x, 'block13_residual', { k: 1, s: 2, same: true, kernel: take('block13_residual/kernel') }), 'block13_residual_bn');
    hw = after;
    x = add(y, r, 'block13_add');
  }
  x = relu(bn(sep(x, 'block14_sepconv1'), 'block14_sepconv1_bn'), 'block14_sepconv1_act');
  x = relu(bn(sep(x, 'block14_sepconv2'), 'block14_sepconv2_bn'), 'block14_sepconv2_act');
  nodes.push(node('GlobalAveragePool', [x], ['avg_pool']));
  nodes.push(node('Flatten', ['avg_pool'], ['avg_pool_flat'], { axis: 1 }));
  nodes.push(node('Gemm', ['avg_pool_flat', init('predictions/kernel', take('predictions/kernel')),
    init('predictions/bias', take('predictions/bias'))], ['logits'], { transB: 1 }));

  const graph = new Msg();
  for (const n of nodes) graph.msg(1, n);
  graph.str(2, 'xception');
  for (const t of inits) graph.msg(5, t);
  graph.msg(11, valueInfo('input', [1, 3, size, size]));
  graph.msg(12, valueInfo('logits', [1, 1000]));
  const model = new Msg().int(1, 8).str(2, 'xception-gradcam bench').msg(7, graph)
    .msg(8, new Msg().str(1, '').int(2, 13));
  return { bytes: model.toBytes(), nodes: nodes.length, initializers: inits.length };
}
