/* exports.c - the thin WebAssembly boundary: pointers in, gc_status out.
 *
 * Each export mirrors one function of gradcam.h with only 32-bit integer, float and
 * pointer arguments, so the JavaScript side (web/) can call it through the module's
 * _gcw_* functions. Results come back through out-pointers into the module's memory;
 * statuses are the gc_status numbers, named by gcw_status_string. No state lives here.
 */
#include <emscripten/emscripten.h>
#include <stdint.h>
#include <stdlib.h>

#include "gradcam.h"

#define EXPORT EMSCRIPTEN_KEEPALIVE

EXPORT const char *gcw_version(void) { return GC_VERSION_STRING; }
EXPORT const char *gcw_status_string(int status) { return gc_status_to_string((gc_status)status); }
EXPORT const char *gcw_last_error(gc_model *m) { return gc_model_last_error(m); }
/* "portable", or "fma" in the relaxed SIMD build */
EXPORT const char *gcw_arithmetic(void) { return gc_arithmetic_name(gc_get_arithmetic()); }

EXPORT int gcw_load(const void *bytes, size_t size, int threads, gc_model **out, char *err, size_t errlen) {
  gc_params p = gc_default_params();
  p.threads = threads;
  return gc_model_load_memory(bytes, size, &p, out, err, errlen);
}
EXPORT void gcw_free(gc_model *m) { gc_model_free(m); }
EXPORT int gcw_set_threads(gc_model *m, int threads) { return gc_model_set_threads(m, threads); }
EXPORT int gcw_threads(gc_model *m) { return gc_model_threads(m); }
EXPORT double gcw_param_count(gc_model *m) { return (double)gc_model_param_count(m); }

EXPORT int gcw_forward_image(gc_model *m, const uint8_t *px, int w, int h, int stride, int channels) {
  return gc_model_forward_image(m, px, w, h, stride, (gc_pixel_format)channels);
}
/* the image resized to size x size instead of 299x299 (71..GC_MAX_INPUT_SIZE): faster, coarser */
EXPORT int gcw_forward_image_size(gc_model *m, const uint8_t *px, int w, int h, int stride, int channels,
                                  int size) {
  if (!m) return GC_ERR_INVALID_ARGUMENT;
  if (size == GC_INPUT_SIZE) return gc_model_forward_image(m, px, w, h, stride, (gc_pixel_format)channels);
  if (size < 71 || size > GC_MAX_INPUT_SIZE) return GC_ERR_INVALID_ARGUMENT;
  float *x = malloc((size_t)size * size * 3 * sizeof *x);
  if (!x) return GC_ERR_OUT_OF_MEMORY;
  gc_status s = gc_preprocess_image(px, w, h, stride, (gc_pixel_format)channels, size, size, x);
  /* a rejected image: the 299x299 entry point rejects it the same way and says why */
  if (s != GC_OK) s = gc_model_forward_image(m, px, w, h, stride, (gc_pixel_format)channels);
  else s = gc_model_forward_tensor(m, x, size, size);
  free(x);
  return s;
}
EXPORT int gcw_forward_tensor(gc_model *m, const float *x, int h, int w) {
  return gc_model_forward_tensor(m, x, h, w);
}
EXPORT const float *gcw_logits(gc_model *m) { return gc_model_logits(m); }
EXPORT const float *gcw_probs(gc_model *m) { return gc_model_probs(m); }

/* dims: 5 ints, ndim then the dimensions */
static void put_shape(const gc_shape *s, int *dims) {
  dims[0] = s->ndim;
  for (int i = 0; i < GC_MAX_DIMS; i++) dims[1 + i] = s->dims[i];
}
EXPORT int gcw_activation(gc_model *m, const char *layer, const float **data, int *dims) {
  gc_shape s;
  gc_status st = gc_model_activation(m, layer, data, &s);
  if (st == GC_OK) put_shape(&s, dims);
  return st;
}
EXPORT int gcw_layer_shape(const char *layer, int h, int w, int *dims) {
  gc_shape s;
  gc_status st = gc_layer_shape(layer, h, w, &s);
  if (st == GC_OK) put_shape(&s, dims);
  return st;
}
EXPORT int gcw_layer_count(void) { return gc_layer_count(); }
EXPORT const char *gcw_layer_name(int i) { return gc_layer_name(i); }
EXPORT const char *gcw_class_name(int i) { return gc_class_name(i); }
EXPORT const char *gcw_class_wnid(int i) { return gc_class_wnid(i); }

