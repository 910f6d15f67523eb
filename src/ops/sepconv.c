/* sepconv.c - separable convolution (Keras SeparableConv2D, depth multiplier 1, "same"
 * padding, stride 1, no bias in between) with its batch norm folded into the pointwise part,
 * ReLU fused when the row says so.
 *
 * Backward: dx = depthwise(rot180(Kdw)) applied to (Kpw^T dy): the transposed 1x1 is a 1x1
 * convolution with the transposed matrix; the transposed k x k "same" depthwise convolution is a
 * depthwise convolution with each kernel rotated by 180 degrees.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

static void shape(const gc_layer_def *d, int ih, int iw, int *oh, int *ow) {
  (void)d;
  *oh = ih;
  *ow = iw;
}

static enum xnn_status create_depthwise(const float *dw, int c, int k, xnn_operator_t *op) {
  const int p = (k - 1) / 2;
  return xnn_create_convolution2d_nhwc_f32(p, p, p, p, k, k, 1, 1, 1, 1, c, 1, 1, c, c, dw, NULL, -INFINITY,
                                           INFINITY, XNN_FLAG_DEPTHWISE_CONVOLUTION, NULL, NULL, op);
}

static enum xnn_status create_pointwise(const float *pw, const float *bias, int ci, int co, float out_min,
                                        xnn_operator_t *op) {
  return xnn_create_convolution2d_nhwc_f32(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, ci, co, ci, co, pw, bias, out_min,
                                           INFINITY, 0, NULL, NULL, op);
}

static gc_status create(gc_model *m, int i, char *err, size_t errlen) {
  const gc_layer *r = &m->rows[i];
  gc_node *n = &m->nodes[i];
  float *k = NULL, *dw = NULL, *bias = NULL;
  gc_status s = gc_row_weights(m, i, &k, &dw, &bias, err, errlen);
  if (s != GC_OK) return s;
  enum xnn_status xs = create_depthwise(dw, r->cin, r->def->kernel, &n->op);
  if (xs == xnn_status_success)
    xs = create_pointwise(k, bias, r->cin, r->cout, r->def->relu ? 0.0f : -INFINITY, &n->op2);
  free(k), free(dw), free(bias);
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "create", r->def->name, xs);
}

static gc_status reshape(gc_model *m, int i, size_t batch, int ih, int iw, gc_reshape_need *need) {
  const gc_layer *r = &m->rows[i];
  const gc_node *n = &m->nodes[i];
  gc_status s = gc_op_reshape_conv(m, n->op, r->def->name, batch, ih, iw, ih, iw, &need->workspace);
  if (s == GC_OK) s = gc_op_reshape_conv(m, n->op2, r->def->name, batch, ih, iw, n->h, n->w, &need->workspace);
  const size_t depthwise = batch * (size_t)ih * iw * r->cin;
  if (depthwise > need->scratch) need->scratch = depthwise;
  return s;
}

static gc_status run(gc_model *m, int i, const float *in0, const float *in1, float *out) {
  (void)in1;
  const gc_node *n = &m->nodes[i];
  const char *name = m->rows[i].def->name;
  float *mid = gc_model_scratch(m);
  if (!mid) return GC_ERR_OUT_OF_MEMORY;
  gc_status s = gc_op_run_conv(m, n->op, 0, in0, mid, name);
  return s == GC_OK ? gc_op_run_conv(m, n->op2, 0, mid, out, name) : s;
}

/* The pre-activation: the depthwise part with the forward operator, then the pointwise part
 * without the ReLU clamp (created on first use). */
static gc_status preact(gc_model *m, int i, const float *in, float *out) {
  const gc_layer *r = &m->rows[i];
  gc_node *n = &m->nodes[i];
  if (!n->pre_op) {
    float *k = NULL, *dw = NULL, *bias = NULL;
    gc_status s = gc_row_weights(m, i, &k, &dw, &bias, m->error, sizeof m->error);
    if (s != GC_OK) return s;
    enum xnn_status xs = create_pointwise(k, bias, r->cin, r->cout, -INFINITY, &n->pre_op);
    free(k), free(dw), free(bias);
    if (xs != xnn_status_success) return gc_backend_error(m, "create", r->def->preact, xs);
  }
  size_t ws = 0;
  gc_status s = gc_op_reshape_conv(m, n->pre_op, r->def->preact, 1, n->h, n->w, n->h, n->w, &ws);
  if (s == GC_OK) s = gc_model_workspace(m, ws);
  float *mid = gc_model_scratch(m);
  if (s == GC_OK && !mid) s = GC_ERR_OUT_OF_MEMORY;
  if (s == GC_OK) s = gc_op_run_conv(m, n->op, 0, in, mid, r->def->preact);
  if (s == GC_OK) s = gc_op_run_conv(m, n->pre_op, 0, mid, out, r->def->preact);
  return s;
}

/* ---- backward --------------------------------------------------------------------------- */

