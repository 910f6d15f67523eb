/* backward.c - gradient of one class score with respect to any named activation or the input.
 *
 * The backward pass walks the same layer table as the forward pass, in reverse, from the
 * logits down to the requested layer, and only through the rows that depend on it. No weight
 * gradients are needed, so each row's backward is one operator:
 *
 *   dense            dx = W^T dy                           (plain loop, W kept as float32)
 *   global avg pool  dx = dy / (H * W) everywhere
 *   ReLU             dx = dy * [x > 0]      guided: dy * [x > 0] * [dy > 0]
 *   conv + BN        dx = transposed convolution of dy with the folded weights
 *                    (XNNPACK deconvolution; stride-2 and valid padding via its adjustment);
 *                    the 1x1 stride-2 residuals: a 1x1 convolution with the transposed matrix
 *                    on the strided grid, scattered to the cells the forward pass sampled
 *   separable conv   dx = depthwise(rot180(Kdw)) applied to (Kpw^T dy): the transposed 1x1 is
 *                    a 1x1 convolution with the transposed matrix, the transposed 3x3 "same"
 *                    depthwise is a depthwise convolution with each kernel rotated by 180 degrees
 *   max pool 3x3/2   dy goes to the arg-max of its window (first maximum in row-major order,
 *                    as TensorFlow does; padded cells never win); windows overlap, so each
 *                    cell gathers from the windows it won (arg-max pass, then gather pass)
 *   residual add     dy goes unchanged to both inputs
 *
 * Fused ReLUs are undone first (mask by the stored output > 0). Backward operators are created
 * the first time a row is crossed (from the weights the model keeps) and reshaped only when
 * the input size changes; gradient buffers are allocated on first use.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

#define SCRATCH 3

static size_t row_elems(const gc_model *m, int i) {
  return (size_t)m->nodes[i].h * m->nodes[i].w * m->rows[i].cout;
}

/* Elementwise passes, split into chunks over the thread pool (they are memory-bound and would
 * otherwise run on one core while the convolutions use all of them). */
enum { EW_RELU, EW_ADD, EW_COPY };
typedef struct ew_ctx {
  int kind, accumulate, guided;
  float *dst;
  const float *g, *x;
  size_t n;
} ew_ctx;

#define EW_CHUNK 16384

static void ew_task(void *ctx_, size_t chunk) {
  const ew_ctx *c = ctx_;
  const size_t lo = chunk * EW_CHUNK, hi = lo + EW_CHUNK < c->n ? lo + EW_CHUNK : c->n;
  float *d = c->dst;
  const float *g = c->g, *x = c->x;
  switch (c->kind) {
    case EW_RELU: /* d (+)= g * [x > 0] (* [g > 0] when guided); one branch-free loop per
                     variant, with the loads outside the selects, so each one vectorises */
      if (c->guided && c->accumulate)
        for (size_t k = lo; k < hi; k++) {
          const float gk = g[k], xk = x[k];
          d[k] += xk > 0.0f && gk > 0.0f ? gk : 0.0f;
        }
      else if (c->guided)
        for (size_t k = lo; k < hi; k++) {
          const float gk = g[k], xk = x[k];
          d[k] = xk > 0.0f && gk > 0.0f ? gk : 0.0f;
        }
      else if (c->accumulate)
        for (size_t k = lo; k < hi; k++) {
          const float gk = g[k], xk = x[k];
          d[k] += xk > 0.0f ? gk : 0.0f;
        }
      else
        for (size_t k = lo; k < hi; k++) {
          const float gk = g[k], xk = x[k];
          d[k] = xk > 0.0f ? gk : 0.0f;
        }
      break;
    case EW_ADD:
      for (size_t k = lo; k < hi; k++) d[k] += g[k];
      break;
    default:
      memcpy(d + lo, g + lo, (hi - lo) * sizeof *d);
      break;
  }
}

