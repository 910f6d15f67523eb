/* pool.c - max pooling, k x k windows, stride s, TF "same" padding (Xception's 3x3 / 2 pools
 * pad 1/1, or 0/1 when the input side is even: pad_before = floor(total / 2); padded cells are
 * -inf, never a maximum).
 *
 * Backward: dy goes to the arg-max of its window (first maximum in row-major order, as
 * TensorFlow does); windows overlap, so each cell gathers from the windows it won: an arg-max
 * pass, then a gather pass, both vectorised for the 3x3 / 2 case.
 */
#include <math.h>
#include <string.h>

#include "ops.h"

#define POOL_MAXK 15 /* window side (positions stay below 255) */
#define POOL_MAXW 64 /* windows that may cover one cell */

static int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

static void shape(const gc_layer_def *d, int ih, int iw, int *oh, int *ow) {
  *oh = (ih + d->stride - 1) / d->stride;
  *ow = (iw + d->stride - 1) / d->stride;
}

static gc_status create(gc_model *m, int i, char *err, size_t errlen) {
  (void)err, (void)errlen;
  const gc_layer_def *d = m->rows[i].def;
  if (d->kernel < 1 || d->kernel > POOL_MAXK || d->stride < 1 || d->stride > d->kernel) {
    gc_set_error(m->error, sizeof m->error, "max pooling %dx%d / %d at %s is not supported", d->kernel, d->kernel,
                 d->stride, d->name);
    return GC_ERR_BACKEND;
  }
  enum xnn_status xs = xnn_create_max_pooling2d_nhwc_f32(0, 0, 0, 0, d->kernel, d->kernel, d->stride, d->stride, 1,
                                                         1, -INFINITY, INFINITY, XNN_FLAG_TENSORFLOW_SAME_PADDING,
                                                         &m->nodes[i].op);
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "create", d->name, xs);
}

static gc_status reshape(gc_model *m, int i, size_t batch, int ih, int iw, gc_reshape_need *need) {
  (void)need;
  const gc_layer *r = &m->rows[i];
  const gc_node *n = &m->nodes[i];
  size_t rh = 0, rw = 0;
  const size_t c = (size_t)r->cin;
  enum xnn_status xs = xnn_reshape_max_pooling2d_nhwc_f32(n->op, batch, ih, iw, c, c, c, &rh, &rw, m->pool);
  if (xs != xnn_status_success) return gc_backend_error(m, "reshape", r->def->name, xs);
  if ((int)rh != n->h || (int)rw != n->w) {
    gc_set_error(m->error, sizeof m->error, "internal shape mismatch at %s", r->def->name);
    return GC_ERR_BACKEND;
  }
  return GC_OK;
}

static gc_status run(gc_model *m, int i, const float *in0, const float *in1, float *out) {
  (void)in1;
  xnn_operator_t op = m->nodes[i].op;
  enum xnn_status xs = xnn_setup_max_pooling2d_nhwc_f32(op, in0, out);
  if (xs == xnn_status_success) xs = xnn_run_operator(op, m->pool);
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "run", m->rows[i].def->name, xs);
}

typedef struct pool_ctx {
  const float *x, *g;
  float *dx;
  uint8_t *arg;
  int ih, iw, oh, ow, c, pt, pl, k, s, accumulate;
} pool_ctx;

