#!/usr/bin/env node
// npm start - serve the demo page (web/demo/) on http://127.0.0.1:PORT.
//
// Builds the WebAssembly builds the page needs when they are missing (tools/build/build.sh; not
// the native CLI, which the page never uses: npm test builds it): wasm-st first, then it serves
// the page single-threaded while wasm-mt and wasm-relaxed build in the background, and turns the
// cross-origin isolation (the threaded build) on when wasm-mt is ready (the page takes wasm-mt
// while wasm-relaxed is missing). It serves a few folders of the repository
// read-only, with the headers that make the page cross-origin isolated (COOP/COEP/CORP), so
// the threaded WebAssembly build can be used, and with the right MIME types (.mjs, .wasm).
// It starts even without weights/xception.gcw: the page says how to get them.
// The demo's pages get a Content-Security-Policy that allows this origin only (DEMO_CSP), and
// its service worker (web/demo/sw.js) may control the whole origin (Service-Worker-Allowed),
// since the page uses the package and the wasm files from outside web/demo/.
//
//   node tools/release/serve.mjs [--port N] [--host H] [--no-isolation] [--no-build]
//   (--no-build: serve what is there; the page needs build/wasm-st, and for threads build/wasm-mt)
//   PORT=N npm start
//
// Also a module: startServer({port, host, isolation, mounts, plain}) for the browser tests
// (isolation: a boolean, or a function asked at each request)
// (plain: a bare static server, as ordinary web hosting is: only Content-Type and length).
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WASM_FILES } from './package.mjs';
import { ISOLATION_HEADERS as PAGE_ISOLATION } from '../../web/vite.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** URL prefix -> folder of the repository. Nothing else is served. */
export const DEFAULT_MOUNTS = {
  '/web/': 'web',
  ...Object.fromEntries(Object.keys(WASM_FILES).map((f) => [`/build/${f}/`, `build/${f}`])), // the wasm builds
  '/weights/': 'weights',
  '/images/': 'tests/data/images',
  '/dist/': 'dist',
};

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
};

/** The headers that make a page cross-origin isolated (the package's, web/vite.js), and let
 *  same-origin files load in it. */
export const ISOLATION_HEADERS = { ...PAGE_ISOLATION, 'Cross-Origin-Resource-Policy': 'same-origin' };

