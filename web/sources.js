// sources.js - the page side's inputs, made into what the worker receives (protocol.js): weights
// (a URL, bytes, a Blob or File, or several files: a TF.js model.json with its shards), class
// names (a URL, bytes, a Blob or File, or an array of strings) and images (every kind a page has).
import { ErrorCode, GradCamError } from './errors.js';

const is = (v, name) => typeof globalThis[name] === 'function' && v instanceof globalThis[name];

function urlOf(w, what) {
  const base = globalThis.location ? location.href : undefined;
  try { return new URL(w, base).href; } catch { throw new GradCamError(ErrorCode.INVALID_ARGUMENT, `not a valid ${what} URL: ${w}`); }
}

/** One file: {blob, name} | {bytes} (the caller's buffer is copied by postMessage, never detached). */
function fileOf(w) {
  if (is(w, 'Blob')) return { blob: w, name: w.name };
  if (w instanceof ArrayBuffer) return { bytes: w };
  if (ArrayBuffer.isView(w)) return { bytes: new Uint8Array(w.buffer, w.byteOffset, w.byteLength) };
  return null;
}

/** A weights source: {url} (a model.json's shards are fetched next to it), {blob, name},
 *  {bytes}, or {files: [...]} for an array of files (the model.json among them, any order). */
export function weightsSource(w) {
  if (typeof w === 'string' || w instanceof URL) return { url: urlOf(w, 'weights') };
  if (Array.isArray(w)) {
    const files = w.map(fileOf);
    if (!files.length || files.some((f) => !f)) {
      throw new GradCamError(ErrorCode.INVALID_ARGUMENT, 'weights given as an array must be files (Blob, File, ArrayBuffer or typed array): a model.json and its shards');
    }
    return files.length === 1 ? files[0] : { files };
  }
  const f = fileOf(w);
  if (!f) throw new GradCamError(ErrorCode.INVALID_ARGUMENT, 'weights must be a URL, an ArrayBuffer, a typed array, a Blob or File, or an array of files');
  return f;
}

/** A class names source: {url}, {blob}, {bytes}; an array of strings becomes a JSON list. */
export function labelsSource(l) {
  if (typeof l === 'string' || l instanceof URL) return { url: urlOf(l, 'class names') };
  if (Array.isArray(l)) {
    if (!l.every((x) => typeof x === 'string')) throw new GradCamError(ErrorCode.LABELS_INVALID, 'labels given as an array must be strings, one class name each');
    return { bytes: new TextEncoder().encode(JSON.stringify(l)) };
  }
  const f = fileOf(l);
  if (!f) throw new GradCamError(ErrorCode.INVALID_ARGUMENT, 'labels must be a URL, an ArrayBuffer, a typed array, a Blob or File, or an array of strings');
  return f;
}

const BITMAP_OPTIONS = { colorSpaceConversion: 'none', premultiplyAlpha: 'none' };

async function bitmapOf(source, what) {
  try {
    return await createImageBitmap(source, BITMAP_OPTIONS);
  } catch (e) {
    throw new GradCamError(ErrorCode.IMAGE_INVALID, `cannot read the pixels of this ${what}: ${e.message || e}`);
  }
}

/** {message, transfer} for the worker. Caller-owned objects are never detached: ImageData
 *  pixels are copied once by postMessage, bitmaps made here from elements are transferred. */
export async function imageMessage(image) {
  if (image == null) throw new GradCamError(ErrorCode.IMAGE_INVALID, 'no image given');
  if (is(image, 'ImageData') || (image.data && typeof image.width === 'number' && typeof image.height === 'number' && !is(image, 'HTMLElement'))) {
    const { data, width, height } = image;
    if (!width || !height || !data || data.length !== width * height * 4) {
      throw new GradCamError(ErrorCode.IMAGE_INVALID, `expected ${width}x${height} RGBA pixels, got ${data ? data.length : 0} bytes`);
    }
    return { message: { kind: 'pixels', data, width, height }, transfer: [] };
  }
  if (is(image, 'Blob')) return { message: { kind: 'blob', blob: image }, transfer: [] };
  if (is(image, 'ImageBitmap')) {
    if (!image.width || !image.height) throw new GradCamError(ErrorCode.IMAGE_INVALID, 'the ImageBitmap has no pixels (closed or zero-size)');
    const copy = await bitmapOf(image, 'ImageBitmap');
    return { message: { kind: 'bitmap', bitmap: copy }, transfer: [copy] };
  }
  if (is(image, 'HTMLImageElement') || is(image, 'SVGImageElement')) {
    if (is(image, 'HTMLImageElement')) {
      if (!image.complete) {
        try { await image.decode(); } catch (e) { throw new GradCamError(ErrorCode.IMAGE_INVALID, `the image could not be loaded: ${image.currentSrc || image.src}`); }
      }
      if (!image.naturalWidth || !image.naturalHeight) {
        throw new GradCamError(ErrorCode.IMAGE_INVALID, `the image is not loaded or broken: ${image.currentSrc || image.src || '(no src)'}`);
      }
    }
  } else if (is(image, 'HTMLVideoElement')) {
    if (image.readyState < 2 || !image.videoWidth) throw new GradCamError(ErrorCode.IMAGE_INVALID, 'the video has no current frame yet (wait for loadeddata)');
  } else if (is(image, 'HTMLCanvasElement') || is(image, 'OffscreenCanvas')) {
    if (!image.width || !image.height) throw new GradCamError(ErrorCode.IMAGE_INVALID, `the canvas has no pixels (${image.width}x${image.height})`);
  } else if (!is(image, 'VideoFrame')) {
    throw new GradCamError(ErrorCode.IMAGE_INVALID,
      'image must be ImageData, an HTMLImageElement, HTMLCanvasElement, OffscreenCanvas, ImageBitmap, HTMLVideoElement, VideoFrame or a Blob/File');
  }
  const bitmap = await bitmapOf(image, image.constructor ? image.constructor.name : 'image');
  return { message: { kind: 'bitmap', bitmap }, transfer: [bitmap] };
}
