/* ops.h - one module per layer kind (src/ops/<kind>.c). Each owns, for the rows of its kind,
 * driven only by the row's parameters (kernel, stride, padding, channels, fused ReLU):
 *   shape     output spatial size from the input's
 *   create    its XNNPACK operators, from the model's weights (batch norm folded)
 *   reshape   for a batch and input size; reports the workspace and scratch it needs
 *   run       the forward computation
 *   preact    the pre-activation of a fused-ReLU row (CONV, SEPCONV), on demand
 *   backward  its input gradients from its output gradient (added into the inputs' buffers)
 *   sums      sum over positions of its input gradient, without the full map (Grad-CAM),
 *             where the kind allows it (summable)
 * forward.c and backward.c walk the rows and call these through gc_ops[]. Not public.
 */
#ifndef GRADCAM_OPS_H
#define GRADCAM_OPS_H

#include "../state.h"

struct gc_reshape_need {
  size_t workspace; /* bytes of the shared convolution workspace */
  size_t scratch;   /* floats of the separable convolutions' depthwise output */
};
typedef struct gc_reshape_need gc_reshape_need;

typedef struct gc_op_kind {
  const char *name;
  void (*shape)(const gc_layer_def *d, int ih, int iw, int *oh, int *ow);
  gc_status (*create)(gc_model *m, int i, char *err, size_t errlen);              /* may be NULL */
  gc_status (*reshape)(gc_model *m, int i, size_t batch, int ih, int iw, gc_reshape_need *need);
  gc_status (*run)(gc_model *m, int i, const float *in0, const float *in1, float *out);
  gc_status (*preact)(gc_model *m, int i, const float *in, float *out);           /* may be NULL */
  gc_status (*backward)(gc_model *m, int i, const float *g, int guided);
  int (*summable)(const gc_model *m, int i);                                      /* may be NULL */
  gc_status (*sums)(gc_model *m, int i, const float *g, double *sum);             /* may be NULL */
  size_t (*params)(const gc_layer *r); /* parameters the weights file holds for the row */
} gc_op_kind;

extern const gc_op_kind gc_op_input, gc_op_conv, gc_op_sepconv, gc_op_relu, gc_op_maxpool, gc_op_add,
    gc_op_gap, gc_op_gmp, gc_op_dense;
extern const gc_op_kind *const gc_ops[GC_OP_COUNT];

/* ---- shared by the modules (ops.c) ----------------------------------------------------------- */
/* Reshape an XNNPACK convolution for batch x ih x iw, checking its output size. */
gc_status gc_op_reshape_conv(gc_model *m, xnn_operator_t op, const char *name, size_t batch, int ih, int iw,
                             int oh, int ow, size_t *ws);
/* setup + run of a convolution (deconv = 0) or deconvolution (deconv = 1) operator */
gc_status gc_op_run_conv(gc_model *m, xnn_operator_t op, int deconv, const float *in, float *out, const char *name);
size_t gc_row_elems(const gc_model *m, int i); /* (1, h, w, cout) of row i */
/* A Dense row's folded kernel [cout][cin] as float32 (kept from the first call on). */
gc_status gc_dense_kernel(gc_model *m, int i, const float **kernel);

/* Gradient buffers and elementwise passes over the thread pool (grad.c). */
gc_status gc_grad_ensure(gc_model *m, int i);     /* row i's gradient buffer, sized for its shape */
void gc_grad_release(gc_model *m, int i);         /* row i's buffer back to the pool */
/* Where a contribution to row dst's gradient goes: its buffer when it is the first, else a
 * scratch buffer that gc_grad_commit then adds. */
float *gc_grad_target(gc_model *m, int dst);
void gc_grad_commit(gc_model *m, int dst);
/* dst (+)= g * [x > 0] (* [g > 0] when guided), n floats, over the pool */
void gc_relu_backward(gc_model *m, float *dst, int accumulate, const float *g, const float *x, size_t n, int guided);
/* dst (+)= g, n floats */
void gc_grad_add(gc_model *m, float *dst, int accumulate, const float *g, size_t n);
/* Sums of g (h x w x c, masked by mask > 0 when mask is given) over the 9 border classes of a
 * "same" 3x3 map into a 3x3 map (classes == 9), or over all positions into one pixel (1). */
gc_status gc_class_sums(gc_model *m, const float *g, const float *mask, int h, int w, int c, int classes, float *out);

/* ---- backward building blocks, also used by the tests on small tensors ---------------------- */
/* The input gradient of a convolution (OHWI kernel k, valid padding) is a deconvolution. */
enum xnn_status gc_create_conv_backward(const float *k, int co, int ci, int ksize, int stride, xnn_operator_t *op);
/* Of a separable convolution (pointwise [co][ci], depthwise [ks][ks][ci], "same"): a transposed
 * 1x1 then a depthwise convolution with the kernels rotated by 180 degrees. */
enum xnn_status gc_create_sepconv_backward(const float *pw, const float *dw, int co, int ci, int ksize,
                                           xnn_operator_t *pw_op, xnn_operator_t *dw_op);
/* A 1x1 stride-s convolution's backward: a 1x1 convolution with the transposed matrix (this
 * operator) on the oh x ow grid, then gc_strided_scatter to the ih x iw input:
 * dst[s*y][s*x] = src[y][x] and every other cell 0; with accumulate, src is added there and the
 * other cells keep their values. */
enum xnn_status gc_create_pointwise_backward(const float *k, int co, int ci, xnn_operator_t *op);
void gc_strided_scatter(pthreadpool_t pool, const float *src, int oh, int ow, int c, int stride, float *dst, int ih,
                        int iw, int accumulate);
/* Max pooling k x k / stride "same" backward: dx = routed g (dx += routed g when accumulate);
 * argmax is scratch for oh * ow * c bytes. */
void gc_maxpool_backward(pthreadpool_t pool, const float *x, int ih, int iw, int c, const float *g, int oh, int ow,
                         int ksize, int stride, float *dx, int accumulate, uint8_t *argmax);

#endif
