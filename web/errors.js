// errors.js - the one error class of the public API, the mapping from the C core's statuses
// to its codes, and the checks of the calls' options (against the loaded model and the core's
// method registry). Shared by the page side (index.js) and the worker (worker.js, engine.js).
import { INPUT_SIZE, METRIC_STEPS_MAX } from './protocol.js';

/** Every code a GradCamError can carry (also exported as `ErrorCode`). */
export const ErrorCode = Object.freeze({
  WEIGHTS_INVALID: 'WEIGHTS_INVALID', // bytes are not usable Xception weights (see `detail`)
  WEIGHTS_FETCH_FAILED: 'WEIGHTS_FETCH_FAILED', // the weights URL could not be fetched (network, HTTP status)
  WASM_LOAD_FAILED: 'WASM_LOAD_FAILED', // the .wasm / .mjs files could not be fetched, compiled or started
  IMAGE_INVALID: 'IMAGE_INVALID', // not a decodable image, zero-size, not loaded yet, too large
  LAYER_UNKNOWN: 'LAYER_UNKNOWN', // no layer by that name
  CLASS_OUT_OF_RANGE: 'CLASS_OUT_OF_RANGE', // class index not an integer in 0..classes-1 of the loaded model
  LABELS_INVALID: 'LABELS_INVALID', // class names that are not text or not one per class of the model
  NO_HEAD: 'NO_HEAD', // the model has no classifier (a notop file): no classes, only activations and eigencam
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
  // the import's readers: the file is not a model read here, or damaged (detail says which reader)
  CONVERT: ErrorCode.WEIGHTS_INVALID,
  H5: ErrorCode.WEIGHTS_INVALID,
  ZIP: ErrorCode.WEIGHTS_INVALID,
  JSON: ErrorCode.WEIGHTS_INVALID,
  IO: ErrorCode.WEIGHTS_INVALID,
  LABELS: ErrorCode.LABELS_INVALID,
  NO_HEAD: ErrorCode.NO_HEAD,
  CANCELLED: ErrorCode.ABORTED,
};

export const aborted = () => new GradCamError(ErrorCode.ABORTED, 'the operation was aborted');

/** ABORTED once the signal fired or the shared cancel flag says so. */
export function checkAbort(signal, cancelled) {
  if ((signal && signal.aborted) || (cancelled && cancelled())) throw aborted();
}

export const noHead = () => new GradCamError(ErrorCode.NO_HEAD,
  'the model has no classifier (a notop file): it gives activations and the class-free methods (eigencam) only');

/** Validate an RGBA pixel buffer before it reaches the core. */
export function checkImage(pixels, width, height) {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new GradCamError(ErrorCode.IMAGE_INVALID, `the image has no pixels (${width}x${height})`);
  }
  if (!pixels || typeof pixels.length !== 'number' || pixels.length !== width * height * 4) {
    throw new GradCamError(ErrorCode.IMAGE_INVALID, `expected ${width}x${height} RGBA pixels (${width * height * 4} bytes), got ${pixels ? pixels.length : pixels}`);
  }
}

const OOM_MESSAGE = 'out of memory: this call needs more than the WebAssembly heap can hold (2 GB at most); ' +
  'nothing was kept and the instance stays usable: try a smaller inputSize or image, fewer samples or steps';

/** Turn anything thrown in the worker (CoreError, wasm RangeError, ...) into a GradCamError. */
export function toGradCamError(e) {
  if (e instanceof GradCamError) return e;
  if (e && e.name === 'CoreError') {
    const code = FROM_CORE[e.code] || (e.code.startsWith('WEIGHTS_') ? ErrorCode.WEIGHTS_INVALID : ErrorCode.INTERNAL);
    if (code === ErrorCode.ABORTED) return aborted();
    return new GradCamError(code, code === ErrorCode.OUT_OF_MEMORY ? OOM_MESSAGE : e.message, e.code);
  }
  if (e && e.name === 'AbortError') return aborted();
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

/** Defaults of explain() (also in web/README.md and index.d.ts); the input size defaults to the model's. */
export const EXPLAIN_DEFAULTS = Object.freeze({
  method: 'gradcam', layer: 'block14_sepconv2_act', colormap: 'jet', alpha: 0.4, blend: 'additive', scale: 'max',
  metricsSteps: 16, metricsBaseline: 'blur',
});

const isInt = (lo, hi) => (v) => Number.isInteger(v) && v >= lo && v <= hi;
const bad = (code, message) => new GradCamError(code, message);
/** A value in a message: strings quoted, objects as JSON, cut at 80 characters. */
function show(v) {
  let t;
  try { t = typeof v === 'string' ? `'${v}'` : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v); } catch { t = String(v); }
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
}
const TARGETS = ['logit', 'prob'];

