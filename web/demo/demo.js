// The demo page: choose an image, see Xception's top 5, and explain any class with any of the
// core's methods, layers and colormaps, all through the npm package's API (../index.js).
// Served by `npm start` (tools/serve.mjs) from the repository; works offline after one visit
// (sw.js), and keeps the weights in Cache Storage so they are downloaded or chosen once.
//
// Query parameters: ?weights=URL (other weights), ?threads=N, ?nosw (no service worker).
// State for people and tests: body[data-state] (starting, loading, no-weights, ready,
// classifying, classified, explaining, explained, error, failed) and the counters
// body[data-classified], body[data-explained], body[data-guided], body[data-metrics].
import { GradCam } from '../index.js'; // layout: the package

// Where the WebAssembly builds, the site's weights, h5wasm and the site's root are, relative to
// this page: in the repository (npm start) they are outside web/demo/. `npm run site` writes a
// self-contained copy of the page with its own layout (tools/site.mjs rewrites the lines marked
// "layout").
const LAYOUT = { wasm: '../../build/', weights: '../../weights/xception.gcw', h5wasm: null, root: '../../' }; // layout

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const WEIGHTS_URL = new URL(params.get('weights') || LAYOUT.weights, location.href).href;
const WASM_BASE = LAYOUT.wasm;
const WEIGHTS_CACHE = 'xception-gradcam-weights';
const PICKED_KEY = new URL('picked-weights', location.href).href; // a Cache Storage key, never fetched

const SAMPLES = [
  ['cat', 'Chelsea the cat'],
  ['cat-and-dog', 'A dog and a cat'],
  ['coffee', 'A cup of coffee'],
  ['eagle', 'An eagle'],
  ['astronaut', 'An astronaut'],
  ['rocket', 'A rocket'],
];

/** Display names and one-sentence descriptions (used when methods() gives none). */
const METHOD_TEXT = {
  gradcam: ['Grad-CAM', 'Weights each feature map of the layer by the average gradient of the class score and keeps the positive part (Selvaraju et al. 2017).'],
  'gradcam++': ['Grad-CAM++', 'Like Grad-CAM, but weighs the positive gradients location by location, which helps when the object appears several times (Chattopadhay et al. 2018).'],
  hirescam: ['HiResCAM', 'Multiplies gradients and activations location by location before summing, so the map shows exactly what raised the score (Draelos & Carin 2020).'],
  xgradcam: ['XGrad-CAM', 'Grad-CAM with the gradients weighted by the normalised activations (Fu et al. 2020).'],
  layercam: ['LayerCAM', 'Keeps the positive gradients at each location, which gives finer maps at earlier layers (Jiang et al. 2021).'],
  eigencam: ['Eigen-CAM', 'The main principal component of the layer\'s activations: no gradient and no class, just what the layer responds to most (Muhammad & Yeasin 2020).'],
  scorecam: ['Score-CAM', 'Masks the image with each of the most active feature maps and weighs them by the class score they keep: no gradient, many forward passes (Wang et al. 2020).'],
  saliency: ['Saliency', 'How much the class score changes with each input pixel: the gradient\'s magnitude (Simonyan et al. 2014).'],
  'guided-backprop': ['Guided backpropagation', 'The input gradient with every ReLU passing only positive gradients: sharp edges, hardly class-specific (Springenberg et al. 2015).'],
  'guided-gradcam': ['Guided Grad-CAM', 'Guided backpropagation times the upsampled Grad-CAM: sharp and class-specific (Selvaraju et al. 2017).'],
  smoothgrad: ['SmoothGrad', 'The saliency averaged over noisy copies of the image, which removes the speckle (Smilkov et al. 2017).'],
  'integrated-gradients': ['Integrated gradients', 'Gradients summed along the path from a black image to this one, times the pixel differences (Sundararajan et al. 2017).'],
};
const INPUT_METHODS = ['saliency', 'guided-backprop', 'smoothgrad', 'integrated-gradients'];
/** The methods' own settings (methodOptions): [key, label, choices, the core's default]. */
const METHOD_SETTINGS = {
  scorecam: [['channels', 'Feature maps used as masks', [8, 16, 32, 64, 128], 32]],
  smoothgrad: [['samples', 'Noisy copies', [4, 8, 16, 32], 8], ['sigma', 'Noise', [0.05, 0.1, 0.15, 0.25], 0.15]],
  'integrated-gradients': [['steps', 'Steps from black', [4, 8, 16, 32, 64], 16]],
};
const DEFAULT_LAYER = 'block14_sepconv2_act';

const S = {
  gc: null,
  methods: [], // [{name, usesLayer, description}]
  image: null, // {source: Blob|ImageData, name, id}
  classes: null, // all 1000, best first
  classIndex: null,
  result: null,
  guided: null,
  ctl: null, // AbortController of the running classify/explain
  seq: 0,
  camera: null, // MediaStream
  live: false,
  weights: { loaded: false, pending: false },
  settings: {}, // method -> the methodOptions chosen
};
window.demo = S; // for the console and the tests

// ---- status, progress, errors ------------------------------------------------------------
const MB = (n) => (n / 1048576).toFixed(1);
const tasks = new Map(); // what is loading -> {text, progress}

function setTask(key, text, progress) {
  if (text == null) tasks.delete(key);
  else tasks.set(key, { text, progress });
  const list = [...tasks.values()];
  if (list.length) status(list.map((t) => t.text).join(' · '), list.find((t) => t.progress)?.progress ?? null);
}

