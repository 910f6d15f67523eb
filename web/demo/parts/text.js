// text.js - the words of the page: methods in plain language (their names, settings and kinds
// come from the core's registry, gc.methods()), what the colours mean, and how the layers are
// named; also how many network passes a method costs (for time estimates).
import { pretty } from './dom.js';
import { S } from './state.js';

/** One sentence a student can follow, per method of the core's registry (the package's
 *  description is the fallback; tests/js/registry.test.mjs checks that every method has one). */
export const STUDENT_TEXT = {
  gradcam: 'Which parts of the photo raised the score of the guess, seen from a layer of the network.',
  'gradcam++': 'Like Grad-CAM, but better when the thing appears several times in the photo.',
  hirescam: 'Like Grad-CAM, but place by place, so it shows exactly what the score used.',
  xgradcam: 'Grad-CAM with the feature maps weighted by how strongly they respond.',
  layercam: 'Keeps only what raised the score at each place: sharper at earlier layers.',
  eigencam: 'What the layer responds to most, whatever the guess (it ignores the class).',
  scorecam: 'Hides the photo but one pattern at a time and keeps the patterns that keep the guess: slow.',
  saliency: 'Which single pixels would change the score most if they changed.',
  'guided-backprop': 'The edges and details that raise the score, in colour; hardly depends on the guess.',
  'guided-gradcam': 'Guided backpropagation kept only where Grad-CAM sees evidence: sharp and about the guess.',
  smoothgrad: 'Saliency averaged over noisy copies of the photo: less speckled. Slow.',
  'integrated-gradients': 'Adds up what each pixel contributed on the way from a black photo to this one. Slow.',
  eigengradcam: 'Like Eigen-CAM, but on what raised the score of the guess: about the class.',
  ablationcam: 'Switches off one pattern at a time and watches how much the score drops: slow at early layers.',
  'gradient-input': 'Each pixel times how much the score would change with it.',
};

const method = (name) => S.methods.find((m) => m.name === name);
/** The method's display name, from the core's registry. */
export const methodName = (name) => method(name)?.label || name;

/** The choices offered for a setting of the registry: around its default, within its range
 *  (and its special word); none for settings a class does not need (a noise seed). */
export function settingChoices(q) {
  if (q.max > 1e6) return [];
  const round = (v) => (q.integer ? Math.round(v) : Math.round(v * 100) / 100);
  const ladder = q.integer ? [1 / 4, 1 / 2, 1, 2, 4] : [1 / 3, 2 / 3, 1, 5 / 3];
  const values = [...new Set(ladder.map((f) => round(q.default * f)))].filter((v) => v >= q.min && v <= q.max && (v > 0 || !q.integer));
  return q.special ? [...values, q.special] : values;
}

/** Network passes of a method beyond the forward pass, in forward-pass times (estimates for
 *  the job's bar until the core reports its passes). */
export function passesOf(name, layer, o = {}) {
  const m = method(name);
  if (!m) return 1;
  if (!m.multiPass) {
    if (!m.needsClass) return 0;
    if (name === 'gradcam' && layer === 'block14_sepconv2_act') return 0;
    return m.channels === 3 && m.usesLayer ? 2 : 1;
  }
  const q = m.params.find((p) => p.name !== 'seed' && p.integer);
  const v = q ? o[q.name] ?? q.default : 64;
  const n = typeof v === 'number' && v > 0 ? v : 256; // 'all' channels
  return m.usesLayer ? n / 4 : 2 * n; // layer methods batch their passes; input ones need a backward each
}

/** How a method's map is best shown: the CAM family over the photo (jet, scaled to its
 *  maximum, as keras.io); the pixel methods on their own, grey or RGB, clipped at the top 1 %
 *  as their papers show them. */
export function familyOf(name) {
  const m = method(name);
  if (m && m.channels === 3) return 'rgb';
  return m && !m.usesLayer ? 'pixel' : 'cam';
}
export const DISPLAY_DEFAULTS = {
  cam: { colormap: 'jet', scale: 'max', view: 'overlay', blend: 'additive', alpha: 0.4 },
  pixel: { colormap: 'gray', scale: 'percentile', view: 'heatmap', blend: 'alpha', alpha: 0.6 },
  rgb: { colormap: 'gray', scale: 'percentile', view: 'heatmap', blend: 'alpha', alpha: 0.6 },
};

/** The words at both ends of the colour scale, and a sentence under it. */
export function legendWords(method, className, scale) {
  const c = pretty(className);
  const top = scale === 'percentile' ? ' (the top 1 % and above)' : '';
  switch (familyOf(method)) {
    case 'rgb':
      return { bar: false, low: '', high: '', note: `Grey: no effect. Coloured edges: details whose change would raise the score of ${c} (the colour says which of red, green or blue).` };
    case 'pixel':
      if (method === 'gradient-input') {
        return { bar: true, low: 'contributed nothing', high: `contributed most to ${c}${top}`, note: 'Each pixel times how much the score moves with it.' };
      }
      return method === 'integrated-gradients'
        ? { bar: true, low: 'contributed nothing', high: `contributed most to ${c}${top}`, note: 'Each pixel\'s share of the score, from a black photo to this one.' }
        : { bar: true, low: 'changes nothing', high: `changes the score of ${c} most${top}`, note: 'How much the score moves when a pixel changes a little.' };
    default:
      return method === 'eigencam'
        ? { bar: true, low: 'weak', high: `what the layer responds to most${top}`, note: 'Eigen-CAM ignores the guess: the same map for every class.' }
        : { bar: true, low: 'no evidence', high: `more evidence for ${c}${top}`, note: 'Colours are relative to this picture: red is its strongest evidence, not a probability.' };
  }
}

/** Xception's block outputs: block1's last activation, the residual additions of blocks 2-13
 *  and block14's last activation. The full list is every 4-D activation of the blocks. */
export function blockOutputs(layers) {
  const names = layers.map((l) => l.name);
  const out = [];
  for (let b = 1; b <= 14; b++) {
    const want = b === 1 ? 'block1_conv2_act' : b === 14 ? 'block14_sepconv2_act' : `block${b}_add`;
    const l = layers.find((x) => x.name === want);
    if (l && names.includes(want)) out.push(l);
  }
  return out;
}
export const spatialLayers = (layers) => layers.filter((l) => l.shape.length === 4 && /^block\d+_/.test(l.name));
export const blockOf = (name) => Number(/^block(\d+)_/.exec(name)?.[1] || 0);
export const flowOf = (b) => (b <= 4 ? 'entry flow' : b <= 12 ? 'middle flow' : 'exit flow');

/** A layer's label: "Block 8 output · 19×19 · middle flow" or its Keras name with the shape. */
export function layerLabel(l, blockOutput) {
  const [, h, w, c] = l.shape;
  const b = blockOf(l.name);
  return blockOutput ? `Block ${b} output · ${h}×${w} · ${flowOf(b)}` : `${l.name} · ${h}×${w}×${c}`;
}
