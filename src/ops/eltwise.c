/* eltwise.c - the layer kinds that keep the map's size: the input (a copy of the preprocessed
 * image), stand-alone ReLU and residual addition.
 *
 * Backward: ReLU dx = dy * [x > 0] (guided: also [dy > 0]); addition: dy goes unchanged to both
 * inputs; the input has none.
 */
#include <math.h>
#include <string.h>

#include "ops.h"

static void same_shape(const gc_layer_def *d, int ih, int iw, int *oh, int *ow) {
  (void)d;
  *oh = ih;
  *ow = iw;
}

static gc_status no_reshape(gc_model *m, int i, size_t batch, int ih, int iw, gc_reshape_need *need) {
  (void)m, (void)i, (void)batch, (void)ih, (void)iw, (void)need;
  return GC_OK;
}

static size_t no_params(const gc_layer *r) {
  (void)r;
  return 0;
}

/* ---- input ---------------------------------------------------------------------------------- */

static gc_status input_run(gc_model *m, int i, const float *in0, const float *in1, float *out) {
  (void)in1;
  memcpy(out, in0, (size_t)m->batch * m->nodes[i].h * m->nodes[i].w * 3 * sizeof(float));
  return GC_OK;
}

static gc_status input_backward(gc_model *m, int i, const float *g, int guided) {
  (void)m, (void)i, (void)g, (void)guided;
  return GC_OK;
}

const gc_op_kind gc_op_input = {"input", same_shape, NULL, no_reshape, input_run, NULL, input_backward, NULL, NULL,
                                no_params};

/* ---- ReLU ----------------------------------------------------------------------------------- */

static gc_status relu_create(gc_model *m, int i, char *err, size_t errlen) {
  (void)err, (void)errlen;
  union xnn_unary_params p;
  p.clamp.min = 0.0f;
  p.clamp.max = INFINITY;
  enum xnn_status xs = xnn_create_unary_elementwise_nc(xnn_unary_clamp, xnn_datatype_fp32, xnn_datatype_fp32, &p,
                                                       NULL, NULL, 0, &m->nodes[i].op);
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "create", m->rows[i].def->name, xs);
}

static gc_status relu_reshape(gc_model *m, int i, size_t batch, int ih, int iw, gc_reshape_need *need) {
  (void)need;
  const size_t c = (size_t)m->rows[i].cin;
  enum xnn_status xs = xnn_reshape_unary_elementwise_nc(m->nodes[i].op, batch * ih * iw, c, c, c, m->pool);
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "reshape", m->rows[i].def->name, xs);
}

static gc_status relu_run(gc_model *m, int i, const float *in0, const float *in1, float *out) {
  (void)in1;
  xnn_operator_t op = m->nodes[i].op;
  enum xnn_status xs = xnn_setup_unary_elementwise_nc(op, in0, out);
  if (xs == xnn_status_success) xs = xnn_run_operator(op, m->pool);
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "run", m->rows[i].def->name, xs);
}

static gc_status relu_backward(gc_model *m, int i, const float *g, int guided) {
  const int a = m->rows[i].in0;
  gc_status s = gc_grad_ensure(m, a);
  if (s != GC_OK) return s;
  gc_node *d = &m->nodes[a];
  gc_relu_backward(m, d->grad, d->has_grad, g, d->out, gc_row_elems(m, i), guided);
  d->has_grad = 1;
  return GC_OK;
}

const gc_op_kind gc_op_relu = {"relu", same_shape, relu_create, relu_reshape, relu_run, NULL, relu_backward, NULL,
                               NULL, no_params};

/* ---- residual addition ---------------------------------------------------------------------- */

static gc_status add_create(gc_model *m, int i, char *err, size_t errlen) {
  (void)err, (void)errlen;
  enum xnn_status xs = xnn_create_binary_elementwise_nd(xnn_binary_add, xnn_datatype_fp32, NULL, NULL, NULL, 0,
                                                        &m->nodes[i].op);
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "create", m->rows[i].def->name, xs);
}

static gc_status add_reshape(gc_model *m, int i, size_t batch, int ih, int iw, gc_reshape_need *need) {
  (void)need;
  const size_t shape[4] = {batch, (size_t)ih, (size_t)iw, (size_t)m->rows[i].cin};
  enum xnn_status xs = xnn_reshape_binary_elementwise_nd(m->nodes[i].op, 4, shape, 4, shape, m->pool);
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "reshape", m->rows[i].def->name, xs);
}

static gc_status add_run(gc_model *m, int i, const float *in0, const float *in1, float *out) {
  xnn_operator_t op = m->nodes[i].op;
  enum xnn_status xs = xnn_setup_binary_elementwise_nd(op, in0, in1, out);
  if (xs == xnn_status_success) xs = xnn_run_operator(op, m->pool);
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "run", m->rows[i].def->name, xs);
}

static gc_status add_backward(gc_model *m, int i, const float *g, int guided) {
  (void)guided;
  const gc_layer *r = &m->rows[i];
  gc_node *n = &m->nodes[i];
  for (int k = 0; k < 2; k++) {
    const int dst = k ? r->in1 : r->in0;
    gc_node *d = &m->nodes[dst];
    if (k == 0 && !d->has_grad && n->grad == g) {
      /* the first input's gradient is this row's: hand the buffer over instead of copying
       * (this row's own gradient is not needed any more; the target row is never crossed) */
      float *t = d->grad;
      const size_t tc = d->grad_cap;
      d->grad = n->grad, d->grad_cap = n->grad_cap;
      n->grad = t, n->grad_cap = tc;
      n->has_grad = 0;
      d->has_grad = 1;
      continue;
    }
    gc_status s = gc_grad_ensure(m, dst);
    if (s != GC_OK) return s;
    gc_grad_add(m, d->grad, d->has_grad, g, gc_row_elems(m, dst));
    d->has_grad = 1;
  }
  return GC_OK;
}

const gc_op_kind gc_op_add = {"add", same_shape, add_create, add_reshape, add_run, NULL, add_backward, NULL, NULL,
                              no_params};
