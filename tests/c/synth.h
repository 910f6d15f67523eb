/* synth.h - deterministic synthetic Xception weights for the C tests, written straight in the
 * project format (the HDF5 path is exercised by the JS tests). Values are scaled by fan-in so
 * activations stay O(1). */
#ifndef GRADCAM_TEST_SYNTH_H
#define GRADCAM_TEST_SYNTH_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

static uint32_t synth_rng(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}
static float synth_uniform(uint32_t *s) { return (float)(synth_rng(s) >> 8) / 16777216.0f * 2.0f - 1.0f; }

typedef struct synth {
  int count;
  gc_tensor_spec *specs;
  float **data;
} synth;

/* Fill values for one spec by its name. */
static void synth_fill(const gc_tensor_spec *sp, float *d, uint32_t *s) {
  size_t n = gc_tensor_count(sp->ndim, sp->dims);
  const char *part = strrchr(sp->name, '/') + 1;
  float scale = 1.0f;
  if (!strcmp(part, "kernel") || !strcmp(part, "pointwise_kernel") || !strcmp(part, "depthwise_kernel")) {
    size_t fan_in = n / (size_t)sp->dims[0];
    if (!strcmp(part, "depthwise_kernel")) fan_in = 9;
    scale = sqrtf(3.0f / (float)fan_in);
    if (sp->ndim == 2) scale *= 6.0f; /* spread the logits */
  }
  /* the kind of tensor, decided once (not per element: 22.9 M of them) */
  const int kind = !strcmp(part, "gamma") ? 1
                   : !strcmp(part, "beta") || !strcmp(part, "moving_mean") || !strcmp(part, "bias") ? 2
                   : !strcmp(part, "moving_variance") ? 3 : 0;
  for (size_t i = 0; i < n; i++) {
    float u = synth_uniform(s);
    if (kind == 1) d[i] = 1.0f + 0.2f * u;
    else if (kind == 2) d[i] = 0.1f * u;
    else if (kind == 3) d[i] = 1.0f + 0.5f * u;
    else d[i] = scale * u;
  }
}

/* Weights for any model spec (synth_make: the ImageNet model). */
static inline int synth_make_spec(synth *w, uint32_t seed, const gc_spec *spec) {
  w->count = gc_spec_weight_specs(spec, NULL, 0);
  w->specs = calloc((size_t)w->count, sizeof *w->specs);
  w->data = calloc((size_t)w->count, sizeof *w->data);
  if (!w->specs || !w->data) return -1;
  gc_spec_weight_specs(spec, w->specs, w->count);
  uint32_t s = seed ? seed : 1;
  for (int i = 0; i < w->count; i++) {
    w->data[i] = malloc(gc_tensor_count(w->specs[i].ndim, w->specs[i].dims) * sizeof(float));
    if (!w->data[i]) return -1;
    synth_fill(&w->specs[i], w->data[i], &s);
  }
  return 0;
}

static inline int synth_make(synth *w, uint32_t seed) {
  gc_spec imagenet;
  gc_spec_imagenet(&imagenet);
  return synth_make_spec(w, seed, &imagenet);
}

static inline void synth_free(synth *w) {
  for (int i = 0; i < w->count; i++) free(w->data[i]);
  free(w->data);
  free(w->specs);
}

static inline const float *synth_get(const synth *w, const char *name) {
  for (int i = 0; i < w->count; i++)
    if (!strcmp(w->specs[i].name, name)) return w->data[i];
  return NULL;
}

static inline gc_status synth_write(const synth *w, gc_dtype dtype, void **bytes, size_t *size) {
  return gc_weights_write(w->specs, (const float *const *)w->data, w->count, dtype, bytes, size);
}

#endif
