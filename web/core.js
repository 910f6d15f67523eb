// core.js - a thin, synchronous JavaScript wrapper around one instance of the WebAssembly
// core (gradcam.wasm, either flavour). It copies inputs into the module's memory, calls the
// _gcw_* exports and copies results out, turning non-zero statuses into CoreError.
// It runs wherever the module runs: Node, a Web Worker, or a page. The public, worker-based
// API builds on it.

const GCW_MAGIC = [0x47, 0x43, 0x41, 0x4d, 0x57, 0x54, 0x53, 0x00]; // "GCAMWTS\0"

/** True for the bytes of a .gcw file (or a truncated one: the core names what is wrong). */
export function isGcw(u8) {
  const n = Math.min(u8.length, GCW_MAGIC.length);
  return n > 0 && GCW_MAGIC.slice(0, n).every((b, i) => u8[i] === b);
}

/** An error from the C core: `code` is the status name without its GC_ERR_ prefix
 *  (e.g. "WEIGHTS_CHECKSUM", "LAYER_UNKNOWN"), `message` says what went wrong. */
export class CoreError extends Error {
  constructor(code, message, status) {
    super(message);
    this.name = 'CoreError';
    this.code = code;
    this.status = status;
  }
}

export class Core {
  /** @param {object} module an instantiated Emscripten module (createGradCamModule()) */
  constructor(module) {
    this.M = module;
    this.model = 0;
  }

  /** Instantiate the module from its factory and wrap it. */
  static async create(factory, moduleOptions = {}) {
    return new Core(await factory(moduleOptions));
  }

  // ---- memory helpers -------------------------------------------------------------------
  _alloc(bytes) {
    const p = this.M._malloc(Math.max(1, bytes));
    if (!p) throw new CoreError('OUT_OF_MEMORY', `cannot allocate ${bytes} bytes in the WebAssembly heap`, 2);
    return p;
  }
  _str(s) {
    const n = this.M.lengthBytesUTF8(s) + 1;
    const p = this._alloc(n);
    this.M.stringToUTF8(s, p, n);
    return p;
  }
  _u32(p) { return new Uint32Array(this.M.HEAPU8.buffer, p, 1)[0]; }
  _i32s(p, n) { return Array.from(new Int32Array(this.M.HEAPU8.buffer, p, n)); }
  _f32copy(p, n) { return new Float32Array(this.M.HEAPU8.buffer, p, n).slice(); }
  _check(status, detail) {
    if (status === 0) return;
    const full = this.M.UTF8ToString(this.M._gcw_status_string(status)); // "GC_ERR_X: text"
    const colon = full.indexOf(':');
    const code = full.slice(0, colon).replace(/^GC_ERR_/, '');
    const text = full.slice(colon + 2);
    throw new CoreError(code, detail ? `${text}: ${detail}` : text, status);
  }
  _modelError() { return this.model ? this.M.UTF8ToString(this.M._gcw_last_error(this.model)) : ''; }
  _need() {
    if (!this.model) throw new CoreError('NOT_LOADED', 'no weights are loaded', -1);
  }

  version() { return this.M.UTF8ToString(this.M._gcw_version()); }

  /** 'portable' (multiply, then add: the SIMD builds) or 'fma' (the relaxed SIMD build's
   *  relaxed_madd, fused where the CPU can). */
  arithmetic() { return this.M.UTF8ToString(this.M._gcw_arithmetic()); }

  /** Current size of the module's memory in bytes (it grows on demand up to 2 GB and never
   *  shrinks; freed blocks are reused). */
  heapBytes() {
    this.version(); // any heap access refreshes a view that a thread's growth left stale
    return this.M.HEAPU8.buffer.byteLength;
  }

  // ---- weights ----------------------------------------------------------------------------
  /** Load weights in the project format (.gcw), or any single model file the core reads. */
  load(bytes, { threads = 1 } = {}) {
    const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const buf = this._alloc(u8.length);
    this.M.HEAPU8.set(u8, buf);
    return this.loadHeap(buf, u8.length, { threads, file: isGcw(u8) ? u8 : null });
  }

