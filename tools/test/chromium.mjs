// chromium.mjs - how the project drives Debian's Chromium (benchmark and browser tests):
// the binary, its headless flags, and a route that keeps every request on the local server.

export const CHROMIUM = process.env.GRADCAM_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Let requests to `origin` (and blob:/data:) through; abort any other one and record it in `foreign`. */
export function blockForeign(context, origin, foreign) {
  return context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(`${origin}/`) || u.startsWith('blob:') || u.startsWith('data:')) return route.continue();
    foreign.push(u);
    return route.abort('blockedbyclient');
  });
}
