/* fuzz_h5.c - the CLI's Keras HDF5 reader (src/cli/h5.c) on file images in memory:
 * gc_h5_convert_memory opens the bytes with libhdf5's core driver, reads layer_names,
 * weight_names and the datasets, and hands them to the converter. libhdf5 itself is Debian's
 * (uninstrumented); a crash inside it is reported as such, not fixed here. */
#include "fuzz.h"
#include "internal.h"
#include "cli/h5.h"

#include <hdf5.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[GC_ERRBUF_SIZE];
  err[0] = 0;
  void *bytes = NULL;
  size_t out = 0;
  gc_status s = gc_h5_convert_memory(data, size, GC_DTYPE_F16, &bytes, &out, err, sizeof err);
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
  /* every file, group, dataset, attribute, type and space the reader opened is closed */
  ssize_t open_ids = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  FUZZ_CHECK(open_ids == 0, "%zd HDF5 objects left open", open_ids);
  return 0;
}
