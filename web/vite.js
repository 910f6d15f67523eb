// vite.js - `import gradcam from 'xception-gradcam/vite'`, a Vite plugin for apps that use the
// package: `plugins: [gradcam()]` in vite.config.js. It only sends the two headers that make the
// page cross-origin isolated, from `vite dev` and `vite preview`, so GradCam.load() takes a
// threaded build. Nothing else is needed for Vite: the package's worker and WebAssembly files are
// found by `new URL(..., import.meta.url)` literals (builds.js) that Vite follows in dev and build.
// (A production host must send the same headers itself: see the package's README.)

/** The headers of a cross-origin isolated page. */
export const ISOLATION_HEADERS = Object.freeze({
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
});

/** The plugin: server.headers and preview.headers (merged with the app's own). */
export function gradcam() {
  return {
    name: 'xception-gradcam',
    config() {
      return { server: { headers: { ...ISOLATION_HEADERS } }, preview: { headers: { ...ISOLATION_HEADERS } } };
    },
  };
}

export default gradcam;
