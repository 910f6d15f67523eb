// index.js - the public API: `import { GradCam } from 'xception-gradcam'`.
//
//   const gc = await GradCam.load({ weights: '/weights/xception.gcw' });
//   const { top } = await gc.classify(imageElement);
//   const { overlay } = await gc.explain(imageElement, { method: 'gradcam' });  // ImageData
//   gc.dispose();
//
// The page side only prepares inputs and keeps the queue: every computation runs in a
// dedicated module worker (worker.js), one call at a time, in the order the calls were made.
// A call waiting in the queue is dropped when its AbortSignal fires; the running one is told
// to stop: downloads and conversions stop between chunks and tensors; an explanation stops
// between its stages, and on a cross-origin isolated page between the core's passes too (a
// flag shared with the worker, protocol.js). With `restartOnAbort: ms`, a running call that has
// not stopped within ms of its abort has its worker replaced by a fresh one (same compiled
// module, same weights), so a long multi-pass call never holds up the queue.
import {
  aborted, checkClassOptions, checkExplainOptions, checkRenderOptions, checkSanityOptions, ErrorCode, GradCamError,
} from './errors.js';
import { buildUrls } from './builds.js';
import * as P from './protocol.js';
import { disposed, startWorker, WorkerCalls } from './queue.js';
import { imageMessage, labelsSource, weightsSource } from './sources.js';

export { ErrorCode, GradCamError };
export const { MAX_THREADS } = P;

// (module (func (result v128) v128.const 0)): valid only where WebAssembly SIMD is
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11]);

// (module (func (result v128) v128.const 0 v128.const 0 v128.const 0 f32x4.relaxed_madd)):
// valid only where WebAssembly relaxed SIMD is (the relaxed_madd opcode is 0xfd 0x105)
const V128_ZERO = [253, 12, ...new Array(16).fill(0)];
const RELAXED_SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 61, 1, 59, 0, ...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 253, 133, 2, 11]);

const validates = (bytes) => {
  try { return WebAssembly.validate(bytes); } catch { return false; }
};

/** What this browser offers: {wasm, simd, relaxedSimd, threads (SharedArrayBuffer +
 *  cross-origin isolation), worker, offscreen}. */
export function detectFeatures() {
  const wasm = typeof WebAssembly === 'object' && typeof WebAssembly.validate === 'function';
  const simd = wasm && validates(SIMD_PROBE);
  const relaxedSimd = simd && validates(RELAXED_SIMD_PROBE);
  const threads = typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true;
  const worker = typeof Worker === 'function';
  const offscreen = typeof OffscreenCanvas === 'function';
  return { wasm, simd, relaxedSimd, threads, worker, offscreen };
}

/**
 * The WebAssembly build to load, the one place that chooses it: {dir (its folder, builds.js),
 * mode, build}. Threaded: the relaxed SIMD build (wasm-relaxed/, fused multiply-add kernels)
 * where the engine validates relaxed SIMD and `relaxedSimd` is not false, else wasm-mt/; single
 * thread: wasm-st/. build is 'relaxed' or 'simd'.
 * @param {{relaxedSimd?: boolean}} features what detectFeatures() found
 * @param {{threaded: boolean, relaxedSimd?: boolean}} choice
 */
export function chooseBuild(features, { threaded, relaxedSimd = true }) {
  if (!threaded) return { dir: 'wasm-st', mode: 'single', build: 'simd' };
  if (relaxedSimd !== false && features.relaxedSimd) return { dir: 'wasm-relaxed', mode: 'threaded', build: 'relaxed' };
  return { dir: 'wasm-mt', mode: 'threaded', build: 'simd' };
}

const COOP_COEP_WARNING =
  'xception-gradcam: this page is not cross-origin isolated, so the single-thread WebAssembly build is used ' +
  '(slower). For the threaded build serve the page with the headers ' +
  '"Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" ' +
  '(check self.crossOriginIsolated), or pass threads: 1 to choose the single-thread build and silence this warning.';


