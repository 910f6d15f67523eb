/* test_backward.c - the backward pass and the explanation methods.
 *  1. Finite differences of each backward kernel on small random tensors: max pooling with
 *     TF "same" padding (asymmetric too), the transposed convolutions (3x3 stride 2 and 1
 *     valid; 1x1 stride 2 as a transposed 1x1 plus a strided scatter), the separable
 *     convolution; accumulating and overwriting modes.
 *  2. Finite differences through the whole network from several layers (ReLU, adds, pools,
 *     global pooling and the dense layer in composition).
 *  3. The block14 Grad-CAM fast path equals the general path; the gradient there is W/(HW).
 *     Grad-CAM's gradient sums equal the sums of the full gradient for every consumer type.
 *  4. Batched passes and metrics; the explanation errors. (The methods' formulas: test_methods.c.)
 * The gradients are compared with TF.js autodiff in tests/js/backward.test.mjs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "netfix.h"

/* ---- 1. kernels ---------------------------------------------------------------------------- */

static double pool_loss(const double *x, int ih, int iw, int c, const double *g, int oh, int ow) {
  const int pt = ((oh - 1) * 2 + 3 - ih) / 2, pl = ((ow - 1) * 2 + 3 - iw) / 2;
  double loss = 0;
  for (int y = 0; y < oh; y++)
    for (int xx = 0; xx < ow; xx++)
      for (int k = 0; k < c; k++) {
        double best = -INFINITY;
        for (int ky = 0; ky < 3; ky++)
          for (int kx = 0; kx < 3; kx++) {
            int sy = 2 * y + ky - pt, sx = 2 * xx + kx - pl;
            if (sy >= 0 && sy < ih && sx >= 0 && sx < iw && x[(sy * iw + sx) * c + k] > best)
              best = x[(sy * iw + sx) * c + k];
          }
        loss += g[(y * ow + xx) * c + k] * best;
      }
  return loss;
}

