/* fuzz.h - helpers shared by the libFuzzer targets of tests/fuzz.
 *
 * A target defines LLVMFuzzerTestOneInput; it is linked either with libFuzzer
 * (-fsanitize=fuzzer, build/fuzz) or with replay.c (the sanitizer build, build/asan), which
 * feeds it the files of tests/fuzz/regressions/<target>/ as a ctest test.
 * FUZZ_CHECK aborts (a crash the fuzzer reports) when the library breaks its contract:
 * statuses outside the enum, missing error messages, results that contradict the status.
 */
#ifndef GRADCAM_FUZZ_H
#define GRADCAM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcam.h"
#include "internal.h"

#define FUZZ_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "FUZZ_CHECK failed %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* a status is one of the enum's values and has a name */
#define FUZZ_STATUS_OK(s) \
  FUZZ_CHECK((int)(s) >= 0 && (s) < GC_STATUS_COUNT, "status %d out of range", (int)(s))

/* an error buffer is NUL-terminated within its size */
#define FUZZ_ERRBUF_OK(buf) FUZZ_CHECK(memchr((buf), 0, sizeof(buf)) != NULL, "unterminated error message")

/* the tensors of a parsed .gcw (a v2 file's model and class names are entries of another dtype) */
static inline int fuzz_tensor_count(const gc_weights *w) {
  int n = 0;
  for (uint32_t i = 0; i < w->count; i++) n += w->entries[i].dtype == GC_DTYPE_F32 || w->entries[i].dtype == GC_DTYPE_F16;
  return n;
}

/* Reads structured values from the fuzz input; past the end everything reads as 0. */
typedef struct fuzz_reader {
  const uint8_t *p;
  size_t n;
} fuzz_reader;

static inline uint8_t fuzz_u8(fuzz_reader *r) {
  if (!r->n) return 0;
  r->n--;
  return *r->p++;
}
static inline uint16_t fuzz_u16(fuzz_reader *r) { return (uint16_t)(fuzz_u8(r) | fuzz_u8(r) << 8); }
static inline uint32_t fuzz_u32(fuzz_reader *r) { return (uint32_t)fuzz_u16(r) | (uint32_t)fuzz_u16(r) << 16; }
/* a string of at most cap-1 bytes: a length byte then the bytes */
static inline void fuzz_str(fuzz_reader *r, char *out, size_t cap) {
  size_t len = fuzz_u8(r);
  if (len > cap - 1) len = cap - 1;
  if (len > r->n) len = r->n;
  memcpy(out, r->p, len);
  out[len] = 0;
  r->p += len;
  r->n -= len;
}

#endif
