/* conv.c - regular convolution with its batch norm folded in (Xception's stem 3x3 and the
 * residual 1x1 convolutions), ReLU fused when the row says so.
 *
 * Backward: dx = the transposed convolution of dy with the folded weights. A kernel larger
 * than 1 runs as an XNNPACK deconvolution (the output adjustment brings valid padding and
 * stride 2 back to the input size); a 1x1 kernel of any stride runs as a 1x1 convolution with
 * the transposed matrix on the strided grid, scattered to the cells the forward pass sampled.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

static void shape(const gc_layer_def *d, int ih, int iw, int *oh, int *ow) {
  if (d->same) {
    *oh = (ih + d->stride - 1) / d->stride;
    *ow = (iw + d->stride - 1) / d->stride;
  } else {
    *oh = (ih - d->kernel) / d->stride + 1;
    *ow = (iw - d->kernel) / d->stride + 1;
  }
}

static enum xnn_status create_conv(const gc_layer *r, const float *k, const float *bias, float out_min,
                                   xnn_operator_t *op) {
  const gc_layer_def *d = r->def;
  return xnn_create_convolution2d_nhwc_f32(0, 0, 0, 0, d->kernel, d->kernel, d->stride, d->stride, 1, 1, 1, r->cin,
                                           r->cout, r->cin, r->cout, k, bias, out_min, INFINITY,
                                           d->same ? XNN_FLAG_TENSORFLOW_SAME_PADDING : 0, NULL, NULL, op);
}

static gc_status create(gc_model *m, int i, char *err, size_t errlen) {
  const gc_layer *r = &m->rows[i];
  float *k = NULL, *dw = NULL, *bias = NULL;
  gc_status s = gc_row_weights(m, i, &k, &dw, &bias, err, errlen);
  if (s != GC_OK) return s;
  enum xnn_status xs = create_conv(r, k, bias, r->def->relu ? 0.0f : -INFINITY, &m->nodes[i].op);
  free(k), free(dw), free(bias);
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "create", r->def->name, xs);
}

static gc_status reshape(gc_model *m, int i, size_t batch, int ih, int iw, gc_reshape_need *need) {
  const gc_node *n = &m->nodes[i];
  return gc_op_reshape_conv(m, n->op, m->rows[i].def->name, batch, ih, iw, n->h, n->w, &need->workspace);
}

static gc_status run(gc_model *m, int i, const float *in0, const float *in1, float *out) {
  (void)in1;
  return gc_op_run_conv(m, m->nodes[i].op, 0, in0, out, m->rows[i].def->name);
}

/* The pre-activation: the same convolution without the ReLU clamp (created on first use). */
static gc_status preact(gc_model *m, int i, const float *in, float *out) {
  const gc_layer *r = &m->rows[i];
  gc_node *n = &m->nodes[i];
  if (!n->pre_op) {
    float *k = NULL, *dw = NULL, *bias = NULL;
    gc_status s = gc_row_weights(m, i, &k, &dw, &bias, m->error, sizeof m->error);
    if (s != GC_OK) return s;
    enum xnn_status xs = create_conv(r, k, bias, -INFINITY, &n->pre_op);
    free(k), free(dw), free(bias);
    if (xs != xnn_status_success) return gc_backend_error(m, "create", r->def->preact, xs);
  }
  const gc_node *src = &m->nodes[r->in0];
  size_t ws = 0;
  gc_status s = gc_op_reshape_conv(m, n->pre_op, r->def->preact, 1, src->h, src->w, n->h, n->w, &ws);
  if (s == GC_OK) s = gc_model_workspace(m, ws);
  if (s == GC_OK) s = gc_op_run_conv(m, n->pre_op, 0, in, out, r->def->preact);
  return s;
}

/* ---- backward --------------------------------------------------------------------------- */

enum xnn_status gc_create_conv_backward(const float *k, int co, int ci, int ksize, int stride, xnn_operator_t *op) {
  /* deconvolution kernel [in][kh][kw][out] = forward [out][kh][kw][in] with channels swapped */
  const int kk = ksize * ksize;
  float *t = malloc((size_t)ci * kk * co * sizeof *t);
  if (!t) return xnn_status_out_of_memory;
  for (int o = 0; o < co; o++)
    for (int p = 0; p < kk; p++)
      for (int c = 0; c < ci; c++) t[((size_t)c * kk + p) * co + o] = k[((size_t)o * kk + p) * ci + c];
  enum xnn_status xs = xnn_create_deconvolution2d_nhwc_f32(0, 0, 0, 0, ksize, ksize, stride, stride, 1, 1, 1, co, ci,
                                                           co, ci, t, NULL, -INFINITY, INFINITY, 0, NULL, NULL, op);
  free(t);
  return xs;
}

