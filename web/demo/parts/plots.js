// plots.js - the colour scale under the picture (its colours come from the core's own
// renderer, so they are the map's), and the deletion / insertion curves of the metrics.
import { $, el } from './dom.js';
import { S } from './state.js';
import { legendWords } from './text.js';

const RAMP = 256;
const ramp = { width: RAMP, height: 1, channels: 1, data: Float32Array.from({ length: RAMP }, (_, i) => i / (RAMP - 1)) };
const black = new ImageData(RAMP, 1);
const bars = new Map(); // colormap -> ImageData of the ramp

/** The colours of a colormap from 0 to 1, as the core renders them (cached). */
export async function colormapBar(colormap) {
  if (!bars.has(colormap)) {
    const r = await S.gc.render({ cam: ramp }, { colormap, scale: 'max', image: black });
    bars.set(colormap, r.heatmap);
  }
  return bars.get(colormap);
}

/** The scale under the picture for an explanation: colours and words at both ends. */
export async function drawLegend(r, { colormap, scale }) {
  const words = legendWords(r.method, r.className, scale);
  $('legend').hidden = false;
  $('legend-bar').hidden = !words.bar;
  $('legend-low').textContent = words.low;
  $('legend-high').textContent = words.high;
  $('legend-note').textContent = words.note;
  if (!words.bar) return;
  const bar = await colormapBar(colormap);
  $('legend-bar').getContext('2d').putImageData(bar, 0, 0);
}

const num = (v) => (v === 0 || Math.abs(v) >= 0.01 ? v.toFixed(3) : v.toExponential(2));

/** Deletion and insertion curves with their areas. */
export function plotMetrics(m) {
  const canvas = $('metrics-plot');
  canvas.hidden = false;
  const dpr = Math.min(window.devicePixelRatio || 1, 3);
  const W = 320;
  const H = 180;
  canvas.width = W * dpr;
  canvas.height = H * dpr;
  const g = canvas.getContext('2d');
  g.scale(dpr, dpr);
  g.fillStyle = '#fff';
  g.fillRect(0, 0, W, H);
  const pad = { l: 36, r: 8, t: 10, b: 28 };
  const del = Array.from(m.deletion);
  const ins = Array.from(m.insertion);
  const top = Math.max(1e-6, ...del, ...ins);
  const ymax = top > 0.5 ? 1 : top;
  const x = (i, n) => pad.l + (i / (n - 1)) * (W - pad.l - pad.r);
  const y = (v) => H - pad.b - (v / ymax) * (H - pad.t - pad.b);
  g.strokeStyle = '#777';
  g.lineWidth = 1;
  g.beginPath();
  g.moveTo(pad.l, pad.t);
  g.lineTo(pad.l, H - pad.b);
  g.lineTo(W - pad.r, H - pad.b);
  g.stroke();
  g.fillStyle = '#333';
  g.font = '11px system-ui, sans-serif';
  g.textAlign = 'right';
  g.fillText(num(ymax), pad.l - 4, pad.t + 8);
  g.fillText('0', pad.l - 4, H - pad.b);
  g.textAlign = 'center';
  g.fillText('fraction of pixels hidden / uncovered', (pad.l + W - pad.r) / 2, H - 8);
  const curve = (vals, color) => {
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    vals.forEach((v, i) => (i ? g.lineTo(x(i, vals.length), y(v)) : g.moveTo(x(i, vals.length), y(v))));
    g.stroke();
  };
  curve(del, '#c0392b');
  curve(ins, '#1f5fbf');
  $('metrics-legend').hidden = false;
  const rows = [
    ['Deletion area (lower is better)', num(m.deletionAuc)],
    ['Insertion area (higher is better)', num(m.insertionAuc)],
    ['Average drop', `${(m.averageDrop * 100).toFixed(1)} %`],
    ['More confident with only the map', m.increaseInConfidence ? 'yes' : 'no'],
  ];
  $('metrics-numbers').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { textContent: k }), el('dd', { textContent: v })]));
}
