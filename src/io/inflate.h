/* inflate.h - the DEFLATE decoder the project already compiles (stb_image's zlib decoder, in
 * src/image.c, with the fuzzing fixes of cmake/stb-fixes.cmake), for the HDF5 deflate filter
 * and ZIP entries. One decoder in the build, not a second copy. Not public. */
#ifndef GRADCAM_IO_INFLATE_H
#define GRADCAM_IO_INFLATE_H

#include <stddef.h>
#include <stdint.h>

typedef enum gc_inflate_result {
  GC_INFLATE_OK = 0,      /* the stream ended; *produced bytes were written */
  GC_INFLATE_TOO_LONG,    /* the stream holds more than out_len bytes (a deflate bomb) */
  GC_INFLATE_CORRUPT,     /* the stream is damaged or truncated; *why says how (stb's words) */
  GC_INFLATE_TOO_LARGE    /* in_len or out_len over INT_MAX: stb counts in int */
} gc_inflate_result;

/* Decode `in` into out[0..out_len). zlib = 1: a zlib stream (RFC 1950: two header bytes, as
 * HDF5's deflate filter writes; the Adler-32 trailer is not checked); zlib = 0: raw deflate (RFC
 * 1951, ZIP method 8). Never writes past out_len; `out` may be NULL only when out_len is 0. */
gc_inflate_result gc_inflate(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len, int zlib,
                             size_t *produced, const char **why);

#endif
