// engine.js - everything the worker does, with no transport and no DOM: instantiate one
// flavour of the WebAssembly core, load weights (project format, or Keras HDF5 converted with
// h5wasm), classify and explain RGBA pixels. worker.js wires it to postMessage; the Node tests
// drive it directly with both flavours.
import { Core } from './core.js';
import { kerasH5Tensors } from './convert.js';
import { checkExplainOptions, checkRenderOptions, ErrorCode, GradCamError, toGradCamError } from './errors.js';
import { imageKey } from './kept.js';

/** Threads are capped by the pthread pool the threaded build preallocates (PTHREAD_POOL_SIZE):
 *  a pool that has to grow while the worker blocks would deadlock in a browser. */
export const MAX_THREADS = 4;

const GCW_MAGIC = [0x47, 0x43, 0x41, 0x4d, 0x57, 0x54, 0x53, 0x00]; // "GCAMWTS\0"
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]; // "\x89HDF\r\n\x1a\n"
const startsWith = (u8, magic) => u8.length >= magic.length && magic.every((b, i) => u8[i] === b);

/** 'gcw' | 'h5' | 'unknown' from the first bytes. */
export function weightsFormat(u8) {
  if (startsWith(u8, GCW_MAGIC)) return 'gcw';
  if (startsWith(u8, HDF5_MAGIC)) return 'h5';
  return 'unknown';
}

function checkAbort(signal) {
  if (signal && signal.aborted) throw new GradCamError(ErrorCode.ABORTED, 'the operation was aborted');
}

const now = () => (globalThis.performance ? performance.now() : Date.now());

/** One sentence per method of the core, for pickers and tooltips (methods()). */
export const METHOD_DESCRIPTIONS = Object.freeze({
  gradcam: 'Grad-CAM: the layer\'s channels weighted by their average gradient, summed, negative values cut (Selvaraju et al. 2017).',
  'gradcam++': 'Grad-CAM++: channel weights from the positive gradients with per-pixel higher-order coefficients, better with several objects of the class (Chattopadhay et al. 2018).',
  hirescam: 'HiResCAM: gradients times activations element by element, summed over channels, so the map shows exactly what the score used (Draelos & Carin 2020).',
  xgradcam: 'XGrad-CAM: channel weights are the gradients averaged with the activations as weights (Fu et al. 2020).',
  layercam: 'LayerCAM: activations weighted pixel by pixel by their positive gradients, sharp at earlier layers too (Jiang et al. 2021).',
  eigencam: 'Eigen-CAM: the activations projected on their first principal component, no gradient and not specific to the class (Muhammad & Yeasin 2020).',
  scorecam: 'Score-CAM: the most active channels used as masks on the input, weighted by the class score of each masked image; no gradient, slow (Wang et al. 2020).',
  saliency: 'Saliency: the largest absolute gradient of the class score over the colour channels of each input pixel (Simonyan et al. 2014).',
  'guided-backprop': 'Guided backpropagation: the input gradient with ReLUs passing only positive gradients of positive inputs, shown in colour (Springenberg et al. 2015).',
  'guided-gradcam': 'Guided Grad-CAM: guided backpropagation multiplied by the upsampled Grad-CAM of the layer, shown in colour (Selvaraju et al. 2017).',
  smoothgrad: 'SmoothGrad: the input gradient averaged over noisy copies of the image, a less noisy saliency map (Smilkov et al. 2017).',
  'integrated-gradients': 'Integrated Gradients: the gradient averaged along the path from a black image to the input, times their difference (Sundararajan et al. 2017).',
});

/** Methods whose map is RGB (3 channels) rather than one value per pixel. */
const RGB_METHODS = ['guided-backprop', 'guided-gradcam'];

/** Let queued messages (an abort) in between the stages of a long call, then honour them. */
async function pause(signal) {
  await new Promise((resolve) => { setTimeout(resolve, 0); });
  checkAbort(signal);
}

/** RGBA bytes as an ImageData where there is one (browsers, workers), else {data, width, height}. */
function imageOf(u8, width, height) {
  const data = new Uint8ClampedArray(u8.buffer, u8.byteOffset, u8.length);
  return typeof ImageData === 'function' ? new ImageData(data, width, height) : { data, width, height, colorSpace: 'srgb' };
}

