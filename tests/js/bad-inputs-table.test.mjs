// bad-inputs-table.test.mjs - every row of tests/BAD-INPUTS.md whose path is `cli` or includes
// `engine` is run here and its actual error (code, detail, exact message) or outcome compared
// with the row; the Chromium rows (path `chromium`, or `engine, chromium`: the same worker code)
// run in tests/browser/hardening.test.mjs. Also: every row has a runner (here or there) and
// README.md's troubleshooting table equals the tests' one. All inputs are made at test time, from
// the test weights, tests/js/bad-files.mjs and tests/js/bad-models.mjs (damaged and edited
// Keras files, class names files).
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { cli, dataDir, imagesDir, relL2, root, testWeights, createSingleEngine } from './helpers.mjs';
import { animatedGif, flatJpeg, png } from './bad-files.mjs';
import { CHROMIUM_IDS, jsResult, PATHS, readRows, tableText, TABLE_FILE } from './bad-inputs.mjs';
import { badModel, MODEL_ROWS } from './bad-models.mjs';

const weights = testWeights(1);
const work = `${dataDir}/bad-inputs-table`;
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });


// ---- weights files --------------------------------------------------------------------
const good = readFileSync(weights.f16);
const u32 = (b, o) => b.readUInt32LE(o);
const DATA_OFFSET = Number(good.readBigUInt64LE(40));
const COUNT = u32(good, 32);

/** FNV-1a 64 of bytes, as the format's checksum (two 32-bit halves, no BigInt in the loop). */
function fnv1a64(bytes) {
  let lo = 0x84222325;
  let hi = 0xcbf29ce4;
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ bytes[i]) >>> 0;
    const l = lo * 0x1b3;
    const carry = Math.floor(l / 4294967296);
    hi = (hi * 0x1b3 + carry + ((lo << 8) >>> 0)) >>> 0;
    lo = l >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** A copy of the good file changed by `edit(buf)`, with its checksum made right again. */
function edited(edit) {
  const b = Buffer.from(good);
  edit(b);
  b.writeBigUInt64LE(fnv1a64(b.subarray(64)), 56);
  return b;
}

/** Table entry index of a tensor name. */
function entry(name) {
  for (let i = 0; i < COUNT; i++) {
    const o = 64 + 128 * i;
    if (good.toString('latin1', o, o + 80).replace(/\0.*$/s, '') === name) return o;
  }
  throw new Error(`no tensor ${name}`);
}

function setHalf(b, name, index, bits) {
  const o = entry(name);
  b.writeUInt16LE(bits, DATA_OFFSET + Number(b.readBigUInt64LE(o + 104)) + 2 * index);
}

