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
  uint8_t *arg;
  int ih, iw, oh, ow, c, pt, pl, accumulate;
} pool_ctx;

/* Pass 1, one output row: the position (0..8, row-major in the 3x3 window) of each window's
 * first maximum, 255 when no cell beats -inf (padded cells are never candidates). The window's
 * cells are gathered first (the 9 of an inner window, fewer at a padded edge); then one loop
 * over the channels keeps the best value and position in registers and vectorises. */
#define POOL_CB 64 /* channels per block */
#define POOL_STEP(j)                                  \
  {                                                   \
    const float v = cell[j][c0 + k];                  \
    const int32_t gt = -(int32_t)(v > b);             \
    b = v > b ? v : b;                                \
    a = (pos[j] & gt) | (a & ~gt);                    \
  }
static void pool_argmax_row(void *ctx_, size_t oy_) {
  const pool_ctx *p = ctx_;
  const int oy = (int)oy_, y0 = 2 * oy - p->pt, C = p->c;
  for (int ox = 0; ox < p->ow; ox++) {
    const int x0 = 2 * ox - p->pl;
    uint8_t *arg = p->arg + ((size_t)oy * p->ow + ox) * C;
    const float *cell[9];
    int32_t pos[9];
    int n = 0;
    for (int dy = 0; dy < 3; dy++)
      for (int dx = 0; dx < 3; dx++) {
        const int y = y0 + dy, x = x0 + dx;
        if (y < 0 || y >= p->ih || x < 0 || x >= p->iw) continue;
        cell[n] = p->x + ((size_t)y * p->iw + x) * C;
        pos[n++] = dy * 3 + dx;
      }
    if (n < 9) { /* a window cut by the padding */
      const int c0 = 0;
      for (int k = 0; k < C; k++) {
        float b = -INFINITY;
        int32_t a = 255;
        for (int j = 0; j < n; j++) POOL_STEP(j)
        arg[k] = (uint8_t)a;
      }
      continue;
    }
    for (int c0 = 0; c0 < C; c0 += POOL_CB) {
      /* positions go to a local block first: a byte store could alias the float loads and
       * keep the compiler from vectorising */
      const int nc = c0 + POOL_CB < C ? POOL_CB : C - c0;
      int32_t at[POOL_CB];
      for (int k = 0; k < nc; k++) { /* strictly greater keeps the first of ties */
        float b = -INFINITY;
        int32_t a = 255;
        POOL_STEP(0) POOL_STEP(1) POOL_STEP(2) POOL_STEP(3) POOL_STEP(4)
        POOL_STEP(5) POOL_STEP(6) POOL_STEP(7) POOL_STEP(8)
        at[k] = a;
      }
      for (int k = 0; k < nc; k++) arg[c0 + k] = (uint8_t)at[k];
    }
  }
}
#undef POOL_STEP

/* Pass 2, one input row: each cell collects the gradient of the windows (1, 2 or 2x2) whose
 * arg-max it is, in one pass per cell, so every cell is written once and nothing is zeroed. */
