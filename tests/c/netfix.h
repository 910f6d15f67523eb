/* netfix.h - the C tests' network fixture: Xception with synthetic weights at a small input
 * (81x75), a random input, and helpers to compare results. */
#ifndef GRADCAM_TEST_NETFIX_H
#define GRADCAM_TEST_NETFIX_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ops/ops.h"
#include "synth.h"

static uint32_t rng = 12345;
static inline float urand(void) { return synth_uniform(&rng); }

static inline double rel_l2(const float *a, const double *b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return sqrt(num / (den + 1e-300));
}
static inline double rel_l2f(const float *a, const float *b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    den += (double)b[i] * b[i];
  }
  return sqrt(num / (den + 1e-300));
}

static gc_model *model;
static synth weights;
static const int H0 = 75, W0 = 81;
static float *input;

static inline void setup_model(void) {
  CHECK(synth_make(&weights, 21) == 0, "weights");
  void *bytes = NULL;
  size_t size = 0;
  CHECK_STATUS(synth_write(&weights, GC_DTYPE_F32, &bytes, &size), GC_OK);
  gc_params p = gc_default_params();
  p.threads = 2;
  char err[GC_ERRBUF_SIZE];
  CHECK_STATUS(gc_model_load_memory(bytes, size, &p, &model, err, sizeof err), GC_OK);
  gc_free(bytes);
  input = malloc((size_t)H0 * W0 * 3 * sizeof *input);
  for (int i = 0; i < H0 * W0 * 3; i++) input[i] = urand();
  CHECK_STATUS(gc_model_forward_tensor(model, input, H0, W0), GC_OK);
}

static inline int top1(void) {
  gc_class_score t;
  gc_model_top_k(model, 1, &t);
  return t.index;
}

/* explain with one method at a layer; returns a copy of the map */
static inline float *explain(gc_method m, const char *layer, int c, gc_map *map) {
  gc_explain_params ep = gc_default_explain_params();
  ep.method = m;
  ep.layer = layer;
  ep.class_index = c;
  ep.scorecam_channels = 4;
  ep.smoothgrad_samples = 3;
  ep.ig_steps = 4;
  gc_status s = gc_model_explain(model, &ep, map, NULL);
  CHECK(s == GC_OK, "%s: %s (%s)", gc_method_name(m), gc_status_to_string(s), gc_model_last_error(model));
  if (s != GC_OK) return NULL;
  size_t n = (size_t)map->height * map->width * map->channels;
  float *copy = malloc(n * sizeof *copy);
  memcpy(copy, map->data, n * sizeof *copy);
  return copy;
}

#endif
