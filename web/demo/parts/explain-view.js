// explain-view.js - the main view: a photo, its five best guesses and the explanation of one,
// with instant display controls. What runs the network:
//   a new photo            classify (one forward pass), then explain the best guess (the kept pass)
//   another guess / layer  explain: the worker reuses the kept forward pass (block14 Grad-CAM:
//                          no pass at all; another layer: its backward pass only)
//   another method         explain (the kept forward pass, the method's own passes)
//   colours, scale, blend, strength
//                          gc.render() of the map on screen: no network pass
//   view                   nothing: the canvases are there
// The caption always describes the picture on screen: it changes when a picture is drawn, and
// the job panel (step k of n, Cancel) says what is being computed meanwhile.
import { $, ms, pct, pretty, putImage, pngOf, saveBlob, slug } from './dom.js';
import { running, startJob } from './jobs.js';
import { drawLegend, plotMetrics } from './plots.js';
import { bump, emit, S, setState } from './state.js';
import { showError, status } from './status.js';
import {
  currentMethod, describeMethod, displayOf, explainOptions, fillLayers, markClass, onSettingChange, readDisplay,
  renderOptions, renderTop, searchClasses, syncDisplay,
} from './controls.js';
import { layerLabel, methodName, passesOf } from './text.js';

let imageSeq = 0;

const className = (i) => S.classes?.find((c) => c.index === i)?.name ?? `class ${i}`;
// (the model's names: its file's, the picked class names file's, ImageNet's, or "class i")
const sameRender = (a, b) => a && b && ['colormap', 'alpha', 'blend', 'scale'].every((k) => a[k] === b[k]);

/** A new photo: show it, classify it, explain its best guess. */
export async function useImage(source, name, sample = null) {
  const image = { source, name, id: ++imageSeq };
  S.image = image;
  for (const b of $('samples').querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.sample === sample));
  S.classes = null;
  S.classIndex = null;
  S.result = null;
  $('top5').replaceChildren();
  $('top5-hint').hidden = false;
  $('class-results').replaceChildren();
  $('class-search').value = '';
  $('class-search').disabled = true;
  $('caption').textContent = name ? `Photo: ${name}` : 'Photo';
  $('timings').textContent = '';
  $('legend').hidden = true;
  $('metrics-numbers').replaceChildren();
  $('metrics-plot').hidden = true;
  $('metrics-legend').hidden = true;
  setDownloads(false);
  showError(null);
  running()?.abort(); // what ran for the previous photo is of no use now
  await showOriginal(image);
  if (S.image !== image) return;
  emit('image', image);
  if (S.weights.loaded) await analyse();
  else if (!S.weights.pending) status('The photo is ready; now the network\'s weights are needed (see above).');
}