static void test_maxpool(void) {
  const int sizes[3][2] = {{7, 8}, {8, 7}, {9, 9}}; /* paddings 1/1, 0/1 and 1/1 */
  for (int t = 0; t < 3; t++) {
    const int ih = sizes[t][0], iw = sizes[t][1], c = t == 2 ? 70 : 5, oh = (ih + 1) / 2, ow = (iw + 1) / 2;
    const int n = ih * iw * c, no = oh * ow * c;
    double *x = malloc(n * sizeof *x), *g = malloc(no * sizeof *g);
    float *xf = malloc(n * sizeof *xf), *gf = malloc(no * sizeof *gf), *dx = calloc(n, sizeof *dx);
    /* distinct values at least 0.01 apart, so a small step never changes an arg-max */
    for (int i = 0; i < n; i++) x[i] = i * 0.01;
    for (int i = n - 1; i > 0; i--) {
      int j = (int)((urand() + 1) * 0.5f * i);
      double tmp = x[i];
      x[i] = x[j];
      x[j] = tmp;
    }
    for (int i = 0; i < n; i++) xf[i] = (float)x[i];
    for (int i = 0; i < no; i++) gf[i] = (float)(g[i] = urand());
    uint8_t *arg = malloc(no);
    for (int i = 0; i < n; i++) dx[i] = NAN; /* overwritten, not added to */
    gc_maxpool_backward(NULL, xf, ih, iw, c, gf, oh, ow, 3, 2, dx, 0, arg);
    double worst = 0;
    for (int i = 0; i < n; i++) {
      const double h = 1e-3, keep = x[i];
      x[i] = keep + h;
      double lp = pool_loss(x, ih, iw, c, g, oh, ow);
      x[i] = keep - h;
      double lm = pool_loss(x, ih, iw, c, g, oh, ow);
      x[i] = keep;
      double fd = (lp - lm) / (2 * h);
      if (fabs(fd - dx[i]) > worst) worst = fabs(fd - dx[i]);
    }
    CHECK(worst < 1e-4, "max pool %dx%d: finite differences differ by %g", ih, iw, worst);
    /* accumulate: a second pass adds the same routing again */
    float *twice = malloc(n * sizeof *twice);
    memcpy(twice, dx, n * sizeof *twice);
    gc_maxpool_backward(NULL, xf, ih, iw, c, gf, oh, ow, 3, 2, twice, 1, arg);
    int bad = 0;
    for (int i = 0; i < n; i++) bad += !(fabsf(twice[i] - 2 * dx[i]) <= 1e-6f * (1 + fabsf(dx[i])));
    CHECK(bad == 0, "max pool %dx%d: accumulating adds the routed gradient (%d cells differ)", ih, iw, bad);
    free(x), free(g), free(xf), free(gf), free(dx), free(arg), free(twice);
  }
  /* ties: the first maximum in row-major order takes the gradient, padding never wins */
  float x[3 * 3] = {1, 1, 0, 1, 1, 0, 0, 0, 0}, g[4] = {1, 2, 3, 4}, dx[9] = {0};
  uint8_t arg[4];
  gc_maxpool_backward(NULL, x, 3, 3, 1, g, 2, 2, 3, 2, dx, 0, arg);
  /* 3x3 -> 2x2, pads 1/1: windows centred at (0,0),(0,2),(2,0),(2,2) */
  CHECK(dx[0] == 1 && dx[1] == 2 && dx[3] == 3 && dx[4] == 4, "ties go to the first maximum (%g %g %g %g)", dx[0],
        dx[1], dx[3], dx[4]);
  float neg[4] = {-5, -6, -7, -8}, gn[1] = {1}, dn[4] = {0};
  gc_maxpool_backward(NULL, neg, 2, 2, 1, gn, 1, 1, 3, 2, dn, 0, arg); /* 2x2 -> 1x1, pads 0/1 */
  CHECK(dn[0] == 1 && dn[1] == 0, "negative inputs: padded cells are not zeros that win");
}

static double conv_loss(const double *x, int ih, int iw, int ci, const float *k, int co, int ks, int s,
                        const double *g, int oh, int ow) {
  double loss = 0;
  for (int y = 0; y < oh; y++)
    for (int xx = 0; xx < ow; xx++)
      for (int o = 0; o < co; o++) {
        double acc = 0;
        for (int ky = 0; ky < ks; ky++)
          for (int kx = 0; kx < ks; kx++)
            for (int c = 0; c < ci; c++)
              acc += x[((y * s + ky) * iw + xx * s + kx) * ci + c] * k[((o * ks + ky) * ks + kx) * ci + c];
        loss += g[(y * ow + xx) * co + o] * acc;
      }
  return loss;
}

