// demo-offline.test.mjs - the demo page offline at the addresses people use, with the server
// process really stopped (the browser's offline switch is not used: a service worker would
// still reach the network through it):
// - `npm start` (tools/release/serve.mjs as its own process): the address it prints, the site's root;
//   after one visit (weights picked in the page and kept), the server process is killed and
//   the root address reloads to the styled page, which explains again;
// - `npm run site` served by a plain static server process (tests/browser/static-server.mjs:
//   no special header) at its root: after one visit, the server is killed and the root
//   reloads and explains again.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { root } from '../js/helpers.mjs';
import { buildSite } from '../../tools/release/site.mjs';
import { blockForeign, CHROMIUM, CHROMIUM_ARGS } from './browser.mjs';
import { andWait, PROJECTOR, shots, state, T, weights } from './demo-helpers.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'gradcam-offline-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Start a server process; resolves to {proc, url} once it prints an http address. */
function startProcess(args, pattern) {
  const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d) => {
      out += d;
      const m = pattern.exec(out);
      if (m) { proc.stdout.off('data', onData); resolve({ proc, url: m[1] }); }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (d) => { out += d; });
    proc.on('exit', (code) => reject(new Error(`server exited (${code}) before it listened: ${out}`)));
  });
}

/** Stop the server process and wait until it is gone. */
const kill = (proc) => new Promise((resolve) => {
  if (proc.exitCode !== null || proc.signalCode !== null) { resolve(); return; }
  proc.removeAllListeners('exit');
  proc.once('exit', resolve);
  proc.kill('SIGKILL');
});

async function browser(origin) {
  const profile = mkdtempSync(join(tmp, 'profile-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: PROJECTOR });
  const foreign = [];
  await blockForeign(context, origin, foreign);
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, foreign, errors };
}

/** The page is styled (demo.css loaded) and its modules ran. */
const styled = (page) => page.evaluate(() => ({
  h1: getComputedStyle(document.querySelector('h1')).color,
  tabs: getComputedStyle(document.getElementById('view-tabs')).display,
  path: location.pathname,
}));

/** After one visit: kill the server process, open `url` again, and explain a sample there. */
async function offlineAgain(b, server, url, path) {
  const { page } = b;
  await page.waitForFunction(() => document.body.dataset.offline === 'ready', null, { timeout: T });
  await kill(server.proc);
  await page.goto(url);
  await state(page, ['ready']);
  assert.deepEqual(await styled(page), { h1: 'rgb(29, 53, 87)', tabs: 'flex', path });
  assert.match(await page.textContent('#weights-state'), /kept in this browser/);
  await andWait(page, 'explained', () => page.click('#samples button[data-sample="cat-and-dog"]'));
  assert.equal(await page.evaluate(() => window.demo.result.overlay.width), 224);
  assert.deepEqual(b.foreign, []);
  assert.deepEqual(b.errors, []);
  await page.screenshot({ path: `${shots}/demo-1280-offline${path === '/' ? '-site' : '-npm-start'}.png` });
}

/** One case: start the server process, visit its root address, `firstVisit`, then offline. */
function offlineCase(title, { args, pattern, firstVisit, path }) {
  describe(title, () => {
    let server;
    let b;
    after(async () => {
      if (server) await kill(server.proc);
      await b?.context.close();
    });

    test('after one visit, with the server process stopped, the root address reloads and explains', async () => {
      server = await startProcess(args(), pattern);
      b = await browser(new URL(server.url).origin);
      await b.page.goto(server.url);
      await firstVisit(b.page);
      await offlineAgain(b, server, server.url, path);
    });
  });
}

offlineCase('offline at the address `npm start` prints', {
  args: () => ['tools/release/serve.mjs', '--no-build', '--port', '0'],
  pattern: /demo: (http:\/\/127\.0\.0\.1:\d+\/)/,
  path: '/web/demo/',
  async firstVisit(page) {
    await state(page, ['no-weights', 'ready']);
    if (await page.evaluate(() => document.body.dataset.state) === 'no-weights') {
      await page.setInputFiles('#weights-file', weights.f16); // kept in this browser, as a person would
      await state(page, ['ready']);
    }
    await andWait(page, 'explained', () => page.click('#samples button[data-sample="coffee"]'));
  },
});

offlineCase('offline: `npm run site` on a plain static server, at its root', {
  args: () => ['tests/browser/static-server.mjs', buildSite({ out: join(tmp, 'site'), weights: weights.f16 }).out],
  pattern: /listening (http:\/\/127\.0\.0\.1:\d+\/)/,
  path: '/',
  async firstVisit(page) {
    await state(page, ['ready']);
    assert.match(await page.textContent('#mode'), /^Single thread/);
    await andWait(page, 'explained', () => page.click('#samples button[data-sample="eagle"]'));
  },
});
