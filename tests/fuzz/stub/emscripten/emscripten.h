/* Native stand-in for Emscripten's header: lets tests/fuzz compile src/wasm/exports.c (the
 * WebAssembly boundary) natively to fuzz the requests the JavaScript side sends through it. */
#ifndef GRADCAM_FUZZ_EMSCRIPTEN_STUB_H
#define GRADCAM_FUZZ_EMSCRIPTEN_STUB_H
#include <stddef.h>
#define EMSCRIPTEN_KEEPALIVE
/* src/wasm/library.js's progress hook: natively it never asks to stop */
static inline int gcw_js_progress_stub(int done, int total) { return (void)done, (void)total, 0; }
#define gcw_js_progress gcw_js_progress_stub
/* src/wasm/library.js's weights reader: natively there is no page holding the file (a model
 * that gave up its copy then fails the call with GC_ERR_IO) */
struct gc_model;
static inline int gcw_js_read_weights_stub(struct gc_model *m, double offset, void *dst, size_t size) {
  return (void)m, (void)offset, (void)dst, (void)size, 1;
}
#define gcw_js_read_weights gcw_js_read_weights_stub
#endif