export class Engine {
  /**
   * @param {object} o
   * @param {Function} o.factory the flavour's Emscripten factory (default export of gradcam.mjs)
   * @param {WebAssembly.Module} o.wasmModule the compiled gradcam.wasm of that flavour
   * @param {'threaded'|'single'} o.mode
   * @param {number} o.threads threads for the forward pass (1 in single mode)
   * @param {boolean} [o.simd]
   * @param {'relaxed'|'simd'} [o.build] which build the factory is: relaxed SIMD (wasm-relaxed) or not
   * @param {object} [o.moduleOptions] extra Emscripten module options (locateFile, mainScriptUrlOrBlob)
   */
  static async create({ factory, wasmModule, mode, threads, simd = true, build = 'simd', moduleOptions = {} }) {
    let fail;
    const failed = new Promise((_, reject) => { fail = reject; });
    const opts = {
      ...moduleOptions,
      // instantiate the module compiled by the caller (so it can report download and compile
      // progress), and hand Emscripten the module too: its pthread workers need it
      instantiateWasm(imports, receive) {
        WebAssembly.instantiate(wasmModule, imports).then((inst) => receive(inst, wasmModule), fail);
        return {};
      },
      onAbort(what) { fail(new Error(`the WebAssembly module aborted: ${what}`)); },
    };
    let M;
    try {
      M = await Promise.race([factory(opts), failed]);
    } catch (e) {
      const err = toGradCamError(e);
      if (err.code === ErrorCode.OUT_OF_MEMORY) throw err;
      throw new GradCamError(ErrorCode.WASM_LOAD_FAILED, `could not start the WebAssembly module: ${e && e.message ? e.message : e}`);
    }
    return new Engine(M, mode, threads, simd, build);
  }

  constructor(M, mode, threads, simd, build = 'simd') {
    this.M = M;
    this.core = new Core(M);
    this.mode = mode;
    this.threadCount = mode === 'threaded' ? Math.max(1, Math.min(MAX_THREADS, threads | 0)) : 1;
    this.simd = simd;
    this.build = build;
    this._layers = null;
    this._methods = null;
    this._tail = Promise.resolve(); // explain and loadWeights run one at a time, in call order
    this._kept = null; // the image of the model's last forward pass: {key, pixels, width, height}
  }

  /** Run an async call after the ones before it: an explain yields between its stages, and
   *  another call's forward pass in between would change what it explains. */
  _serial(fn) {
    const p = this._tail.then(fn, fn);
    this._tail = p.then(() => {}, () => {});
    return p;
  }

  /** {wasmHeap: bytes of WebAssembly memory} */
  memory() {
    return { wasmHeap: this.core.heapBytes() };
  }

  info() {
    return { mode: this.mode, threads: this.threadCount, simd: this.simd, build: this.build, arithmetic: this.core.arithmetic(),
      version: this.core.version(), loaded: !!this.core.model };
  }

  layers() {
    if (!this._layers) this._layers = this.core.layers();
    return this._layers;
  }

  /** The core's explanation methods: [{name, usesLayer, channels, description}]. usesLayer says
   *  whether the `layer` option matters (the CAM family, and guided-gradcam for its Grad-CAM
   *  factor); channels is 3 for the RGB maps of the guided methods, else 1. */
  methods() {
    if (!this._methods) {
      this._methods = this.core.methods().map(({ name, usesLayer }) => ({
        name,
        usesLayer,
        channels: RGB_METHODS.includes(name) ? 3 : 1,
        description: METHOD_DESCRIPTIONS[name] || '',
      }));
    }
    return this._methods;
  }

  /** Colormap names of the core ('jet' first). */
  colormaps() {
    if (!this._colormaps) this._colormaps = this.core.colormaps();
    return this._colormaps;
  }

  setThreads(n) {
    if (!Number.isInteger(n) || n < 1) throw new GradCamError(ErrorCode.INVALID_ARGUMENT, `threads must be a positive integer, not ${n}`);
    this.threadCount = this.mode === 'threaded' ? Math.min(MAX_THREADS, n) : 1;
    this.forget();
    if (this.core.model) this._run(() => this.core.setThreads(this.threadCount));
    return this.threadCount;
  }

  /**
   * Load weights from their bytes: the project format, or Keras HDF5 (converted here).
   * @param {Uint8Array} bytes
   * @param {object} [o]
   * @param {'f16'|'f32'} [o.dtype='f16'] storage of weights converted from .h5
   * @param {() => Promise<object>} [o.h5wasm] imports h5wasm (only called for .h5 input)
   * @param {(p: {phase: string, loaded: number, total: number}) => void} [o.onProgress]
   * @param {AbortSignal} [o.signal]
   * @param {boolean} [o.keepConverted=false] also return the converted file (.h5 input only)
   * @returns {Promise<{format: 'gcw'|'h5', bytes: number, params: number, converted?: Uint8Array}>}
   */
  loadWeights(bytes, o = {}) {
    return this._serial(() => { this.forget(); return this._loadWeights(bytes, o); });
  }

