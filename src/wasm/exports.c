/* exports.c - the thin WebAssembly boundary: pointers in, gc_status out.
 *
 * Each export mirrors one function of gradcam.h with only 32-bit integer, float and
 * pointer arguments, so the JavaScript side (web/) can call it through the module's
 * _gcw_* functions. Results come back through out-pointers into the module's memory;
 * statuses are the gc_status numbers, named by gcw_status_string. No state lives here.
 */
#include <emscripten/emscripten.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gradcam.h"
#include "spec.h"

#define EXPORT EMSCRIPTEN_KEEPALIVE

/* Progress of long calls goes to the JavaScript side, which may ask to stop (library.js:
 * Module.gradcamProgress(done, total), set by web/core.js per call, returns non-zero to cancel). */
int gcw_js_progress(int done, int total);
static int progress(void *user, int done, int total) {
  (void)user;
  return gcw_js_progress(done, total);
}

EXPORT const char *gcw_version(void) { return GC_VERSION_STRING; }
EXPORT const char *gcw_status_string(int status) { return gc_status_to_string((gc_status)status); }
EXPORT const char *gcw_last_error(gc_model *m) { return gc_model_last_error(m); }
/* "portable", or "fma" in the relaxed SIMD build */
EXPORT const char *gcw_arithmetic(void) { return gc_arithmetic_name(gc_get_arithmetic()); }

/* takes `bytes` (malloc'ed by the caller) and frees it, also on failure */
EXPORT int gcw_load(void *bytes, size_t size, int threads, gc_model **out, char *err, size_t errlen) {
  gc_params p = gc_default_params();
  p.threads = threads;
  gc_status s = gc_model_load_owned(bytes, size, &p, out, err, errlen);
  if (s == GC_OK) gc_model_set_progress(*out, progress, NULL);
  return s;
}
EXPORT void gcw_free(gc_model *m) { gc_model_free(m); }
/* Bytes of the weights file from the JavaScript side once the model freed its copy (library.js:
 * Module.gradcamFiles, set by web/core.js, maps the model to the file). */
int gcw_js_read_weights(gc_model *m, double offset, void *dst, size_t size);
static int read_weights(void *user, uint64_t offset, void *dst, size_t size) {
  return gcw_js_read_weights((gc_model *)user, (double)offset, dst, size);
}
/* the model frees its copy of the file and reads tensors back from the JavaScript side's */
EXPORT int gcw_release_weights(gc_model *m) { return gc_model_set_weights_reader(m, read_weights, m); }
EXPORT double gcw_weights_held(gc_model *m) { return (double)gc_model_weights_held(m); }
EXPORT int gcw_set_threads(gc_model *m, int threads) { return gc_model_set_threads(m, threads); }
EXPORT int gcw_threads(gc_model *m) { return gc_model_threads(m); }
EXPORT double gcw_param_count(gc_model *m) { return (double)gc_model_param_count(m); }

EXPORT int gcw_forward_image(gc_model *m, const uint8_t *px, int w, int h, int stride, int channels) {
  return gc_model_forward_image(m, px, w, h, stride, (gc_pixel_format)channels);
}
/* the image resized to size x size instead of 299x299 (71..GC_MAX_INPUT_SIZE): faster, coarser */
EXPORT int gcw_forward_image_size(gc_model *m, const uint8_t *px, int w, int h, int stride, int channels,
                                  int size) {
  return gc_model_forward_image_size(m, px, w, h, stride, (gc_pixel_format)channels, size, size);
}
/* image file bytes (PNG, JPEG, BMP, GIF, ...) decoded here, resized to size x size (0: the
 * model's input size) and run. out: [width, height] of the image; *rgba (rgba may be NULL) its
 * decoded RGBA pixels, released with _free. */
EXPORT int gcw_forward_encoded(gc_model *m, const void *bytes, size_t size, int input, uint8_t **rgba, int *out) {
  gc_decoded d;
  gc_status s = gc_model_forward_encoded(m, bytes, size, input, input, &d, rgba);
  if (out) out[0] = d.width, out[1] = d.height;
  return s;
}
/* image file bytes (PNG, JPEG, BMP, GIF, ...) decoded to RGBA by stb_image, as the CLI decodes
 * them (gc_decode_image): *rgba released with _free, out: [width, height]; err: the reason */
