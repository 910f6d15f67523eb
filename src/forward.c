/* forward.c - the model handle and the forward pass on XNNPACK operators.
 *
 * One XNNPACK operator (two for a separable convolution) per table row, created once at load
 * time with the batch norm folded into the convolution's weights and the following ReLU fused
 * where the table says so. When the input size changes every operator is reshaped and the
 * activation buffers are reallocated; otherwise a forward pass only runs the operators.
 * Every row's output is kept, so each activation stays addressable by its Keras name.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthreadpool.h>
#include <xnnpack.h>

#include "internal.h"

#define BN_EPSILON 1e-3f

typedef struct node {
  xnn_operator_t op;  /* conv, depthwise, relu, pool, add, dense */
  xnn_operator_t op2; /* pointwise convolution of a separable convolution */
  int h, w;           /* current output size */
  float *out;         /* (1, h, w, cout) + XNN_EXTRA_BYTES */
} node;

struct gc_model {
  gc_layer *rows; /* resolved layer table */
  node *nodes;
  int nrows;
  int threads;
  pthreadpool_t pool;
  int in_h, in_w;         /* size the operators are currently reshaped for (0 = none) */
  int ran;                /* a forward pass has completed */
  float *scratch;         /* depthwise output inside a separable convolution */
  void *workspace;        /* shared convolution workspace */
  size_t workspace_size;
  float *image_input;     /* 299x299x3 buffer for gc_model_forward_image */
  float logits[GC_NUM_CLASSES];
  float probs[GC_NUM_CLASSES];
  size_t param_count;
  char error[GC_ERRBUF_SIZE];
};

static void *alloc_buffer(size_t floats) {
  /* XNNPACK may read XNN_EXTRA_BYTES past the end of its inputs */
  size_t bytes = floats * sizeof(float) + XNN_EXTRA_BYTES;
  void *p = NULL;
  if (posix_memalign(&p, 64, (bytes + 63) / 64 * 64) != 0) return NULL;
  return p;
}

static gc_status backend_error(gc_model *m, const char *what, const char *layer, enum xnn_status s) {
  gc_set_error(m->error, sizeof m->error, "XNNPACK %s failed for %s (status %d)", what, layer, (int)s);
  return s == xnn_status_out_of_memory ? GC_ERR_OUT_OF_MEMORY : GC_ERR_BACKEND;
}

/* ---- loading ---------------------------------------------------------------------------- */

/* Fold y = gamma * (x - mean) / sqrt(var + eps) + beta into the kernel rows and a bias. */
static void fold_bn(float *kernel, size_t per_out, int cout, const float *gamma, const float *beta,
                    const float *mean, const float *var, float *bias) {
  for (int o = 0; o < cout; o++) {
    const float s = gamma[o] / sqrtf(var[o] + BN_EPSILON);
    for (size_t k = 0; k < per_out; k++) kernel[(size_t)o * per_out + k] *= s;
    bias[o] = beta[o] - mean[o] * s;
  }
}

typedef struct loader {
  gc_model *m;
  const gc_weights *w;
  char *err;
  size_t errlen;
} loader;

static gc_status get(loader *L, const char *prefix, const char *part, int ndim, int d0, int d1,
                     int d2, int d3, float **out) {
  char name[96];
  snprintf(name, sizeof name, "%s/%s", prefix, part);
  const int dims[4] = {d0, d1, d2, d3};
  gc_status s = gc_weights_get(L->w, name, ndim, dims, out, L->err, L->errlen);
  if (s == GC_OK) L->m->param_count += gc_tensor_count(ndim, dims);
  return s;
}