  async _loadWeights(bytes, { dtype = 'f16', h5wasm, onProgress = () => {}, signal, keepConverted = false } = {}) {
    if (this.disposed) throw new GradCamError(ErrorCode.DISPOSED, 'this engine was disposed');
    const format = weightsFormat(bytes);
    let gcw = bytes;
    if (format === 'h5') {
      if (dtype !== 'f16' && dtype !== 'f32') throw new GradCamError(ErrorCode.INVALID_ARGUMENT, `dtype must be 'f16' or 'f32', not ${dtype}`);
      if (!h5wasm) throw new GradCamError(ErrorCode.H5WASM_UNAVAILABLE, 'Keras .h5 weights need h5wasm, which this environment does not provide');
      const mod = await h5wasm();
      checkAbort(signal);
      gcw = await this._convertH5(mod, bytes, dtype, onProgress, signal);
    }
    checkAbort(signal);
    onProgress({ phase: 'pack', loaded: 0, total: 1 });
    this._run(() => this.core.load(gcw, { threads: this.threadCount }));
    onProgress({ phase: 'pack', loaded: 1, total: 1 });
    const r = { format: format === 'h5' ? 'h5' : 'gcw', bytes: gcw.length, params: this.core.paramCount() };
    if (keepConverted && format === 'h5') r.converted = gcw; // a copy out of the wasm heap, transferable
    return r;
  }

  async _convertH5(mod, bytes, dtype, onProgress, signal) {
    const h5 = mod.default || mod;
    const Module = await h5.ready;
    const FS = Module.FS;
    const name = `/gradcam-weights-${Math.random().toString(36).slice(2)}.h5`;
    let file = null;
    try {
      FS.writeFile(name, bytes);
      try {
        file = new h5.File(name, 'r');
      } catch (e) {
        throw new GradCamError(ErrorCode.WEIGHTS_INVALID, `the HDF5 file cannot be read: ${e.message || e}`, 'HDF5');
      }
      const total = countTensors(file);
      let loaded = 0;
      onProgress({ phase: 'convert', loaded, total });
      const stream = (function* () {
        for (const t of kerasH5Tensors(file)) {
          checkAbort(signal);
          yield t;
          onProgress({ phase: 'convert', loaded: ++loaded, total });
        }
      })();
      try {
        return this.core.convert(stream, dtype);
      } catch (e) {
        // the core's own errors keep their codes (OUT_OF_MEMORY ...); what h5wasm or the
        // reader throws means the file is not Keras Xception weights
        const err = toGradCamError(e);
        if (err.code === ErrorCode.OUT_OF_MEMORY || err.code === ErrorCode.ABORTED) throw err;
        if (e && e.name === 'CoreError') throw new GradCamError(ErrorCode.WEIGHTS_INVALID, `not Keras Xception weights: ${e.message}`, e.code);
        throw new GradCamError(ErrorCode.WEIGHTS_INVALID, `not Keras Xception weights: ${e.message || e}`, 'KERAS_H5');
      }
    } finally {
      if (file) { try { file.close(); } catch { /* already closed */ } }
      try { FS.unlink(name); } catch { /* never written */ }
    }
  }

  /**
   * Forward pass on 8-bit RGBA pixels (any size; resized to 299x299 by the core).
   * @returns {{top: {index: number, name: string, prob: number, logit: number}[], logits: Float32Array, probs: Float32Array, timings: {forward: number}}}
   */
  classify(pixels, width, height, { topK = 5 } = {}) {
    if (this.disposed) throw new GradCamError(ErrorCode.DISPOSED, 'this engine was disposed');
    if (!Number.isInteger(topK) || topK < 1 || topK > 1000) {
      throw new GradCamError(ErrorCode.INVALID_ARGUMENT, `topK must be an integer in 1..1000, not ${topK}`);
    }
    checkImage(pixels, width, height);
    if (!this.core.model) throw new GradCamError(ErrorCode.NOT_LOADED, 'no weights are loaded: load weights before classifying');
    const { forward, key, reused } = this._forwardKept(pixels, width, height, 299);
    const logits = this.core.logits();
    const probs = this.core.probs();
    const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
    const top = order.slice(0, topK).map((index) => ({ index, name: this.core.className(index), prob: probs[index], logit: logits[index] }));
    return { top, logits, probs, imageKey: key, reusedForward: reused, timings: { forward } };
  }

