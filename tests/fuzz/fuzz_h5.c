/* fuzz_h5.c - the project's HDF5 reader (src/io/h5*.c) on file images: every group, attribute
 * and dataset is walked through the public calls (tests/tools/h5walk.h: open, children, exists,
 * open_path, kind_of, attr_names, has_attr, attr_strings, dataset_info_of, read_f32), once with
 * the checksums of v2 structures ignored (so that mutated structures behind them are reached)
 * and once verified. Every call must return a status of the enum, with a message that names the
 * object when it fails, and calls must agree with each other (a listed child exists).
 * Seeds: HDF5 files written by libhdf5 (tests/fuzz/seeds.c). */
#include "fuzz.h"

#include "../tools/h5walk.h"

static void check(gc_status s, const char *err, const char *what) {
  FUZZ_STATUS_OK(s);
  FUZZ_CHECK(memchr(err, 0, GC_ERRBUF_SIZE) != NULL, "%s: unterminated error message", what);
  FUZZ_CHECK(s != GC_ERR_INVALID_ARGUMENT, "%s: invalid argument on a valid call: %s", what, err);
  if (s == GC_OK) return;
  FUZZ_CHECK(err[0], "%s failed (%s) without a message", what, gc_status_to_string(s));
  if (s == GC_ERR_H5) /* the object read, or the part of the file */
    FUZZ_CHECK(err[0] == '\'' || !strncmp(err, "object at 0x", 12) || !strncmp(err, "the superblock", 14) ||
                   !strncmp(err, "not an HDF5 file", 16),
               "%s: the message names no object: %s", what, err);
}

static void inconsistent(const char *what) { FUZZ_CHECK(0, "the reader contradicts itself: %s", what); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[GC_ERRBUF_SIZE];
  for (int checksums = 0; checksums < 2; checksums++) {
    /* datasets up to 16 MB as float32 are read; at most 4000 objects */
    h5walk_opts o = {NULL, checksums, 1, 16u << 20, 4000, check, inconsistent};
    gc_status s = h5walk_hdf5(data, size, "", &o, err, sizeof err);
    FUZZ_STATUS_OK(s);
  }
  return 0;
}
