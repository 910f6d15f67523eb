// node-core.mjs - load a built WebAssembly core (build/wasm-st, wasm-mt or wasm-relaxed) in Node.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { Core } from '../../web/core.js';
import { chooseBuild, detectFeatures } from '../../web/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Node 20's V8 validates relaxed SIMD only with --experimental-wasm-relaxed-simd (later Node
 *  versions have it on): turn it on for this process, before any module is compiled. */
export function allowRelaxedSimd() {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
}

/**
 * The threaded flavour the package would take here ('relaxed' or 'mt'): the page's choice
 * (web/index.js chooseBuild) on what this process validates.
 * @param {{relaxedSimd?: boolean}} [o] relaxedSimd: false forces the SIMD build
 */
export function nodeFlavour(o = {}) {
  return chooseBuild(detectFeatures(), { threaded: true, ...o }).dir.replace('wasm-', '');
}

/**
 * @param {'st'|'mt'|'relaxed'} flavour
 * @param {string} [buildDir] another build of that flavour (e.g. the profiling build)
 */
export async function loadNodeCore(flavour = 'st', buildDir) {
  const dir = buildDir ? `${buildDir.replace(/\/$/, '')}/` : `${root}build/wasm-${flavour}/`;
  const js = `${dir}gradcam.mjs`;
  if (!existsSync(js)) throw new Error(`${js} is missing: run tools/build/build.sh wasm (npm test does it)`);
  // Emscripten 3.1.6's ES6 output still uses CommonJS' require and __dirname when it runs in
  // Node; give them to it (browsers never take this path).
  globalThis.require ??= createRequire(import.meta.url);
  globalThis.__dirname ??= dir;
  const { default: factory } = await import(pathToFileURL(js).href);
  // Hand over the .wasm bytes: under Node 18+ the 3.1.6 glue would otherwise try fetch() on a
  // file path and fail.
  return Core.create(factory, { locateFile: (f) => dir + f, wasmBinary: readFileSync(`${dir}gradcam.wasm`) });
}

/** End the worker threads of a threaded module so Node can exit. */
export function shutdownCore(core) {
  core.free();
  const pt = core.M.PThread;
  if (pt && pt.terminateAllThreads) pt.terminateAllThreads();
}
