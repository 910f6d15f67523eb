/* Native stand-in for Emscripten's header: lets tests/fuzz compile src/wasm/exports.c (the
 * WebAssembly boundary) natively to fuzz the requests the JavaScript side sends through it. */
#ifndef GRADCAM_FUZZ_EMSCRIPTEN_STUB_H
#define GRADCAM_FUZZ_EMSCRIPTEN_STUB_H
#define EMSCRIPTEN_KEEPALIVE
/* src/wasm/library.js's progress hook: natively it never asks to stop */
static inline int gcw_js_progress_stub(int done, int total) { return (void)done, (void)total, 0; }
#define gcw_js_progress gcw_js_progress_stub
#endif