export class GradCam extends WorkerCalls {
  /**
   * Start a worker, load the WebAssembly core and (optionally) the weights.
   * @param {import('./index.js').LoadOptions} [options]
   * @returns {Promise<GradCam>}
   */
  static async load(options = {}) {
    const {
      weights, labels, wasmBase, threads, onProgress, signal, dtype = 'f16', workerUrl, restartOnAbort = false, relaxedSimd,
    } = options;
    if (restartOnAbort !== false && !(typeof restartOnAbort === 'number' && restartOnAbort >= 0)) {
      throw new GradCamError(ErrorCode.INVALID_ARGUMENT, `restartOnAbort must be false or a number of milliseconds, not ${restartOnAbort}`);
    }
    if (signal && signal.aborted) throw aborted();
    const f = detectFeatures();
    if (!f.wasm || !f.worker || !f.offscreen) {
      throw new GradCamError(ErrorCode.UNSUPPORTED_BROWSER, 'this browser lacks WebAssembly, module Web Workers or OffscreenCanvas');
    }
    if (!f.simd) {
      throw new GradCamError(ErrorCode.UNSUPPORTED_BROWSER, 'this browser does not support WebAssembly SIMD (Chrome and Edge 91+, Firefox 114+, Safari 16.4+ do)');
    }
    if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
      throw new GradCamError(ErrorCode.INVALID_ARGUMENT, `threads must be a positive integer, not ${threads}`);
    }
    const hw = (globalThis.navigator && navigator.hardwareConcurrency) || 1;
    const wanted = Math.min(threads ?? Math.min(hw, MAX_THREADS), MAX_THREADS);
    const build = chooseBuild(f, { threaded: wanted > 1 && f.threads, relaxedSimd });
    const mode = build.mode;
    if (wanted > 1 && !f.threads) console.warn(COOP_COEP_WARNING);
    // the builds' files: the literals of builds.js (bundlers emit them), or under wasmBase
    let files;
    if (wasmBase === undefined) files = buildUrls();
    else {
      let base;
      try {
        base = new URL(wasmBase, globalThis.location?.href);
      } catch {
        throw new GradCamError(ErrorCode.INVALID_ARGUMENT, `wasmBase must be a URL (absolute, or relative to the page), not ${wasmBase}`);
      }
      if (!base.pathname.endsWith('/')) base.pathname += '/';
      files = buildUrls(base);
    }

