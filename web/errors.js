// errors.js - the one error class of the public API, the mapping from the C core's statuses
// to its codes, and the checks of explain()'s options. Shared by the page side (index.js) and
// the worker (worker.js, engine.js).

/** Every code a GradCamError can carry (also exported as `ErrorCode`). */
export const ErrorCode = Object.freeze({
  WEIGHTS_INVALID: 'WEIGHTS_INVALID', // bytes are not usable Xception weights (see `detail`)
  WEIGHTS_FETCH_FAILED: 'WEIGHTS_FETCH_FAILED', // the weights URL could not be fetched (network, HTTP status)
  H5WASM_UNAVAILABLE: 'H5WASM_UNAVAILABLE', // a Keras .h5 file was given but h5wasm could not be imported
  WASM_LOAD_FAILED: 'WASM_LOAD_FAILED', // the .wasm / .mjs files could not be fetched, compiled or started
  IMAGE_INVALID: 'IMAGE_INVALID', // not a decodable image, zero-size, not loaded yet, too large
  LAYER_UNKNOWN: 'LAYER_UNKNOWN', // no layer by that name
  CLASS_OUT_OF_RANGE: 'CLASS_OUT_OF_RANGE', // class index not an integer in 0..999
  METHOD_UNKNOWN: 'METHOD_UNKNOWN', // explanation method not offered by this build (see methods())
  INVALID_ARGUMENT: 'INVALID_ARGUMENT', // an option has the wrong type or value
  NOT_LOADED: 'NOT_LOADED', // no weights are loaded yet
  ABORTED: 'ABORTED', // the call's AbortSignal fired
  DISPOSED: 'DISPOSED', // the instance was disposed
  OUT_OF_MEMORY: 'OUT_OF_MEMORY', // the WebAssembly heap could not grow (2 GB maximum)
  UNSUPPORTED_BROWSER: 'UNSUPPORTED_BROWSER', // no WebAssembly SIMD, module workers or OffscreenCanvas
  WORKER_FAILED: 'WORKER_FAILED', // the Web Worker could not start or died
  INTERNAL: 'INTERNAL', // a bug: please report it with the message
});

/** The error of every rejected call: `code` is one of ErrorCode, `message` is for people,
 *  `detail` (optional) the C core's own status name, e.g. "WEIGHTS_CHECKSUM". */
export class GradCamError extends Error {
  constructor(code, message, detail) {
    super(message);
    this.name = 'GradCamError';
    this.code = code;
    if (detail !== undefined) this.detail = detail;
  }

  toJSON() { return { name: this.name, code: this.code, message: this.message, detail: this.detail }; }

  /** Rebuild an error that crossed postMessage as {code, message, detail}. */
  static from(plain) {
    if (plain instanceof GradCamError) return plain;
    return new GradCamError(plain && plain.code in ErrorCode ? plain.code : ErrorCode.INTERNAL,
      (plain && plain.message) || String(plain), plain && plain.detail);
  }
}

// C core status name (CoreError.code) -> public code
const FROM_CORE = {
  OUT_OF_MEMORY: ErrorCode.OUT_OF_MEMORY,
  IMAGE_INVALID: ErrorCode.IMAGE_INVALID,
  IMAGE_SIZE: ErrorCode.IMAGE_INVALID,
  IMAGE_DECODE: ErrorCode.IMAGE_INVALID,
  LAYER_UNKNOWN: ErrorCode.LAYER_UNKNOWN,
  CLASS_OUT_OF_RANGE: ErrorCode.CLASS_OUT_OF_RANGE,
  NOT_LOADED: ErrorCode.NOT_LOADED,
  INVALID_ARGUMENT: ErrorCode.INVALID_ARGUMENT,
  CONVERT: ErrorCode.WEIGHTS_INVALID,
};

const OOM_MESSAGE = 'out of memory: this call needs more than the WebAssembly heap can hold (2 GB at most); ' +
  'nothing was kept and the instance stays usable: try a smaller inputSize or image, fewer samples or steps';