static gc_status load_bn(loader *L, const char *bn, int c, float *kernel, size_t per_out, float *bias) {
  static const char *const parts[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
  float *v[4] = {NULL, NULL, NULL, NULL};
  gc_status s = GC_OK;
  for (int p = 0; p < 4 && s == GC_OK; p++) s = get(L, bn, parts[p], 1, c, 0, 0, 0, &v[p]);
  if (s == GC_OK) {
    for (int o = 0; o < c && s == GC_OK; o++)
      if (!(v[3][o] >= 0.0f)) {
        gc_set_error(L->err, L->errlen, "%s/moving_variance[%d] is negative", bn, o);
        s = GC_ERR_WEIGHTS_CORRUPT;
      }
  }
  if (s == GC_OK) fold_bn(kernel, per_out, c, v[0], v[1], v[2], v[3], bias);
  for (int p = 0; p < 4; p++) free(v[p]);
  return s;
}

static gc_status create_row(loader *L, int i) {
  gc_model *m = L->m;
  const gc_layer *r = &m->rows[i];
  const gc_layer_def *d = r->def;
  node *n = &m->nodes[i];
  const float out_min = d->relu ? 0.0f : -INFINITY;
  enum xnn_status xs = xnn_status_success;
  float *k1 = NULL, *k2 = NULL, *bias = NULL;
  gc_status s = GC_OK;
  switch (d->op) {
    case GC_OP_CONV: {
      s = get(L, d->weights, "kernel", 4, r->cout, d->kernel, d->kernel, r->cin, &k1);
      if (s == GC_OK && !(bias = malloc((size_t)r->cout * sizeof *bias))) s = GC_ERR_OUT_OF_MEMORY;
      if (s == GC_OK) s = load_bn(L, d->bn, r->cout, k1, (size_t)d->kernel * d->kernel * r->cin, bias);
      if (s != GC_OK) break;
      xs = xnn_create_convolution2d_nhwc_f32(
          0, 0, 0, 0, d->kernel, d->kernel, d->stride, d->stride, 1, 1, 1, r->cin, r->cout, r->cin,
          r->cout, k1, bias, out_min, INFINITY, d->same ? XNN_FLAG_TENSORFLOW_SAME_PADDING : 0,
          NULL, NULL, &n->op);
      break;
    }
    case GC_OP_SEPCONV: {
      s = get(L, d->weights, "depthwise_kernel", 4, 1, 3, 3, r->cin, &k1);
      if (s == GC_OK) s = get(L, d->weights, "pointwise_kernel", 4, r->cout, 1, 1, r->cin, &k2);
      if (s == GC_OK && !(bias = malloc((size_t)r->cout * sizeof *bias))) s = GC_ERR_OUT_OF_MEMORY;
      if (s == GC_OK) s = load_bn(L, d->bn, r->cout, k2, (size_t)r->cin, bias);
      if (s != GC_OK) break;
      xs = xnn_create_convolution2d_nhwc_f32(
          1, 1, 1, 1, 3, 3, 1, 1, 1, 1, r->cin, 1, 1, r->cin, r->cin, k1, NULL, -INFINITY, INFINITY,
          XNN_FLAG_DEPTHWISE_CONVOLUTION, NULL, NULL, &n->op);
      if (xs == xnn_status_success)
        xs = xnn_create_convolution2d_nhwc_f32(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, r->cin, r->cout, r->cin,
                                               r->cout, k2, bias, out_min, INFINITY, 0, NULL, NULL, &n->op2);
      break;
    }
    case GC_OP_RELU: {
      union xnn_unary_params p;
      p.clamp.min = 0.0f;
      p.clamp.max = INFINITY;
      xs = xnn_create_unary_elementwise_nc(xnn_unary_clamp, xnn_datatype_fp32, xnn_datatype_fp32, &p,
                                           NULL, NULL, 0, &n->op);
      break;
    }
    case GC_OP_MAXPOOL:
      xs = xnn_create_max_pooling2d_nhwc_f32(0, 0, 0, 0, 3, 3, d->stride, d->stride, 1, 1, -INFINITY,
                                             INFINITY, XNN_FLAG_TENSORFLOW_SAME_PADDING, &n->op);
      break;
    case GC_OP_ADD:
      xs = xnn_create_binary_elementwise_nd(xnn_binary_add, xnn_datatype_fp32, NULL, NULL, NULL, 0, &n->op);
      break;
    case GC_OP_DENSE: {
      s = get(L, d->weights, "kernel", 2, r->cout, r->cin, 0, 0, &k1);
      if (s == GC_OK) s = get(L, d->weights, "bias", 1, r->cout, 0, 0, 0, &bias);
      if (s != GC_OK) break;
      xs = xnn_create_fully_connected_nc_f32(r->cin, r->cout, r->cin, r->cout, k1, bias, -INFINITY,
                                             INFINITY, 0, NULL, NULL, &n->op);
      break;
    }
    case GC_OP_INPUT:
    case GC_OP_GAP:
      break;
  }
  free(k1);
  free(k2);
  free(bias);
  if (s == GC_OK && xs != xnn_status_success) {
    s = backend_error(m, "create", d->name, xs);
    gc_set_error(L->err, L->errlen, "%s", m->error);
  }
  return s;
}

static gc_status make_pool(gc_model *m, int threads) {
  if (threads < 0) return GC_ERR_INVALID_ARGUMENT;
  if (m->pool) pthreadpool_destroy(m->pool);
  m->pool = NULL;
  /* pthreadpool_create(0) means one thread per core; 1 means run on the caller only */
  m->pool = pthreadpool_create((size_t)threads);
  /* the single-thread build's pool shim only accepts 0 or 1 threads: run on the caller */
  if (!m->pool && threads != 1) m->pool = pthreadpool_create(1);
  if (!m->pool) return GC_ERR_OUT_OF_MEMORY;
  m->threads = (int)pthreadpool_get_threads_count(m->pool);
  m->in_h = m->in_w = 0; /* operators must be reshaped for the new pool */
  return GC_OK;
}

gc_status gc_model_load_memory(const void *data, size_t size, const gc_params *params,
                               gc_model **out, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!out) return GC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!data && size) return GC_ERR_INVALID_ARGUMENT;
  gc_params p = params ? *params : gc_default_params();
  if (p.threads < 0 || p.threads > 256) {
    gc_set_error(err, errlen, "threads must be 0..256, got %d", p.threads);
    return GC_ERR_INVALID_ARGUMENT;
  }
  gc_weights w;
  gc_status s = gc_weights_parse(data, size, &w, err, errlen);
  if (s != GC_OK) return s;

  enum xnn_status xs = xnn_initialize(NULL); /* reference counted by XNNPACK */
  if (xs != xnn_status_success) {
    gc_weights_release(&w);
    gc_set_error(err, errlen, "XNNPACK could not initialise (status %d): unsupported CPU?", (int)xs);
    return GC_ERR_BACKEND;
  }
  gc_model *m = calloc(1, sizeof *m);
  if (m) {
    m->nrows = gc_table_size();
    m->rows = calloc((size_t)m->nrows, sizeof *m->rows);
    m->nodes = calloc((size_t)m->nrows, sizeof *m->nodes);
  }
  if (!m || !m->rows || !m->nodes) {
    s = GC_ERR_OUT_OF_MEMORY;
  } else {
    gc_table_resolve(m->rows);
    s = make_pool(m, p.threads);
  }
  loader L = {m, &w, err, errlen};
  for (int i = 0; s == GC_OK && i < m->nrows; i++) s = create_row(&L, i);
  gc_weights_release(&w);
  if (s != GC_OK) {
    if (s == GC_ERR_OUT_OF_MEMORY && err && !err[0]) gc_set_error(err, errlen, "out of memory while loading");
    if (m) gc_model_free(m);
    else xnn_deinitialize();
    return s;
  }
  *out = m;
  return GC_OK;
}