static void test_conv_backward(void) {
  /* {ih, iw, ci, co, k, stride}: the stem convolutions and a residual 1x1 stride 2 */
  const int cases[4][6] = {{9, 10, 3, 4, 3, 2}, {6, 7, 4, 3, 3, 1}, {7, 8, 5, 6, 1, 2}, {8, 8, 2, 3, 1, 2}};
  for (int t = 0; t < 4; t++) {
    const int ih = cases[t][0], iw = cases[t][1], ci = cases[t][2], co = cases[t][3], ks = cases[t][4], s = cases[t][5];
    const int oh = (ih - ks) / s + 1, ow = (iw - ks) / s + 1;
    const int n = ih * iw * ci, no = oh * ow * co, nk = co * ks * ks * ci;
    float *k = malloc(nk * sizeof *k), *gf = malloc(no * sizeof *gf), *dx = malloc((n + 64) * sizeof *dx);
    double *x = malloc(n * sizeof *x), *g = malloc(no * sizeof *g), *fd = malloc(n * sizeof *fd);
    for (int i = 0; i < nk; i++) k[i] = urand();
    for (int i = 0; i < n; i++) x[i] = urand();
    for (int i = 0; i < no; i++) gf[i] = (float)(g[i] = urand());
    xnn_operator_t op = NULL;
    size_t rh = 0, rw = 0;
    enum xnn_status xs;
    if (ks == 1) { /* the residuals' path: transposed 1x1 on the strided grid, then scattered */
      float *small = malloc(((size_t)oh * ow * ci + 64) * sizeof *small);
      size_t ws = 0, wa = 0;
      xs = gc_create_pointwise_backward(k, co, ci, &op);
      if (xs == xnn_status_success) xs = xnn_reshape_convolution2d_nhwc_f32(op, 1, oh, ow, &ws, &wa, &rh, &rw, NULL);
      if (xs == xnn_status_success) xs = xnn_setup_convolution2d_nhwc_f32(op, NULL, gf, small);
      if (xs == xnn_status_success) xs = xnn_run_operator(op, NULL);
      CHECK(xs == xnn_status_success && ws == 0 && (int)rh == oh && (int)rw == ow, "pointwise backward %d: status %d",
            t, xs);
      for (int i = 0; i < n; i++) dx[i] = NAN; /* every cell is written */
      gc_strided_scatter(NULL, small, oh, ow, ci, s, dx, ih, iw, 0);
      /* accumulating into a copy adds the same values at the sampled cells only */
      float *twice = malloc(n * sizeof *twice);
      memcpy(twice, dx, n * sizeof *twice);
      gc_strided_scatter(NULL, small, oh, ow, ci, s, twice, ih, iw, 1);
      int bad = 0;
      for (int i = 0; i < n; i++) bad += twice[i] != 2 * dx[i];
      CHECK(bad == 0, "strided scatter %d: accumulating differs at %d cells", t, bad);
      free(small), free(twice);
    } else {
      xs = gc_create_conv_backward(k, co, ci, ks, s, &op);
      if (xs == xnn_status_success)
        xs = xnn_reshape_deconvolution2d_nhwc_f32(op, 1, oh, ow, ih - ((oh - 1) * s + ks), iw - ((ow - 1) * s + ks),
                                                  &rh, &rw, NULL);
      if (xs == xnn_status_success) xs = xnn_setup_deconvolution2d_nhwc_f32(op, gf, dx);
      if (xs == xnn_status_success) xs = xnn_run_operator(op, NULL);
      CHECK(xs == xnn_status_success && (int)rh == ih && (int)rw == iw, "deconvolution %d: status %d, %zux%zu", t,
            xs, rh, rw);
    }
    for (int i = 0; i < n; i++) {
      const double h = 1e-2, keep = x[i];
      x[i] = keep + h;
      double lp = conv_loss(x, ih, iw, ci, k, co, ks, s, g, oh, ow);
      x[i] = keep - h;
      fd[i] = (lp - conv_loss(x, ih, iw, ci, k, co, ks, s, g, oh, ow)) / (2 * h);
      x[i] = keep;
    }
    double e = rel_l2(dx, fd, n);
    CHECK(e < 1e-5, "conv %dx%d k%d s%d backward vs finite differences: %g", ih, iw, ks, s, e);
    xnn_delete_operator(op);
    free(k), free(gf), free(dx), free(x), free(g), free(fd);
  }
}

static double sep_loss(const double *x, int H, int W, int ci, const float *dw, const float *pw, int co,
                       const double *g) {
  double loss = 0;
  double *d = calloc((size_t)H * W * ci, sizeof *d);
  for (int y = 0; y < H; y++)
    for (int xx = 0; xx < W; xx++)
      for (int c = 0; c < ci; c++) {
        double acc = 0;
        for (int ky = -1; ky <= 1; ky++)
          for (int kx = -1; kx <= 1; kx++) {
            int sy = y + ky, sx = xx + kx;
            if (sy >= 0 && sy < H && sx >= 0 && sx < W) acc += x[(sy * W + sx) * ci + c] * dw[((ky + 1) * 3 + kx + 1) * ci + c];
          }
        d[(y * W + xx) * ci + c] = acc;
      }
  for (int p = 0; p < H * W; p++)
    for (int o = 0; o < co; o++) {
      double acc = 0;
      for (int c = 0; c < ci; c++) acc += d[p * ci + c] * pw[o * ci + c];
      loss += g[p * co + o] * acc;
    }
  free(d);
  return loss;
}