EXPORT int gcw_converter_new(gc_converter **out) { return gc_converter_new(out); }
EXPORT int gcw_converter_add(gc_converter *c, const char *layer, const char *weight, int ndim,
                             const int32_t *shape, const float *data) {
  int64_t s[GC_MAX_DIMS] = {0, 0, 0, 0};
  if (ndim < 1 || ndim > GC_MAX_DIMS || !shape) return GC_ERR_INVALID_ARGUMENT;
  for (int i = 0; i < ndim; i++) s[i] = shape[i];
  return gc_converter_add(c, layer, weight, ndim, s, data);
}
EXPORT int gcw_converter_finish(gc_converter *c, int dtype, void **bytes, size_t *size, char *err,
                                size_t errlen) {
  return gc_converter_finish(c, (gc_dtype)dtype, bytes, size, err, errlen);
}
EXPORT void gcw_converter_free(gc_converter *c) { gc_converter_free(c); }

/* ---- gradients, explanations, rendering, metrics ------------------------------------------ */

EXPORT int gcw_gradient(gc_model *m, int cls, const char *layer, int target, int guided, const float **data,
                        int *dims) {
  gc_shape s;
  gc_status st = gc_model_gradient(m, cls, layer, (gc_target)target, guided, data, &s);
  if (st == GC_OK) put_shape(&s, dims);
  return st;
}

EXPORT int gcw_method_count(void) { return GC_METHOD_COUNT; }
EXPORT const char *gcw_method_name(int i) { return gc_method_name((gc_method)i); }
EXPORT int gcw_method_uses_layer(int i) { return gc_method_uses_layer((gc_method)i); }
EXPORT int gcw_colormap_count(void) { return GC_COLORMAP_COUNT; }
EXPORT const char *gcw_colormap_name(int i) { return gc_colormap_name((gc_colormap)i); }

/* out: [height, width, channels, class]; *data: the raw map */
EXPORT int gcw_explain(gc_model *m, const char *method, int cls, const char *layer, int target, int channels,
                       int samples, float sigma, int seed, int ig_steps, const float **data, int *out) {
  gc_explain_params p = gc_default_explain_params();
  if (method && gc_method_from_name(method, &p.method) != GC_OK) return GC_ERR_INVALID_ARGUMENT;
  p.class_index = cls;
  if (layer && *layer) p.layer = layer;
  p.target = (gc_target)target;
  if (channels > 0) p.scorecam_channels = channels;
  if (samples > 0) p.smoothgrad_samples = samples;
  if (sigma >= 0) p.smoothgrad_sigma = sigma;
  if (seed >= 0) p.seed = (uint32_t)seed;
  if (ig_steps > 0) p.ig_steps = ig_steps;
  gc_map map;
  int c = -1;
  gc_status st = gc_model_explain(m, &p, &map, &c);
  if (st == GC_OK) {
    *data = map.data;
    out[0] = map.height;
    out[1] = map.width;
    out[2] = map.channels;
    out[3] = c;
  }
  return st;
}

EXPORT int gcw_render(const float *map, int mh, int mw, int mc, const uint8_t *image, int w, int h, int stride,
                      int channels, const char *cmap_name, float alpha, int blend, uint8_t *heat, uint8_t *over) {
  gc_colormap cmap;
  if (gc_colormap_from_name(cmap_name, &cmap) != GC_OK) return GC_ERR_INVALID_ARGUMENT;
  gc_map m = {mh, mw, mc, map};
  return gc_render(&m, image, w, h, stride, (gc_pixel_format)channels, cmap, alpha, (gc_blend)blend, heat, over);
}

/* out: deletion[steps+1], insertion[steps+1], deletion_auc, insertion_auc, average_drop,
 * increase_in_confidence (as 0/1) */
EXPORT int gcw_metrics(gc_model *m, const float *map, int mh, int mw, int cls, int steps, int baseline, float *out) {
  gc_map mp = {mh, mw, 1, map};
  gc_metrics r;
  gc_status st = gc_model_metrics(m, &mp, cls, steps, (gc_baseline)baseline, &r);
  if (st != GC_OK) return st;
  for (int j = 0; j <= steps; j++) {
    out[j] = r.deletion[j];
    out[steps + 1 + j] = r.insertion[j];
  }
  out[2 * steps + 2] = r.deletion_auc;
  out[2 * steps + 3] = r.insertion_auc;
  out[2 * steps + 4] = r.average_drop;
  out[2 * steps + 5] = (float)r.increase_in_confidence;
  return GC_OK;
}
