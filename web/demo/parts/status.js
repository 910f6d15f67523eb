// status.js - what the page tells: the status line with the loading progress, and errors,
// shown at the top of the page and next to the picture of the current view, and announced to
// screen readers (one assertive live region, so a message is read once).
import { $ } from './dom.js';

const tasks = new Map(); // what is loading -> {text, progress}

/** Set (or clear, with text null) one loading task; the status line shows them all. */
export function setTask(key, text, progress) {
  if (text == null) tasks.delete(key);
  else tasks.set(key, { text, progress });
  const list = [...tasks.values()];
  if (list.length) status(list.map((t) => t.text).join(' · '), list.find((t) => t.progress)?.progress ?? null);
}

/** The status line; progress {loaded, total} shows the bar, null an indeterminate one, undefined none. */
export function status(text, progress = undefined) {
  $('status').textContent = text;
  const bar = $('progress');
  if (progress === undefined || progress === null) { bar.hidden = progress === undefined; bar.removeAttribute('value'); return; }
  bar.hidden = false;
  if (progress.total) { bar.max = progress.total; bar.value = progress.loaded; } else bar.removeAttribute('value');
}

/** The element that shows errors next to the picture of the view on screen. */
function nearPicture() {
  const view = document.body.dataset.view || 'explain';
  return document.querySelector(`[data-panel="${view}"] .error`) || $('stage-error');
}

/** Show an error (null clears): at the top, next to the picture, and announced once. */
export function showError(e, prefix = '') {
  const boxes = [$('error'), ...document.querySelectorAll('[data-panel] .error')];
  if (!e) {
    for (const b of boxes) { b.hidden = true; b.textContent = ''; }
    return;
  }
  const text = `${prefix}${e.message || String(e)}${e.code ? ` (${e.code})` : ''}`;
  for (const b of [$('error'), nearPicture()]) { b.hidden = false; b.textContent = text; }
  announce(text);
}

/** Add a sentence to the error on screen (e.g. what the page did about it). */
export function appendError(text) {
  for (const b of [$('error'), nearPicture()]) if (!b.hidden) b.textContent += text;
  announce($('error').textContent);
}

export function announce(text) {
  const a = $('announce');
  a.textContent = '';
  // a new text node is read even when the message repeats
  requestAnimationFrame(() => { a.textContent = text; });
}