static void test_sepconv_backward(void) {
  const int H = 5, W = 6, ci = 4, co = 7, n = H * W * ci, no = H * W * co;
  float dw[9 * 4], pw[7 * 4], gf[5 * 6 * 7], tmp[5 * 6 * 4 + 64], dx[5 * 6 * 4 + 64];
  double x[5 * 6 * 4], g[5 * 6 * 7], fd[5 * 6 * 4];
  for (int i = 0; i < 36; i++) dw[i] = urand();
  for (int i = 0; i < 28; i++) pw[i] = urand();
  for (int i = 0; i < n; i++) x[i] = urand();
  for (int i = 0; i < no; i++) gf[i] = (float)(g[i] = urand());
  xnn_operator_t op_pw = NULL, op_dw = NULL;
  size_t ws = 0, wa = 0, rh = 0, rw = 0;
  enum xnn_status xs = gc_create_sepconv_backward(pw, dw, co, ci, 3, &op_pw, &op_dw);
  if (xs == xnn_status_success) xs = xnn_reshape_convolution2d_nhwc_f32(op_pw, 1, H, W, &ws, &wa, &rh, &rw, NULL);
  if (xs == xnn_status_success) xs = xnn_setup_convolution2d_nhwc_f32(op_pw, NULL, gf, tmp);
  if (xs == xnn_status_success) xs = xnn_run_operator(op_pw, NULL);
  if (xs == xnn_status_success) xs = xnn_reshape_convolution2d_nhwc_f32(op_dw, 1, H, W, &ws, &wa, &rh, &rw, NULL);
  void *work = ws ? malloc(ws) : NULL;
  if (xs == xnn_status_success) xs = xnn_setup_convolution2d_nhwc_f32(op_dw, work, tmp, dx);
  if (xs == xnn_status_success) xs = xnn_run_operator(op_dw, NULL);
  CHECK(xs == xnn_status_success, "separable backward status %d", xs);
  for (int i = 0; i < n; i++) {
    const double h = 1e-2, keep = x[i];
    x[i] = keep + h;
    double lp = sep_loss(x, H, W, ci, dw, pw, co, g);
    x[i] = keep - h;
    fd[i] = (lp - sep_loss(x, H, W, ci, dw, pw, co, g)) / (2 * h);
    x[i] = keep;
  }
  double e = rel_l2(dx, fd, n);
  CHECK(e < 1e-5, "separable convolution backward vs finite differences: %g", e);
  free(work);
  xnn_delete_operator(op_pw);
  xnn_delete_operator(op_dw);
}

/* ---- 2..4: the model ------------------------------------------------------------------------ */

/* Directional finite differences of the logit of class c w.r.t. a row's output along
 * v = G * mask / max|G * mask| for random half masks: (y(a + h v) - y(a - h v)) / 2h must equal
 * G . v. Following the gradient keeps the signal far above float32 rounding (random signs
 * would cancel it out), and no element moves by more than h, so few ReLU or max-pool
 * decisions change. A wrong gradient (a flipped kernel, a lost branch) points elsewhere and
 * the finite difference along it falls short. */
