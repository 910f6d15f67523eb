// weights.js - the weights store: the site's file kept in Cache Storage (checked with a HEAD
// request that the site still has the same one), else a model the user chose earlier, else the
// site's file downloaded now. A picked Keras model (.h5, .weights.h5, .keras, a TF.js model.json
// with its shards) is kept converted, with its class names; a picked class names file is kept
// and given to the weights loaded next. Files are kept only once they have loaded, so a broken
// file is never kept.
import { $, MB } from './dom.js';
import { LAYOUT } from './layout.js';
import { S, setState } from './state.js';
import { appendError, setTask, showError, status } from './status.js';

const params = new URLSearchParams(location.search);
export const WEIGHTS_URL = new URL(params.get('weights') || LAYOUT.weights, location.href).href;
const WEIGHTS_CACHE = 'xception-gradcam-weights';
const PICKED_KEY = new URL('picked-weights', location.href).href; // a Cache Storage key, never fetched
const LABELS_KEY = new URL('picked-labels', location.href).href; // the same
const SITE_NAME = new URL(WEIGHTS_URL).pathname;
const MODEL_FILE = /\.(gcw|h5|hdf5|keras|bin)$/i;
const TEXT_FILE = /\.(txt|csv|json)$/i;

/** Dropped or chosen files by kind: {model: File[], labels: File|null, images: File[]}. A .json is
 *  a TF.js model.json when it has a weightsManifest, else class names. */
export async function sortFiles(files) {
  const out = { model: [], labels: null, images: [] };
  for (const f of files) {
    if (MODEL_FILE.test(f.name)) out.model.push(f);
    else if (TEXT_FILE.test(f.name) || f.type === 'text/plain' || f.type === 'application/json') {
      const head = /\.json$/i.test(f.name) ? await f.slice(0, 1 << 16).text() : '';
      if (head.includes('"weightsManifest"') || head.includes('"modelTopology"')) out.model.push(f);
      else out.labels = f;
    } else out.images.push(f);
  }
  return out;
}

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
  setTask('weights', `Downloading the network's weights… 0.0${total ? ` / ${MB(total)}` : ''} MB`, { loaded, total });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      setTask('weights', `Downloading the network's weights… ${MB(loaded)}${total ? ` / ${MB(total)}` : ''} MB`, { loaded, total });
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

/** The weights to try, best first: {blob, from: 'site-kept'|'picked'|'site-new', name, headers?}. */
export async function* weightsCandidates() {
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
    converted: res.headers.get('x-converted-from') || null,
  };
}

/** The class names kept from an earlier visit (applied to the next weights loaded), or null. */
export async function keptLabels() {
  const cache = await weightsCache();
  const res = cache && await cache.match(LABELS_KEY);
  return res ? new File([await res.blob()], decodeURIComponent(res.headers.get('x-file-name') || 'class names')) : null;
}

async function forget(key) {
  const cache = await weightsCache();
  if (cache) await cache.delete(key).catch(() => {});
}
export async function forgetWeights() {
  await forget(WEIGHTS_URL);
  await forget(PICKED_KEY);
  await forget(LABELS_KEY);
  S.labels = null;
}

async function keep(key, blob, headers) {
  const cache = await weightsCache();
  if (!cache) return;
  setTask('weights', 'Keeping the weights in this browser…', null);
  await cache.put(key, new Response(blob, { headers })).catch((e) => console.warn('could not keep the weights:', e));
  setTask('weights', null);
}

const PHASES = { download: 'Reading the weights', convert: 'Converting the Keras model', pack: 'Preparing the network' };
function weightsProgress(p) {
  if (p.phase === 'compile') { coreProgress(p); return; }
  const what = PHASES[p.phase] || p.phase;
  const amount = p.phase === 'download' ? ` ${MB(p.loaded)}${p.total ? ` / ${MB(p.total)}` : ''} MB`
    : p.phase === 'convert' && p.total ? ` ${p.loaded} / ${p.total} tensors` : '';
  setTask('weights', `${what}…${amount}`, p.phase === 'pack' ? null : p);
}
export function coreProgress(p) {
  setTask('core', `Starting the network… ${MB(p.loaded)}${p.total ? ` / ${MB(p.total)}` : ''} MB`, p);
}