  /** Load from bytes malloc'ed in the module's memory: the model takes them (no second copy of
   *  the file in the module's memory, which never shrinks) and frees them, also on failure.
   *  `file`: the same .gcw outside the module's memory, kept by reference (left unchanged by the
   *  caller): the model then frees its own copy and reads the tensors it needs later (backward
   *  operators are made on first use) from this one (gc_model_set_weights_reader: each read is
   *  checked against the tensor's hash, so a changed file gives WEIGHTS_CHECKSUM). */
  loadHeap(ptr, size, { threads = 1, file = null } = {}) {
    this.free();
    let out = 0, err = 0;
    try {
      out = this._alloc(4);
      err = this._alloc(256);
    } catch (e) {
      if (out) this.M._free(out);
      this.M._free(ptr);
      throw e;
    }
    try {
      this.M.HEAPU8[err] = 0;
      const s = this.M._gcw_load(ptr, size, threads, out, err, 256);
      this._check(s, this.M.UTF8ToString(err));
      this.model = this._u32(out);
    } finally {
      this.M._free(out);
      this.M._free(err);
    }
    if (file) {
      (this.M.gradcamFiles ??= new Map()).set(this.model, file); // library.js gcw_js_read_weights reads it
      try {
        this._check(this.M._gcw_release_weights(this.model), this._modelError());
      } catch (e) {
        this.free(); // no half-set-up model
        throw e;
      }
    }
    return this;
  }

  /** Bytes of its weights file the model holds in the module's memory (0 while released). */
  weightsHeld() { this._need(); return this.M._gcw_weights_held(this.model); }

  free() {
    if (this.model) {
      this.M.gradcamFiles?.delete(this.model);
      this.M._gcw_free(this.model);
    }
    this.model = 0;
  }

  setThreads(n) { this._need(); this._check(this.M._gcw_set_threads(this.model, n), this._modelError()); }
  threads() { this._need(); return this.M._gcw_threads(this.model); }
  paramCount() { this._need(); return this.M._gcw_param_count(this.model); }

  // ---- forward --------------------------------------------------------------------------
  /** Run on a preprocessed NHWC float tensor (values in [-1, 1]). */
  forwardTensor(x, height, width) {
    this._need();
    const p = this._alloc(x.length * 4);
    try {
      new Float32Array(this.M.HEAPU8.buffer, p, x.length).set(x);
      this._check(this.M._gcw_forward_tensor(this.model, p, height, width), this._modelError());
    } finally {
      this.M._free(p);
    }
  }

  /** Run on 8-bit RGBA (channels 4, e.g. ImageData.data) or RGB (channels 3) pixels, resized
   *  to size x size (71..1024: smaller is faster and coarser), or to the model's input size
   *  (299x299 for ImageNet) when size is 0 or omitted. */
  forwardImage(pixels, width, height, channels = 4, stride = width * channels, size = 0) {
    this._need();
    const n = pixels.length;
    const p = this._alloc(n);
    try {
      this.M.HEAPU8.set(pixels, p);
      const s = this.M._gcw_forward_image_size(this.model, p, width, height, stride, channels, size || 0);
      this._check(s, this._modelError());
    } finally {
      this.M._free(p);
    }
  }

  /** Decode an image file's bytes (PNG, JPEG, BMP, GIF, TGA, PSD, PNM) with the core's
   *  stb_image, as the native CLI does: {rgba: Uint8Array, width, height}. */
  decodeImage(bytes) {
    const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const buf = this._alloc(u8.length);
    const out = this._alloc(12);
    const err = this._alloc(256);
    try {
      this.M.HEAPU8.set(u8, buf);
      this.M.HEAPU8[err] = 0;
      this._check(this.M._gcw_decode_image(buf, u8.length, out, out + 4, err, 256), this.M.UTF8ToString(err));
      const [width, height] = this._i32s(out + 4, 2);
      const px = this._u32(out);
      const rgba = this.M.HEAPU8.slice(px, px + width * height * 4);
      this.M._free(px);
      return { rgba, width, height };
    } finally {
      for (const p of [buf, out, err]) this.M._free(p);
    }
  }

  logits() { this._need(); return this._f32result(this.M._gcw_logits(this.model), this.classCount()); }
  probs() { this._need(); return this._f32result(this.M._gcw_probs(this.model), this.classCount()); }
  _f32result(p, n) {
    if (!p && this.model && !this.classCount()) throw new CoreError('NO_HEAD', 'the model has no classifier (a notop file): it gives activations and class-free methods only', -1);
    if (!p) throw new CoreError('NOT_RUN', 'no forward pass has run yet', 17);
    return this._f32copy(p, n);
  }

  /** The k best classes: [{index, name, prob, logit}], best first (ties: lower index). */
  topK(k = 5) {
    const logits = this.logits();
    const probs = this.probs();
    const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
    return order.slice(0, k).map((index) => ({ index, name: this.className(index), prob: probs[index], logit: logits[index] }));
  }