static void fd_through_network(const char *layer, int c) {
  const int row = gc_net_find(&model->net, layer);
  gc_model_forward_tensor(model, input, H0, W0);
  const float *g;
  gc_shape sh;
  CHECK_STATUS(gc_model_gradient(model, c, layer, GC_TARGET_LOGIT, 0, &g, &sh), GC_OK);
  const size_t n = (size_t)sh.dims[1] * sh.dims[2] * sh.dims[3];
  float *grad = malloc(n * sizeof *grad), *keep = malloc(n * sizeof *keep);
  signed char *v = malloc(n);
  memcpy(grad, g, n * sizeof *grad);
  float *a = model->nodes[row].out;
  memcpy(keep, a, n * sizeof *keep);
  enum { S = 6 };
  double fd[S];
  float an[S];
  uint32_t s = 77;
  const float h = 1e-3f;
  float *dir = malloc(n * sizeof *dir);
  for (int t = 0; t < S; t++) {
    double dot = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
      v[i] = t == 0 || ((synth_rng(&s) >> 7) & 1);
      mx = fmax(mx, fabs(grad[i] * v[i]));
    }
    for (size_t i = 0; i < n; i++) {
      dir[i] = mx > 0 ? (float)(grad[i] * v[i] / mx) : 0.0f;
      dot += (double)grad[i] * dir[i];
    }
    for (size_t i = 0; i < n; i++) a[i] = keep[i] + h * dir[i];
    gc_forward_from(model, row);
    const double lp = model->scores[c];
    for (size_t i = 0; i < n; i++) a[i] = keep[i] - h * dir[i];
    gc_forward_from(model, row);
    const double lm = model->scores[c];
    fd[t] = (lp - lm) / (2.0 * h);
    an[t] = (float)dot;
  }
  memcpy(a, keep, n * sizeof *keep);
  gc_forward_from(model, row);
  const double e = rel_l2(an, fd, S);
  CHECK(e < 1e-2, "%s: gradient vs finite differences through the network, relative L2 %g", layer, e);
  free(grad), free(keep), free(v), free(dir);
}

static void test_network_fd(void) {
  const int c = top1();
  fd_through_network("block14_sepconv1_act", c); /* separable conv + fused ReLU, pool, dense */
  fd_through_network("block12_add", c);          /* block 13: residual 1x1/2, ReLU, max pool, add */
  fd_through_network("block3_sepconv2_bn", (c + 17) % 1000); /* into block 3: max pool, add */
  fd_through_network("block1_conv1_act", c); /* stem 3x3 valid, block 2 */
  fd_through_network("input", c);            /* the 3x3 stride-2 stem */
}

static void test_fast_path(void) {
  gc_model_forward_tensor(model, input, H0, W0);
  const int c = top1();
  const float *G, *A, *dk;
  gc_shape sg, sa;
  CHECK_STATUS(gc_model_gradient(model, c, "block14_sepconv2_act", GC_TARGET_LOGIT, 0, &G, &sg), GC_OK);
  CHECK_STATUS(gc_dense_kernel(model, model->net.logits_row, &dk), GC_OK);
  const int hw = sg.dims[1] * sg.dims[2], K = sg.dims[3];
  int bad = 0;
  for (int p = 0; p < hw; p++)
    for (int k = 0; k < K; k++) bad += fabsf(G[p * K + k] - dk[(size_t)c * K + k] / hw) > 1e-7f;
  CHECK(bad == 0, "block14 gradient is W[c]/HW everywhere (%d off)", bad);
  /* general path: mean of the gradient per channel */
  CHECK_STATUS(gc_model_activation(model, "block14_sepconv2_act", &A, &sa), GC_OK);
  double *ref = calloc((size_t)hw, sizeof *ref);
  for (int k = 0; k < K; k++) {
    double w = 0;
    for (int p = 0; p < hw; p++) w += G[p * K + k];
    w /= hw;
    for (int p = 0; p < hw; p++) ref[p] += w * A[p * K + k];
  }
  for (int p = 0; p < hw; p++) ref[p] = ref[p] > 0 ? ref[p] : 0;
  gc_explain_params ep = gc_default_explain_params();
  gc_map map;
  int cls = -1;
  CHECK_STATUS(gc_model_explain(model, &ep, &map, &cls), GC_OK);
  CHECK(cls == c, "default class is the top-1");
  CHECK(map.height == sg.dims[1] && map.width == sg.dims[2] && map.channels == 1, "map shape");
  double e = rel_l2(map.data, ref, hw);
  CHECK(e < 1e-5, "fast path vs general backward path: %g", e);
  free(ref);
  /* the probability target is the softmax-weighted combination of logit gradients */
  const float *Gp;
  CHECK_STATUS(gc_model_gradient(model, c, "block14_sepconv2_act", GC_TARGET_PROB, 0, &Gp, &sg), GC_OK);
  const float *pr = gc_model_probs(model);
  double num = 0, den = 0;
  for (int k = 0; k < K; k++) {
    double want = 0;
    for (int j = 0; j < 1000; j++) want += pr[c] * ((j == c) - pr[j]) * dk[(size_t)j * K + k] / hw;
    num += (Gp[k] - want) * (Gp[k] - want);
    den += want * want;
  }
  CHECK(sqrt(num / den) < 1e-4, "probability target gradient: %g", sqrt(num / den));
}

