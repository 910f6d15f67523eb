// worker.js - the dedicated module Web Worker that does all the computation of one GradCam
// instance. It runs one call at a time (the page side queues them); the messages and operations
// are defined in protocol.js. init answers with the compiled WebAssembly.Module too, so the page
// can start a fresh worker without compiling again (GradCam's restartOnAbort) by passing it back
// as args.wasmModule. Weights arrive as a URL (a TF.js model.json's shards are fetched next to
// it), a Blob, bytes, or several files; they are converted here by the core's import API.
// Images arrive as {kind: 'pixels', data, width, height}, {kind: 'bitmap', bitmap} or
// {kind: 'blob', blob}; bitmaps and blobs are turned into RGBA pixels here with an
// OffscreenCanvas, without colour management, at full resolution (the core resizes).
import { Engine } from './engine.js';
import { ErrorCode, GradCamError, toGradCamError } from './errors.js';
import { isJson, shardPaths } from './import.js';
import * as P from './protocol.js';

let engine = null;
let flag = null; // the page's cancel flag (protocol.js), when it shares one
const running = new Map(); // call id -> AbortController

const ops = {
  // dir and build come from chooseBuild() (index.js). The relaxed SIMD build falls back to
  // wasm-mt/ when its files cannot be fetched or compiled (a site that copied only the two
  // older folders, an engine that validates the probe but not the module). A restarted worker
  // gets the module compiled before (wasmModule) and the build it came from.
  // files: {folder: {file name: URL}} (builds.js).
  async init({ files, dir, mode, build, threads, simd, wasmModule: compiled, cancelFlag }, ctl, progress) {
    if (engine) throw new GradCamError(ErrorCode.INTERNAL, 'init called twice');
    flag = cancelFlag || null;
    let loaded;
    try {
      loaded = await loadBuild(files[dir], ctl, progress, compiled);
    } catch (e) {
      if (build !== 'relaxed' || ctl.signal.aborted || (e instanceof GradCamError && e.code === ErrorCode.OUT_OF_MEMORY)) throw e;
      build = 'simd';
      dir = 'wasm-mt';
      loaded = await loadBuild(files[dir], ctl, progress);
    }
    // the glue asks for its files by name: give it the URLs it was loaded with (a bundler's
    // asset names); threaded, its pthread workers import the glue from mainScriptUrlOrBlob
    const urls = loaded.urls;
    if (urls['gradcam.worker.js']) startAsModule(urls['gradcam.worker.js']);
    engine = await Engine.create({
      factory: loaded.factory, wasmModule: loaded.wasmModule, mode, threads, simd, build,
      moduleOptions: { locateFile: (f) => urls[f] ?? f, mainScriptUrlOrBlob: urls['gradcam.mjs'] },
    });
    return {
      info: engine.info(), layers: engine.layers(), methods: engine.methods(), colormaps: engine.colormaps(),
      wasmModule: loaded.wasmModule, build: { dir, build },
    };
  },

  async weights({ source, labels, dtype, keepConverted }, ctl, progress, id) {
    need();
    const download = (loaded, total) => progress({ phase: 'download', loaded, total });
    const files = await readSource(source, ctl.signal, download);
    const labelBytes = labels ? (await readSource(labels, ctl.signal, () => {}, true))[0].bytes : null;
    abortCheck(ctl.signal);
    const r = await engine.loadWeights(files, {
      dtype, labels: labelBytes, onProgress: progress, signal: ctl.signal, cancelled: P.cancelled(flag, id), keepConverted,
    });
    return { ...r, info: engine.info(), layers: engine.layers() };
  },

  async classify({ image, topK, inputSize }) {
    need();
    const t0 = performance.now();
    const { data, width, height } = await pixelsOf(image);
    const decode = performance.now() - t0;
    const r = engine.classify(data, width, height, { topK, inputSize });
    r.timings.decode = decode;
    return r;
  },

  // forward -> explain -> render (-> metrics) for one class or the topK best; the maps, heatmaps
  // and overlays are transferred
  async explain({ image, options }, ctl, progress, id) {
    need();
    const t0 = performance.now();
    const { data, width, height } = await pixelsOf(image);
    const decode = performance.now() - t0;
    abortCheck(ctl.signal);
    const r = await engine.explain(data, width, height, options, { signal: ctl.signal, onProgress: progress, cancelled: P.cancelled(flag, id) });
    for (const x of Array.isArray(r) ? r : [r]) x.timings.decode = decode;
    return r;
  },

  // the sanity check: maps of the model and of copies with randomised top layers
  async sanity({ image, options }, ctl, progress, id) {
    need();
    const { data, width, height } = await pixelsOf(image);
    abortCheck(ctl.signal);
    return engine.sanityCheck(data, width, height, options, { signal: ctl.signal, onProgress: progress, cancelled: P.cancelled(flag, id) });
  },

  // a map rendered again on the image of the kept pass (or the image sent along): no network pass
  async render({ cam, imageKey, image, options }) {
    need();
    let px = imageKey ? engine.keptImage(imageKey) : null;
    if (!px) {
      if (!image) throw new GradCamError(ErrorCode.INVALID_ARGUMENT, 'the image of this explanation is no longer kept in the worker: pass it as the image option', 'IMAGE_NOT_KEPT');
      px = await pixelsOf(image);
    }
    return engine.render(cam, px.data, px.width, px.height, options);
  },

  async activation({ image, layer, inputSize }) {
    need();
    const { data, width, height } = await pixelsOf(image);
    return engine.activation(data, width, height, layer, { inputSize });
  },

  async forget() {
    need();
    engine.forget();
    return true;
  },

  async memory() {
    need();
    return engine.memory();
  },

  async threads({ threads }) {
    need();
    return { threads: engine.setThreads(threads), info: engine.info() };
  },

  async dispose() {
    if (engine) engine.dispose();
    engine = null;
    return true;
  },
};

