// batch.js - "Many photos": up to 50 photos, each with its best guess and the Grad-CAM picture
// of it (block 14, one forward pass each), shown as a grid; "Save all" writes a ZIP built in
// the page with every picture (PNG) and predictions.csv (the five best guesses of each photo).
import { $, canvasOf, pngOf, pretty, pct, saveBlob, slug } from './dom.js';
import { bump, S } from './state.js';
import { status } from './status.js';
import { cell, sequence } from './views.js';
import { csvLine, zipStored } from './zip.js';

export const MAX_PHOTOS = 50;
const MAX_SIDE = 1024; // larger photos are reduced first (the network sees 299x299 anyway)
let done = []; // [{name, classes, overlay}]

/** A photo as the package's input: the file itself, or reduced to MAX_SIDE when larger. */
async function inputOf(file) {
  const bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const side = Math.max(bitmap.width, bitmap.height);
  if (side <= MAX_SIDE) { bitmap.close(); return file; }
  const f = MAX_SIDE / side;
  const w = Math.max(1, Math.round(bitmap.width * f));
  const h = Math.max(1, Math.round(bitmap.height * f));
  const c = new OffscreenCanvas(w, h);
  const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(bitmap, 0, 0, w, h);
  bitmap.close();
  return g.getImageData(0, 0, w, h);
}

/** Explain each photo's best guess; unreadable files get a line saying so. */
export async function runBatch(files) {
  const list = [...files].filter((f) => f.type.startsWith('image/') || /\.(jpe?g|png|gif|bmp|webp)$/i.test(f.name));
  if (!S.weights.loaded) { $('batch-caption').textContent = 'The network\'s weights are needed first.'; return; }
  const skipped = list.length > MAX_PHOTOS ? list.length - MAX_PHOTOS : 0;
  const photos = list.slice(0, MAX_PHOTOS);
  const grid = $('batch-grid');
  grid.replaceChildren();
  done = [];
  $('batch-save').disabled = true;
  $('batch-caption').textContent = `${photos.length} photos${skipped ? ` (the first ${MAX_PHOTOS}; ${skipped} left out)` : ''}.`;
  const results = await sequence({
    label: 'Many photos',
    where: $('batch-caption'),
    items: photos,
    text: (f) => f.name,
    expect: () => S.forwardMs,
    fn: async (file, signal) => {
      let r;
      try {
        r = await S.gc.explain(await inputOf(file), { method: 'gradcam', colormap: 'jet', alpha: 0.4, blend: 'additive', signal });
      } catch (e) {
        if (e.code === 'ABORTED') throw e;
        grid.append(cell(file.name, `not readable as a photo (${e.code || e.message})`, null));
        return null;
      }
      const best = r.classes[0];
      grid.append(cell(`${pretty(best.name)} · ${pct(best.prob)}`, file.name, r.overlay, { alt: `${file.name}: ${pretty(best.name)}, Grad-CAM` }));
      done.push({ name: file.name, classes: r.classes.slice(0, 5), overlay: r.overlay });
      return r;
    },
  });
  if (!results) return;
  S.batch = done;
  $('batch-save').disabled = !done.length;
  status(`${done.length} photos explained.`);
  bump('batched');
}

/** predictions.csv: one row per photo with its five best guesses. */
export function predictionsCsv(rows) {
  const head = ['file', ...[1, 2, 3, 4, 5].flatMap((k) => [`guess_${k}`, `class_${k}`, `probability_${k}`])];
  return csvLine(head) + rows.map((r) => csvLine([r.name, ...r.classes.flatMap((c) => [c.name, c.index, c.prob.toFixed(6)])])).join('');
}

async function save() {
  const used = new Set();
  const entries = [];
  for (const r of done) {
    let base = `${slug(r.name)}-gradcam`;
    for (let i = 2; used.has(base); i++) base = `${slug(r.name)}-gradcam-${i}`;
    used.add(base);
    entries.push({ name: `pictures/${base}.png`, data: new Uint8Array(await (await pngOf(canvasOf(r.overlay))).arrayBuffer()) });
  }
  entries.push({ name: 'predictions.csv', data: predictionsCsv(done) });
  saveBlob(zipStored(entries), 'gradcam-photos.zip');
}

export function setupBatch() {
  $('batch-files').addEventListener('change', (ev) => { const f = [...ev.target.files]; ev.target.value = ''; if (f.length) runBatch(f); });
  $('batch-save').addEventListener('click', save);
}