enum xnn_status gc_create_pointwise_backward(const float *k, int co, int ci, xnn_operator_t *op) {
  float *t = malloc((size_t)ci * co * sizeof *t);
  if (!t) return xnn_status_out_of_memory;
  for (int o = 0; o < co; o++)
    for (int c = 0; c < ci; c++) t[(size_t)c * co + o] = k[(size_t)o * ci + c];
  enum xnn_status xs = xnn_create_convolution2d_nhwc_f32(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, co, ci, co, ci, t, NULL,
                                                         -INFINITY, INFINITY, 0, NULL, NULL, op);
  free(t);
  return xs;
}

typedef struct scatter_ctx {
  const float *src;
  float *dst;
  int oh, ow, ih, iw, c, stride, accumulate;
} scatter_ctx;

static void scatter_row(void *ctx_, size_t y_) {
  const scatter_ctx *p = ctx_;
  const int y = (int)y_, s = p->stride, C = p->c;
  float *d = p->dst + (size_t)y * p->iw * C;
  const int hit = y % s == 0 && y / s < p->oh;
  for (int x = 0; x < p->iw; x++, d += C) {
    if (hit && x % s == 0 && x / s < p->ow) {
      const float *v = p->src + ((size_t)(y / s) * p->ow + x / s) * C;
      if (p->accumulate)
        for (int k = 0; k < C; k++) d[k] += v[k];
      else
        memcpy(d, v, (size_t)C * sizeof *d);
    } else if (!p->accumulate) {
      memset(d, 0, (size_t)C * sizeof *d);
    }
  }
}

void gc_strided_scatter(pthreadpool_t pool, const float *src, int oh, int ow, int c, int stride, float *dst, int ih,
                        int iw, int accumulate) {
  scatter_ctx p = {src, dst, oh, ow, ih, iw, c, stride, accumulate};
  pthreadpool_parallelize_1d(pool, scatter_row, &p, (size_t)ih, 0);
}

/* The backward operator (once per model), reshaped for the current size (once per shape). */
static gc_status ready(gc_model *m, int i) {
  const gc_layer *r = &m->rows[i];
  const gc_layer_def *d = r->def;
  gc_node *n = &m->nodes[i];
  if (!n->bop) {
    float *k = NULL, *dw = NULL, *bias = NULL;
    gc_status s = gc_row_weights(m, i, &k, &dw, &bias, m->error, sizeof m->error);
    if (s != GC_OK) return s;
    enum xnn_status xs = d->kernel == 1 ? gc_create_pointwise_backward(k, r->cout, r->cin, &n->bop)
                                        : gc_create_conv_backward(k, r->cout, r->cin, d->kernel, d->stride, &n->bop);
    free(k), free(dw), free(bias);
    if (xs != xnn_status_success) return gc_backend_error(m, "create backward", d->name, xs);
    n->bgen = 0;
  }
  if (n->bgen == m->shape_gen) return GC_OK;
  const gc_node *in = &m->nodes[r->in0];
  if (d->kernel == 1) { /* 1x1 on the strided grid */
    const int s = d->stride;
    if ((in->h + s - 1) / s != n->h || (in->w + s - 1) / s != n->w) {
      gc_set_error(m->error, sizeof m->error, "internal: 1x1 backward shape at %s", d->name);
      return GC_ERR_BACKEND;
    }
    size_t ws = 0;
    gc_status st = gc_op_reshape_conv(m, n->bop, d->name, 1, n->h, n->w, n->h, n->w, &ws);
    if (st == GC_OK) st = gc_model_workspace(m, ws);
    if (st != GC_OK) return st;
  } else {
    const int s = d->stride, k = d->kernel;
    const int adj_h = in->h - ((n->h - 1) * s + k), adj_w = in->w - ((n->w - 1) * s + k);
    if (adj_h < 0 || adj_h >= s || adj_w < 0 || adj_w >= s) {
      gc_set_error(m->error, sizeof m->error, "internal: deconvolution adjustment %d,%d at %s", adj_h, adj_w, d->name);
      return GC_ERR_BACKEND;
    }
    size_t oh = 0, ow = 0;
    enum xnn_status xs = xnn_reshape_deconvolution2d_nhwc_f32(n->bop, 1, n->h, n->w, adj_h, adj_w, &oh, &ow, m->pool);
    if (xs != xnn_status_success) return gc_backend_error(m, "reshape backward", d->name, xs);
    if ((int)oh != in->h || (int)ow != in->w) {
      gc_set_error(m->error, sizeof m->error, "internal: backward of %s gives %zux%zu, not %dx%d", d->name, oh, ow,
                   in->h, in->w);
      return GC_ERR_BACKEND;
    }
  }
  n->bgen = m->shape_gen;
  return GC_OK;
}