/* The spatial sums Grad-CAM uses (computed without the full map where the layer's consumer is a
 * convolution) equal the sums of the full gradient: every consumer type, border classes at two
 * input sizes, a pre-activation name, the input. */
static void test_gradient_sums(void) {
  static const char *const layers[] = {
    "block1_conv1_act",     /* consumer: the 3x3 valid stem convolution */
    "block1_conv2_act",     /* consumers: residual 1x1/2 and a separable convolution */
    "block2_add",           /* consumers: residual 1x1/2 and a ReLU (full map) */
    "block3_sepconv2_act",  /* separable convolution */
    "block3_sepconv2_bn",   /* max pool (full map) */
    "block3_sepconv1_bn",   /* a pre-activation name (full map, then the ReLU) */
    "block8_sepconv3_act",  /* separable convolution in the middle flow */
    "block14_sepconv1_act", /* separable convolution on a map of a few cells */
    "input",                /* the 3x3 stride-2 stem */
  };
  const int sizes[2][2] = {{H0, W0}, {71, 99}};
  for (int z = 0; z < 2; z++) {
    const int h = sizes[z][0], w = sizes[z][1];
    float *x = malloc((size_t)h * w * 3 * sizeof *x);
    for (int i = 0; i < h * w * 3; i++) x[i] = urand();
    CHECK_STATUS(gc_model_forward_tensor(model, x, h, w), GC_OK);
    const int c = (top1() + 11) % 1000;
    for (size_t l = 0; l < sizeof layers / sizeof *layers; l++) {
      const float *G;
      gc_shape sg;
      CHECK_STATUS(gc_model_gradient(model, c, layers[l], GC_TARGET_LOGIT, 0, &G, &sg), GC_OK);
      const int hw = sg.dims[1] * sg.dims[2], K = sg.dims[3];
      double *want = calloc((size_t)K, sizeof *want), *got = calloc((size_t)K, sizeof *got);
      for (int p = 0; p < hw; p++)
        for (int k = 0; k < K; k++) want[k] += G[(size_t)p * K + k];
      CHECK_STATUS(gc_gradient_sums(model, c, layers[l], GC_TARGET_LOGIT, got), GC_OK);
      double num = 0, den = 0;
      for (int k = 0; k < K; k++) num += (got[k] - want[k]) * (got[k] - want[k]), den += want[k] * want[k];
      CHECK(den > 0 && sqrt(num / den) < 1e-5, "%dx%d %s: gradient sums vs the full gradient: %g", w, h, layers[l],
            den > 0 ? sqrt(num / den) : -1.0);
      free(want), free(got);
    }
    free(x);
  }
  CHECK_STATUS(gc_model_forward_tensor(model, input, H0, W0), GC_OK);
}