async function showOriginal(image) {
  const canvas = $('original-canvas');
  let bitmap = null;
  try {
    bitmap = await createImageBitmap(image.source, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    bitmap = null; // the package says why when it classifies
  }
  if (S.image !== image) { bitmap?.close(); return; }
  $('overlay-canvas').hidden = true;
  $('heatmap-canvas').hidden = true;
  if (!bitmap) { canvas.hidden = true; $('placeholder').hidden = false; return; }
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext('2d').drawImage(bitmap, 0, 0);
  bitmap.close();
  canvas.hidden = false;
  $('placeholder').hidden = true;
  $('stage').dataset.has = 'original';
}

/** Classify the photo, then explain its best guess. */
export async function analyse() {
  if (!S.image || !S.weights.loaded) return;
  const image = S.image;
  if (S.model && !S.model.classes) { // a notop model: nothing to guess
    status('This model has no classifier (a notop file): it makes no guesses. See what its layers see in Feature maps.');
    setState('classified');
    emit('result', null);
    return;
  }
  const job = startJob({ label: `looking at ${image.name || 'the photo'} (one pass through the network)`, onCancel: cancelled });
  job.step(0, 1, job.label, S.forwardMs);
  setState('classifying');
  status(`Looking at ${image.name || 'the photo'}…`);
  try {
    const r = await S.gc.classify(image.source, { topK: S.model.classes, signal: job.signal });
    if (!job.isCurrent()) return;
    job.end();
    S.classes = r.top;
    if (r.timings.forward > 0) S.forwardMs = r.timings.forward;
    renderTop(explainClass);
    $('class-search').disabled = false;
    $('timings').textContent = `Looking at the photo took ${ms(r.timings.forward)} (decoding ${ms(r.timings.decode)}).`;
    setState('classified');
    bump('classified');
    status(`Best guess: ${pretty(r.top[0].name)} (${pct(r.top[0].prob)}).`);
  } catch (e) {
    if (!job.isCurrent() || e.code === 'ABORTED') return;
    job.end();
    S.image = null;
    $('original-canvas').hidden = true;
    $('placeholder').hidden = false;
    $('caption').textContent = 'No photo.';
    status('This file could not be read as a photo. Choose another one.');
    showError(e, e.code === 'IMAGE_INVALID' ? `${image.name || 'This file'}: ` : '');
    setState('error');
    return;
  }
  if (S.methods.length) await explainClass(S.classes[0].index);
}

export async function explainClass(index) {
  S.classIndex = index;
  markClass();
  await explain();
}

/** The job's text for each stage the package reports. */
function progressOf(job, m, opts) {
  const name = methodName(m.name);
  const guess = pretty(className(opts.classIndex));
  const expect = passesOf(m.name, opts.layer, opts.methodOptions) * S.forwardMs;
  return (p) => {
    if (p.passes && typeof p.passes === 'object') job.passes(p.passes);
    else if (p.stage === 'forward') job.step(p.done, p.total, 'looking at the photo (one pass through the network)', S.forwardMs);
    else if (p.stage === 'map') job.step(p.done, p.total, `${name} for ${guess}`, expect);
    else if (p.stage === 'metrics') job.step(p.done, p.total, `measuring faithfulness (${p.passes} passes through the network)`, p.passes * S.forwardMs);
  };
}

/** Explain the chosen guess with the chosen method (and metrics when asked). */
export async function explain({ metrics = null } = {}) {
  if (!S.image || !S.weights.loaded || S.classIndex == null || !S.methods.length || S.live) return;
  const m = currentMethod();
  const opts = explainOptions(metrics ? { metrics } : {});
  const job = startJob({ label: `${methodName(m.name)} for ${pretty(className(S.classIndex))}`, onCancel: cancelled });
  setState('explaining');
  showError(null);
  try {
    const r = await S.gc.explain(S.image.source, { ...opts, signal: job.signal, onProgress: progressOf(job, m, opts) });
    if (!job.isCurrent()) return;
    job.end();
    if (r.timings.forward > 0) S.forwardMs = r.timings.forward;
    r.renderedWith = renderOptions(m.name);
    if (opts.methodOptions) r.methodOptions = opts.methodOptions;
    S.result = r;
    await drawResult(r);
    showTimings(r);
    if (r.metrics) { plotMetrics(r.metrics); bump('metrics'); }
    status(`Explained ${pretty(r.className)} with ${methodName(r.method)}.`);
    setState('explained');
    bump('explained');
    emit('result', r);
    // a display control changed while it ran: colour it as the controls say now
    if (!sameRender(r.renderedWith, renderOptions(r.method))) await rerender();
  } catch (e) {
    if (!job.isCurrent() || e.code === 'ABORTED') return;
    job.end();
    status('The explanation failed.');
    showError(e);
    setState('error');
  }
}

/** The user pressed Cancel: the picture on screen stays, with its caption. */
function cancelled() {
  status('Cancelled: the picture is the one from before.');
  setState(S.result ? 'explained' : S.classes ? 'classified' : 'ready');
}

/** Draw an explanation: its canvases, caption, colour scale and downloads. */
export async function drawResult(r) {
  putImage($('overlay-canvas'), r.overlay);
  putImage($('heatmap-canvas'), r.heatmap);
  $('placeholder').hidden = true;
  $('stage').dataset.has = 'result';
  $('caption').textContent = describe(r);
  applyView();
  setDownloads(true);
  await drawLegend(r, r.renderedWith || renderOptions(r.method));
}

/** The explain() options that give the picture on screen (for the console and the tests). */
S.shownOptions = () => {
  const r = S.result;
  if (!r) return null;
  const o = { classIndex: r.classIndex, method: r.method, ...r.renderedWith };
  if (r.layer !== 'input') o.layer = r.layer;
  if (r.methodOptions) o.methodOptions = r.methodOptions;
  return o;
};

/** One sentence on the picture on screen. */
export function describe(r) {
  const layer = r.layer !== 'input' ? S.gc.layers().find((l) => l.name === r.layer) : null;
  const where = layer ? ` at ${layerLabel(layer, /_add$|block1_conv2_act|block14_sepconv2_act/.test(r.layer)).split(' · ').slice(0, 2).join(', ')}` : ' on the pixels';
  return `${pretty(r.className)} (${pct(r.prob)}): ${methodName(r.method)}${where}`;
}

function showTimings(r) {
  const t = r.timings;
  const parts = [t.forward > 0 ? `forward pass ${ms(t.forward)}` : 'forward pass reused', `${methodName(r.method)} ${ms(t.explain)}`, `drawing ${ms(t.render)}`];
  if (t.metrics) parts.push(`metrics ${ms(t.metrics)}`);
  $('timings').textContent = `Times: ${parts.join(', ')}.`;
}

// ---- instant controls --------------------------------------------------------------------
let rendering = null;
let renderAgain = false;

/** Colour the map on screen again as the controls say (no network pass). While a job runs the
 *  worker is busy: its result will be drawn with the controls' choices. */
export async function rerender() {
  const r = S.result;
  if (!r || running()) return;
  if (rendering) { renderAgain = true; return; }
  const o = renderOptions(r.method);
  const t0 = performance.now();
  document.body.dataset.rendering = 'yes';
  rendering = S.gc.render(r, o);
  try {
    const out = await rendering;
    if (S.result !== r) return;
    r.overlay = out.overlay;
    r.heatmap = out.heatmap;
    r.renderedWith = o;
    await drawResult(r);
    document.body.dataset.renderMs = (performance.now() - t0).toFixed(1);
    bump('rendered');
  } catch (e) {
    if (e.code !== 'ABORTED') showError(e);
  } finally {
    rendering = null;
    if (renderAgain) { renderAgain = false; rerender(); } else document.body.dataset.rendering = 'no';
  }
}

const currentView = () => displayOf().view;

export function applyView() {
  const view = currentView();
  $('stage').dataset.view = view;
  const has = !!S.result;
  $('original-canvas').hidden = !(has ? view === 'side' : S.image);
  $('overlay-canvas').hidden = !has || !(view === 'overlay' || view === 'side');
  $('heatmap-canvas').hidden = !has || view !== 'heatmap';
}

// ---- downloads and metrics -----------------------------------------------------------------
function setDownloads(on) { $('download-overlay').disabled = !on; $('download-heatmap').disabled = !on; }

async function download(which) {
  const r = S.result;
  if (!r) return;
  const name = `${slug(S.image?.name || 'photo')}-${slug(r.className)}-${r.method}${r.layer !== 'input' ? `-${r.layer}` : ''}-${which === 'overlay' ? 'picture' : 'map'}.png`;
  saveBlob(await pngOf($(`${which}-canvas`)), name);
}

function metricsCost() {
  const n = 2 * Number($('metrics-steps').value) + 3;
  const f = S.forwardMs ? `, about ${Math.max(1, Math.round((n * S.forwardMs) / 1000))} s here` : '';
  $('metrics-cost').textContent = `${n} passes through the network${f}.`;
}

export function setupExplainView() {
  const onChoose = (i) => explainClass(i);
  onSettingChange(() => explain());
  $('method').addEventListener('change', () => { describeMethod(); explain(); });
  $('layer').addEventListener('change', () => explain());
  $('all-layers').addEventListener('change', () => fillLayers($('layer'), $('all-layers').checked));
  for (const id of ['colormap', 'scale', 'blend']) $(id).addEventListener('change', () => { readDisplay(); rerender(); });
  $('alpha').addEventListener('input', () => { readDisplay(); rerender(); });
  for (const v of document.querySelectorAll('input[name="view"]')) v.addEventListener('change', () => { readDisplay(); applyView(); });
  $('download-overlay').addEventListener('click', () => download('overlay'));
  $('download-heatmap').addEventListener('click', () => download('heatmap'));
  $('metrics-run').addEventListener('click', () => explain({
    metrics: { steps: Number($('metrics-steps').value), baseline: $('metrics-baseline').value },
  }));
  $('metrics-steps').addEventListener('change', metricsCost);
  $('metrics-box').addEventListener('toggle', metricsCost);
  $('class-search').addEventListener('input', () => searchClasses(onChoose));
  $('class-search').addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    ev.preventDefault();
    const hits = searchClasses(onChoose);
    if (hits.length && S.methods.length) explainClass(hits[0].index);
  });
  const metricsButton = () => {
    const rgb = currentMethod().channels > 1;
    $('metrics-run').disabled = !S.result || S.live || rgb;
    $('metrics-run').title = rgb ? 'The metrics need a map of one value per place: choose another method.' : '';
  };
  new MutationObserver(metricsButton).observe(document.body, { attributes: true, attributeFilter: ['data-state'] });
  syncDisplay();
}
