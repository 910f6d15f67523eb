// engine.js - everything the worker does, with no transport and no DOM: instantiate one
// flavour of the WebAssembly core, load a model (a .gcw, or any Keras file converted by the
// core's import API), classify and explain RGBA pixels. worker.js wires it to postMessage; the
// Node tests and tools drive it directly (tools/test/node-core.mjs) with both flavours.
import { Core } from './core.js';
import {
  checkAbort, checkClassOptions, checkExplainOptions, checkImage, checkRenderOptions, ErrorCode, GradCamError, noHead, toGradCamError,
} from './errors.js';
import { explainSteps, imageOf, now, pause, sanityCheck } from './explain.js';
import { imageKey } from './kept.js';
import { isGcw, mainFirst, ModelImport } from './import.js';
import { MAX_THREADS } from './protocol.js';

export { MAX_THREADS };

/**
 * Instantiate a flavour's Emscripten module from its compiled WebAssembly.Module (the worker
 * compiles it to report progress; Node reads the file): the one instantiation of the core.
 * Fails with WASM_LOAD_FAILED (or OUT_OF_MEMORY).
 */
export async function instantiate(factory, wasmModule, moduleOptions = {}) {
  let fail;
  const failed = new Promise((_, reject) => { fail = reject; });
  const opts = {
    ...moduleOptions,
    // hand Emscripten the compiled module too: its pthread workers need it
    instantiateWasm(imports, receive) {
      WebAssembly.instantiate(wasmModule, imports).then((inst) => receive(inst, wasmModule), fail);
      return {};
    },
    onAbort(what) { fail(new Error(`the WebAssembly module aborted: ${what}`)); },
  };
  try {
    return await Promise.race([factory(opts), failed]);
  } catch (e) {
    const err = toGradCamError(e);
    if (err.code === ErrorCode.OUT_OF_MEMORY) throw err;
    throw new GradCamError(ErrorCode.WASM_LOAD_FAILED, `could not start the WebAssembly module: ${e && e.message ? e.message : e}`);
  }
}

const YIELD_MS = 30; // a conversion lets messages (an abort) in this often

/** A queue of async functions: each one the returned function is given starts once the ones
 *  given before it have settled, and its promise is the function's. */
