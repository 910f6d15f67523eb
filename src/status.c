/* status.c - status names, error messages, class names, small shared helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

const char *gc_status_to_string(gc_status status) {
  switch (status) {
    case GC_OK: return "GC_OK: success";
    case GC_ERR_INVALID_ARGUMENT: return "GC_ERR_INVALID_ARGUMENT: invalid argument";
    case GC_ERR_OUT_OF_MEMORY: return "GC_ERR_OUT_OF_MEMORY: out of memory";
    case GC_ERR_IO: return "GC_ERR_IO: file could not be read";
    case GC_ERR_WEIGHTS_TRUNCATED: return "GC_ERR_WEIGHTS_TRUNCATED: weights file is truncated";
    case GC_ERR_WEIGHTS_MAGIC: return "GC_ERR_WEIGHTS_MAGIC: not a gradcam weights file";
    case GC_ERR_WEIGHTS_VERSION: return "GC_ERR_WEIGHTS_VERSION: unsupported weights format version";
    case GC_ERR_WEIGHTS_MODEL: return "GC_ERR_WEIGHTS_MODEL: weights are for another model";
    case GC_ERR_WEIGHTS_CHECKSUM: return "GC_ERR_WEIGHTS_CHECKSUM: weights checksum mismatch";
    case GC_ERR_WEIGHTS_SHAPE: return "GC_ERR_WEIGHTS_SHAPE: a weight tensor has the wrong shape";
    case GC_ERR_WEIGHTS_MISSING: return "GC_ERR_WEIGHTS_MISSING: a weight tensor is missing";
    case GC_ERR_WEIGHTS_CORRUPT: return "GC_ERR_WEIGHTS_CORRUPT: weights file is malformed";
    case GC_ERR_IMAGE_INVALID: return "GC_ERR_IMAGE_INVALID: invalid image buffer";
    case GC_ERR_IMAGE_SIZE: return "GC_ERR_IMAGE_SIZE: image size out of range";
    case GC_ERR_IMAGE_DECODE: return "GC_ERR_IMAGE_DECODE: image could not be decoded";
    case GC_ERR_LAYER_UNKNOWN: return "GC_ERR_LAYER_UNKNOWN: unknown layer";
    case GC_ERR_CLASS_OUT_OF_RANGE: return "GC_ERR_CLASS_OUT_OF_RANGE: class index out of range";
    case GC_ERR_NOT_RUN: return "GC_ERR_NOT_RUN: no forward pass has run yet";
    case GC_ERR_CONVERT: return "GC_ERR_CONVERT: source weights do not describe Keras Xception";
    case GC_ERR_BACKEND: return "GC_ERR_BACKEND: XNNPACK operator failure";
    case GC_ERR_H5: return "GC_ERR_H5: the HDF5 file is damaged or not readable here";
    case GC_ERR_ZIP: return "GC_ERR_ZIP: the ZIP archive is damaged or not readable here";
    case GC_ERR_JSON: return "GC_ERR_JSON: malformed JSON";
    case GC_ERR_LABELS: return "GC_ERR_LABELS: unusable class names";
    case GC_ERR_NO_HEAD: return "GC_ERR_NO_HEAD: the model has no classifier";
    case GC_ERR_CANCELLED: return "GC_ERR_CANCELLED: cancelled";
    case GC_STATUS_COUNT: break;
  }
  return "GC_ERR_UNKNOWN: unknown status";
}

void gc_set_error(char *buf, size_t len, const char *fmt, ...) {
  if (!buf || len == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, len, fmt, ap);
  va_end(ap);
}

size_t gc_tensor_count(int ndim, const int *dims) {
  size_t n = 1;
  for (int d = 0; d < ndim; d++) n *= (size_t)dims[d];
  return n;
}

gc_params gc_default_params(void) {
  gc_params p = {1};
  return p;
}

void gc_free(void *ptr) { free(ptr); }

static const char *const kClasses[GC_NUM_CLASSES][2] = {
#include "classes.inc"
};

const char *gc_class_name(int index) {
  return index >= 0 && index < GC_NUM_CLASSES ? kClasses[index][1] : NULL;
}

const char *gc_class_wnid(int index) {
  return index >= 0 && index < GC_NUM_CLASSES ? kClasses[index][0] : NULL;
}

double gc_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

#ifdef GC_PROFILE
double gc_profile_now(void) { return gc_now_ms(); }

void gc_profile_row(const char *phase, const char *layer, int op, double t0) {
  static const char *const kOps[] = {"input", "conv", "sepconv", "relu", "maxpool", "add", "gap", "dense"};
  fprintf(stderr, "profile %s %s %s %.4f\n", phase, layer, op >= 0 && op < 8 ? kOps[op] : "?",
          gc_profile_now() - t0);
}
#endif
