// tf-global.mjs - the benchmark page's stand-in for the bare specifier '@tensorflow/tfjs' (an
// import map points at it): the UMD bundles loaded by classic <script> tags (tf.min.js and
// tf-backend-wasm.min.js from node_modules) define globalThis.tf; the oracle model builder
// (tests/oracle/xception.mjs) imports it as a module, unchanged.
const tf = globalThis.tf;
if (!tf || !tf.layers) throw new Error('tf.min.js did not load before the benchmark modules');
export default tf;
export const {
  layers, input, model, tensor, tensor4d, setBackend, ready, getBackend, backend, tidy, grad, env,
} = tf;