static inline float pool_pick(uint8_t a, int32_t q, float g) { return a == q ? g : 0.0f; }
#define POOL_TERM(j) pool_pick(a##j[k], q##j, g##j[k]) /* both loads unconditional */
#define POOL_GATHER(expr)                                              \
  do {                                                                 \
    if (p->accumulate)                                                 \
      for (int k = 0; k < C; k++) {                                    \
        const float v_ = (expr);                                       \
        d[k] += v_;                                                    \
      }                                                                \
    else                                                               \
      for (int k = 0; k < C; k++) d[k] = (expr);                       \
  } while (0)
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
    const float *gw[4] = {NULL, NULL, NULL, NULL};
    const uint8_t *aw[4] = {NULL, NULL, NULL, NULL};
    int32_t pw[4] = {0, 0, 0, 0}, nw = 0;
    for (int oy = oy_lo; oy <= oy_hi; oy++)
      for (int ox = ox_lo; ox <= ox_hi; ox++) {
        const int32_t pos = (y - (2 * oy - p->pt)) * 3 + (x - (2 * ox - p->pl));
        if (pos < 0 || pos > 8 || nw == 4) continue;
        const size_t w = ((size_t)oy * p->ow + ox) * C;
        gw[nw] = p->g + w, aw[nw] = p->arg + w, pw[nw++] = pos;
      }
    /* restrict-qualified names for the windows: the loops below vectorise without alias checks */
    float *restrict d = p->dx + ((size_t)y * p->iw + x) * C;
    const float *restrict g0 = gw[0], *restrict g1 = gw[1], *restrict g2 = gw[2], *restrict g3 = gw[3];
    const uint8_t *restrict a0 = aw[0], *restrict a1 = aw[1], *restrict a2 = aw[2], *restrict a3 = aw[3];
    const int32_t q0 = pw[0], q1 = pw[1], q2 = pw[2], q3 = pw[3];
    switch (nw) {
      case 0:
        if (!p->accumulate) memset(d, 0, (size_t)C * sizeof *d);
        break;
      case 1: POOL_GATHER(POOL_TERM(0)); break;
      case 2: POOL_GATHER(POOL_TERM(0) + POOL_TERM(1)); break;
      case 3: POOL_GATHER(POOL_TERM(0) + POOL_TERM(1) + POOL_TERM(2)); break;
      default: POOL_GATHER((POOL_TERM(0) + POOL_TERM(1)) + (POOL_TERM(2) + POOL_TERM(3))); break;
    }
  }
}
#undef POOL_GATHER
#undef POOL_TERM

