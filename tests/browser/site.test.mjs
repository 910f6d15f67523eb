// site.test.mjs - the static site that `npm run site` writes (tools/release/site.mjs), served the way
// ordinary static hosting serves files: no COOP/COEP, no Content-Security-Policy header, no
// Service-Worker-Allowed, and from a sub-folder of the host (/classroom/), in headless Chromium:
// - with weights in the site: it loads in single-thread mode, explains a sample, and its service
//   worker controls the whole site; with the server stopped and the browser offline, a reload
//   explains again;
// - without weights: the page says what to do, and a picked Keras .h5 is converted in the page
//   converted by the core's import in the page;
// - every request stays on the page's origin.
process.env.PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS = '1';

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { testWeights } from '../js/helpers.mjs';
import { startServer } from '../../tools/release/serve.mjs';
import { buildSite } from '../../tools/release/site.mjs';
import { blockForeign, CHROMIUM, CHROMIUM_ARGS } from './browser.mjs';

const T = 120000;
const weights = testWeights(1);
const tmp = mkdtempSync(join(tmpdir(), 'gradcam-site-'));
const state = (page, states) => page.waitForFunction((s) => s.includes(document.body.dataset.state), states, { timeout: T });

/** Serve `dir` plainly under /classroom/ and open a fresh Chromium profile on it. */
async function open(dir) {
  const server = await startServer({ port: 0, plain: true, mounts: { '/classroom/': dir } });
  const profile = mkdtempSync(join(tmp, 'profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 720 },
  });
  const origin = new URL(server.url).origin;
  const foreign = [];
  const responses = [];
  await blockForeign(context, origin, foreign);
  context.on('response', (r) => responses.push(r));
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return {
    server, url: `${server.url}/classroom/`, context, page, foreign, responses, errors,
    async close() {
      await context.close().catch(() => {});
      await server.close().catch(() => {});
    },
  };
}

/** Click a sample photo and wait for its explanation. */
async function explainSample(page, sample) {
  const n = await page.evaluate(() => Number(document.body.dataset.explained || 0));
  await page.click(`#samples button[data-sample="${sample}"]`);
  await page.waitForFunction((n0) => Number(document.body.dataset.explained || 0) > n0 && document.body.dataset.state === 'explained', n, { timeout: T });
}

after(() => rmSync(tmp, { recursive: true, force: true }));

describe('static site with weights, plain hosting', () => {
  let b;
  before(async () => {
    const site = buildSite({ out: join(tmp, 'site'), weights: weights.f16 });
    assert.equal(site.weights, true);
    b = await open(site.out);
  });
  after(async () => { await b?.close(); });

  test('loads single-threaded, explains a sample, and its service worker covers the whole site', async () => {
    await b.page.goto(b.url);
    await state(b.page, ['ready', 'explained']);
    assert.match(await b.page.textContent('#mode'), /^Single thread/);
    assert.equal(await b.page.evaluate(() => crossOriginIsolated), false);
    await explainSample(b.page, 'coffee');
    assert.equal(await b.page.$$eval('#top5 li', (l) => l.length), 5);
    const r = await b.page.evaluate(() => ({ w: window.demo.result.overlay.width, method: window.demo.result.method }));
    assert.ok(r.w > 0, JSON.stringify(r));
    await b.page.waitForFunction(() => document.body.dataset.offline === 'ready', null, { timeout: T });
    const scope = await b.page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    assert.equal(scope, b.url);
    // plain hosting: none of the headers npm start adds were there
    const sw = b.responses.find((x) => x.url() === `${b.url}sw.js`);
    assert.ok(sw, 'sw.js was fetched');
    const h = await sw.allHeaders();
    for (const k of ['service-worker-allowed', 'cross-origin-opener-policy', 'cross-origin-embedder-policy', 'content-security-policy']) {
      assert.equal(h[k], undefined, `${k} sent`);
    }
  });

  test('offline: with the server stopped, a reload explains again', async () => {
    await b.server.close();
    await b.context.setOffline(true);
    await b.page.reload();
    await state(b.page, ['ready', 'explained']);
    assert.match(await b.page.textContent('#weights-state'), /kept in this browser/);
    await explainSample(b.page, 'cat-and-dog');
    assert.equal(await b.page.evaluate(() => window.demo.result.overlay.width), 224);
    await b.context.setOffline(false);
  });

  test('every request stayed on the page\'s origin; no page errors', () => {
    assert.deepEqual(b.foreign, []);
    assert.deepEqual(b.errors, []);
  });
});

describe('static site without weights, plain hosting', () => {
  let b;
  before(async () => {
    const site = buildSite({ out: join(tmp, 'site-bare'), weights: null });
    assert.equal(site.weights, false);
    b = await open(site.out);
  });
  after(async () => { await b?.close(); });

  test('says how to get weights; a picked Keras .h5 is converted in the page', async () => {
    await b.page.goto(`${b.url}?nosw`);
    await state(b.page, ['no-weights']);
    assert.match(await b.page.textContent('#weights-box'), /npm run weights/);
    await b.page.setInputFiles('#weights-file', weights.h5);
    await state(b.page, ['ready', 'explained']);
    assert.match(await b.page.textContent('#weights-state'), /xception-seed1\.h5, converted from Keras 2 weights-only HDF5 .* in this page/);
    await explainSample(b.page, 'eagle');
    assert.deepEqual(b.foreign, []);
    assert.deepEqual(b.errors, []);
  });
});
