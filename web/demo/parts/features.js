// features.js - "Feature maps": every channel of a layer's activation for the photo, as a grid
// of small grey pictures (each scaled from its own lowest to highest value: white is where its
// pattern is strongest); a click, or the arrow keys and Enter, shows one large. The activation
// comes from the package's activation() (the worker's kept forward pass).
import { $, ms } from './dom.js';
import { fillLayers } from './controls.js';
import { bump, S } from './state.js';
import { again, defineView, needs, withJob } from './views.js';

const GRID = 720; // CSS pixels of the grid's side
let act = null; // {layer, shape, data}
let grid = null; // {cols, tile, H, W, C}
let chosen = 0;

/** Channel c of an NHWC activation scaled to 0..255 by its own min and max. */
export function channelBytes(a, c) {
  const [, H, W, C] = a.shape;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < H * W; i++) { const v = a.data[i * C + c]; if (v < lo) lo = v; if (v > hi) hi = v; }
  const out = new Uint8ClampedArray(H * W);
  const range = hi - lo;
  for (let i = 0; i < H * W; i++) out[i] = range > 0 ? Math.round(((a.data[i * C + c] - lo) / range) * 255) : 0;
  return { bytes: out, lo, hi };
}

function drawGrid() {
  const [, H, W, C] = act.shape;
  const cols = Math.ceil(Math.sqrt(C));
  const tile = Math.max(2, Math.floor(GRID / cols));
  const rows = Math.ceil(C / cols);
  grid = { cols, tile, H, W, C };
  const canvas = $('features-grid');
  canvas.width = cols * tile;
  canvas.height = rows * tile;
  const img = new ImageData(canvas.width, canvas.height);
  for (let c = 0; c < C; c++) {
    const { bytes } = channelBytes(act, c);
    const ox = (c % cols) * tile;
    const oy = Math.floor(c / cols) * tile;
    for (let ty = 0; ty < tile - 1; ty++) {
      const y = Math.min(H - 1, Math.floor((ty * H) / (tile - 1)));
      for (let tx = 0; tx < tile - 1; tx++) {
        const x = Math.min(W - 1, Math.floor((tx * W) / (tile - 1)));
        const v = bytes[y * W + x];
        const p = ((oy + ty) * canvas.width + ox + tx) * 4;
        img.data[p] = v; img.data[p + 1] = v; img.data[p + 2] = v; img.data[p + 3] = 255;
      }
    }
  }
  const g = canvas.getContext('2d');
  g.putImageData(img, 0, 0);
  mark();
}

function mark() {
  if (!grid) return;
  const g = $('features-grid').getContext('2d');
  g.strokeStyle = '#f4a400';
  g.lineWidth = 2;
  g.strokeRect((chosen % grid.cols) * grid.tile + 1, Math.floor(chosen / grid.cols) * grid.tile + 1, grid.tile - 3, grid.tile - 3);
}

/** Show channel c large. */
export function showChannel(c) {
  if (!act) return;
  const [, H, W, C] = act.shape;
  chosen = Math.max(0, Math.min(C - 1, c));
  drawGrid();
  const { bytes, lo, hi } = channelBytes(act, chosen);
  const canvas = $('features-large');
  canvas.width = W;
  canvas.height = H;
  const img = new ImageData(W, H);
  for (let i = 0; i < H * W; i++) { img.data[4 * i] = bytes[i]; img.data[4 * i + 1] = bytes[i]; img.data[4 * i + 2] = bytes[i]; img.data[4 * i + 3] = 255; }
  canvas.getContext('2d').putImageData(img, 0, 0);
  $('features-one').hidden = false;
  $('features-one-caption').textContent = `Feature map ${chosen + 1} of ${C} (${H}×${W}): from ${lo.toFixed(2)} (black) to ${hi.toFixed(2)} (white).`;
  S.featureShown = { layer: act.layer, channel: chosen };
  bump('featureShown');
}

async function run() {
  const missing = needs({ guess: false });
  if (missing) { $('features-caption').textContent = missing; return; }
  const layer = $('features-layer').value;
  const a = await withJob({ label: `reading the feature maps of ${layer}`, where: $('features-caption') }, (job) => {
    job.step(0, 1, `feature maps of ${layer}`, S.forwardMs);
    return S.gc.activation(S.image.source, layer, { signal: job.signal });
  });
  if (!a) return;
  act = a;
  S.features = a;
  const [, H, W, C] = a.shape;
  $('features-caption').textContent = `${layer}: ${C} feature maps of ${H}×${W}${a.reusedForward ? ' (from the pass already made)' : ` (one pass, ${ms(a.timings.forward)})`}.`;
  chosen = 0;
  drawGrid();
  $('features-one').hidden = true;
  bump('features');
}

export function setupFeatures() {
  defineView('features', { run, key: () => (S.image && S.weights.loaded ? `${S.image.id}:${$('features-layer').value}` : 'none') });
  const sel = $('features-layer');
  sel.addEventListener('change', () => again('features'));
  $('features-all').addEventListener('change', () => { fillLayers(sel, $('features-all').checked, sel.value); again('features'); });
  const canvas = $('features-grid');
  canvas.addEventListener('click', (ev) => {
    if (!grid) return;
    const r = canvas.getBoundingClientRect();
    const x = Math.floor(((ev.clientX - r.left) / r.width) * canvas.width / grid.tile);
    const y = Math.floor(((ev.clientY - r.top) / r.height) * canvas.height / grid.tile);
    const c = y * grid.cols + x;
    if (c < grid.C) showChannel(c);
  });
  canvas.addEventListener('keydown', (ev) => {
    if (!grid) return;
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -grid.cols, ArrowDown: grid.cols }[ev.key];
    if (step) {
      ev.preventDefault();
      chosen = Math.max(0, Math.min(grid.C - 1, chosen + step));
      drawGrid();
      $('features-caption').dataset.chosen = String(chosen);
    } else if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      showChannel(chosen);
    }
  });
}

/** Once the model is there: its layers (block outputs; all on request). */
export function setupFeatureLayers() { fillLayers($('features-layer'), false, 'block3_add'); }
