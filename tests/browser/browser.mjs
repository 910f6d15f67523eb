// browser.mjs - shared by the browser tests: a headless Debian Chromium (driven by
// playwright-core, never a downloaded browser) on a page served by tools/release/serve.mjs on
// 127.0.0.1, every request recorded and anything not for that origin refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { blockForeign, CHROMIUM, CHROMIUM_ARGS } from '../../tools/test/chromium.mjs';
import { DEFAULT_MOUNTS, startServer } from '../../tools/release/serve.mjs';

export { blockForeign, CHROMIUM, CHROMIUM_ARGS } from '../../tools/test/chromium.mjs';

export const TEST_MOUNTS = { ...DEFAULT_MOUNTS, '/test-data/': 'build/test-data', '/tests/browser/': 'tests/browser' };

/**
 * Serve (with or without COOP/COEP) and open a fresh Chromium profile.
 * @returns {Promise<{url, context, page, requests: string[], foreign: string[], consoleLines: {type, text}[], close}>}
 */
export async function openBrowser({ isolation = true, mounts = TEST_MOUNTS, path = '/tests/browser/harness.html', server: other } = {}) {
  // `server`: {url} of a server started elsewhere (a bundler's dev server) instead of ours
  const server = other ? { url: other.url, close: async () => {} } : await startServer({ port: 0, isolation, mounts });
  const profile = mkdtempSync(join(tmpdir(), 'gradcam-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 720 },
  });
  const requests = [];
  const foreign = [];
  const origin = new URL(server.url).origin;
  await blockForeign(context, origin, foreign);
  context.on('request', (r) => requests.push(r.url()));
  const page = context.pages()[0] || await context.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => consoleLines.push({ type: 'pageerror', text: e.message }));
  if (path) {
    await page.goto(server.url + path);
    if (path.startsWith('/tests/browser/harness.html')) {
      await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 30000 });
      const err = await page.evaluate(() => window.loadError);
      if (err) throw new Error(`the package did not import: ${err}`);
    }
  }
  return {
    url: server.url, origin, context, page, requests, foreign, consoleLines,
    async close() {
      await context.close().catch(() => {});
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
