// dom.js - small helpers of the demo page: elements, formats, canvases, downloads.

export const $ = (id) => document.getElementById(id);

/** A new element with properties (className, textContent, dataset ..., attrs) and children. */
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  const { attrs, dataset, ...rest } = props;
  Object.assign(e, rest);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const [k, v] of Object.entries(dataset || {})) e.dataset[k] = v;
  e.append(...children.filter((c) => c != null));
  return e;
}

export const pretty = (name) => String(name).replaceAll('_', ' ');
export const pct = (p) => (p < 0.00005 ? '< 0.01 %' : `${(p * 100).toFixed(p >= 0.1 ? 1 : 2)} %`);
export const ms = (t) => (t >= 10000 ? `${(t / 1000).toFixed(0)} s` : t >= 1000 ? `${(t / 1000).toFixed(1)} s` : `${t < 10 ? t.toFixed(1) : t.toFixed(0)} ms`);
export const MB = (n) => (n / 1048576).toFixed(1);

export const asImageData = (im) => (im instanceof ImageData ? im
  : new ImageData(new Uint8ClampedArray(im.data.buffer, im.data.byteOffset, im.data.length), im.width, im.height));

/** Draw RGBA pixels on a canvas at their size. */
export function putImage(canvas, im) {
  const data = asImageData(im);
  canvas.width = data.width;
  canvas.height = data.height;
  canvas.getContext('2d').putImageData(data, 0, 0);
}

/** A canvas holding the pixels (for toBlob and drawImage). */
export function canvasOf(im) {
  const c = document.createElement('canvas');
  putImage(c, im);
  return c;
}

export const pngOf = (canvas) => new Promise((resolve, reject) => {
  canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the picture could not be encoded'))), 'image/png');
});

/** Offer a Blob as a download named `name`. */
export function saveBlob(blob, name) {
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

/** A file name part from any text. */
export const slug = (s) => String(s).replace(/\.[a-z0-9]+$/i, '').replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'image';
