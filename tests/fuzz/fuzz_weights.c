/* fuzz_weights.c - the project weights format from memory: gc_weights_parse + gc_weights_get
 * on every tensor the table declares, then gc_model_load_memory (the public entry point).
 * Each input runs twice: as given, and with the header's checksum recomputed so that
 * mutations get past the checksum into the tensor table, the tensors and the model build. */
#include "fuzz.h"
#include "internal.h"

static void parse_and_get(const uint8_t *data, size_t size) {
  char err[GC_ERRBUF_SIZE];
  err[0] = 0;
  gc_weights w;
  gc_status s = gc_weights_parse(data, size, &w, err, sizeof err);
  FUZZ_STATUS_OK(s);
  FUZZ_ERRBUF_OK(err);
  if (s != GC_OK) {
    FUZZ_CHECK(err[0] != 0, "parse failed (%d) without a message", (int)s);
    FUZZ_CHECK(w.entries == NULL, "entries left after a failed parse");
    return;
  }
  FUZZ_CHECK(w.count > 0 && w.entries, "empty table accepted");
  /* an accepted entry's size is exactly its element count (computed without overflow) times
   * its element size, within the data section */
  for (uint32_t i = 0; i < w.count; i++) {
    const gc_weights_entry *e = &w.entries[i];
    unsigned __int128 n = e->dtype == GC_DTYPE_F16 ? 2 : 4;
    for (uint32_t d = 0; d < e->ndim; d++) n *= e->dims[d];
    FUZZ_CHECK(n == e->nbytes && e->offset + e->nbytes <= w.data_size, "entry %u: %llu bytes for its dims", i,
               (unsigned long long)e->nbytes);
  }
  for (uint32_t i = 0; i < w.count && i < 64; i++) {
    const gc_weights_entry *e = &w.entries[i];
    int dims[GC_MAX_DIMS] = {0, 0, 0, 0};
    for (uint32_t d = 0; d < e->ndim && d < GC_MAX_DIMS; d++) dims[d] = (int)e->dims[d];
    float *f = NULL;
    err[0] = 0;
    s = gc_weights_get(&w, e->name, (int)e->ndim, dims, &f, err, sizeof err);
    FUZZ_STATUS_OK(s);
    FUZZ_ERRBUF_OK(err);
    FUZZ_CHECK((s == GC_OK) == (f != NULL), "status %d but tensor %p", (int)s, (void *)f);
    if (f) {
      /* every element was read (and is finite): touch them all */
      size_t n = gc_tensor_count((int)e->ndim, dims);
      volatile float sum = 0.0f;
      for (size_t k = 0; k < n; k++) sum += f[k];
      (void)sum;
    }
    free(f);
  }
  /* the model's own lookups: a tensor that is missing or of another shape */
  static const int want[4] = {32, 3, 3, 3};
  float *f = NULL;
  s = gc_weights_get(&w, "block1_conv1/kernel", 4, want, &f, err, sizeof err);
  FUZZ_STATUS_OK(s);
  free(f);
  gc_weights_release(&w);
}

static void load(const uint8_t *data, size_t size) {
  char err[GC_ERRBUF_SIZE];
  gc_model *m = NULL;
  gc_params p = gc_default_params();
  gc_status s = gc_model_load_memory(data, size, &p, &m, err, sizeof err);
  FUZZ_STATUS_OK(s);
  FUZZ_ERRBUF_OK(err);
  FUZZ_CHECK((s == GC_OK) == (m != NULL), "status %d but model %p", (int)s, (void *)m);
  if (s != GC_OK) FUZZ_CHECK(err[0] != 0, "load failed (%s) without a message", gc_status_to_string(s));
  gc_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  parse_and_get(data, size);
  load(data, size);
  if (size >= GC_WEIGHTS_HEADER_SIZE) {
    uint8_t *copy = malloc(size);
    if (!copy) return 0;
    memcpy(copy, data, size);
    uint64_t h = gc_fnv1a64(copy + GC_WEIGHTS_HEADER_SIZE, size - GC_WEIGHTS_HEADER_SIZE);
    for (int i = 0; i < 8; i++) copy[56 + i] = (uint8_t)(h >> (8 * i));
    parse_and_get(copy, size);
    load(copy, size);
    free(copy);
  }
  return 0;
}
