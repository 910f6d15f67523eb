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
// to stop (downloads and conversions stop; a forward pass or an explanation step finishes,
// then the call stops and its result is dropped). With `restartOnAbort: ms`, a running call
// that has not stopped within ms of its abort has its worker replaced by a fresh one (same
// compiled module, same weights), so a long multi-pass explanation never holds up the queue.
import { checkExplainOptions, checkRenderOptions, ErrorCode, GradCamError } from './errors.js';

export { ErrorCode, GradCamError };

/** Largest thread count used (the threaded build's preallocated pthread pool). */
export const MAX_THREADS = 4;

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
 * The WebAssembly build to load, the one place that chooses it: {dir (folder under wasmBase),
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

const aborted = () => new GradCamError(ErrorCode.ABORTED, 'the operation was aborted');
const disposed = () => new GradCamError(ErrorCode.DISPOSED, 'this GradCam instance was disposed');

export class GradCam {
  /**
   * Start a worker, load the WebAssembly core and (optionally) the weights.
   * @param {import('./index.js').LoadOptions} [options]
   * @returns {Promise<GradCam>}
   */
  static async load(options = {}) {
    const {
      weights, wasmBase, threads, onProgress, signal, dtype = 'f16', h5wasmUrl, workerUrl, restartOnAbort = false, relaxedSimd,
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
    const base = new URL(wasmBase ?? './', wasmBase === undefined ? import.meta.url : globalThis.location?.href ?? import.meta.url);
    if (!base.href.endsWith('/')) base.pathname += '/';

    const boot = { workerUrl, init: { wasmBase: base.href, ...build, threads: mode === 'threaded' ? wanted : 1, simd: f.simd } };
    const gc = new GradCam(startWorker(workerUrl), { dtype, h5wasmUrl, restartOnAbort, boot });
    try {
      const r = await gc._call('init', boot.init, { signal, onProgress });
      boot.wasmModule = r.wasmModule;
      Object.assign(boot.init, r.build); // the build the worker loaded (relaxed SIMD may have fallen back)
      gc._info = r.info;
      gc._layers = r.layers;
      gc._methods = r.methods;
      gc._colormaps = r.colormaps;
      if (weights != null) await gc.loadWeights(weights, { signal, onProgress });
      return gc;
    } catch (e) {
      gc.dispose();
      throw e;
    }
  }

  /** @private use GradCam.load() */
  constructor(worker, defaults) {
    this._defaults = defaults;
    this._images = new WeakMap(); // result -> the image it was computed from (render() sends it when the worker no longer keeps it)
    this._weightsSource = null; // what the last successful loadWeights() loaded, for a restarted worker
    this._attach(worker);
    this._queue = []; // calls not yet sent: {id, op, args, prepare, resolve, reject, signal, onProgress}
    this._current = null; // the call the worker is running
    this._nextId = 1;
    this._disposed = false;
    this._info = null;
    this._layers = [];
    this._methods = [];
    this._colormaps = [];
  }

  _attach(worker) {
    this._worker = worker;
    worker.onmessage = (ev) => this._onMessage(ev.data);
    worker.onerror = (ev) => {
      if (ev.preventDefault) ev.preventDefault();
      this._fail(new GradCamError(ErrorCode.WORKER_FAILED, `the worker failed: ${ev.message || 'it could not be started (check that worker.js is served as JavaScript)'}`));
    };
    worker.onmessageerror = () => this._fail(new GradCamError(ErrorCode.WORKER_FAILED, 'a message from the worker could not be read'));
  }

  /**
   * Load (or replace) the weights: a URL, ArrayBuffer, typed array, Blob or File, in the
   * project format (.gcw) or the official Keras .h5 (converted here, with h5wasm).
   * After a failed load no weights are loaded (classify gives NOT_LOADED) until a load succeeds.
   * With `keepConverted`, a Keras .h5 input also gives back the converted project-format file
   * (`converted`, an ArrayBuffer), to store and load next time without converting again.
   */
  loadWeights(weights, { signal, onProgress, dtype = this._defaults.dtype, h5wasmUrl = this._defaults.h5wasmUrl, keepConverted = false } = {}) {
    // a restartable instance keeps what it loaded (a .h5 as its converted file, a buffer as a Blob)
    const keep = this._defaults.restartOnAbort !== false;
    let source;
    return this._call('weights', null, {
      signal, onProgress,
      prepare: () => {
        source = weightsSource(weights);
        return { args: { source, dtype, h5wasmUrl, keepConverted: !!keepConverted || keep }, transfer: [] };
      },
    }).then((r) => {
      this._info = r.info;
      this._keptKey = null;
      if (keep) {
        this._weightsSource = r.converted ? { blob: new Blob([r.converted]) }
          : source.bytes ? { blob: new Blob([source.bytes]) } : source;
      }
      const out = { format: r.format, bytes: r.bytes, params: r.params };
      if (r.converted && keepConverted) out.converted = r.converted.buffer;
      return out;
    });
  }

  /**
   * Classify an image.
   * @returns {Promise<{top: {index: number, name: string, prob: number, logit: number}[], logits: Float32Array, probs: Float32Array, timings: object}>}
   */
  classify(image, { topK = 5, signal } = {}) {
    const t0 = performance.now();
    return this._call('classify', null, {
      signal,
      prepare: async () => {
        const img = await imageMessage(image);
        return { args: { image: img.message, topK }, transfer: img.transfer };
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
      o = checkExplainOptions(options, {
        layers: this._layers.map((l) => l.name), methods: this._methods, colormaps: this._colormaps,
      });
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
  activation(image, layer, { inputSize = 299, signal } = {}) {
    if (this._disposed) return Promise.reject(disposed());
    if (!this._layers.some((l) => l.name === layer)) return Promise.reject(new GradCamError(ErrorCode.LAYER_UNKNOWN, `no layer named '${layer}' (see layers())`));
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

  /** Layer names with their activation shapes [1, H, W, C] for a 299x299 input. */
  layers() { this._alive(); return this._layers.map((l) => ({ name: l.name, shape: l.shape.slice() })); }

  /** The explanation methods: [{name, usesLayer, channels, description}], in the core's order. */
  methods() { this._alive(); return this._methods.map((m) => ({ ...m })); }

  /** Colormap names for the heatmaps: jet, viridis, inferno, turbo, gray, diverging. */
  colormaps() { this._alive(); return this._colormaps.slice(); }

  /** {mode: 'threaded'|'single', threads, simd, build: 'relaxed'|'simd', arithmetic: 'fma'|'portable', version, loaded} */
  info() { this._alive(); return { ...this._info }; }

  /** Free the module and end the worker (and its thread workers). Pending calls reject with DISPOSED. */
  dispose() {
    if (this._disposed) return;
    this._disposed = true;
    const err = disposed();
    for (const c of this._queue.splice(0)) c.reject(err);
    if (this._current) { this._current.reject(err); this._current = null; }
    this._worker.onmessage = null;
    this._worker.onerror = null;
    this._worker.terminate();
  }

  get disposed() { return this._disposed; }

  // ---- the queue ------------------------------------------------------------------------
  _alive() { if (this._disposed) throw disposed(); }

  _call(op, args, { signal, onProgress, prepare, front = false } = {}) {
    if (this._disposed) return Promise.reject(disposed());
    if (signal && signal.aborted) return Promise.reject(aborted());
    return new Promise((resolve, reject) => {
      const call = { id: this._nextId++, op, args, onProgress, signal, settled: false };
      // start preparing the input now (decoding an element into a bitmap can take a while);
      // it is sent in queue order all the same
      call.prepared = prepare ? Promise.resolve().then(prepare) : Promise.resolve({ args, transfer: [] });
      call.prepared.catch(() => {}); // reported when the call's turn comes
      const cleanup = () => { if (signal) signal.removeEventListener('abort', onAbort); };
      call.resolve = (v) => { if (!call.settled) { call.settled = true; cleanup(); resolve(v); } };
      call.reject = (e) => { if (!call.settled) { call.settled = true; cleanup(); reject(e); } };
      const onAbort = () => {
        const i = this._queue.indexOf(call);
        if (i >= 0) this._queue.splice(i, 1);
        else if (this._current === call) {
          this._worker.postMessage({ type: 'abort', id: call.id });
          this._restartIfStuck(call);
        }
        call.reject(aborted());
      };
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
      if (front) this._queue.unshift(call);
      else this._queue.push(call);
      this._pump();
    });
  }

  async _pump() {
    if (this._current || this._disposed || this._pumping) return;
    this._pumping = true;
    try {
      while (!this._current && this._queue.length && !this._disposed) {
        const call = this._queue[0];
        let prepared;
        try {
          prepared = await call.prepared;
        } catch (e) {
          if (this._queue[0] === call) this._queue.shift();
          call.reject(e instanceof GradCamError ? e : new GradCamError(ErrorCode.INVALID_ARGUMENT, e.message || String(e)));
          continue;
        }
        if (this._disposed) return;
        if (this._queue[0] !== call) continue; // aborted while preparing
        this._queue.shift();
        this._current = call;
        try {
          this._worker.postMessage({ type: 'call', id: call.id, op: call.op, args: prepared.args }, prepared.transfer);
        } catch (e) {
          this._current = null;
          call.reject(new GradCamError(ErrorCode.INVALID_ARGUMENT, `the input cannot be sent to the worker: ${e.message || e}`));
        }
      }
    } finally {
      this._pumping = false;
    }
  }

  // ---- restart on abort ----------------------------------------------------------------
  /** After an abort of the running call: if the worker has not answered within
   *  restartOnAbort ms, replace it (the core cannot stop inside one multi-pass call). */
  _restartIfStuck(call) {
    const ms = this._defaults.restartOnAbort;
    if (ms === false || !this._defaults.boot.wasmModule) return;
    clearTimeout(this._stuckTimer);
    this._stuckTimer = setTimeout(() => {
      if (this._current === call && !this._disposed) this._restart();
    }, ms);
  }

  _restart() {
    const { boot } = this._defaults;
    this._worker.onmessage = null;
    this._worker.onerror = null;
    this._worker.terminate();
    this._current = null;
    this._keptKey = null;
    this.restarts = (this.restarts || 0) + 1;
    let worker;
    try {
      worker = startWorker(boot.workerUrl);
    } catch (e) {
      this._fail(e);
      return;
    }
    this._attach(worker);
    // the fresh worker's init and weights go before every waiting call
    const failed = (e) => this._fail(new GradCamError(ErrorCode.WORKER_FAILED, `the worker could not be restarted: ${e.message || e}`));
    const weights = this._weightsSource;
    if (weights) this._call('weights', { source: weights, dtype: this._defaults.dtype, h5wasmUrl: this._defaults.h5wasmUrl }, { front: true }).catch(failed);
    this._call('init', { ...boot.init, wasmModule: boot.wasmModule }, { front: true }).catch(failed);
  }

  _onMessage(msg) {
    const call = this._current;
    if (!call || msg.id !== call.id) return; // a late answer to a call that was disposed of
    if (msg.type === 'progress') {
      if (call.onProgress && !call.settled) {
        try { call.onProgress(msg.progress); } catch (e) { console.error(e); }
      }
      return;
    }
    this._current = null;
    clearTimeout(this._stuckTimer);
    if (msg.type === 'result') call.resolve(msg.value);
    else call.reject(GradCamError.from(msg.error));
    this._pump();
  }

  _fail(err) {
    if (this._disposed) return;
    if (this._current) { this._current.reject(err); this._current = null; }
    for (const c of this._queue.splice(0)) c.reject(err);
    this._disposed = true;
    this._worker.terminate();
  }
}

function startWorker(workerUrl) {
  try {
    return workerUrl
      ? new Worker(workerUrl, { type: 'module', name: 'xception-gradcam' })
      : new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'xception-gradcam' });
  } catch (e) {
    throw new GradCamError(ErrorCode.WORKER_FAILED, `could not start the worker: ${e.message || e}`);
  }
}

// ---- inputs ---------------------------------------------------------------------------
function weightsSource(w) {
  if (typeof w === 'string' || w instanceof URL) {
    const base = globalThis.location ? location.href : undefined;
    let url;
    try { url = new URL(w, base).href; } catch { throw new GradCamError(ErrorCode.INVALID_ARGUMENT, `not a valid weights URL: ${w}`); }
    return { url };
  }
  if (typeof Blob !== 'undefined' && w instanceof Blob) return { blob: w };
  if (w instanceof ArrayBuffer) return { bytes: w };
  if (ArrayBuffer.isView(w)) return { bytes: new Uint8Array(w.buffer, w.byteOffset, w.byteLength) };
  throw new GradCamError(ErrorCode.INVALID_ARGUMENT, 'weights must be a URL, an ArrayBuffer, a typed array, a Blob or a File');
}

const is = (v, name) => typeof globalThis[name] === 'function' && v instanceof globalThis[name];
const BITMAP_OPTIONS = { colorSpaceConversion: 'none', premultiplyAlpha: 'none' };

async function bitmapOf(source, what) {
  try {
    return await createImageBitmap(source, BITMAP_OPTIONS);
  } catch (e) {
    throw new GradCamError(ErrorCode.IMAGE_INVALID, `cannot read the pixels of this ${what}: ${e.message || e}`);
  }
}

/** {message, transfer} for the worker. Caller-owned objects are never detached: ImageData
 *  pixels are copied once by postMessage, bitmaps made here from elements are transferred. */
async function imageMessage(image) {
  if (image == null) throw new GradCamError(ErrorCode.IMAGE_INVALID, 'no image given');
  if (is(image, 'ImageData') || (image.data && typeof image.width === 'number' && typeof image.height === 'number' && !is(image, 'HTMLElement'))) {
    const { data, width, height } = image;
    if (!width || !height || !data || data.length !== width * height * 4) {
      throw new GradCamError(ErrorCode.IMAGE_INVALID, `expected ${width}x${height} RGBA pixels, got ${data ? data.length : 0} bytes`);
    }
    return { message: { kind: 'pixels', data, width, height }, transfer: [] };
  }
  if (is(image, 'Blob')) return { message: { kind: 'blob', blob: image }, transfer: [] };
  if (is(image, 'ImageBitmap')) {
    if (!image.width || !image.height) throw new GradCamError(ErrorCode.IMAGE_INVALID, 'the ImageBitmap has no pixels (closed or zero-size)');
    const copy = await bitmapOf(image, 'ImageBitmap');
    return { message: { kind: 'bitmap', bitmap: copy }, transfer: [copy] };
  }
  if (is(image, 'HTMLImageElement') || is(image, 'SVGImageElement')) {
    if (is(image, 'HTMLImageElement')) {
      if (!image.complete) {
        try { await image.decode(); } catch (e) { throw new GradCamError(ErrorCode.IMAGE_INVALID, `the image could not be loaded: ${image.currentSrc || image.src}`); }
      }
      if (!image.naturalWidth || !image.naturalHeight) {
        throw new GradCamError(ErrorCode.IMAGE_INVALID, `the image is not loaded or broken: ${image.currentSrc || image.src || '(no src)'}`);
      }
    }
  } else if (is(image, 'HTMLVideoElement')) {
    if (image.readyState < 2 || !image.videoWidth) throw new GradCamError(ErrorCode.IMAGE_INVALID, 'the video has no current frame yet (wait for loadeddata)');
  } else if (is(image, 'HTMLCanvasElement') || is(image, 'OffscreenCanvas')) {
    if (!image.width || !image.height) throw new GradCamError(ErrorCode.IMAGE_INVALID, `the canvas has no pixels (${image.width}x${image.height})`);
  } else if (!is(image, 'VideoFrame')) {
    throw new GradCamError(ErrorCode.IMAGE_INVALID,
      'image must be ImageData, an HTMLImageElement, HTMLCanvasElement, OffscreenCanvas, ImageBitmap, HTMLVideoElement, VideoFrame or a Blob/File');
  }
  const bitmap = await bitmapOf(image, image.constructor ? image.constructor.name : 'image');
  return { message: { kind: 'bitmap', bitmap }, transfer: [bitmap] };
}