/* Pass 1, one output row: the position (row-major in the k x k window, below k * k <= 225) of
 * each window's first maximum, 255 when no cell beats -inf (padded cells are never candidates).
 * The window's cells are gathered first (the k * k of an inner window, fewer at a padded edge);
 * then one loop over the channels keeps the best value and position in registers and
 * vectorises (unrolled for the full 3x3 window of Xception's pools). */
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
  const int oy = (int)oy_, K = p->k, y0 = p->s * oy - p->pt, C = p->c;
  for (int ox = 0; ox < p->ow; ox++) {
    const int x0 = p->s * ox - p->pl;
    uint8_t *arg = p->arg + ((size_t)oy * p->ow + ox) * C;
    const float *cell[POOL_MAXK * POOL_MAXK];
    int32_t pos[POOL_MAXK * POOL_MAXK];
    int n = 0;
    for (int dy = 0; dy < K; dy++)
      for (int dx = 0; dx < K; dx++) {
        const int y = y0 + dy, x = x0 + dx;
        if (y < 0 || y >= p->ih || x < 0 || x >= p->iw) continue;
        cell[n] = p->x + ((size_t)y * p->iw + x) * C;
        pos[n++] = dy * K + dx;
      }
    if (K != 3 || n < 9) { /* another window size, or a window cut by the padding */
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

/* Pass 2, one input row: each cell collects the gradient of the windows (1, 2 or 2x2 for a 3x3
 * window of stride 2) whose arg-max it is, in one pass per cell, so every cell is written once
 * and nothing is zeroed. */
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
  const int y = (int)y_, C = p->c, K = p->k, S = p->s;
  /* windows oy with S*oy - pt <= y <= S*oy - pt + K - 1 */
  int oy_lo = floor_div(y + p->pt - K + 1 + S - 1, S), oy_hi = floor_div(y + p->pt, S);
  if (oy_lo < 0) oy_lo = 0;
  if (oy_hi > p->oh - 1) oy_hi = p->oh - 1;
  for (int x = 0; x < p->iw; x++) {
    int ox_lo = floor_div(x + p->pl - K + 1 + S - 1, S), ox_hi = floor_div(x + p->pl, S);
    if (ox_lo < 0) ox_lo = 0;
    if (ox_hi > p->ow - 1) ox_hi = p->ow - 1;
    const float *gw[POOL_MAXW] = {NULL};
    const uint8_t *aw[POOL_MAXW] = {NULL};
    int32_t pw[POOL_MAXW] = {0}, nw = 0;
    for (int oy = oy_lo; oy <= oy_hi; oy++)
      for (int ox = ox_lo; ox <= ox_hi; ox++) {
        const int dy = y - (S * oy - p->pt), dx = x - (S * ox - p->pl);
        if (dy < 0 || dy >= K || dx < 0 || dx >= K || nw == POOL_MAXW) continue;
        const size_t w = ((size_t)oy * p->ow + ox) * C;
        gw[nw] = p->g + w, aw[nw] = p->arg + w, pw[nw++] = dy * K + dx;
      }
    if (nw > 4) { /* windows overlapping more than a 3x3 / 2 pool's: one window at a time */
      float *d = p->dx + ((size_t)y * p->iw + x) * C;
      if (!p->accumulate) memset(d, 0, (size_t)C * sizeof *d);
      for (int j = 0; j < nw; j++)
        for (int k = 0; k < C; k++) d[k] += pool_pick(aw[j][k], pw[j], gw[j][k]);
      continue;
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
                         int ksize, int stride, float *dx, int accumulate, uint8_t *argmax) {
  /* TF "same": pad_before = floor(total / 2) */
  const int th = (oh - 1) * stride + ksize - ih, tw = (ow - 1) * stride + ksize - iw;
  pool_ctx p = {x, g, dx, argmax, ih, iw, oh, ow, c, th > 0 ? th / 2 : 0, tw > 0 ? tw / 2 : 0, ksize, stride,
                accumulate};
  pthreadpool_parallelize_1d(pool, pool_argmax_row, &p, (size_t)oh, 0);
  pthreadpool_parallelize_1d(pool, pool_gather_row, &p, (size_t)ih, 0);
}

static gc_status backward(gc_model *m, int i, const float *g, int guided) {
  (void)guided;
  const gc_layer *r = &m->rows[i];
  const gc_node *n = &m->nodes[i];
  gc_status s = gc_grad_ensure(m, r->in0);
  if (s != GC_OK) return s;
  gc_node *d = &m->nodes[r->in0];
  gc_maxpool_backward(m->pool, d->out, d->h, d->w, r->cin, g, n->h, n->w, r->def->kernel, r->def->stride, d->grad,
                      d->has_grad, (uint8_t *)m->bscratch[0]);
  d->has_grad = 1;
  return GC_OK;
}

static size_t params(const gc_layer *r) {
  (void)r;
  return 0;
}

const gc_op_kind gc_op_maxpool = {"maxpool", shape, create, reshape, run, NULL, backward, NULL, NULL, params};