static void test_batch_and_metrics(void) {
  /* a batched pass equals single passes */
  const int n = H0 * W0 * 3;
  float *three = malloc((size_t)3 * n * sizeof *three);
  for (int b = 0; b < 3; b++)
    for (int i = 0; i < n; i++) three[(size_t)b * n + i] = input[i] * (1.0f - 0.3f * b);
  CHECK_STATUS(gc_forward_batch(model, three, 3, H0, W0), GC_OK);
  float batched[3][1000];
  for (int b = 0; b < 3; b++) gc_batch_scores(model, b, batched[b]);
  for (int b = 0; b < 3; b++) {
    gc_model_forward_tensor(model, three + (size_t)b * n, H0, W0);
    CHECK(rel_l2f(batched[b], gc_model_logits(model), 1000) < 1e-5, "batch item %d equals a single pass", b);
  }
  free(three);

  gc_model_forward_tensor(model, input, H0, W0);
  const int c = top1();
  const float p0 = gc_model_probs(model)[c];
  gc_explain_params ep = gc_default_explain_params();
  gc_map map;
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_OK);
  float *copy = malloc((size_t)map.height * map.width * sizeof *copy);
  memcpy(copy, map.data, (size_t)map.height * map.width * sizeof *copy);
  gc_map mm = {map.height, map.width, 1, copy};
  gc_metrics mt;
  for (int bl = 0; bl < 2; bl++) {
    CHECK_STATUS(gc_model_metrics(model, &mm, c, 8, (gc_baseline)bl, &mt), GC_OK);
    CHECK(mt.steps == 8, "steps");
    double d = 0, in = 0;
    for (int j = 0; j < 8; j++) d += (mt.deletion[j] + mt.deletion[j + 1]) / 16.0, in += (mt.insertion[j] + mt.insertion[j + 1]) / 16.0;
    CHECK(fabs(d - mt.deletion_auc) < 1e-5 && fabs(in - mt.insertion_auc) < 1e-5, "trapezoid AUC");
    CHECK(mt.average_drop >= 0 && mt.average_drop <= 1, "average drop in [0, 1]");
  }
  CHECK(gc_model_probs(model)[c] == p0, "metrics restore the forward pass");
  /* an all-ones map masks nothing: no drop */
  for (int i = 0; i < map.height * map.width; i++) copy[i] = 1.0f;
  CHECK_STATUS(gc_model_metrics(model, &mm, c, 4, GC_BASELINE_MEAN, &mt), GC_OK);
  CHECK(mt.average_drop < 1e-4f && !mt.increase_in_confidence, "all-ones map: drop %g", mt.average_drop);
  /* each curve point is the probability of its own image, built here: with an all-zero map every
   * pixel ties, so they move in raster order (lower index first) */
  {
    const size_t npx = (size_t)H0 * W0;
    for (int i = 0; i < map.height * map.width; i++) copy[i] = 0.0f;
    CHECK_STATUS(gc_model_metrics(model, &mm, c, 4, GC_BASELINE_MEAN, &mt), GC_OK);
    double mean[3] = {0, 0, 0};
    for (size_t i = 0; i < npx; i++)
      for (int k = 0; k < 3; k++) mean[k] += input[i * 3 + k];
    float *img = malloc(npx * 3 * sizeof *img);
    /* {insertion?, step}: both ends and the middle of both curves */
    const int pts[6][2] = {{0, 0}, {0, 2}, {0, 4}, {1, 0}, {1, 2}, {1, 4}};
    for (int q = 0; q < 6; q++) {
      const int ins = pts[q][0], step = pts[q][1];
      const size_t cut = (size_t)((double)step * npx / 4 + 0.5);
      for (size_t i = 0; i < npx; i++)
        for (int k = 0; k < 3; k++) /* the first `cut` pixels have moved: deleted, or inserted */
          img[i * 3 + k] = (i < cut) == (ins != 0) ? input[i * 3 + k] : (float)(mean[k] / (double)npx);
      CHECK_STATUS(gc_model_forward_tensor(model, img, H0, W0), GC_OK);
      const float want = gc_model_probs(model)[c], got = ins ? mt.insertion[step] : mt.deletion[step];
      CHECK(fabsf(got - want) < 1e-5f * (1 + want), "%s step %d: %g, its image's probability %g",
            ins ? "insertion" : "deletion", step, got, want);
    }
    free(img);
    CHECK_STATUS(gc_model_forward_tensor(model, input, H0, W0), GC_OK);
  }
  CHECK_STATUS(gc_model_metrics(model, &mm, c, 0, GC_BASELINE_MEAN, &mt), GC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gc_model_metrics(model, &mm, 1000, 4, GC_BASELINE_MEAN, &mt), GC_ERR_CLASS_OUT_OF_RANGE);
  free(copy);
}