/** Turn anything thrown in the worker (CoreError, wasm RangeError, ...) into a GradCamError. */
export function toGradCamError(e) {
  if (e instanceof GradCamError) return e;
  if (e && e.name === 'CoreError') {
    const code = FROM_CORE[e.code] || (e.code.startsWith('WEIGHTS_') ? ErrorCode.WEIGHTS_INVALID : ErrorCode.INTERNAL);
    return new GradCamError(code, code === ErrorCode.OUT_OF_MEMORY ? OOM_MESSAGE : e.message, e.code);
  }
  if (e && e.name === 'AbortError') return new GradCamError(ErrorCode.ABORTED, 'the operation was aborted');
  const text = e && e.message ? e.message : String(e);
  // a failed WebAssembly.Memory allocation or grow (RangeError), or a trap after one
  if ((e instanceof RangeError && /memory/i.test(text)) || /out of memory/i.test(text)) {
    return new GradCamError(ErrorCode.OUT_OF_MEMORY, `out of memory: ${text}`);
  }
  return new GradCamError(ErrorCode.INTERNAL, `internal error: ${text}`);
}

// ---- explain() options ------------------------------------------------------------------
// Checked on the page (so a bad call rejects at once instead of waiting in the queue) and
// again in the worker (the engine's own callers), with the same messages.

/** Defaults of explain() (also in web/README.md and index.d.ts). */
export const EXPLAIN_DEFAULTS = Object.freeze({
  method: 'gradcam', layer: 'block14_sepconv2_act', colormap: 'jet', alpha: 0.4, blend: 'additive', scale: 'max',
  metricsSteps: 16, metricsBaseline: 'blur', inputSize: 299,
});

// methodOptions: [check, what it wants]; all optional (the core's defaults apply)
const isInt = (lo, hi) => (v) => Number.isInteger(v) && v >= lo && v <= hi;
const METHOD_OPTIONS = {
  channels: [isInt(1, 2048), 'an integer in 1..2048 (Score-CAM: channels used)'],
  samples: [isInt(1, 256), 'an integer in 1..256 (SmoothGrad: noisy samples)'],
  sigma: [(v) => typeof v === 'number' && v >= 0 && v <= 10, 'a number in 0..10 (SmoothGrad: noise as a fraction of the input range)'],
  seed: [isInt(0, 2147483647), 'an integer in 0..2147483647 (SmoothGrad: noise seed)'],
  steps: [isInt(1, 512), 'an integer in 1..512 (Integrated Gradients: steps)'],
  target: [(v) => v === 'logit' || v === 'prob', "'logit' or 'prob' (the score explained)"],
};