  /** A named activation of the last forward pass: {shape: [1,H,W,C], data: Float32Array}. */
  activation(layer) {
    this._need();
    const name = this._str(layer);
    const out = this._alloc(4 + 20);
    try {
      const s = this.M._gcw_activation(this.model, name, out, out + 4);
      this._check(s, this._modelError());
      const ptr = this._u32(out);
      const d = this._i32s(out + 4, 5);
      const shape = d.slice(1, 1 + d[0]);
      return { shape, data: this._f32copy(ptr, shape.reduce((a, b) => a * b, 1)) };
    } finally {
      this.M._free(name);
      this.M._free(out);
    }
  }

  // ---- layers and classes ---------------------------------------------------------------
  /** The layers with their shapes for an input of height x width: the loaded model's (0, 0: its
   *  input size), or the ImageNet model's before any is loaded. */
  layers(height = 0, width = 0) {
    const out = [];
    const dims = this._alloc(20);
    const M = this.M, m = this.model;
    try {
      const count = m ? M._gcw_model_layer_count(m) : M._gcw_layer_count();
      for (let i = 0; i < count; i++) {
        const namePtr = m ? M._gcw_model_layer_name(m, i) : M._gcw_layer_name(i);
        this._check(m ? M._gcw_model_layer_shape(m, namePtr, height, width, dims)
          : M._gcw_layer_shape(namePtr, height, width, dims)); // 0, 0: the ImageNet model's input size
        const d = this._i32s(dims, 5);
        out.push({ name: this.M.UTF8ToString(namePtr), shape: d.slice(1, 1 + d[0]) });
      }
    } finally {
      this.M._free(dims);
    }
    return out;
  }
  /** Class i's name: the model's (its file's, or set by setClassNames), the ImageNet name for the
   *  ImageNet head, else "class i"; null for an index that is not one of its classes. */
  className(i) {
    if (!Number.isInteger(i) || i < 0 || i >= this.classCount()) return null;
    const p = this.model ? this.M._gcw_model_class_name(this.model, i) : this.M._gcw_class_name(i);
    return p ? this.M.UTF8ToString(p) : `class ${i}`;
  }
  classCount() { return this.model ? this.M._gcw_model_classes(this.model) : 0; }

  /** What the loaded model is: {base, inputSize: [h, w], classes, head, source, inferred}. */
  modelInfo() {
    this._need();
    const M = this.M;
    const buf = this._alloc(256);
    try {
      M._gcw_model_input_size(this.model, buf);
      const [h, w] = this._i32s(buf, 2);
      this._check(M._gcw_model_head(this.model, buf, 256));
      return {
        base: 'xception', inputSize: [h, w], classes: M._gcw_model_classes(this.model), head: M.UTF8ToString(buf),
        source: M.UTF8ToString(M._gcw_model_source(this.model)), inferred: !!M._gcw_model_head_inferred(this.model),
      };
    } finally {
      M._free(buf);
    }
  }

  /** Replace the class names (as many as the model has classes; [] restores the defaults). */
  setClassNames(names) {
    this._need();
    const ptrs = names.map((n) => this._str(String(n)));
    const arr = this._alloc(4 * Math.max(1, ptrs.length));
    try {
      new Uint32Array(this.M.HEAPU8.buffer, arr, ptrs.length).set(ptrs);
      this._check(this.M._gcw_model_set_class_names(this.model, arr, ptrs.length), this._modelError());
    } finally {
      for (const p of ptrs) this.M._free(p);
      this.M._free(arr);
    }
  }
  classWnid(i) { const p = this.M._gcw_class_wnid(i); return p ? this.M.UTF8ToString(p) : null; }

