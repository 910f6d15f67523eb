// bad-files.mjs - small image files of every awkward kind, written at test time by tiny
// encoders (PNG of any colour type and depth, flat-colour baseline JPEG with 1, 3 or 4
// components, animated GIF), for tests/js/hardening.test.mjs and the browser tests.
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

const PNG_CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * A PNG: `type` 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA; `depth` 8 or 16; `sample(x, y, c)`
 * gives each sample (0..255, or 0..65535 at depth 16; palette indices for type 3).
 * `palette`: [[r, g, b], ...] for type 3. `idat` replaces the compressed data (for lies).
 */
export function png({ width, height, type = 2, depth = 8, sample = () => 128, palette, idat }) {
  const ch = PNG_CHANNELS[type];
  const bps = depth / 8;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = type;
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (type === 3) parts.push(chunk('PLTE', Buffer.from(palette.flat())));
  if (!idat) {
    const stride = width * ch * bps;
    const raw = Buffer.alloc(height * (stride + 1));
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < ch; c++) {
          const o = y * (stride + 1) + 1 + (x * ch + c) * bps;
          const v = sample(x, y, c);
          if (bps === 2) raw.writeUInt16BE(v, o); else raw[o] = v;
        }
      }
    }
    idat = deflateSync(raw);
  }
  parts.push(chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/**
 * A baseline JPEG of one flat mid-grey colour (every DCT coefficient 0) with `components`
 * 1 (grey), 3 (YCbCr) or 4 (CMYK, with Adobe's APP14 marker saying "no transform"), built with
 * one-code Huffman tables: each 8x8 block is the bits "0" (DC difference 0) and "0" (end of block).
 */
export function flatJpeg({ width, height, components = 3 }) {
  const seg = (marker, body) => {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(marker, 0);
    h.writeUInt16BE(body.length + 2, 2);
    return Buffer.concat([h, Buffer.from(body)]);
  };
  const parts = [Buffer.from([0xff, 0xd8])];
  if (components === 4) parts.push(seg(0xffee, [...Buffer.from('Adobe'), 0, 100, 0, 0, 0, 0, 0]));
  parts.push(seg(0xffdb, [0, ...new Array(64).fill(1)]));
  const sof = [8, height >> 8, height & 255, width >> 8, width & 255, components];
  for (let c = 1; c <= components; c++) sof.push(c, 0x11, 0);
  parts.push(seg(0xffc0, sof));
  const oneCode = [1, ...new Array(15).fill(0), 0]; // one code of length 1, symbol 0
  parts.push(seg(0xffc4, [0x00, ...oneCode, 0x10, ...oneCode]));
  const sos = [components];
  for (let c = 1; c <= components; c++) sos.push(c, 0x00);
  sos.push(0, 63, 0);
  parts.push(seg(0xffda, sos));
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8) * components;
  const bits = blocks * 2;
  const scan = Buffer.alloc(Math.ceil(bits / 8));
  if (bits % 8) scan[scan.length - 1] = 0xff >> (bits % 8); // pad with 1 bits
  parts.push(scan, Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}

/** An animated GIF: one frame per colour index, `colors` [[r, g, b], [r, g, b]], looping. */
export function animatedGif({ width = 4, height = 4, colors = [[255, 0, 0], [0, 0, 255]], frames = [0, 1] }) {
  const out = [Buffer.from('GIF89a', 'latin1')];
  const lsd = Buffer.alloc(7);
  lsd.writeUInt16LE(width, 0);
  lsd.writeUInt16LE(height, 2);
  lsd[4] = 0x80; // global colour table of 2 entries
  out.push(lsd, Buffer.from(colors.flat()));
  out.push(Buffer.from([0x21, 0xff, 11, ...Buffer.from('NETSCAPE2.0', 'latin1'), 3, 1, 0, 0, 0]));
  for (const index of frames) {
    out.push(Buffer.from([0x21, 0xf9, 4, 0x04, 10, 0, 0, 0])); // 0.1 s, keep the frame
    const desc = Buffer.alloc(10);
    desc[0] = 0x2c;
    desc.writeUInt16LE(width, 5);
    desc.writeUInt16LE(height, 7);
    out.push(desc);
    // LZW, minimum code size 2 (3-bit codes): a clear code before every pixel keeps the code
    // width at 3 bits; then end of information
    const codes = [];
    for (let i = 0; i < width * height; i++) codes.push(4, index);
    codes.push(5);
    const data = [];
    let acc = 0;
    let n = 0;
    for (const c of codes) {
      acc |= c << n;
      n += 3;
      while (n >= 8) { data.push(acc & 255); acc >>= 8; n -= 8; }
    }
    if (n) data.push(acc & 255);
    const sub = [];
    for (let i = 0; i < data.length; i += 255) sub.push(Math.min(255, data.length - i), ...data.slice(i, i + 255));
    out.push(Buffer.from([2, ...sub, 0]));
  }
  out.push(Buffer.from([0x3b]));
  return Buffer.concat(out);
}