void gc_maxpool_backward(pthreadpool_t pool, const float *x, int ih, int iw, int c, const float *g, int oh, int ow,
                         float *dx, int accumulate, uint8_t *argmax) {
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
                          (uint8_t *)m->bscratch[0]);
      d->has_grad = 1;
      return GC_OK;
    }
    case GC_OP_CONV:
    case GC_OP_SEPCONV: {
      if ((s = create_backward_ops(m, i)) != GC_OK) return s;
      if ((s = reshape_backward_ops(m, i)) != GC_OK) return s;
      if ((s = ensure_grad(m, a)) != GC_OK) return s;
      if (r->def->relu) { /* undo the fused ReLU: mask by the stored output */
        GC_PROFILE_START(tm);
        relu_backward(m, m->bscratch[0], 0, g, n->out, row_elems(m, i), guided);
        GC_PROFILE_ROW("mask", r->def->name, r->def->op, tm);
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

/* ---- spatial sums for Grad-CAM ---------------------------------------------------------
 * Grad-CAM needs only sum_p dS/dA[p][k] at its layer, not the gradient map. When the layer's
 * consumer is a convolution, that sum needs no transposed convolution over the whole map:
 *   valid convolution (stem 3x3, residual 1x1):  sum_p dx[p][k] = sum_o (sum_q g[q][o]) sum_tap W[o][tap][k]
 *     = the sum of the transposed convolution of one pixel holding sum_q g[q]
 *   separable 3x3 "same":  which depthwise taps reach inside the map depends only on whether q is
 *     on the top / bottom row and left / right column, so the 9 classes of positions are summed
 *     separately and laid out as a 3x3 map that has exactly those 9 border cases; its transposed
 *     pass (pointwise then depthwise) sums to the same value.
 * Both reuse the row's backward operators, reshaped for the tiny input. */
typedef struct classsum_ctx {
  const float *g, *mask; /* mask: the row's stored output when its ReLU is undone here (else NULL) */
  float *part; /* [h][3][c]: per input row, the sums over the left column, the middle, the right column */
  int h, w, c, classes;
} classsum_ctx;

static void classsum_row(void *ctx_, size_t y) {
  const classsum_ctx *p = ctx_;
  const size_t C = (size_t)p->c;
  float *part = p->part + y * 3 * C;
  memset(part, 0, 3 * C * sizeof *part);
  const float *g = p->g + y * p->w * C, *xm = p->mask ? p->mask + y * p->w * C : NULL;
  for (int x = 0; x < p->w; x++, g += C) {
    float *d = part + (p->classes == 1 ? 0 : x == 0 ? 0 : x == p->w - 1 ? 2 : 1) * C;
    if (xm) {
      for (size_t k = 0; k < C; k++) {
        const float gk = g[k], mk = xm[k];
        d[k] += mk > 0.0f ? gk : 0.0f;
      }
      xm += C;
    } else {
      for (size_t k = 0; k < C; k++) d[k] += g[k];
    }
  }
}

/* Sums of g (h x w x c, masked by mask > 0 when mask is given) over the 9 border classes into
 * a 3x3 map (classes == 9), or over all positions into one pixel (classes == 1). */
static gc_status class_sums(gc_model *m, const float *g, const float *mask, int h, int w, int c, int classes,
                            float *out) {
  float *part = malloc((size_t)h * 3 * c * sizeof *part);
  double *acc = calloc((size_t)9 * c, sizeof *acc);
  if (!part || !acc) {
    free(part), free(acc);
    return GC_ERR_OUT_OF_MEMORY;
  }
  classsum_ctx ctx = {g, mask, part, h, w, c, classes};
  pthreadpool_parallelize_1d(m->pool, classsum_row, &ctx, (size_t)h, 0);
  for (int y = 0; y < h; y++) {
    const int cy = classes == 1 ? 0 : y == 0 ? 0 : y == h - 1 ? 2 : 1;
    for (int cx = 0; cx < (classes == 1 ? 1 : 3); cx++) {
      const float *src = part + ((size_t)y * 3 + cx) * c;
      double *dst = acc + ((size_t)cy * 3 + cx) * c;
      for (int k = 0; k < c; k++) dst[k] += src[k];
    }
  }
  for (int i = 0; i < (classes == 1 ? 1 : 9) * c; i++) {
    const int cell = i / c, k = i % c;
    out[i] = (float)acc[(size_t)(classes == 1 ? 0 : cell) * c + k];
  }
  free(part), free(acc);
  return GC_OK;
}

/* sum_p of row i's contribution to the gradient of its input, added to sum[cin]. */
static gc_status sum_contribution(gc_model *m, int i, double *sum) {
  const gc_layer *r = &m->rows[i];
  gc_node *n = &m->nodes[i];
  const int sep = r->def->op == GC_OP_SEPCONV, ci = r->cin, co = r->cout;
  gc_status s = create_backward_ops(m, i);
  if (s != GC_OK) return s;
  /* undoing the row's fused ReLU (Grad-CAM: not guided) is a mask, applied while summing */
  const float *g = n->grad, *mask = r->def->relu ? n->out : NULL;
  /* the tiny input (1x1 or 3x3 of co channels) and its transposed result, in scratch buffers */
  /* separable: small -> pointwise -> mid -> depthwise -> res; otherwise small -> res */
  float *small = m->bscratch[1], *mid = m->bscratch[2], *res = sep ? m->bscratch[0] : m->bscratch[2];
  if ((s = class_sums(m, g, mask, n->h, n->w, co, sep ? 9 : 1, small)) != GC_OK) return s;
  size_t oh = 0, ow = 0, ws = 0, wa = 0;
  enum xnn_status xs;
  if (sep) {
    xs = xnn_reshape_convolution2d_nhwc_f32(n->bop, 1, 3, 3, &ws, &wa, &oh, &ow, m->pool);
    if (xs == xnn_status_success && ensure_workspace(m, ws) != GC_OK) return GC_ERR_OUT_OF_MEMORY;
    if (xs == xnn_status_success) xs = xnn_setup_convolution2d_nhwc_f32(n->bop, m->workspace, small, mid);
    if (xs == xnn_status_success) xs = xnn_run_operator(n->bop, m->pool);
    if (xs == xnn_status_success) xs = xnn_reshape_convolution2d_nhwc_f32(n->bop2, 1, 3, 3, &ws, &wa, &oh, &ow, m->pool);
    if (xs == xnn_status_success && ensure_workspace(m, ws) != GC_OK) return GC_ERR_OUT_OF_MEMORY;
    if (xs == xnn_status_success) xs = xnn_setup_convolution2d_nhwc_f32(n->bop2, m->workspace, mid, res);
    if (xs == xnn_status_success) xs = xnn_run_operator(n->bop2, m->pool);
  } else if (r->def->kernel == 1) {
    xs = xnn_reshape_convolution2d_nhwc_f32(n->bop, 1, 1, 1, &ws, &wa, &oh, &ow, m->pool);
    if (xs == xnn_status_success && ensure_workspace(m, ws) != GC_OK) return GC_ERR_OUT_OF_MEMORY;
    if (xs == xnn_status_success) xs = xnn_setup_convolution2d_nhwc_f32(n->bop, m->workspace, small, res);
    if (xs == xnn_status_success) xs = xnn_run_operator(n->bop, m->pool);
  } else {
    xs = xnn_reshape_deconvolution2d_nhwc_f32(n->bop, 1, 1, 1, 0, 0, &oh, &ow, m->pool);
    if (xs == xnn_status_success) xs = xnn_setup_deconvolution2d_nhwc_f32(n->bop, small, res);
    if (xs == xnn_status_success) xs = xnn_run_operator(n->bop, m->pool);
  }
  n->bshape_h = n->bshape_w = 0; /* reshaped for the tiny map: the full pass reshapes again */
  if (xs != xnn_status_success) return gc_backend_error(m, "run backward sums", r->def->name, xs);
  for (size_t p = 0; p < oh * ow; p++)
    for (int k = 0; k < ci; k++) sum[k] += res[p * ci + k];
  return GC_OK;
}

/* Whether row i's input gradient can be summed without the full map (see above). */
static int summable(const gc_model *m, int i, int t) {
  const gc_layer *r = &m->rows[i];
  if (r->in0 != t || r->in1 >= 0) return 0;
  if (r->def->op == GC_OP_SEPCONV) return m->nodes[t].h >= 2 && m->nodes[t].w >= 2;
  /* valid convolutions: the stem (valid padding) and the 1x1 residuals (no padding) */
  return r->def->op == GC_OP_CONV && (!r->def->same || r->def->kernel == 1);
}

static gc_status gradient(gc_model *m, int class_index, const char *layer, gc_target target, int guided,
                          double *sum, const float **data, gc_shape *shape) {
  if (!m || (!sum && (!data || !shape)) || (target != GC_TARGET_LOGIT && target != GC_TARGET_PROB))
    return GC_ERR_INVALID_ARGUMENT;
  if (data) *data = NULL;
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
  if (sum) memset(sum, 0, (size_t)m->rows[t].cout * sizeof *sum);
  for (int i = last; s == GC_OK && i > t; i--)
    if (desc[i] && m->nodes[i].has_grad) {
      GC_PROFILE_START(t0);
      if (sum && pre < 0 && summable(m, i, t))
        s = sum_contribution(m, i, sum);
      else
        s = backward_row(m, i, guided);
      GC_PROFILE_ROW("backward", m->rows[i].def->name, m->rows[i].def->op, t0);
    }
  free(desc);
  if (s != GC_OK) return s;
  gc_node *n = &m->nodes[t];
  if (sum) { /* the contributions that were not summed directly */
    if (n->has_grad) {
      const float *gt = n->grad;
      if (pre >= 0) {
        relu_backward(m, m->bscratch[0], 0, n->grad, n->out, row_elems(m, t), guided);
        gt = m->bscratch[0];
      }
      const size_t hw = (size_t)n->h * n->w, c = (size_t)m->rows[t].cout;
      for (size_t p = 0; p < hw; p++)
        for (size_t k = 0; k < c; k++) sum[k] += gt[p * c + k];
    }
    return GC_OK;
  }
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

gc_status gc_model_gradient(gc_model *m, int class_index, const char *layer, gc_target target, int guided,
                            const float **data, gc_shape *shape) {
  return gradient(m, class_index, layer, target, guided, NULL, data, shape);
}

gc_status gc_gradient_sums(gc_model *m, int class_index, const char *layer, gc_target target, double *sum) {
  return sum ? gradient(m, class_index, layer, target, 0, sum, NULL, NULL) : GC_ERR_INVALID_ARGUMENT;
}
