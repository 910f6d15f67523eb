/* fuzz_h5.c - Keras HDF5 files as the CLI and the browser read them: the bytes through the
 * import (gc_import_memory: recognition, the project's HDF5 reader src/io/h5.c, the Keras 1/2/3
 * layouts, matching) into a .gcw. The inputs of the old libhdf5-based reader's corpus (damaged
 * files that crashed or hung libhdf5) stay its regression inputs. */
#include "fuzz.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[GC_ERRBUF_SIZE];
  err[0] = 0;
  void *bytes = NULL;
  size_t out = 0;
  gc_status s = gc_import_memory(data, size, NULL, 0, GC_DTYPE_F16, &bytes, &out, err, sizeof err);
  FUZZ_STATUS_OK(s);
  FUZZ_ERRBUF_OK(err);
  FUZZ_CHECK((s == GC_OK) == (bytes != NULL), "status %d, bytes %p", (int)s, bytes);
  if (s != GC_OK) FUZZ_CHECK(err[0], "conversion failed (%d) without a message", (int)s);
  if (s == GC_OK) {
    gc_weights w;
    FUZZ_CHECK(gc_weights_parse(bytes, out, &w, err, sizeof err) == GC_OK, "output does not parse: %s", err);
    gc_weights_release(&w);
  }
  gc_free(bytes);
  return 0;
}