function status(text, progress = undefined) {
  $('status').textContent = text;
  const bar = $('progress');
  if (progress === undefined || progress === null) { bar.hidden = progress === undefined; bar.removeAttribute('value'); return; }
  bar.hidden = false;
  if (progress.total) { bar.max = progress.total; bar.value = progress.loaded; } else bar.removeAttribute('value');
}

function setState(s) { document.body.dataset.state = s; }
function bump(counter) { document.body.dataset[counter] = String(Number(document.body.dataset[counter] || 0) + 1); }

function showError(e, prefix = '') {
  const el = $('error');
  if (!e) { el.hidden = true; el.textContent = ''; return; }
  el.hidden = false;
  const msg = e.message || String(e);
  el.textContent = `${prefix}${msg}${e.code ? ` (${e.code})` : ''}`;
}

function busy(on) { $('busy').hidden = !on; $('stage').setAttribute('aria-busy', on ? 'true' : 'false'); }

const pretty = (name) => name.replaceAll('_', ' ');
const pct = (p) => (p < 0.00005 ? '< 0.01 %' : `${(p * 100).toFixed(p >= 0.1 ? 1 : 2)} %`);
const ms = (t) => `${t < 10 ? t.toFixed(1) : t.toFixed(0)} ms`;

// ---- weights: from this site, kept in Cache Storage, or chosen by the user -----------------
async function weightsCache() {
  try { return await caches.open(WEIGHTS_CACHE); } catch { return null; } // no Cache Storage (e.g. not a secure context)
}

const sameFile = (kept, head) => kept.headers.get('content-length') === head.headers.get('content-length')
  && (kept.headers.get('last-modified') || '') === (head.headers.get('last-modified') || '');

/** Download the site's weights with progress: {blob, headers}, or null (missing / offline). */
async function downloadWeights() {
  let res;
  try { res = await fetch(WEIGHTS_URL, { cache: 'no-store' }); } catch { return null; }
  if (!res.ok) return null;
  const total = res.headers.get('content-encoding') ? 0 : Number(res.headers.get('content-length')) || 0;
  const reader = res.body.getReader();
  const chunks = [];
  let loaded = 0;
  setState('loading');
  setTask('weights', `Downloading the weights… 0.0${total ? ` / ${MB(total)}` : ''} MB`, { loaded, total });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      setTask('weights', `Downloading the weights… ${MB(loaded)}${total ? ` / ${MB(total)}` : ''} MB`, { loaded, total });
    }
  } catch (e) {
    showError(new Error(`The weights download stopped after ${MB(loaded)} MB: ${e.message || e}. Reload the page to try again.`));
    return null;
  }
  const blob = new Blob(chunks, { type: 'application/octet-stream' });
  const headers = { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) };
  if (res.headers.get('last-modified')) headers['last-modified'] = res.headers.get('last-modified');
  return { blob, headers };
}

/**
 * The weights to try, best first: the site's file kept from an earlier visit (unless the site
 * now has another one), the file the user chose earlier, the site's file downloaded now.
 * Each is {blob, from: 'site-kept'|'picked'|'site-new', name, headers?}.
 */
async function* weightsCandidates() {
  const cache = await weightsCache();
  setTask('weights', 'Looking for the weights…', null);
  const kept = cache && await cache.match(WEIGHTS_URL);
  let changed = false;
  if (kept) {
    const head = await fetch(WEIGHTS_URL, { method: 'HEAD', cache: 'no-store' }).catch(() => null);
    changed = !!head && head.ok && !sameFile(kept, head);
    if (!changed) yield { blob: await kept.blob(), from: 'site-kept', name: SITE_NAME };
  }
  const picked = cache && await cache.match(PICKED_KEY);
  if (picked && !changed) yield pickedCandidate(picked);
  setTask('weights', 'Looking for the weights on this site…', null);
  const got = await downloadWeights();
  if (got) yield { ...got, from: 'site-new', name: SITE_NAME };
  if (picked && changed) yield pickedCandidate(picked);
}
async function pickedCandidate(res) {
  return {
    blob: await res.blob(), from: 'picked', name: decodeURIComponent(res.headers.get('x-file-name') || 'weights'),
    converted: res.headers.get('x-converted-from') === 'h5',
  };
}
const SITE_NAME = new URL(WEIGHTS_URL).pathname;

async function forgetWeights(key) {
  const cache = await weightsCache();
  if (cache) await cache.delete(key).catch(() => {});
}

/** Keep weights that loaded, so they are not downloaded or asked for again. */
async function keepWeights(key, blob, headers) {
  const cache = await weightsCache();
  if (!cache) return;
  setTask('weights', 'Keeping the weights in this browser…', null);
  await cache.put(key, new Response(blob, { headers })).catch((e) => console.warn('could not keep the weights:', e));
  setTask('weights', null);
}

const PHASES = { download: 'Reading the weights', convert: 'Converting the Keras weights', pack: 'Preparing the network' };
function weightsProgress(p) {
  if (p.phase === 'compile') return coreProgress(p);
  const what = PHASES[p.phase] || p.phase;
  const amount = p.phase === 'download' ? ` ${MB(p.loaded)}${p.total ? ` / ${MB(p.total)}` : ''} MB`
    : p.phase === 'convert' && p.total ? ` ${p.loaded} / ${p.total} tensors` : '';
  setTask('weights', `${what}…${amount}`, p.phase === 'pack' ? null : p);
}
function coreProgress(p) {
  setTask('core', `Compiling the WebAssembly core… ${MB(p.loaded)}${p.total ? ` / ${MB(p.total)}` : ''} MB`, p);
}

