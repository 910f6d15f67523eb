/* dense.c - fully connected layers of the head: hidden Dense layers (ReLU fused, or linear)
 * and the classifier (linear: its outputs are the logits; the activation is applied where
 * probabilities are asked for, forward.c).
 *
 * Backward: dx = W^T dy (after the fused ReLU's mask), a plain loop over the float32 kernel,
 * kept from the first backward pass on.
 */
#include <math.h>
#include <stdlib.h>

#include "ops.h"

static void one(const gc_layer_def *d, int ih, int iw, int *oh, int *ow) {
  (void)d, (void)ih, (void)iw;
  *oh = *ow = 1;
}

static gc_status create(gc_model *m, int i, char *err, size_t errlen) {
  const gc_layer *r = &m->rows[i];
  float *k = NULL, *dw = NULL, *bias = NULL;
  gc_status s = gc_row_weights(m, i, &k, &dw, &bias, err, errlen);
  if (s != GC_OK) return s;
  enum xnn_status xs = xnn_create_fully_connected_nc_f32(r->cin, r->cout, r->cin, r->cout, k, bias,
                                                         r->def->relu ? 0.0f : -INFINITY, INFINITY, 0, NULL, NULL,
                                                         &m->nodes[i].op);
  free(k), free(dw), free(bias);
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "create", r->def->name, xs);
}

static gc_status reshape(gc_model *m, int i, size_t batch, int ih, int iw, gc_reshape_need *need) {
  (void)ih, (void)iw, (void)need;
  enum xnn_status xs = xnn_reshape_fully_connected_nc_f32(m->nodes[i].op, batch, m->pool);
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "reshape", m->rows[i].def->name, xs);
}

static gc_status run(gc_model *m, int i, const float *in0, const float *in1, float *out) {
  (void)in1;
  xnn_operator_t op = m->nodes[i].op;
  enum xnn_status xs = xnn_setup_fully_connected_nc_f32(op, in0, out);
  if (xs == xnn_status_success) xs = xnn_run_operator(op, m->pool);
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "run", m->rows[i].def->name, xs);
}

gc_status gc_dense_kernel(gc_model *m, int i, const float **kernel) {
  gc_node *n = &m->nodes[i];
  if (!n->bweights) {
    float *k = NULL, *dw = NULL, *bias = NULL;
    gc_status s = gc_row_weights(m, i, &k, &dw, &bias, m->error, sizeof m->error);
    free(bias);
    if (s != GC_OK) return s;
    n->bweights = k;
  }
  *kernel = n->bweights;
  return GC_OK;
}

static gc_status backward(gc_model *m, int i, const float *g, int guided) {
  const gc_layer *r = &m->rows[i];
  const int a = r->in0, ci = r->cin, co = r->cout;
  const float *kernel;
  gc_status s = gc_dense_kernel(m, i, &kernel);
  if (s == GC_OK) s = gc_grad_ensure(m, a);
  if (s != GC_OK) return s;
  if (r->def->relu) { /* undo the fused ReLU: mask by the stored output */
    gc_relu_backward(m, m->bscratch[0], 0, g, m->nodes[i].out, (size_t)co, guided);
    g = m->bscratch[0];
  }
  float *dst = gc_grad_target(m, a);
  for (int k = 0; k < ci; k++) dst[k] = 0.0f;
  for (int o = 0; o < co; o++) {
    if (g[o] == 0.0f) continue;
    const float *w = kernel + (size_t)o * ci;
    for (int k = 0; k < ci; k++) dst[k] += g[o] * w[k];
  }
  gc_grad_commit(m, a);
  return GC_OK;
}

static size_t params(const gc_layer *r) { return (size_t)r->cout * r->cin + r->cout; }

const gc_op_kind gc_op_dense = {"dense", one, create, reshape, run, NULL, backward, NULL, NULL, params};