  // ---- gradients and explanations ------------------------------------------------------
  /** The core's method registry: [{name, label, summary, formula, reference, usesLayer, channels,
   *  needsClass, multiPass, params: [{name, cli, label, min, max, default, integer, special}]}]. */
  methods() {
    if (this.M.gradcamMethods) return this.M.gradcamMethods;
    const M = this.M;
    const text = (p) => (p ? M.UTF8ToString(p) : null);
    const out = [];
    for (let i = 0; i < M._gcw_method_count(); i++) {
      const params = [];
      for (let k = 0; k < M._gcw_method_flag(i, 4); k++) {
        params.push({
          name: text(M._gcw_method_param_text(i, k, 0)), cli: text(M._gcw_method_param_text(i, k, 1)),
          label: text(M._gcw_method_param_text(i, k, 2)), special: text(M._gcw_method_param_text(i, k, 3)),
          min: M._gcw_method_param_num(i, k, 0), max: M._gcw_method_param_num(i, k, 1),
          default: M._gcw_method_param_num(i, k, 2), integer: !!M._gcw_method_param_num(i, k, 3),
        });
      }
      out.push({
        name: text(M._gcw_method_text(i, 0)), label: text(M._gcw_method_text(i, 1)), summary: text(M._gcw_method_text(i, 2)),
        formula: text(M._gcw_method_text(i, 3)), reference: text(M._gcw_method_text(i, 4)),
        usesLayer: !!M._gcw_method_flag(i, 0), channels: M._gcw_method_flag(i, 1), needsClass: !!M._gcw_method_flag(i, 2),
        multiPass: !!M._gcw_method_flag(i, 3), params,
      });
    }
    M.gradcamMethods = out; // one registry per module: every model on it shares it
    return out;
  }

  colormaps() {
    const out = [];
    for (let i = 0; i < this.M._gcw_colormap_count(); i++) out.push(this.M.UTF8ToString(this.M._gcw_colormap_name(i)));
    return out;
  }

  /** d score / d activation (layer name, or 'input'): {shape, data}. */
  gradient(classIndex, layer = 'input', { target = 'logit', guided = false } = {}) {
    this._need();
    const name = this._str(layer);
    const out = this._alloc(24);
    try {
      const s = this.M._gcw_gradient(this.model, classIndex, name, target === 'prob' ? 1 : 0, guided ? 1 : 0, out, out + 4);
      this._check(s, this._modelError());
      const d = this._i32s(out + 4, 5);
      const shape = d.slice(1, 1 + d[0]);
      return { shape, data: this._f32copy(this._u32(out), shape.reduce((a, b) => a * b, 1)) };
    } finally {
      this.M._free(name);
      this.M._free(out);
    }
  }

  /**
   * Explain the last forward pass.
   * @param {object} o method, classIndex (-1: top-1), contrastClass (-1: none), layer, target
   *   ('logit'|'prob'), onProgress(done, total) (return true to cancel: CANCELLED), and the
   *   method's parameters by their registry names (samples, sigma, seed, steps, channels, ...;
   *   a parameter's `special` word, e.g. channels: 'all', means its minimum)
   * @returns {{classIndex, height, width, channels, data: Float32Array}} the raw map
   */
  explain({ method = 'gradcam', classIndex = -1, contrastClass = -1, layer = 'block14_sepconv2_act', target = 'logit',
    onProgress, ...params } = {}) {
    this._need();
    const M = this.M;
    const mp = this._str(method);
    const p = M._gcw_params_new(mp);
    M._free(mp);
    if (!p) throw new CoreError('INVALID_ARGUMENT', `unknown method '${method}'`, 1);
    const l = this._str(layer || '');
    const out = this._alloc(4 + 16);
    const err = this._alloc(256);
    const info = this.methods().find((x) => x.name === method);
    try {
      for (const [k, v] of Object.entries(params)) {
        if (v === undefined) continue;
        const q = info.params.find((x) => x.name === k);
        const value = q && q.special && v === q.special ? q.min : v;
        const name = this._str(k);
        const s = M._gcw_params_set(p, name, typeof value === 'number' ? value : NaN, err, 256);
        M._free(name);
        this._check(s, M.UTF8ToString(err));
      }
      M._gcw_params_target(p, classIndex, contrastClass, l, target === 'prob' ? 1 : 0);
      M.gradcamProgress = onProgress ? (done, total) => (onProgress(done, total) ? 1 : 0) : null;
      const s = M._gcw_explain_with(this.model, p, out, out + 4);
      this._check(s, this._modelError());
      const [height, width, ch, cls] = this._i32s(out + 4, 4);
      return { classIndex: cls, height, width, channels: ch, data: this._f32copy(this._u32(out), height * width * ch) };
    } finally {
      M.gradcamProgress = null;
      M._gcw_params_free(p);
      for (const q of [l, out, err]) M._free(q);
    }
  }

  /** What the last explanation weighed: {weights: Float32Array(K), preRelu: {height, width, data}}
   *  for the channel-weighted methods, null for the others. */
  explainDetail() {
    this._need();
    const out = this._alloc(20);
    try {
      this._check(this.M._gcw_explain_detail(this.model, out, out + 4, out + 8));
      const [k, h, w] = this._i32s(out + 8, 3);
      const wp = this._u32(out), pp = this._u32(out + 4);
      if (!wp) return null;
      return { weights: this._f32copy(wp, k), preRelu: { height: h, width: w, data: this._f32copy(pp, h * w) } };
    } finally {
      this.M._free(out);
    }
  }

