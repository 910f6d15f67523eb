// node-core.mjs - a built WebAssembly core (build/wasm-st or build/wasm-mt) in Node, instantiated
// the way the package's worker does it (web/engine.js instantiate): as a bare Core for the tools
// and the core's tests, or as the worker's Engine for the package's tests.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Core } from '../web/core.js';
import { Engine, instantiate } from '../web/engine.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * A flavour's Emscripten factory and compiled module.
 * @param {'st'|'mt'} flavour
 * @param {string} [buildDir] another build of that flavour (e.g. the profiling build)
 */
export async function nodeModule(flavour = 'st', buildDir) {
  const dir = buildDir ? `${buildDir.replace(/\/$/, '')}/` : `${root}build/wasm-${flavour}/`;
  const js = `${dir}gradcam.mjs`;
  if (!existsSync(js)) throw new Error(`${js} is missing: run tools/build.sh wasm (npm test does it)`);
  // Emscripten 3.1.6's ES6 output still uses CommonJS' require and __dirname when it runs in
  // Node; give them to it (browsers never take this path).
  globalThis.require ??= createRequire(import.meta.url);
  globalThis.__dirname ??= dir;
  const { default: factory } = await import(pathToFileURL(js).href);
  const wasmModule = await WebAssembly.compile(readFileSync(`${dir}gradcam.wasm`));
  return { factory, wasmModule, moduleOptions: { locateFile: (f) => dir + f } };
}

/** The bare core (web/core.js) on a fresh module. */
export async function loadNodeCore(flavour = 'st', buildDir) {
  const { factory, wasmModule, moduleOptions } = await nodeModule(flavour, buildDir);
  return new Core(await instantiate(factory, wasmModule, moduleOptions));
}

/** The package's worker engine (web/engine.js) on a fresh module, as its worker runs it. */
export async function createNodeEngine(flavour = 'st', { threads = flavour === 'mt' ? 2 : 1 } = {}) {
  const m = await nodeModule(flavour);
  return Engine.create({ ...m, mode: flavour === 'mt' ? 'threaded' : 'single', threads });
}

/** End the worker threads of a threaded module so Node can exit. */
export function shutdownCore(core) {
  core.free();
  const pt = core.M.PThread;
  if (pt && pt.terminateAllThreads) pt.terminateAllThreads();
}
