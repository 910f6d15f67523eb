/* test_weights.c - the weights format: float16 conversion, round trips, and every kind of bad
 * file giving its own named status. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"
#include "synth.h"

static float bits_to_float(uint32_t b) {
  float f;
  memcpy(&f, &b, sizeof f);
  return f;
}

static void test_half(void) {
  /* reference bit patterns from the IEEE 754 binary16 definition */
  CHECK(gc_half_to_float(0x3c00) == 1.0f, "1.0");
  CHECK(gc_half_to_float(0xc000) == -2.0f, "-2.0");
  CHECK(gc_half_to_float(0x7bff) == 65504.0f, "max normal");
  CHECK(gc_half_to_float(0x0001) == ldexpf(1.0f, -24), "smallest subnormal");
  CHECK(gc_half_to_float(0x0400) == ldexpf(1.0f, -14), "smallest normal");
  CHECK(gc_half_to_float(0x3555) == 0.333251953125f, "1/3");
  CHECK(isinf(gc_half_to_float(0x7c00)), "inf");
  CHECK(isnan(gc_half_to_float(0x7e00)), "nan");
  CHECK(gc_float_to_half(1.0f) == 0x3c00, "1.0 -> %04x", gc_float_to_half(1.0f));
  CHECK(gc_float_to_half(65504.0f) == 0x7bff, "65504");
  CHECK(gc_float_to_half(65520.0f) == 0x7c00, "65520 overflows to inf");
  CHECK(gc_float_to_half(ldexpf(1.0f, -25)) == 0x0000, "half of the smallest subnormal ties to even 0");
  CHECK(gc_float_to_half(3 * ldexpf(1.0f, -25)) == 0x0002, "1.5 ulp ties to even 2");
  CHECK(gc_float_to_half(1.0f + ldexpf(1.0f, -11)) == 0x3c00, "tie rounds to even");
  CHECK(gc_float_to_half(1.0f + 3 * ldexpf(1.0f, -11)) == 0x3c02, "tie rounds to even (up)");
  CHECK(gc_float_to_half(bits_to_float(0x3f800001)) == 0x3c00, "just above 1 rounds down");
  CHECK(gc_float_to_half(-0.0f) == 0x8000, "-0");
  int bad = 0;
  for (uint32_t h = 0; h < 0x10000; h++) {
    float f = gc_half_to_float((uint16_t)h);
    if (isnan(f)) continue;
    if (gc_float_to_half(f) != h) bad++;
  }
  CHECK(bad == 0, "%d halves do not round-trip", bad);
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static gc_status load(const void *b, size_t n, char *err) {
  gc_model *m = NULL;
  gc_status s = gc_model_load_memory(b, n, NULL, &m, err, GC_ERRBUF_SIZE);
  CHECK((s == GC_OK) == (m != NULL), "model handle agrees with the status");
  gc_model_free(m);
  return s;
}

