#!/usr/bin/env node
// npm run package - assemble the npm package's dist/ folder from web/ and the three WebAssembly
// builds, print the sizes, and (with --pack) run `npm pack` into build/pack/.
//
//   dist/*.js *.d.ts                                           every JavaScript file of web/ and its types (the folder is their home)
//   dist/wasm-st/gradcam.mjs gradcam.wasm                      SIMD, single thread
//   dist/wasm-mt/gradcam.mjs gradcam.wasm gradcam.worker.js     SIMD + threads (pthreads)
//   dist/wasm-relaxed/gradcam.mjs gradcam.wasm gradcam.worker.js SIMD + threads + relaxed SIMD
//   dist/node/index.js index.d.ts cli.js                       the package in Node (web/node/): xception-gradcam/node, the npx bin
//   dist/cli/gradcam-cli.js gradcam-cli.wasm                   the native CLI's code for Node (npx xception-gradcam: dist/node/cli.js)
//
// With --pack it writes the measured sizes (each wasm and its gzip -9 size, the tarball) into
// web/README.md's sizes block, the one home of those numbers (tests/browser/package.test.mjs
// checks the block against a fresh pack; web/README.md is not in the tarball, so writing it
// does not change what was measured).
// `npm pack` / `npm publish` run this through the prepack script, so dist/ is always fresh; it
// first writes the method lists of index.d.ts and the READMEs from the core's registry
// (tools/release/gen-methods.mjs).
// Needs the wasm builds (npm run build).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { generate, readBlock, writeBlock } from './gen-methods.mjs';
import { buildFiles } from '../../web/builds.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dist = join(root, 'dist');

/** The package's modules: every .js of web/ (not the demo's), and their types (.d.ts). */
export const JS_FILES = readdirSync(join(root, 'web')).filter((f) => f.endsWith('.js') || f.endsWith('.d.ts')).sort();
/** The package in Node (web/node/: not modules of the page): 'xception-gradcam/node' and the npx bin. */
export const NODE_FILES = ['index.js', 'index.d.ts', 'cli.js'];
/** The files of each WebAssembly build: web/builds.js names them (the URLs bundlers follow), plus,
 *  beside a pthread worker script, package.json ({"type": "commonjs"}: that script is a classic
 *  script, and Node would read a .js of this "type": "module" package as a module). */
export const WASM_FILES = Object.fromEntries(Object.entries(buildFiles()).map(([flavour, files]) =>
  [flavour, [...Object.keys(files), ...('gradcam.worker.js' in files ? ['package.json'] : [])]]));

/** dist/cli/: the native CLI's code built for Node in build/wasm-st (npx xception-gradcam runs it
 *  through dist/node/cli.js); package.json ({"type": "commonjs"}) makes Node read its .js as CommonJS. */
export const CLI_FILES = { from: 'wasm-st', to: 'cli', files: ['gradcam-cli.js', 'gradcam-cli.wasm', 'package.json'] };

const kb = (n) => `${(n / 1024).toFixed(0)} KB`;

/** Sizes of dist/'s WebAssembly files: {'wasm-st': {file, wasm, gzip, js}, ..., cli: {...}}. */
export function measure() {
  const sizes = {};
  const one = (dir, wasmName, jsName) => {
    const wasm = readFileSync(join(dist, dir, wasmName));
    return { file: `${dir}/${wasmName}`, wasm: wasm.length, gzip: gzipSync(wasm, { level: 9 }).length, js: statSync(join(dist, dir, jsName)).size };
  };
  for (const flavour of Object.keys(WASM_FILES)) sizes[flavour] = one(flavour, 'gradcam.wasm', 'gradcam.mjs');
  sizes.cli = one(CLI_FILES.to, 'gradcam-cli.wasm', 'gradcam-cli.js');
  return sizes;
}

const WHAT = {
  'wasm-st': 'SIMD, one thread', 'wasm-mt': 'SIMD + threads', 'wasm-relaxed': 'SIMD + threads + relaxed SIMD',
  cli: 'the CLI for Node: `npx xception-gradcam`',
};
export const SIZES_BY = 'written by npm run package (tools/release/package.mjs)';

/** The sizes block of web/README.md from measure() and pack()'s result. */
export function sizesBlock(sizes, packed) {
  const rows = Object.entries(sizes).map(([k, s]) => `| \`dist/${s.file}\` (${WHAT[k]}) | ${kb(s.wasm)} | ${kb(s.gzip)} |`);
  return ['| file | size | gzip -9 |', '|---|---|---|', ...rows,
    `| the npm tarball (${packed.entries.length} files) | ${kb(packed.size)} | (${kb(packed.unpackedSize)} unpacked) |`].join('\n');
}

