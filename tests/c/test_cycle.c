/* test_cycle.c - a load / predict / activation / free cycle, twice, including failed loads
 * and failed forwards. Run under valgrind by ctest (leak_check) so that any leak fails. */
#include <stdlib.h>

#include "check.h"
#include "internal.h"
#include "synth.h"

int main(void) {
  synth w;
  CHECK(synth_make(&w, 3) == 0, "synthetic weights");
  void *bytes = NULL;
  size_t size = 0;
  CHECK_STATUS(synth_write(&w, GC_DTYPE_F16, &bytes, &size), GC_OK);
  synth_free(&w);
  char err[GC_ERRBUF_SIZE];
  float *x = malloc(72 * 73 * 3 * sizeof *x);
  uint32_t s = 1;
  for (int i = 0; i < 72 * 73 * 3; i++) x[i] = synth_uniform(&s);
  for (int round = 0; round < 2; round++) {
    gc_params p = gc_default_params();
    p.threads = 1 + round;
    gc_model *m = NULL;
    CHECK_STATUS(gc_model_load_memory(bytes, size, &p, &m, err, sizeof err), GC_OK);
    if (!m) break;
    CHECK_STATUS(gc_model_forward_tensor(m, x, 72, 73), GC_OK);
    const float *d;
    gc_shape sh;
    CHECK_STATUS(gc_model_activation(m, "block8_add", &d, &sh), GC_OK);
    CHECK_STATUS(gc_model_forward_tensor(m, x, 71, 71), GC_OK); /* reshape frees and reallocates */
    uint8_t px[16 * 9 * 4] = {0};
    CHECK_STATUS(gc_model_forward_image(m, px, 16, 9, 64, GC_PIXEL_RGBA8), GC_OK);
    CHECK_STATUS(gc_model_forward_tensor(m, x, 10, 10), GC_ERR_IMAGE_SIZE);
    gc_model_free(m);
  }
  /* failed loads release everything they took */
  gc_model *m = NULL;
  CHECK_STATUS(gc_model_load_memory(bytes, size / 2, NULL, &m, err, sizeof err), GC_ERR_WEIGHTS_TRUNCATED);
  ((unsigned char *)bytes)[size - 5] ^= 1;
  CHECK_STATUS(gc_model_load_memory(bytes, size, NULL, &m, err, sizeof err), GC_ERR_WEIGHTS_CHECKSUM);
  free(x);
  gc_free(bytes);
  return check_report("test_cycle");
}
