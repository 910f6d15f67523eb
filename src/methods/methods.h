/* methods.h - the explanation methods: one registry row each (registry.c) with the function
 * that computes it (cam.c, perturb.c, input.c); explain.c prepares what a row asks for
 * (activations, the gradient or its spatial sums at the layer, the input) and finishes the map.
 * Adding a method: its enum value in gradcam.h, its row (and the function's prototype) in
 * registry.c, its function in one of the method files, a test.
 * Not public. */
#ifndef GRADCAM_METHODS_H
#define GRADCAM_METHODS_H

#include "../state.h"

/* What explain.c computes before the method's function runs. */
typedef enum gc_method_needs {
  GC_NEEDS_NOTHING = 0, /* activations of the layer (layer methods) or the input only */
  GC_NEEDS_SUMS,        /* w[k] = sum over positions of the gradient at the layer */
  GC_NEEDS_GRADIENT     /* G, the gradient at the layer */
} gc_method_needs;

typedef struct gc_method_ctx {
  gc_model *m;
  const gc_explain_params *p;
  int cls, contrast;    /* the class explained, the contrast class (-1 none) */
  const char *layer;
  /* layer methods: the layer's activations A (H x W x K) and what `needs` asked for */
  const float *A;
  int H, W, K;
  const float *G;       /* GC_NEEDS_GRADIENT */
  double *w;            /* K: in, the gradient sums (GC_NEEDS_SUMS); out, the channel weights
                           of a `weighted` method */
  /* the input of the forward pass being explained (xh x xw x 3), a copy the method may keep */
  const float *x;
  int xh, xw;
  /* the map: a `weighted` method leaves it to explain.c (ReLU(sum_k w_k A^k)); the others write
   * out (out_h x out_w x out_c, sized by explain.c from the registry: the layer's size, or the
   * input's) */
  float *out;
  int out_h, out_w, out_c;
} gc_method_ctx;

typedef struct gc_method_row {
  gc_method_info info;
  gc_method_needs needs;
  int weighted;         /* 1: fn fills ctx->w; the map is ReLU(sum_k w_k A^k) */
  gc_status (*fn)(gc_method_ctx *c);
} gc_method_row;

extern const gc_method_row gc_method_rows[GC_METHOD_COUNT];
/* A parameter's value in p by its registry name (NaN for an unknown name). */
double gc_explain_params_get(const gc_explain_params *p, const char *name);

/* Grad-CAM's weights (cam.c), also Guided Grad-CAM's factor (input.c) */
gc_status gc_cam_gradcam(gc_method_ctx *c);

/* shared (explain.c) */
void gc_weighted_sum(const float *A, const double *w, size_t hw, int K, float *cam);
void gc_relu_inplace(float *x, size_t n);
/* The score of class c (minus the contrast class's) from class scores, by the target. */
double gc_target_score(const gc_model *m, const float *scores, float *probs_scratch, int c, int contrast,
                       gc_target target);
/* Gradient of the explained score at a layer or the input (layer NULL), contrast included. */
gc_status gc_method_gradient(gc_method_ctx *c, const char *layer, int guided, const float **g);
/* Keep the channel weights and the pre-ReLU map of the explanation (gc_model_explain_detail). */
gc_status gc_method_keep_detail(gc_method_ctx *c, const float *pre_relu, int h, int w);

#endif
