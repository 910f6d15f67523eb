/* internal.h - shared between the core's source files; not installed, not public. */
#ifndef GRADCAM_INTERNAL_H
#define GRADCAM_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gradcam.h"

/* A monotonic clock in milliseconds (timings the library reports, the profile below). */
double gc_now_ms(void);

/* ---- per-row timers (cmake -DGRADCAM_PROFILE=ON; off in every shipped build) ------------
 * Each forward and backward row prints "profile <phase> <layer> <op> <ms>" to stderr, for
 * finding where an explanation's time goes (npm run profile sums them per row). */
#ifdef GC_PROFILE
double gc_profile_now(void);
void gc_profile_row(const char *phase, const char *layer, int op, double t0);
#define GC_PROFILE_START(t) const double t = gc_profile_now()
#define GC_PROFILE_ROW(phase, layer, op, t) gc_profile_row(phase, layer, op, t)
#else
#define GC_PROFILE_START(t) ((void)0)
#define GC_PROFILE_ROW(phase, layer, op, t) ((void)0)
#endif

/* ---- the network as a value (net.c) -------------------------------------------------------- */

typedef enum gc_op {
  GC_OP_INPUT,   /* the preprocessed image */
  GC_OP_CONV,    /* regular convolution + folded BN (kernel x kernel, stride, "same" or valid) */
  GC_OP_SEPCONV, /* depthwise kernel x kernel "same" + pointwise 1x1 + folded BN */
  GC_OP_RELU,    /* stand-alone ReLU */
  GC_OP_MAXPOOL, /* kernel x kernel max pooling, stride, TF "same" padding */
  GC_OP_ADD,     /* residual addition */
  GC_OP_GAP,     /* global average pooling */
  GC_OP_GMP,     /* global max pooling */
  GC_OP_DENSE,   /* fully connected (+ fused ReLU for hidden layers) */
  GC_OP_COUNT
} gc_op;

typedef struct gc_layer_def {
  gc_op op;
  const char *name;    /* Keras name of this layer's output */
  const char *preact;  /* CONV/SEPCONV with fused ReLU: Keras name of the pre-ReLU BN output */
  const char *in0;     /* input layer names */
  const char *in1;     /* second input (ADD) */
  const char *weights; /* weight tensor prefix in the project file */
  const char *bn;      /* batch-norm tensor prefix (CONV/SEPCONV) */
  int kernel;          /* CONV/SEPCONV/MAXPOOL window size */
  int stride;          /* CONV/MAXPOOL stride */
  int same;            /* CONV: 1 = TF "same" padding, 0 = "valid" */
  int channels;        /* output channels for CONV/SEPCONV/DENSE; 0 = same as input */
  int relu;            /* CONV/SEPCONV/DENSE: ReLU fused into the output */
} gc_layer_def;

/* Runtime view of a row: inputs resolved to indices, channel counts known. */
typedef struct gc_layer {
  const gc_layer_def *def;
  int in0, in1;   /* indices into the rows, -1 if none */
  int cin, cout;  /* channels in/out */
  /* Not kept after the forward pass (the backward pass never reads it): stand-alone ReLUs,
   * max pools, residual convolutions, BN outputs feeding only an addition, global pooling.
   * 1 = short-lived slot (consumed by the next row), 2 = the residual slot (consumed by the
   * block's addition). Asked for by name, such an activation is recomputed from its input. */
  int transient;
} gc_layer;

struct gc_spec;

/* The rows a model runs: the Xception base (a table in net.c) and the head its spec describes. */
typedef struct gc_net {
  int nrows;
  gc_layer_def *defs; /* nrows, owned; names point into the base table or into `names` */
  gc_layer *rows;     /* nrows, resolved */
  int feature_row;    /* block14_sepconv2_act, the base's output */
  int logits_row;     /* the classifier Dense, -1 without one */
  char (*names)[80];  /* storage for the head rows' names and weight prefixes */
} gc_net;

