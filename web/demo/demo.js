// The demo page for a classroom: pick a photo, read the network's five best guesses, and see
// which parts of the photo made it guess, with any of the package's methods and layers; and
// seven teaching views (compare methods, layer by layer, feature maps, many photos, inside
// Grad-CAM, two classes, sanity check). Any Keras Xception model can be dropped in with its class
// names. Everything goes through the npm package's API; the parts live in parts/ (one job each):
//   layout.js   where the package, wasm builds and weights are (rewritten by npm run site)
//   state.js    what the page knows; body[data-state] and counters for people and tests
//   status.js   the status line, errors next to the picture, announcements
//   jobs.js     one computation at a time: progress "step k of n", Cancel, supersede
//   weights.js  the weights store (Cache Storage, a picked file)
//   controls.js, explain-view.js, plots.js   the main view
//   camera.js   camera photo and Live
//   views.js, compare.js, layers-view.js, features.js, batch.js, zip.js,
//   inside.js, contrast.js, sanity.js, maps.js   the teaching views
//   text.js     the page's words about methods, colours and layers
// Query parameters: ?weights=URL (other weights), ?threads=N, ?nosw (no service worker).
import { $, el } from './parts/dom.js';
import { GradCam, LAYOUT } from './parts/layout.js';
import { S, setState } from './parts/state.js';
import { setTask, showError, status } from './parts/status.js';
import { setupJobs } from './parts/jobs.js';
import {
  coreProgress, forgetWeights, keptLabels, noWeights, pickWeights, sortFiles, useWeights, weightsCandidates,
} from './parts/weights.js';
import { setupModelControls } from './parts/controls.js';
import { analyse, setupExplainView, useImage } from './parts/explain-view.js';
import { setupCamera, stopLive } from './parts/camera.js';
import { setupViews, showView } from './parts/views.js';
import { setupCompare } from './parts/compare.js';
import { setupLayersView } from './parts/layers-view.js';
import { setupFeatureLayers, setupFeatures } from './parts/features.js';
import { runBatch, setupBatch } from './parts/batch.js';
import { setupInside } from './parts/inside.js';
import { setupContrast } from './parts/contrast.js';
import { setupSanity } from './parts/sanity.js';

const params = new URLSearchParams(location.search);

const SAMPLES = [
  ['cat', 'Chelsea the cat'],
  ['cat-and-dog', 'A dog and a cat'],
  ['coffee', 'A cup of coffee'],
  ['eagle', 'An eagle'],
  ['astronaut', 'An astronaut'],
  ['rocket', 'A rocket'],
];

/** Files chosen, dropped or pasted: a model (with its class names), class names alone, many
 *  photos (in that view), or one photo. */
async function takeFiles(files) {
  const list = [...(files || [])];
  if (!list.length) return;
  const { model, labels, images } = await sortFiles(list);
  if (model.length || labels) { stopLive(); pickWeights(model, labels, afterReady); return; }
  if (document.body.dataset.view === 'batch') { runBatch(images); return; }
  stopLive();
  useImage(images[0], images[0].name);
}

function setupInputs() {
  const gallery = $('samples');
  for (const [name, label] of SAMPLES) {
    const b = el('button', { type: 'button', title: label, dataset: { sample: name } },
      el('img', { src: `samples/thumbs/${name}.jpg`, alt: label, width: 64, height: 64 }));
    b.setAttribute('aria-pressed', 'false');
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
    gallery.append(el('li', {}, b));
  }
  $('image-file').addEventListener('change', (ev) => { const f = [...ev.target.files]; ev.target.value = ''; takeFiles(f); });
  for (const id of ['weights-file', 'model-file', 'labels-file']) {
    $(id).addEventListener('change', (ev) => { const f = [...ev.target.files]; ev.target.value = ''; takeFiles(f); });
  }

  let depth = 0;
  const overlay = $('drop-overlay');
  document.addEventListener('dragenter', (ev) => { if (ev.dataTransfer?.types.includes('Files')) { depth++; overlay.hidden = false; } });
  document.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; overlay.hidden = true; } });
  document.addEventListener('dragover', (ev) => { if (ev.dataTransfer?.types.includes('Files')) ev.preventDefault(); });
  document.addEventListener('drop', (ev) => {
    ev.preventDefault();
    depth = 0;
    overlay.hidden = true;
    takeFiles(ev.dataTransfer?.files);
  });
  document.addEventListener('paste', (ev) => {
    const item = [...(ev.clipboardData?.items || [])].find((i) => i.kind === 'file' && i.type.startsWith('image/'));
    if (!item) return;
    ev.preventDefault();
    const f = item.getAsFile();
    stopLive();
    useImage(f, f.name && f.name !== 'image.png' ? f.name : 'pasted photo');
  });
  $('forget-weights').addEventListener('click', async () => {
    await forgetWeights();
    status('The stored weights were forgotten; they will be loaded again on the next visit.');
  });
}

/** Weights loaded: (re)analyse the current photo. `same` when the weights did not change. */
async function afterReady(same = false) {
  if (same) {
    status('Ready.');
    setState(S.result ? 'explained' : S.classes ? 'classified' : 'ready');
    return;
  }
  setState('ready');
  status(S.image ? 'Ready.' : 'Ready: pick a photo.');
  if (S.image) await analyse();
}

async function start() {
  setupInputs();
  setupJobs();
  setupViews();
  setupExplainView();
  setupCamera();
  setupCompare();
  setupLayersView();
  setupFeatures();
  setupBatch();
  setupInside();
  setupContrast();
  setupSanity();
  const threads = params.has('threads') ? Number(params.get('threads')) : undefined;
  setState('loading');
  setTask('core', 'Starting the network…', null);
  const candidates = weightsCandidates();
  const first = candidates.next().catch((e) => { console.warn(e); return { done: true }; });
  try {
    // a long method the user cancels or replaces stops before the core's next pass on a
    // cross-origin isolated page (the page shares a cancel flag with the worker); elsewhere the
    // worker is replaced when it has not stopped within about one forward pass
    const restartOnAbort = globalThis.crossOriginIsolated ? false : 400;
    S.gc = await GradCam.load({ wasmBase: LAYOUT.wasm, threads, onProgress: coreProgress, restartOnAbort });
  } catch (e) {
    setTask('core', null);
    status('The network could not start in this browser.');
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
  setupFeatureLayers();
  S.labels = await keptLabels().catch(() => null);
  if (params.get('view')) showView(params.get('view'));
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

// ---- offline -------------------------------------------------------------------------------
async function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || params.has('nosw')) return;
  let reg;
  try {
    // in the repository: scope '/' (npm start sends Service-Worker-Allowed) so the package, its
    // worker and the wasm files, which live outside web/demo/, are kept too; in the static
    // site (npm run site) everything is under the page's own folder
    reg = await navigator.serviceWorker.register('sw.js', { scope: LAYOUT.root });
  } catch {
    try { reg = await navigator.serviceWorker.register('sw.js'); } catch (e) { console.warn('no offline mode:', e); return; }
  }
  await navigator.serviceWorker.ready;
  document.body.dataset.offline = reg.scope === new URL(LAYOUT.root, location.href).href ? 'ready' : 'partial';
}

start().finally(() => registerServiceWorker());
