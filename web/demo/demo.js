// The starting demo page: load the model with the package's API, classify a chosen image,
// show the top 5. Served by `npm start` (tools/serve.mjs) from the repository.
// Query parameters: ?weights=URL to load other weights, ?threads=N.
import { GradCam } from '../index.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const WEIGHTS_URL = params.get('weights') || '../../weights/xception.gcw';
const SAMPLES = [
  ['cat', '../../images/skimage_chelsea.png'],
  ['coffee', '../../images/skimage_coffee.png'],
  ['eagle', '../../images/darknet_eagle.jpg'],
  ['astronaut', '../../images/skimage_astronaut.png'],
];

let gc = null;
let current = null; // the Blob or image being shown
let busy = Promise.resolve();

function status(text, progress) {
  $('status').textContent = text;
  const bar = $('progress');
  if (progress === undefined) { bar.hidden = true; return; }
  bar.hidden = false;
  if (progress.total) { bar.max = progress.total; bar.value = progress.loaded; } else bar.removeAttribute('value');
}

function showError(e) {
  const el = $('error');
  if (!e) { el.hidden = true; el.textContent = ''; return; }
  el.hidden = false;
  el.textContent = e.code ? `${e.message} (${e.code})` : String(e.message || e);
}

const MB = (n) => (n / 1048576).toFixed(1);
function onProgress(p) {
  const what = { download: 'Loading weights', compile: 'Loading the WebAssembly core', convert: 'Converting Keras weights', pack: 'Preparing the network' }[p.phase] || p.phase;
  const amount = p.phase === 'download' || p.phase === 'compile'
    ? ` ${MB(p.loaded)}${p.total ? ` / ${MB(p.total)}` : ''} MB`
    : p.total ? ` ${p.loaded} / ${p.total}` : '';
  status(`${what}…${amount}`, p);
}

async function loadWeights(source) {
  showError(null);
  try {
    const r = await gc.loadWeights(source, { onProgress });
    $('weights-box').hidden = true;
    status(`Ready: ${(r.params / 1e6).toFixed(1)} M parameters loaded (${r.format === 'h5' ? 'converted from Keras .h5' : 'project format'}). Choose an image.`);
    document.body.dataset.state = 'ready';
    if (current) await classify(current);
  } catch (e) {
    status('No weights loaded.');
    $('weights-box').hidden = false;
    showError(e);
    document.body.dataset.state = 'no-weights';
  }
}

function renderTop(top) {
  const list = $('top5');
  list.replaceChildren(...top.map((t) => {
    const li = document.createElement('li');
    const pct = (t.prob * 100).toFixed(1);
    li.innerHTML = '<span class="name"></span><span class="prob"></span><div class="bar"><span></span></div>';
    li.querySelector('.name').textContent = t.name.replaceAll('_', ' ');
    li.querySelector('.prob').textContent = `${pct} %`;
    li.querySelector('.bar > span').style.width = `${Math.max(0.5, t.prob * 100)}%`;
    li.dataset.index = t.index;
    return li;
  }));
}

async function classify(image) {
  current = image;
  if (image instanceof Blob) {
    const img = $('preview');
    if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(image);
    img.hidden = false;
    img.onerror = () => { img.hidden = true; };
    $('caption').textContent = image.name || '';
  }
  if (!gc || !gc.info().loaded) return;
  showError(null);
  status('Classifying…');
  document.body.dataset.state = 'busy';
  try {
    const r = await gc.classify(image, { topK: 5 });
    renderTop(r.top);
    $('timings').textContent = `forward pass ${r.timings.forward.toFixed(0)} ms, decoding ${r.timings.decode.toFixed(0)} ms, total ${r.timings.total.toFixed(0)} ms`;
    status('Done. Choose another image.');
    document.body.dataset.state = 'classified';
  } catch (e) {
    $('top5').replaceChildren();
    $('preview').hidden = true;
    status('Could not classify this image.');
    showError(e);
    document.body.dataset.state = 'error';
  }
}

const queue = (fn) => { busy = busy.then(fn, fn); return busy; };

async function start() {
  for (const [name, url] of SAMPLES) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = name;
    b.addEventListener('click', () => queue(async () => {
      const res = await fetch(url);
      const blob = await res.blob();
      await classify(new File([blob], url.split('/').pop(), { type: blob.type }));
    }));
    $('samples').append(b);
  }
  $('image-file').addEventListener('change', (ev) => { const f = ev.target.files[0]; if (f) queue(() => classify(f)); });
  $('weights-file').addEventListener('change', (ev) => { const f = ev.target.files[0]; if (f) queue(() => loadWeights(f)); });

  const threads = params.has('threads') ? Number(params.get('threads')) : undefined;
  try {
    gc = await GradCam.load({ wasmBase: '../../build/', threads, onProgress });
  } catch (e) {
    status('The model could not start.');
    showError(e);
    document.body.dataset.state = 'failed';
    return;
  }
  window.gradcam = gc; // for the console and the tests
  const info = gc.info();
  $('mode').textContent = info.mode === 'threaded'
    ? `WebAssembly SIMD, ${info.threads} threads (cross-origin isolated), core ${info.version}`
    : `WebAssembly SIMD, single thread (the page is not cross-origin isolated: see the console), core ${info.version}`;
  const head = await fetch(WEIGHTS_URL, { method: 'HEAD' }).catch(() => null);
  if (!head || !head.ok) {
    status('No weights loaded.');
    $('weights-box').hidden = false;
    document.body.dataset.state = 'no-weights';
    return;
  }
  await queue(() => loadWeights(WEIGHTS_URL));
}

start();