gc_status gc_net_build(const struct gc_spec *spec, gc_net *net, char *err, size_t errlen);
void gc_net_free(gc_net *net);
int gc_net_find(const gc_net *net, const char *name);        /* row whose output is `name`, -1 if none */
int gc_net_find_preact(const gc_net *net, const char *name); /* row whose fused pre-activation is `name` */
/* Output spatial size of every row for an input of h x w (oh, ow: nrows each). */
void gc_net_spatial(const gc_net *net, int h, int w, int *oh, int *ow);
/* The addressable layers: every row's output, preceded by its fused pre-activation if any. */
int gc_net_layer_count(const gc_net *net);
const char *gc_net_layer_name(const gc_net *net, int i);
gc_status gc_net_layer_shape(const gc_net *net, const char *layer, int height, int width, gc_shape *shape);

/* Weight tensors in the project's layouts. */
typedef struct gc_tensor_spec {
  char name[80];
  int ndim;
  int dims[GC_MAX_DIMS];
} gc_tensor_spec;

/* ---- weights file (weights.c) ------------------------------------------------------------- */

#define GC_WEIGHTS_MAGIC "GCAMWTS"   /* 8 bytes with the NUL */
#define GC_WEIGHTS_VERSION 2 /* the newest this build reads and writes; 1 still loads */
#define GC_WEIGHTS_MODEL "xception"
#define GC_WEIGHTS_HEADER_SIZE 64
#define GC_WEIGHTS_ENTRY_SIZE 128
#define GC_WEIGHTS_NAME_SIZE 80
#define GC_WEIGHTS_ALIGN 64

typedef struct gc_weights_entry {
  char name[GC_WEIGHTS_NAME_SIZE];
  uint32_t dtype;
  uint32_t ndim;
  uint32_t dims[GC_MAX_DIMS];
  uint64_t offset; /* from the start of the data section */
  uint64_t nbytes;
} gc_weights_entry;

typedef struct gc_weights {
  uint32_t version;
  const uint8_t *data; /* the data section (borrowed) */
  uint64_t data_size;
  uint32_t count;
  gc_weights_entry *entries; /* malloc'ed */
} gc_weights;

uint64_t gc_fnv1a64(const void *data, size_t size);
/* A 64-bit hash eight bytes per step (several times faster than gc_fnv1a64): the check of the
 * tensors a model reads back after giving up its copy of the file (gc_model_set_weights_reader). */
uint64_t gc_hash_words(const void *data, size_t size);
/* Parse and verify header, table and checksum of a file held in memory. */
gc_status gc_weights_parse(const void *bytes, size_t size, gc_weights *out, char *err, size_t errlen);
/* The table entry of a tensor of this shape, or NULL with *status and a message. */
const gc_weights_entry *gc_weights_find(const gc_weights *w, const char *name, int ndim, const int *dims,
                                        gc_status *status, char *err, size_t errlen);
/* A tensor's bytes (src: its e->nbytes) as newly malloc'ed float32; non-finite values refused. */
gc_status gc_weights_convert(const gc_weights_entry *e, const uint8_t *src, float **out, char *err, size_t errlen);
/* Find a tensor, check its shape and return it as newly malloc'ed float32. */
gc_status gc_weights_get(const gc_weights *w, const char *name, int ndim, const int *dims,
                         float **out, char *err, size_t errlen);
void gc_weights_release(gc_weights *w);
/* Serialise tensors (float32 data, our layout) into a version 1 file image (the ImageNet
 * model; gc_weights_write_model in spec.h writes version 2). */
gc_status gc_weights_write(const gc_tensor_spec *specs, const float *const *data, int count,
                           gc_dtype dtype, void **bytes, size_t *size);

float gc_half_to_float(uint16_t h);
uint16_t gc_float_to_half(float f);

/* ---- images (image.c) ------------------------------------------------------------------------ */

/* gc_preprocess_image with the model's preprocessing: x / 127.5 - 1 (rescale 0) or
 * x * scale + offset (rescale 1). */
gc_status gc_preprocess_image_as(const uint8_t *pixels, int width, int height, int stride, gc_pixel_format format,
                                 int out_w, int out_h, int rescale, float scale, float offset, float *out);

/* ---- maps (render.c) ---------------------------------------------------------------------- */

/* Bilinear resize of a single-channel float map (pixel centres aligned, edges clamped). */
void gc_resize_map(const float *src, int sh, int sw, float *dst, int dh, int dw);

/* ---- helpers (status.c) ------------------------------------------------------------------- */

void gc_set_error(char *buf, size_t len, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
size_t gc_tensor_count(int ndim, const int *dims);

#endif /* GRADCAM_INTERNAL_H */