/** Load weights into the model: true when they work. A failure is shown and forgotten. */
async function useWeights(w) {
  const { blob, from, name } = w;
  S.weights.pending = true;
  setState('loading');
  try {
    // a picked Keras .h5 is kept converted, so later visits load it without converting again
    const r = await S.gc.loadWeights(blob, { onProgress: weightsProgress, keepConverted: from === 'picked-now' });
    setTask('weights', null);
    S.weights.loaded = true;
    S.weights.current = w;
    $('weights-box').hidden = true;
    if (from === 'site-new') await keepWeights(WEIGHTS_URL, blob, w.headers);
    if (from === 'picked-now') {
      const headers = { 'content-type': 'application/octet-stream', 'x-file-name': encodeURIComponent(name) };
      if (r.converted) headers['x-converted-from'] = 'h5';
      await keepWeights(PICKED_KEY, r.converted ? new Blob([r.converted]) : blob, headers);
    }
    const src = r.format === 'h5' || w.converted ? `${name}, converted from Keras .h5 in this page` : from.startsWith('site') ? `from this site (${name})` : name;
    $('weights-state').textContent = `Weights: ${(r.params / 1e6).toFixed(1)} M parameters, ${src}${from === 'site-kept' || from === 'picked' ? ', kept in this browser' : ''}.`;
    return true;
  } catch (e) {
    setTask('weights', null);
    S.weights.loaded = false;
    if (from === 'site-kept') await forgetWeights(WEIGHTS_URL);
    if (from === 'picked') await forgetWeights(PICKED_KEY);
    const where = from.startsWith('site') ? `The weights file of this site (${name}) cannot be used: ` : `The weights file ${name} cannot be used: `;
    showError(e, where);
    return false;
  } finally {
    S.weights.pending = false;
  }
}

function noWeights() {
  $('weights-box').hidden = false;
  $('weights-state').textContent = '';
  status('No weights loaded: see below.');
  setState('no-weights');
}

async function pickWeights(file) {
  if (!S.gc || S.weights.pending) return;
  stopLive();
  if (S.ctl) S.ctl.abort();
  const before = S.weights.loaded ? S.weights.current : null;
  if (await useWeights({ blob: file, from: 'picked-now', name: file.name })) {
    showError(null);
    await afterReady();
    return;
  }
  // the chosen file is not usable: go back to the weights that worked, if any
  if (before && await useWeights(before)) {
    const el = $('error');
    el.textContent += ' The previous weights are loaded again.';
    await afterReady(true);
  } else {
    noWeights();
  }
}

// ---- the model -----------------------------------------------------------------------------
async function start() {
  setupControls();
  const threads = params.has('threads') ? Number(params.get('threads')) : undefined;
  setState('loading');
  setTask('core', 'Compiling the WebAssembly core…', null);
  const candidates = weightsCandidates();
  const first = candidates.next().catch((e) => { console.warn(e); return { done: true }; });
  try {
    const h5wasmUrl = LAYOUT.h5wasm ? new URL(LAYOUT.h5wasm, location.href).href : undefined;
    S.gc = await GradCam.load({ wasmBase: WASM_BASE, threads, onProgress: coreProgress, h5wasmUrl });
  } catch (e) {
    setTask('core', null);
    status('The model could not start in this browser.');
    showError(e);
    setState('failed');
    return;
  }
  setTask('core', null);
  window.gradcam = S.gc;
  const info = S.gc.info();
  $('mode').textContent = info.mode === 'threaded'
    ? `Threaded: ${info.threads} threads · WebAssembly SIMD · core ${info.version}`
    : `Single thread${globalThis.crossOriginIsolated ? '' : ' (the page is not cross-origin isolated)'} · WebAssembly SIMD · core ${info.version}`;
  $('mode').dataset.mode = info.mode;
  setupModelControls();
  let next = await first;
  while (!next.done) {
    if (await useWeights(next.value)) {
      showError(null);
      await afterReady();
      return;
    }
    next = await candidates.next().catch(() => ({ done: true }));
  }
  setTask('weights', null);
  noWeights();
}

/** Weights loaded: (re)analyse the current image. `same` when the weights did not change. */
async function afterReady(same = false) {
  if (same) {
    status('Ready.');
    setState(S.result ? 'explained' : S.classes ? 'classified' : 'ready');
    return;
  }
  setState('ready');
  status(S.image ? 'Ready.' : 'Ready: choose an image.');
  if (S.image) await analyse();
}