/** What the loaded model is, in words (and the page's words about classes with it). */
function describeModel(model) {
  const n = model.classes;
  $('model-state').textContent = `Model: ${model.source}; input ${model.inputSize.join('×')}; `
    + `${n ? `${n} classes` : 'no classifier (only Feature maps and Eigen-CAM work)'}; head ${model.head}${model.inferred ? ' (inferred from the weights)' : ''}.`;
  $('kinds').textContent = n ? `${n} kinds of things` : 'patterns';
  $('class-count').textContent = String(n);
  $('best-count').textContent = n >= 5 ? 'five' : String(n);
}

/** Load weights into the model (with the picked class names): true when they work. A failure is
 *  shown and forgotten; class names that do not fit the model are forgotten and the weights
 *  loaded without them. */
export async function useWeights(w) {
  const { blob, from, name } = w;
  S.weights.pending = true;
  setState('loading');
  const labels = w.labels !== undefined ? w.labels : S.labels;
  try {
    let r;
    try {
      // a picked Keras model is kept converted, so later visits load it without converting again
      r = await S.gc.loadWeights(blob, { onProgress: weightsProgress, keepConverted: from === 'picked-now', labels: labels || undefined });
    } catch (e) {
      if (e.code !== 'LABELS_INVALID' || !labels) throw e;
      await forget(LABELS_KEY);
      S.labels = null;
      showError(e, `The class names file ${labels.name || ''} does not fit these weights and is not used: `);
      r = await S.gc.loadWeights(blob, { onProgress: weightsProgress, keepConverted: from === 'picked-now' });
    }
    setTask('weights', null);
    S.weights.loaded = true;
    S.weights.current = w;
    S.model = r.model;
    $('weights-box').hidden = true;
    if (from === 'site-new') await keep(WEIGHTS_URL, Array.isArray(blob) ? blob[0] : blob, w.headers);
    if (from === 'picked-now') {
      const headers = { 'content-type': 'application/octet-stream', 'x-file-name': encodeURIComponent(name) };
      if (r.converted) headers['x-converted-from'] = r.format;
      await keep(PICKED_KEY, r.converted ? new Blob([r.converted]) : blob, headers);
    }
    if (w.labels) {
      S.labels = w.labels;
      await keep(LABELS_KEY, w.labels, { 'content-type': 'text/plain', 'x-file-name': encodeURIComponent(w.labels.name || 'class names') });
    }
    const src = r.format !== 'gcw' || w.converted ? `${name}, converted from ${r.model.source} in this page` : from.startsWith('site') ? `from this site (${name})` : name;
    $('weights-state').textContent = `Weights: ${(r.params / 1e6).toFixed(1)} M parameters, ${src}${from === 'site-kept' || from === 'picked' ? ', kept in this browser' : ''}`
      + `${labels && S.labels ? `; class names from ${labels.name || 'the file given'}` : ''}.`;
    describeModel(r.model);
    return true;
  } catch (e) {
    setTask('weights', null);
    S.weights.loaded = false;
    if (from === 'site-kept') await forget(WEIGHTS_URL);
    if (from === 'picked') await forget(PICKED_KEY);
    const where = from.startsWith('site') ? `The weights file of this site (${name}) cannot be used: ` : `The model ${name} cannot be used: `;
    showError(e, where);
    return false;
  } finally {
    S.weights.pending = false;
  }
}

export function noWeights() {
  $('weights-box').hidden = false;
  $('weights-state').textContent = '';
  status('The network\'s weights are missing: see below.');
  setState('no-weights');
}

/** Model files chosen or dropped (one file, or a TF.js model.json with its shards), maybe with a
 *  class names file, or a class names file alone (for the weights loaded now): load them; when
 *  that fails, go back to the weights that worked. */
export async function pickWeights(files, labels, afterReady) {
  if (!S.gc || S.weights.pending) return;
  const before = S.weights.loaded ? S.weights.current : null;
  let w;
  if (files.length) {
    const main = files.find((f) => /\.json$/i.test(f.name)) || files[0];
    w = { blob: files.length === 1 ? files[0] : files, from: 'picked-now', name: main.name };
  } else if (before) {
    w = { ...before };
  } else return;
  if (labels) w.labels = labels;
  if (await useWeights(w)) {
    showError(null);
    await afterReady();
    return;
  }
  if (before && await useWeights(before)) {
    appendError(' The previous weights are loaded again.');
    await afterReady(true);
  } else {
    noWeights();
  }
}
