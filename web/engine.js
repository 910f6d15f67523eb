// engine.js - everything the worker does, with no transport and no DOM: instantiate one
// flavour of the WebAssembly core, load weights (project format, or Keras HDF5 converted with
// h5wasm), classify RGBA pixels. worker.js wires it to postMessage; the Node tests drive it
// directly with both flavours.
import { Core } from './core.js';
import { kerasH5Tensors } from './convert.js';
import { ErrorCode, GradCamError, toGradCamError } from './errors.js';

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

export class Engine {
  /**
   * @param {object} o
   * @param {Function} o.factory the flavour's Emscripten factory (default export of gradcam.mjs)
   * @param {WebAssembly.Module} o.wasmModule the compiled gradcam.wasm of that flavour
   * @param {'threaded'|'single'} o.mode
   * @param {number} o.threads threads for the forward pass (1 in single mode)
   * @param {boolean} [o.simd]
   * @param {object} [o.moduleOptions] extra Emscripten module options (locateFile, mainScriptUrlOrBlob)
   */
  static async create({ factory, wasmModule, mode, threads, simd = true, moduleOptions = {} }) {
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
    return new Engine(M, mode, threads, simd);
  }

  constructor(M, mode, threads, simd) {
    this.M = M;
    this.core = new Core(M);
    this.mode = mode;
    this.threadCount = mode === 'threaded' ? Math.max(1, Math.min(MAX_THREADS, threads | 0)) : 1;
    this.simd = simd;
    this._layers = null;
  }

  info() {
    return { mode: this.mode, threads: this.threadCount, simd: this.simd, version: this.core.version(), loaded: !!this.core.model };
  }

  layers() {
    if (!this._layers) this._layers = this.core.layers();
    return this._layers;
  }

  /** Explanation methods the package offers: none until explain() is wired to the core's
   *  methods (Core.methods() lists what the core itself has). */
  methods() {
    return [];
  }

  setThreads(n) {
    if (!Number.isInteger(n) || n < 1) throw new GradCamError(ErrorCode.INVALID_ARGUMENT, `threads must be a positive integer, not ${n}`);
    this.threadCount = this.mode === 'threaded' ? Math.min(MAX_THREADS, n) : 1;
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
   * @returns {Promise<{format: 'gcw'|'h5', bytes: number, params: number}>}
   */
  async loadWeights(bytes, { dtype = 'f16', h5wasm, onProgress = () => {}, signal } = {}) {
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
    return { format: format === 'h5' ? 'h5' : 'gcw', bytes: gcw.length, params: this.core.paramCount() };
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
        throw new GradCamError(ErrorCode.WEIGHTS_INVALID, `not Keras Xception weights: ${e.message || e}`, (e && e.name === 'CoreError' && e.code) || 'KERAS_H5');
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
    if (!Number.isInteger(topK) || topK < 1 || topK > 1000) {
      throw new GradCamError(ErrorCode.INVALID_ARGUMENT, `topK must be an integer in 1..1000, not ${topK}`);
    }
    checkImage(pixels, width, height);
    if (!this.core.model) throw new GradCamError(ErrorCode.NOT_LOADED, 'no weights are loaded: load weights before classifying');
    const t0 = now();
    this._run(() => this.core.forwardImage(pixels, width, height, 4));
    const forward = now() - t0;
    const logits = this.core.logits();
    const probs = this.core.probs();
    const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
    const top = order.slice(0, topK).map((index) => ({ index, name: this.core.className(index), prob: probs[index], logit: logits[index] }));
    return { top, logits, probs, timings: { forward } };
  }

  /** Grad-CAM and friends need the core's backward pass, which this build does not have yet. */
  explain() {
    throw new GradCamError(ErrorCode.NOT_IMPLEMENTED, 'explain() is not available in this build: the core has no backward pass yet');
  }

  dispose() {
    try { this.core.free(); } catch { /* module already broken */ }
    const pt = this.M && this.M.PThread;
    if (pt && pt.terminateAllThreads) pt.terminateAllThreads();
  }

  // run a core call, turning what it throws into a GradCamError
  _run(fn) {
    try {
      return fn();
    } catch (e) {
      throw toGradCamError(e);
    }
  }
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