function setupModelControls() {
  S.methods = S.gc.methods().map((m) => (typeof m === 'string' ? { name: m, usesLayer: !INPUT_METHODS.includes(m) } : m));
  const canExplain = S.methods.length > 0;
  document.body.dataset.explain = canExplain ? 'yes' : 'no';
  const method = $('method');
  const groups = [['Class activation maps (at a layer)', true], ['Pixel attributions (at the input)', false]];
  for (const [label, uses] of groups) {
    const list = S.methods.filter((m) => !!m.usesLayer === uses);
    if (!list.length) continue;
    const g = document.createElement('optgroup');
    g.label = label;
    for (const m of list) g.append(new Option(METHOD_TEXT[m.name]?.[0] || m.name, m.name, m.name === 'gradcam', m.name === 'gradcam'));
    method.append(g);
  }
  method.disabled = !canExplain;
  describeMethod();

  // the colormaps this build has (the page lists the usual five until it knows)
  const maps = typeof S.gc.colormaps === 'function' ? S.gc.colormaps() : [];
  if (maps.length) $('colormap').replaceChildren(...maps.map((c) => new Option(c, c, c === 'jet', c === 'jet')));

  // layers grouped by Xception's three flows, with their shapes; only spatial maps
  const layer = $('layer');
  const flows = [['Entry flow', 1, 4], ['Middle flow', 5, 12], ['Exit flow', 13, 14]];
  const layers = S.gc.layers().filter((l) => l.shape.length === 4 && /^block\d+_/.test(l.name));
  for (const [label, lo, hi] of flows) {
    const g = document.createElement('optgroup');
    g.label = label;
    for (const l of layers) {
      const b = Number(/^block(\d+)_/.exec(l.name)[1]);
      if (b < lo || b > hi) continue;
      const [, h, w, c] = l.shape;
      g.append(new Option(`${l.name} · ${h}×${w}×${c}`, l.name, l.name === DEFAULT_LAYER, l.name === DEFAULT_LAYER));
    }
    layer.append(g);
  }
  layer.disabled = !canExplain || !currentMethod().usesLayer;
  const hasGuided = S.methods.some((m) => m.name === 'guided-gradcam');
  document.querySelector('input[name="view"][value="guided"]').disabled = !hasGuided;
  for (const v of document.querySelectorAll('input[name="view"]')) if (v.value !== 'overlay' && !canExplain) v.disabled = true;
  if (!canExplain) $('explaining').textContent = 'This build of the core cannot explain yet: only the classification is shown.';
}

function currentMethod() {
  return S.methods.find((m) => m.name === $('method').value) || { name: 'gradcam', usesLayer: true };
}

/** The fields of the chosen method's own settings. */
function methodSettings() {
  const box = $('method-options');
  const m = currentMethod();
  const fields = METHOD_SETTINGS[m.name] || [];
  box.hidden = !fields.length;
  box.replaceChildren(...fields.map(([key, label, choices, def]) => {
    const div = document.createElement('div');
    div.className = 'field';
    const id = `opt-${key}`;
    const l = document.createElement('label');
    l.htmlFor = id;
    l.textContent = label;
    const sel = document.createElement('select');
    sel.id = id;
    sel.dataset.key = key;
    const kept = S.settings[m.name]?.[key] ?? def;
    for (const c of choices) sel.append(new Option(String(c), String(c), c === def, c === kept));
    sel.addEventListener('change', () => {
      (S.settings[m.name] ||= {})[key] = Number(sel.value);
      explain();
    });
    div.append(l, sel);
    return div;
  }));
}

function describeMethod() {
  const m = currentMethod();
  methodSettings();
  $('method-description').textContent = m.description || METHOD_TEXT[m.name]?.[1] || '';
  $('layer').disabled = !S.methods.length || !m.usesLayer;
  $('layer-hint').textContent = m.usesLayer
    ? 'Deeper layers (exit flow) give coarse maps about the class; earlier layers sharper ones about parts and textures.'
    : 'This method explains at the input pixels: the layer is not used.';
}

/** The explain() options the page's controls say, for the current class. */
function explainOptions(extra = {}) {
  const m = currentMethod();
  const o = { classIndex: S.classIndex, method: m.name, colormap: $('colormap').value, alpha: Number($('alpha').value), blend: $('blend').value };
  if (m.usesLayer) o.layer = $('layer').value;
  const settings = S.settings[m.name];
  if (settings && Object.keys(settings).length) o.methodOptions = { ...settings };
  return { ...o, ...extra };
}
S.explainOptions = explainOptions;

// ---- images --------------------------------------------------------------------------------
let imageSeq = 0;

/** A new image: show it, classify it, explain its best class. */
async function useImage(source, name, sample = null) {
  const image = { source, name, id: ++imageSeq };
  S.image = image;
  // the gallery shows which sample is on the stage (none for a file, a paste or the camera)
  for (const b of $('samples').querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.sample === sample));
  S.classes = null;
  S.classIndex = null;
  S.result = null;
  S.guided = null;
  $('top5').replaceChildren();
  $('top5-hint').hidden = false;
  $('class-results').replaceChildren();
  $('class-search').value = '';
  $('class-search').disabled = true;
  $('explaining').textContent = name ? `Image: ${name}` : '';
  $('timings').textContent = '';
  $('metrics-numbers').replaceChildren();
  $('metrics-plot').hidden = true;
  $('metrics-legend').hidden = true;
  setDownloads(false);
  if (S.ctl) S.ctl.abort(); // what ran for the previous image is of no use now
  await showOriginal(image);
  if (S.image !== image) return; // another image came meanwhile
  if (S.weights.loaded) await analyse();
  else if (!S.weights.pending) status('The image is ready; now the weights are needed (see below).');
}

