/* bytes.h - builds byte images for the reader tests (test_h5.c, test_zip.c): a growable buffer
 * with little-endian writers and patches, and deflate streams made by hand: stored blocks (raw or
 * wrapped in zlib's header and trailer) and a "bomb" of fixed-Huffman matches that inflates to
 * 258 bytes per 13 bits. Test code: aborts when out of memory. */
#ifndef GRADCAM_TEST_BYTES_H
#define GRADCAM_TEST_BYTES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bytes {
  uint8_t *b;
  size_t n, cap;
} bytes;

static inline size_t put(bytes *t, const void *p, size_t n) {
  if (n == 0) return t->n;
  if (t->n + n > t->cap) {
    t->cap = (t->n + n) * 2 + 64;
    t->b = realloc(t->b, t->cap);
    if (!t->b) abort();
  }
  if (p) memcpy(t->b + t->n, p, n);
  else memset(t->b + t->n, 0, n);
  t->n += n;
  return t->n - n;
}
static inline void set_le(bytes *t, size_t at, uint64_t v, int n) {
  for (int i = 0; i < n; i++) t->b[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}
static inline size_t put_le(bytes *t, uint64_t v, int n) {
  size_t at = put(t, NULL, (size_t)n);
  set_le(t, at, v, n);
  return at;
}
static inline size_t put_str(bytes *t, const char *s) { return put(t, s, strlen(s)); }
static inline void align8(bytes *t) {
  while (t->n % 8) put_le(t, 0, 1);
}
static inline uint64_t get_le(const bytes *t, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | t->b[at + (size_t)i];
  return v;
}

/* appends a whole file; 0 if it cannot be read */
static inline int put_file(bytes *t, const char *path) {
  FILE *in = fopen(path, "rb");
  if (!in) return 0;
  uint8_t buf[1 << 14];
  for (size_t n; (n = fread(buf, 1, sizeof buf, in)) > 0;) put(t, buf, n);
  const int ok = !ferror(in);
  fclose(in);
  return ok;
}

/* raw deflate of `data` in stored blocks (no compression) */
static inline void deflate_stored(bytes *t, const uint8_t *data, size_t n) {
  size_t at = 0;
  do {
    size_t len = n - at > 65535 ? 65535 : n - at;
    put_le(t, at + len == n ? 1 : 0, 1); /* BFINAL, BTYPE 00 */
    put_le(t, len, 2);
    put_le(t, ~len & 0xffff, 2);
    put(t, data + at, len);
    at += len;
  } while (at < n);
}

/* a zlib stream: header, stored blocks, Adler-32 */
static inline void zlib_stored(bytes *t, const uint8_t *data, size_t n) {
  put_le(t, 0x0178, 2); /* 78 01: deflate, 32K window, no dictionary */
  deflate_stored(t, data, n);
  uint32_t a = 1, b = 0;
  for (size_t i = 0; i < n; i++) a = (a + data[i]) % 65521, b = (b + a) % 65521;
  put_le(t, (uint64_t)(b >> 8 & 0xff) | (uint64_t)(b & 0xff) << 8 | (uint64_t)(a >> 8 & 0xff) << 16 |
               (uint64_t)(a & 0xff) << 24, 4); /* big-endian */
}

typedef struct bitw {
  bytes *t;
  uint32_t acc;
  int n;
} bitw;
static inline void bits(bitw *w, uint32_t v, int n) { /* LSB first */
  for (int i = 0; i < n; i++) {
    w->acc |= ((v >> i) & 1u) << w->n;
    if (++w->n == 8) put_le(w->t, w->acc, 1), w->acc = 0, w->n = 0;
  }
}
static inline void huff(bitw *w, uint32_t code, int n) { /* Huffman codes go MSB first */
  for (int i = n - 1; i >= 0; i--) bits(w, (code >> i) & 1u, 1);
}

/* raw deflate: one zero byte, then `matches` copies of 258 bytes at distance 1 (fixed Huffman) */
static inline void deflate_bomb(bytes *t, int matches) {
  bitw w = {t, 0, 0};
  bits(&w, 1, 1); /* BFINAL */
  bits(&w, 1, 2); /* BTYPE 01: fixed codes */
  huff(&w, 0x30, 8); /* literal 0 */
  for (int i = 0; i < matches; i++) {
    huff(&w, 0xc5, 8); /* length symbol 285: 258 bytes */
    huff(&w, 0, 5);    /* distance symbol 0: distance 1 */
  }
  huff(&w, 0, 7); /* end of block */
  if (w.n) put_le(t, w.acc, 1);
}

static inline void zlib_bomb(bytes *t, int matches) {
  put_le(t, 0x0178, 2);
  deflate_bomb(t, matches);
  put_le(t, 0, 4); /* an Adler-32 (not checked by the decoder) */
}

#endif
