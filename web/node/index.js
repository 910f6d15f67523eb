// node/index.js - the package in Node: `import { GradCam } from 'xception-gradcam/node'`. The same
// WebAssembly core and the same engine as the browser's worker (engine.js), run in this process:
// threaded through Emscripten's pthreads on worker_threads (wasm-mt/), else single-threaded
// (wasm-st/). Not a module of the page (web/*.js are): it lives in web/node/. Images are file paths or the bytes of an image file, decoded by the core's
// stb_image as the native CLI decodes them, or {data, width, height} RGBA pixels; weights are a
// path or the bytes of a .gcw or any Keras file (converted by the core's import, as in the
// browser). Every failure rejects with a GradCamError (errors.js). No runtime dependency.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Engine, serializer } from '../engine.js';
import { ErrorCode, GradCamError, toGradCamError } from '../errors.js';
import { isJson, shardPaths } from '../import.js';
import { chooseBuild, detectFeatures } from '../index.js';
import { labelsSource } from '../sources.js';
import { MAX_THREADS } from '../protocol.js';

export { ErrorCode, GradCamError, MAX_THREADS };

const pathOf = (p) => (p instanceof URL ? fileURLToPath(p) : String(p));
const isBytes = (x) => x instanceof Uint8Array || x instanceof ArrayBuffer || ArrayBuffer.isView(x);
const bytesOf = (x) => (x instanceof Uint8Array ? x : ArrayBuffer.isView(x) ? new Uint8Array(x.buffer, x.byteOffset, x.byteLength) : new Uint8Array(x));

/** A file's bytes, or `code` (WEIGHTS_INVALID, IMAGE_INVALID, LABELS_INVALID) naming the file. */
async function readBytes(path, code, what) {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new GradCamError(code, `cannot read the ${what} ${path}: ${e.message}`, 'IO');
  }
}

/**
 * One flavour's Emscripten factory and compiled module from its folder (gradcam.mjs,
 * gradcam.wasm): the Node instantiation of the core (the tools' and tests' too).
 * @param {string} dir a folder path ending with '/'
 */
export async function nodeModule(dir) {
  // Emscripten 3.1.6's ES6 output uses CommonJS' require and __dirname when it runs in Node
  globalThis.require ??= createRequire(import.meta.url);
  globalThis.__dirname ??= dir;
  try {
    const { default: factory } = await import(pathToFileURL(`${dir}gradcam.mjs`).href);
    const wasmModule = await WebAssembly.compile(await readFile(`${dir}gradcam.wasm`));
    return { factory, wasmModule, moduleOptions: { locateFile: (f) => dir + f } };
  } catch (e) {
    throw new GradCamError(ErrorCode.WASM_LOAD_FAILED, `could not load the WebAssembly build in ${dir}: ${e.message}`);
  }
}

/** The weights as the engine takes them: one file's bytes, or a TF.js model.json with its shards. */
/** A copy of the caller's weights bytes: the model reads tensors back from the file it was given
 *  (web/core.js loadHeap's `file`), so the caller stays free to reuse or change its buffer. */
const weightsCopy = (x) => new Uint8Array(bytesOf(x));

async function weightsFiles(w) {
  if (isBytes(w)) return weightsCopy(w);
  if (Array.isArray(w)) {
    return Promise.all(w.map(async (f) => (isBytes(f) ? { name: 'a weights file', bytes: weightsCopy(f) }
      : { name: basename(pathOf(f)), bytes: await readBytes(pathOf(f), ErrorCode.WEIGHTS_INVALID, 'weights file') })));
  }
  if (typeof w !== 'string' && !(w instanceof URL)) {
    throw new GradCamError(ErrorCode.INVALID_ARGUMENT, 'weights must be a path, a file URL, bytes (Buffer, typed array, ArrayBuffer) or an array of paths');
  }
  const path = pathOf(w);
  const bytes = await readBytes(path, ErrorCode.WEIGHTS_INVALID, 'weights file');
  const files = [{ name: basename(path), bytes }]; // the core's messages name the file
  const shards = isJson(bytes) ? shardPaths(bytes) : []; // a TF.js model.json: its shards beside it
  for (const s of shards) {
    const p = join(dirname(path), s);
    files.push({ name: s, bytes: await readBytes(p, ErrorCode.WEIGHTS_INVALID, 'weight shard') });
  }
  return files;
}

async function labelsBytes(l) {
  if (l == null) return null;
  if (Array.isArray(l)) return labelsSource(l).bytes;
  if (isBytes(l)) return bytesOf(l);
  return readBytes(pathOf(l), ErrorCode.LABELS_INVALID, 'class names file');
}

