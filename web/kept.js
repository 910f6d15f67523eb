// kept.js - the key of an image in the engine's kept-pass cache: the engine keeps the model's
// last forward pass together with the image it ran on, and an explain, activation or classify
// of the same pixels at the same input size reuses it instead of running the network again.

/**
 * A key for RGBA pixels at an input size: two independent 32-bit hashes of every byte (FNV-1a
 * and a multiply-rotate hash over 32-bit words), the size and the input side. About 1 ms for a
 * 299x299 image; a collision would need two images that agree on all 64 bits and the sizes.
 * @param {Uint8Array|Uint8ClampedArray} pixels
 * @param {number} width
 * @param {number} height
 * @param {number} inputSize
 * @returns {string}
 */
export function imageKey(pixels, width, height, inputSize) {
  const words = Math.floor(pixels.length / 4);
  const aligned = pixels.byteOffset % 4 === 0;
  const u32 = aligned ? new Uint32Array(pixels.buffer, pixels.byteOffset, words) : null;
  let a = 2166136261;
  let b = 0x9e3779b9;
  for (let i = 0; i < words; i++) {
    const w = u32 ? u32[i] : (pixels[4 * i] | (pixels[4 * i + 1] << 8) | (pixels[4 * i + 2] << 16) | (pixels[4 * i + 3] << 24));
    a = Math.imul(a ^ w, 16777619);
    b = Math.imul(b ^ w, 0x85ebca6b);
    b = (b << 13) | (b >>> 19);
  }
  for (let i = words * 4; i < pixels.length; i++) a = Math.imul(a ^ pixels[i], 16777619);
  const hex = (x) => (x >>> 0).toString(16).padStart(8, '0');
  return `${width}x${height}@${inputSize}:${hex(a)}${hex(b)}`;
}