  /**
   * Forward pass on 8-bit RGBA pixels, then for the class (or each of the topK best): the raw
   * map, its heatmap and overlay at the pixels' size, and optionally faithfulness metrics.
   * Between stages it yields to the event loop and stops with ABORTED once `signal` fired.
   * @param {Uint8Array|Uint8ClampedArray} pixels RGBA, width * height * 4 bytes
   * @param {number} width
   * @param {number} height
   * @param {object} [options] see checkExplainOptions (errors.js) and index.d.ts
   * @param {{signal?: AbortSignal}} [o]
   * @returns {Promise<object|object[]>} one result, or an array of topK results when topK is given
   */
  explain(pixels, width, height, options = {}, o = {}) {
    return this._serial(() => this._explain(pixels, width, height, options, o).catch((e) => {
      if (e && e.code !== ErrorCode.ABORTED) this.forget(); // a failed core call may have left another pass in the model
      throw e;
    }));
  }

  async _explain(pixels, width, height, options = {}, { signal, onProgress } = {}) {
    if (this.disposed) throw new GradCamError(ErrorCode.DISPOSED, 'this engine was disposed');
    const o = checkExplainOptions(options, {
      layers: this.layers().map((l) => l.name), methods: this.methods(), colormaps: this.colormaps(),
    });
    checkImage(pixels, width, height);
    if (!this.core.model) throw new GradCamError(ErrorCode.NOT_LOADED, 'no weights are loaded: load weights before explaining');
    checkAbort(signal);
    const key = imageKey(pixels, width, height, o.inputSize);
    const reused = !!this._kept && this._kept.key === key;
    const steps = stepsOf(o, reused);
    const step = stepReporter(onProgress, steps.length);
    if (!reused) step('forward');
    const { forward } = this._forwardKept(pixels, width, height, o.inputSize, key);
    const classes = this._run(() => this.core.topK(Math.max(5, o.topK ?? 1)));
    const probs = this.core.probs();
    const logits = this.core.logits();
    const explained = o.topK !== undefined ? classes.slice(0, o.topK).map((c) => c.index) : [o.classIndex ?? classes[0].index];
    const m = this.methods().find((x) => x.name === o.method);
    const results = [];
    for (const classIndex of explained) {
      await pause(signal);
      step('map', { classIndex, method: o.method }); // hook: the core's passes (Score-CAM, SmoothGrad, IG) will report here
      const t1 = now();
      const map = this._run(() => this.core.explain({ method: o.method, classIndex, layer: o.layer, ...o.methodOptions }));
      const t2 = now();
      const { heatmap, overlay } = this._run(() => this.core.render(map, pixels, width, height,
        { colormap: o.colormap, alpha: o.alpha, blend: o.blend, scale: o.scale, channels: 4 }));
      const timings = { forward, explain: t2 - t1, render: now() - t2 };
      const r = {
        classes, classIndex, className: this.core.className(classIndex), prob: probs[classIndex], logit: logits[classIndex],
        layer: m.usesLayer ? o.layer : 'input', method: o.method, imageKey: key, reusedForward: reused,
        cam: { width: map.width, height: map.height, channels: map.channels, data: map.data },
        heatmap: imageOf(heatmap, width, height), overlay: imageOf(overlay, width, height),
        timings,
      };
      if (o.metrics) {
        await pause(signal);
        step('metrics', { classIndex, passes: 2 * o.metrics.steps + 3 }); // hook: the core's passes will report here
        const t3 = now();
        r.metrics = { ...this._run(() => this.core.metrics(map, classIndex, o.metrics)), baseline: o.metrics.baseline };
        timings.metrics = now() - t3;
      }
      results.push(r);
    }
    step('done');
    return o.topK !== undefined ? results : results[0];
  }

  // ---- the kept pass, render, activations ---------------------------------------------
  /** Forward pass on the pixels unless the model's last one ran on the same pixels at the same
   *  input size (then nothing runs): {forward ms, key, reused}. A failed pass forgets. */
  _forwardKept(pixels, width, height, inputSize, key = imageKey(pixels, width, height, inputSize)) {
    if (this._kept && this._kept.key === key) return { forward: 0, key, reused: true };
    this._kept = null;
    const t0 = now();
    this._run(() => (inputSize === 299 ? this.core.forwardImage(pixels, width, height, 4)
      : this.core.forwardImage(pixels, width, height, 4, width * 4, inputSize)));
    this._kept = { key, pixels, width, height };
    return { forward: now() - t0, key, reused: false };
  }

  /** Forget the kept pass (the next call runs the network). */
  forget() { this._kept = null; }

  /** The pixels of the kept pass when its key is `key`, else null. */
  keptImage(key) {
    return this._kept && this._kept.key === key ? { data: this._kept.pixels, width: this._kept.width, height: this._kept.height } : null;
  }

