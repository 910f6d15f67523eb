// demo-helpers.mjs - shared by the demo page's browser tests: a server with the synthetic test
// weights as the site's weights, a fresh Chromium profile, waiting for the page's states and
// counters, screenshots, axe-core, and checks of PNG and ZIP files.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { root, testWeights } from '../js/helpers.mjs';
import { startServer } from '../../tools/release/serve.mjs';
import { blockForeign, CHROMIUM, CHROMIUM_ARGS, TEST_MOUNTS } from './browser.mjs';

export const weights = testWeights(1);
export const shots = `${root}test-output/browser`;
mkdirSync(shots, { recursive: true });
export const T = 120000;
export const PROJECTOR = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** A folder holding the test weights as xception.gcw (the site's weights). */
export function goodWeightsDir(tmp) {
  const dir = join(tmp, 'good');
  mkdirSync(dir, { recursive: true });
  symlinkSync(weights.f16, join(dir, 'xception.gcw'));
  return dir;
}

/** Serve the repository with `weightsDir` as /weights/, and open a fresh Chromium profile. */
export async function openDemo({ weightsDir, isolation = true, viewport = PROJECTOR, args = [] }) {
  const server = await startServer({ port: 0, isolation, mounts: { ...TEST_MOUNTS, '/weights/': weightsDir } });
  const profile = mkdtempSync(join(tmpdir(), 'gradcam-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...args], viewport, acceptDownloads: true,
  });
  const origin = new URL(server.url).origin;
  const requests = [];
  const foreign = [];
  await blockForeign(context, origin, foreign);
  context.on('request', (r) => requests.push(r.url()));
  await context.addInitScript(() => {
    window.__statuses = [];
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    new MutationObserver(() => {
      const s = document.getElementById('status');
      if (s && window.__statuses.at(-1) !== s.textContent) window.__statuses.push(s.textContent);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  const page = context.pages()[0] || await context.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  return {
    server, url: server.url, origin, context, page, requests, foreign, consoleLines,
    async close() {
      await context.close().catch(() => {});
      await server.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export const state = (page, states, timeout = T) => page.waitForFunction((s) => s.includes(document.body.dataset.state), states, { timeout });
export const counter = (page, name) => page.evaluate((n) => Number(document.body.dataset[n] || 0), name);

/** Run `action` and wait until the page counted one more `name` (explained, compared ...). */
export async function andWait(page, name, action, { final = name === 'explained' || name === 'classified' ? name : null } = {}) {
  const n = await counter(page, name);
  await action();
  await page.waitForFunction(([k, n0, f]) => Number(document.body.dataset[k] || 0) > n0 && (!f || document.body.dataset.state === f),
    [name, n, final], { timeout: T });
}

export const shot = (page, name) => page.screenshot({ path: `${shots}/demo-${name}.png` });

/** The demo (no service worker) with the test weights, ready, and a sample photo explained. */
export async function demoWithPhoto(weightsDir, sample) {
  const b = await openDemo({ weightsDir });
  await b.page.goto(`${b.url}/web/demo/?nosw`);
  await state(b.page, ['ready']);
  await andWait(b.page, 'explained', () => b.page.click(`#samples button[data-sample="${sample}"]`));
  return b;
}

/** Screenshots of a view at 1280x800 and 390x844, axe-core on both, and no sideways scrolling
 *  on the phone. */
export async function look(page, name, { fullPage = false } = {}) {
  await page.screenshot({ path: `${shots}/demo-1280-${name}.png`, fullPage });
  assert.deepEqual(await axe(page), [], `${name} at 1280x800`);
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: `${shots}/demo-390-${name}.png` });
  assert.deepEqual(await axe(page), [], `${name} at 390x844`);
  const f = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: innerWidth }));
  assert.ok(f.scroll <= f.inner, `${name} at 390: ${f.scroll} > ${f.inner}`);
  await page.setViewportSize(PROJECTOR);
}

/** axe-core on the page as it is: its violations as "rule: target" lines. The page's CSP
 *  forbids injected scripts, so axe is evaluated through the DevTools protocol. */
const AXE = readFileSync(`${root}node_modules/axe-core/axe.min.js`, 'utf8');
export async function axe(page) {
  if (!await page.evaluate(() => typeof window.axe === 'object')) await page.evaluate(AXE);
  const r = await page.evaluate(async () => {
    const res = await window.axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 4).join(', ')}`);
  });
  return r;
}

/** The page's canvas pixels against ImageData-like {width, height, data}: {bytes, differing}. */
export const canvasVs = (page, id, im) => page.evaluate(([cid, w, h, data]) => {
  const c = document.getElementById(cid);
  if (c.width !== w || c.height !== h) return { size: `${c.width}x${c.height} vs ${w}x${h}` };
  const d = c.getContext('2d').getImageData(0, 0, w, h).data;
  let n = 0;
  for (let i = 0; i < d.length; i++) if (d[i] !== data[i]) n++;
  return { bytes: d.length, differing: n };
}, [id, im.width, im.height, Array.from(im.data)]);

/** Check a PNG file: signature, chunk CRCs, IHDR, and that IDAT inflates to the right size. */
export function checkPng(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'PNG signature');
  let off = 8;
  let ihdr = null;
  const idat = [];
  for (;;) {
    const len = bytes.readUInt32BE(off);
    const type = bytes.toString('latin1', off + 4, off + 8);
    const body = bytes.subarray(off + 8, off + 8 + len);
    assert.equal(bytes.readUInt32BE(off + 8 + len), crc32(bytes.subarray(off + 4, off + 8 + len)), `CRC of ${type}`);
    if (type === 'IHDR') ihdr = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), depth: body[8], color: body[9] };
    if (type === 'IDAT') idat.push(body);
    off += 12 + len;
    if (type === 'IEND') break;
  }
  assert.ok(ihdr, 'IHDR');
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[ihdr.color];
  assert.ok(channels && ihdr.depth === 8, `8-bit colour type ${ihdr.color}`);
  assert.equal(inflateSync(Buffer.concat(idat)).length, ihdr.height * (1 + ihdr.width * channels), 'pixel data size');
  return ihdr;
}

const CRC = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
export function crc32(buf) { let c = 0xffffffff; for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; }

/** Read a ZIP from its central directory: [{name, method, data}], checking each entry's CRC and sizes. */
export function readZip(buf) {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0, 'end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = [];
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, 'central directory entry');
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extra = buf.readUInt16LE(p + 30);
    const comment = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    assert.equal(buf.readUInt32LE(local), 0x04034b50, `local header of ${name}`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + size);
    assert.equal(crc32(data), crc, `CRC of ${name}`);
    out.push({ name, method, data });
    p += 46 + nameLen + extra + comment;
  }
  return out;
}

/** Save a download the page offers when `action` runs: {name, bytes}. */
export async function download(page, action) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: T }), action()]);
  return { name: dl.suggestedFilename(), bytes: readFileSync(await dl.path()) };
}
