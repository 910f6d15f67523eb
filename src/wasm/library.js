// library.js - JavaScript functions the WebAssembly core imports (linked with --js-library).
mergeInto(LibraryManager.library, {
  // Progress of long calls: Module.gradcamProgress(done, total) (web/core.js sets it for the
  // duration of one call) returns true to cancel.
  gcw_js_progress: function (done, total) {
    return Module['gradcamProgress'] ? (Module['gradcamProgress'](done, total) ? 1 : 0) : 0;
  },
  // Bytes [offset, offset + size) of the weights file of a model that freed its copy
  // (gcw_release_weights) into dst: Module.gradcamFiles.get(model), kept by web/core.js.
  // 0 on success, 1 when the file is gone (a detached buffer) or shorter.
  gcw_js_read_weights: function (model, offset, dst, size) {
    const f = Module['gradcamFiles'] && Module['gradcamFiles'].get(model);
    if (!f || offset + size > f.byteLength) return 1;
    HEAPU8.set(f.subarray(offset, offset + size), dst);
    return 0;
  },
});
