// compare.js - "Compare methods": every CAM-family method (the methods of a layer with one
// value per place), and on request the pixel methods, for the same photo, guess and layer in
// one grid, each with its time; the grid can be saved as one PNG.
import { $, el, ms, pngOf, saveBlob, slug } from './dom.js';
import { displayOf, renderOptions } from './controls.js';
import { bump, S } from './state.js';
import { familyOf, methodName, passesOf } from './text.js';
import { again, cell, defineView, guessName, needs, sequence } from './views.js';

let shown = []; // [{method, result}]

/** The methods compared, in the core's order (methods() is their one home). */
export function comparedMethods(withPixels) {
  return S.methods.filter((m) => (m.usesLayer && m.channels === 1) || withPixels).map((m) => m.name);
}

async function run() {
  const missing = needs();
  const grid = $('compare-grid');
  if (missing) { $('compare-caption').textContent = missing; grid.replaceChildren(); return; }
  const layer = $('layer').value;
  const methods = comparedMethods($('compare-pixels').checked);
  const image = S.image.source;
  const classIndex = S.classIndex;
  $('compare-caption').textContent = `${guessName()}: ${methods.length} methods at ${layer} (pixel methods on the pixels).`;
  grid.replaceChildren();
  shown = [];
  $('compare-save').disabled = true;
  const results = await sequence({
    label: 'Comparing methods',
    where: $('compare-caption'),
    items: methods,
    text: (m) => methodName(m),
    expect: (m) => (1 + passesOf(m, layer, S.settings[m])) * 0.5 * S.forwardMs,
    fn: async (method, signal) => {
      const m = S.methods.find((x) => x.name === method);
      const o = { classIndex, method, ...renderOptions(method), signal };
      if (m.usesLayer) o.layer = layer;
      if (S.settings[method]) o.methodOptions = { ...S.settings[method] };
      const r = await S.gc.explain(image, o);
      const view = displayOf(method).view === 'overlay' && familyOf(method) === 'cam' ? r.overlay : r.heatmap;
      grid.append(cell(methodName(method), `${ms(r.timings.explain)}${r.reusedForward ? '' : ` + forward ${ms(r.timings.forward)}`}`, view,
        { alt: `${methodName(method)} for ${guessName()}` }));
      shown.push({ method, result: r });
      return r;
    },
  });
  if (!results) return;
  S.compare = shown;
  $('compare-save').disabled = false;
  bump('compared');
}

/** The grid as one picture: each method's picture with its name and time under it. */
async function save() {
  const cells = [...$('compare-grid').querySelectorAll('.cell')];
  if (!cells.length) return;
  const cols = Math.min(4, cells.length);
  const rows = Math.ceil(cells.length / cols);
  const first = cells[0].querySelector('canvas');
  const w = 320;
  const h = Math.round((w * first.height) / first.width);
  const out = el('canvas', { width: cols * w, height: rows * (h + 44) + 36 });
  const g = out.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, out.width, out.height);
  g.fillStyle = '#111';
  g.font = 'bold 16px system-ui, sans-serif';
  g.fillText($('compare-caption').textContent, 8, 24);
  cells.forEach((c, i) => {
    const x = (i % cols) * w;
    const y = 36 + Math.floor(i / cols) * (h + 44);
    g.drawImage(c.querySelector('canvas'), x + 4, y, w - 8, h);
    g.font = 'bold 14px system-ui, sans-serif';
    g.fillText(c.querySelector('.cell-title').textContent, x + 6, y + h + 18);
    g.font = '13px system-ui, sans-serif';
    g.fillText(c.querySelector('.hint').textContent, x + 6, y + h + 36);
  });
  saveBlob(await pngOf(out), `${slug(S.image?.name || 'photo')}-${slug(guessName())}-methods.png`);
}

export function setupCompare() {
  defineView('compare', { run, key: () => (S.image && S.classIndex != null ? `${S.image.id}:${S.classIndex}:${$('layer').value}:${$('compare-pixels').checked}` : 'none') });
  $('compare-run').addEventListener('click', () => again('compare'));
  $('compare-pixels').addEventListener('change', () => again('compare'));
  $('compare-save').addEventListener('click', save);
}