gc_status gc_model_load_file(const char *path, const gc_params *params, gc_model **out, char *err,
                             size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!path || !out) return GC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    gc_set_error(err, errlen, "cannot open '%s'", path);
    return GC_ERR_IO;
  }
  gc_status s = GC_OK;
  uint8_t *buf = NULL;
  long len = -1;
  if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
  if (len < 0 || fseek(f, 0, SEEK_SET) != 0) {
    gc_set_error(err, errlen, "cannot determine the size of '%s' (not a regular file?)", path);
    s = GC_ERR_IO;
  } else if (!(buf = malloc(len ? (size_t)len : 1))) {
    s = GC_ERR_OUT_OF_MEMORY;
  } else if (len && fread(buf, 1, (size_t)len, f) != (size_t)len) {
    gc_set_error(err, errlen, "cannot read '%s'", path);
    s = GC_ERR_IO;
  }
  fclose(f);
  if (s == GC_OK) s = gc_model_load_memory(buf, (size_t)len, params, out, err, errlen);
  free(buf);
  return s;
}

void gc_model_free(gc_model *m) {
  if (!m) return;
  if (m->nodes) {
    for (int i = 0; i < m->nrows; i++) {
      if (m->nodes[i].op) xnn_delete_operator(m->nodes[i].op);
      if (m->nodes[i].op2) xnn_delete_operator(m->nodes[i].op2);
      free(m->nodes[i].out);
    }
  }
  free(m->nodes);
  free(m->rows);
  free(m->scratch);
  free(m->workspace);
  free(m->image_input);
  if (m->pool) pthreadpool_destroy(m->pool);
  free(m);
  xnn_deinitialize();
}