EXPORT int gcw_decode_image(const void *bytes, size_t size, uint8_t **rgba, int *out, char *err, size_t errlen) {
  return gc_decode_image(bytes, size, rgba, &out[0], &out[1], err, errlen);
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

/* ---- what the loaded model is --------------------------------------------------------------- */
EXPORT int gcw_model_classes(gc_model *m) { return gc_model_num_classes(m); }
/* out: [height, width] */
EXPORT void gcw_model_input_size(gc_model *m, int *out) { gc_model_input_size(m, &out[0], &out[1]); }
EXPORT const char *gcw_model_class_name(gc_model *m, int i) { return gc_model_class_name(m, i); }
EXPORT int gcw_model_head(gc_model *m, char *buf, int len) { return gc_model_head(m, buf, (size_t)len); }
EXPORT const char *gcw_model_source(gc_model *m) { return gc_model_source(m); }
EXPORT int gcw_model_head_inferred(gc_model *m) { return gc_model_head_inferred(m); }
EXPORT int gcw_model_layer_count(gc_model *m) { return gc_model_layer_count(m); }
EXPORT const char *gcw_model_layer_name(gc_model *m, int i) { return gc_model_layer_name(m, i); }
EXPORT int gcw_model_layer_shape(gc_model *m, const char *layer, int h, int w, int *dims) {
  gc_shape s;
  gc_status st = gc_model_layer_shape(m, layer, h, w, &s);
  if (st == GC_OK) put_shape(&s, dims);
  return st;
}
/* names: n pointers to NUL-terminated strings */
EXPORT int gcw_model_set_class_names(gc_model *m, const char *const *names, int n) {
  return gc_model_set_class_names(m, names, n);
}
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

/* ---- importing Keras files (gc_import_*): the worker converts through these, tensor by tensor */
EXPORT int gcw_import_new(gc_import **out) { return gc_import_new(out); }
/* bytes are borrowed: they stay allocated until gcw_import_free */
EXPORT int gcw_import_add_file(gc_import *im, const char *name, const void *bytes, size_t size) {
  return gc_import_add_file(im, name, bytes, size);
}
EXPORT int gcw_import_set_labels(gc_import *im, const void *bytes, size_t size, char *err, size_t errlen) {
  return gc_import_set_labels(im, bytes, size, err, errlen);
}
EXPORT int gcw_import_start(gc_import *im, int *total, char *err, size_t errlen) {
  return gc_import_start(im, total, err, errlen);
}
EXPORT int gcw_import_step(gc_import *im, int *done, char *err, size_t errlen) {
  return gc_import_step(im, done, err, errlen);
}
EXPORT int gcw_import_finish(gc_import *im, int dtype, void **bytes, size_t *size, char *err, size_t errlen) {
  return gc_import_finish(im, (gc_dtype)dtype, bytes, size, err, errlen);
}
EXPORT const char *gcw_import_describe(gc_import *im) { return gc_import_describe(im); }
EXPORT void gcw_import_free(gc_import *im) { gc_import_free(im); }

/* Class names from a labels file's bytes (gc_labels_parse's formats), for the loaded model. */
EXPORT int gcw_model_set_labels(gc_model *m, const void *bytes, size_t size, char *err, size_t errlen) {
  char **names = NULL;
  int n = 0;
  gc_status s = gc_labels_parse(bytes, size, gc_model_num_classes(m), &names, &n, err, errlen);
  if (s == GC_OK) s = gc_model_set_class_names(m, (const char *const *)names, n);
  if (s != GC_OK && err && !err[0] && m) snprintf(err, errlen, "%s", gc_model_last_error(m));
  gc_names_free(names, n);
  return s;
}

/* ---- gradients, explanations, rendering, metrics ------------------------------------------ */

EXPORT int gcw_gradient(gc_model *m, int cls, const char *layer, int target, int guided, const float **data,
                        int *dims) {
  gc_shape s;
  gc_status st = gc_model_gradient(m, cls, layer, (gc_target)target, guided, data, &s);
  if (st == GC_OK) put_shape(&s, dims);
  return st;
}

/* ---- the method registry (gc_method_info) ------------------------------------------------ */
EXPORT int gcw_method_count(void) { return GC_METHOD_COUNT; }
EXPORT const char *gcw_method_name(int i) { return gc_method_name((gc_method)i); }
/* field: 0 name, 1 label, 2 summary, 3 formula, 4 reference */
EXPORT const char *gcw_method_text(int i, int field) {
  const gc_method_info *mi = gc_method_info_of((gc_method)i);
  if (!mi) return NULL;
  const char *t[5] = {mi->name, mi->label, mi->summary, mi->formula, mi->reference};
  return field >= 0 && field < 5 ? t[field] : NULL;
}
/* field: 0 uses_layer, 1 channels, 2 needs_class, 3 multi_pass, 4 nparams */
EXPORT int gcw_method_flag(int i, int field) {
  const gc_method_info *mi = gc_method_info_of((gc_method)i);
  if (!mi) return -1;
  const int f[5] = {mi->uses_layer, mi->channels, mi->needs_class, mi->multi_pass, mi->nparams};
  return field >= 0 && field < 5 ? f[field] : -1;
}
static const gc_method_param *param(int i, int k) {
  const gc_method_info *mi = gc_method_info_of((gc_method)i);
  return mi && k >= 0 && k < mi->nparams ? &mi->params[k] : NULL;
}
/* field: 0 name, 1 cli, 2 label, 3 special */
EXPORT const char *gcw_method_param_text(int i, int k, int field) {
  const gc_method_param *q = param(i, k);
  const char *t[4] = {q ? q->name : NULL, q ? q->cli : NULL, q ? q->label : NULL, q ? q->special : NULL};
  return field >= 0 && field < 4 ? t[field] : NULL;
}
/* field: 0 min, 1 max, 2 default, 3 integer */
EXPORT double gcw_method_param_num(int i, int k, int field) {
  const gc_method_param *q = param(i, k);
  if (!q) return 0;
  const double f[4] = {q->min, q->max, q->def, q->integer};
  return field >= 0 && field < 4 ? f[field] : 0;
}
EXPORT int gcw_colormap_count(void) { return GC_COLORMAP_COUNT; }
EXPORT const char *gcw_colormap_name(int i) { return gc_colormap_name((gc_colormap)i); }

/* ---- explanations ---------------------------------------------------------------------------- */
/* Parameters for a method by name (NULL for an unknown name); released with gcw_params_free. */
EXPORT gc_explain_params *gcw_params_new(const char *method) {
  gc_method mt;
  if (!method || gc_method_from_name(method, &mt) != GC_OK) return NULL;
  gc_explain_params *p = malloc(sizeof *p);
  if (p) {
    *p = gc_default_explain_params();
    p->method = mt;
  }
  return p;
}
EXPORT int gcw_params_set(gc_explain_params *p, const char *name, double value, char *err, int errlen) {
  return p ? gc_explain_params_set(p, p->method, name, value, err, (size_t)errlen) : GC_ERR_INVALID_ARGUMENT;
}
/* layer: NULL or "" for the default; the string must live until gcw_explain_with returns */
EXPORT void gcw_params_target(gc_explain_params *p, int cls, int contrast, const char *layer, int target) {
  if (!p) return;
  p->class_index = cls;
  p->contrast_class = contrast;
  if (layer && *layer) p->layer = layer;
  p->target = (gc_target)target;
}
EXPORT void gcw_params_free(gc_explain_params *p) { free(p); }

/* out: [height, width, channels, class]; *data: the raw map */
EXPORT int gcw_explain_with(gc_model *m, const gc_explain_params *p, const float **data, int *out) {
  gc_map map;
  int c = -1;
  gc_status st = gc_model_explain(m, p, &map, &c);
  if (st == GC_OK) {
    *data = map.data;
    out[0] = map.height;
    out[1] = map.width;
    out[2] = map.channels;
    out[3] = c;
  }
  return st;
}
/* out: [channels, height, width]; *weights / *pre_relu NULL when the method has no channel weights */
EXPORT int gcw_explain_detail(gc_model *m, const float **weights, const float **pre_relu, int *out) {
  gc_explain_detail d;
  gc_status st = gc_model_explain_detail(m, &d);
  if (st == GC_OK) {
    *weights = d.weights;
    *pre_relu = d.pre_relu;
    out[0] = d.channels;
    out[1] = d.height;
    out[2] = d.width;
  }
  return st;
}
EXPORT int gcw_model_randomized(gc_model *m, const char *layer, uint32_t seed, void **out, size_t *out_size, char *err,
                                size_t errlen) {
  return gc_model_randomized(m, layer, seed, out, out_size, err, errlen);
}
EXPORT int gcw_weights_randomized(const void *gcw, size_t size, const char *layer, uint32_t seed, void **out,
                                  size_t *out_size, char *err, size_t errlen) {
  return gc_weights_randomized(gcw, size, layer, seed, out, out_size, err, errlen);
}

EXPORT int gcw_render(const float *map, int mh, int mw, int mc, const uint8_t *image, int w, int h, int stride,
                      int channels, const char *cmap_name, float alpha, int blend, uint8_t *heat, uint8_t *over) {
  gc_colormap cmap;
  if (gc_colormap_from_name(cmap_name, &cmap) != GC_OK) return GC_ERR_INVALID_ARGUMENT;
  gc_map m = {mh, mw, mc, map};
  return gc_render(&m, image, w, h, stride, (gc_pixel_format)channels, cmap, alpha, (gc_blend)blend, heat, over);
}

/* scale: 0 as gcw_render, 1 the 99th-percentile scale of the pixel-attribution papers */
EXPORT int gcw_render_scaled(const float *map, int mh, int mw, int mc, const uint8_t *image, int w, int h, int stride,
                             int channels, const char *cmap_name, int scale, float alpha, int blend, uint8_t *heat,
                             uint8_t *over) {
  gc_colormap cmap;
  if (gc_colormap_from_name(cmap_name, &cmap) != GC_OK) return GC_ERR_INVALID_ARGUMENT;
  gc_map m = {mh, mw, mc, map};
  return gc_render_scaled(&m, image, w, h, stride, (gc_pixel_format)channels, cmap, (gc_scale)scale, alpha,
                          (gc_blend)blend, heat, over);
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