/**
 * The Emscripten factory and compiled module of one build, from its files' URLs ({name: URL},
 * builds.js). Also the URLs the glue will ask for: a pthread worker script that a bundler
 * inlined as a data: URL (a small asset) becomes a blob: URL, which, unlike a data: URL, starts a
 * worker of this origin (one that may import the glue and share the memory).
 */
async function loadBuild(urls, ctl, progress, compiled) {
  const glue = urls['gradcam.mjs'];
  try {
    const worker = urls['gradcam.worker.js'];
    const [mod, bytes, workerUrl] = await Promise.all([
      import(/* @vite-ignore */ /* webpackIgnore: true */ glue),
      compiled ? null : fetchBytes(urls['gradcam.wasm'], ctl.signal, (loaded, total) => progress({ phase: 'compile', loaded, total })),
      worker && worker.startsWith('data:') ? fetch(worker).then((r) => r.blob()).then((b) => URL.createObjectURL(b)) : worker,
    ]);
    if (typeof mod.default !== 'function') throw new Error(`${glue} is not the Emscripten module (no default export)`);
    return { urls: { ...urls, 'gradcam.worker.js': workerUrl }, factory: mod.default, wasmModule: compiled || await WebAssembly.compile(bytes) };
  } catch (e) {
    if (ctl.signal.aborted) throw new GradCamError(ErrorCode.ABORTED, 'the operation was aborted');
    if (e instanceof GradCamError && e.code === ErrorCode.OUT_OF_MEMORY) throw e;
    throw new GradCamError(ErrorCode.WASM_LOAD_FAILED, `could not load the WebAssembly core from ${glue} (without a bundler, wasmBase names the folder holding wasm-st/, wasm-mt/ and wasm-relaxed/): ${e.message || e}`);
  }
}

/**
 * Start the pthread worker script as a module worker. Emscripten 3.1.6 starts it as a classic
 * script (`new Worker(url)`), but a development server may serve every .js file as a module
 * (`vite dev` adds an import to this one, which imports the glue); the script is valid as either.
 * Only this worker's own Worker constructor is changed, for that one URL.
 */
function startAsModule(url) {
  const Native = self.Worker;
  if (typeof Native !== 'function' || Native.gradcamModuleUrl === url) return;
  self.Worker = class extends Native {
    static gradcamModuleUrl = url;
    constructor(u, options) {
      super(u, String(u) === url ? { ...options, type: 'module' } : options);
    }
  };
}

function need() {
  if (!engine) throw new GradCamError(ErrorCode.NOT_LOADED, 'the WebAssembly core is not loaded');
}

function abortCheck(signal) {
  if (signal.aborted) throw new GradCamError(ErrorCode.ABORTED, 'the operation was aborted');
}

/** GET a URL into one Uint8Array, reporting progress; errors become `failCode`. */
async function fetchBytes(url, signal, onProgress, failCode = ErrorCode.WASM_LOAD_FAILED, what = null) {
  let res;
  try {
    res = await fetch(url, { signal, credentials: 'same-origin' });
  } catch (e) {
    abortCheck(signal);
    throw new GradCamError(failCode, `could not fetch ${what ? `the ${what} ` : ''}${url}: ${e.message || e}`);
  }
  if (!res.ok) throw new GradCamError(failCode, `could not fetch ${what ? `the ${what} ` : ''}${url}: HTTP ${res.status} ${res.statusText}`.trim());
  const length = Number(res.headers.get('content-length')) || 0;
  // a compressed response's Content-Length counts compressed bytes: then report no total
  const total = res.headers.get('content-encoding') ? 0 : length;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks = [];
  let loaded = 0;
  onProgress(0, total);
  let out = total ? new Uint8Array(total) : null;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (out && loaded + value.length <= out.length) out.set(value, loaded);
      else { if (out) { chunks.push(out.subarray(0, loaded)); out = null; } chunks.push(value); }
      loaded += value.length;
      onProgress(loaded, total);
    }
  } catch (e) {
    abortCheck(signal);
    throw new GradCamError(failCode, `downloading ${url} failed: ${e.message || e}`);
  }
  if (out && loaded === out.length) return out;
  if (out) return out.subarray(0, loaded);
  const all = new Uint8Array(loaded);
  let o = 0;
  for (const c of chunks) { all.set(c, o); o += c.length; }
  return all;
}