const char *gc_model_last_error(const gc_model *m) { return m ? m->error : ""; }

gc_status gc_model_set_threads(gc_model *m, int threads) {
  if (!m || threads < 0 || threads > 256) return GC_ERR_INVALID_ARGUMENT;
  return make_pool(m, threads);
}

int gc_model_threads(const gc_model *m) { return m ? m->threads : 0; }

size_t gc_model_param_count(const gc_model *m) { return m ? m->param_count : 0; }

/* ---- reshape: only when the input size changes -------------------------------------------- */

static gc_status reshape(gc_model *m, int h, int w) {
  const int n = m->nrows;
  int *oh = malloc((size_t)n * sizeof *oh), *ow = malloc((size_t)n * sizeof *ow);
  if (!oh || !ow) {
    free(oh);
    free(ow);
    return GC_ERR_OUT_OF_MEMORY;
  }
  gc_table_spatial(m->rows, h, w, oh, ow);
  m->in_h = m->in_w = 0;
  m->ran = 0;
  gc_status s = GC_OK;
  size_t ws_max = 0, scratch_max = 0;
  for (int i = 0; i < n && s == GC_OK; i++) {
    const gc_layer *r = &m->rows[i];
    node *nd = &m->nodes[i];
    const int ih = r->in0 >= 0 ? oh[r->in0] : h, iw = r->in0 >= 0 ? ow[r->in0] : w;
    size_t ws = 0, wa = 0, rh = 0, rw = 0;
    enum xnn_status xs = xnn_status_success;
    switch (r->def->op) {
      case GC_OP_CONV:
        xs = xnn_reshape_convolution2d_nhwc_f32(nd->op, 1, ih, iw, &ws, &wa, &rh, &rw, m->pool);
        break;
      case GC_OP_SEPCONV:
        xs = xnn_reshape_convolution2d_nhwc_f32(nd->op, 1, ih, iw, &ws, &wa, &rh, &rw, m->pool);
        if (ws > ws_max) ws_max = ws;
        ws = 0;
        if (xs == xnn_status_success)
          xs = xnn_reshape_convolution2d_nhwc_f32(nd->op2, 1, ih, iw, &ws, &wa, &rh, &rw, m->pool);
        if ((size_t)ih * iw * r->cin > scratch_max) scratch_max = (size_t)ih * iw * r->cin;
        break;
      case GC_OP_RELU:
        xs = xnn_reshape_unary_elementwise_nc(nd->op, (size_t)ih * iw, r->cin, r->cin, r->cin, m->pool);
        rh = ih, rw = iw;
        break;
      case GC_OP_MAXPOOL:
        xs = xnn_reshape_max_pooling2d_nhwc_f32(nd->op, 1, ih, iw, r->cin, r->cin, r->cin, &rh, &rw, m->pool);
        break;
      case GC_OP_ADD: {
        const size_t shape[4] = {1, (size_t)ih, (size_t)iw, (size_t)r->cin};
        xs = xnn_reshape_binary_elementwise_nd(nd->op, 4, shape, 4, shape, m->pool);
        rh = ih, rw = iw;
        break;
      }
      case GC_OP_DENSE:
        xs = xnn_reshape_fully_connected_nc_f32(nd->op, 1, m->pool);
        rh = rw = 1;
        break;
      case GC_OP_INPUT:
        rh = h, rw = w;
        break;
      case GC_OP_GAP:
        rh = rw = 1;
        break;
    }
    if (xs != xnn_status_success) {
      s = backend_error(m, "reshape", r->def->name, xs);
      break;
    }
    if ((int)rh != oh[i] || (int)rw != ow[i]) {
      gc_set_error(m->error, sizeof m->error, "internal shape mismatch at %s: %zux%zu vs %dx%d",
                   r->def->name, rh, rw, oh[i], ow[i]);
      s = GC_ERR_BACKEND;
      break;
    }
    if (ws > ws_max) ws_max = ws;
    nd->h = oh[i];
    nd->w = ow[i];
    free(nd->out);
    nd->out = alloc_buffer((size_t)oh[i] * ow[i] * r->cout);
    if (!nd->out) s = GC_ERR_OUT_OF_MEMORY;
  }
  free(oh);
  free(ow);
  if (s == GC_OK) {
    free(m->scratch);
    free(m->workspace);
    m->workspace = NULL;
    m->scratch = alloc_buffer(scratch_max);
    m->workspace_size = ws_max;
    if (ws_max && posix_memalign(&m->workspace, 64, (ws_max + 63) / 64 * 64) != 0) m->workspace = NULL;
    if (!m->scratch || (ws_max && !m->workspace)) s = GC_ERR_OUT_OF_MEMORY;
  }
  if (s == GC_OK) {
    m->in_h = h;
    m->in_w = w;
  } else if (s == GC_ERR_OUT_OF_MEMORY) {
    gc_set_error(m->error, sizeof m->error, "out of memory for %dx%d activations", h, w);
  }
  return s;
}

