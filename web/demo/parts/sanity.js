// sanity.js - "Sanity check" (Adebayo et al. 2018): the network's top is replaced by random
// weights, cascading (the classifier, then block 14 and above, then block 13 ...), and each
// method explains the same guess with every copy, through gc.sanityCheck() (the worker builds
// each randomised copy from the loaded model as a second model and frees it after). A table: one
// row per step, one column per method, each map with its rank correlation to the trained
// network's map.
import { $, el, putImage } from './dom.js';
import { bump, S } from './state.js';
import { methodName } from './text.js';
import { again, defineView, guessName, needs, withJob } from './views.js';

/** The methods compared: Grad-CAM and two pixel methods (guided backpropagation is the paper's
 *  example of a map that hardly changes). */
export const SANITY_METHODS = ['gradcam', 'guided-backprop', 'saliency'];
const BLOCKS = [14, 13, 12];

/** The cascade of the loaded model, top down: its last layer (the classifier), then the first
 *  layer of each of the top blocks. */
export function cascade(layers) {
  const out = [];
  const last = layers[layers.length - 1];
  if (last && last.shape.length === 2) out.push(last.name);
  for (const b of BLOCKS) {
    const first = layers.find((l) => l.name.startsWith(`block${b}_`));
    if (first) out.push(first.name);
  }
  return out;
}

const stepName = (from) => (from === null ? 'the trained network' : /^block(\d+)_/.test(from)
  ? `random from block ${/^block(\d+)_/.exec(from)[1]} up` : `random classifier (${from})`);

async function run() {
  const missing = needs();
  const table = $('sanity-table');
  if (missing) { $('sanity-caption').textContent = missing; table.replaceChildren(); return; }
  const methods = SANITY_METHODS.filter((m) => S.methods.some((x) => x.name === m));
  const from = cascade(S.gc.layers());
  const options = { methods, from, classIndex: S.classIndex, layer: 'block14_sepconv2_act', colormap: 'jet', seed: 1 };
  $('sanity-caption').textContent = `${guessName()}: ${methods.length} methods, the trained network and ${from.length} randomised copies.`;
  table.replaceChildren();
  const r = await withJob({ label: 'Sanity check', where: $('sanity-caption') }, (job) => S.gc.sanityCheck(S.image.source, {
    ...options, signal: job.signal,
    onProgress: (p) => {
      if (p.passes) job.passes(p.passes);
      else if (p.stage !== 'done') job.step(p.done, p.total, p.stage === 'randomize' ? `randomising from ${p.from}` : `${methodName(p.method)}, ${stepName(p.from)}`, S.forwardMs);
    },
  }));
  if (!r) return;
  const head = el('tr', {}, el('th', { scope: 'col', textContent: 'Weights' }), ...methods.map((m) => el('th', { scope: 'col', textContent: methodName(m) })));
  const rows = r.steps.map((st) => el('tr', {}, el('th', { scope: 'row', textContent: stepName(st.from) }), ...st.maps.map((m) => {
    const c = el('canvas', { attrs: { role: 'img', 'aria-label': `${methodName(m.method)}, ${stepName(st.from)}` } });
    putImage(c, m.heatmap);
    const sim = st.from === null ? 'the reference' : `alike: ${m.similarity.toFixed(2)}`;
    return el('td', {}, c, el('p', { textContent: sim, dataset: { similarity: String(m.similarity) } }));
  })));
  table.replaceChildren(el('caption', { className: 'hint', textContent: '"alike": the rank correlation of the map with the trained network\'s (1: the same order of importance, 0: unrelated).' }),
    el('thead', {}, head), el('tbody', {}, ...rows));
  S.sanity = { options, result: r };
  bump('sanity');
}

export function setupSanity() {
  defineView('sanity', { run, key: () => (S.image && S.classIndex != null ? `${S.image.id}:${S.classIndex}` : 'none') });
  $('sanity-run').addEventListener('click', () => again('sanity'));
}