const baseName = (url) => decodeURIComponent(new URL(url).pathname.split('/').pop() || 'the weights file');

/**
 * The files of a weights or labels source: [{name, bytes}]. A URL of a TF.js model.json brings
 * the shards its weightsManifest lists, fetched relative to it; download progress counts every
 * file's bytes.
 */
async function readSource(source, signal, onProgress, labels = false) {
  const failCode = labels ? ErrorCode.LABELS_INVALID : ErrorCode.WEIGHTS_FETCH_FAILED;
  const what = labels ? 'class names' : 'weights';
  if (source.url !== undefined) {
    const main = await fetchBytes(source.url, signal, onProgress, failCode, what);
    const files = [{ name: baseName(source.url), bytes: main }];
    const shards = labels || !isJson(main) ? [] : shardPaths(main);
    let before = main.length;
    for (const path of shards) {
      const url = new URL(path, source.url).href;
      const bytes = await fetchBytes(url, signal, (loaded, total) => onProgress(before + loaded, total && before + total), failCode, what);
      before += bytes.length;
      files.push({ name: path, bytes });
    }
    return files;
  }
  const list = source.files ?? [source];
  const total = list.reduce((n, f) => n + (f.blob ? f.blob.size : f.bytes.byteLength), 0);
  const out = [];
  let before = 0;
  for (const f of list) {
    const bytes = f.blob ? await readBlob(f.blob, signal, (loaded) => onProgress(before + loaded, total), failCode, what) : new Uint8Array(f.bytes);
    before += bytes.length;
    out.push({ name: f.name || (f.blob && f.blob.name) || (labels ? 'the class names file' : 'the weights file'), bytes });
  }
  return out;
}

async function readBlob(blob, signal, onProgress, failCode, what) {
  const total = blob.size;
  const out = new Uint8Array(total);
  const reader = blob.stream().getReader();
  let loaded = 0;
  onProgress(0, total);
  try {
    for (;;) {
      abortCheck(signal);
      const { done, value } = await reader.read();
      if (done) break;
      out.set(value, loaded);
      loaded += value.length;
      onProgress(loaded, total);
    }
  } catch (e) {
    if (e instanceof GradCamError) { reader.cancel().catch(() => {}); throw e; }
    throw new GradCamError(failCode, `could not read the ${what} file: ${e.message || e}`);
  }
  return out;
}

async function pixelsOf(image) {
  if (!image || typeof image !== 'object') throw new GradCamError(ErrorCode.IMAGE_INVALID, 'no image given');
  if (image.kind === 'pixels') return image;
  let bitmap = image.bitmap;
  if (image.kind === 'blob') {
    if (!image.blob.size) throw new GradCamError(ErrorCode.IMAGE_INVALID, 'the image file is empty');
    try {
      bitmap = await createImageBitmap(image.blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    } catch (e) {
      throw new GradCamError(ErrorCode.IMAGE_INVALID, `the file is not an image this browser can decode (${image.blob.type || 'unknown type'}): ${e.message || e}`);
    }
  }
  if (!bitmap || !bitmap.width || !bitmap.height) throw new GradCamError(ErrorCode.IMAGE_INVALID, 'the image has no pixels');
  const { width, height } = bitmap;
  let data;
  try {
    const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    ctx.drawImage(bitmap, 0, 0);
    data = ctx.getImageData(0, 0, width, height).data;
  } catch (e) {
    throw new GradCamError(ErrorCode.IMAGE_INVALID, `could not read the image's pixels (${width}x${height}): ${e.message || e}`);
  } finally {
    bitmap.close();
  }
  return { data, width, height };
}

/** Typed arrays and ImageData buffers in a result, to transfer instead of copy. */
function transferables(value, out = []) {
  if (!value || typeof value !== 'object') return out;
  if (ArrayBuffer.isView(value)) { if (!out.includes(value.buffer)) out.push(value.buffer); return out; }
  if (typeof ImageData !== 'undefined' && value instanceof ImageData) { out.push(value.data.buffer); return out; }
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    if (v && typeof v === 'object') transferables(v, out);
  }
  return out;
}

self.onmessage = async (ev) => {
  const msg = ev.data;
  if (msg.type === 'abort') {
    const ctl = running.get(msg.id);
    if (ctl) ctl.abort();
    return;
  }
  if (msg.type !== 'call') return;
  const { id, op, args } = msg;
  const ctl = new AbortController();
  running.set(id, ctl);
  const progress = (p) => self.postMessage(P.progress(id, p));
  try {
    if (!P.OPS.includes(op) || !(op in ops)) throw new GradCamError(ErrorCode.INTERNAL, `unknown operation ${op}`);
    const value = await ops[op](args || {}, ctl, progress, id);
    self.postMessage(P.result(id, value), transferables(value));
  } catch (e) {
    self.postMessage(P.error(id, toGradCamError(e)));
  } finally {
    running.delete(id);
  }
};
