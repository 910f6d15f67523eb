// builds.js - the files of the three WebAssembly builds, and where they are: the one home of
// their names (tools/release/package.mjs copies these files into dist/, the tests check them).
//
// Each file is named by a static URL literal relative to import.meta.url (new URL of a fixed
// './folder/file' string), the form that bundlers recognise: `vite build`, `vite dev` and webpack 5 emit (or serve) each file as an
// asset of the app and rewrite the URL to it, so an app that imports the package needs no copy
// step and no bundler setting. Without a bundler the URLs are the files next to this module.
// The keys are the names the Emscripten glue asks for (its locateFile), whatever name a bundler
// gives the asset. Keep one literal per file: a URL built from variables is invisible to bundlers.
//
//   gradcam.mjs         the Emscripten glue (ES module), imported by the worker
//   gradcam.wasm        the compiled core, fetched and compiled by the worker
//   gradcam.worker.js   threaded builds: the pthread worker script (a classic script)

/** {folder: {file name: URL}} of the three builds (`folder` as chooseBuild() names it). */
export function buildFiles() {
  return {
    'wasm-st': {
      'gradcam.mjs': new URL('./wasm-st/gradcam.mjs', import.meta.url),
      'gradcam.wasm': new URL('./wasm-st/gradcam.wasm', import.meta.url),
    },
    'wasm-mt': {
      'gradcam.mjs': new URL('./wasm-mt/gradcam.mjs', import.meta.url),
      'gradcam.wasm': new URL('./wasm-mt/gradcam.wasm', import.meta.url),
      'gradcam.worker.js': new URL('./wasm-mt/gradcam.worker.js', import.meta.url),
    },
    'wasm-relaxed': {
      'gradcam.mjs': new URL('./wasm-relaxed/gradcam.mjs', import.meta.url),
      'gradcam.wasm': new URL('./wasm-relaxed/gradcam.wasm', import.meta.url),
      'gradcam.worker.js': new URL('./wasm-relaxed/gradcam.worker.js', import.meta.url),
    },
  };
}

/**
 * The URLs (strings) of every build's files: the bundled or adjacent ones, or, with `base` (the
 * wasmBase option, an absolute URL of a folder holding wasm-st/, wasm-mt/ and wasm-relaxed/),
 * the same names under it.
 * @param {URL|string} [base]
 * @returns {Record<string, Record<string, string>>}
 */
export function buildUrls(base) {
  const out = {};
  for (const [dir, files] of Object.entries(buildFiles())) {
    out[dir] = {};
    for (const [name, url] of Object.entries(files)) out[dir][name] = base === undefined ? url.href : new URL(`${dir}/${name}`, base).href;
  }
  return out;
}