  /** A second model on the same module: this one with its layers from `layer` to the output
   *  given fresh random weights (the sanity check's cascading randomisation; the same seed gives
   *  the same weights). Free it with free() when done. */
  randomized(layer, seed = 1, { threads = 1 } = {}) {
    this._need();
    const name = this._str(layer);
    const out = this._alloc(8);
    const err = this._alloc(256);
    try {
      this.M.HEAPU8[err] = 0;
      this._check(this.M._gcw_model_randomized(this.model, name, seed >>> 0, out, out + 4, err, 256), this.M.UTF8ToString(err));
      return new Core(this.M).loadHeap(this._u32(out), this._u32(out + 4), { threads }); // takes the file
    } finally {
      for (const q of [name, out, err]) this.M._free(q);
    }
  }

  /** Class names from a labels file's bytes (one per line, a JSON list or object, Keras'
   *  imagenet_class_index.json), as many as the model has classes (else LABELS). */
  setLabels(bytes) {
    this._need();
    const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const buf = this._alloc(u8.length);
    const err = this._alloc(256);
    try {
      this.M.HEAPU8.set(u8, buf);
      this.M.HEAPU8[err] = 0;
      this._check(this.M._gcw_model_set_labels(this.model, buf, u8.length, err, 256), this.M.UTF8ToString(err));
    } finally {
      this.M._free(buf);
      this.M._free(err);
    }
  }

  /**
   * Heatmap and overlay (RGBA8, image-sized) of a map for an image.
   * @param {{height, width, channels, data}} map
   * @param {Uint8Array|Uint8ClampedArray} pixels RGBA (or RGB with channels 3)
   */
  render(map, pixels, width, height, { colormap = 'jet', alpha = 0.4, blend = 'additive', channels = 4, scale = 'max' } = {}) {
    const mp = this._alloc(map.data.length * 4);
    const img = this._alloc(pixels.length);
    const cm = this._str(colormap);
    const n = width * height * 4;
    const heat = this._alloc(n);
    const over = this._alloc(n);
    try {
      new Float32Array(this.M.HEAPU8.buffer, mp, map.data.length).set(map.data);
      this.M.HEAPU8.set(pixels, img);
      // scale: 0 keras.io's (divide by the maximum), 1 the 99th percentile of the pixel-attribution papers
      const s = this.M._gcw_render_scaled(mp, map.height, map.width, map.channels, img, width, height, width * channels,
        channels, cm, scale === 'percentile' ? 1 : 0, alpha, blend === 'alpha' ? 1 : 0, heat, over);
      if (s === 1 && !this.colormaps().includes(colormap)) {
        throw new CoreError('INVALID_ARGUMENT', `unknown colormap '${colormap}'`, s);
      }
      this._check(s);
      return { heatmap: this.M.HEAPU8.slice(heat, heat + n), overlay: this.M.HEAPU8.slice(over, over + n) };
    } finally {
      for (const p of [mp, img, cm, heat, over]) this.M._free(p);
    }
  }

  /** Deletion / insertion curves and AUC, average drop, increase in confidence. */
  metrics(map, classIndex, { steps = 16, baseline = 'blur', onProgress } = {}) {
    this._need();
    const mp = this._alloc(map.data.length * 4);
    const out = this._alloc((2 * steps + 6) * 4);
    try {
      new Float32Array(this.M.HEAPU8.buffer, mp, map.data.length).set(map.data);
      this.M.gradcamProgress = onProgress ? (done, total) => (onProgress(done, total) ? 1 : 0) : null;
      const s = this.M._gcw_metrics(this.model, mp, map.height, map.width, classIndex, steps,
        baseline === 'mean' ? 1 : 0, out);
      this._check(s, this._modelError());
      const r = this._f32copy(out, 2 * steps + 6);
      return {
        steps,
        deletion: r.slice(0, steps + 1),
        insertion: r.slice(steps + 1, 2 * steps + 2),
        deletionAuc: r[2 * steps + 2],
        insertionAuc: r[2 * steps + 3],
        averageDrop: r[2 * steps + 4],
        increaseInConfidence: r[2 * steps + 5] === 1,
      };
    } finally {
      this.M.gradcamProgress = null;
      this.M._free(mp);
      this.M._free(out);
    }
  }
}
