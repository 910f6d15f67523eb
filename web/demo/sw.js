// sw.js - the demo page's service worker: after one visit the page works with the network off.
//
// In the repository it is registered by demo.js with the scope of the site's root (npm start
// sends Service-Worker-Allowed: / for this file), because the page uses files outside
// web/demo/: the package (web/*.js), its worker and the WebAssembly builds (build/wasm-*/).
// In the static site written by `npm run site` everything is beside it, and no header is needed.
// Strategy: network first for everything of this origin, so a page under development is never
// stale; a copy of each answer is kept, and used when the network fails. The weights (.gcw,
// .h5) are not handled here: the page keeps them itself in Cache Storage (demo.js), so they
// are stored once. Nothing from another origin is ever fetched or cached.
const VERSION = 'v2';
const CACHE = `xception-gradcam-app-${VERSION}`;
const here = (p) => new URL(p, self.location.href).href;

// Where the package's modules and the WebAssembly builds are, relative to this file (in the
// repository; tools/release/site.mjs rewrites the line marked "layout" for the static site).
const PACKAGE = { js: '../', wasm: '../../build/' }; // layout

/** The page's modules (tests/js/demo-files.test.mjs checks this list against parts/). */
const PARTS = ['batch', 'camera', 'compare', 'contrast', 'controls', 'dom', 'explain-view', 'features', 'inside', 'jobs',
  'layers-view', 'layout', 'maps', 'plots', 'sanity', 'state', 'status', 'text', 'views', 'weights', 'zip'];

/** The package's modules (tests/js/demo-files.test.mjs checks this list against web/*.js). */
const MODULES = ['builds.js', 'core.js', 'element.js', 'engine.js', 'errors.js', 'explain.js', 'import.js', 'index.js', 'kept.js', 'protocol.js', 'queue.js',
  'sources.js', 'vite.js', 'worker.js'];

/** What the page needs, cached when the worker installs. */
const SHELL = [
  './', 'demo.js', 'demo.css', 'manifest.webmanifest', 'icons/icon-192.png', 'icons/icon.svg',
  ...PARTS.map((p) => `parts/${p}.js`),
  ...['cat', 'cat-and-dog', 'coffee', 'eagle', 'astronaut', 'rocket'].flatMap((s) => [`samples/${s}.jpg`, `samples/thumbs/${s}.jpg`]),
  ...MODULES.map((f) => PACKAGE.js + f),
  // the three builds (tools/release/package.mjs WASM_FILES; tests/js/serve.test.mjs checks this list)
  ...['wasm-st/gradcam.mjs', 'wasm-st/gradcam.wasm', 'wasm-mt/gradcam.mjs', 'wasm-mt/gradcam.wasm',
    'wasm-mt/gradcam.worker.js', 'wasm-relaxed/gradcam.mjs', 'wasm-relaxed/gradcam.wasm',
    'wasm-relaxed/gradcam.worker.js'].map((f) => PACKAGE.wasm + f),
].map(here);

const WEIGHTS = /\.(gcw|h5|hdf5|keras|bin)$/i;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // one by one, so a file this site does not have (e.g. no threaded build) does not stop the rest
    const results = await Promise.allSettled(SHELL.map(async (url) => {
      const res = await fetch(url, { cache: 'no-cache' });
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      await cache.put(url, res);
    }));
    const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
    if (failed.length) console.warn(`offline copy incomplete: ${failed.join(', ')}`);
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('xception-gradcam-app-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin || WEIGHTS.test(url.pathname)
    || req.headers.has('range')) return; // the browser does it as if there were no worker
  event.respondWith(networkFirst(req, url));
});

async function networkFirst(req, url) {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(req);
    if (res.ok && res.type === 'basic') {
      const key = req.mode === 'navigate' ? here('./') : req.url;
      if (req.mode !== 'navigate' || url.pathname === new URL(here('./')).pathname) cache.put(key, res.clone()).catch(() => {});
    }
    return res;
  } catch (e) {
    if (req.mode === 'navigate') {
      const hit = await cache.match(req, { ignoreSearch: true });
      if (hit) return hit;
      // the page answers only at its own address, where its relative links work: an address
      // outside its folder (the site's root, which npm start redirects to the page) is sent there
      const page = new URL(here('./'));
      if (!url.pathname.startsWith(page.pathname)) return Response.redirect(page.href + url.search, 302);
      const shell = await cache.match(here('./'));
      if (shell) return shell;
      throw e;
    }
    const hit = await cache.match(req, { ignoreSearch: true });
    if (hit) return hit;
    throw e;
  }
}