export class GradCam {
  /**
   * Load the WebAssembly core and (optionally) the weights.
   * @param {object} [o]
   * @param {string|URL|Uint8Array|ArrayBuffer|Array} [o.weights] a path (a TF.js model.json finds its shards beside it), bytes, or the paths of a model.json and its shards
   * @param {string|URL|Uint8Array|string[]} [o.labels] class names: a file's path or bytes, or the names
   * @param {number} [o.threads] threads of the forward pass (default: the cores, at most MAX_THREADS); 1 takes wasm-st/
   * @param {boolean} [o.relaxedSimd=false] threaded: take wasm-relaxed/ (fused multiply-add, the CLI's --arithmetic fma numbers) where this Node validates relaxed SIMD
   * @param {string|URL} [o.wasmBase] folder holding wasm-st/, wasm-mt/, wasm-relaxed/ (default: the package's dist/, this folder's parent)
   */
  static async load(o = {}) {
    const { weights, labels, threads, relaxedSimd = false, wasmBase, dtype, onProgress, signal } = o;
    const cores = os.availableParallelism ? os.availableParallelism() : os.cpus().length; // (Node 18.14+ has the first)
    const wanted = threads ?? Math.min(cores, MAX_THREADS);
    if (!Number.isInteger(wanted) || wanted < 1) throw new GradCamError(ErrorCode.INVALID_ARGUMENT, `threads must be a positive integer, not ${threads}`);
    const base = pathOf(wasmBase ?? new URL('../', import.meta.url)).replace(/\/?$/, '/');
    const features = detectFeatures();
    const threaded = wanted > 1 && typeof SharedArrayBuffer === 'function';
    let build = chooseBuild(features, { threaded, relaxedSimd: !!relaxedSimd });
    let engine;
    const start = async (b) => Engine.create({ ...(await nodeModule(`${base}${b.dir}/`)), mode: b.mode, threads: b.mode === 'threaded' ? wanted : 1, build: b.build });
    try {
      engine = await start(build);
    } catch (e) {
      if (build.mode !== 'threaded') throw toGradCamError(e);
      build = chooseBuild(features, { threaded: false }); // no pthreads here: the single-thread build
      engine = await start(build);
    }
    const gc = new GradCam(engine, build.dir);
    if (weights != null) {
      try {
        await gc.loadWeights(weights, { labels, dtype, onProgress, signal });
      } catch (e) {
        gc.dispose();
        throw e;
      }
    }
    return gc;
  }

  /** @private use GradCam.load() */
  constructor(engine, dir) {
    this._engine = engine;
    this._dir = dir;
    this._serialize = serializer(); // one call at a time, in call order (as the browser's queue)
  }

  _call(fn) {
    return this._serialize(async () => {
      try {
        return await fn();
      } catch (e) {
        throw toGradCamError(e);
      }
    });
  }

  /** RGBA pixels of an image: a path or file URL, an image file's bytes (decoded by the core), or {data, width, height}. */
  async _pixels(image) {
    if (image && typeof image === 'object' && !isBytes(image) && !(image instanceof URL) && 'data' in image) {
      return { rgba: bytesOf(image.data), width: image.width, height: image.height };
    }
    let bytes;
    if (isBytes(image)) bytes = bytesOf(image);
    else if (typeof image === 'string' || image instanceof URL) bytes = await readBytes(pathOf(image), ErrorCode.IMAGE_INVALID, 'image');
    else throw new GradCamError(ErrorCode.INVALID_ARGUMENT, 'image must be a path, a file URL, the bytes of an image file, or {data, width, height} RGBA pixels');
    return this._engine._run(() => this._engine.core.decodeImage(bytes));
  }

  /** Load or replace the model: {format, bytes, params, model, converted?} (engine.js loadWeights). */
  loadWeights(weights, { labels, dtype, onProgress, signal, keepConverted } = {}) {
    return this._call(async () => {
      const source = await weightsFiles(weights);
      return this._engine.loadWeights(source, { labels: await labelsBytes(labels), dtype, onProgress, signal, keepConverted });
    });
  }

  /** {top: [{index, name, prob, logit}], logits, probs, timings} */
  classify(image, o = {}) {
    return this._call(async () => {
      const { rgba, width, height } = await this._pixels(image);
      return this._engine.classify(rgba, width, height, o);
    });
  }

  /** The browser package's explain(): {classIndex, className, cam, heatmap, overlay, ...} (heatmap and overlay {data, width, height}). */
  explain(image, options = {}) {
    return this._call(async () => {
      const { rgba, width, height } = await this._pixels(image);
      const { signal, onProgress, ...rest } = options;
      return this._engine.explain(rgba, width, height, rest, { signal, onProgress });
    });
  }

  /** Adebayo et al.'s sanity check (the browser package's sanityCheck()). */
  sanityCheck(image, options = {}) {
    return this._call(async () => {
      const { rgba, width, height } = await this._pixels(image);
      const { signal, onProgress, ...rest } = options;
      return this._engine.sanityCheck(rgba, width, height, rest, { signal, onProgress });
    });
  }

  /** A layer's activation: {layer, shape: [1, H, W, C], data: Float32Array (NHWC)}. */
  activation(image, layer, o = {}) {
    return this._call(async () => {
      const { rgba, width, height } = await this._pixels(image);
      return this._engine.activation(rgba, width, height, layer, o);
    });
  }

  /** Colour an explanation's map again (no network pass): {heatmap, overlay}, over options.image,
   *  or the image of the kept pass when the explanation is of it. */
  render(explanation, { image, ...options } = {}) {
    return this._call(async () => {
      const kept = image == null ? this._engine.keptImage(explanation && explanation.imageKey) : null;
      if (image == null && !kept) throw new GradCamError(ErrorCode.INVALID_ARGUMENT, 'give options.image: the explanation\'s image is no longer kept');
      const { rgba, width, height } = kept ? { rgba: kept.data, width: kept.width, height: kept.height } : await this._pixels(image);
      return this._engine.render(explanation.cam ?? explanation, rgba, width, height, options);
    });
  }

  layers() { return this._engine.layers(); }
  methods() { return this._engine.methods(); }
  colormaps() { return this._engine.colormaps(); }
  /** engine.js info() plus dir: the build folder that runs ('wasm-st', 'wasm-mt' or 'wasm-relaxed'). */
  info() { return { ...this._engine.info(), dir: this._dir }; }
  memory() { return this._engine.memory(); }
  setThreads(n) { return this._call(() => this._engine.setThreads(n)); }
  forget() { this._engine.forget(); }
  /** Free the module and end its threads (a threaded instance keeps Node running until then). */
  dispose() { this._engine.dispose(); }
}
