// privacy.test.mjs - no file the package or the demo ships asks for anything off the page's own
// origin at run time: every absolute http(s) URL (and protocol-relative //host/ URL) in the
// files of dist/ (web/*.js and the emitted Emscripten glue of both wasm builds, the same bytes
// tools/release/package.mjs copies) and of web/demo/ is found and classified. A URL that starts a string
// literal, an HTML attribute value or a CSS url() (what fetch, import(), new Worker, importScripts,
// src, href and url() are given) fails the test; XML namespace names are identifiers, never
// fetched; a URL inside prose (a comment, an error or
// warning text) must be on the allowlist below with the reason it is never requested. (The
// browser test of a demo visit, tests/browser/demo.test.mjs, records the actual requests.)
import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './helpers.mjs';
import { JS_FILES, WASM_FILES } from '../../tools/release/package.mjs';

const URL_RE = /(?:https?:)?\/\/(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?(?:\/[^\s"'`()<>\\]*)?|https?:\/\/[^\s"'`()<>\\]+/gi;

// URLs found in prose, never requested: [file (relative to the repository), URL, reason]
const ALLOW = [
  ['build/wasm-mt/gradcam.mjs', 'https://emscripten.org/docs/porting/pthreads.html#blocking-on-the-main-browser-thread',
    'Emscripten\'s warnOnce() text about blocking the main thread (a console message; the package runs the module in a worker)'],
  ['build/wasm-relaxed/gradcam.mjs', 'https://emscripten.org/docs/porting/pthreads.html#blocking-on-the-main-browser-thread',
    'the same warnOnce() text in the relaxed SIMD build\'s glue'],
  ['web/demo/parts/camera.js', 'http://127.0.0.1',
    'the camera error message tells the user to open the page on a secure origin "such as http://127.0.0.1"'],
];

/**
 * Every URL in `text` with how it is used: 'requested' when it starts a string literal, an
 * attribute value or a url() (or directly follows fetch( / import( / Worker( / importScripts(),
 * else 'prose'.
 */
export function findUrls(text) {
  const out = [];
  for (const m of text.matchAll(URL_RE)) {
    const url = m[0];
    // "//foo.bar" inside a longer word (e.g. a path a//b) or a comment marker "// word" are not URLs
    if (url.startsWith('//') && (m.index > 0 && /[\w:/]/.test(text[m.index - 1]))) continue;
    if (url.startsWith('//') && !url.slice(2).includes('/')) continue;
    const before = text.slice(Math.max(0, m.index - 40), m.index);
    // XML namespace names (xmlns="http://www.w3.org/2000/svg") are identifiers, never fetched
    const namespace = /(xmlns(?::[\w-]+)?\s*=\s*["']|createElementNS\(\s*["'`])$/.test(before);
    const requested = !namespace && /(["'`]|url\(\s*["']?|(?:fetch|import|Worker|importScripts|open)\s*\(\s*)$/.test(before);
    out.push({ url, at: m.index, use: namespace ? 'namespace' : requested ? 'requested' : 'prose', context: text.slice(Math.max(0, m.index - 60), m.index + url.length + 20) });
  }
  return out;
}

function files() {
  const out = JS_FILES.map((f) => `web/${f}`);
  for (const [flavour, names] of Object.entries(WASM_FILES)) for (const n of names) if (!n.endsWith('.wasm')) out.push(`build/${flavour}/${n}`);
  const walk = (dir) => {
    for (const n of readdirSync(join(root, dir))) {
      const p = `${dir}/${n}`;
      if (statSync(join(root, p)).isDirectory()) walk(p);
      else if (/\.(html|js|mjs|css|json|webmanifest|svg)$/.test(n)) out.push(p);
    }
  };
  walk('web/demo');
  return out;
}

test('the URL classifier tells requests from prose', () => {
  const cases = [
    ['fetch("https://cdn.example.com/x.wasm")', 'requested'],
    ["import('https://esm.example.org/lib.js')", 'requested'],
    ['new Worker(`https://x.example.net/w.js`)', 'requested'],
    ['<script src="https://x.example.com/a.js"></script>', 'requested'],
    ['<link rel="stylesheet" href="//fonts.example.com/css">', 'requested'],
    ['body { background: url(https://img.example.com/bg.png) }', 'requested'],
    ['importScripts(  "https://x.example.com/a.js")', 'requested'],
    ['// see https://emscripten.org/docs for details', 'prose'],
    ['throw new Error("open it on a secure origin such as https://localhost.example.com")', 'prose'],
    ['<svg xmlns="http://www.w3.org/2000/svg">', 'namespace'],
  ];
  for (const [text, use] of cases) {
    const found = findUrls(text);
    assert.equal(found.length, 1, text);
    assert.equal(found[0].use, use, text);
  }
  assert.deepEqual(findUrls('const a = b // c; x = "a//b"; /* 1 // 2 */'), []);
});

test('privacy: no absolute URL that would be requested in dist/ files, the wasm glue or web/demo/', () => {
  const list = files();
  assert.ok(list.includes('build/wasm-st/gradcam.mjs') && list.includes('web/demo/index.html') && list.includes('web/worker.js'), list.join(' '));
  const requested = [];
  const prose = [];
  for (const f of list) {
    for (const u of findUrls(readFileSync(join(root, f), 'utf8'))) {
      if (u.use === 'requested') requested.push({ f, ...u });
      else if (u.use === 'prose') prose.push({ f, ...u });
    }
  }
  console.log(`  ${list.length} files scanned; URLs in prose: ${prose.map((u) => `${u.f}: ${u.url}`).join('; ') || 'none'}`);
  assert.deepEqual(requested.map((u) => `${u.f}: ${u.url} in ${JSON.stringify(u.context)}`), [], 'URLs that would be requested');
  for (const u of prose) {
    assert.ok(ALLOW.some(([f, url]) => f === u.f && url === u.url), `not on the allowlist: ${u.f}: ${u.url} in ${JSON.stringify(u.context)}`);
  }
  for (const [f, url] of ALLOW) assert.ok(prose.some((u) => u.f === f && u.url === url), `allowlist entry no longer needed: ${f} ${url}`);
});
