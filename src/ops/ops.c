/* ops.c - the table of layer kinds and the helpers their modules share. */
#include "ops.h"

const gc_op_kind *const gc_ops[GC_OP_COUNT] = {
    [GC_OP_INPUT] = &gc_op_input, [GC_OP_CONV] = &gc_op_conv, [GC_OP_SEPCONV] = &gc_op_sepconv,
    [GC_OP_RELU] = &gc_op_relu,   [GC_OP_MAXPOOL] = &gc_op_maxpool, [GC_OP_ADD] = &gc_op_add,
    [GC_OP_GAP] = &gc_op_gap,     [GC_OP_GMP] = &gc_op_gmp,    [GC_OP_DENSE] = &gc_op_dense,
};

size_t gc_row_elems(const gc_model *m, int i) {
  return (size_t)m->nodes[i].h * m->nodes[i].w * m->rows[i].cout;
}

gc_status gc_op_reshape_conv(gc_model *m, xnn_operator_t op, const char *name, size_t batch, int ih, int iw,
                             int oh, int ow, size_t *ws) {
  size_t wa = 0, rh = 0, rw = 0, w = 0;
  enum xnn_status xs = xnn_reshape_convolution2d_nhwc_f32(op, batch, (size_t)ih, (size_t)iw, &w, &wa, &rh, &rw,
                                                          m->pool);
  if (xs != xnn_status_success) return gc_backend_error(m, "reshape", name, xs);
  if ((int)rh != oh || (int)rw != ow) {
    gc_set_error(m->error, sizeof m->error, "internal shape mismatch at %s: %zux%zu vs %dx%d", name, rh, rw, oh, ow);
    return GC_ERR_BACKEND;
  }
  if (w > *ws) *ws = w;
  return GC_OK;
}

gc_status gc_op_run_conv(gc_model *m, xnn_operator_t op, int deconv, const float *in, float *out, const char *name) {
  enum xnn_status xs = deconv ? xnn_setup_deconvolution2d_nhwc_f32(op, in, out)
                              : xnn_setup_convolution2d_nhwc_f32(op, m->workspace, in, out);
  if (xs == xnn_status_success) xs = xnn_run_operator(op, m->pool);
  return xs == xnn_status_success ? GC_OK : gc_backend_error(m, "run", name, xs);
}
