// import.js - Keras model files into the project's format through the core's import API
// (gradcam.h: gc_import_*), which recognises every format by content with the project's own
// HDF5, ZIP and JSON readers: Keras 1/2 .h5, Keras 2 full-model .h5, Keras 3 .weights.h5 and
// .keras, a TF.js model.json with its shards, a .gcw. One tensor per step, so that callers can
// report progress and stop between tensors. Runs wherever the module runs (worker, Node).
import { CoreError, isGcw } from './core.js';

export { isGcw };

const DTYPES = { f32: 0, f16: 1 };

/** True for JSON text (after white space or a BOM): a TF.js model.json among its shards. */
export function isJson(u8) {
  let i = u8[0] === 0xef && u8[1] === 0xbb && u8[2] === 0xbf ? 3 : 0;
  while (i < u8.length && [0x20, 0x09, 0x0a, 0x0d].includes(u8[i])) i++;
  return u8[i] === 0x7b;
}

/** The files of a model, the main one first: a TF.js model.json is found by its content among
 *  its shards, whatever order they came in. files: [{name, bytes: Uint8Array}] */
export function mainFirst(files) {
  const i = files.length > 1 ? files.findIndex((f) => isJson(f.bytes)) : 0;
  return i > 0 ? [files[i], ...files.slice(0, i), ...files.slice(i + 1)] : files;
}

/** The shard paths a TF.js model.json lists (its weightsManifest), in order; [] when it lists none. */
export function shardPaths(modelJson) {
  let m;
  try {
    m = JSON.parse(new TextDecoder().decode(modelJson));
  } catch {
    return []; // the core says what is wrong with it
  }
  const groups = Array.isArray(m?.weightsManifest) ? m.weightsManifest : [];
  return [...new Set(groups.flatMap((g) => (Array.isArray(g?.paths) ? g.paths.filter((p) => typeof p === 'string') : [])))];
}

/**
 * One import: the files' bytes are copied into the module's memory (the core borrows them until
 * free()), then start() recognises the model, step() reads one tensor, finish() writes the .gcw.
 * Every failure throws a CoreError (H5, ZIP, JSON, CONVERT, LABELS, WEIGHTS_*, ...).
 */
export class ModelImport {
  /** @param {object} M the module; @param {{name: string, bytes: Uint8Array}[]} files main file first */
  constructor(M, files, labels = null) {
    this.M = M;
    this.ptrs = []; // everything allocated here, freed by free()
    try {
      this.err = this._alloc(256);
      this.scratch = this._alloc(8); // out-values of every call
      this._check(M._gcw_import_new(this.scratch));
      this.im = this._u32(0);
      for (const f of files) {
        const buf = this._bytes(f.bytes);
        this._check(M._gcw_import_add_file(this.im, this._str(f.name), buf, f.bytes.length));
      }
      if (labels) {
        M.HEAPU8[this.err] = 0;
        this._check(M._gcw_import_set_labels(this.im, this._bytes(labels), labels.length, this.err, 256), true);
      }
    } catch (e) {
      this.free();
      throw e;
    }
  }

  _alloc(n) {
    const p = this.M._malloc(Math.max(1, n));
    if (!p) throw new CoreError('OUT_OF_MEMORY', `cannot allocate ${n} bytes in the WebAssembly heap`, 2);
    if (this.ptrs) this.ptrs.push(p);
    return p;
  }
  _u32(i) { return new Uint32Array(this.M.HEAPU8.buffer, this.scratch, 2)[i]; }
  _bytes(u8) { const p = this._alloc(u8.length); this.M.HEAPU8.set(u8, p); return p; }
  _str(s) {
    const n = this.M.lengthBytesUTF8(s) + 1;
    const p = this._alloc(n);
    this.M.stringToUTF8(s, p, n);
    return p;
  }
  _check(status, withMessage = false) {
    if (status === 0) return;
    const full = this.M.UTF8ToString(this.M._gcw_status_string(status)); // "GC_ERR_X: text"
    const colon = full.indexOf(':');
    const detail = withMessage ? this.M.UTF8ToString(this.err) : '';
    throw new CoreError(full.slice(0, colon).replace(/^GC_ERR_/, ''), detail ? `${full.slice(colon + 2)}: ${detail}` : full.slice(colon + 2), status);
  }

  /** Recognise the format and read the model's definition: the number of tensors to read. */
  start() {
    this.M.HEAPU8[this.err] = 0;
    this._check(this.M._gcw_import_start(this.im, this.scratch, this.err, 256), true);
    this.total = this._u32(0);
    this.done = 0;
    return this.total;
  }

  /** What was recognised: {format, source, inputSize, classes, preprocessing, head, inferred, tensors, labels, note?}. */
  describe() {
    const p = this.M._gcw_import_describe(this.im);
    return p ? JSON.parse(this.M.UTF8ToString(p)) : null;
  }

  /** Read and check the next tensor; true once every tensor is read. */
  step() {
    this._check(this.M._gcw_import_step(this.im, this.scratch, this.err, 256), true);
    if (this.done < this.total) this.done++;
    return this._u32(0) !== 0;
  }

  /** The .gcw v2 file: a pointer and size in the module's memory (free the pointer with M._free). */
  finishHeap(dtype = 'f16') {
    if (!(dtype in DTYPES)) throw new CoreError('INVALID_ARGUMENT', `dtype must be 'f16' or 'f32', not ${dtype}`, 1);
    this._check(this.M._gcw_import_finish(this.im, DTYPES[dtype], this.scratch, this.scratch + 4, this.err, 256), true);
    return { ptr: this._u32(0), size: this._u32(1) };
  }

  free() {
    if (this.im) this.M._gcw_import_free(this.im);
    this.im = 0;
    for (const p of this.ptrs) this.M._free(p);
    this.ptrs = [];
  }
}
