// text.js - the words of the page: methods in plain language, what the colours mean, and how
// the layers are named; also how many network passes a method costs (for time estimates).
import { pretty } from './dom.js';

/** [display name, one sentence a student can follow]; the package's description is shown too. */
export const METHOD_TEXT = {
  gradcam: ['Grad-CAM', 'Which parts of the photo raised the score of the guess, seen from a layer of the network.'],
  'gradcam++': ['Grad-CAM++', 'Like Grad-CAM, but better when the thing appears several times in the photo.'],
  hirescam: ['HiResCAM', 'Like Grad-CAM, but place by place, so it shows exactly what the score used.'],
  xgradcam: ['XGrad-CAM', 'Grad-CAM with the feature maps weighted by how strongly they respond.'],
  layercam: ['LayerCAM', 'Keeps only what raised the score at each place: sharper at earlier layers.'],
  eigencam: ['Eigen-CAM', 'What the layer responds to most, whatever the guess (it ignores the class).'],
  scorecam: ['Score-CAM', 'Hides the photo but one pattern at a time and keeps the patterns that keep the guess: slow.'],
  saliency: ['Saliency', 'Which single pixels would change the score most if they changed.'],
  'guided-backprop': ['Guided backpropagation', 'The edges and details that raise the score, in colour; hardly depends on the guess.'],
  'guided-gradcam': ['Guided Grad-CAM', 'Guided backpropagation kept only where Grad-CAM sees evidence: sharp and about the guess.'],
  smoothgrad: ['SmoothGrad', 'Saliency averaged over noisy copies of the photo: less speckled. Slow.'],
  'integrated-gradients': ['Integrated gradients', 'Adds up what each pixel contributed on the way from a black photo to this one. Slow.'],
};
export const methodName = (m) => METHOD_TEXT[m]?.[0] || m;

/** The methods' own settings (methodOptions): [key, label, choices, the core's default]. */
export const METHOD_SETTINGS = {
  scorecam: [['channels', 'Patterns used as masks', [8, 16, 32, 64, 128], 32]],
  smoothgrad: [['samples', 'Noisy copies', [4, 8, 16, 32], 8], ['sigma', 'Noise', [0.05, 0.1, 0.15, 0.25], 0.15]],
  'integrated-gradients': [['steps', 'Steps from black', [4, 8, 16, 32, 64], 16]],
};

/** Network passes of a method beyond the forward pass, in forward-pass times (estimates). */
export function passesOf(method, layer, o = {}) {
  switch (method) {
    case 'gradcam': return layer === 'block14_sepconv2_act' ? 0 : 1;
    case 'eigencam': return 0;
    case 'scorecam': return o.channels ?? 32;
    case 'smoothgrad': return 2 * (o.samples ?? 8);
    case 'integrated-gradients': return 2 * (o.steps ?? 16);
    case 'guided-gradcam': return 2;
    default: return 1;
  }
}

/** How a method's map is best shown: the CAM family over the photo (jet, scaled to its
 *  maximum, as keras.io); the pixel methods on their own, grey or RGB, clipped at the top 1 %
 *  as their papers show them. */
export function familyOf(method) {
  if (['saliency', 'smoothgrad', 'integrated-gradients'].includes(method)) return 'pixel';
  if (['guided-backprop', 'guided-gradcam'].includes(method)) return 'rgb';
  return 'cam';
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