/** A class index of the loaded model (`classes` of them; null: no model yet, checked later). */
function checkClass(name, v, classes) {
  if (v == null) return undefined;
  if (classes === 0) throw noHead();
  const hi = classes == null ? Infinity : classes - 1;
  if (!(Number.isInteger(v) && v >= 0 && v <= hi)) {
    throw bad(ErrorCode.CLASS_OUT_OF_RANGE, `${name} must be an integer in 0..${hi}${classes == null ? '' : ' (the model\'s classes)'}, not ${show(v)}`);
  }
  return v;
}

/**
 * Check classify()/activation() options: topK in 1..classes, inputSize in INPUT_SIZE (default:
 * the model's; none before a model is loaded, when the call fails with NOT_LOADED anyway).
 * Throws a GradCamError.
 */
export function checkClassOptions({ topK, inputSize }, classes, defaultSize) {
  if (topK != null && classes && !isInt(1, classes)(topK)) {
    throw bad(ErrorCode.INVALID_ARGUMENT, `topK must be an integer in 1..${classes} (the model's classes), not ${show(topK)}`);
  }
  const size = inputSize ?? defaultSize;
  if (size == null) return { topK: topK ?? undefined, inputSize: undefined };
  if (!isInt(INPUT_SIZE.min, INPUT_SIZE.max)(size)) {
    throw bad(ErrorCode.INVALID_ARGUMENT, `inputSize must be an integer in ${INPUT_SIZE.min}..${INPUT_SIZE.max} (the network's input side, ${defaultSize} by default), not ${show(size)}`);
  }
  return { topK: topK ?? undefined, inputSize: size };
}

/**
 * A method's own settings against the core's registry: each key one of the method's params (or
 * `target`), each value in the param's range (an integer where it says so) or its special word
 * (Score-CAM's channels: 'all').
 */
export function checkMethodOptions(mo, m) {
  if (mo == null) return {};
  if (typeof mo !== 'object') throw bad(ErrorCode.INVALID_ARGUMENT, `methodOptions must be an object, not ${show(mo)}`);
  const out = {};
  for (const [k, v] of Object.entries(mo)) {
    if (v === undefined) continue;
    if (k === 'target') {
      if (!TARGETS.includes(v)) throw bad(ErrorCode.INVALID_ARGUMENT, `methodOptions.target must be 'logit' or 'prob' (the score explained), not ${show(v)}`);
      out[k] = v;
      continue;
    }
    const q = m.params.find((p) => p.name === k);
    if (!q) {
      throw bad(ErrorCode.INVALID_ARGUMENT, `unknown methodOptions key ${show(k)} for ${m.name} (its options: ${[...m.params.map((p) => p.name), 'target'].join(', ')})`);
    }
    const ok = (q.special && v === q.special) || (typeof v === 'number' && v >= q.min && v <= q.max && (!q.integer || Number.isInteger(v)));
    if (!ok) {
      throw bad(ErrorCode.INVALID_ARGUMENT, `methodOptions.${k} must be ${q.integer ? 'an integer' : 'a number'} in ${q.min}..${q.max}` +
        `${q.special ? ` or '${q.special}'` : ''} (${m.label}: ${q.label}), not ${show(v)}`);
    }
    out[k] = v;
  }
  return out;
}

/** The method named, or METHOD_UNKNOWN listing the registry's. */
function methodOf(name, methods) {
  const m = methods.find((x) => x.name === name);
  if (!m) throw bad(ErrorCode.METHOD_UNKNOWN, `no explanation method ${show(name)} (methods(): ${methods.map((x) => x.name).join(', ')})`);
  return m;
}

function checkLayer(layer, known) {
  if (typeof layer !== 'string' || !known.layers.includes(layer)) throw bad(ErrorCode.LAYER_UNKNOWN, `no layer named ${show(layer)} (see layers())`);
  return layer;
}

/**
 * Check explain() options and fill in the defaults. Throws a GradCamError.
 * @param {object} [options] what the caller passed (signal and unknown top-level keys are ignored)
 * @param {{layers: string[], methods: object[], colormaps: string[], classes: number|null, inputSize: number}} known
 *   the loaded model's layers, class count (null before any model) and input side; the core's
 *   method registry and colormaps
 * @returns {{classIndex, topK, contrastClass, layer, method, colormap, alpha, blend, scale, methodOptions,
 *   metrics: null | {steps, baseline}, detail: boolean, inputSize: number}}
 */
