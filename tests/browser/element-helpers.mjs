// element-helpers.mjs - shared by the <xception-gradcam> tests: the folder layout a user gets
// from the package (web/'s modules with the three wasm builds beside them), an init script that
// counts the page's Worker constructions, an in-page helper awaiting an element's next event,
// and React 19's CommonJS files wrapped into one classic script (React ships no ESM or UMD
// build; the wrapper is a dozen lines of require()).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBrowser } from './browser.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A cross-origin isolated Chromium page (browser.mjs) on elementMounts plus `dir` at `prefix`
 *  (e.g. '/el/'), with INIT_SCRIPT, opened at the folder's index.html. */
export async function openElementPage(prefix, dir) {
  const b = await openBrowser({ isolation: true, mounts: elementMounts({ [prefix]: dir }), path: null });
  await b.context.addInitScript({ content: INIT_SCRIPT });
  await b.page.goto(`${b.url}${prefix}index.html`);
  return b;
}

/** Mounts: /pkg/ is the package as installed (modules + wasm-st/, wasm-mt/, wasm-relaxed/). */
export function elementMounts(extra = {}) {
  return {
    '/pkg/': 'web',
    '/pkg/wasm-st/': 'build/wasm-st',
    '/pkg/wasm-mt/': 'build/wasm-mt',
    '/pkg/wasm-relaxed/': 'build/wasm-relaxed',
    '/test-data/': 'build/test-data',
    '/images/': 'tests/data/images',
    ...extra,
  };
}

/** Runs before the page's scripts: counts `new Worker()` of the page (not the core's pthreads,
 *  which the package's worker starts itself) and records every element event (capture phase:
 *  the element's events do not bubble). `nextEvent(el, types)` resolves with the element's next
 *  event of those types: {type, detail}. */
export const INIT_SCRIPT = `
(() => {
  window.workerCount = 0;
  const W = window.Worker;
  window.Worker = class extends W { constructor(url, o) { super(url, o); window.workerCount++; } };
  window.elementEvents = [];
  for (const type of ['ready', 'result', 'error']) {
    document.addEventListener(type, (e) => {
      if (e.target && e.target.localName === 'xception-gradcam') window.elementEvents.push({ type, id: e.target.id, detail: e.detail });
    }, true);
  }
  window.nextEvent = (el, types = ['result', 'error'], timeout = 60000) => new Promise((resolve, reject) => {
    const offs = [];
    const done = (v) => { offs.forEach((f) => f()); clearTimeout(t); resolve(v); };
    const t = setTimeout(() => { offs.forEach((f) => f()); reject(new Error('no ' + types.join('/') + ' event from #' + el.id + ' in ' + timeout + ' ms')); }, timeout);
    for (const type of types) {
      const f = (e) => done({ type, detail: e.detail });
      el.addEventListener(type, f);
      offs.push(() => el.removeEventListener(type, f));
    }
  });
  // counts the network calls of a GradCam instance (classify, explain, render)
  window.spyCalls = (gc) => {
    const n = { classify: 0, explain: 0, render: 0 };
    for (const m of Object.keys(n)) {
      const f = gc[m].bind(gc);
      gc[m] = (...a) => { n[m]++; return f(...a); };
    }
    return n;
  };
  // the overlay canvas in the element's shadow root: its size and how many pixels are not black
  window.overlayStats = (el) => {
    const c = el.shadowRoot.querySelector('canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let lit = 0; let sum = 0;
    for (let i = 0; i < d.length; i += 4) { if (d[i] + d[i + 1] + d[i + 2] > 0) lit++; sum += d[i] * 3 + d[i + 1] * 5 + d[i + 2] * 7; }
    return { width: c.width, height: c.height, lit, sum, hidden: c.hidden, label: c.getAttribute('aria-label') };
  };
})();
`;

/** React 19 and ReactDOM's client as one classic script defining window.React and
 *  window.ReactDOMClient (production builds of the installed packages). */
export function reactScript() {
  // each package's folder, as Node resolves it (from react-dom's for scheduler, its dependency)
  const req = createRequire(`${root}package.json`);
  const dirOf = (name, from = req) => dirname(from.resolve(name));
  const dirs = { react: dirOf('react'), 'react-dom': dirOf('react-dom') };
  dirs.scheduler = dirOf('scheduler', createRequire(join(dirs['react-dom'], 'package.json')));
  const files = {
    react: join(dirs.react, 'cjs/react.production.js'),
    'react-dom': join(dirs['react-dom'], 'cjs/react-dom.production.js'),
    'react-dom/client': join(dirs['react-dom'], 'cjs/react-dom-client.production.js'),
    scheduler: join(dirs.scheduler, 'cjs/scheduler.production.js'),
  };
  const version = (d) => JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).version;
  const versions = { react: version(dirs.react), 'react-dom': version(dirs['react-dom']) };
  const defs = Object.entries(files).map(([name, file]) =>
    `${JSON.stringify(name)}: function (module, exports, require, process) {\n${readFileSync(file, 'utf8')}\n}`).join(',\n');
  const script = `(() => {
const defs = {${defs}};
const cache = {};
const process = { env: { NODE_ENV: 'production' } };
function require(name) {
  if (!cache[name]) {
    if (!defs[name]) throw new Error('react bundle: no module ' + name);
    const module = { exports: {} };
    cache[name] = module;
    defs[name](module, module.exports, require, process);
  }
  return cache[name].exports;
}
window.React = require('react');
window.ReactDOMClient = require('react-dom/client');
})();
`;
  return { script, versions };
}