static void ew(gc_model *m, int kind, float *dst, int accumulate, const float *g, const float *x, size_t n,
               int guided) {
  ew_ctx c = {kind, accumulate, guided, dst, g, x, n};
  pthreadpool_parallelize_1d(m->pool, ew_task, &c, (n + EW_CHUNK - 1) / EW_CHUNK, 0);
}

static void relu_backward(gc_model *m, float *dst, int accumulate, const float *g, const float *x, size_t n,
                          int guided) {
  ew(m, EW_RELU, dst, accumulate, g, x, n, guided);
}

void gc_backward_release(gc_model *m) {
  for (int i = 0; m->nodes && i < m->nrows; i++) {
    gc_node *n = &m->nodes[i];
    if (n->bop) xnn_delete_operator(n->bop);
    if (n->bop2) xnn_delete_operator(n->bop2);
    n->bop = n->bop2 = NULL;
    free(n->grad);
    n->grad = NULL;
    n->has_grad = 0;
  }
  for (int k = 0; k < SCRATCH; k++) {
    free(m->bscratch[k]);
    m->bscratch[k] = NULL;
  }
  m->bscratch_size = 0;
  free(m->dense_kernel);
  m->dense_kernel = NULL;
}

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

/* A 1x1 convolution with the transposed matrix [in][out] of pointwise weights [co][ci]. */
static enum xnn_status create_pointwise_transposed(const float *pw, int co, int ci, float *t, xnn_operator_t *op) {
  for (int o = 0; o < co; o++)
    for (int c = 0; c < ci; c++) t[(size_t)c * co + o] = pw[(size_t)o * ci + c];
  return xnn_create_convolution2d_nhwc_f32(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, co, ci, co, ci, t, NULL, -INFINITY,
                                           INFINITY, 0, NULL, NULL, op);
}

