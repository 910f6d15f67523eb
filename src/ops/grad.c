/* grad.c - gradient buffers and the elementwise passes of the backward pass, shared by the
 * layer kinds' backward functions (ops/) and the walk (backward.c). */
#include <stdlib.h>
#include <string.h>

#include "ops.h"

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

void gc_relu_backward(gc_model *m, float *dst, int accumulate, const float *g, const float *x, size_t n, int guided) {
  ew(m, EW_RELU, dst, accumulate, g, x, n, guided);
}

void gc_grad_add(gc_model *m, float *dst, int accumulate, const float *g, size_t n) {
  ew(m, accumulate ? EW_ADD : EW_COPY, dst, 1, g, NULL, n, 0);
}

/* Gradient buffers go back to a pool as soon as their row has passed its gradient on
 * (gc_grad_release), and rows take theirs from it: a backward pass holds only the gradients that
 * are live at once (a few maps), not one per row it crosses. */
gc_status gc_grad_ensure(gc_model *m, int i) {
  gc_node *n = &m->nodes[i];
  const size_t need = gc_row_elems(m, i);
  if (n->grad && n->grad_cap >= need) return GC_OK;
  if (n->grad) gc_grad_release(m, i);
  int best = -1, largest = -1;
  for (int k = 0; k < m->gpool_n; k++) {
    if (m->gpool_cap[k] >= need && (best < 0 || m->gpool_cap[k] < m->gpool_cap[best])) best = k;
    if (largest < 0 || m->gpool_cap[k] > m->gpool_cap[largest]) largest = k;
  }
  if (best >= 0) {
    n->grad = m->gpool[best], n->grad_cap = m->gpool_cap[best];
    m->gpool[best] = m->gpool[m->gpool_n - 1], m->gpool_cap[best] = m->gpool_cap[m->gpool_n - 1];
    m->gpool_n--;
    return GC_OK;
  }
  if (largest >= 0) { /* every pooled buffer is too small (a larger input): drop one */
    free(m->gpool[largest]);
    m->gpool[largest] = m->gpool[m->gpool_n - 1], m->gpool_cap[largest] = m->gpool_cap[m->gpool_n - 1];
    m->gpool_n--;
  }
  n->grad = gc_alloc_buffer(need);
  n->grad_cap = n->grad ? need : 0;
  return n->grad ? GC_OK : GC_ERR_OUT_OF_MEMORY;
}

void gc_grad_release(gc_model *m, int i) {
  gc_node *n = &m->nodes[i];
  n->has_grad = 0;
  if (!n->grad) return;
  if (!m->gpool) { /* room for every row's buffer */
    m->gpool = calloc((size_t)m->nrows, sizeof *m->gpool);
    m->gpool_cap = calloc((size_t)m->nrows, sizeof *m->gpool_cap);
    if (!m->gpool || !m->gpool_cap) {
      free(m->gpool), free(m->gpool_cap);
      m->gpool = NULL, m->gpool_cap = NULL;
    }
  }
  if (m->gpool && m->gpool_n < m->nrows) {
    m->gpool[m->gpool_n] = n->grad, m->gpool_cap[m->gpool_n++] = n->grad_cap;
  } else {
    free(n->grad);
  }
  n->grad = NULL, n->grad_cap = 0;
}

void gc_grad_trim(gc_model *m) {
  for (int k = 0; k < m->gpool_n; k++) free(m->gpool[k]);
  m->gpool_n = 0;
}

float *gc_grad_target(gc_model *m, int dst) { return m->nodes[dst].has_grad ? m->bscratch[2] : m->nodes[dst].grad; }

void gc_grad_commit(gc_model *m, int dst) {
  gc_node *n = &m->nodes[dst];
  if (n->has_grad) ew(m, EW_ADD, n->grad, 1, m->bscratch[2], NULL, gc_row_elems(m, dst), 0);
  n->has_grad = 1;
}

/* ---- spatial sums for Grad-CAM (see backward.c) ------------------------------------------- */
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

gc_status gc_class_sums(gc_model *m, const float *g, const float *mask, int h, int w, int c, int classes,
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