const notKerasH5 = () => Buffer.concat([Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'), Buffer.alloc(2040)]);

const WEIGHTS = {
  'w-empty': () => Buffer.alloc(0),
  'w-truncated-magic': () => good.subarray(0, 5),
  'w-truncated-header': () => good.subarray(0, 40),
  'w-truncated-table': () => good.subarray(0, 64 + 128 * 100),
  'w-truncated-at-data': () => good.subarray(0, DATA_OFFSET),
  'w-truncated-in-data': () => good.subarray(0, DATA_OFFSET + 1000000),
  'w-truncated-end': () => good.subarray(0, good.length - 10),
  'w-trailing-bytes': () => Buffer.concat([good, Buffer.alloc(64)]),
  'w-wrong-magic': () => Buffer.concat([Buffer.from('PK\x03\x04zip!', 'latin1'), good.subarray(8)]),
  'w-html': () => Buffer.from('<!doctype html><title>404 Not Found</title>'),
  'w-future-version': () => { const b = Buffer.from(good); b.writeUInt32LE(3, 8); return b; },
  'w-other-model': () => { const b = Buffer.from(good); b.fill(0, 16, 32); b.write('resnet50', 16, 'latin1'); return b; },
  'w-checksum': () => Buffer.from(good).fill(7, 100000, 100004),
  'w-bad-dtype': () => edited((b) => b.writeUInt32LE(7, entry('predictions/bias') + 80)),
  'w-shape': () => edited((b) => { const o = entry('predictions/kernel'); b.writeUInt32LE(2048, o + 88); b.writeUInt32LE(1000, o + 92); }),
  'w-missing-tensor': () => edited((b) => b.write('predictions/biaz', entry('predictions/bias'), 'latin1')),
  'w-nan': () => edited((b) => setHalf(b, 'block5_sepconv2/pointwise_kernel', 12345, 0x7e00)),
  'w-inf': () => edited((b) => setHalf(b, 'block1_conv1_bn/gamma', 3, 0xfc00)),
  'w-h5-not-keras': notKerasH5,
  'w-jpeg': () => readFileSync(`${imagesDir}/darknet_eagle.jpg`),
};

// ---- image files (CLI: stb_image) -----------------------------------------------------
const photoPng = readFileSync(`${imagesDir}/skimage_coffee.png`);
const photoJpg = readFileSync(`${imagesDir}/darknet_eagle.jpg`);
const flat = (w, h, rgb) => png({ width: w, height: h, type: 2, sample: (x, y, c) => rgb[c] });
const check8 = (x, y, c) => [[255, 0, 0], [0, 160, 255]][(x + y) & 1][c];
const tinyIdat = () => Buffer.from([0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1]); // 1 byte, deflated
const IMAGES = {
  'i-empty': () => Buffer.alloc(0),
  'i-text': () => Buffer.from('hello, I am not an image\n'),
  'i-svg': () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="red"/></svg>'),
  'i-zero-png': () => png({ width: 0, height: 0, idat: tinyIdat() }),
  'i-side-cap': () => flat(131073, 1, [10, 20, 30]),
  'i-pixel-cap': () => png({ width: 8193, height: 8192, idat: tinyIdat() }),
  'i-huge-header': () => png({ width: 100000, height: 100000, idat: tinyIdat() }),
  'i-header-tiny-data': () => png({ width: 4000, height: 4000, idat: tinyIdat() }),
  'i-truncated-png': () => photoPng.subarray(0, photoPng.length >> 1),
  'i-truncated-jpeg': () => photoJpg.subarray(0, photoJpg.length >> 1),
  'i-jpeg-header-only': () => photoJpg.subarray(0, 100),
};
// accepted images: [file, reference file with the pixels it must decode to]
const SAME = {
  'i-one-pixel': [() => flat(1, 1, [200, 100, 50]), () => flat(71, 71, [200, 100, 50])],
  'i-one-by-100000': [() => flat(1, 100000, [30, 60, 90]), () => flat(1, 1, [30, 60, 90])],
  'i-palette-png': [() => png({ width: 8, height: 8, type: 3, palette: [[255, 0, 0], [0, 160, 255]], sample: (x, y) => (x + y) & 1 }),
    () => png({ width: 8, height: 8, type: 2, sample: check8 })],
  'i-grey-alpha-png': [() => png({ width: 8, height: 8, type: 4, sample: (x, y, c) => (c ? 255 - 30 * x : 20 * y + 10) }),
    () => png({ width: 8, height: 8, type: 0, sample: (x, y) => 20 * y + 10 })],
  'i-png16': [() => png({ width: 8, height: 8, type: 2, depth: 16, sample: (x, y, c) => 257 * check8(x, y, c) }),
    () => png({ width: 8, height: 8, type: 2, sample: check8 })],
  'i-cmyk-jpeg': [() => flatJpeg({ width: 16, height: 16, components: 4 }), () => flat(16, 16, [64, 64, 64])],
  'i-animated-gif': [() => animatedGif({ colors: [[255, 0, 0], [0, 0, 255]], frames: [0, 1] }), () => flat(4, 4, [255, 0, 0])],
};

/** The CLI on a weights file (bytes written as model.gcw, or a path) and an image (bytes, or
 *  the coffee photo), with a class names file: its result, and its message with the paths
 *  given as FILE, LABELS and their folder as DIR. */
function runCli(name, weightsBytes, imageBytes, { weightsPath, labels } = {}) {
  mkdirSync(`${work}/${name}`, { recursive: true });
  const wPath = weightsPath ?? (weightsBytes ? `${work}/${name}/model.gcw` : weights.f16);
  if (weightsBytes) writeFileSync(wPath, weightsBytes);
  const iPath = `${work}/${name}/image`;
  if (imageBytes) writeFileSync(iPath, imageBytes);
  const r = cli(['predict', '--weights', wPath, '--image', imageBytes ? iPath : `${imagesDir}/skimage_coffee.png`,
    '--input-size', '71x71', '--json', ...(labels ? ['--labels', labels] : [])]);
  assert.ok(r.status !== null && r.status < 128, `${name}: the CLI crashed (status ${r.status}, signal ${r.signal})`);
  if (r.status === 0) return { result: 'accepted', json: JSON.parse(r.stdout) };
  const line = r.stderr.trim();
  assert.equal(line.split('\n').length, 1, `${name}: one line on stderr: ${line}`);
  const code = (/GC_ERR_[A-Z0-9_]+/.exec(line) || ['no GC_ERR code'])[0];
  let message = line.split(wPath).join('FILE').split(iPath).join('FILE');
  if (labels) message = message.split(labels).join('LABELS');
  return { result: `exit ${r.status} ${code}`, message: message.split(dirname(wPath)).join('DIR') };
}

/** A model row's files through the engine: its bytes, with its class names. */
async function modelOutcome(engine, id) {
  const f = await badModel(id);
  return outcome(engine.loadWeights(new Uint8Array(readFileSync(f.model)), { labels: f.labels ? new Uint8Array(readFileSync(f.labels)) : null }));
}

// ---- the Node engine (wasm-st) --------------------------------------------------------
const createEngine = createSingleEngine;

async function outcome(promise) {
  try {
    const value = await promise;
    return { result: 'accepted', value };
  } catch (e) {
    assert.equal(e.name, 'GradCamError', `not the package's error class: ${e.stack}`);
    return { result: jsResult(e), message: e.message };
  }
}

const px = (w, h, v = 128) => new Uint8Array(w * h * 4).fill(v);
const SMALL = { inputSize: 71 };
// accepted requests: what each result must be
const ENGINE = {
  'e-pixels-empty': (e) => outcome(e.explain(new Uint8Array(0), 0, 0, SMALL)),
  'e-pixels-short': (e) => outcome(e.explain(new Uint8Array(12), 2, 2, SMALL)),
  'e-pixels-side-cap': (e) => outcome(e.explain(px(131073, 1), 131073, 1, SMALL)),
  'e-pixels-one': async (e) => {
    const r = await outcome(e.explain(px(1, 1, 200), 1, 1, SMALL));
    if (r.value) r.message = `cam ${r.value.cam.height}x${r.value.cam.width}, heatmap and overlay ${r.value.overlay.width}x${r.value.overlay.height}`;
    return r;
  },
  'e-pixels-one-by-100000': async (e) => {
    const r = await outcome(e.explain(px(1, 100000, 90), 1, 100000, SMALL));
    if (r.value) r.message = `cam ${r.value.cam.height}x${r.value.cam.width}, heatmap and overlay ${r.value.overlay.width}x${r.value.overlay.height}`;
    return r;
  },
  'r-layer': (e) => outcome(e.explain(px(8, 8), 8, 8, { ...SMALL, layer: 'block15_sepconv1_act' })),
  'r-class-minus-1': (e) => outcome(e.explain(px(8, 8), 8, 8, { ...SMALL, classIndex: -1 })),
  'r-class-1000': (e) => outcome(e.explain(px(8, 8), 8, 8, { ...SMALL, classIndex: 1000 })),
  'r-method': (e) => outcome(e.explain(px(8, 8), 8, 8, { ...SMALL, method: 'gradcam3' })),
  'r-alpha-above': (e) => outcome(e.explain(px(8, 8), 8, 8, { ...SMALL, alpha: 1.5 })),
  'r-alpha-below': (e) => outcome(e.explain(px(8, 8), 8, 8, { ...SMALL, alpha: -0.1 })),
  'r-alpha-nan': (e) => outcome(e.explain(px(8, 8), 8, 8, { ...SMALL, alpha: NaN })),
  'r-smoothgrad-zero': (e) => outcome(e.explain(px(8, 8), 8, 8, { ...SMALL, method: 'smoothgrad', methodOptions: { samples: 0 } })),
  'r-input-size': (e) => outcome(e.explain(px(8, 8), 8, 8, { inputSize: 64 })),
  'r-topk-and-class': (e) => outcome(e.explain(px(8, 8), 8, 8, { ...SMALL, topK: 2, classIndex: 3 })),
  'r-abort-before': (e) => outcome(e.explain(px(8, 8), 8, 8, SMALL, { signal: AbortSignal.abort() })),
  'r-abort-running': (e) => {
    const ctl = new AbortController();
    const p = outcome(e.explain(px(8, 8), 8, 8, { ...SMALL, topK: 3 }, { signal: ctl.signal }));
    setTimeout(() => ctl.abort(), 0);
    return p;
  },
  'r-oom': async (e) => {
    const before = await e.explain(px(8, 8, 60), 8, 8, { ...SMALL, method: 'saliency' });
    const r = await outcome(e.sanityCheck(px(8, 8), 8, 8, { from: ['block14_sepconv2_act'], inputSize: 1024 }));
    // the module stays usable: the same request as before gives the same map
    const after = await e.explain(px(8, 8, 60), 8, 8, { ...SMALL, method: 'saliency' });
    assert.deepEqual(after.cam.data, before.cam.data, 'usable after OUT_OF_MEMORY');
    console.log(`  r-oom: wasm heap ${e.M.HEAPU8.length / 2 ** 20} MB after the failed request; the next explain gave the same map`);
    return r;
  },
};
// rows that need an engine without weights, or a disposed one
const FRESH = {
  'r-not-loaded': (e) => outcome(e.explain(px(8, 8), 8, 8, SMALL)),
  'r-disposed': (e) => { e.dispose(); return outcome(e.explain(px(8, 8), 8, 8, SMALL)); },
};

const rows = readRows();
const NODE_IDS = [...[...Object.keys(WEIGHTS), ...Object.keys(MODEL_ROWS)].flatMap((k) => [k, `${k}-cli`]), ...Object.keys(IMAGES),
  ...Object.keys(SAME), ...Object.keys(ENGINE), ...Object.keys(FRESH)];

test('BAD-INPUTS.md: at least 25 rows, ids unique, each with a runner; README.md has the same table', () => {
  assert.ok(rows.length >= 25, `${rows.length} rows`);
  const ids = rows.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, 'unique ids');
  for (const r of rows) {
    const known = r.path === 'chromium' ? CHROMIUM_IDS.includes(r.id) : NODE_IDS.includes(r.id);
    assert.ok(known, `row ${r.id} (${r.path}) has no runner`);
    assert.ok(PATHS.includes(r.path), `${r.id}: path ${r.path}`);
    assert.ok(r.message.length > 10, `${r.id}: a message or outcome`);
  }
  for (const id of CHROMIUM_IDS) assert.ok(ids.includes(id), `${id} has a runner but no row`);
  // every model input runs on the three paths: the CLI row and the engine + Chromium row
  for (const id of Object.keys(MODEL_ROWS)) {
    assert.equal(rows.find((r) => r.id === id)?.path, 'engine, chromium', `${id}: a row on the engine and Chromium`);
    assert.equal(rows.find((r) => r.id === `${id}-cli`)?.path, 'cli', `${id}-cli: a CLI row`);
  }
  assert.ok(Object.keys(MODEL_ROWS).length >= 15, 'at least 15 inputs of the import\'s paths');
  assert.equal(tableText(`${root}README.md`), tableText(TABLE_FILE), 'README.md\'s troubleshooting table equals tests/BAD-INPUTS.md');
});

/** Compare one row with what happened; collect every difference before failing. */
function compare(row, got, diffs) {
  if (got.result !== row.result || got.message !== row.message) {
    diffs.push(`${row.id} (${row.path}):\n    table:  ${row.result} | ${row.message}\n    actual: ${got.result} | ${got.message}`);
  }
}

test('BAD-INPUTS.md: every CLI row (stb_image decoding, native weights loading) gives the stated error or outcome', async () => {
  const diffs = [];
  for (const row of rows.filter((r) => r.path === 'cli')) {
    const id = row.id.replace(/-cli$/, '');
    let got;
    if (WEIGHTS[id]) got = runCli(id, await WEIGHTS[id](), null);
    else if (MODEL_ROWS[id]) {
      const f = await badModel(id);
      got = runCli(id, null, null, { weightsPath: f.model, labels: f.labels });
    }
    else if (IMAGES[id]) got = runCli(id, null, IMAGES[id]());
    else if (SAME[id]) {
      const a = runCli(id, null, SAME[id][0]());
      const b = runCli(`${id}-ref`, null, SAME[id][1]());
      assert.equal(b.result, 'accepted', `${id}: the reference image is accepted`);
      got = { result: a.result, message: a.message };
      if (a.json) {
        const e = relL2(Float32Array.from(a.json.logits), Float32Array.from(b.json.logits));
        got.message = e === 0 ? row.message : `logits differ from the reference image's (relative L2 ${e})`;
      }
    } else assert.fail(`no CLI runner for ${row.id}`);
    compare(row, got, diffs);
  }
  assert.deepEqual(diffs, [], `rows that differ:\n${diffs.join('\n')}`);
});

test('BAD-INPUTS.md: every engine row (the wasm core in Node, through web/engine.js) gives the stated error or outcome', async () => {
  const diffs = [];
  const engine = await createEngine();
  try {
    for (const row of rows.filter((r) => r.path === 'engine' && WEIGHTS[r.id])) {
      compare(row, await outcome(engine.loadWeights(new Uint8Array(await WEIGHTS[row.id]()))), diffs);
    }
    for (const row of rows.filter((r) => r.path.includes('engine') && MODEL_ROWS[r.id])) {
      compare(row, await modelOutcome(engine, row.id), diffs);
      assert.equal(engine.info().loaded, false, `${row.id}: no model after a failed load`);
    }
    await engine.loadWeights(new Uint8Array(good));
    for (const row of rows.filter((r) => r.path === 'engine' && !WEIGHTS[r.id])) {
      if (ENGINE[row.id]) compare(row, await ENGINE[row.id](engine), diffs);
      else if (FRESH[row.id]) {
        const fresh = await createEngine();
        try { compare(row, await FRESH[row.id](fresh), diffs); } finally { fresh.dispose(); }
      } else assert.fail(`no engine runner for ${row.id}`);
    }
    // still usable after all that
    const r = await engine.explain(px(8, 8), 8, 8, SMALL);
    assert.equal(r.cam.height, 3);
  } finally {
    engine.dispose();
  }
  assert.deepEqual(diffs, [], `rows that differ:\n${diffs.join('\n')}`);
});
