// jobs.js - one computation at a time, shown next to the picture: a new request supersedes
// the running one (its AbortSignal fires; the package restarts a worker stuck in a long core
// call), and every job shows "Step k of n", a bar and a Cancel button.
//
// Steps come from the package's onProgress({done, total, stage}) (explain) or from the view
// itself (one step per method, block or photo). Inside a long step (Score-CAM, Ablation-CAM,
// SmoothGrad, Integrated Gradients, the metrics) the core reports each of its passes
// (progress.passes = {done, total}) and the bar moves by them; before the first report, by the
// time the step is expected to take (passes x the last forward pass). body[data-passes] says
// "done/total" of the running step's passes, for people and tests.
import { $ } from './dom.js';

let current = null;
let showTimer = 0;
let drawTimer = 0;

/** The running job, or null. */
export const running = () => current;

/**
 * Start a job (superseding the running one). `where` is the element the panel goes after.
 * Returns {signal, step(done, total, text, expectMs), isCurrent(), end()}.
 */
export function startJob({ label, where = $('stage'), onCancel } = {}) {
  if (current) current.abort();
  const ctl = new AbortController();
  const panel = $('job');
  where.after(panel);
  const job = {
    signal: ctl.signal,
    label,
    t0: performance.now(),
    stepInfo: { done: 0, total: 1, text: label, expectMs: 0, t: performance.now() },
    abort() { ctl.abort(); if (current === job) finish(); },
    isCurrent() { return current === job && !ctl.signal.aborted; },
    step(done, total, text = label, expectMs = 0) {
      job.stepInfo = { done, total, text, expectMs, t: performance.now(), passes: null };
      delete document.body.dataset.passes;
      if (current === job) draw();
    },
    /** the core's passes inside the current step */
    passes(p) {
      job.stepInfo.passes = p;
      document.body.dataset.passes = `${p.done}/${p.total}`;
      if (current === job) draw();
    },
    end() { if (current === job) finish(); },
  };
  job.onCancel = onCancel;
  current = job;
  panel.dataset.started = String(performance.now());
  // a job that ends within 150 ms never shows its panel (no flashing on instant controls)
  clearTimeout(showTimer);
  showTimer = setTimeout(() => { if (current === job) { panel.hidden = false; draw(); } }, 150);
  document.body.dataset.job = 'running';
  return job;
}

function finish() {
  current = null;
  clearTimeout(showTimer);
  clearTimeout(drawTimer);
  $('job').hidden = true;
  document.body.dataset.job = 'idle';
  delete document.body.dataset.passes;
}

function draw() {
  const job = current;
  if (!job) return;
  const { done, total, text, expectMs, t, passes } = job.stepInfo;
  const elapsed = performance.now() - t;
  const within = passes && passes.total ? passes.done / passes.total : expectMs > 0 ? Math.min(0.95, elapsed / expectMs) : 0;
  const bar = $('job-bar');
  bar.max = total;
  bar.value = Math.min(total, done + within);
  const secs = Math.round((performance.now() - job.t0) / 1000);
  const about = passes && passes.total ? ` (pass ${Math.min(passes.done + 1, passes.total)} of ${passes.total})`
    : expectMs > 2000 ? ` (about ${Math.round(expectMs / 1000)} s)` : '';
  $('job-text').textContent = `Step ${Math.min(done + 1, total)} of ${total}: ${text}${about}${secs >= 1 ? ` · ${secs} s` : ''}`;
  clearTimeout(drawTimer);
  drawTimer = setTimeout(draw, 250);
}

/** The Cancel button: abort the running job. */
export function setupJobs() {
  $('job-cancel').addEventListener('click', () => {
    const job = current;
    if (!job) return;
    job.abort();
    document.body.dataset.cancelled = String(Number(document.body.dataset.cancelled || 0) + 1);
    if (job.onCancel) job.onCancel();
  });
}