const bad = (code, message) => new GradCamError(code, message);
const show = (v) => (typeof v === 'string' ? `'${v}'` : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

/**
 * Check explain() options and fill in the defaults. Throws a GradCamError.
 * @param {object} [options] what the caller passed (signal and unknown top-level keys are ignored)
 * @param {{layers: string[], methods: {name: string, channels: number}[], colormaps: string[]}} known
 * @returns {{classIndex: number|undefined, topK: number|undefined, layer: string, method: string,
 *   colormap: string, alpha: number, blend: 'additive'|'alpha', scale: 'max'|'percentile', methodOptions: object,
 *   metrics: null | {steps: number, baseline: 'blur'|'mean'}, inputSize: number}}
 */
export function checkExplainOptions(options, known) {
  const o = options ?? {};
  if (typeof o !== 'object') throw bad(ErrorCode.INVALID_ARGUMENT, `explain() options must be an object, not ${show(o)}`);
  const d = EXPLAIN_DEFAULTS;
  const { classIndex, topK } = o;
  if (classIndex != null && !(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < 1000)) {
    throw bad(ErrorCode.CLASS_OUT_OF_RANGE, `classIndex must be an integer in 0..999, not ${show(classIndex)}`);
  }
  if (topK != null && !(Number.isInteger(topK) && topK >= 1 && topK <= 1000)) {
    throw bad(ErrorCode.INVALID_ARGUMENT, `topK must be an integer in 1..1000, not ${show(topK)}`);
  }
  if (classIndex != null && topK != null) {
    throw bad(ErrorCode.INVALID_ARGUMENT, 'give classIndex or topK, not both');
  }
  const method = o.method ?? d.method;
  const m = known.methods.find((x) => x.name === method);
  if (!m) {
    throw bad(ErrorCode.METHOD_UNKNOWN, `no explanation method ${show(method)} (methods(): ${known.methods.map((x) => x.name).join(', ')})`);
  }
  const layer = o.layer ?? d.layer;
  if (typeof layer !== 'string' || !known.layers.includes(layer)) {
    throw bad(ErrorCode.LAYER_UNKNOWN, `no layer named ${show(layer)} (see layers())`);
  }
  const { colormap, alpha, blend, scale } = checkRenderOptions(o, known.colormaps);
  const mo = o.methodOptions ?? {};
  if (typeof mo !== 'object') throw bad(ErrorCode.INVALID_ARGUMENT, `methodOptions must be an object, not ${show(mo)}`);
  const methodOptions = {};
  for (const [k, v] of Object.entries(mo)) {
    if (v === undefined) continue;
    const rule = METHOD_OPTIONS[k];
    if (!rule) throw bad(ErrorCode.INVALID_ARGUMENT, `unknown methodOptions key ${show(k)} (known: ${Object.keys(METHOD_OPTIONS).join(', ')})`);
    if (!rule[0](v)) throw bad(ErrorCode.INVALID_ARGUMENT, `methodOptions.${k} must be ${rule[1]}, not ${show(v)}`);
    methodOptions[k] = v;
  }
  const inputSize = o.inputSize ?? d.inputSize;
  if (!isInt(71, 1024)(inputSize)) {
    throw bad(ErrorCode.INVALID_ARGUMENT, `inputSize must be an integer in 71..1024 (the network's input side, 299 by default), not ${show(inputSize)}`);
  }
  let metrics = null;
  if (o.metrics != null && o.metrics !== false) {
    const mt = o.metrics === true ? {} : o.metrics;
    if (typeof mt !== 'object') throw bad(ErrorCode.INVALID_ARGUMENT, `metrics must be a boolean or {steps, baseline}, not ${show(mt)}`);
    const steps = mt.steps ?? d.metricsSteps;
    const baseline = mt.baseline ?? d.metricsBaseline;
    if (!isInt(1, 64)(steps)) throw bad(ErrorCode.INVALID_ARGUMENT, `metrics.steps must be an integer in 1..64, not ${show(steps)}`);
    if (baseline !== 'blur' && baseline !== 'mean') throw bad(ErrorCode.INVALID_ARGUMENT, `metrics.baseline must be 'blur' or 'mean', not ${show(baseline)}`);
    if (m.channels !== 1) {
      throw bad(ErrorCode.INVALID_ARGUMENT, `metrics need a single-channel map, and ${method} gives an RGB (${m.channels}-channel) one: use another method or metrics: false`);
    }
    metrics = { steps, baseline };
  }
  return {
    classIndex: classIndex ?? undefined, topK: topK ?? undefined, layer, method, colormap, alpha, blend, scale, methodOptions, metrics,
    inputSize,
  };
}

/** How a map's values become colours: the keras.io scale, or the pixel-attribution papers' one. */
export const SCALES = Object.freeze(['max', 'percentile']);

/**
 * Check the rendering options (explain() and render()) and fill in the defaults.
 * @param {{colormap?: string, alpha?: number, blend?: string, scale?: string}} o
 * @param {string[]} colormaps the core's colormap names
 * @returns {{colormap: string, alpha: number, blend: 'additive'|'alpha', scale: 'max'|'percentile'}}
 */
export function checkRenderOptions(o, colormaps) {
  const d = EXPLAIN_DEFAULTS;
  const colormap = o.colormap ?? d.colormap;
  if (!colormaps.includes(colormap)) {
    throw bad(ErrorCode.INVALID_ARGUMENT, `colormap must be one of ${colormaps.join(', ')}, not ${show(colormap)}`);
  }
  const alpha = o.alpha ?? d.alpha;
  if (!(typeof alpha === 'number' && alpha >= 0 && alpha <= 1)) {
    throw bad(ErrorCode.INVALID_ARGUMENT, `alpha must be a number in 0..1, not ${show(alpha)}`);
  }
  const blend = o.blend ?? d.blend;
  if (blend !== 'additive' && blend !== 'alpha') {
    throw bad(ErrorCode.INVALID_ARGUMENT, `blend must be 'additive' or 'alpha', not ${show(blend)}`);
  }
  const scale = o.scale ?? d.scale;
  if (!SCALES.includes(scale)) {
    throw bad(ErrorCode.INVALID_ARGUMENT, `scale must be one of ${SCALES.join(', ')}, not ${show(scale)}`);
  }
  return { colormap, alpha, blend, scale };
}
