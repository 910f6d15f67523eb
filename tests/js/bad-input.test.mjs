// bad-input.test.mjs - the CLI, the weights script and the WebAssembly module on hostile or
// broken input: each gives a named error (non-zero exit, one line on stderr) and never crashes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { cli, dataDir, imagesDir, root, testWeights } from './helpers.mjs';
import { loadNodeCore, shutdownCore } from '../../tools/test/node-core.mjs';

const weights = testWeights(1);
const work = `${dataDir}/bad-input`;
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

function expectFailure(r, pattern) {
  assert.notEqual(r.status, 0, 'non-zero exit');
  assert.ok(r.status < 128 && r.status !== null, `no crash (status ${r.status})`);
  assert.match(r.stderr, pattern);
}

test('CLI: broken weights files give named errors', () => {
  const good = readFileSync(weights.f16);
  const cases = [
    // --weights takes any model file, recognised by content: an empty file is none of them
    ['empty', Buffer.alloc(0), /GC_ERR_CONVERT: .*empty\.gcw is an empty file, not a model file read here/],
    ['truncated', good.subarray(0, good.length - 100), /WEIGHTS_TRUNCATED/],
    // a ZIP signature makes it a (damaged) .keras archive
    ['wrong-magic', Buffer.concat([Buffer.from('PK\x03\x04zip!'), good.subarray(8)]), /GC_ERR_ZIP: .*wrong-magic\.gcw: /],
    ['bad-checksum', Buffer.from(good).fill(7, 100000, 100004), /WEIGHTS_CHECKSUM/],
  ];
  const v2 = Buffer.from(good);
  v2.writeUInt32LE(9, 8);
  cases.push(['version', v2, /WEIGHTS_VERSION/]);
  for (const [name, bytes, pattern] of cases) {
    writeFileSync(`${work}/${name}.gcw`, bytes);
    const r = cli(['predict', '--weights', `${work}/${name}.gcw`, '--image', `${imagesDir}/skimage_coffee.png`]);
    expectFailure(r, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
  expectFailure(cli(['predict', '--weights', `${work}/missing.gcw`, '--image', `${imagesDir}/skimage_coffee.png`]), /GC_ERR_IO/);
  // an HDF5 file that is not Keras weights
  const notKeras = `${work}/not-keras.h5`;
  writeFileSync(notKeras, Buffer.concat([Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'), Buffer.alloc(1000)]));
  expectFailure(cli(['predict', '--weights', notKeras, '--image', `${imagesDir}/skimage_coffee.png`]), /GC_ERR/);
});

test('CLI: bad images give named errors; odd but valid images work', () => {
  const png = readFileSync(`${imagesDir}/gradcam_both_cat_dog.png`);
  const files = {
    'text.png': [Buffer.from('hello, I am not an image'), /IMAGE_DECODE/],
    'empty.jpg': [Buffer.alloc(0), /IMAGE_DECODE/],
    'truncated.png': [png.subarray(0, 5000), /IMAGE_DECODE/],
  };
  for (const [name, [bytes, pattern]] of Object.entries(files)) {
    writeFileSync(`${work}/${name}`, bytes);
    expectFailure(cli(['predict', '--weights', weights.f16, '--image', `${work}/${name}`]), pattern);
  }
  expectFailure(cli(['predict', '--weights', weights.f16, '--image', `${work}/nope.png`]), /cannot read/);
  expectFailure(cli(['predict', '--weights', weights.f16, '--image', `${imagesDir}/skimage_coffee.png`, '--input-size', '20x20']), /IMAGE_SIZE/);
  expectFailure(cli(['predict', '--weights', weights.f16]), /needs/);
  expectFailure(cli(['predict', '--weights', weights.f16, '--image', 'x.png', '--top', '0']), /--top/);
  expectFailure(cli(['frobnicate']), /unknown command/);
  expectFailure(cli(['predict', '--weights', weights.f16, '--image', 'x.png', '--arithmetic', 'fast']), /--arithmetic is portable or fma/);
  expectFailure(cli(['predict', '--weights', weights.f16, '--image', 'x.png', '--arithmetic']), /--arithmetic/);
  // JPEG input works and gives the same answer as the PNG path would for its pixels
  const jpg = cli(['predict', '--weights', weights.f16, '--image', `${imagesDir}/darknet_eagle.jpg`, '--json'], { json: true });
  assert.equal(jpg.status, 0, jpg.stderr);
  assert.equal(jpg.json.top.length, 5);
  assert.equal(jpg.json.logits.length, 1000);
  assert.ok(jpg.json.ms.forward > 0 && jpg.json.ms.decode > 0);
  assert.equal(jpg.json.arithmetic, 'portable', 'the default: the WebAssembly build\'s floats');
  // --arithmetic fma is accepted and reported; same classes, logits within rounding
  const fma = cli(['predict', '--weights', weights.f16, '--image', `${imagesDir}/darknet_eagle.jpg`, '--json', '--arithmetic', 'fma'], { json: true });
  assert.equal(fma.status, 0, fma.stderr);
  assert.equal(fma.json.arithmetic, 'fma');
  assert.deepEqual(fma.json.top.map((t) => t.index), jpg.json.top.map((t) => t.index));
  for (let i = 0; i < 1000; i++) assert.ok(Math.abs(fma.json.logits[i] - jpg.json.logits[i]) <= 1e-4 * (1 + Math.abs(jpg.json.logits[i])), `logit ${i}`);
});

test('wasm: bad weights and bad images raise CoreError with codes', async () => {
  const core = await loadNodeCore('st');
  try {
    const good = readFileSync(weights.f16);
    const codes = [];
    for (const bytes of [new Uint8Array(0), good.subarray(0, 64), Buffer.from(good).fill(1, 5000, 5001)]) {
      try { core.load(bytes); codes.push('none'); } catch (e) { codes.push(e.code); }
    }
    assert.deepEqual(codes, ['WEIGHTS_TRUNCATED', 'WEIGHTS_TRUNCATED', 'WEIGHTS_CHECKSUM']);
    assert.throws(() => core.forwardTensor(new Float32Array(3), 1, 1), { code: 'NOT_LOADED' });
    core.load(good);
    assert.throws(() => core.forwardImage(new Uint8Array(0), 0, 0), { code: 'IMAGE_SIZE' });
    assert.throws(() => core.forwardImage(new Uint8Array(16), 2, 2, 4, 3), { code: 'IMAGE_INVALID' });
    assert.throws(() => core.forwardTensor(new Float32Array(60 * 60 * 3), 60, 60), { code: 'IMAGE_SIZE' });
    assert.throws(() => core.activation('block3_sepconv1_bn'), { code: 'NOT_RUN' });
    core.forwardTensor(new Float32Array(75 * 75 * 3).fill(0.5), 75, 75);
    assert.deepEqual(core.activation('block3_sepconv1_bn').shape, [1, 18, 18, 256], 'fused pre-activations on demand');
    assert.throws(() => core.activation('block3_sepconv9_bn'), { code: 'LAYER_UNKNOWN' });
    core.forwardImage(new Uint8Array(100000 * 4).fill(128), 100000, 1, 4);
    assert.equal(core.topK(5).length, 5);
    // class names in the module match the shipped Keras class index
    const index = JSON.parse(readFileSync(`${root}src/imagenet_class_index.json`, 'utf8'));
    for (let i = 0; i < 1000; i++) {
      assert.equal(core.className(i), index[i][1]);
      assert.equal(core.classWnid(i), index[i][0]);
    }
    assert.equal(core.className(1000), null);
    const layers = core.layers();
    assert.equal(layers.length, 94);
    assert.deepEqual(layers.find((l) => l.name === 'block14_sepconv2_act').shape, [1, 10, 10, 2048]);
  } finally {
    shutdownCore(core);
  }
});

/** Serve one file over HTTP on 127.0.0.1 for the weights script. */
async function serveFile(path) {
  const server = createServer((req, res) => {
    if (req.url !== '/xception.h5') { res.writeHead(404); res.end(); return; }
    const body = readFileSync(path);
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}/xception.h5` };
}

function runWeights(args, env) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [`${root}tools/weights/weights.mjs`, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('npm run weights: download, checksum, conversion (on a generated file of the official format)', async () => {
  const md5 = createHash('md5').update(readFileSync(weights.h5)).digest('hex');
  const { server, url } = await serveFile(weights.h5);
  try {
    const out = `${work}/downloaded.gcw`;
    let r = await runWeights(['--out', out], { GRADCAM_WEIGHTS_URL: url, GRADCAM_WEIGHTS_MD5: md5 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /MD5 .* verified/);
    assert.match(r.stdout, /22910480 parameters, float16/);
    assert.ok(readFileSync(out).equals(readFileSync(weights.f16)), 'same file as the CLI conversion');

    const bad = `${work}/bad-md5.gcw`;
    r = await runWeights(['--out', bad], { GRADCAM_WEIGHTS_URL: url, GRADCAM_WEIGHTS_MD5: '0'.repeat(32) });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /checksum mismatch/);
    assert.ok(!existsSync(bad), 'nothing written on a bad checksum');

    r = await runWeights(['--out', bad], { GRADCAM_WEIGHTS_URL: 'http://127.0.0.1:9/none.h5' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot download .*--from/);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one clear line');

    // --from a local file
    copyFileSync(weights.h5, `${work}/local.h5`);
    r = await runWeights(['--from', `${work}/local.h5`, '--dtype', 'f32', '--out', `${work}/local.gcw`], {});
    assert.equal(r.status, 0, r.stderr);
    assert.ok(readFileSync(`${work}/local.gcw`).equals(readFileSync(weights.f32)));
  } finally {
    server.close();
  }
});
