// page.mjs - the benchmark page's code (tools/bench/page.html), driven step by step by
// tools/bench/bench.mjs through page.evaluate(): every timing is taken here, in the page.
//   peak()            the wasm SIMD ceiling (peak.mjs) in Web Workers of this page
//   ours*()           this project's threaded wasm core (web/core.js on the build the package
//                     would take here: build/wasm-relaxed where relaxed SIMD validates, else
//                     build/wasm-mt; web/index.js chooseBuild), main thread
//   tf*()             TF.js 4.22 with its wasm backend (threaded SIMD), main thread, on the same
//                     Keras Xception built with tf.layers (tests/oracle/xception.mjs) and weights
//   ort*()            ONNX Runtime Web, wasm execution provider (threaded SIMD), main thread, on
//                     the same network written as ONNX from the same weights (onnx.mjs)
import { Core } from '/web/core.js';
import { chooseBuild, detectFeatures } from '/web/index.js';
import { buildXception } from '/tests/oracle/xception.mjs';
import { benchTensor, SIZE } from './input.mjs';

const tf = globalThis.tf;
const now = () => performance.now();
const X = benchTensor();

// ---- the machine's ceiling ------------------------------------------------------------------
function inWorker(worker, msg) {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e) => (e.data.error ? reject(new Error(e.data.error)) : resolve(e.data));
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage(msg);
  });
}

/** Sweep the number of independent chains on one worker thread; then `threads` workers at
 *  once with the best chain count. GFLOP/s (best of `reps` timed calls of about `ms` each). */
export async function peak({ counts, unroll = 4, reps = 7, ms = 60, threads = 2, op = 'muladd' }) {
  const workers = Array.from({ length: threads }, () => new Worker('/tools/bench/peak-worker.mjs', { type: 'module' }));
  try {
    const sweep = [];
    for (const chains of counts) sweep.push(await inWorker(workers[0], { chains, unroll, reps, ms, op }));
    const best = sweep.reduce((a, b) => (b.gflops > a.gflops ? b : a));
    const together = await Promise.all(workers.map((w) => inWorker(w, { chains: best.chains, unroll, reps, ms, op })));
    return {
      op,
      sweep: sweep.map(({ chains, gflops }) => ({ chains, gflops })),
      per_thread_gflops: best.gflops, best_chains: best.chains, unroll,
      concurrent: together.map((r) => r.gflops), concurrent_total_gflops: together.reduce((a, r) => a + r.gflops, 0),
      hardware_concurrency: navigator.hardwareConcurrency,
    };
  } finally {
    workers.forEach((w) => w.terminate());
  }
}

// ---- this project ---------------------------------------------------------------------------
let core = null; // the build the package takes here
const others = {}; // folder -> Core: another build, timed beside it (the SIMD build next to the relaxed one)

/** What the package would load here (threaded): {dir, build, relaxedSimd}. */
export function oursBuild() {
  const f = detectFeatures();
  return { ...chooseBuild(f, { threaded: true }), relaxedSimd: f.relaxedSimd };
}

/** Instantiate and load the build the package takes here, or with `folder` another one. */
export async function oursInit({ weightsUrl, threads, folder }) {
  const bytes = new Uint8Array(await (await fetch(weightsUrl)).arrayBuffer());
  const chosen = oursBuild();
  const build = folder ? (folder === 'wasm-relaxed' ? 'relaxed' : 'simd') : chosen.build;
  folder ??= chosen.dir;
  const dir = `/build/${folder}/`;
  const t0 = now();
  const { default: factory } = await import(`${dir}gradcam.mjs`);
  const c = await Core.create(factory, { locateFile: (f) => dir + f, mainScriptUrlOrBlob: `${dir}gradcam.mjs` });
  const t1 = now();
  c.load(bytes, { threads });
  const t2 = now();
  if (folder === chosen.dir) core = c;
  else others[folder] = c;
  return { instantiate_ms: t1 - t0, load_ms: t2 - t1, threads: c.threads(), version: c.version(),
    build, dir: folder, arithmetic: c.arithmetic(), cross_origin_isolated: globalThis.crossOriginIsolated === true };
}

/** One forward pass of the chosen build (or of the other build in `folder`): ms. */
export function oursForward(folder) {
  const c = folder ? others[folder] : core;
  const t0 = now();
  c.forwardTensor(X, SIZE, SIZE);
  return now() - t0;
}

/** Our logits for the benchmark input (after a forward pass), to check the others against. */
export function oursLogits() {
  core.forwardTensor(X, SIZE, SIZE);
  return Array.from(core.logits());
}

export function oursTop1() {
  const l = core.logits();
  let b = 0;
  for (let i = 1; i < l.length; i++) if (l[i] > l[b]) b = i;
  return { index: b, logit: l[b] };
}