async function showOriginal(image) {
  const canvas = $('original-canvas');
  let bitmap = null;
  try {
    bitmap = await createImageBitmap(image.source, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    bitmap = null; // the API says why when it classifies
  }
  if (S.image !== image) { bitmap?.close(); return; }
  for (const id of ['overlay-canvas', 'heatmap-canvas']) $(id).hidden = true;
  $('guided-wrap').hidden = true;
  if (!bitmap) { canvas.hidden = true; $('placeholder').hidden = false; return; }
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext('2d').drawImage(bitmap, 0, 0);
  bitmap.close();
  canvas.hidden = false;
  $('placeholder').hidden = true;
  $('stage').dataset.has = 'original';
}

function newRun() {
  if (S.ctl) S.ctl.abort();
  S.ctl = new AbortController();
  return { signal: S.ctl.signal, seq: ++S.seq };
}

async function analyse() {
  if (!S.image || !S.weights.loaded) return;
  const { signal, seq } = newRun();
  const image = S.image;
  showError(null);
  setState('classifying');
  status(`Classifying ${image.name || 'the image'}…`);
  busy(true);
  try {
    const r = await S.gc.classify(image.source, { topK: 1000, signal });
    if (seq !== S.seq) return;
    S.classes = r.top;
    renderTop();
    $('class-search').disabled = false;
    $('timings').textContent = `Classification: decoding ${ms(r.timings.decode)}, forward pass ${ms(r.timings.forward)}.`;
    S.forwardMs = r.timings.forward;
    setState('classified');
    bump('classified');
    status(`Done: ${pretty(r.top[0].name)} (${pct(r.top[0].prob)}).`);
  } catch (e) {
    if (seq !== S.seq || e.code === 'ABORTED') return;
    busy(false);
    S.image = null;
    $('original-canvas').hidden = true;
    $('placeholder').hidden = false;
    $('explaining').textContent = '';
    status('This image could not be classified. Choose another one.');
    showError(e, e.code === 'IMAGE_INVALID' ? `${image.name || 'This file'}: ` : '');
    setState('error');
    return;
  }
  busy(false);
  if (S.methods.length) await explainClass(S.classes[0].index);
}

function renderTop() {
  const list = $('top5');
  const top = S.classes.slice(0, 5);
  $('top5-hint').hidden = top.length > 0;
  list.replaceChildren(...top.map((t) => {
    const li = document.createElement('li');
    li.dataset.index = t.index;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'class';
    b.dataset.index = t.index;
    b.setAttribute('aria-pressed', String(t.index === S.classIndex));
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = pretty(t.name);
    const prob = document.createElement('span');
    prob.className = 'prob';
    prob.textContent = pct(t.prob);
    const bar = document.createElement('span');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.style.width = `${Math.max(0.5, t.prob * 100)}%`;
    bar.append(fill);
    b.append(name, prob, bar);
    b.disabled = !S.methods.length;
    b.addEventListener('click', () => explainClass(t.index));
    li.append(b);
    return li;
  }));
}

function markClass() {
  for (const b of $('top5').querySelectorAll('button')) b.setAttribute('aria-pressed', String(Number(b.dataset.index) === S.classIndex));
  const c = S.classes?.find((x) => x.index === S.classIndex);
  if (!c) return;
  const m = currentView() === 'guided' ? { name: 'guided-gradcam', usesLayer: true } : currentMethod();
  $('explaining').textContent = `${pretty(c.name)} (${pct(c.prob)}) · ${METHOD_TEXT[m.name]?.[0] || m.name}${m.usesLayer ? ` at ${$('layer').value}` : ''}`;
}

async function explainClass(index) {
  S.classIndex = index;
  S.guided = null;
  markClass();
  await explain();
}

// ---- explanations --------------------------------------------------------------------------
async function explain({ metrics = null } = {}) {
  if (!S.image || !S.weights.loaded || S.classIndex == null || !S.methods.length || S.live) return;
  const { signal, seq } = newRun();
  const opts = explainOptions(metrics ? { metrics } : {});
  const c = S.classes.find((x) => x.index === S.classIndex);
  showError(null);
  setState('explaining');
  status(`Explaining ${pretty(c.name)}${metrics ? ` and measuring faithfulness (${2 * (metrics.steps + 1)} forward passes)` : ''}…`);
  busy(true);
  markClass();
  try {
    const r = await S.gc.explain(S.image.source, { ...opts, signal });
    if (seq !== S.seq) return;
    S.result = r;
    drawResult(r);
    showTimings(r.timings);
    bump('explained');
    if (r.metrics) { plotMetrics(r.metrics); bump('metrics'); }
    if (currentView() === 'guided') await explainGuided(seq, signal);
    if (seq !== S.seq) return;
    busy(false);
    status(`Explained ${pretty(c.name)}.`);
    setState('explained');
  } catch (e) {
    if (seq !== S.seq || e.code === 'ABORTED') return;
    busy(false);
    status('The explanation failed.');
    showError(e);
    setState('error');
  }
}

async function explainGuided(seq, signal) {
  if (S.guided) { drawGuided(S.guided); return; }
  const o = explainOptions({ method: 'guided-gradcam', layer: $('layer').value });
  delete o.methodOptions;
  status('Computing Guided Grad-CAM…');
  const r = await S.gc.explain(S.image.source, { ...o, signal });
  if (seq !== S.seq) return;
  S.guided = r;
  drawGuided(r);
  bump('guided');
}

const asImageData = (im) => (im instanceof ImageData ? im : new ImageData(new Uint8ClampedArray(im.data.buffer, im.data.byteOffset, im.data.length), im.width, im.height));

function putImage(canvas, im) {
  const data = asImageData(im);
  canvas.width = data.width;
  canvas.height = data.height;
  canvas.getContext('2d').putImageData(data, 0, 0);
}

function drawResult(r) {
  putImage($('overlay-canvas'), r.overlay);
  putImage($('heatmap-canvas'), r.heatmap);
  $('placeholder').hidden = true;
  $('stage').dataset.has = 'result';
  applyView();
  setDownloads(true);
}

function drawGuided(r) {
  putImage($('guided-canvas'), r.heatmap);
  $('stage').dataset.hasGuided = 'yes';
  applyView();
}

function showTimings(t) {
  if (!t) return;
  const parts = Object.entries(t).filter(([, v]) => typeof v === 'number').map(([k, v]) => `${k} ${ms(v)}`);
  $('timings').textContent = `Explanation: ${parts.join(', ')}.`;
}

const currentView = () => document.querySelector('input[name="view"]:checked').value;

function applyView() {
  const view = S.live && currentView() === 'guided' ? 'overlay' : currentView();
  const stage = $('stage');
  stage.dataset.view = view;
  const has = !!S.result;
  $('original-canvas').hidden = !(has ? view === 'side' : S.image);
  $('overlay-canvas').hidden = !has || !(view === 'overlay' || view === 'side');
  $('heatmap-canvas').hidden = !has || view !== 'heatmap';
  $('guided-wrap').hidden = !has || view !== 'guided' || !S.guided;
}

async function changeView() {
  applyView();
  if (!S.live) markClass();
  if (currentView() === 'guided' && S.result && !S.guided && !S.live) {
    const { signal, seq } = newRun();
    setState('explaining');
    busy(true);
    try {
      await explainGuided(seq, signal);
      if (seq !== S.seq) return;
      busy(false);
      status('Guided Grad-CAM at the image\'s full resolution.');
      setState('explained');
    } catch (e) {
      if (seq !== S.seq || e.code === 'ABORTED') return;
      busy(false);
      showError(e);
      setState('error');
    }
  }
}

// ---- downloads -----------------------------------------------------------------------------
function setDownloads(on) { $('download-overlay').disabled = !on; $('download-heatmap').disabled = !on; }

function download(which) {
  const guided = which === 'heatmap' && currentView() === 'guided' && S.guided;
  const canvas = guided ? $('guided-canvas') : $(`${which}-canvas`);
  const r = guided ? S.guided : S.result;
  if (!r) return;
  const c = S.classes?.find((x) => x.index === r.classIndex);
  const base = (S.image?.name || 'image').replace(/\.[a-z0-9]+$/i, '').replace(/[^\w.-]+/g, '-');
  const name = `${base}-${c ? c.name : r.classIndex}-${r.method}${r.layer ? `-${r.layer}` : ''}-${guided ? 'guided' : which}.png`;
  canvas.toBlob((blob) => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }, 'image/png');
}

