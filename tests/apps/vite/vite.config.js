// The fixture's Vite configuration: the package's plugin (COOP/COEP headers from `vite dev` and
// `vite preview`), nothing else.
import gradcam from 'xception-gradcam/vite';

export default { plugins: [gradcam()] };
