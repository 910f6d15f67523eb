#!/usr/bin/env node
// npm run weights - get the real ImageNet weights for the demo and the CLI.
//
// Downloads Keras' official Xception weights file (HDF5, about 88 MB) from Keras' own
// storage, checks its MD5 (the hash Keras itself pins), converts it with the CLI (native, or built for Node)
// into the project format (.gcw v2, float16, about 46 MB) at weights/xception.gcw, and removes
// the download. Options:
//   --from FILE          convert a file you already have instead of downloading: any Keras
//                        Xception file the CLI reads (Keras 1/2 .h5, Keras 3 .weights.h5 or
//                        .keras, a TF.js model.json with its shards beside it, a .gcw),
//                        recognised by content
//   --labels FILE        class names to store with the model (one per line, a JSON list, ...)
//   --dtype f16|f32      stored precision (default f16)
//   --out FILE           output path (default weights/xception.gcw)
// Environment (used by the tests to exercise the same path on a generated file):
//   GRADCAM_WEIGHTS_URL, GRADCAM_WEIGHTS_MD5
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

const root = fileURLToPath(new URL('../..', import.meta.url));
const OFFICIAL_URL = 'https://storage.googleapis.com/tensorflow/keras-applications/xception/'
  + 'xception_weights_tf_dim_ordering_tf_kernels.h5';
const OFFICIAL_MD5 = '0a58e3b7378bc2990ea3b43d5981f1f6'; // keras.applications.xception file_hash

class UserError extends Error {}
function die(msg) {
  throw new UserError(msg);
}

function parseArgs(argv) {
  const o = { dtype: 'f16', out: join(root, 'weights', 'xception.gcw'), from: null, labels: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--from') { o.from = v; i++; }
    else if (a === '--labels') { o.labels = v; i++; }
    else if (a === '--dtype') { o.dtype = v; i++; }
    else if (a === '--out') { o.out = resolve(v); i++; }
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run weights [-- --from FILE] [--labels FILE] [--dtype f16|f32] [--out FILE]');
      process.exit(0);
    } else die(`unknown option ${a} (try --help)`);
  }
  if (!['f16', 'f32'].includes(o.dtype)) die('--dtype must be f16 or f32');
  return o;
}

function md5(path) {
  const h = createHash('md5');
  h.update(readFileSync(path));
  return h.digest('hex');
}

async function download(url, dest) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    die(`cannot download ${url}: ${e.cause ? e.cause.code || e.cause.message : e.message}. `
      + 'This machine has no access to it; download the file elsewhere and run '
      + '`npm run weights -- --from xception_weights_tf_dim_ordering_tf_kernels.h5`.');
  }
  if (!res.ok) die(`cannot download ${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length')) || 0;
  let loaded = 0;
  let lastShown = 0;
  const body = Readable.fromWeb(res.body);
  body.on('data', (chunk) => {
    loaded += chunk.length;
    const now = Date.now();
    if (process.stderr.isTTY && now - lastShown > 200) {
      lastShown = now;
      const pct = total ? ` (${((100 * loaded) / total).toFixed(0)}%)` : '';
      process.stderr.write(`\rweights: downloaded ${(loaded / 1e6).toFixed(1)} MB${pct}   `);
    }
  });
  await pipeline(body, createWriteStream(dest));
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log(`weights: downloaded ${(loaded / 1e6).toFixed(1)} MB`);
}

/** The converter: the native CLI when it is built, else the same CLI built for Node
 *  (build/wasm-st/gradcam-cli.js, which `npm start` builds; the same .gcw byte for byte,
 *  tests/js/npx-cli.test.mjs), building that one first when neither is there. [command, ...args] */
function cli() {
  const exe = join(root, 'build', 'native', 'gradcam');
  if (existsSync(exe)) return [exe];
  const node = [process.execPath, join(root, 'web', 'node', 'cli.js')];
  if (existsSync(join(root, 'build', 'wasm-st', 'gradcam-cli.wasm'))) return node;
  console.log('weights: building the converter first (tools/build/build.sh wasm-st, what npm start builds too)...');
  const r = spawnSync('bash', [join(root, 'tools', 'build', 'build.sh'), 'wasm-st'], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(join(root, 'build', 'wasm-st', 'gradcam-cli.wasm'))) die('the build failed; see the messages above');
  return node;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const [exe, ...pre] = cli();
  mkdirSync(dirname(o.out), { recursive: true });
  let src = o.from;
  let tmp = null;
  if (!src) {
    const url = process.env.GRADCAM_WEIGHTS_URL || OFFICIAL_URL;
    const want = (process.env.GRADCAM_WEIGHTS_MD5 || OFFICIAL_MD5).toLowerCase();
    tmp = `${o.out}.download-${process.pid}.h5`;
    console.log(`weights: downloading ${url}`);
    try {
      await download(url, tmp);
      const got = md5(tmp);
      if (got !== want) die(`checksum mismatch: MD5 ${got}, expected ${want}; the download is damaged or not the official file`);
      console.log(`weights: MD5 ${got} verified`);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    src = tmp;
  } else if (!existsSync(src) || !statSync(src).isFile()) {
    die(`no such file: ${src}`);
  }
  if (o.labels && (!existsSync(o.labels) || !statSync(o.labels).isFile())) die(`no such file: ${o.labels}`);
  const part = `${o.out}.part-${process.pid}`;
  const args = ['convert', '--in', src, '--out', part, '--dtype', o.dtype];
  if (o.labels) args.push('--labels', o.labels);
  const r = spawnSync(exe, [...pre, ...args], { encoding: 'utf8' });
  if (tmp) rmSync(tmp, { force: true });
  if (r.status !== 0) {
    rmSync(part, { force: true });
    die(`conversion failed: ${(r.stderr || '').trim()}`);
  }
  renameSync(part, o.out);
  console.log(`weights: ${r.stdout.trim().replace(part, o.out)}`);
}

main().catch((e) => {
  console.error(`weights: ${e instanceof UserError ? e.message : e.stack}`);
  process.exit(1);
});