/** The demo's policy: this origin only; WebAssembly compilation; no plugins, frames or forms. */
export const DEMO_CSP = [
  "default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "worker-src 'self' blob:", "connect-src 'self' blob:",
  "img-src 'self' blob: data:", "media-src 'self' blob: mediastream:", "style-src 'self'", "font-src 'self'",
  "manifest-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

/** Extra headers by path: the demo's CSP, and the scope its service worker may take. */
function pathHeaders(path, index) {
  const h = {};
  if (path.startsWith(index)) {
    h['Content-Security-Policy'] = DEMO_CSP;
    h['Referrer-Policy'] = 'no-referrer';
    if (path === `${index}sw.js`) h['Service-Worker-Allowed'] = '/';
  }
  return h;
}

/**
 * Start the static server. Resolves to {server, url, port, close()}.
 * @param {{port?: number, host?: string, isolation?: boolean, mounts?: Record<string,string>,
 *          index?: string, plain?: boolean, log?: (line: string) => void}} [o]
 *        plain: no COOP/COEP, CSP, Service-Worker-Allowed or redirect of / (like ordinary hosting)
 */
export function startServer({ port = 8080, host = '127.0.0.1', isolation = true, mounts = DEFAULT_MOUNTS,
  index = '/web/demo/', plain = false, log = () => {} } = {}) {
  if (plain) isolation = false;
  const table = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix.endsWith('/') ? prefix : `${prefix}/`, resolve(root, dir)])
    .sort((a, b) => b[0].length - a[0].length);

  const server = createServer((req, res) => {
    const isolated = typeof isolation === 'function' ? isolation() : isolation;
    const headers = plain ? {} : { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache', ...(isolated ? ISOLATION_HEADERS : {}) };
    const send = (status, body, extra = {}) => {
      res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
      log(`${status} ${req.method} ${req.url}`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      return send(400, 'bad request\n');
    }
    if (!plain && (path === '/' || path === '/index.html')) return send(302, `see ${index}\n`, { Location: index });
    if (path.includes('\0')) return send(400, 'bad request\n');
    const hit = table.find(([prefix]) => path.startsWith(prefix) || `${path}/` === prefix);
    if (!hit) return send(404, 'not found\n');
    const [prefix, dir] = hit;
    if (`${path}/` === prefix) return send(301, 'moved\n', { Location: prefix });
    let file = resolve(dir, `.${sep}${path.slice(prefix.length)}`);
    if (file !== dir && !file.startsWith(dir + sep)) return send(403, 'forbidden\n');
    let st;
    try {
      st = statSync(file);
      if (st.isDirectory()) {
        if (!path.endsWith('/')) return send(301, 'moved\n', { Location: `${path}/` });
        file = join(file, 'index.html');
        st = statSync(file);
      }
    } catch {
      return send(404, 'not found\n');
    }
    if (!st.isFile()) return send(404, 'not found\n');
    res.writeHead(200, {
      ...headers,
      ...(plain ? {} : pathHeaders(path, index)),
      'Content-Type': MIME[extname(file).toLowerCase()] || 'application/octet-stream',
      'Content-Length': st.size,
      'Last-Modified': st.mtime.toUTCString(),
    });
    log(`200 ${req.method} ${req.url}`);
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });

  return new Promise((resolveStart, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const actual = server.address().port;
      resolveStart({
        server,
        port: actual,
        url: `http://${host}:${actual}`,
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}

// ---- npm start ------------------------------------------------------------------------
/** The files of each WebAssembly build the page loads (nothing else is built for it). */
export const NEEDED = Object.fromEntries(Object.entries(WASM_FILES).map(([f, names]) => [f, names.map((n) => `build/${f}/${n}`)]));
const missingOf = (flavour) => NEEDED[flavour].filter((f) => !existsSync(join(root, f)));
const build = (what, opts) => spawn('bash', [join(root, 'tools/build/build.sh'), what], { stdio: 'inherit', ...opts });
const exited = (child) => new Promise((r) => child.on('exit', (code) => r(code)));

function parseArgs(argv) {
  const o = { port: Number(process.env.PORT) || 8080, host: '127.0.0.1', isolation: true, build: true, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') o.port = Number(argv[++i]);
    else if (a.startsWith('--port=')) o.port = Number(a.slice(7));
    else if (a === '--host') o.host = argv[++i];
    else if (a === '--no-isolation') o.isolation = false;
    else if (a === '--no-build') o.build = false;
    else if (a === '--verbose' || a === '-v') o.verbose = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm start [-- --port N] [--host H] [--no-isolation] [--no-build] [--verbose]');
      process.exit(0);
    } else {
      console.error(`serve: unknown argument ${a} (try --help)`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) {
    console.error('serve: --port needs a number in 0..65535');
    process.exit(2);
  }
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const secs = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
  if (missingOf('wasm-st').length && o.build) {
    console.log('[serve] building the single-thread WebAssembly build first (build/wasm-st), then serving; the threaded '
      + 'builds follow in the background (tools/build/build.sh; the native CLI is not needed: npm test builds it)');
    if (await exited(build('wasm-st')) !== 0) {
      console.error('[serve] error: the build failed; see above');
      process.exit(1);
    }
  }
  // wasm-mt is what threads need; wasm-relaxed is taken where the browser validates relaxed SIMD,
  // and the page falls back to wasm-mt while it is missing (web/worker.js)
  let threadedReady = !missingOf('wasm-mt').length;
  const later = ['wasm-mt', 'wasm-relaxed'].filter((f) => missingOf(f).length);
  let background = null;
  if (later.length && o.build) {
    console.log(`[serve] building ${later.join(' and ')} in the background (${secs()} so far)${threadedReady ? ''
      : '; until wasm-mt is ready the page is served without COOP/COEP, single-threaded'}`);
    (async () => {
      for (const flavour of later) {
        background = build(flavour, { detached: true });
        const code = await exited(background);
        background = null;
        if (code !== 0) {
          console.error(`[serve] error: building ${flavour} failed (see above); ${threadedReady ? 'the page keeps wasm-mt' : 'the page stays single-threaded'}`);
          return;
        }
        if (flavour === 'wasm-mt') threadedReady = true;
        console.log(`[serve] ${flavour} is ready after ${secs()}: ${!o.isolation ? 'restart without --no-isolation for threads'
          : flavour === 'wasm-mt' ? 'the page is now cross-origin isolated (reload it for the threaded build)' : 'a reload takes the relaxed SIMD build where the browser has it'}`);
      }
    })();
  } else if (later.length || missingOf('wasm-st').length) {
    const missing = Object.keys(NEEDED).flatMap(missingOf);
    console.warn(`[serve] warning: missing ${missing.join(', ')} (run npm run build)`);
  }
  if (!existsSync(join(root, 'weights/xception.gcw'))) {
    console.log('[serve] weights/xception.gcw is missing: run `npm run weights` to get them (the page explains it too,\n'
      + '        and lets you pick a .gcw or Keras .h5 file instead)');
  }
  let s;
  try {
    s = await startServer({ port: o.port, host: o.host, isolation: () => o.isolation && threadedReady, log: o.verbose ? (l) => console.log(l) : undefined });
  } catch (e) {
    console.error(`[serve] error: cannot listen on ${o.host}:${o.port}: ${e.code === 'EADDRINUSE' ? 'the port is in use (try --port N)' : e.message}`);
    process.exit(1);
  }
  const how = o.isolation && threadedReady ? 'cross-origin isolated: threaded build' : o.isolation ? 'single-thread build until the threaded builds are ready' : 'no COOP/COEP: single-thread build';
  console.log(`[serve] demo: ${s.url}/   (${how}; serving after ${secs()}; Ctrl-C stops)`);
  const stop = () => {
    if (background) try { process.kill(-background.pid, 'SIGTERM'); } catch { /* already gone */ }
    s.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) main();
