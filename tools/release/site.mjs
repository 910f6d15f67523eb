#!/usr/bin/env node
// npm run site - write the demo page as a self-contained static site, for any static web host
// (or a USB stick and `python3 -m http.server`): no special headers needed.
//
//   build/site/index.html demo.js parts/ demo.css sw.js manifest.webmanifest icons/ samples/
//   build/site/gradcam/      the npm package (dist/: modules, wasm-st/, wasm-mt/, wasm-relaxed/)
//   build/site/weights/      xception.gcw when weights/xception.gcw exists (npm run weights)
//
// Everything lives under the page's own folder, so its service worker covers the whole site
// without the Service-Worker-Allowed header that `npm start` sends, and the page works offline
// after one visit (also at the site's root address, e.g. http://host:8000/). Served without COOP/COEP the page runs the single-thread build; a host that
// sends `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy:
// require-corp` gets the threaded one.
//
//   node tools/release/site.mjs [--out DIR] [--no-weights] [--weights FILE]
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble, WASM_FILES } from './package.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Replace the one line of `text` that ends with the marker comment; throws if it is not there once. */
function relayout(text, file, marker, line) {
  const lines = text.split('\n');
  const hits = lines.map((l, i) => [l, i]).filter(([l]) => l.trimEnd().endsWith(marker));
  if (hits.length !== 1) throw new Error(`${file}: expected one line ending with "${marker}", found ${hits.length}`);
  lines[hits[0][1]] = line;
  return lines.join('\n');
}

/**
 * Write the site. Returns {out, files, bytes, weights}.
 * @param {{out?: string, weights?: string|null}} [o] weights: the .gcw to include (null: none)
 */
export function buildSite({ out = join(root, 'build', 'site'), weights = join(root, 'weights', 'xception.gcw') } = {}) {
  out = resolve(out);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  const demo = join(root, 'web', 'demo');
  for (const f of ['index.html', 'demo.css', 'manifest.webmanifest']) copyFileSync(join(demo, f), join(out, f));
  cpSync(join(demo, 'icons'), join(out, 'icons'), { recursive: true });
  cpSync(join(demo, 'samples'), join(out, 'samples'), { recursive: true });

  copyFileSync(join(demo, 'demo.js'), join(out, 'demo.js'));
  cpSync(join(demo, 'parts'), join(out, 'parts'), { recursive: true });
  // parts/layout.js: its import is relative to the module (parts/), its LAYOUT paths to the page
  let js = readFileSync(join(demo, 'parts', 'layout.js'), 'utf8');
  js = relayout(js, 'parts/layout.js', '// layout: the package', "export { GradCam } from '../gradcam/index.js'; // layout: the package");
  js = relayout(js, 'parts/layout.js', '// layout',
    "export const LAYOUT = { wasm: './gradcam/', weights: './weights/xception.gcw', root: './' }; // layout");
  writeFileSync(join(out, 'parts', 'layout.js'), js);
  let sw = readFileSync(join(demo, 'sw.js'), 'utf8');
  sw = relayout(sw, 'sw.js', '// layout', "const PACKAGE = { js: 'gradcam/', wasm: 'gradcam/' }; // layout");
  writeFileSync(join(out, 'sw.js'), sw);

  // the package exactly as npm would install it (dist/)
  assemble({ quiet: true });
  cpSync(join(root, 'dist'), join(out, 'gradcam'), { recursive: true });

  mkdirSync(join(out, 'weights'));
  let hasWeights = false;
  if (weights && existsSync(weights)) {
    copyFileSync(weights, join(out, 'weights', 'xception.gcw'));
    hasWeights = true;
  }
  writeFileSync(join(out, 'weights', 'README.txt'),
    'Put the converted weights here as xception.gcw (npm run weights writes weights/xception.gcw in the\n'
    + 'repository; copy it here). Without them the page asks for a .gcw or a Keras model file.\n');
  for (const f of ['LICENSE', 'NOTICE']) if (existsSync(join(root, f))) copyFileSync(join(root, f), join(out, f));

  let files = 0;
  let bytes = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else { files++; bytes += statSync(join(d, e.name)).size; }
    }
  };
  walk(out);
  return { out, files, bytes, weights: hasWeights };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const o = {};
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') o.out = args[++i];
    else if (args[i] === '--no-weights') o.weights = null;
    else if (args[i] === '--weights') o.weights = resolve(args[++i]);
    else {
      console.error(`site: unknown argument ${args[i]} (usage: npm run site -- [--out DIR] [--no-weights] [--weights FILE])`);
      process.exit(2);
    }
  }
  const built = Object.keys(WASM_FILES).map((f) => `build/${f}/gradcam.wasm`);
  if (built.some((f) => !existsSync(join(root, f)))) {
    console.log('[site] building what is missing first (tools/build/build.sh all)');
    const b = spawnSync('bash', [join(root, 'tools/build/build.sh'), 'all'], { stdio: 'inherit' });
    if (b.status !== 0) {
      console.error('[site] error: the build failed; see above');
      process.exit(1);
    }
  }
  try {
    const r = buildSite(o);
    console.log(`[site] ${r.out}: ${r.files} files, ${(r.bytes / 1048576).toFixed(1)} MB`);
    console.log(r.weights ? '[site] weights included (weights/xception.gcw)'
      : '[site] no weights included: run `npm run weights` first, or the page will ask for a file');
    console.log(`[site] serve the folder with any static web server, e.g. cd ${r.out} && python3 -m http.server 8000`);
  } catch (e) {
    console.error(`[site] error: ${e.message}`);
    process.exit(1);
  }
}