static gc_status backward(gc_model *m, int i, const float *g, int guided) {
  const gc_layer *r = &m->rows[i];
  gc_node *n = &m->nodes[i];
  const int a = r->in0;
  gc_status s = ready(m, i);
  if (s == GC_OK) s = gc_grad_ensure(m, a);
  if (s != GC_OK) return s;
  if (r->def->relu) { /* undo the fused ReLU: mask by the stored output */
    gc_relu_backward(m, m->bscratch[0], 0, g, n->out, gc_row_elems(m, i), guided);
    g = m->bscratch[0];
  }
  if (r->def->kernel == 1) {
    /* a GEMM on the strided grid, then scattered (added) to the cells the forward pass
     * sampled; the others get nothing from this row */
    gc_node *d = &m->nodes[a];
    if ((s = gc_op_run_conv(m, n->bop, 0, g, m->bscratch[1], r->def->name)) != GC_OK) return s;
    gc_strided_scatter(m->pool, m->bscratch[1], n->h, n->w, r->cin, r->def->stride, d->grad, d->h, d->w,
                       d->has_grad);
    d->has_grad = 1;
    return GC_OK;
  }
  s = gc_op_run_conv(m, n->bop, 1, g, gc_grad_target(m, a), r->def->name);
  if (s == GC_OK) gc_grad_commit(m, a);
  return s;
}

/* A valid convolution's (valid padding, or a 1x1 kernel) input-gradient sum: every output
 * position sees all its taps, so sum_p dx[p] is the transposed convolution of one pixel holding
 * sum_q g[q]. */
static int summable(const gc_model *m, int i) {
  const gc_layer_def *d = m->rows[i].def;
  return !d->same || d->kernel == 1;
}

static gc_status sums(gc_model *m, int i, const float *g, double *sum) {
  const gc_layer *r = &m->rows[i];
  gc_node *n = &m->nodes[i];
  const int ci = r->cin;
  gc_status s = ready(m, i);
  if (s != GC_OK) return s;
  float *small = m->bscratch[1], *res = m->bscratch[2];
  /* undoing the row's fused ReLU (Grad-CAM: not guided) is a mask, applied while summing */
  if ((s = gc_class_sums(m, g, r->def->relu ? n->out : NULL, n->h, n->w, r->cout, 1, small)) != GC_OK) return s;
  size_t oh = 1, ow = 1;
  enum xnn_status xs;
  if (r->def->kernel == 1) {
    size_t ws = 0;
    if ((s = gc_op_reshape_conv(m, n->bop, r->def->name, 1, 1, 1, 1, 1, &ws)) != GC_OK) return s;
    if ((s = gc_model_workspace(m, ws)) != GC_OK) return s;
    xs = xnn_setup_convolution2d_nhwc_f32(n->bop, m->workspace, small, res);
  } else {
    xs = xnn_reshape_deconvolution2d_nhwc_f32(n->bop, 1, 1, 1, 0, 0, &oh, &ow, m->pool);
    if (xs == xnn_status_success) xs = xnn_setup_deconvolution2d_nhwc_f32(n->bop, small, res);
  }
  if (xs == xnn_status_success) xs = xnn_run_operator(n->bop, m->pool);
  n->bgen = 0; /* reshaped for the tiny map: the full pass reshapes again */
  if (xs != xnn_status_success) return gc_backend_error(m, "run backward sums", r->def->name, xs);
  for (size_t p = 0; p < oh * ow; p++)
    for (int k = 0; k < ci; k++) sum[k] += res[p * ci + k];
  return GC_OK;
}

static size_t params(const gc_layer *r) {
  return (size_t)r->cout * r->def->kernel * r->def->kernel * r->cin + 4u * r->cout;
}

const gc_op_kind gc_op_conv = {"conv", shape, create, reshape, run, preact, backward, summable, sums, params};
