// weights.js - the weights store: the site's file kept in Cache Storage (checked with a HEAD
// request that the site still has the same one), else a file the user chose earlier, else the
// site's file downloaded now; a picked Keras .h5 is kept converted. Weights are kept only once
// they have loaded, so a broken file is never kept.
import { $, MB } from './dom.js';
import { LAYOUT } from './layout.js';
import { S, setState } from './state.js';
import { appendError, setTask, showError, status } from './status.js';

const params = new URLSearchParams(location.search);
export const WEIGHTS_URL = new URL(params.get('weights') || LAYOUT.weights, location.href).href;
const WEIGHTS_CACHE = 'xception-gradcam-weights';
const PICKED_KEY = new URL('picked-weights', location.href).href; // a Cache Storage key, never fetched
const SITE_NAME = new URL(WEIGHTS_URL).pathname;
export const WEIGHTS_NAME = /\.(gcw|h5|hdf5)$/i;

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
    converted: res.headers.get('x-converted-from') === 'h5',
  };
}

async function forget(key) {
  const cache = await weightsCache();
  if (cache) await cache.delete(key).catch(() => {});
}
export async function forgetWeights() {
  await forget(WEIGHTS_URL);
  await forget(PICKED_KEY);
}

async function keep(key, blob, headers) {
  const cache = await weightsCache();
  if (!cache) return;
  setTask('weights', 'Keeping the weights in this browser…', null);
  await cache.put(key, new Response(blob, { headers })).catch((e) => console.warn('could not keep the weights:', e));
  setTask('weights', null);
}

const PHASES = { download: 'Reading the weights', convert: 'Converting the Keras weights', pack: 'Preparing the network' };
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

/** Load weights into the model: true when they work. A failure is shown and forgotten. */
export async function useWeights(w) {
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
    if (from === 'site-new') await keep(WEIGHTS_URL, blob, w.headers);
    if (from === 'picked-now') {
      const headers = { 'content-type': 'application/octet-stream', 'x-file-name': encodeURIComponent(name) };
      if (r.converted) headers['x-converted-from'] = 'h5';
      await keep(PICKED_KEY, r.converted ? new Blob([r.converted]) : blob, headers);
    }
    const src = r.format === 'h5' || w.converted ? `${name}, converted from Keras .h5 in this page` : from.startsWith('site') ? `from this site (${name})` : name;
    $('weights-state').textContent = `Weights: ${(r.params / 1e6).toFixed(1)} M parameters, ${src}${from === 'site-kept' || from === 'picked' ? ', kept in this browser' : ''}.`;
    return true;
  } catch (e) {
    setTask('weights', null);
    S.weights.loaded = false;
    if (from === 'site-kept') await forget(WEIGHTS_URL);
    if (from === 'picked') await forget(PICKED_KEY);
    const where = from.startsWith('site') ? `The weights file of this site (${name}) cannot be used: ` : `The weights file ${name} cannot be used: `;
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

/** A weights file chosen or dropped: load it; when it fails, go back to the weights that worked. */
export async function pickWeights(file, afterReady) {
  if (!S.gc || S.weights.pending) return;
  const before = S.weights.loaded ? S.weights.current : null;
  if (await useWeights({ blob: file, from: 'picked-now', name: file.name })) {
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
