/* Native stand-in for Emscripten's header: lets tests/fuzz compile src/wasm/exports.c (the
 * WebAssembly boundary) natively to fuzz the requests the JavaScript side sends through it. */
#ifndef GRADCAM_FUZZ_EMSCRIPTEN_STUB_H
#define GRADCAM_FUZZ_EMSCRIPTEN_STUB_H
#define EMSCRIPTEN_KEEPALIVE
/* a JavaScript function (the progress hook): natively it never asks to stop */
#define EM_JS(ret, name, params, ...) \
  static ret name params { return 0; }
#endif