static void test_files(void) {
  synth w;
  CHECK(synth_make(&w, 7) == 0, "synthetic weights");
  void *b32 = NULL, *b16 = NULL;
  size_t n32 = 0, n16 = 0;
  CHECK_STATUS(synth_write(&w, GC_DTYPE_F32, &b32, &n32), GC_OK);
  CHECK_STATUS(synth_write(&w, GC_DTYPE_F16, &b16, &n16), GC_OK);
  CHECK(n16 < n32 * 0.51, "float16 file is about half the size (%zu vs %zu)", n16, n32);
  CHECK(n16 > 45000000 && n16 < 47000000, "float16 file is about 46 MB (%zu)", n16);

  /* a valid file parses and every tensor comes back unchanged (f32) or rounded (f16) */
  gc_weights pw;
  char err[GC_ERRBUF_SIZE] = "";
  CHECK_STATUS(gc_weights_parse(b32, n32, &pw, err, sizeof err), GC_OK);
  size_t params = 0;
  for (int i = 0; i < w.count; i++) params += gc_tensor_count(w.specs[i].ndim, w.specs[i].dims);
  CHECK(params == 22910480, "parameter count %zu", params);
  CHECK(pw.count == (uint32_t)w.count, "tensor count");
  float *t = NULL;
  CHECK_STATUS(gc_weights_get(&pw, w.specs[5].name, w.specs[5].ndim, w.specs[5].dims, &t, err, sizeof err), GC_OK);
  CHECK(t && !memcmp(t, w.data[5], gc_tensor_count(w.specs[5].ndim, w.specs[5].dims) * 4), "f32 exact");
  free(t);
  gc_weights_release(&pw);
  CHECK_STATUS(gc_weights_parse(b16, n16, &pw, err, sizeof err), GC_OK);
  CHECK_STATUS(gc_weights_get(&pw, w.specs[5].name, w.specs[5].ndim, w.specs[5].dims, &t, err, sizeof err), GC_OK);
  double maxrel = 0;
  for (size_t i = 0; t && i < gc_tensor_count(w.specs[5].ndim, w.specs[5].dims); i++) {
    /* half has 11 significant bits above 2^-14; below that the absolute step is 2^-24 */
    double r = fabs(t[i] - w.data[5][i]) / fmax(fabs(w.data[5][i]), ldexp(1.0, -14));
    if (r > maxrel) maxrel = r;
  }
  CHECK(maxrel <= 1.0 / 2048, "f16 rounding error %g", maxrel);
  free(t);
  gc_weights_release(&pw);

  /* whole model loads from both, and reports its parameter count */
  gc_model *m = NULL;
  CHECK_STATUS(gc_model_load_memory(b16, n16, NULL, &m, err, sizeof err), GC_OK);
  CHECK(gc_model_param_count(m) == 22910480, "model parameter count %zu", gc_model_param_count(m));
  gc_model_free(m);
  CHECK_STATUS(load(b32, n32, err), GC_OK);

  uint8_t *c = malloc(n32);
  /* zero-length, header-only and truncated files */
  CHECK_STATUS(load(b32, 0, err), GC_ERR_WEIGHTS_TRUNCATED);
  CHECK_STATUS(load(b32, 5, err), GC_ERR_WEIGHTS_TRUNCATED);
  CHECK_STATUS(load(b32, 40, err), GC_ERR_WEIGHTS_TRUNCATED);
  CHECK_STATUS(load(b32, n32 / 2, err), GC_ERR_WEIGHTS_TRUNCATED);
  CHECK(strstr(err, "bytes") != NULL, "truncation message names the sizes: %s", err);
  CHECK_STATUS(load(b32, n32 - 1, err), GC_ERR_WEIGHTS_TRUNCATED);
  /* wrong magic, and an HDF5 file handed over directly */
  memcpy(c, b32, n32);
  memcpy(c, "NOTMAGIC", 8);
  CHECK_STATUS(load(c, n32, err), GC_ERR_WEIGHTS_MAGIC);
  /* an HDF5 signature: the bytes go to the import, whose reader names what is wrong */
  memcpy(c, "\x89HDF\r\n\x1a\n", 8);
  CHECK_STATUS(load(c, n32, err), GC_ERR_H5);
  CHECK(strstr(err, "superblock") != NULL, "HDF5 message: %s", err);
  /* wrong version, wrong model */
  memcpy(c, b32, n32);
  put32(c + 8, 3);
  CHECK_STATUS(load(c, n32, err), GC_ERR_WEIGHTS_VERSION);
  /* a version 2 header on a file without a model definition */
  memcpy(c, b32, n32);
  put32(c + 8, 2);
  CHECK_STATUS(load(c, n32, err), GC_ERR_WEIGHTS_MISSING);
  CHECK(strstr(err, "model definition") != NULL, "v2 without __model__: %s", err);
  memcpy(c, b32, n32);
  memcpy(c + 16, "resnet50\0\0\0\0\0\0\0\0", 16);
  CHECK_STATUS(load(c, n32, err), GC_ERR_WEIGHTS_MODEL);
  /* one flipped bit in the data */
  memcpy(c, b32, n32);
  c[n32 - 1000] ^= 0x10;
  CHECK_STATUS(load(c, n32, err), GC_ERR_WEIGHTS_CHECKSUM);
  /* trailing garbage */
  uint8_t *longer = malloc(n32 + 16);
  memcpy(longer, b32, n32);
  memset(longer + n32, 0, 16);
  CHECK_STATUS(load(longer, n32 + 16, err), GC_ERR_WEIGHTS_CORRUPT);
  free(longer);
  /* one changed byte in the tensor table (name padding) is caught by the checksum too */
  memcpy(c, b32, n32);
  c[GC_WEIGHTS_HEADER_SIZE + 70] ^= 1;
  CHECK_STATUS(load(c, n32, err), GC_ERR_WEIGHTS_CHECKSUM);
  /* a malformed table entry (unaligned offset) with a matching checksum */
  memcpy(c, b32, n32);
  put32(c + GC_WEIGHTS_HEADER_SIZE + 104, 3);
  {
    uint64_t h = gc_fnv1a64(c + GC_WEIGHTS_HEADER_SIZE, n32 - GC_WEIGHTS_HEADER_SIZE);
    put32(c + 56, (uint32_t)h);
    put32(c + 60, (uint32_t)(h >> 32));
  }
  CHECK_STATUS(load(c, n32, err), GC_ERR_WEIGHTS_CORRUPT);
  /* absurd tensor count */
  memcpy(c, b32, n32);
  put32(c + 32, 0x7fffffff);
  CHECK_STATUS(load(c, n32, err), GC_ERR_WEIGHTS_CORRUPT);
  free(c);

  /* wrong shape: one tensor one channel short */
  {
    synth v = w;
    gc_tensor_spec *specs = malloc((size_t)w.count * sizeof *specs);
    memcpy(specs, w.specs, (size_t)w.count * sizeof *specs);
    v.specs = specs;
    int k = 10;
    specs[k].dims[specs[k].ndim - 1] -= 1;
    void *bs = NULL;
    size_t ns = 0;
    CHECK_STATUS(synth_write(&v, GC_DTYPE_F32, &bs, &ns), GC_OK);
    CHECK_STATUS(load(bs, ns, err), GC_ERR_WEIGHTS_SHAPE);
    CHECK(strstr(err, w.specs[k].name) != NULL, "shape message names the tensor: %s", err);
    gc_free(bs);
    /* missing: rename one tensor */
    memcpy(specs, w.specs, (size_t)w.count * sizeof *specs);
    snprintf(specs[k].name, sizeof specs[k].name, "something/else");
    CHECK_STATUS(synth_write(&v, GC_DTYPE_F32, &bs, &ns), GC_OK);
    CHECK_STATUS(load(bs, ns, err), GC_ERR_WEIGHTS_MISSING);
    CHECK(strstr(err, w.specs[k].name) != NULL, "missing message names the tensor: %s", err);
    gc_free(bs);
    free(specs);
  }
  /* a non-finite weight */
  {
    float keep = w.data[3][0];
    w.data[3][0] = NAN;
    void *bs = NULL;
    size_t ns = 0;
    CHECK_STATUS(synth_write(&w, GC_DTYPE_F32, &bs, &ns), GC_OK);
    CHECK_STATUS(load(bs, ns, err), GC_ERR_WEIGHTS_CORRUPT);
    gc_free(bs);
    w.data[3][0] = keep;
  }
  /* file API: missing file, directory */
  gc_model *mm = NULL;
  CHECK_STATUS(gc_model_load_file("/nonexistent/xception.gcw", NULL, &mm, err, sizeof err), GC_ERR_IO);
  CHECK(mm == NULL, "no model on failure");
  CHECK_STATUS(gc_model_load_file("/", NULL, &mm, err, sizeof err), GC_ERR_IO); /* not a regular file */
  CHECK_STATUS(gc_model_load_memory(b16, n16, NULL, NULL, err, sizeof err), GC_ERR_INVALID_ARGUMENT);
  gc_params p = gc_default_params();
  p.threads = -3;
  CHECK_STATUS(gc_model_load_memory(b16, n16, &p, &mm, err, sizeof err), GC_ERR_INVALID_ARGUMENT);

  gc_free(b32);
  gc_free(b16);
  synth_free(&w);
}