// ---- faithfulness metrics ------------------------------------------------------------------
const num = (v) => (v === 0 || Math.abs(v) >= 0.01 ? v.toFixed(3) : v.toExponential(2));

function plotMetrics(m) {
  const canvas = $('metrics-plot');
  canvas.hidden = false;
  const dpr = Math.min(window.devicePixelRatio || 1, 3);
  const W = 320;
  const H = 180;
  canvas.width = W * dpr;
  canvas.height = H * dpr;
  const g = canvas.getContext('2d');
  g.scale(dpr, dpr);
  g.fillStyle = '#fff';
  g.fillRect(0, 0, W, H);
  const pad = { l: 36, r: 8, t: 10, b: 28 };
  const del = Array.from(m.deletion);
  const ins = Array.from(m.insertion);
  const top = Math.max(1e-6, ...del, ...ins);
  const ymax = top > 0.5 ? 1 : top; // probabilities: the full range when it is used
  const x = (i, n) => pad.l + (i / (n - 1)) * (W - pad.l - pad.r);
  const y = (v) => H - pad.b - (v / ymax) * (H - pad.t - pad.b);
  g.strokeStyle = '#999';
  g.lineWidth = 1;
  g.beginPath();
  g.moveTo(pad.l, pad.t);
  g.lineTo(pad.l, H - pad.b);
  g.lineTo(W - pad.r, H - pad.b);
  g.stroke();
  g.fillStyle = '#333';
  g.font = '11px system-ui, sans-serif';
  g.textAlign = 'right';
  g.fillText(num(ymax), pad.l - 4, pad.t + 8);
  g.fillText('0', pad.l - 4, H - pad.b);
  g.textAlign = 'center';
  g.fillText('fraction of pixels deleted / inserted', (pad.l + W - pad.r) / 2, H - 8);
  g.textAlign = 'left';
  g.fillText('0', pad.l, H - pad.b + 12);
  g.textAlign = 'right';
  g.fillText('1', W - pad.r, H - pad.b + 12);
  const curve = (vals, color) => {
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    vals.forEach((v, i) => (i ? g.lineTo(x(i, vals.length), y(v)) : g.moveTo(x(i, vals.length), y(v))));
    g.stroke();
  };
  curve(del, '#d1495b');
  curve(ins, '#2a6fdb');
  $('metrics-legend').hidden = false;
  const dl = $('metrics-numbers');
  const rows = [
    ['Deletion AUC (lower is better)', num(m.deletionAuc)],
    ['Insertion AUC (higher is better)', num(m.insertionAuc)],
  ];
  if (typeof m.averageDrop === 'number') rows.push(['Average drop', `${(m.averageDrop * 100).toFixed(1)} %`]);
  if (m.increaseInConfidence !== undefined) rows.push(['Confidence increases with only the map', m.increaseInConfidence ? 'yes' : 'no']);
  dl.replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    return [dt, dd];
  }));
}

