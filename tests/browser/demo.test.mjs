// demo.test.mjs - the starting demo page (web/demo) in Chromium: with weights it classifies a
// sample photo and shows the native CLI's top 5; without weights it says how to get them
// (`npm run weights`) and takes a picked weights file; a non-image file shows a readable error
// and the page stays usable. Screenshots go to test-output/ (git-ignored) for people to look at.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cli, imagesDir, root, testWeights } from '../js/helpers.mjs';
import { openBrowser } from './browser.mjs';

const weights = testWeights(1);
const f16url = `/test-data/${weights.f16.split('/').pop()}`;
const shots = `${root}test-output/browser`;
mkdirSync(shots, { recursive: true });

const nativeTop = (image) => {
  const r = cli(['predict', '--weights', weights.f16, '--image', `${imagesDir}/${image}`, '--json'], { json: true });
  assert.equal(r.status, 0, r.stderr);
  return r.json.top.map((t) => t.index);
};

let b;
before(async () => { b = await openBrowser({ isolation: true, path: null }); });
after(async () => { await b?.close(); });

const state = (page, states) => page.waitForFunction((s) => s.includes(document.body.dataset.state), states, { timeout: 60000 });
const shownTop = (page) => page.$$eval('#top5 li', (lis) => lis.map((li) => Number(li.dataset.index)));

test('demo with weights: a sample photo shows the top 5 of the native CLI', async () => {
  const { page } = b;
  await page.goto(`${b.url}/web/demo/?weights=${f16url}`);
  await state(page, ['ready']);
  assert.match(await page.textContent('#mode'), /2 threads|threads/);
  await page.click('#samples button:has-text("cat")');
  await state(page, ['classified']);
  assert.deepEqual(await shownTop(page), nativeTop('skimage_chelsea.png'));
  assert.match(await page.textContent('#timings'), /forward pass \d+ ms/);
  await page.screenshot({ path: `${shots}/demo-classified.png`, fullPage: true });
});

test('demo without weights: explains `npm run weights`, accepts a picked file, reports a non-image', async () => {
  const { page } = b;
  await page.goto(`${b.url}/web/demo/?weights=/test-data/no-such-file.gcw`);
  await state(page, ['no-weights']);
  assert.equal(await page.isVisible('#weights-box'), true);
  assert.match(await page.textContent('#weights-box'), /npm run weights/);
  await page.screenshot({ path: `${shots}/demo-no-weights.png`, fullPage: true });
  await page.setInputFiles('#weights-file', weights.f16);
  await state(page, ['ready']);
  assert.equal(await page.isVisible('#weights-box'), false);
  writeFileSync(`${shots}/not-an-image.png`, 'this is text, not a PNG');
  await page.setInputFiles('#image-file', `${shots}/not-an-image.png`);
  await state(page, ['error']);
  assert.match(await page.textContent('#error'), /IMAGE_INVALID/);
  await page.screenshot({ path: `${shots}/demo-bad-image.png`, fullPage: true });
  await page.setInputFiles('#image-file', `${imagesDir}/skimage_coffee.png`);
  await state(page, ['classified']);
  assert.equal(await page.isVisible('#error'), false);
  assert.deepEqual(await shownTop(page), nativeTop('skimage_coffee.png'));
  assert.deepEqual(b.foreign, []);
});
