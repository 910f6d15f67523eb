/* internal.h - shared between the core's source files; not installed, not public. */
#ifndef GRADCAM_INTERNAL_H
#define GRADCAM_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gradcam.h"

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

/* ---- the layer table (model.c) ---------------------------------------------------------- */

typedef enum gc_op {
  GC_OP_INPUT,   /* the preprocessed image */
  GC_OP_CONV,    /* regular convolution + folded BN (stem 3x3, residual 1x1) */
  GC_OP_SEPCONV, /* depthwise 3x3 "same" + pointwise 1x1 + folded BN */
  GC_OP_RELU,    /* stand-alone ReLU (after the residual additions) */
  GC_OP_MAXPOOL, /* 3x3 stride 2, TF "same" padding */
  GC_OP_ADD,     /* residual addition */
  GC_OP_GAP,     /* global average pooling */
  GC_OP_DENSE    /* fully connected, 1000 logits */
} gc_op;

typedef struct gc_layer_def {
  gc_op op;
  const char *name;    /* Keras name of this layer's output */
  const char *preact;  /* CONV/SEPCONV with fused ReLU: Keras name of the pre-ReLU BN output */
  const char *in0;     /* input layer names */
  const char *in1;     /* second input (ADD) */
  const char *weights; /* weight tensor prefix in the project file */
  const char *bn;      /* batch-norm tensor prefix (CONV/SEPCONV) */
  int kernel;          /* CONV kernel size */
  int stride;          /* CONV/MAXPOOL stride */
  int same;            /* CONV: 1 = TF "same" padding, 0 = "valid" */
  int channels;        /* output channels for CONV/SEPCONV/DENSE; 0 = same as input */
  int relu;            /* CONV/SEPCONV: ReLU fused into the output */
} gc_layer_def;

/* Runtime view of the table: inputs resolved to indices, channel counts known. */
typedef struct gc_layer {
  const gc_layer_def *def;
  int in0, in1;   /* indices into the table, -1 if none */
  int cin, cout;  /* channels in/out */
  /* Not kept after the forward pass (the backward pass never reads it): stand-alone ReLUs,
   * max pools, residual convolutions, BN outputs feeding only an addition, global pooling.
   * 1 = short-lived slot (consumed by the next row), 2 = the residual slot (consumed by the
   * block's addition). Asked for by name, such an activation is recomputed from its input. */
  int transient;
} gc_layer;

int gc_table_size(void);
/* Fill rows[gc_table_size()] with the resolved table. */
void gc_table_resolve(gc_layer *rows);
int gc_table_find(const char *name);     /* row whose output is `name`, -1 if none */
int gc_table_find_preact(const char *name); /* row whose fused pre-activation is `name` */
/* Output spatial size of every row for an input of h x w (oh, ow: gc_table_size() each). */
void gc_table_spatial(const gc_layer *rows, int h, int w, int *oh, int *ow);

/* Weight tensors the table needs, in table order. */
typedef struct gc_tensor_spec {
  char name[80];
  int ndim;
  int dims[GC_MAX_DIMS];
} gc_tensor_spec;
/* Fills up to cap specs; returns the total count. */
int gc_table_weight_specs(gc_tensor_spec *specs, int cap);

/* ---- weights file (weights.c) ------------------------------------------------------------- */

#define GC_WEIGHTS_MAGIC "GCAMWTS"   /* 8 bytes with the NUL */
#define GC_WEIGHTS_VERSION 1
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
  const uint8_t *data; /* the data section (borrowed) */
  uint64_t data_size;
  uint32_t count;
  gc_weights_entry *entries; /* malloc'ed */
} gc_weights;

uint64_t gc_fnv1a64(const void *data, size_t size);
/* Parse and verify header, table and checksum of a file held in memory. */
gc_status gc_weights_parse(const void *bytes, size_t size, gc_weights *out, char *err, size_t errlen);
/* Find a tensor, check its shape and return it as newly malloc'ed float32. */
gc_status gc_weights_get(const gc_weights *w, const char *name, int ndim, const int *dims,
                         float **out, char *err, size_t errlen);
void gc_weights_release(gc_weights *w);
/* Serialise tensors (float32 data, our layout) into a file image. */
gc_status gc_weights_write(const gc_tensor_spec *specs, const float *const *data, int count,
                           gc_dtype dtype, void **bytes, size_t *size);

float gc_half_to_float(uint16_t h);
uint16_t gc_float_to_half(float f);

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