enum xnn_status gc_create_pointwise_backward(const float *k, int co, int ci, xnn_operator_t *op) {
  float *t = malloc((size_t)ci * co * sizeof *t);
  if (!t) return xnn_status_out_of_memory;
  enum xnn_status xs = create_pointwise_transposed(k, co, ci, t, op);
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

enum xnn_status gc_create_sepconv_backward(const float *pw, const float *dw, int co, int ci, xnn_operator_t *pw_op,
                                           xnn_operator_t *dw_op) {
  const size_t n = (size_t)ci * co > (size_t)9 * ci ? (size_t)ci * co : (size_t)9 * ci;
  float *t = malloc(n * sizeof *t);
  if (!t) return xnn_status_out_of_memory;
  enum xnn_status xs = create_pointwise_transposed(pw, co, ci, t, pw_op);
  /* depthwise with each 3x3 kernel rotated by 180 degrees, same padding */
  for (int p = 0; p < 9; p++) memcpy(t + (size_t)p * ci, dw + (size_t)(8 - p) * ci, (size_t)ci * sizeof *t);
  if (xs == xnn_status_success)
    xs = xnn_create_convolution2d_nhwc_f32(1, 1, 1, 1, 3, 3, 1, 1, 1, 1, ci, 1, 1, ci, ci, t, NULL, -INFINITY,
                                           INFINITY, XNN_FLAG_DEPTHWISE_CONVOLUTION, NULL, NULL, dw_op);
  free(t);
  return xs;
}

/* Create the backward operators of a convolution row (once per model). */
static gc_status create_backward_ops(gc_model *m, int i) {
  gc_node *n = &m->nodes[i];
  if (n->bop) return GC_OK;
  const gc_layer *r = &m->rows[i];
  const gc_layer_def *d = r->def;
  float *k = NULL, *dw = NULL, *bias = NULL;
  gc_status s = gc_row_weights(m, i, &k, &dw, &bias, m->error, sizeof m->error);
  if (s != GC_OK) return s;
  enum xnn_status xs = d->op == GC_OP_SEPCONV ? gc_create_sepconv_backward(k, dw, r->cout, r->cin, &n->bop, &n->bop2)
                       : d->kernel == 1       ? gc_create_pointwise_backward(k, r->cout, r->cin, &n->bop)
                                              : gc_create_conv_backward(k, r->cout, r->cin, d->kernel, d->stride, &n->bop);
  free(k);
  free(dw);
  free(bias);
  if (xs != xnn_status_success) s = gc_backend_error(m, "create backward", d->name, xs);
  n->bshape_h = n->bshape_w = 0;
  return s;
}

gc_status gc_dense_kernel(gc_model *m, const float **kernel) {
  if (!m->dense_kernel) {
    float *k = NULL, *dw = NULL, *bias = NULL;
    gc_status s = gc_row_weights(m, m->nrows - 1, &k, &dw, &bias, m->error, sizeof m->error);
    free(bias);
    if (s != GC_OK) return s;
    m->dense_kernel = k;
  }
  *kernel = m->dense_kernel;
  return GC_OK;
}

static gc_status ensure_workspace(gc_model *m, size_t ws) {
  if (ws <= m->workspace_size) return GC_OK;
  void *nw = NULL;
  if (posix_memalign(&nw, 64, (ws + 63) / 64 * 64) != 0) return GC_ERR_OUT_OF_MEMORY;
  free(m->workspace);
  m->workspace = nw;
  m->workspace_size = ws;
  return GC_OK;
}

/* Reshape a row's backward operators for the current size (only when it changed). */
static gc_status reshape_backward_ops(gc_model *m, int i) {
  gc_node *n = &m->nodes[i];
  const gc_layer *r = &m->rows[i];
  const gc_node *in = &m->nodes[r->in0];
  if (n->bshape_h == n->h && n->bshape_w == n->w) return GC_OK;
  enum xnn_status xs;
  size_t oh = 0, ow = 0, ws = 0, wa = 0;
  if (r->def->op == GC_OP_CONV && r->def->kernel == 1) { /* residual: 1x1 on the strided grid */
    const int s = r->def->stride;
    xs = xnn_reshape_convolution2d_nhwc_f32(n->bop, 1, n->h, n->w, &ws, &wa, &oh, &ow, m->pool);
    if (xs == xnn_status_success && ensure_workspace(m, ws) != GC_OK) return GC_ERR_OUT_OF_MEMORY;
    if (xs == xnn_status_success && ((int)oh != n->h || (int)ow != n->w || (in->h + s - 1) / s != n->h ||
                                     (in->w + s - 1) / s != n->w)) {
      gc_set_error(m->error, sizeof m->error, "internal: residual backward shape at %s", r->def->name);
      return GC_ERR_BACKEND;
    }
    oh = in->h, ow = in->w;
  } else if (r->def->op == GC_OP_CONV) {
    const int s = r->def->stride, k = r->def->kernel;
    const int adj_h = in->h - ((n->h - 1) * s + k), adj_w = in->w - ((n->w - 1) * s + k);
    if (adj_h < 0 || adj_h >= s || adj_w < 0 || adj_w >= s) {
      gc_set_error(m->error, sizeof m->error, "internal: deconvolution adjustment %d,%d at %s", adj_h, adj_w,
                   r->def->name);
      return GC_ERR_BACKEND;
    }
    xs = xnn_reshape_deconvolution2d_nhwc_f32(n->bop, 1, n->h, n->w, adj_h, adj_w, &oh, &ow, m->pool);
  } else {
    xs = xnn_reshape_convolution2d_nhwc_f32(n->bop, 1, n->h, n->w, &ws, &wa, &oh, &ow, m->pool);
    if (xs == xnn_status_success && ensure_workspace(m, ws) != GC_OK) return GC_ERR_OUT_OF_MEMORY;
    if (xs == xnn_status_success)
      xs = xnn_reshape_convolution2d_nhwc_f32(n->bop2, 1, n->h, n->w, &ws, &wa, &oh, &ow, m->pool);
    if (xs == xnn_status_success && ensure_workspace(m, ws) != GC_OK) return GC_ERR_OUT_OF_MEMORY;
  }
  if (xs != xnn_status_success) return gc_backend_error(m, "reshape backward", r->def->name, xs);
  if ((int)oh != in->h || (int)ow != in->w) {
    gc_set_error(m->error, sizeof m->error, "internal: backward of %s gives %zux%zu, not %dx%d", r->def->name, oh,
                 ow, in->h, in->w);
    return GC_ERR_BACKEND;
  }
  n->bshape_h = n->h;
  n->bshape_w = n->w;
  return GC_OK;
}

static gc_status ensure_scratch(gc_model *m) {
  size_t need = 0;
  for (int i = 0; i < m->nrows; i++) {
    size_t e = (size_t)m->nodes[i].h * m->nodes[i].w * (m->rows[i].cin > m->rows[i].cout ? m->rows[i].cin : m->rows[i].cout);
    if (e > need) need = e;
  }
  if (need <= m->bscratch_size && m->back_h == m->in_h && m->back_w == m->in_w) return GC_OK;
  for (int k = 0; k < SCRATCH; k++) {
    free(m->bscratch[k]);
    m->bscratch[k] = gc_alloc_buffer(need);
    if (!m->bscratch[k]) {
      m->bscratch_size = 0;
      return GC_ERR_OUT_OF_MEMORY;
    }
  }
  m->bscratch_size = need;
  m->back_h = m->in_h;
  m->back_w = m->in_w;
  return GC_OK;
}

static gc_status ensure_grad(gc_model *m, int i) {
  gc_node *n = &m->nodes[i];
  if (!n->grad) n->grad = gc_alloc_buffer(row_elems(m, i));
  return n->grad ? GC_OK : GC_ERR_OUT_OF_MEMORY;
}

/* Where a contribution to row `dst`'s gradient should be written: straight into its buffer
 * when it is the first, else into a scratch buffer that add_contribution() then adds. */
static float *contribution_target(gc_model *m, int dst) {
  return m->nodes[dst].has_grad ? m->bscratch[2] : m->nodes[dst].grad;
}
static void add_contribution(gc_model *m, int dst) {
  gc_node *n = &m->nodes[dst];
  if (n->has_grad) ew(m, EW_ADD, n->grad, 1, m->bscratch[2], NULL, row_elems(m, dst), 0);
  n->has_grad = 1;
}

typedef struct pool_ctx {
  const float *x, *g;
  float *dx;
  int32_t *arg;
  int ih, iw, oh, ow, c, pt, pl, accumulate;
} pool_ctx;

#define POOL_CB 64 /* channels per inner block: short fixed-length loops the compiler vectorises */

/* Pass 1, one output row: the position (0..8, row-major in the 3x3 window) of each window's
 * first maximum, -1 when no cell beats -inf (padded cells are never candidates). */
static void pool_argmax_row(void *ctx_, size_t oy_) {
  const pool_ctx *p = ctx_;
  const int oy = (int)oy_, y0 = 2 * oy - p->pt, C = p->c;
  for (int ox = 0; ox < p->ow; ox++) {
    const int x0 = 2 * ox - p->pl;
    int32_t *arg = p->arg + ((size_t)oy * p->ow + ox) * C;
    for (int c0 = 0; c0 < C; c0 += POOL_CB) {
      const int nc = c0 + POOL_CB < C ? POOL_CB : C - c0;
      float best[POOL_CB];
      int32_t at[POOL_CB];
      for (int k = 0; k < nc; k++) best[k] = -INFINITY, at[k] = -1;
      for (int dy = 0; dy < 3; dy++) {
        const int y = y0 + dy;
        if (y < 0 || y >= p->ih) continue;
        for (int dx = 0; dx < 3; dx++) {
          const int x = x0 + dx;
          if (x < 0 || x >= p->iw) continue;
          const float *v = p->x + ((size_t)y * p->iw + x) * C + c0;
          const int32_t pos = dy * 3 + dx;
          for (int k = 0; k < nc; k++) { /* strictly greater keeps the first of ties */
            const float vk = v[k], bk = best[k];
            const int32_t gt = -(int32_t)(vk > bk); /* a lane mask: the loop vectorises */
            best[k] = vk > bk ? vk : bk;
            at[k] = (pos & gt) | (at[k] & ~gt);
          }
        }
      }
      memcpy(arg + c0, at, (size_t)nc * sizeof *at);
    }
  }
}

/* Pass 2, one input row: each cell collects the gradient of the (up to 2x2) windows whose
 * arg-max it is, so every cell is written once and no zeroing pass is needed. */
static void pool_gather_row(void *ctx_, size_t y_) {
  const pool_ctx *p = ctx_;
  const int y = (int)y_, C = p->c;
  /* windows oy with 2*oy - pt <= y <= 2*oy - pt + 2 */
  int oy_lo = (y + p->pt - 1) / 2, oy_hi = (y + p->pt) / 2;
  if (oy_lo < 0) oy_lo = 0;
  if (oy_hi > p->oh - 1) oy_hi = p->oh - 1;
  for (int x = 0; x < p->iw; x++) {
    int ox_lo = (x + p->pl - 1) / 2, ox_hi = (x + p->pl) / 2;
    if (ox_lo < 0) ox_lo = 0;
    if (ox_hi > p->ow - 1) ox_hi = p->ow - 1;
    float *d = p->dx + ((size_t)y * p->iw + x) * C;
    if (!p->accumulate) memset(d, 0, (size_t)C * sizeof *d);
    for (int oy = oy_lo; oy <= oy_hi; oy++)
      for (int ox = ox_lo; ox <= ox_hi; ox++) {
        const int32_t pos = (y - (2 * oy - p->pt)) * 3 + (x - (2 * ox - p->pl));
        if (pos < 0 || pos > 8) continue;
        const size_t w = ((size_t)oy * p->ow + ox) * C;
        const int32_t *arg = p->arg + w;
        const float *g = p->g + w;
        for (int k = 0; k < C; k++) {
          const float gk = g[k];
          const int32_t ak = arg[k];
          d[k] += ak == pos ? gk : 0.0f;
        }
      }
  }
}

void gc_maxpool_backward(pthreadpool_t pool, const float *x, int ih, int iw, int c, const float *g, int oh, int ow,
                         float *dx, int accumulate, int32_t *argmax) {
  /* TF "same": pad_before = floor(total / 2) */
  const int th = (oh - 1) * 2 + 3 - ih, tw = (ow - 1) * 2 + 3 - iw;
  pool_ctx p = {x, g, dx, argmax, ih, iw, oh, ow, c, th > 0 ? th / 2 : 0, tw > 0 ? tw / 2 : 0, accumulate};
  pthreadpool_parallelize_1d(pool, pool_argmax_row, &p, (size_t)oh, 0);
  pthreadpool_parallelize_1d(pool, pool_gather_row, &p, (size_t)ih, 0);
}

static gc_status run_op(gc_model *m, xnn_operator_t op, int deconv, const float *in, float *out, const char *name) {
  enum xnn_status xs = deconv ? xnn_setup_deconvolution2d_nhwc_f32(op, in, out)
                              : xnn_setup_convolution2d_nhwc_f32(op, m->workspace, in, out);
  if (xs == xnn_status_success) xs = xnn_run_operator(op, m->pool);
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "run backward", name, xs);
}