export function serializer() {
  let tail = Promise.resolve();
  return (fn) => {
    const p = tail.then(fn, fn);
    tail = p.then(() => {}, () => {});
    return p;
  };
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
    return new Engine(await instantiate(factory, wasmModule, moduleOptions), mode, threads, simd, build);
  }

  constructor(M, mode, threads, simd, build = 'simd') {
    this.M = M;
    this.core = new Core(M);
    this.mode = mode;
    this.threadCount = mode === 'threaded' ? Math.max(1, Math.min(MAX_THREADS, threads | 0)) : 1;
    this.simd = simd;
    this.build = build;
    this._layers = null;
    this._serialize = serializer(); // calls that run the network run one at a time, in call order
    this._kept = null; // the image of the model's last forward pass: {key, pixels, width, height}
  }

  /** Run an async call after the ones before it: an explain yields between its stages, and
   *  another call's forward pass in between would change what it explains. */
  _serial(fn) {
    return this._serialize(fn);
  }

  /** {wasmHeap: bytes of WebAssembly memory} */
  memory() {
    return { wasmHeap: this.core.heapBytes() };
  }

  /** {mode, threads, simd, version, loaded, model: {base, inputSize, classes, head, source, inferred} | null} */
  info() {
    const loaded = !!this.core.model;
    return {
      mode: this.mode, threads: this.threadCount, simd: this.simd, build: this.build, arithmetic: this.core.arithmetic(),
      version: this.core.version(), loaded, model: loaded ? this.core.modelInfo() : null,
    };
  }

  /** The loaded model's layers with their shapes at its input size (the ImageNet model's before any). */
  layers() {
    if (!this._layers) this._layers = this.core.layers();
    return this._layers;
  }

  /** The core's method registry: [{name, label, description, formula, reference, usesLayer,
   *  channels, needsClass, multiPass, params}] (description: its one-sentence summary). */
  methods() {
    return this.core.methods().map(({ summary, params, ...m }) => ({ ...m, description: summary, params: params.map((p) => ({ ...p })) }));
  }

  /** Colormap names of the core ('jet' first). */
  colormaps() {
    if (!this._colormaps) this._colormaps = this.core.colormaps();
    return this._colormaps;
  }

  /** The model's class count (0: no classifier). */
  classCount() { return this.core.model ? this.core.classCount() : 0; }

  setThreads(n) {
    if (!Number.isInteger(n) || n < 1) throw new GradCamError(ErrorCode.INVALID_ARGUMENT, `threads must be a positive integer, not ${n}`);
    this.threadCount = this.mode === 'threaded' ? Math.min(MAX_THREADS, n) : 1;
    this.forget();
    if (this.core.model) this._run(() => this.core.setThreads(this.threadCount));
    return this.threadCount;
  }

  /**
   * Load a model: a .gcw (loaded as it is) or any Keras file, converted here by the core's import
   * API one tensor at a time (Keras 1/2 .h5, .weights.h5, .keras, a TF.js model.json with its
   * shards in any order).
   * @param {Uint8Array | {name: string, bytes: Uint8Array}[]} source one file's bytes, or the files
   * @param {object} [o]
   * @param {'f16'|'f32'} [o.dtype='f16'] storage of converted weights
   * @param {Uint8Array} [o.labels] a class names file (one per line, a JSON list or object)
   * @param {(p: {phase: string, loaded: number, total: number}) => void} [o.onProgress]
   * @param {AbortSignal} [o.signal] honoured between tensors
   * @param {() => boolean} [o.cancelled] polled between tensors (the page's shared cancel flag)
   * @param {boolean} [o.keepConverted=false] also return the converted .gcw (Keras input only)
   * @returns {Promise<{format: string, bytes: number, params: number, model: object, converted?: Uint8Array}>}
   */
  loadWeights(source, o = {}) {
    return this._serial(() => {
      this.forget();
      this._layers = null;
      return this._loadWeights(source, o).catch((e) => { this.core.free(); this._layers = null; throw toGradCamError(e); });
    });
  }

  async _loadWeights(source, { dtype = 'f16', labels = null, onProgress = () => {}, signal, cancelled, keepConverted = false } = {}) {
    if (this.disposed) throw new GradCamError(ErrorCode.DISPOSED, 'this engine was disposed');
    if (dtype !== 'f16' && dtype !== 'f32') throw new GradCamError(ErrorCode.INVALID_ARGUMENT, `dtype must be 'f16' or 'f32', not ${dtype}`);
    const files = mainFirst(source instanceof Uint8Array ? [{ name: 'the weights file', bytes: source }] : source);
    if (!files.length) throw new GradCamError(ErrorCode.INVALID_ARGUMENT, 'no weights file was given');
    const pack = (fn) => {
      onProgress({ phase: 'pack', loaded: 0, total: 1 });
      this._run(fn);
      onProgress({ phase: 'pack', loaded: 1, total: 1 });
    };
    if (files.length === 1 && isGcw(files[0].bytes)) {
      checkAbort(signal, cancelled);
      pack(() => this.core.load(files[0].bytes, { threads: this.threadCount }));
      if (labels) this._run(() => this.core.setLabels(labels));
      return { format: 'gcw', bytes: files[0].bytes.length, params: this.core.paramCount(), model: this.core.modelInfo() };
    }
    this.core.free(); // no model while converting: a failed conversion leaves none
    const im = this._run(() => new ModelImport(this.M, files, labels));
    try {
      const total = this._run(() => im.start());
      const { format } = im.describe();
      onProgress({ phase: 'convert', loaded: 0, total });
      let t = now();
      for (let done = total === 0; !done;) {
        checkAbort(signal, cancelled);
        done = this._run(() => im.step());
        onProgress({ phase: 'convert', loaded: im.done, total });
        if (now() - t > YIELD_MS) { await pause(signal, cancelled); t = now(); }
      }
      checkAbort(signal, cancelled);
      const gcw = this._run(() => im.finishHeap(dtype));
      // the .gcw outside the module's memory too: the model frees its copy right after loading and
      // reads tensors back from this one (Core.loadHeap's file); `converted` is another copy,
      // transferred away. gcw.ptr is freed here until loadHeap takes it (onProgress may throw).
      let ptr = gcw.ptr, converted = null;
      try {
        const file = this.M.HEAPU8.slice(ptr, ptr + gcw.size);
        if (keepConverted) converted = file.slice();
        pack(() => {
          const p = ptr;
          ptr = 0;
          this.core.loadHeap(p, gcw.size, { threads: this.threadCount, file });
        });
      } finally {
        if (ptr) this.M._free(ptr);
      }
      const r = { format, bytes: gcw.size, params: this.core.paramCount(), model: this.core.modelInfo() };
      if (converted) r.converted = converted;
      return r;
    } finally {
      im.free();
    }
  }

  /**
   * Forward pass on 8-bit RGBA pixels (any size; resized to the model's input size by the core).
   * @returns {{top: {index: number, name: string, prob: number, logit: number}[], logits: Float32Array, probs: Float32Array, timings: {forward: number}}}
   */
  classify(pixels, width, height, { topK, inputSize } = {}) {
    if (this.disposed) throw new GradCamError(ErrorCode.DISPOSED, 'this engine was disposed');
    checkImage(pixels, width, height);
    if (!this.core.model) throw new GradCamError(ErrorCode.NOT_LOADED, 'no weights are loaded: load weights before classifying');
    const o = checkClassOptions({ topK, inputSize }, this.classCount(), this.info().model.inputSize[0]);
    if (!this.classCount()) throw noHead();
    const { forward, key, reused } = this._forwardKept(pixels, width, height, o.inputSize);
    const all = this._run(() => this.core.topK(this.classCount()));
    const logits = this.core.logits();
    const probs = this.core.probs();
    return { top: all.slice(0, o.topK ?? Math.min(5, all.length)), logits, probs, imageKey: key, reusedForward: reused, timings: { forward } };
  }

  /**
   * Forward pass on 8-bit RGBA pixels, then for the class (or each of the topK best): the raw
   * map, its heatmap and overlay at the pixels' size, optionally faithfulness metrics and the
   * channel weights (detail). Between stages it yields to the event loop and stops with ABORTED
   * once `signal` fired; inside a multi-pass stage the core stops between passes once
   * `cancelled()` says so, and onProgress hears of every pass.
   * @param {Uint8Array|Uint8ClampedArray} pixels RGBA, width * height * 4 bytes
   * @param {object} [options] see checkExplainOptions (errors.js) and index.d.ts
   * @param {{signal?: AbortSignal, cancelled?: () => boolean, onProgress?: Function}} [o]
   * @returns {Promise<object|object[]>} one result, or an array of topK results when topK is given
   */
  explain(pixels, width, height, options = {}, o = {}) {
    return this._serial(() => {
      this._alive();
      const opts = checkExplainOptions(options, this.known());
      checkImage(pixels, width, height);
      return explainSteps(this, pixels, width, height, opts, o).catch((e) => {
        this.forget(); // a cancelled or failed core call may have left another pass in the model
        throw toGradCamError(e);
      });
    });
  }

  /**
   * Adebayo et al.'s sanity check: the maps of `methods` for one class, from the model and from
   * copies of it whose layers from each of `from` to the output are randomised (a second model
   * in this module, freed after each step).
   */
  sanityCheck(pixels, width, height, options = {}, o = {}) {
    return this._serial(() => {
      this._alive();
      checkImage(pixels, width, height);
      return sanityCheck(this, pixels, width, height, options, o).catch((e) => { this.forget(); throw toGradCamError(e); });
    });
  }

  /** What the option checks need to know of the model: layers, methods, colormaps, classes, input size. */
  known() {
    const model = this.core.model ? this.core.modelInfo() : null;
    return {
      layers: this.layers().map((l) => l.name), methods: this.methods(), colormaps: this.colormaps(),
      classes: model ? model.classes : null, inputSize: model ? model.inputSize[0] : null,
    };
  }

  // ---- the kept pass, render, activations ---------------------------------------------
  /** Forward pass on the pixels unless the model's last one ran on the same pixels at the same
   *  input size (then nothing runs): {forward ms, key, reused}. A failed pass forgets. */
  _forwardKept(pixels, width, height, inputSize, key = imageKey(pixels, width, height, inputSize)) {
    if (this._kept && this._kept.key === key) return { forward: 0, key, reused: true };
    this._kept = null;
    const t0 = now();
    this._run(() => this.core.forwardImage(pixels, width, height, 4, width * 4, inputSize));
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
    this._alive();
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
  activation(pixels, width, height, layer, { inputSize } = {}) {
    return this._serial(() => {
      this._alive();
      if (!this.layers().some((l) => l.name === layer)) throw new GradCamError(ErrorCode.LAYER_UNKNOWN, `no layer named '${layer}' (see layers())`);
      checkImage(pixels, width, height);
      if (!this.core.model) throw new GradCamError(ErrorCode.NOT_LOADED, 'no weights are loaded: load weights first');
      const size = checkClassOptions({ inputSize }, this.classCount(), this.known().inputSize).inputSize;
      try {
        const { forward, key, reused } = this._forwardKept(pixels, width, height, size);
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

  _alive() {
    if (this.disposed) throw new GradCamError(ErrorCode.DISPOSED, 'this engine was disposed');
  }

  // run a core call, turning what it throws into a GradCamError
  _run(fn) {
    this._alive();
    try {
      return fn();
    } catch (e) {
      throw toGradCamError(e);
    }
  }
}