/** How the sizes block `text` differs from the measured one `now` ([] when it agrees): the wasm
 *  rows exactly (the builds are deterministic), the tarball's row within 1% (README.md is in
 *  the tarball, so every edit of it moves those figures by a few bytes). */
export function sizesDiffer(text, now) {
  const rows = (t) => t.split('\n').filter((l) => l.startsWith('| '));
  const [a, b] = [rows(text), rows(now)];
  if (a.length !== b.length) return [`${a.length} rows, measured ${b.length}`];
  const kbs = (l) => [...l.matchAll(/(\d+) KB/g)].map((m) => Number(m[1]));
  return a.flatMap((l, i) => {
    if (l === b[i]) return [];
    const tarball = l.startsWith('| the npm tarball') && b[i].replace(/\d+ KB/g, '') === l.replace(/\d+ KB/g, '');
    const close = tarball && kbs(l).every((v, k) => Math.abs(v - kbs(b[i])[k]) <= 0.01 * kbs(b[i])[k]);
    return close ? [] : [`'${l}', measured '${b[i]}'`];
  });
}

/** The sizes block as web/README.md has it now. */
export const readmeSizes = () => readBlock(readFileSync(join(root, 'web/README.md'), 'utf8'), 'web/README.md', 'sizes', SIZES_BY);

function writeSizes(body) {
  return writeBlock('web/README.md', 'sizes', body, SIZES_BY);
}

/** dist/ from web/ and the builds; unless quiet, prints each wasm file's size and gzip -9 size. */
export function assemble({ quiet = false } = {}) {
  const missing = [];
  for (const [flavour, files] of Object.entries(WASM_FILES)) {
    for (const f of files) if (!existsSync(join(root, 'build', flavour, f))) missing.push(`build/${flavour}/${f}`);
  }
  for (const f of CLI_FILES.files) if (!existsSync(join(root, 'build', CLI_FILES.from, f))) missing.push(`build/${CLI_FILES.from}/${f}`);
  if (missing.length) {
    throw new Error(`missing ${missing.join(', ')}: run npm run build first`);
  }
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist);
  for (const f of JS_FILES) copyFileSync(join(root, 'web', f), join(dist, f));
  mkdirSync(join(dist, 'node'));
  for (const f of NODE_FILES) copyFileSync(join(root, 'web', 'node', f), join(dist, 'node', f));
  for (const [flavour, files] of Object.entries(WASM_FILES)) {
    mkdirSync(join(dist, flavour));
    for (const f of files) copyFileSync(join(root, 'build', flavour, f), join(dist, flavour, f));
  }
  mkdirSync(join(dist, CLI_FILES.to));
  for (const f of CLI_FILES.files) copyFileSync(join(root, 'build', CLI_FILES.from, f), join(dist, CLI_FILES.to, f));
  if (quiet) return; // npm pack's prepack and the site: no sizes asked for (gzip -9 of each build takes seconds)
  for (const s of Object.values(measure())) console.log(`[package] dist/${s.file} ${kb(s.wasm)} (gzip -9: ${kb(s.gzip)}), its JavaScript ${kb(s.js)}`);
}

/** npm pack into `dest`; returns {file, size, entries}. */
export function pack(dest = join(root, 'build', 'pack')) {
  mkdirSync(dest, { recursive: true });
  const r = spawnSync('npm', ['pack', '--json', '--pack-destination', dest], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  const info = JSON.parse(r.stdout.slice(r.stdout.indexOf('[\n')))[0];
  return { file: join(dest, info.filename), size: info.size, unpackedSize: info.unpackedSize, entries: info.files.map((f) => f.path) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    // the types' and READMEs' method lists, from the core's registry
    const wrote = await generate();
    if (wrote.length) console.log(`[package] method lists written from the registry: ${wrote.join(', ')}`);
    if (process.argv.includes('--pack')) {
      // npm pack runs prepack (this script without --pack), which assembles dist/
      const p = pack();
      const sizes = measure();
      for (const s of Object.values(sizes)) console.log(`[package] ${s.file} ${kb(s.wasm)}, gzip -9 ${kb(s.gzip)}`);
      console.log(`[package] ${p.file}: ${kb(p.size)} (${p.entries.length} files, ${kb(p.unpackedSize)} unpacked)`);
      const body = sizesBlock(sizes, p);
      console.log(`[package] web/README.md's sizes block ${writeSizes(body) ? 'written' : 'already says so'}`);
    } else {
      assemble({ quiet: process.argv.includes('--quiet') });
    }
  } catch (e) {
    console.error(`[package] error: ${e.message}`);
    process.exit(1);
  }
}
