// library.js - JavaScript functions the WebAssembly core imports (linked with --js-library).
mergeInto(LibraryManager.library, {
  // Progress of long calls: Module.gradcamProgress(done, total) (web/core.js sets it for the
  // duration of one call) returns true to cancel.
  gcw_js_progress: function (done, total) {
    return Module['gradcamProgress'] ? (Module['gradcamProgress'](done, total) ? 1 : 0) : 0;
  },
});
