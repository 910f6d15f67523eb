/* state.h - the model handle's contents, shared by forward.c, backward.c and methods.c.
 * Not public: callers see only the opaque gc_model. */
#ifndef GRADCAM_STATE_H
#define GRADCAM_STATE_H

#include <pthreadpool.h>
#include <xnnpack.h>

#include "internal.h"

typedef struct gc_node {
  /* forward */
  xnn_operator_t op;  /* conv, depthwise, relu, pool, add, dense */
  xnn_operator_t op2; /* pointwise convolution of a separable convolution */
  int h, w;           /* current output size */
  float *out;         /* (batch, h, w, cout) + XNN_EXTRA_BYTES; transient rows: a shared slot */
  float *val;         /* transient rows: the value recomputed on demand (1, h, w, cout) */
  /* fused ReLU rows: the pre-activation (the Keras *_bn output), computed on demand */
  xnn_operator_t pre_op; /* the row's last convolution without the ReLU clamp */
  float *pre;            /* (1, h, w, cout) */
  int pre_valid;
  /* backward (created on first use) */
  xnn_operator_t bop;  /* CONV: deconvolution; SEPCONV: transposed pointwise (1x1) */
  xnn_operator_t bop2; /* SEPCONV: depthwise with the kernel rotated by 180 degrees */
  int bshape_h, bshape_w; /* size the backward operators are reshaped for */
  float *grad;         /* d(score)/d(out), (1, h, w, cout) */
  int has_grad;
} gc_node;

struct gc_model {
  gc_layer *rows; /* resolved layer table */
  gc_node *nodes;
  int nrows;
  int threads;
  pthreadpool_t pool;
  int in_h, in_w, batch;  /* shape the forward operators are reshaped for (0 = none) */
  int ran;                /* batch-1 results of a forward pass are available */
  float *scratch;         /* depthwise output inside a separable convolution */
  float *slot[3];         /* outputs of transient rows: two short-lived slots, the residual slot */
  void *workspace;        /* shared convolution workspace */
  size_t workspace_size;
  float *image_input;     /* 299x299x3 buffer for gc_model_forward_image */
  float logits[GC_NUM_CLASSES];
  float probs[GC_NUM_CLASSES];
  size_t param_count;
  /* the weights, kept to create backward and pre-activation operators on demand */
  uint8_t *wbytes;
  gc_weights w;
  float *dense_kernel; /* [1000][2048], for the dense layer's backward */
  /* backward scratch: three buffers of the largest gradient size */
  float *bscratch[3];
  size_t bscratch_size;
  int back_h, back_w;   /* input size the backward buffers are allocated for */
  /* explanation results and working memory (methods.c, metrics.c) */
  float *mapbuf;
  size_t mapbuf_cap;
  float *work[3];
  size_t work_cap[3];
  char error[GC_ERRBUF_SIZE];
};

void *gc_alloc_buffer(size_t floats);
/* xnn_initialize, once per process, with the arithmetic gc_set_arithmetic chose (arith.c) */
enum xnn_status gc_xnn_start(void);
gc_status gc_backend_error(gc_model *m, const char *what, const char *layer, enum xnn_status s);
/* Folded float32 weights of row i from the retained weights file: kernel (CONV: OHWI,
 * SEPCONV: pointwise [O][I]), dw (SEPCONV depthwise [3][3][C], else NULL), bias [cout].
 * The caller frees all three. */
gc_status gc_row_weights(gc_model *m, int i, float **kernel, float **dw, float **bias, char *err, size_t errlen);
/* Run the forward pass on a batch of `batch` NHWC inputs (h x w x 3 each). */
gc_status gc_forward_batch(gc_model *m, const float *input, int batch, int h, int w);
/* Rerun the batch-1 forward pass from the row after `row` on the stored activations (the
 * tests perturb an activation in place and rerun, for finite differences). */
gc_status gc_forward_from(gc_model *m, int row);
/* Logits of batch item b of the last gc_forward_batch. */
const float *gc_batch_logits(const gc_model *m, int b);
/* Free backward state (buffers and operators). */
void gc_backward_release(gc_model *m);
void gc_softmax(const float *logits, float *probs, int n);
/* A float buffer of the model that grows as needed (contents not kept). */
float *gc_model_buffer(float **buf, size_t *cap, size_t n);
/* The dense kernel [1000][2048] as float32 (loaded on first use). */
gc_status gc_dense_kernel(gc_model *m, const float **kernel);
/* Largest batch for extra forward passes at h x w that stays within the memory budget. */
int gc_batch_budget(const gc_model *m, int h, int w, int want);
/* Rerun the batch-1 forward pass on a saved input so the model's results are the caller's. */
gc_status gc_restore_forward(gc_model *m, const float *input, int h, int w);

/* Backward operators (backward.c), also used by the tests on small tensors:
 * the input gradient of a convolution (OHWI kernel k, valid / 1x1 "same" padding) is a
 * deconvolution; of a separable convolution (pointwise [co][ci], depthwise [3][3][ci]) a
 * transposed 1x1 then a depthwise convolution with rotated kernels. */
enum xnn_status gc_create_conv_backward(const float *k, int co, int ci, int ksize, int stride, xnn_operator_t *op);
enum xnn_status gc_create_sepconv_backward(const float *pw, const float *dw, int co, int ci, xnn_operator_t *pw_op,
                                           xnn_operator_t *dw_op);
/* The residuals' 1x1 stride-s convolution backward: a 1x1 convolution with the transposed
 * matrix (this operator) on the oh x ow grid, then gc_strided_scatter to the ih x iw input:
 * dst[s*y][s*x] = src[y][x] and every other cell 0; with accumulate, src is added there and
 * the other cells keep their values. */
enum xnn_status gc_create_pointwise_backward(const float *k, int co, int ci, xnn_operator_t *op);
void gc_strided_scatter(pthreadpool_t pool, const float *src, int oh, int ow, int c, int stride, float *dst, int ih,
                        int iw, int accumulate);
/* Max pooling 3x3 / 2 "same" backward: dx = routed g (dx += routed g when accumulate);
 * argmax is scratch for oh * ow * c bytes. */
void gc_maxpool_backward(pthreadpool_t pool, const float *x, int ih, int iw, int c, const float *g, int oh, int ow,
                         float *dx, int accumulate, uint8_t *argmax);
/* sum[k] = sum over positions of d(score)/d(layer)[p][k] (cout of the layer): what Grad-CAM
 * needs, without the transposed convolution into the layer where its consumer allows. */
gc_status gc_gradient_sums(gc_model *m, int class_index, const char *layer, gc_target target, double *sum);
/* The Gaussian noise SmoothGrad adds to sample `sample` (sigma_abs = sigma * input range). */
void gc_smoothgrad_noise(uint32_t seed, int sample, float sigma_abs, float *noise, size_t n);

#endif
