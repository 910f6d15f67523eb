// inside.js - "Inside Grad-CAM": the steps of Grad-CAM for the main view's guess and layer, each
// with its numbers: the channel weights w_k (a bar chart of the largest), the feature maps A^k of
// the top channels, their weighted sum sum_k w_k A^k (the explanation's detail.preRelu), its ReLU
// (the raw map, as a grid of numbers) and the upsampling to the photo (the heatmap and overlay).
// The weights and the sum come from explain({detail: true}), the maps from activation().
import { $, el } from './dom.js';
import { byMagnitude, figure, greyChannel, mapPicture, num, numbers, weightBars } from './maps.js';
import { bump, S } from './state.js';
import { again, defineView, guessName, needs, withJob } from './views.js';

const BARS = 16; // weights in the bar chart
const MAPS = 6; // feature maps shown

const step = (title, text, ...content) => el('li', {}, el('h3', { textContent: title }), el('p', { textContent: text }), ...content);

async function run() {
  const missing = needs();
  const list = $('inside-steps');
  if (missing) { $('inside-caption').textContent = missing; list.replaceChildren(); return; }
  const layer = $('layer').value;
  const image = S.image.source;
  const got = await withJob({ label: 'Inside Grad-CAM', where: $('inside-caption') }, async (job) => {
    job.step(0, 2, `Grad-CAM at ${layer} with its weights`, S.forwardMs);
    const r = await S.gc.explain(image, { classIndex: S.classIndex, method: 'gradcam', layer, detail: true, signal: job.signal });
    job.step(1, 2, `the feature maps of ${layer}`, 0);
    const act = await S.gc.activation(image, layer, { signal: job.signal });
    const pre = await mapPicture(r.detail.preRelu, { colormap: 'diverging', scale: 'percentile' });
    return { r, act, pre, relu: await mapPicture(r.cam) };
  });
  if (!got) return;
  const { r, act, pre, relu } = got;
  const { weights, preRelu } = r.detail;
  const order = byMagnitude(weights);
  const [, H, W, K] = act.shape;
  $('inside-caption').textContent = `Grad-CAM for ${guessName()} at ${layer}: ${K} feature maps of ${H}×${W}.`;
  const bars = el('canvas', { id: 'inside-weights', attrs: { role: 'img', 'aria-label': `the ${BARS} largest channel weights` } });
  const listed = order.slice(0, MAPS).map((k) => `channel ${k}: ${num(weights[k])}`).join(', ');
  list.replaceChildren(
    step('A weight for each feature map', `Each of the ${K} feature maps gets a weight: the average of how much the score of ${guessName()} rises with each of its ${H * W} places. The ${BARS} largest (red: for, blue: against): ${listed}, …`, bars),
    step('The feature maps with the largest weights', 'White is where the map\'s pattern is strongest (each map scaled to its own range).',
      el('ul', { className: 'pictures' }, ...order.slice(0, MAPS).map((k) => el('li', {}, figure(greyChannel(act, k), `channel ${k} · weight ${num(weights[k])}`))))),
    step('Their weighted sum', `Every feature map times its weight, added up place by place: red where the sum is positive, blue where it is negative.`,
      el('ul', { className: 'pictures' }, el('li', {}, figure(pre, `sum of ${K} weighted maps`))), numbers(preRelu, 'the weighted sum')),
    step('Only the positive part (ReLU)', 'Negative values become 0: only evidence for the guess is kept. This is the raw Grad-CAM map.',
      el('ul', { className: 'pictures' }, el('li', {}, figure(relu, `Grad-CAM ${r.cam.height}×${r.cam.width}`))), numbers(r.cam, 'the raw map after the ReLU')),
    step('Stretched to the photo', `The ${r.cam.height}×${r.cam.width} map is scaled to 0..1 by its largest value, enlarged smoothly to the photo's ${r.overlay.width}×${r.overlay.height} pixels, coloured and laid over it.`,
      el('ul', { className: 'pictures' }, el('li', {}, figure(r.heatmap, 'the map, enlarged')), el('li', {}, figure(r.overlay, 'over the photo')))),
  );
  weightBars('inside-weights', weights, order, Math.min(BARS, K));
  S.inside = { layer, classIndex: r.classIndex, result: r, activation: act, order };
  bump('inside');
}

export function setupInside() {
  defineView('inside', { run, key: () => (S.image && S.classIndex != null ? `${S.image.id}:${S.classIndex}:${$('layer').value}` : 'none') });
  $('inside-run').addEventListener('click', () => again('inside'));
}
