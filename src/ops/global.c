/* global.c - global average and global max pooling (the head's first layer): one value per
 * channel.
 *
 * Backward: average: dx = dy / (H * W) everywhere; max: dy goes to the positions holding the
 * channel's maximum, split equally among ties (as TensorFlow's reduce_max gradient does; ties
 * occur at 0 after a ReLU, where the ReLU's own mask stops the gradient anyway).
 */
#include <string.h>

#include "ops.h"

static void one(const gc_layer_def *d, int ih, int iw, int *oh, int *ow) {
  (void)d, (void)ih, (void)iw;
  *oh = *ow = 1;
}

static gc_status no_reshape(gc_model *m, int i, size_t batch, int ih, int iw, gc_reshape_need *need) {
  (void)m, (void)i, (void)batch, (void)ih, (void)iw, (void)need;
  return GC_OK;
}

static size_t no_params(const gc_layer *r) {
  (void)r;
  return 0;
}

static gc_status gap_run(gc_model *m, int i, const float *in0, const float *in1, float *out) {
  (void)in1;
  const gc_node *src = &m->nodes[m->rows[i].in0];
  const size_t hw = (size_t)src->h * src->w, C = (size_t)m->rows[i].cout;
  for (size_t b = 0; b < (size_t)m->batch; b++)
    for (size_t c = 0; c < C; c++) {
      double acc = 0.0;
      for (size_t p = 0; p < hw; p++) acc += in0[(b * hw + p) * C + c];
      out[b * C + c] = (float)(acc / (double)hw);
    }
  return GC_OK;
}

static gc_status gap_backward(gc_model *m, int i, const float *g, int guided) {
  (void)guided;
  const int a = m->rows[i].in0;
  gc_status s = gc_grad_ensure(m, a);
  if (s != GC_OK) return s;
  float *dst = gc_grad_target(m, a);
  const size_t hw = (size_t)m->nodes[a].h * m->nodes[a].w, c = (size_t)m->rows[i].cout;
  for (size_t p = 0; p < hw; p++)
    for (size_t k = 0; k < c; k++) dst[p * c + k] = g[k] / (float)hw;
  gc_grad_commit(m, a);
  return GC_OK;
}

const gc_op_kind gc_op_gap = {"global_average_pooling", one, NULL, no_reshape, gap_run, NULL, gap_backward, NULL, NULL,
                              no_params};

static gc_status gmp_run(gc_model *m, int i, const float *in0, const float *in1, float *out) {
  (void)in1;
  const gc_node *src = &m->nodes[m->rows[i].in0];
  const size_t hw = (size_t)src->h * src->w, C = (size_t)m->rows[i].cout;
  for (size_t b = 0; b < (size_t)m->batch; b++) {
    const float *x = in0 + b * hw * C;
    float *o = out + b * C;
    memcpy(o, x, C * sizeof *o);
    for (size_t p = 1; p < hw; p++)
      for (size_t c = 0; c < C; c++) o[c] = x[p * C + c] > o[c] ? x[p * C + c] : o[c];
  }
  return GC_OK;
}

static gc_status gmp_backward(gc_model *m, int i, const float *g, int guided) {
  (void)guided;
  const int a = m->rows[i].in0;
  gc_status s = gc_grad_ensure(m, a);
  if (s != GC_OK) return s;
  const float *x = m->nodes[a].out, *mx = m->nodes[i].out;
  float *dst = gc_grad_target(m, a);
  const size_t hw = (size_t)m->nodes[a].h * m->nodes[a].w, C = (size_t)m->rows[i].cout;
  for (size_t c = 0; c < C; c++) {
    size_t ties = 0;
    for (size_t p = 0; p < hw; p++) ties += x[p * C + c] == mx[c];
    const float share = ties ? g[c] / (float)ties : 0.0f;
    for (size_t p = 0; p < hw; p++) dst[p * C + c] = x[p * C + c] == mx[c] ? share : 0.0f;
  }
  gc_grad_commit(m, a);
  return GC_OK;
}

const gc_op_kind gc_op_gmp = {"global_max_pooling", one, NULL, no_reshape, gmp_run, NULL, gmp_backward, NULL, NULL,
                              no_params};