  /**
   * Heatmap and overlay of a raw map (an explanation's `cam`) on RGBA pixels: no network pass.
   * @param {{width: number, height: number, channels: number, data: Float32Array}} cam
   * @returns {{heatmap, overlay, timings: {render: number}}}
   */
  render(cam, pixels, width, height, options = {}) {
    if (this.disposed) throw new GradCamError(ErrorCode.DISPOSED, 'this engine was disposed');
    const o = checkRenderOptions(options, this.colormaps());
    checkImage(pixels, width, height);
    if (!cam || !(cam.data instanceof Float32Array) || ![1, 3].includes(cam.channels) || !(cam.width >= 1 && cam.height >= 1)
      || cam.data.length !== cam.width * cam.height * cam.channels) {
      throw new GradCamError(ErrorCode.INVALID_ARGUMENT, 'cam must be {width, height, channels: 1 or 3, data: Float32Array of width * height * channels}');
    }
    const t0 = now();
    const { heatmap, overlay } = this._run(() => this.core.render(cam, pixels, width, height, { ...o, channels: 4 }));
    return { heatmap: imageOf(heatmap, width, height), overlay: imageOf(overlay, width, height), timings: { render: now() - t0 } };
  }

  /** A layer's activation for the pixels (the kept pass when it is theirs):
   *  {layer, shape: [1, H, W, C], data: Float32Array (NHWC), imageKey, reusedForward, timings}. */
  activation(pixels, width, height, layer, { inputSize = 299 } = {}) {
    return this._serial(() => {
      if (this.disposed) throw new GradCamError(ErrorCode.DISPOSED, 'this engine was disposed');
      if (!this.layers().some((l) => l.name === layer)) throw new GradCamError(ErrorCode.LAYER_UNKNOWN, `no layer named '${layer}' (see layers())`);
      checkImage(pixels, width, height);
      if (!this.core.model) throw new GradCamError(ErrorCode.NOT_LOADED, 'no weights are loaded: load weights first');
      try {
        const { forward, key, reused } = this._forwardKept(pixels, width, height, inputSize);
        const { shape, data } = this._run(() => this.core.activation(layer));
        return { layer, shape, data, imageKey: key, reusedForward: reused, timings: { forward } };
      } catch (e) {
        this.forget();
        throw e;
      }
    });
  }

  dispose() {
    this.disposed = true;
    try { this.core.free(); } catch { /* module already broken */ }
    const pt = this.M && this.M.PThread;
    if (pt && pt.terminateAllThreads) pt.terminateAllThreads();
  }

  // run a core call, turning what it throws into a GradCamError
  _run(fn) {
    if (this.disposed) throw new GradCamError(ErrorCode.DISPOSED, 'this engine was disposed');
    try {
      return fn();
    } catch (e) {
      throw toGradCamError(e);
    }
  }
}

/** The stages an explain runs, for its progress: the forward pass unless it is kept, then per
 *  class the map and (with metrics) the metrics. */
function stepsOf(o, reused) {
  const classes = o.topK ?? 1;
  return [...(reused ? [] : ['forward']), ...Array.from({ length: classes * (o.metrics ? 2 : 1) })];
}

/** onProgress({phase: 'explain', done, total, stage, ...}) before each stage and at the end. */
function stepReporter(onProgress, total) {
  let done = 0;
  return (stage, extra = {}) => {
    if (!onProgress) return;
    const p = { phase: 'explain', done: stage === 'done' ? total : done++, total, stage, ...extra };
    try { onProgress(p); } catch { /* the caller's bug must not stop the explanation */ }
  };
}

function countTensors(file) {
  try {
    const names = file.attrs.layer_names.value;
    let n = 0;
    for (const layer of typeof names === 'string' ? [names] : Array.from(names)) {
      const g = file.get(typeof layer === 'string' ? layer : new TextDecoder().decode(layer));
      const w = g && g.attrs && g.attrs.weight_names ? g.attrs.weight_names.value : [];
      n += typeof w === 'string' ? 1 : w.length;
    }
    return n;
  } catch {
    return 0; // kerasH5Tensors reports what is wrong
  }
}

/** Validate an RGBA pixel buffer before it reaches the core. */
export function checkImage(pixels, width, height) {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new GradCamError(ErrorCode.IMAGE_INVALID, `the image has no pixels (${width}x${height})`);
  }
  if (!pixels || typeof pixels.length !== 'number' || pixels.length !== width * height * 4) {
    throw new GradCamError(ErrorCode.IMAGE_INVALID, `expected ${width}x${height} RGBA pixels (${width * height * 4} bytes), got ${pixels ? pixels.length : pixels}`);
  }
}