static void test_status_strings(void) {
  for (int s = 0; s < GC_STATUS_COUNT; s++) {
    const char *str = gc_status_to_string((gc_status)s);
    CHECK(str && strncmp(str, "GC_", 3) == 0 && strcmp(str, gc_status_to_string(GC_STATUS_COUNT)) != 0,
          "status %d named", s);
  }
  CHECK(strstr(gc_status_to_string((gc_status)999), "UNKNOWN") != NULL, "out of range status");
}

/* gc_hash_words: a changed byte anywhere (whole words and the tail) and another length change it */
static void test_hash_words(void) {
  uint8_t b[1003];
  for (int i = 0; i < (int)sizeof b; i++) b[i] = (uint8_t)(i * 37 + 11);
  const uint64_t h = gc_hash_words(b, sizeof b);
  CHECK(gc_hash_words(b, sizeof b) == h, "deterministic");
  int missed = 0;
  for (int i = 0; i < (int)sizeof b; i++)
    for (int bit = 0; bit < 8; bit++) {
      b[i] ^= (uint8_t)(1u << bit);
      missed += gc_hash_words(b, sizeof b) == h;
      b[i] ^= (uint8_t)(1u << bit);
    }
  CHECK(missed == 0, "every one-bit change shows: %d missed of %d", missed, (int)sizeof b * 8);
  CHECK(gc_hash_words(b, sizeof b - 1) != h && gc_hash_words(b, 0) != gc_hash_words(b, 8), "the length counts");
}

int main(void) {
  test_hash_words();
  test_half();
  test_status_strings();
  test_files();
  return check_report("test_weights");
}
