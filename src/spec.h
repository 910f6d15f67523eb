/* spec.h - the model as a value: what a weights file says the network is. Not public.
 *
 * Every supported model is the Keras Xception base (the 1000-class ImageNet model's layers up to
 * block14_sepconv2_act) followed by a head: a global pooling, zero or more hidden Dense layers
 * (relu or linear) and a classifier Dense (softmax, sigmoid or linear). A notop file has no
 * head (pool GC_POOL_NONE and ndense 0), or a pooling only. The formats (src/formats/) fill a
 * gc_spec from what a file says (a Keras config, or the shapes of its weights); the .gcw v2
 * file stores it; the model (model.c) builds its layer rows from it.
 */
#ifndef GRADCAM_SPEC_H
#define GRADCAM_SPEC_H

#include <stddef.h>

#include "internal.h"

#define GC_SPEC_MAX_DENSE 8      /* Dense layers in a head, the classifier included */
#define GC_SPEC_MAX_UNITS 65536  /* units of one Dense layer */
#define GC_SPEC_NAME_SIZE 64     /* Keras layer names kept for display ("dense_1") */

typedef enum gc_act { GC_ACT_LINEAR = 0, GC_ACT_RELU, GC_ACT_SOFTMAX, GC_ACT_SIGMOID } gc_act;
typedef enum gc_pool { GC_POOL_NONE = 0, GC_POOL_AVG, GC_POOL_MAX } gc_pool;
/* GC_PRE_TF: Keras' preprocess_input "tf" mode, x / 127.5 - 1 (division, as Keras computes it);
 * GC_PRE_RESCALE: a Rescaling layer, x * scale + offset (multiplication, as Keras computes it). */
typedef enum gc_preprocess { GC_PRE_TF = 0, GC_PRE_RESCALE = 1 } gc_preprocess;

typedef struct gc_dense_spec {
  char name[GC_SPEC_NAME_SIZE]; /* the Keras layer name ("predictions", "dense_1") */
  int units;
  gc_act act; /* hidden layers: LINEAR or RELU; the classifier: SOFTMAX, SIGMOID or LINEAR */
} gc_dense_spec;

typedef struct gc_spec {
  int input_h, input_w;         /* the model's input size, 71..GC_MAX_INPUT_SIZE (299x299) */
  gc_preprocess pre;            /* how pixels (0..255) become the input */
  float pre_scale, pre_offset;  /* GC_PRE_RESCALE: input = pixel * scale + offset */
  gc_pool pool;                 /* after block14_sepconv2_act */
  char pool_name[GC_SPEC_NAME_SIZE]; /* "avg_pool" */
  int ndense;                   /* 0: no classifier (notop) */
  gc_dense_spec dense[GC_SPEC_MAX_DENSE]; /* dense[ndense - 1] is the classifier */
  char source[96];              /* what the file was, for info(): "Keras 3 .keras archive" */
  int head_inferred;            /* 1: the head was inferred from the weights' shapes (no config) */
} gc_spec;

/* keras.applications.Xception(weights="imagenet"): 299x299, x / 127.5 - 1, avg_pool,
 * predictions Dense(1000, softmax). */
void gc_spec_imagenet(gc_spec *s);
/* The same base with no head (include_top=False, pooling=None). */
void gc_spec_notop(gc_spec *s);
/* GC_OK or GC_ERR_CONVERT with a message naming the field out of range. */
gc_status gc_spec_check(const gc_spec *s, char *err, size_t errlen);
/* Classes the model tells apart: 0 without a classifier; 2 for a Dense(1) classifier (binary:
 * class 1 is explained through +logit, class 0 through -logit); otherwise its units. */
int gc_spec_classes(const gc_spec *s);
/* 1 if the head is ImageNet's: avg pool, one Dense(1000, softmax). */
int gc_spec_is_imagenet(const gc_spec *s);
/* The weight tensors the model needs, in the project's names and layouts (weights/README.md):
 * the base's, then "head_dense<k>/kernel" [units][in] and "/bias" for hidden layer k = 1..,
 * then "predictions/kernel" and "predictions/bias" for the classifier. Fills up to cap specs
 * (specs may be NULL) and returns the total count. */
int gc_spec_weight_specs(const gc_spec *s, gc_tensor_spec *specs, int cap);

/* ---- .gcw v2 files (weights.c) ----------------------------------------------------------------
 * A .gcw v2 file is a v1 file (header with version 2, tensor table, data) whose table also holds
 * two byte blobs: "__model__" (the spec, a binary layout given in weights.c's header comment) and,
 * when the file has class names, "__classes__" (weights/README.md). v1 files are the ImageNet
 * model. */
gc_status gc_weights_write_model(const gc_spec *spec, const char *const *class_names, int nnames,
                                 const gc_tensor_spec *specs, const float *const *data, int count, gc_dtype dtype,
                                 void **bytes, size_t *size, char *err, size_t errlen);
/* The spec and class names of a parsed file (v1: gc_spec_imagenet and no names). *names (may be
 * NULL when the file has none, *nnames 0) is released with gc_names_free. */
gc_status gc_weights_model(const gc_weights *w, gc_spec *spec, char ***names, int *nnames, char *err, size_t errlen);

/* ---- class names (src/formats/labels.c) ------------------------------------------------------
 * A labels file: one name per line (blank lines at the end ignored), a JSON list of strings,
 * a JSON object {"0": "name", ...} with every index 0..n-1, or Keras' imagenet_class_index.json
 * ({"0": ["n01440764", "tench"], ...}). expected > 0: a different count is GC_ERR_LABELS naming
 * both counts. Anything that is not text (a NUL byte, invalid UTF-8) is GC_ERR_LABELS. */
gc_status gc_labels_parse(const void *bytes, size_t size, int expected, char ***names, int *nnames, char *err,
                          size_t errlen);
void gc_names_free(char **names, int n);

#endif
