/* h5walk - print every group, attribute and dataset of an HDF5 file, or of the HDF5 entries of a
 * ZIP archive (.keras), as the project's readers read them (format: tests/tools/h5walk.h).
 * tests/tools/h5walk.py prints the same through h5py; tests/js/h5-reader.test.mjs compares them.
 *
 * usage: h5walk [--bench] FILE
 *   --bench: also time reading every float dataset (to stderr: milliseconds, datasets, bytes) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../c/bytes.h"
#include "h5walk.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

int main(int argc, char **argv) {
  int bench = argc == 3 && !strcmp(argv[1], "--bench");
  if (argc != 2 + bench) {
    fprintf(stderr, "usage: h5walk [--bench] FILE\n");
    return 2;
  }
  const char *path = argv[1 + bench];
  bytes file = {0};
  if (!put_file(&file, path)) {
    fprintf(stderr, "h5walk: cannot read %s\n", path);
    return 2;
  }
  const uint8_t *b = file.b;
  const long n = (long)file.n;
  h5walk_opts o = {stdout, 1, 0, 0, 0, NULL, NULL};
  char err[GC_ERRBUF_SIZE];
  double t0 = now_ms();
  gc_status s = h5walk_bytes(b, (size_t)n, &o, err, sizeof err);
  double t1 = now_ms();
  if (bench) { /* the walk again without printing: the readers' own time */
    o.out = NULL;
    t0 = now_ms();
    s = h5walk_bytes(b, (size_t)n, &o, err, sizeof err);
    t1 = now_ms();
    fprintf(stderr, "h5walk: %.1f ms to walk and read %s (%ld bytes)\n", t1 - t0, path, n);
  }
  free(file.b);
  return s == GC_OK ? 0 : 1;
}