// ---- class search --------------------------------------------------------------------------
function searchClasses() {
  const q = $('class-search').value.trim().toLowerCase();
  const out = $('class-results');
  if (!q || !S.classes) { out.replaceChildren(); return []; }
  const hits = S.classes.filter((c) => pretty(c.name).toLowerCase().includes(q)).slice(0, 8);
  out.replaceChildren(...hits.map((c) => {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.index = c.index;
    b.textContent = `${pretty(c.name)} — ${pct(c.prob)}`;
    b.disabled = !S.methods.length;
    b.addEventListener('click', () => explainClass(c.index));
    li.append(b);
    return li;
  }));
  if (!hits.length) {
    const li = document.createElement('li');
    li.className = 'hint';
    li.textContent = 'No class has that in its name.';
    out.append(li);
  }
  return hits;
}

// ---- camera --------------------------------------------------------------------------------
async function openCamera() {
  showError(null);
  if (!navigator.mediaDevices?.getUserMedia) {
    showError(new Error('This browser gives no camera access to this page (it needs a secure origin such as http://127.0.0.1).'));
    return;
  }
  try {
    S.camera = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'environment' }, audio: false });
  } catch (e) {
    showError(new Error(`The camera could not be opened: ${e.message || e.name}`));
    return;
  }
  const video = $('camera');
  video.srcObject = S.camera;
  await video.play().catch(() => {});
  $('camera-box').hidden = false;
  $('camera-open').disabled = true;
  document.body.dataset.camera = 'on';
  $('camera-snap').focus();
}

function closeCamera() {
  stopLive();
  if (S.camera) for (const t of S.camera.getTracks()) t.stop();
  S.camera = null;
  $('camera').srcObject = null;
  $('camera-box').hidden = true;
  $('camera-open').disabled = false;
  document.body.dataset.camera = 'off';
}

function grabFrame() {
  const video = $('camera');
  if (!video.videoWidth) return null;
  const c = document.createElement('canvas');
  c.width = video.videoWidth;
  c.height = video.videoHeight;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(video, 0, 0);
  return g.getImageData(0, 0, c.width, c.height);
}

async function snapshot() {
  const frame = grabFrame();
  if (!frame) { showError(new Error('The camera has no picture yet: wait a moment and try again.')); return; }
  stopLive();
  await useImage(frame, 'camera snapshot');
}

async function toggleLive() {
  if (S.live) { stopLive({ analyse: true }); return; }
  if (!S.weights.loaded || !S.methods.length) { showError(new Error('Live explanations need the weights and an explaining core.')); return; }
  S.live = true;
  $('camera-live').setAttribute('aria-pressed', 'true');
  $('camera-live').textContent = 'Stop';
  document.body.dataset.live = 'on';
  setState('live');
  status('Live: explaining the camera\'s frames…');
  $('class-search').disabled = true;
  const { signal } = newRun();
  let fps = 0;
  let last = performance.now();
  let frames = 0;
  let frame = null;
  while (S.live && !signal.aborted) {
    frame = grabFrame();
    if (!frame) { await new Promise((r) => setTimeout(r, 50)); continue; }
    const opts = explainOptions();
    delete opts.classIndex; // the best class of each frame
    let r;
    try {
      r = await S.gc.explain(frame, { ...opts, signal });
    } catch (e) {
      if (e.code !== 'ABORTED' && S.live) {
        showError(e);
        stopLive();
        setState('error');
      }
      break;
    }
    if (!S.live) break;
    S.image = { source: frame, name: 'camera', id: ++imageSeq };
    S.result = r;
    S.guided = null;
    S.classIndex = r.classIndex;
    if (r.classes?.length) { S.classes = r.classes; renderTop(); }
    putImage($('original-canvas'), frame);
    drawResult(r);
    const now = performance.now();
    const dt = now - last;
    last = now;
    fps = frames++ ? 0.7 * fps + 0.3 * (1000 / dt) : 1000 / dt;
    const best = r.classes?.find((c) => c.index === r.classIndex);
    $('fps').textContent = `${fps.toFixed(1)} frames per second`;
    $('explaining').textContent = `Live: ${best ? `${pretty(best.name)} (${pct(best.prob)})` : `class ${r.classIndex}`} · ${fps.toFixed(1)} frames/s`;
    status(`Live: explaining the camera's frames, ${fps.toFixed(1)} per second.`);
    showTimings(r.timings);
    document.body.dataset.liveFrames = String(frames);
  }
}

/** End the live mode; `analyse` classifies and explains the last frame in full (the Stop button). */
function stopLive({ analyse: again = false } = {}) {
  if (!S.live) return;
  S.live = false;
  if (S.ctl) S.ctl.abort();
  $('camera-live').setAttribute('aria-pressed', 'false');
  $('camera-live').textContent = 'Live';
  document.body.dataset.live = 'off';
  busy(false);
  const frame = S.image?.source;
  if (again && frame instanceof ImageData) useImage(frame, 'camera frame');
}

// ---- wiring --------------------------------------------------------------------------------
const WEIGHTS_NAME = /\.(gcw|h5|hdf5)$/i;