enum xnn_status gc_create_sepconv_backward(const float *pw, const float *dw, int co, int ci, int ksize,
                                           xnn_operator_t *pw_op, xnn_operator_t *dw_op) {
  const size_t kk = (size_t)ksize * ksize;
  const size_t n = (size_t)ci * co > kk * ci ? (size_t)ci * co : kk * ci;
  float *t = malloc(n * sizeof *t);
  if (!t) return xnn_status_out_of_memory;
  for (int o = 0; o < co; o++)
    for (int c = 0; c < ci; c++) t[(size_t)c * co + o] = pw[(size_t)o * ci + c];
  enum xnn_status xs = create_pointwise(t, NULL, co, ci, -INFINITY, pw_op);
  /* depthwise with each kernel rotated by 180 degrees, same padding */
  for (size_t p = 0; p < kk; p++) memcpy(t + p * ci, dw + (kk - 1 - p) * ci, (size_t)ci * sizeof *t);
  if (xs == xnn_status_success) xs = create_depthwise(t, ci, ksize, dw_op);
  free(t);
  return xs;
}

/* The backward operators (once per model), reshaped for the current size (once per shape). */
static gc_status ready(gc_model *m, int i) {
  const gc_layer *r = &m->rows[i];
  gc_node *n = &m->nodes[i];
  if (!n->bop) {
    float *k = NULL, *dw = NULL, *bias = NULL;
    gc_status s = gc_row_weights(m, i, &k, &dw, &bias, m->error, sizeof m->error);
    if (s != GC_OK) return s;
    enum xnn_status xs = gc_create_sepconv_backward(k, dw, r->cout, r->cin, r->def->kernel, &n->bop, &n->bop2);
    free(k), free(dw), free(bias);
    if (xs != xnn_status_success) return gc_backend_error(m, "create backward", r->def->name, xs);
    n->bgen = 0;
  }
  if (n->bgen == m->shape_gen) return GC_OK;
  size_t ws = 0;
  gc_status s = gc_op_reshape_conv(m, n->bop, r->def->name, 1, n->h, n->w, n->h, n->w, &ws);
  if (s == GC_OK) s = gc_op_reshape_conv(m, n->bop2, r->def->name, 1, n->h, n->w, n->h, n->w, &ws);
  if (s == GC_OK) s = gc_model_workspace(m, ws);
  if (s == GC_OK) n->bgen = m->shape_gen;
  return s;
}

static gc_status backward(gc_model *m, int i, const float *g, int guided) {
  const gc_layer *r = &m->rows[i];
  gc_node *n = &m->nodes[i];
  const int a = r->in0;
  gc_status s = ready(m, i);
  if (s == GC_OK) s = gc_grad_ensure(m, a);
  if (s != GC_OK) return s;
  if (r->def->relu) { /* undo the fused ReLU: mask by the stored output */
    GC_PROFILE_START(tm);
    gc_relu_backward(m, m->bscratch[0], 0, g, n->out, gc_row_elems(m, i), guided);
    GC_PROFILE_ROW("mask", r->def->name, r->def->op, tm);
    g = m->bscratch[0];
  }
  s = gc_op_run_conv(m, n->bop, 0, g, m->bscratch[1], r->def->name);
  if (s == GC_OK) s = gc_op_run_conv(m, n->bop2, 0, m->bscratch[1], gc_grad_target(m, a), r->def->name);
  if (s == GC_OK) gc_grad_commit(m, a);
  return s;
}

/* Which taps of a "same" 3x3 reach inside the map depends only on whether an output position is
 * on the top / bottom row and left / right column, so the 9 classes of positions are summed
 * separately and laid out as a 3x3 map that has exactly those 9 border cases; its transposed
 * pass (pointwise then depthwise) sums to the same value. Needs a map of at least 2x2. */
static int summable(const gc_model *m, int i) {
  const gc_node *in = &m->nodes[m->rows[i].in0];
  return m->rows[i].def->kernel == 3 && in->h >= 2 && in->w >= 2;
}

static gc_status sums(gc_model *m, int i, const float *g, double *sum) {
  const gc_layer *r = &m->rows[i];
  gc_node *n = &m->nodes[i];
  const int ci = r->cin;
  gc_status s = ready(m, i);
  if (s != GC_OK) return s;
  /* small (3x3 of co channels) -> pointwise -> mid -> depthwise -> res */
  float *small = m->bscratch[1], *mid = m->bscratch[2], *res = m->bscratch[0];
  if ((s = gc_class_sums(m, g, r->def->relu ? n->out : NULL, n->h, n->w, r->cout, 9, small)) != GC_OK) return s;
  size_t ws = 0;
  s = gc_op_reshape_conv(m, n->bop, r->def->name, 1, 3, 3, 3, 3, &ws);
  if (s == GC_OK) s = gc_model_workspace(m, ws);
  if (s == GC_OK) s = gc_op_run_conv(m, n->bop, 0, small, mid, r->def->name);
  if (s == GC_OK) s = gc_op_reshape_conv(m, n->bop2, r->def->name, 1, 3, 3, 3, 3, &ws);
  if (s == GC_OK) s = gc_model_workspace(m, ws);
  if (s == GC_OK) s = gc_op_run_conv(m, n->bop2, 0, mid, res, r->def->name);
  n->bgen = 0; /* reshaped for the tiny map: the full pass reshapes again */
  if (s != GC_OK) return s;
  for (size_t p = 0; p < 9; p++)
    for (int k = 0; k < ci; k++) sum[k] += res[p * ci + k];
  return GC_OK;
}

static size_t params(const gc_layer *r) {
  return (size_t)r->def->kernel * r->def->kernel * r->cin + (size_t)r->cout * r->cin + 4u * r->cout;
}

const gc_op_kind gc_op_sepconv = {"sepconv", shape, create, reshape, run, preact, backward, summable, sums, params};
