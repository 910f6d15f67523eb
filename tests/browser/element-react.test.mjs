// element-react.test.mjs - <xception-gradcam> inside a React 19 app (React.createElement, no
// JSX build; React's production CommonJS files wrapped into one script by element-helpers.mjs),
// served with COOP/COEP in headless Chromium. React 19 gives a custom element's props that the
// element has as properties as properties (the element reflects them to attributes), others as
// attributes, and listens to `on<event>` props as DOM events: `onresult`, `onready`, `onerror`
// (lower case: `onError` is React's own event). A re-render with another method explains
// again; one with another colormap only re-colours; unmounting disposes the shared instance.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, imagesDir, testWeights } from '../js/helpers.mjs';
import { openElementPage, reactScript } from './element-helpers.mjs';

const weights = testWeights(1);
const gcw = `/test-data/${weights.f32.split('/').pop()}`;
const work = mkdtempSync(join(tmpdir(), 'gradcam-element-react-'));
let b;
let page;
let versions;
const t0 = Date.now();

before(async () => {
  const r = reactScript();
  versions = r.versions;
  writeFileSync(join(work, 'react.js'), r.script);
  writeFileSync(join(work, 'index.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>element in React</title>
<script src="/app/react.js"></script>
<script type="module">
  import '/pkg/element.js';
  const h = React.createElement;
  window.reactEvents = [];
  const on = (type) => (e) => window.reactEvents.push({ type, detail: e.detail });
  function App({ method, colormap, classIndex, show }) {
    if (!show) return h('p', null, 'nothing');
    return h('main', null,
      h('h1', null, 'Why did it guess that?'),
      h('xception-gradcam', {
        id: 'r', weights: ${JSON.stringify(gcw)}, src: '/images/skimage_chelsea.png',
        method, colormap, classIndex, 'data-test': 'attr',
        onready: on('ready'), onresult: on('result'), onerror: on('error'),
      }));
  }
  const root = ReactDOMClient.createRoot(document.getElementById('root'));
  window.renderApp = (props) => root.render(h(App, props));
  window.renderApp({ method: 'gradcam', colormap: 'jet', show: true });
</script></head>
<body><div id="root"></div></body></html>
`);
  b = await openElementPage('/app/', work);
  page = b.page;
});
after(async () => {
  await b?.close();
  rmSync(work, { recursive: true, force: true });
  console.log(`  element in React ${versions?.react}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

/** Render the app with `props` and wait for the element's next result or error seen by React's handlers. */
const rerender = (props) => page.evaluate(async (p) => {
  const n = window.reactEvents.filter((e) => e.type !== 'ready').length;
  window.renderApp(p);
  const t = Date.now();
  while (window.reactEvents.filter((e) => e.type !== 'ready').length === n) {
    if (Date.now() - t > 60000) throw new Error('no result or error from React\'s handlers');
    await new Promise((res) => setTimeout(res, 20));
  }
  const e = window.reactEvents.filter((x) => x.type !== 'ready').at(-1);
  return { type: e.type, detail: { ...e.detail, timings: undefined } };
}, props);

test('React 19 renders the element: props as properties (reflected), events through on<event> props, top-1 the CLI\'s', async () => {
  await page.waitForFunction(() => window.reactEvents.some((e) => e.type === 'result' || e.type === 'error'), null, { timeout: 120000 });
  const r = await page.evaluate(() => {
    const el = document.getElementById('r');
    return {
      events: window.reactEvents.map((e) => ({ type: e.type, detail: e.type === 'ready' ? null : { ...e.detail, timings: undefined } })),
      attrs: Object.fromEntries(['weights', 'src', 'method', 'colormap', 'data-test', 'onresult'].map((a) => [a, el.getAttribute(a)])),
      upgraded: el instanceof customElements.get('xception-gradcam'),
      stats: window.overlayStats(el),
      workers: window.workerCount,
      react: React.version,
    };
  });
  assert.equal(r.react, versions.react, 'the pinned React');
  assert.equal(r.upgraded, true);
  assert.deepEqual(r.events.map((e) => e.type), ['ready', 'result'], JSON.stringify(r.events));
  // React set the element's own props as properties: the element reflected them
  assert.equal(r.attrs.method, 'gradcam');
  assert.equal(r.attrs.colormap, 'jet');
  assert.equal(r.attrs.src, '/images/skimage_chelsea.png');
  assert.equal(r.attrs['data-test'], 'attr', 'an unknown prop becomes an attribute');
  assert.equal(r.attrs.onresult, null, 'an on<event> function is a listener, not an attribute');
  const res = r.events[1].detail;
  const ref = cli(['predict', '--arithmetic', 'fma', '--weights', weights.f32, '--image', `${imagesDir}/skimage_chelsea.png`, '--json'], { json: true });
  assert.equal(ref.status, 0, ref.stderr);
  assert.equal(res.top[0].index, ref.json.top[0].index, 'top-1 equals the native CLI\'s');
  assert.deepEqual([res.method, res.kind, res.classIndex], ['gradcam', 'explain', ref.json.top[0].index]);
  assert.ok(r.stats.lit > r.stats.width * r.stats.height * 0.9 && r.stats.width === 451, 'the overlay is drawn');
  assert.equal(r.workers, 1);
});

test('a re-render with another method explains again; another colormap only re-colours; a bad method is an error event', async () => {
  await page.evaluate(() => { window.spy = window.spyCalls(document.getElementById('r').gradcam); });
  const m = await rerender({ method: 'layercam', colormap: 'jet', show: true });
  assert.equal(m.type, 'result', JSON.stringify(m.detail));
  assert.deepEqual([m.detail.method, m.detail.kind], ['layercam', 'explain']);
  let n = await page.evaluate(() => ({ ...window.spy }));
  assert.deepEqual([n.classify, n.explain], [0, 1], 'explained again, not classified');
  const c = await rerender({ method: 'layercam', colormap: 'turbo', show: true });
  assert.deepEqual([c.type, c.detail.kind, c.detail.colormap, c.detail.method], ['result', 'render', 'turbo', 'layercam']);
  n = await page.evaluate(() => ({ ...window.spy }));
  assert.deepEqual(n, { classify: 0, explain: 1, render: 1 }, 'the colormap change ran no network pass');
  const k = await rerender({ method: 'layercam', colormap: 'turbo', classIndex: 7, show: true });
  assert.deepEqual([k.type, k.detail.classIndex], ['result', 7], 'classIndex as a property');
  const bad = await rerender({ method: 'not-a-method', colormap: 'turbo', show: true });
  assert.deepEqual([bad.type, bad.detail.code], ['error', 'METHOD_UNKNOWN']);
  const back = await rerender({ method: 'gradcam', colormap: 'turbo', show: true });
  assert.deepEqual([back.type, back.detail.method], ['result', 'gradcam']);
});

test('unmounting the element disposes the shared instance', async () => {
  const r = await page.evaluate(async () => {
    const gc = document.getElementById('r').gradcam;
    window.renderApp({ show: false });
    await new Promise((res) => setTimeout(res, 200));
    return { gone: !document.getElementById('r'), state: await gc.memory().then(() => 'alive', (e) => e.code) };
  });
  assert.deepEqual(r, { gone: true, state: 'DISPOSED' });
  assert.deepEqual(b.consoleLines.filter((l) => l.type === 'pageerror' || l.type === 'error'), [], 'no page or console error');
  assert.deepEqual(b.foreign, []);
});
