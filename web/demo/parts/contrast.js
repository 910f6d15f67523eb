// contrast.js - "Two classes": Grad-CAM of two guesses side by side, and the contrastive map of
// the difference of their scores (explain({contrastClass})): its weighted sum before the ReLU
// (detail.preRelu), signed, in the diverging colours over the photo: red where the photo speaks
// for the first guess rather than the second, blue for the second.
import { $, pct, pretty } from './dom.js';
import { colormapBar } from './plots.js';
import { bump, S } from './state.js';
import { again, cell, defineView, needs, sequence } from './views.js';

const nameOf = (i) => pretty(S.classes?.find((c) => c.index === i)?.name ?? `class ${i}`);

/** The two selects: the first five guesses; A the main view's guess, B the best other one. */
function fillChoices() {
  const top = (S.classes || []).slice(0, 5);
  const [a, b] = [$('contrast-a'), $('contrast-b')];
  const keep = [Number(a.value), Number(b.value)];
  for (const sel of [a, b]) sel.replaceChildren(...top.map((c) => new Option(`${pretty(c.name)} (${pct(c.prob)})`, String(c.index))));
  const ids = top.map((c) => c.index);
  a.value = String(ids.includes(keep[0]) && S.contrastFor === S.image?.id ? keep[0] : S.classIndex ?? ids[0]);
  const other = ids.find((i) => i !== Number(a.value));
  b.value = String(ids.includes(keep[1]) && keep[1] !== Number(a.value) && S.contrastFor === S.image?.id ? keep[1] : other);
  S.contrastFor = S.image?.id;
}

async function run() {
  const missing = needs() || (S.classes && S.classes.length < 2 ? 'This model has a single class: there is nothing to compare.' : null);
  const grid = $('contrast-grid');
  if (missing) { $('contrast-caption').textContent = missing; grid.replaceChildren(); return; }
  fillChoices();
  const [a, b] = [Number($('contrast-a').value), Number($('contrast-b').value)];
  if (a === b) { $('contrast-caption').textContent = 'Choose two different guesses.'; grid.replaceChildren(); return; }
  const layer = $('layer').value;
  const image = S.image.source;
  $('contrast-caption').textContent = `${nameOf(a)} rather than ${nameOf(b)}, at ${layer}.`;
  grid.replaceChildren();
  const shown = {};
  const items = [['a', { classIndex: a }], ['b', { classIndex: b }], ['contrast', { classIndex: a, contrastClass: b, detail: true }]];
  const results = await sequence({
    label: 'Two classes',
    where: $('contrast-caption'),
    items,
    text: ([k]) => (k === 'contrast' ? `${nameOf(a)} minus ${nameOf(b)}` : `Grad-CAM for ${nameOf(k === 'a' ? a : b)}`),
    expect: () => 0.5 * S.forwardMs,
    fn: async ([k, o], signal) => {
      const r = await S.gc.explain(image, { method: 'gradcam', layer, colormap: 'jet', ...o, signal });
      if (k !== 'contrast') {
        grid.append(cell(`Grad-CAM: ${nameOf(o.classIndex)}`, `${pct(r.prob)}`, r.overlay, { alt: `Grad-CAM for ${nameOf(o.classIndex)}` }));
      } else {
        // the signed sum before the ReLU, around white: both sides of the difference
        const pre = r.detail.preRelu;
        const cam = { width: pre.width, height: pre.height, channels: 1, data: pre.data };
        const d = await S.gc.render({ cam, imageKey: r.imageKey }, { colormap: 'diverging', scale: 'percentile', alpha: 0.5, blend: 'alpha', image, signal });
        r.signed = d;
        grid.append(cell(`${nameOf(a)} rather than ${nameOf(b)}`, 'red: for the first · blue: for the second', d.overlay,
          { alt: `where the photo speaks for ${nameOf(a)} (red) or for ${nameOf(b)} (blue)` }));
      }
      shown[k] = r;
      return r;
    },
  });
  if (!results) return;
  $('contrast-legend').hidden = false;
  $('contrast-bar').getContext('2d').putImageData(await colormapBar('diverging'), 0, 0);
  $('contrast-low').textContent = `for ${nameOf(b)}`;
  $('contrast-high').textContent = `for ${nameOf(a)}`;
  S.contrast = { layer, a, b, results: shown };
  bump('contrasted');
}

export function setupContrast() {
  defineView('contrast', {
    run, key: () => (S.image && S.classIndex != null ? `${S.image.id}:${S.classIndex}:${$('layer').value}` : 'none'),
  });
  for (const id of ['contrast-a', 'contrast-b']) $(id).addEventListener('change', () => again('contrast'));
}