/** Forward, then the explanation: [forward ms, explain ms]. */
export function oursExplain({ method, layer, params = {}, metrics = 0 }) {
  const t0 = now();
  core.forwardTensor(X, SIZE, SIZE);
  const t1 = now();
  const map = core.explain({ method, layer, ...params });
  if (metrics) core.metrics(map, map.classIndex, { steps: metrics });
  return [t1 - t0, now() - t1];
}

export function oursHeapBytes() { return core.M.HEAPU8.buffer.byteLength; }

// ---- TF.js ------------------------------------------------------------------------------------
let model = null, x4 = null, sub14 = null, head14 = null, mask = null, tfInfo = null;

export async function tfInit({ weightsUrl, threads }) {
  const t0 = now();
  // tf.wasm sizes its XNNPACK thread pool from setThreadsCount(n), but its C++ side (4.22,
  // init_with_threads_count) caps n at navigator.hardwareConcurrency / 2, read when the module
  // starts: 1 on a 2-core machine. So the page reports twice the thread count wanted while the
  // backend starts, and getThreadsCount() below checks what it took.
  tf.wasm.setThreadsCount(threads);
  const realHc = navigator.hardwareConcurrency;
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: Math.max(realHc, 2 * threads), configurable: true });
  tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  if (!(await tf.setBackend('wasm'))) throw new Error('TF.js could not start its wasm backend');
  await tf.ready();
  delete navigator.hardwareConcurrency; // back to the real value (the prototype's getter)
  const t1 = now();
  const multithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  model = buildXception(SIZE, SIZE);
  // the weights, in model.weights order, as written by tools/bench/bench.mjs from the same .h5
  const manifest = await (await fetch(`${weightsUrl}.json`)).json();
  const buf = await (await fetch(`${weightsUrl}.bin`)).arrayBuffer();
  const mw = model.weights;
  if (manifest.length !== mw.length) throw new Error(`${manifest.length} weights for ${mw.length} model weights`);
  let off = 0;
  const tensors = manifest.map((m, i) => {
    const n = m.shape.reduce((a, b) => a * b, 1);
    if (m.shape.join() !== mw[i].shape.join()) throw new Error(`weight ${i} (${m.name}): shape ${m.shape} vs ${mw[i].shape}`);
    const t = tf.tensor(new Float32Array(buf, off, n), m.shape, 'float32');
    off += 4 * n;
    return t;
  });
  model.setWeights(tensors);
  tensors.forEach((t) => t.dispose());
  x4 = tf.tensor4d(X, [1, SIZE, SIZE, 3]);
  // Grad-CAM at block14 as TF.js users write it: a model up to the layer, and the head
  // (global pooling + dense) applied to its output under tf.grad
  sub14 = tf.model({ inputs: model.inputs, outputs: model.getLayer('block14_sepconv2_act').output });
  const gap = model.getLayer('avg_pool'), dense = model.getLayer('predictions');
  head14 = (a) => dense.apply(gap.apply(a));
  tfInfo = {
    backend: tf.getBackend(), threads: tf.wasm.getThreadsCount(), multithread, simd,
    threads_how: `setThreadsCount(${threads}) with navigator.hardwareConcurrency reported as ${Math.max(realHc, 2 * threads)} (real ${realHc}) while the backend started`,
    version: tf.version.tfjs, init_ms: t1 - t0, build_ms: now() - t1,
  };
  return tfInfo;
}

export function tfForward() {
  const t0 = now();
  const y = model.predict(x4);
  y.dataSync();
  const ms = now() - t0;
  y.dispose();
  return ms;
}

export function tfTop1() {
  const y = model.predict(x4);
  const l = y.dataSync();
  y.dispose();
  let b = 0;
  for (let i = 1; i < l.length; i++) if (l[i] > l[b]) b = i;
  mask?.dispose();
  mask = tf.oneHot(tf.tensor1d([b], 'int32'), 1000).toFloat();
  return { index: b, logit: l[b] };
}

/** Grad-CAM at block14 (forward to the layer, d logit / d A through the head, weights, map). */
export function tfGradcam14() {
  const t0 = now();
  const cam = tf.tidy(() => {
    const a = sub14.predict(x4);
    const g = tf.grad((t) => head14(t).mul(mask).sum())(a);
    const w = g.mean([0, 1, 2]);
    return a.mul(w).sum(-1).relu();
  });
  cam.dataSync();
  cam.dispose();
  return now() - t0;
}

/** Saliency (input gradient): forward and backward through the whole network by tf.grad. */
export function tfSaliency() {
  const t0 = now();
  const s = tf.tidy(() => {
    const g = tf.grad((t) => model.apply(t).mul(mask).sum())(x4);
    return g.abs().max(-1);
  });
  s.dataSync();
  s.dispose();
  return now() - t0;
}

