// protocol.js - the messages between the page side (index.js) and the worker (worker.js), and
// the limits both ends check. Every message and reply is made by the functions here.
//
//   page -> worker  call(id, op, args)        run an operation (one at a time, in call order)
//                   abort(id)                 stop the running call: downloads and conversions at
//                                             once, an explanation between its stages (and, with
//                                             the shared cancel flag, between the core's passes)
//   worker -> page  result(id, value)         typed arrays in `value` are transferred
//                   error(id, {code, message, detail})
//                   progress(id, progress)    init and weights: {phase, loaded, total};
//                                             explain: {phase: 'explain', done, total, stage, ...};
//                                             sanity: {phase: 'sanity', done, total, stage, ...}
//
// The operations (OPS) and their args -> value:
//   init       {files, dir, mode, build, threads, simd, wasmModule?, cancelFlag?} -> {info, layers, methods, colormaps, wasmModule}
//              (files: every build's file URLs, builds.js; dir: the one to load, chooseBuild();
//              the compiled module comes back so that a fresh worker starts without compiling;
//              cancelFlag: an Int32Array on a SharedArrayBuffer, see below)
//   weights    {source: Source, labels?: Source, dtype, keepConverted} -> {format, bytes, params, model, info, layers, converted?}
//              Source: {url} (a model.json's shards are fetched next to it), {blob}, {bytes},
//              or {files: [{name, blob|bytes}]} (a model.json with its shards, any order)
//   classify   {image: Image, topK, inputSize} -> {top, logits, probs, imageKey, reusedForward, timings}
//   explain    {image: Image, options} -> a result, or an array with topK
//   sanity     {image: Image, options} -> {classIndex, className, seed, steps: [{from, maps}]}
//   render     {cam, imageKey, image?, options} -> {heatmap, overlay, timings}
//   activation {image: Image, layer, inputSize} -> {layer, shape, data, imageKey, reusedForward, timings}
//   memory {} -> {wasmHeap};  threads {threads} -> {threads, info};  forget {} -> true;  dispose {} -> true
//   Image: {kind: 'pixels', data, width, height} | {kind: 'bitmap', bitmap} | {kind: 'blob', blob}

/** Largest thread count used: the pthread pool the threaded build preallocates
 *  (PTHREAD_POOL_SIZE); a pool that has to grow while the worker blocks would deadlock. */
export const MAX_THREADS = 4;

/** The network's input side (gradcam.h GC_MIN_INPUT_SIZE, GC_MAX_INPUT_SIZE; a test checks). */
export const INPUT_SIZE = Object.freeze({ min: 71, max: 1024 });

/** Most deletion / insertion steps of the metrics (gradcam.h GC_MAX_METRIC_STEPS; a test checks). */
export const METRIC_STEPS_MAX = 64;

export const OPS = Object.freeze(['init', 'weights', 'classify', 'explain', 'sanity', 'render', 'activation', 'memory', 'threads', 'forget', 'dispose']);

export const call = (id, op, args) => ({ type: 'call', id, op, args });
export const abort = (id) => ({ type: 'abort', id });
export const result = (id, value) => ({ type: 'result', id, value });
export const error = (id, e) => ({ type: 'error', id, error: { code: e.code, message: e.message, detail: e.detail } });
export const progress = (id, p) => ({ type: 'progress', id, progress: p });

// ---- the shared cancel flag --------------------------------------------------------------
// On a cross-origin isolated page the page and the worker share one Int32Array: the page writes
// the id of the call it cancels, and the core's progress callback in the worker reads it before
// each pass (the worker's message loop is blocked while the core runs, so an abort message
// would wait until the call ends).

/** A new flag, or null where SharedArrayBuffer is not available (not cross-origin isolated). */
export function cancelFlag() {
  if (typeof SharedArrayBuffer !== 'function' || globalThis.crossOriginIsolated !== true) return null;
  try {
    return new Int32Array(new SharedArrayBuffer(4));
  } catch {
    return null;
  }
}

/** Page side: cancel the call `id`. */
export function cancel(flag, id) { if (flag) Atomics.store(flag, 0, id); }

/** Worker side: has the call `id` been cancelled? */
export const cancelled = (flag, id) => () => !!flag && Atomics.load(flag, 0) === id;
