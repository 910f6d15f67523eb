/* fuzz_zip.c - the project's ZIP reader (src/io/zip.c) on archive images: open, then list,
 * find and extract every entry (stored or deflated, CRC-32 checked), and walk the entries that
 * are HDF5 files with the HDF5 reader (tests/tools/h5walk.h), as a .keras file is read. Every
 * call must return a status of the enum, with a message when it fails; an extracted entry has
 * its declared size. Seeds: archives of JSON and HDF5 entries (tests/fuzz/seeds.c). */
#include "fuzz.h"

#include "../tools/h5walk.h"

static void check(gc_status s, const char *err, const char *what) {
  FUZZ_STATUS_OK(s);
  FUZZ_CHECK(memchr(err, 0, GC_ERRBUF_SIZE) != NULL, "%s: unterminated error message", what);
  FUZZ_CHECK(s != GC_ERR_INVALID_ARGUMENT, "%s: invalid argument on a valid call: %s", what, err);
  if (s != GC_OK) FUZZ_CHECK(err[0], "%s failed (%s) without a message", what, gc_status_to_string(s));
}

static void inconsistent(const char *what) { FUZZ_CHECK(0, "the reader contradicts itself: %s", what); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[GC_ERRBUF_SIZE];
  h5walk_opts o = {NULL, 0, 1, 16u << 20, 1000, check, inconsistent};
  if (!gc_zip_is_zip(data, size)) return 0; /* h5walk would read it as HDF5: fuzz_h5's job */
  FUZZ_STATUS_OK(h5walk_bytes(data, size, &o, err, sizeof err));
  return 0;
}
