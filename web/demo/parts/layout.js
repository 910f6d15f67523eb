// layout.js - where the page's other files are: the npm package, the WebAssembly builds, the
// site's weights and the site's root, relative to the page. In the repository (npm
// start) they are outside web/demo/; `npm run site` writes a self-contained copy of the page
// with its own layout (tools/release/site.mjs rewrites the two lines marked "layout").
export { GradCam } from '../../index.js'; // layout: the package

export const LAYOUT = { wasm: '../../build/', weights: '../../weights/xception.gcw', root: '../../' }; // layout
