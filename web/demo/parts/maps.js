// maps.js - small pictures and tables of a layer's maps for the teaching views (Inside
// Grad-CAM, Two classes): a map coloured by the core's renderer at its own resolution, a grey
// feature map, a grid of numbers, and the bar chart of channel weights.
import { $, el, putImage } from './dom.js';
import { S } from './state.js';

/** A number as the tables show it: 2 significant digits (1 and an exponent below 0.001). */
export const num = (v) => (v === 0 ? '0' : Math.abs(v) >= 0.001 ? String(Number(v.toPrecision(2))) : v.toExponential(0));

/** A 1-channel map ({width, height, data}) coloured by the core at its own size (no photo). */
export async function mapPicture(map, { colormap = 'jet', scale = 'max' } = {}) {
  const cam = { width: map.width, height: map.height, channels: 1, data: Float32Array.from(map.data) };
  const image = new ImageData(map.width, map.height);
  return (await S.gc.render({ cam }, { colormap, scale, image })).heatmap;
}

/** Channel c of an NHWC activation in grey, scaled from its lowest (black) to its highest (white). */
export function greyChannel(act, c) {
  const [, H, W, C] = act.shape;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < H * W; i++) { const v = act.data[i * C + c]; if (v < lo) lo = v; if (v > hi) hi = v; }
  const img = new ImageData(W, H);
  for (let i = 0; i < H * W; i++) {
    const g = hi > lo ? Math.round(((act.data[i * C + c] - lo) / (hi - lo)) * 255) : 0;
    img.data.set([g, g, g, 255], 4 * i);
  }
  return img;
}

/** A figure: a canvas holding `image` and a caption. */
export function figure(image, caption, alt = caption) {
  const c = el('canvas', { attrs: { role: 'img', 'aria-label': alt } });
  putImage(c, image);
  return el('figure', {}, c, el('figcaption', { textContent: caption }));
}

/** The values of a map as a table of numbers (each cell keeps the exact value in data-v), or a
 *  sentence when there are too many to read. */
export function numbers(map, caption, max = 400) {
  if (map.width * map.height > max) {
    return el('p', { className: 'hint', textContent: `${caption}: ${map.height}×${map.width} numbers, too many to list here; the picture shows them.` });
  }
  const rows = [];
  for (let y = 0; y < map.height; y++) {
    const tds = [];
    for (let x = 0; x < map.width; x++) {
      const v = map.data[y * map.width + x];
      tds.push(el('td', { textContent: num(v), dataset: { v: String(v) } }));
    }
    rows.push(el('tr', {}, ...tds));
  }
  // a region that scrolls on a phone: reachable by keyboard, named for screen readers
  return el('div', { className: 'numbers-box', tabIndex: 0, attrs: { role: 'region', 'aria-label': caption } }, el('table', { className: 'numbers' }, el('caption', { className: 'hint', textContent: caption }), el('tbody', {}, ...rows)));
}

/** Bars of the `n` weights of largest magnitude, signed around a middle line, on canvas `id`. */
export function weightBars(id, weights, order, n) {
  const canvas = $(id);
  const W = 640;
  const H = 180;
  canvas.width = W;
  canvas.height = H;
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, W, H);
  const top = order.slice(0, n);
  const m = Math.max(1e-30, ...top.map((k) => Math.abs(weights[k])));
  const mid = H / 2;
  const bw = W / n;
  g.font = '11px system-ui, sans-serif';
  g.textAlign = 'center';
  top.forEach((k, i) => {
    const v = weights[k];
    const h = (Math.abs(v) / m) * (mid - 16);
    g.fillStyle = v >= 0 ? '#c0392b' : '#1f5fbf';
    g.fillRect(i * bw + 3, v >= 0 ? mid - h : mid, bw - 6, h);
    g.fillStyle = '#333';
    g.fillText(String(k), i * bw + bw / 2, v >= 0 ? mid + 12 : mid - 4);
  });
  g.strokeStyle = '#777';
  g.beginPath();
  g.moveTo(0, mid);
  g.lineTo(W, mid);
  g.stroke();
}

/** Channel indices by |weight|, largest first (ties by index). */
export const byMagnitude = (w) => Array.from(w.keys()).sort((a, b) => Math.abs(w[b]) - Math.abs(w[a]) || a - b);