/* Propagate row i's (complete) gradient into its inputs. */
static gc_status backward_row(gc_model *m, int i, int guided) {
  const gc_layer *r = &m->rows[i];
  gc_node *n = &m->nodes[i];
  const int a = r->in0, b = r->in1;
  gc_status s = GC_OK;
  const float *g = n->grad;
  switch (r->def->op) {
    case GC_OP_DENSE: {
      const float *kernel;
      if ((s = gc_dense_kernel(m, &kernel)) != GC_OK) return s;
      if ((s = ensure_grad(m, a)) != GC_OK) return s;
      float *dst = contribution_target(m, a);
      const int ci = r->cin, co = r->cout;
      for (int k = 0; k < ci; k++) dst[k] = 0.0f;
      for (int o = 0; o < co; o++) {
        if (g[o] == 0.0f) continue;
        const float *w = kernel + (size_t)o * ci;
        for (int k = 0; k < ci; k++) dst[k] += g[o] * w[k];
      }
      add_contribution(m, a);
      return GC_OK;
    }
    case GC_OP_GAP: {
      if ((s = ensure_grad(m, a)) != GC_OK) return s;
      float *dst = contribution_target(m, a);
      const size_t hw = (size_t)m->nodes[a].h * m->nodes[a].w, c = (size_t)r->cout;
      for (size_t p = 0; p < hw; p++)
        for (size_t k = 0; k < c; k++) dst[p * c + k] = g[k] / (float)hw;
      add_contribution(m, a);
      return GC_OK;
    }
    case GC_OP_RELU:
      if ((s = ensure_grad(m, a)) != GC_OK) return s;
      relu_backward(m, m->nodes[a].grad, m->nodes[a].has_grad, g, m->nodes[a].out, row_elems(m, i), guided);
      m->nodes[a].has_grad = 1;
      return GC_OK;
    case GC_OP_ADD:
      for (int k = 0; k < 2; k++) {
        const int dst = k ? b : a;
        gc_node *d = &m->nodes[dst];
        if (k == 0 && !d->has_grad) {
          /* the first input's gradient is this row's: hand the buffer over instead of copying
           * (this row's own gradient is not needed any more; the target row is never crossed) */
          float *t = d->grad;
          d->grad = n->grad;
          n->grad = t;
          n->has_grad = 0;
          d->has_grad = 1;
          continue;
        }
        if ((s = ensure_grad(m, dst)) != GC_OK) return s;
        ew(m, d->has_grad ? EW_ADD : EW_COPY, d->grad, 1, g, NULL, row_elems(m, dst), 0);
        d->has_grad = 1;
      }
      return GC_OK;
    case GC_OP_MAXPOOL: {
      if ((s = ensure_grad(m, a)) != GC_OK) return s;
      gc_node *d = &m->nodes[a];
      gc_maxpool_backward(m->pool, d->out, d->h, d->w, r->cin, g, n->h, n->w, d->grad, d->has_grad,
                          (int32_t *)m->bscratch[0]);
      d->has_grad = 1;
      return GC_OK;
    }
    case GC_OP_CONV:
    case GC_OP_SEPCONV: {
      if ((s = create_backward_ops(m, i)) != GC_OK) return s;
      if ((s = reshape_backward_ops(m, i)) != GC_OK) return s;
      if ((s = ensure_grad(m, a)) != GC_OK) return s;
      if (r->def->relu) { /* undo the fused ReLU: mask by the stored output */
        relu_backward(m, m->bscratch[0], 0, g, n->out, row_elems(m, i), guided);
        g = m->bscratch[0];
      }
      if (r->def->op == GC_OP_CONV && r->def->kernel == 1) {
        /* residual 1x1 stride s: a GEMM on the strided grid, then scattered (added) to the
         * cells the forward pass sampled; the others get nothing from this row */
        gc_node *d = &m->nodes[a];
        if ((s = run_op(m, n->bop, 0, g, m->bscratch[1], r->def->name)) != GC_OK) return s;
        gc_strided_scatter(m->pool, m->bscratch[1], n->h, n->w, r->cin, r->def->stride, d->grad, d->h, d->w,
                           d->has_grad);
        d->has_grad = 1;
        return GC_OK;
      }
      float *dst = contribution_target(m, a);
      if (r->def->op == GC_OP_CONV) {
        s = run_op(m, n->bop, 1, g, dst, r->def->name);
      } else {
        s = run_op(m, n->bop, 0, g, m->bscratch[1], r->def->name);
        if (s == GC_OK) s = run_op(m, n->bop2, 0, m->bscratch[1], dst, r->def->name);
      }
      if (s == GC_OK) add_contribution(m, a);
      return s;
    }
    case GC_OP_INPUT:
      return GC_OK;
  }
  return GC_OK;
}

