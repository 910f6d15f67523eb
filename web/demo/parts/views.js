// views.js - the teaching views beside the main one: which is on screen (the buttons above the
// panels), and what they share: they explain the photo and guess of the main view, run as one
// job with a step per picture, and run again when they are opened after the photo, the guess
// or the layer changed.
import { el, pretty, putImage } from './dom.js';
import { startJob } from './jobs.js';
import { emit, on, S } from './state.js';
import { showError } from './status.js';

const runners = new Map(); // view -> {run, key}

/** Register a view: `run()` computes it; `key()` says what it was computed for. */
export function defineView(name, { run, key }) { runners.set(name, { run, key, done: null }); }

export function showView(name) {
  document.body.dataset.view = name;
  for (const b of document.querySelectorAll('#view-tabs button')) b.setAttribute('aria-pressed', String(b.dataset.view === name));
  for (const p of document.querySelectorAll('[data-panel]')) p.hidden = p.dataset.panel !== name;
  showError(null);
  emit('view', name);
  refresh();
}

/** Run the view on screen if what it shows is not what the main view has now. */
export function refresh() {
  const v = runners.get(document.body.dataset.view);
  if (!v) return;
  const k = v.key();
  if (k && k !== v.done) { v.done = k; v.run(); }
}

/** Forget what a view was computed for (its "again" button). */
export function again(name) { const v = runners.get(name); if (v) v.done = null; refresh(); }

export function setupViews() {
  for (const b of document.querySelectorAll('#view-tabs button')) b.addEventListener('click', () => showView(b.dataset.view));
  on('result', refresh);
}

/** What a teaching view needs from the main view, or a sentence saying what is missing. */
export function needs({ guess = true } = {}) {
  if (!S.weights.loaded) return 'The network\'s weights are needed first.';
  if (!S.image) return 'Pick a photo first.';
  if (guess && S.model && !S.model.classes) return 'This model has no classifier (a notop file): it makes no guess to explain. The Feature maps view shows what its layers see.';
  if (guess && S.classIndex == null) return 'Wait until the photo has its guesses.';
  return null;
}

/**
 * Run `fn(job)` as one job (its panel after `where`): its result, or null when the job was
 * cancelled or superseded, or failed (then the error is shown).
 */
export async function withJob({ label, where }, fn) {
  const job = startJob({ label, where });
  try {
    const r = await fn(job);
    if (!job.isCurrent()) return null;
    job.end();
    return r;
  } catch (e) {
    if (job.isCurrent() && e.code !== 'ABORTED') {
      job.end();
      showError(e);
    }
    return null;
  }
}

/**
 * Run `items` one after the other as one job with "Step k of n", each through `fn(item, signal)`.
 * Returns the results, or null when it was cancelled or superseded.
 */
export async function sequence({ label, where, items, text, expect = () => 0, fn, onCancel }) {
  const job = startJob({ label, where, onCancel });
  const out = [];
  try {
    for (let i = 0; i < items.length; i++) {
      job.step(i, items.length, text(items[i]), expect(items[i]));
      const r = await fn(items[i], job.signal);
      if (!job.isCurrent()) return null;
      out.push(r);
    }
  } catch (e) {
    if (!job.isCurrent() || e.code === 'ABORTED') return null;
    job.end();
    showError(e);
    return null;
  }
  job.end();
  return out;
}

/** A grid cell: a picture, its title and a line of detail. */
export function cell(title, detail, image, { alt = title } = {}) {
  const c = el('canvas', { attrs: { role: 'img', 'aria-label': alt } });
  if (image) putImage(c, image);
  return el('li', { className: 'cell' }, c, el('p', { className: 'cell-title', textContent: title }), el('p', { className: 'hint', textContent: detail }));
}

export const guessName = () => pretty(S.classes?.find((c) => c.index === S.classIndex)?.name ?? '');