/**
 * The workaround that lets the wasm backend compute an input gradient of this model:
 *  - DepthwiseConv2dNative's gradient with respect to its input, written with forward ops the
 *    wasm backend has: a depthwise convolution of dy with the kernel rotated by 180 degrees
 *    (valid for Xception's depthwise convolutions: 3x3, stride 1, 'same', multiplier 1;
 *    anything else throws);
 *  - a Conv2DBackpropFilter kernel for the wasm backend that returns zeros: tf.layers' Conv2D
 *    goes through tf.fused.conv2d, whose custom gradient computes the filter's gradient eagerly
 *    although an input gradient drops it. (Checked against the cpu backend by tools/bench/bench.mjs.)
 */
export function tfInstallGradShims() {
  tf.registerGradient({
    kernelName: 'DepthwiseConv2dNative', inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [, filter] = saved;
      const s = [].concat(attrs.strides), d = [].concat(attrs.dilations ?? 1);
      if (s.some((v) => v !== 1) || d.some((v) => v !== 1) || attrs.pad !== 'same' || filter.shape[3] !== 1) {
        throw new Error('bench gradient shim: only stride 1, dilation 1, same padding, multiplier 1');
      }
      return {
        x: () => tf.depthwiseConv2d(dy, tf.reverse(filter, [0, 1]), 1, 'same'),
        filter: () => { throw new Error('bench gradient shim: no filter gradient'); },
      };
    },
  });
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter', backendName: 'wasm',
    kernelFunc: ({ backend, attrs }) => {
      const out = backend.makeOutput(attrs.filterShape, 'float32');
      backend.typedArrayFromHeap(out).fill(0);
      return out;
    },
  });
}

/** The saliency map (max |d logit / d x| over channels) as a Float32Array. */
function saliencyMap() {
  const s = tf.tidy(() => tf.grad((t) => model.apply(t).mul(mask).sum())(x4).abs().max(-1));
  const v = s.dataSync().slice();
  s.dispose();
  return v;
}

let cpuSaliency = null;

/** Input gradient on TF.js' cpu backend (the fallback when the wasm backend cannot): [ms]; the
 *  map is kept to check the wasm workaround against. */
export async function tfCpuSaliency() {
  await tf.setBackend('cpu');
  try {
    const t0 = now();
    cpuSaliency = saliencyMap();
    return [now() - t0];
  } finally {
    await tf.setBackend('wasm');
  }
}

/** Largest difference between the wasm backend's saliency map and the cpu backend's, relative to
 *  the cpu map's largest value (null without a cpu map). */
export function tfCheckSaliency() {
  if (!cpuSaliency) return null;
  const w = saliencyMap();
  let d = 0, m = 0;
  for (let i = 0; i < w.length; i++) { d = Math.max(d, Math.abs(w[i] - cpuSaliency[i])); m = Math.max(m, Math.abs(cpuSaliency[i])); }
  return d / m;
}

/** Try fn; {ok, ms} or {ok: false, error}. */
export function tfTry(name) {
  try {
    return { ok: true, ms: { tfSaliency, tfGradcam14 }[name]() };
  } catch (e) {
    return { ok: false, error: String(e && e.message || e) };
  }
}

export function tfHeapBytes() {
  const w = tf.backend().wasm;
  const mem = w && (w.wasmMemory || (w.HEAPU8 && { buffer: w.HEAPU8.buffer }));
  return { heap_bytes: mem ? mem.buffer.byteLength : null, tensors_bytes: tf.memory().numBytes };
}

// ---- ONNX Runtime Web -------------------------------------------------------------------------
let ort = null, session = null, ortInput = null;

export async function ortInit({ modelUrl, threads }) {
  const t0 = now();
  ort = await import('/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/'; // served here: no other origin
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  const model = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
  const t1 = now();
  session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const t2 = now();
  // the benchmark input in ONNX's NCHW layout, made once, outside the clock
  const nchw = new Float32Array(X.length);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) for (let c = 0; c < 3; c++) nchw[(c * SIZE + y) * SIZE + x] = X[(y * SIZE + x) * 3 + c];
  ortInput = { input: new ort.Tensor('float32', nchw, [1, 3, SIZE, SIZE]) };
  return { version: ort.env.versions?.web ?? ort.env.versions?.common ?? null, threads: ort.env.wasm.numThreads, simd: ort.env.wasm.simd ?? null,
    model_bytes: model.length, fetch_ms: t1 - t0, session_ms: t2 - t1, execution_provider: 'wasm' };
}

export async function ortForward() {
  const t0 = now();
  const out = await session.run(ortInput);
  const ms = now() - t0;
  out.logits.dispose?.();
  return ms;
}

export async function ortLogits() {
  const out = await session.run(ortInput);
  return Array.from(out.logits.data);
}
