// layers-view.js - "Layer by layer": Grad-CAM of the guess at each of the 14 block outputs, from
// block 1 (fine, about edges) to block 14 (coarse, about the object), in one strip.
import { $, ms } from './dom.js';
import { bump, S } from './state.js';
import { blockOf, blockOutputs } from './text.js';
import { again, cell, defineView, guessName, needs, sequence } from './views.js';

async function run() {
  const missing = needs();
  const strip = $('layers-strip');
  if (missing) { $('layers-caption').textContent = missing; strip.replaceChildren(); return; }
  const layers = blockOutputs(S.gc.layers());
  const image = S.image.source;
  const classIndex = S.classIndex;
  $('layers-caption').textContent = `Grad-CAM for ${guessName()}, block by block.`;
  strip.replaceChildren();
  const shown = [];
  const results = await sequence({
    label: 'Layer by layer',
    where: $('layers-caption'),
    items: layers,
    text: (l) => `Grad-CAM at block ${blockOf(l.name)}`,
    expect: () => 0.6 * S.forwardMs,
    fn: async (l, signal) => {
      const r = await S.gc.explain(image, { classIndex, method: 'gradcam', layer: l.name, colormap: 'jet', alpha: 0.4, blend: 'additive', signal });
      const [, h, w] = l.shape;
      strip.append(cell(`Block ${blockOf(l.name)}`, `${h}×${w} · ${ms(r.timings.explain)}`, r.overlay,
        { alt: `Grad-CAM for ${guessName()} at block ${blockOf(l.name)}` }));
      shown.push({ method: 'gradcam', layer: l.name, result: r });
      return r;
    },
  });
  if (!results) return;
  S.layersResults = shown;
  bump('layered');
}

export function setupLayersView() {
  defineView('layers', { run, key: () => (S.image && S.classIndex != null ? `${S.image.id}:${S.classIndex}` : 'none') });
  $('layers-run').addEventListener('click', () => again('layers'));
}