/* ---- the forward pass --------------------------------------------------------------------- */

static gc_status run_row(gc_model *m, int i, const float *input) {
  const gc_layer *r = &m->rows[i];
  node *nd = &m->nodes[i];
  const float *in0 = r->in0 >= 0 ? m->nodes[r->in0].out : input;
  enum xnn_status xs = xnn_status_success;
  switch (r->def->op) {
    case GC_OP_INPUT:
      memcpy(nd->out, input, (size_t)nd->h * nd->w * 3 * sizeof(float));
      return GC_OK;
    case GC_OP_CONV:
      xs = xnn_setup_convolution2d_nhwc_f32(nd->op, m->workspace, in0, nd->out);
      if (xs == xnn_status_success) xs = xnn_run_operator(nd->op, m->pool);
      break;
    case GC_OP_SEPCONV:
      xs = xnn_setup_convolution2d_nhwc_f32(nd->op, m->workspace, in0, m->scratch);
      if (xs == xnn_status_success) xs = xnn_run_operator(nd->op, m->pool);
      if (xs == xnn_status_success) xs = xnn_setup_convolution2d_nhwc_f32(nd->op2, m->workspace, m->scratch, nd->out);
      if (xs == xnn_status_success) xs = xnn_run_operator(nd->op2, m->pool);
      break;
    case GC_OP_RELU:
      xs = xnn_setup_unary_elementwise_nc(nd->op, in0, nd->out);
      if (xs == xnn_status_success) xs = xnn_run_operator(nd->op, m->pool);
      break;
    case GC_OP_MAXPOOL:
      xs = xnn_setup_max_pooling2d_nhwc_f32(nd->op, in0, nd->out);
      if (xs == xnn_status_success) xs = xnn_run_operator(nd->op, m->pool);
      break;
    case GC_OP_ADD:
      xs = xnn_setup_binary_elementwise_nd(nd->op, in0, m->nodes[r->in1].out, nd->out);
      if (xs == xnn_status_success) xs = xnn_run_operator(nd->op, m->pool);
      break;
    case GC_OP_GAP: {
      const node *src = &m->nodes[r->in0];
      const size_t hw = (size_t)src->h * src->w;
      for (int c = 0; c < r->cout; c++) {
        double acc = 0.0;
        for (size_t p = 0; p < hw; p++) acc += in0[p * r->cout + c];
        nd->out[c] = (float)(acc / (double)hw);
      }
      return GC_OK;
    }
    case GC_OP_DENSE:
      xs = xnn_setup_fully_connected_nc_f32(nd->op, in0, nd->out);
      if (xs == xnn_status_success) xs = xnn_run_operator(nd->op, m->pool);
      break;
  }
  return xs == xnn_status_success ? GC_OK : backend_error(m, "run", r->def->name, xs);
}

static void softmax(const float *logits, float *probs, int n) {
  float mx = logits[0];
  for (int i = 1; i < n; i++)
    if (logits[i] > mx) mx = logits[i];
  double sum = 0.0;
  for (int i = 0; i < n; i++) sum += exp((double)logits[i] - mx);
  for (int i = 0; i < n; i++) probs[i] = (float)(exp((double)logits[i] - mx) / sum);
}