static void test_explain_errors(void) {
  gc_model_forward_tensor(model, input, H0, W0);
  gc_explain_params ep = gc_default_explain_params();
  gc_map map;
  ep.class_index = 1000;
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_ERR_CLASS_OUT_OF_RANGE);
  ep = gc_default_explain_params();
  ep.layer = "block99_add";
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_ERR_LAYER_UNKNOWN);
  ep.layer = "avg_pool";
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_ERR_LAYER_UNKNOWN);
  ep = gc_default_explain_params();
  ep.method = (gc_method)99;
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_ERR_INVALID_ARGUMENT);
  const float *g;
  gc_shape sh;
  CHECK_STATUS(gc_model_gradient(model, -1, "input", GC_TARGET_LOGIT, 0, &g, &sh), GC_ERR_CLASS_OUT_OF_RANGE);
  CHECK_STATUS(gc_model_gradient(model, 1, "nope", GC_TARGET_LOGIT, 0, &g, &sh), GC_ERR_LAYER_UNKNOWN);
  for (int i = 0; i < GC_METHOD_COUNT; i++) {
    gc_method m;
    CHECK(gc_method_from_name(gc_method_name((gc_method)i), &m) == GC_OK && m == (gc_method)i, "method name %d", i);
  }
  gc_method m;
  CHECK_STATUS(gc_method_from_name("grad-cam", &m), GC_ERR_INVALID_ARGUMENT);
  /* a gradient at a fused pre-activation is the post-activation gradient masked by it */
  const float *gpre, *pre;
  float *gpost;
  CHECK_STATUS(gc_model_gradient(model, 5, "block14_sepconv1_act", GC_TARGET_LOGIT, 0, &g, &sh), GC_OK);
  size_t n = (size_t)sh.dims[1] * sh.dims[2] * sh.dims[3];
  gpost = malloc(n * sizeof *gpost);
  memcpy(gpost, g, n * sizeof *gpost);
  CHECK_STATUS(gc_model_gradient(model, 5, "block14_sepconv1_bn", GC_TARGET_LOGIT, 0, &gpre, &sh), GC_OK);
  CHECK_STATUS(gc_model_activation(model, "block14_sepconv1_bn", &pre, &sh), GC_OK);
  int bad = 0, negatives = 0;
  for (size_t i = 0; i < n; i++) {
    bad += gpre[i] != (pre[i] > 0 ? gpost[i] : 0.0f);
    negatives += pre[i] < 0;
  }
  CHECK(bad == 0 && negatives > 0, "pre-activation gradient (%d off, %d negative pre-activations)", bad, negatives);
  free(gpost);
}

int main(void) {
  CHECK(xnn_initialize(NULL) == xnn_status_success, "XNNPACK initialises");
  test_maxpool();
  test_conv_backward();
  test_sepconv_backward();
  setup_model();
  if (model) {
    test_fast_path();
    test_network_fd();
    test_gradient_sums();
    test_explain_errors();
    test_batch_and_metrics();
  }
  gc_model_free(model);
  synth_free(&weights);
  free(input);
  xnn_deinitialize();
  return check_report("test_backward");
}
