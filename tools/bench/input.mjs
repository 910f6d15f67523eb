// input.mjs - the benchmark's one input, identical for every contender: the values the native
// CLI's `gradcam bench` uses (a 32-bit LCG, seed 12345, scaled to [-1, 1), NHWC 299x299x3),
// and an RGBA image made from the same generator for the cold-start page.
export const SIZE = 299;

export function benchTensor(h = SIZE, w = SIZE) {
  const x = new Float32Array(h * w * 3);
  let r = 12345;
  for (let i = 0; i < x.length; i++) {
    r = (Math.imul(r, 1664525) + 1013904223) >>> 0;
    x[i] = Math.fround(Math.fround((r >>> 8) / 16777216) * 2 - 1);
  }
  return x;
}

export function benchImageRGBA(h = SIZE, w = SIZE) {
  const x = benchTensor(h, w);
  const px = new Uint8Array(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    for (let c = 0; c < 3; c++) px[p * 4 + c] = Math.round((x[p * 3 + c] + 1) * 127.5);
    px[p * 4 + 3] = 255;
  }
  return px;
}