gc_status gc_model_forward_tensor(gc_model *m, const float *input, int h, int w) {
  if (!m || !input) return GC_ERR_INVALID_ARGUMENT;
  m->error[0] = 0;
  if (h < GC_MIN_INPUT_SIZE || w < GC_MIN_INPUT_SIZE || h > GC_MAX_INPUT_SIZE || w > GC_MAX_INPUT_SIZE) {
    gc_set_error(m->error, sizeof m->error, "input %dx%d outside %d..%d", w, h, GC_MIN_INPUT_SIZE,
                 GC_MAX_INPUT_SIZE);
    return GC_ERR_IMAGE_SIZE;
  }
  gc_status s = GC_OK;
  if (h != m->in_h || w != m->in_w) s = reshape(m, h, w);
  m->ran = 0;
  for (int i = 0; s == GC_OK && i < m->nrows; i++) s = run_row(m, i, input);
  if (s != GC_OK) return s;
  const float *out = m->nodes[m->nrows - 1].out;
  memcpy(m->logits, out, sizeof m->logits);
  for (int i = 0; i < GC_NUM_CLASSES; i++) {
    if (!isfinite(m->logits[i])) {
      gc_set_error(m->error, sizeof m->error, "logit %d is not finite (non-finite input?)", i);
      return GC_ERR_IMAGE_INVALID;
    }
  }
  softmax(m->logits, m->probs, GC_NUM_CLASSES);
  m->ran = 1;
  return GC_OK;
}

gc_status gc_model_forward_image(gc_model *m, const uint8_t *pixels, int width, int height, int stride,
                                 gc_pixel_format format) {
  if (!m) return GC_ERR_INVALID_ARGUMENT;
  m->error[0] = 0;
  if (!m->image_input && !(m->image_input = alloc_buffer((size_t)GC_INPUT_SIZE * GC_INPUT_SIZE * 3)))
    return GC_ERR_OUT_OF_MEMORY;
  gc_status s = gc_preprocess_image(pixels, width, height, stride, format, GC_INPUT_SIZE, GC_INPUT_SIZE,
                                    m->image_input);
  if (s != GC_OK) {
    gc_set_error(m->error, sizeof m->error, "image %dx%d (stride %d, %d channels) rejected", width, height,
                 stride, (int)format);
    return s;
  }
  return gc_model_forward_tensor(m, m->image_input, GC_INPUT_SIZE, GC_INPUT_SIZE);
}

const float *gc_model_logits(const gc_model *m) { return m && m->ran ? m->logits : NULL; }
const float *gc_model_probs(const gc_model *m) { return m && m->ran ? m->probs : NULL; }

gc_status gc_model_top_k(const gc_model *m, int k, gc_class_score *out) {
  if (!m || !out || k < 1 || k > GC_NUM_CLASSES) return GC_ERR_INVALID_ARGUMENT;
  if (!m->ran) return GC_ERR_NOT_RUN;
  /* selection of the k best; ties keep the lower index first */
  for (int j = 0; j < k; j++) {
    int best = -1;
    for (int i = 0; i < GC_NUM_CLASSES; i++) {
      int taken = 0;
      for (int t = 0; t < j && !taken; t++) taken = out[t].index == i;
      if (taken) continue;
      if (best < 0 || m->logits[i] > m->logits[best]) best = i;
    }
    out[j].index = best;
    out[j].logit = m->logits[best];
    out[j].prob = m->probs[best];
  }
  return GC_OK;
}

static void fill_shape(gc_shape *shape, const node *nd, int channels, int flat) {
  memset(shape, 0, sizeof *shape);
  if (flat) {
    shape->ndim = 2;
    shape->dims[0] = 1;
    shape->dims[1] = channels;
  } else {
    shape->ndim = 4;
    shape->dims[0] = 1;
    shape->dims[1] = nd->h;
    shape->dims[2] = nd->w;
    shape->dims[3] = channels;
  }
}

gc_status gc_model_activation(const gc_model *m_, const char *layer, const float **data, gc_shape *shape) {
  gc_model *m = (gc_model *)m_; /* only the error message is written */
  if (!m || !layer || !data || !shape) return GC_ERR_INVALID_ARGUMENT;
  *data = NULL;
  int i = gc_table_find(layer);
  if (i < 0) {
    if (gc_table_find_preact(layer) >= 0)
      gc_set_error(m->error, sizeof m->error, "'%s' is fused with the ReLU after it and not kept", layer);
    else
      gc_set_error(m->error, sizeof m->error, "no layer named '%s'", layer);
    return GC_ERR_LAYER_UNKNOWN;
  }
  if (!m->ran) return GC_ERR_NOT_RUN;
  const gc_op op = m->rows[i].def->op;
  fill_shape(shape, &m->nodes[i], m->rows[i].cout, op == GC_OP_GAP || op == GC_OP_DENSE);
  *data = m->nodes[i].out;
  return GC_OK;
}

gc_status gc_model_input(const gc_model *m, const float **data, gc_shape *shape) {
  return gc_model_activation(m, "input", data, shape);
}