    const flag = P.cancelFlag();
    const boot = { workerUrl, init: { files, ...build, threads: mode === 'threaded' ? wanted : 1, simd: f.simd, cancelFlag: flag } };
    const gc = new GradCam(startWorker(workerUrl), { dtype, restartOnAbort, boot, flag });
    try {
      const r = await gc._call('init', boot.init, { signal, onProgress });
      boot.wasmModule = r.wasmModule;
      Object.assign(boot.init, r.build); // the build the worker loaded (relaxed SIMD may have fallen back)
      gc._info = r.info;
      gc._layers = r.layers;
      gc._methods = r.methods;
      gc._colormaps = r.colormaps;
      if (weights != null) await gc.loadWeights(weights, { signal, onProgress, labels });
      return gc;
    } catch (e) {
      gc.dispose();
      throw e;
    }
  }

  /** @private use GradCam.load() */
  constructor(worker, defaults) {
    super(worker, defaults);
    this._images = new WeakMap(); // result -> the image it was computed from (render() sends it when the worker no longer keeps it)
    this._info = null;
    this._layers = [];
    this._methods = [];
    this._colormaps = [];
  }

  /**
   * Load (or replace) the model: a URL, ArrayBuffer, typed array, Blob or File, or an array of
   * files (a TF.js model.json and its shards, any order); a .gcw, or any Keras file (.h5,
   * .weights.h5, .keras, model.json), converted in the worker by the core, which recognises it
   * by its content. `labels`: the class names (a URL, bytes, a Blob or File, or an array of
   * strings). After a failed load no weights are loaded (classify gives NOT_LOADED) until a load
   * succeeds. With `keepConverted`, a Keras input also gives back the converted .gcw
   * (`converted`, an ArrayBuffer, class names included) to store and load next time.
   */
  loadWeights(weights, { signal, onProgress, dtype = this._defaults.dtype, labels, keepConverted = false } = {}) {
    // a restartable instance keeps what it loaded (a Keras file as its converted .gcw, a buffer as a Blob)
    const keep = this._defaults.restartOnAbort !== false;
    let source;
    let names;
    return this._call('weights', null, {
      signal, onProgress,
      prepare: () => {
        source = weightsSource(weights);
        names = labels == null ? null : labelsSource(labels);
        return { args: { source, labels: names, dtype, keepConverted: !!keepConverted || keep }, transfer: [] };
      },
    }).then((r) => {
      this._info = r.info;
      this._layers = r.layers;
      this._keptKey = null;
      if (keep) {
        const blob = (s) => (s && s.bytes ? { blob: new Blob([s.bytes]) } : s);
        this._weightsSource = r.converted ? { source: { blob: new Blob([r.converted]) }, labels: null }
          : { source: blob(source), labels: blob(names) };
      }
      const out = { format: r.format, bytes: r.bytes, params: r.params, model: r.model };
      if (r.converted && keepConverted) out.converted = r.converted.buffer;
      return out;
    });
  }

  /**
   * Classify an image.
   * @returns {Promise<{top: {index: number, name: string, prob: number, logit: number}[], logits: Float32Array, probs: Float32Array, timings: object}>}
   */
  classify(image, { topK, inputSize, signal } = {}) {
    if (this._disposed) return Promise.reject(disposed());
    const t0 = performance.now();
    try {
      const m = this._info && this._info.model;
      checkClassOptions({ topK, inputSize }, m ? m.classes : null, m ? m.inputSize[0] : null);
    } catch (e) {
      return Promise.reject(e);
    }
    return this._call('classify', null, {
      signal,
      prepare: async () => {
        const img = await imageMessage(image);
        return { args: { image: img.message, topK, inputSize }, transfer: img.transfer };
      },
    }).then((r) => {
      r.timings.total = performance.now() - t0;
      this._keptKey = r.imageKey;
      return r;
    });
  }

  /**
   * Explain why the network gave a class: forward pass, the method's raw map (`cam`), its
   * heatmap and the overlay on the image (ImageData at the image's size), optionally
   * faithfulness metrics. With `topK`, resolves to an array: one result per class, best first.
   * Options are checked before the call is queued (CLASS_OUT_OF_RANGE, LAYER_UNKNOWN,
   * METHOD_UNKNOWN, INVALID_ARGUMENT).
   * @returns {Promise<import('./index.js').ExplainResult | import('./index.js').ExplainResult[]>}
   */
  explain(image, options = {}) {
    if (this._disposed) return Promise.reject(disposed());
    const t0 = performance.now();
    let o;
    try {
      o = checkExplainOptions(options, this._known());
    } catch (e) {
      return Promise.reject(e);
    }
    return this._call('explain', null, {
      signal: options && options.signal,
      onProgress: options && options.onProgress,
      prepare: async () => {
        const img = await imageMessage(image);
        return { args: { image: img.message, options: o }, transfer: img.transfer };
      },
    }).then((r) => {
      const total = performance.now() - t0;
      for (const x of Array.isArray(r) ? r : [r]) {
        x.timings.total = total;
        this._keptKey = x.imageKey;
        this._images.set(x, image);
      }
      return r;
    });
  }

  /**
   * The sanity check of Adebayo et al. (2018): the maps of `methods` for one class (the best, or
   * classIndex) from the model, then from copies whose layers from each of `from` (top down) to
   * the output carry random weights, cascading; each map with its rank correlation to the
   * model's own (`similarity`). A map that stays similar does not depend on what the model learned.
   * @returns {Promise<{classIndex, className, seed, steps: {from: string|null, maps: {method, cam, heatmap, similarity}[]}[]}>}
   */
  sanityCheck(image, options = {}) {
    if (this._disposed) return Promise.reject(disposed());
    let o;
    try {
      checkSanityOptions(options, this._known());
      o = { ...options };
      delete o.signal;
      delete o.onProgress;
    } catch (e) {
      return Promise.reject(e);
    }
    return this._call('sanity', null, {
      signal: options.signal,
      onProgress: options.onProgress,
      prepare: async () => {
        const img = await imageMessage(image);
        return { args: { image: img.message, options: o }, transfer: img.transfer };
      },
    }).then((r) => { this._keptKey = null; return r; });
  }

  /** What the option checks need to know: the loaded model's layers, classes and input size. */
  _known() {
    const m = this._info && this._info.model;
    return {
      layers: this._layers.map((l) => l.name), methods: this._methods, colormaps: this._colormaps,
      classes: m ? m.classes : null, inputSize: m ? m.inputSize[0] : null,
    };
  }

  /**
   * Colour an explanation again (another colormap, alpha, blend or scale) with no network
   * pass: the worker keeps the image of its last forward pass; an explanation of another image
   * has that image sent again (the one it was computed from, or `image`).
   * @returns {Promise<{heatmap: ImageData, overlay: ImageData, timings: {render: number, total: number}}>}
   */
  render(explanation, options = {}) {
    if (this._disposed) return Promise.reject(disposed());
    let o;
    try {
      if (!explanation || !explanation.cam) throw new GradCamError(ErrorCode.INVALID_ARGUMENT, 'render() needs an explanation (a result of explain(), or {cam})');
      o = checkRenderOptions(options || {}, this._colormaps);
    } catch (e) {
      return Promise.reject(e);
    }
    const t0 = performance.now();
    const image = options.image ?? this._images.get(explanation);
    const { cam } = explanation;
    const send = (withImage) => this._call('render', null, {
      signal: options.signal,
      prepare: async () => {
        const img = withImage ? await imageMessage(image) : null;
        const args = { cam: { width: cam.width, height: cam.height, channels: cam.channels, data: cam.data }, imageKey: explanation.imageKey, image: img && img.message, options: o };
        return { args, transfer: img ? img.transfer : [] };
      },
    });
    const sendImage = image != null && (!explanation.imageKey || explanation.imageKey !== this._keptKey);
    return send(sendImage).catch((e) => {
      if (e.detail === 'IMAGE_NOT_KEPT' && image != null && !sendImage) return send(true);
      throw e;
    }).then((r) => { r.timings.total = performance.now() - t0; return r; });
  }

  /**
   * A layer's activation for an image (the worker's kept forward pass when it is that image's):
   * {layer, shape: [1, H, W, C], data: Float32Array (NHWC), imageKey, reusedForward, timings}.
   */
  activation(image, layer, { inputSize, signal } = {}) {
    if (this._disposed) return Promise.reject(disposed());
    if (!this._layers.some((l) => l.name === layer)) return Promise.reject(new GradCamError(ErrorCode.LAYER_UNKNOWN, `no layer named '${layer}' (see layers())`));
    try {
      checkClassOptions({ inputSize }, null, this._known().inputSize);
    } catch (e) {
      return Promise.reject(e);
    }
    return this._call('activation', null, {
      signal,
      prepare: async () => {
        const img = await imageMessage(image);
        return { args: { image: img.message, layer, inputSize }, transfer: img.transfer };
      },
    }).then((r) => { this._keptKey = r.imageKey; return r; });
  }

  /** Drop the worker's kept forward pass (the next call runs the network again). */
  forget({ signal } = {}) {
    this._keptKey = null;
    return this._call('forget', {}, { signal });
  }

  /** Change the number of threads (threaded build only; capped at 4). Resolves to the count used. */
  setThreads(threads, { signal } = {}) {
    return this._call('threads', { threads }, { signal }).then((r) => { this._info = r.info; return r.threads; });
  }

  /** Memory in use: {wasmHeap} (bytes of the worker's WebAssembly memory, which grows on demand
   *  up to 2 GB and never shrinks). Queued like every call. */
  memory({ signal } = {}) {
    return this._call('memory', {}, { signal });
  }

  /** The model's layers with their activation shapes at its input size ([1, H, W, C]; the
   *  head's [1, N]); the ImageNet model's before any model is loaded. */
  layers() { this._alive(); return this._layers.map((l) => ({ name: l.name, shape: l.shape.slice() })); }

  /** The core's explanation methods, in its registry's order: [{name, label, description,
   *  formula, reference, usesLayer, channels, needsClass, multiPass, params}]. */
  methods() { this._alive(); return this._methods.map((m) => ({ ...m, params: m.params.map((q) => ({ ...q })) })); }

  /** Colormap names for the heatmaps: jet, viridis, inferno, turbo, gray, diverging. */
  colormaps() { this._alive(); return this._colormaps.slice(); }

  /** {mode: 'threaded'|'single', threads, simd, build: 'relaxed'|'simd', arithmetic: 'fma'|'portable', version,
   *  loaded, model: {base, inputSize, classes, head, source, inferred} | null} */
  info() { this._alive(); const i = this._info; return { ...i, model: i.model && { ...i.model, inputSize: i.model.inputSize.slice() } }; }
}