export function checkExplainOptions(options, known) {
  const o = options ?? {};
  if (typeof o !== 'object') throw bad(ErrorCode.INVALID_ARGUMENT, `explain() options must be an object, not ${show(o)}`);
  const d = EXPLAIN_DEFAULTS;
  const { topK } = o;
  const classIndex = checkClass('classIndex', o.classIndex, known.classes);
  const contrastClass = checkClass('contrastClass', o.contrastClass, known.classes);
  if (topK != null && !(Number.isInteger(topK) && topK >= 1 && topK <= (known.classes || Infinity))) {
    throw bad(ErrorCode.INVALID_ARGUMENT, `topK must be an integer in 1..${known.classes || 'the classes'}, not ${show(topK)}`);
  }
  if (classIndex != null && topK != null) throw bad(ErrorCode.INVALID_ARGUMENT, 'give classIndex or topK, not both');
  if (contrastClass != null && contrastClass === classIndex) {
    throw bad(ErrorCode.INVALID_ARGUMENT, `contrastClass must differ from the class explained (${classIndex}): y^c - y^c is 0`);
  }
  const method = o.method ?? d.method;
  const m = methodOf(method, known.methods);
  const layer = checkLayer(o.layer ?? d.layer, known);
  const { colormap, alpha, blend, scale } = checkRenderOptions(o, known.colormaps);
  const methodOptions = checkMethodOptions(o.methodOptions, m);
  const { inputSize } = checkClassOptions({ inputSize: o.inputSize }, known.classes, known.inputSize);
  if (o.detail != null && typeof o.detail !== 'boolean') throw bad(ErrorCode.INVALID_ARGUMENT, `detail must be a boolean, not ${show(o.detail)}`);
  let metrics = null;
  if (o.metrics != null && o.metrics !== false) {
    const mt = o.metrics === true ? {} : o.metrics;
    if (typeof mt !== 'object') throw bad(ErrorCode.INVALID_ARGUMENT, `metrics must be a boolean or {steps, baseline}, not ${show(mt)}`);
    const steps = mt.steps ?? d.metricsSteps;
    const baseline = mt.baseline ?? d.metricsBaseline;
    if (!isInt(1, METRIC_STEPS_MAX)(steps)) throw bad(ErrorCode.INVALID_ARGUMENT, `metrics.steps must be an integer in 1..${METRIC_STEPS_MAX}, not ${show(steps)}`);
    if (baseline !== 'blur' && baseline !== 'mean') throw bad(ErrorCode.INVALID_ARGUMENT, `metrics.baseline must be 'blur' or 'mean', not ${show(baseline)}`);
    if (m.channels !== 1) {
      throw bad(ErrorCode.INVALID_ARGUMENT, `metrics need a single-channel map, and ${method} gives an RGB (${m.channels}-channel) one: use another method or metrics: false`);
    }
    if (known.classes === 0) throw noHead();
    metrics = { steps, baseline };
  }
  return {
    classIndex, topK: topK ?? undefined, contrastClass, layer, method, colormap, alpha, blend, scale, methodOptions, metrics,
    detail: !!o.detail, inputSize,
  };
}

/**
 * Check sanityCheck() options: methods (default ['gradcam']), from (the layers from which the
 * model is randomised, top down: at least one), seed, classIndex, layer, inputSize, per-method
 * methodOptions {name: {...}}, colormap and scale of the heatmaps.
 */
export function checkSanityOptions(options, known) {
  const o = options ?? {};
  if (typeof o !== 'object') throw bad(ErrorCode.INVALID_ARGUMENT, `sanityCheck() options must be an object, not ${show(o)}`);
  const methods = o.methods ?? [EXPLAIN_DEFAULTS.method];
  if (!Array.isArray(methods) || !methods.length) throw bad(ErrorCode.INVALID_ARGUMENT, `methods must be a non-empty array of method names, not ${show(methods)}`);
  const mo = o.methodOptions ?? {};
  const methodOptions = {};
  for (const name of methods) methodOptions[name] = checkMethodOptions(mo[name], methodOf(name, known.methods));
  const from = o.from;
  if (!Array.isArray(from) || !from.length) throw bad(ErrorCode.INVALID_ARGUMENT, `from must be a non-empty array of layer names (randomised from there to the output), not ${show(from)}`);
  from.forEach((l) => checkLayer(l, known));
  const seed = o.seed ?? 1;
  if (!isInt(0, 2 ** 32 - 1)(seed)) throw bad(ErrorCode.INVALID_ARGUMENT, `seed must be an integer in 0..${2 ** 32 - 1}, not ${show(seed)}`);
  const { colormap, scale } = checkRenderOptions(o, known.colormaps);
  return {
    methods, from, seed, methodOptions, classIndex: checkClass('classIndex', o.classIndex, known.classes), layer: checkLayer(o.layer ?? EXPLAIN_DEFAULTS.layer, known),
    inputSize: checkClassOptions({ inputSize: o.inputSize }, known.classes, known.inputSize).inputSize,
    render: { colormap, scale, alpha: EXPLAIN_DEFAULTS.alpha, blend: EXPLAIN_DEFAULTS.blend },
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