gc_status gc_model_gradient(gc_model *m, int class_index, const char *layer, gc_target target, int guided,
                            const float **data, gc_shape *shape) {
  if (!m || !data || !shape || (target != GC_TARGET_LOGIT && target != GC_TARGET_PROB)) return GC_ERR_INVALID_ARGUMENT;
  *data = NULL;
  m->error[0] = 0;
  if (class_index < 0 || class_index >= GC_NUM_CLASSES) {
    gc_set_error(m->error, sizeof m->error, "class %d is not in 0..999", class_index);
    return GC_ERR_CLASS_OUT_OF_RANGE;
  }
  if (!layer) layer = "input";
  int t = gc_table_find(layer);
  const int pre = t < 0 ? gc_table_find_preact(layer) : -1;
  if (pre >= 0) t = pre;
  if (t < 0) {
    gc_set_error(m->error, sizeof m->error, "no layer named '%s'", layer);
    return GC_ERR_LAYER_UNKNOWN;
  }
  if (!m->ran) {
    gc_set_error(m->error, sizeof m->error, "run a forward pass first");
    return GC_ERR_NOT_RUN;
  }
  gc_status s = ensure_scratch(m);
  if (s != GC_OK) return s;
  for (int i = 0; i < m->nrows; i++) m->nodes[i].has_grad = 0;

  /* seed: d score / d logits */
  const int last = m->nrows - 1;
  if ((s = ensure_grad(m, last)) != GC_OK) return s;
  float *g = m->nodes[last].grad;
  if (target == GC_TARGET_LOGIT) {
    memset(g, 0, GC_NUM_CLASSES * sizeof *g);
    g[class_index] = 1.0f;
  } else { /* d p_c / d z_j = p_c (delta_cj - p_j) */
    const float pc = m->probs[class_index];
    for (int j = 0; j < GC_NUM_CLASSES; j++) g[j] = pc * ((j == class_index) - m->probs[j]);
  }
  m->nodes[last].has_grad = 1;

  /* only the rows that depend on the target take part */
  unsigned char *desc = calloc((size_t)m->nrows, 1);
  if (!desc) return GC_ERR_OUT_OF_MEMORY;
  desc[t] = 1;
  for (int i = t + 1; i < m->nrows; i++) {
    const gc_layer *r = &m->rows[i];
    desc[i] = (r->in0 >= 0 && desc[r->in0]) || (r->in1 >= 0 && desc[r->in1]);
  }
  for (int i = last; s == GC_OK && i > t; i--)
    if (desc[i] && m->nodes[i].has_grad) {
      GC_PROFILE_START(t0);
      s = backward_row(m, i, guided);
      GC_PROFILE_ROW("backward", m->rows[i].def->name, m->rows[i].def->op, t0);
    }
  free(desc);
  if (s != GC_OK) return s;
  gc_node *n = &m->nodes[t];
  if (!n->has_grad) { /* nothing reached it (cannot happen for layers the output depends on) */
    if ((s = ensure_grad(m, t)) != GC_OK) return s;
    memset(n->grad, 0, row_elems(m, t) * sizeof *n->grad);
    n->has_grad = 1;
  }
  const gc_op op = m->rows[t].def->op;
  memset(shape, 0, sizeof *shape);
  if (op == GC_OP_GAP || op == GC_OP_DENSE) {
    shape->ndim = 2;
    shape->dims[0] = 1;
    shape->dims[1] = m->rows[t].cout;
  } else {
    shape->ndim = 4;
    shape->dims[0] = 1;
    shape->dims[1] = n->h;
    shape->dims[2] = n->w;
    shape->dims[3] = m->rows[t].cout;
  }
  if (pre >= 0) { /* gradient at the pre-activation: through the fused ReLU */
    relu_backward(m, m->bscratch[0], 0, n->grad, n->out, row_elems(m, t), guided);
    *data = m->bscratch[0];
  } else {
    *data = n->grad;
  }
  return GC_OK;
}
