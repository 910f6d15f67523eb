// node-core.mjs - a built WebAssembly core (build/wasm-st, wasm-mt or wasm-relaxed) in Node,
// instantiated the way the package's worker does it (web/engine.js instantiate): as a bare Core
// for the tools and the core's tests, or as the worker's Engine for the package's tests.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { Core } from '../../web/core.js';
import { Engine, instantiate } from '../../web/engine.js';
import { chooseBuild, detectFeatures } from '../../web/index.js';
import { nodeModule as loadModule } from '../../web/node/index.js';

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
 * A flavour's Emscripten factory and compiled module.
 * @param {'st'|'mt'|'relaxed'} flavour
 * @param {string} [buildDir] another build of that flavour (e.g. the profiling build)
 */
export async function nodeModule(flavour = 'st', buildDir) {
  const dir = buildDir ? `${buildDir.replace(/\/$/, '')}/` : `${root}build/wasm-${flavour}/`;
  const js = `${dir}gradcam.mjs`;
  if (!existsSync(js)) throw new Error(`${js} is missing: run tools/build/build.sh wasm (npm test does it)`);
  return loadModule(dir); // the package's own Node instantiation (web/node/index.js)
}

/** The bare core (web/core.js) on a fresh module. */
export async function loadNodeCore(flavour = 'st', buildDir) {
  const { factory, wasmModule, moduleOptions } = await nodeModule(flavour, buildDir);
  return new Core(await instantiate(factory, wasmModule, moduleOptions));
}

/** The package's worker engine (web/engine.js) on a fresh module, as its worker runs it. */
export async function createNodeEngine(flavour = 'st', { threads = flavour === 'st' ? 1 : 2 } = {}) {
  const m = await nodeModule(flavour);
  return Engine.create({ ...m, mode: flavour === 'st' ? 'single' : 'threaded', threads, build: flavour === 'relaxed' ? 'relaxed' : 'simd' });
}

/** End the worker threads of a threaded module so Node can exit. */
export function shutdownCore(core) {
  core.free();
  const pt = core.M.PThread;
  if (pt && pt.terminateAllThreads) pt.terminateAllThreads();
}
