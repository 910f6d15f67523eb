#!/usr/bin/env node
// npm run package - assemble the npm package's dist/ folder from web/ and the three WebAssembly
// builds, print the sizes, and (with --pack) run `npm pack` into build/pack/.
//
//   dist/*.js *.d.ts                                           every JavaScript file of web/ and its types (the folder is their home)
//   dist/wasm-st/gradcam.mjs gradcam.wasm                      SIMD, single thread
//   dist/wasm-mt/gradcam.mjs gradcam.wasm gradcam.worker.js     SIMD + threads (pthreads)
//   dist/wasm-relaxed/gradcam.mjs gradcam.wasm gradcam.worker.js SIMD + threads + relaxed SIMD
//
// `npm pack` / `npm publish` run this through the prepack script, so dist/ is always fresh; it
// first writes the method lists of index.d.ts and the READMEs from the core's registry
// (tools/release/gen-methods.mjs).
// Needs the wasm builds (npm run build).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { generate } from './gen-methods.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dist = join(root, 'dist');

/** The package's modules: every .js of web/ (not the demo's), and their types (.d.ts). */
export const JS_FILES = readdirSync(join(root, 'web')).filter((f) => f.endsWith('.js') || f.endsWith('.d.ts')).sort();
export const WASM_FILES = {
  'wasm-st': ['gradcam.mjs', 'gradcam.wasm'],
  // package.json ({"type": "commonjs"}): the pthread worker script is a classic script
  'wasm-mt': ['gradcam.mjs', 'gradcam.wasm', 'gradcam.worker.js', 'package.json'],
  'wasm-relaxed': ['gradcam.mjs', 'gradcam.wasm', 'gradcam.worker.js', 'package.json'],
};

const kb = (n) => `${(n / 1024).toFixed(0)} KB`;

export function assemble({ quiet = false } = {}) {
  const missing = [];
  for (const [flavour, files] of Object.entries(WASM_FILES)) {
    for (const f of files) if (!existsSync(join(root, 'build', flavour, f))) missing.push(`build/${flavour}/${f}`);
  }
  if (missing.length) {
    throw new Error(`missing ${missing.join(', ')}: run npm run build first`);
  }
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist);
  for (const f of JS_FILES) copyFileSync(join(root, 'web', f), join(dist, f));
  const sizes = {};
  for (const [flavour, files] of Object.entries(WASM_FILES)) {
    mkdirSync(join(dist, flavour));
    for (const f of files) copyFileSync(join(root, 'build', flavour, f), join(dist, flavour, f));
    const wasm = readFileSync(join(dist, flavour, 'gradcam.wasm'));
    sizes[flavour] = { wasm: wasm.length, gzip: gzipSync(wasm, { level: 9 }).length, js: statSync(join(dist, flavour, 'gradcam.mjs')).size };
  }
  if (!quiet) {
    for (const [flavour, s] of Object.entries(sizes)) {
      console.log(`[package] dist/${flavour}/gradcam.wasm ${kb(s.wasm)} (gzip -9: ${kb(s.gzip)}), gradcam.mjs ${kb(s.js)}`);
    }
  }
  return sizes;
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
      const sizes = assemble({ quiet: true });
      for (const [flavour, s] of Object.entries(sizes)) {
        console.log(`[package] ${flavour}/gradcam.wasm ${kb(s.wasm)}, gzip -9 ${kb(s.gzip)}`);
      }
      console.log(`[package] ${p.file}: ${kb(p.size)} (${p.entries.length} files, ${kb(p.unpackedSize)} unpacked)`);
    } else {
      assemble({ quiet: process.argv.includes('--quiet') });
    }
  } catch (e) {
    console.error(`[package] error: ${e.message}`);
    process.exit(1);
  }
}