function takeFile(file) {
  if (!file) return;
  if (WEIGHTS_NAME.test(file.name)) { pickWeights(file); return; }
  stopLive();
  useImage(file, file.name);
}

function setupControls() {
  const gallery = $('samples');
  for (const [name, label] of SAMPLES) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.sample = name;
    b.title = label;
    const img = document.createElement('img');
    img.src = `samples/thumbs/${name}.jpg`;
    img.alt = label;
    img.width = 64;
    img.height = 64;
    b.append(img);
    b.addEventListener('click', async () => {
      stopLive();
      try {
        const res = await fetch(`samples/${name}.jpg`);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const blob = await res.blob();
        await useImage(new File([blob], `${name}.jpg`, { type: 'image/jpeg' }), `${name}.jpg`, name);
      } catch (e) {
        showError(new Error(`The sample ${name} could not be loaded: ${e.message || e}`));
      }
    });
    li.append(b);
    gallery.append(li);
  }
  $('image-file').addEventListener('change', (ev) => { takeFile(ev.target.files[0]); ev.target.value = ''; });
  $('weights-file').addEventListener('change', (ev) => { const f = ev.target.files[0]; ev.target.value = ''; if (f) pickWeights(f); });

  // drag and drop anywhere, paste anywhere
  let depth = 0;
  const overlay = $('drop-overlay');
  document.addEventListener('dragenter', (ev) => { if (ev.dataTransfer?.types.includes('Files')) { depth++; overlay.hidden = false; } });
  document.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; overlay.hidden = true; } });
  document.addEventListener('dragover', (ev) => { if (ev.dataTransfer?.types.includes('Files')) ev.preventDefault(); });
  document.addEventListener('drop', (ev) => {
    ev.preventDefault();
    depth = 0;
    overlay.hidden = true;
    takeFile(ev.dataTransfer?.files[0]);
  });
  document.addEventListener('paste', (ev) => {
    const items = [...(ev.clipboardData?.items || [])];
    const item = items.find((i) => i.kind === 'file' && i.type.startsWith('image/'));
    if (!item) return;
    ev.preventDefault();
    const f = item.getAsFile();
    stopLive();
    useImage(f, f.name && f.name !== 'image.png' ? f.name : 'pasted image');
  });

  // explanation controls
  $('method').addEventListener('change', () => { describeMethod(); explain(); });
  $('layer').addEventListener('change', () => { S.guided = null; explain(); });
  $('colormap').addEventListener('change', () => { S.guided = null; explain(); });
  $('blend').addEventListener('change', () => explain());
  $('alpha').addEventListener('input', () => { $('alpha-value').textContent = Number($('alpha').value).toFixed(2); });
  $('alpha').addEventListener('change', () => explain());
  for (const v of document.querySelectorAll('input[name="view"]')) v.addEventListener('change', changeView);
  $('download-overlay').addEventListener('click', () => download('overlay'));
  $('download-heatmap').addEventListener('click', () => download('heatmap'));
  $('metrics-run').addEventListener('click', () => explain({
    metrics: { steps: Number($('metrics-steps').value), baseline: $('metrics-baseline').value },
  }));
  const cost = () => {
    const n = 2 * (Number($('metrics-steps').value) + 1);
    const f = S.forwardMs ? `, about ${Math.max(1, Math.round((n * S.forwardMs) / 1000))} s here` : '';
    $('metrics-cost').textContent = `${n} forward passes${f}.`;
  };
  $('metrics-steps').addEventListener('change', cost);
  $('metrics-box').addEventListener('toggle', cost);
  $('class-search').addEventListener('input', searchClasses);
  $('class-search').addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    ev.preventDefault();
    const hits = searchClasses();
    if (hits.length && S.methods.length) explainClass(hits[0].index);
  });
  $('camera-open').addEventListener('click', openCamera);
  $('camera-close').addEventListener('click', closeCamera);
  $('camera-snap').addEventListener('click', snapshot);
  $('camera-live').addEventListener('click', toggleLive);
  $('forget-weights').addEventListener('click', async () => {
    await forgetWeights(WEIGHTS_URL);
    await forgetWeights(PICKED_KEY);
    status('The stored weights were forgotten; they will be loaded again on the next visit.');
  });
  const metricsButton = () => {
    const rgb = currentMethod().channels > 1;
    $('metrics-run').disabled = !S.result || S.live || rgb;
    $('metrics-run').title = rgb ? 'The metrics need a single-channel map: choose another method.' : '';
  };
  new MutationObserver(metricsButton).observe(document.body, { attributes: true, attributeFilter: ['data-state'] });
}

// ---- offline -------------------------------------------------------------------------------
async function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || params.has('nosw')) return;
  let reg;
  try {
    // in the repository: scope '/' (npm start sends Service-Worker-Allowed) so the package, its
    // worker and the wasm files, which live outside web/demo/, are cached too; in the static
    // site (npm run site) everything is under the page's own folder
    reg = await navigator.serviceWorker.register('sw.js', { scope: LAYOUT.root });
  } catch {
    try { reg = await navigator.serviceWorker.register('sw.js'); } catch (e) { console.warn('no offline mode:', e); return; }
  }
  await navigator.serviceWorker.ready;
  document.body.dataset.offline = reg.scope === new URL(LAYOUT.root, location.href).href ? 'ready' : 'partial';
}

start().finally(() => registerServiceWorker());
