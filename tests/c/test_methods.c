/* test_methods.c - every explanation method against an independent re-implementation of its
 * formula (as the registry, src/methods/registry.c, states it), on Xception with synthetic
 * weights; Grad-CAM++ and Score-CAM over every channel against pytorch-grad-cam's formulas at
 * block14 on a photograph; the contrastive score; what explanations report of their weights;
 * the registry's consistency. */
#include <stdio.h>

#include "methods/methods.h"
#include "netfix.h"

/* PyTorch's UpsamplingBilinear2d (align_corners=True), written out again for the reference. */
static void upsample_aligned_ref(const float *src, int sh, int sw, double *dst, int dh, int dw) {
  for (int y = 0; y < dh; y++)
    for (int x = 0; x < dw; x++) {
      const double fy = dh > 1 ? y * (sh - 1.0) / (dh - 1.0) : 0, fx = dw > 1 ? x * (sw - 1.0) / (dw - 1.0) : 0;
      const int y0 = (int)floor(fy), x0 = (int)floor(fx);
      const int y1 = y0 + 1 < sh ? y0 + 1 : sh - 1, x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
      const double ty = fy - y0, tx = fx - x0;
      dst[y * dw + x] = (1 - ty) * ((1 - tx) * src[y0 * sw + x0] + tx * src[y0 * sw + x1]) +
                        ty * ((1 - tx) * src[y1 * sw + x0] + tx * src[y1 * sw + x1]);
    }
}

/* pytorch-grad-cam's ScoreCAM.get_cam_weights for the given channels: each channel upsampled
 * (aligned corners), (u - min) / (max - min + 1e-8), times the input; the logits of class c of
 * the masked inputs, softmax over the channels. Uses the model's current input size. */
static void scorecam_reference(const float *A, int h, int w, int K, const int *ch, int N, int c, double *wout) {
  const float *x0;
  gc_shape sx;
  gc_model_input(model, &x0, &sx);
  const int ih = sx.dims[1], iw = sx.dims[2], n = ih * iw;
  enum { B = 16 }; /* masked inputs scored in batches (the model's batched pass equals single ones) */
  float *x = malloc((size_t)n * 3 * sizeof *x), *chan = malloc((size_t)h * w * sizeof *chan);
  float *xm = malloc((size_t)B * n * 3 * sizeof *xm), *sc = malloc((size_t)gc_model_num_classes(model) * sizeof *sc);
  double *up = malloc((size_t)n * sizeof *up), *score = malloc((size_t)N * sizeof *score), mx = -1e300, sum = 0;
  memcpy(x, x0, (size_t)n * 3 * sizeof *x);
  for (int j0 = 0; j0 < N; j0 += B) {
    const int nb = N - j0 < B ? N - j0 : B;
    for (int b = 0; b < nb; b++) {
      for (int p = 0; p < h * w; p++) chan[p] = A[p * K + ch[j0 + b]];
      upsample_aligned_ref(chan, h, w, up, ih, iw);
      double lo = 1e300, hi = -1e300;
      for (int q = 0; q < n; q++) lo = fmin(lo, up[q]), hi = fmax(hi, up[q]);
      float *d = xm + (size_t)b * n * 3;
      for (int q = 0; q < n; q++)
        for (int k = 0; k < 3; k++) d[q * 3 + k] = (float)(x[q * 3 + k] * ((up[q] - lo) / (hi - lo + 1e-8)));
    }
    gc_forward_batch(model, xm, nb, ih, iw);
    for (int b = 0; b < nb; b++) {
      gc_batch_scores(model, b, sc);
      score[j0 + b] = sc[c];
      mx = fmax(mx, score[j0 + b]);
    }
  }
  for (int j = 0; j < N; j++) sum += exp(score[j] - mx);
  for (int j = 0; j < N; j++) wout[ch[j]] = exp(score[j] - mx) / sum;
  gc_model_forward_tensor(model, x, ih, iw);
  free(x), free(chan), free(xm), free(up), free(score), free(sc);
}

static void test_methods(void) {
  const char *L = "block8_sepconv3_act";
  gc_model_forward_tensor(model, input, H0, W0);
  const int c = (top1() + 3) % 1000; /* not the top-1: classes matter */
  const float *Ap, *Gp;
  gc_shape sa, sg;
  CHECK_STATUS(gc_model_activation(model, L, &Ap, &sa), GC_OK);
  const int hw = sa.dims[1] * sa.dims[2], K = sa.dims[3];
  float *A = malloc((size_t)hw * K * sizeof *A), *G = malloc((size_t)hw * K * sizeof *G);
  memcpy(A, Ap, (size_t)hw * K * sizeof *A);
  CHECK_STATUS(gc_model_gradient(model, c, L, GC_TARGET_LOGIT, 0, &Gp, &sg), GC_OK);
  memcpy(G, Gp, (size_t)hw * K * sizeof *G);
  double *ref = malloc((size_t)hw * sizeof *ref), *w = malloc((size_t)K * sizeof *w);
  gc_map map;
  float *got;
#define RELU_REF() for (int p = 0; p < hw; p++) ref[p] = ref[p] > 0 ? ref[p] : 0
#define COMBINE()                                                                  \
  for (int p = 0; p < hw; p++) {                                                   \
    ref[p] = 0;                                                                    \
    for (int k = 0; k < K; k++) ref[p] += w[k] * A[p * K + k];                     \
  }                                                                                \
  RELU_REF()
#define EXPECT(method, tol)                                                        \
  got = explain(method, L, c, &map);                                               \
  if (got) {                                                                       \
    double e_ = rel_l2(got, ref, hw);                                              \
    CHECK(e_ < tol, "%s vs its formula: %g", gc_method_name(method), e_);          \
    double s_ = 0;                                                                 \
    for (int p = 0; p < hw; p++) s_ += ref[p];                                     \
    CHECK(s_ > 0, "%s: the reference map is not all zero", gc_method_name(method)); \
    free(got);                                                                     \
  }

  /* Grad-CAM: mean gradient per channel */
  for (int k = 0; k < K; k++) {
    w[k] = 0;
    for (int p = 0; p < hw; p++) w[k] += G[p * K + k];
    w[k] /= hw;
  }
  COMBINE();
  EXPECT(GC_METHOD_GRADCAM, 1e-5);
  /* Grad-CAM++ */
  for (int k = 0; k < K; k++) {
    double sa_ = 0;
    for (int p = 0; p < hw; p++) sa_ += A[p * K + k];
    w[k] = 0;
    for (int p = 0; p < hw; p++) {
      double g = G[p * K + k];
      if (g != 0) w[k] += g * g / (2 * g * g + sa_ * g * g * g + 1e-6) * (g > 0 ? g : 0);
    }
  }
  COMBINE();
  EXPECT(GC_METHOD_GRADCAM_PP, 1e-4);
  /* HiResCAM */
  for (int p = 0; p < hw; p++) {
    ref[p] = 0;
    for (int k = 0; k < K; k++) ref[p] += (double)G[p * K + k] * A[p * K + k];
  }
  RELU_REF();
  EXPECT(GC_METHOD_HIRESCAM, 1e-5);
  /* XGrad-CAM */
  for (int k = 0; k < K; k++) {
    double sa_ = 0, acc = 0;
    for (int p = 0; p < hw; p++) sa_ += A[p * K + k], acc += (double)A[p * K + k] * G[p * K + k];
    w[k] = acc / (sa_ + 1e-7);
  }
  COMBINE();
  EXPECT(GC_METHOD_XGRADCAM, 1e-4);
  /* LayerCAM */
  for (int p = 0; p < hw; p++) {
    ref[p] = 0;
    for (int k = 0; k < K; k++) ref[p] += (G[p * K + k] > 0 ? G[p * K + k] : 0) * (double)A[p * K + k];
  }
  RELU_REF();
  EXPECT(GC_METHOD_LAYERCAM, 1e-5);
  /* Eigen-CAM: first principal component from the K x K covariance (power iteration in
   * double on the covariance, unlike the core's iteration on the data) */
  {
    double *mean = calloc(K, sizeof *mean), *C = calloc((size_t)K * K, sizeof *C), *v = malloc(K * sizeof *v),
           *nv = malloc(K * sizeof *nv);
    for (int p = 0; p < hw; p++)
      for (int k = 0; k < K; k++) mean[k] += A[p * K + k] / (double)hw;
    for (int p = 0; p < hw; p++)
      for (int i = 0; i < K; i++) {
        const double xi = A[p * K + i] - mean[i];
        if (xi == 0) continue;
        for (int j = 0; j < K; j++) C[(size_t)i * K + j] += xi * (A[p * K + j] - mean[j]);
      }
    for (int k = 0; k < K; k++) v[k] = (k % 7) + 1.0;
    for (int it = 0; it < 300; it++) {
      double nrm = 0;
      for (int i = 0; i < K; i++) {
        nv[i] = 0;
        for (int j = 0; j < K; j++) nv[i] += C[(size_t)i * K + j] * v[j];
        nrm += nv[i] * nv[i];
      }
      nrm = sqrt(nrm);
      for (int i = 0; i < K; i++) v[i] = nv[i] / nrm;
    }
    double corr = 0, mu = 0;
    double *cm = malloc(hw * sizeof *cm);
    for (int p = 0; p < hw; p++) {
      ref[p] = 0;
      cm[p] = 0;
      for (int k = 0; k < K; k++) ref[p] += (A[p * K + k] - mean[k]) * v[k], cm[p] += A[p * K + k] / K;
      mu += cm[p] / hw;
    }
    for (int p = 0; p < hw; p++) corr += ref[p] * (cm[p] - mu);
    for (int p = 0; p < hw; p++) ref[p] = corr < 0 ? -ref[p] : ref[p];
    RELU_REF();
    EXPECT(GC_METHOD_EIGENCAM, 1e-3);
    free(mean), free(C), free(v), free(nv), free(cm);
  }
  /* Score-CAM with 4 channels: masked inputs run one by one through the public API */
  {
    int ch[4];
    double mean[1024] = {0};
    for (int p = 0; p < hw; p++)
      for (int k = 0; k < K; k++) mean[k] += A[p * K + k];
    for (int j = 0; j < 4; j++) {
      int best = -1;
      for (int k = 0; k < K; k++) {
        int taken = 0;
        for (int t = 0; t < j; t++) taken |= ch[t] == k;
        if (!taken && (best < 0 || mean[k] > mean[best])) best = k;
      }
      ch[j] = best;
    }
    for (int k = 0; k < K; k++) w[k] = 0;
    scorecam_reference(A, sa.dims[1], sa.dims[2], K, ch, 4, c, w);
    COMBINE();
    gc_model_forward_tensor(model, input, H0, W0);
    EXPECT(GC_METHOD_SCORECAM, 1e-4);
    /* the model's results are those of the original input again */
    const float *a2;
    gc_shape s2;
    gc_model_activation(model, L, &a2, &s2);
    CHECK(!memcmp(a2, A, (size_t)hw * K * sizeof *A), "Score-CAM restores the forward pass");
  }
  free(ref), free(w), free(A), free(G);
}

static void test_input_methods(void) {
  gc_model_forward_tensor(model, input, H0, W0);
  const int c = top1(), n = H0 * W0;
  const float *g;
  gc_shape sh;
  gc_map map;
  float *plain = malloc(n * 3 * sizeof *plain), *guided = malloc(n * 3 * sizeof *guided);
  double *ref = malloc(n * 3 * sizeof *ref);
  CHECK_STATUS(gc_model_gradient(model, c, "input", GC_TARGET_LOGIT, 0, &g, &sh), GC_OK);
  memcpy(plain, g, n * 3 * sizeof *plain);
  CHECK_STATUS(gc_model_gradient(model, c, NULL, GC_TARGET_LOGIT, 1, &g, &sh), GC_OK);
  memcpy(guided, g, n * 3 * sizeof *guided);
  CHECK(rel_l2f(guided, plain, n * 3) > 0.05, "guided gradients differ from plain ones");
  /* saliency: max over channels of |gradient| */
  for (int q = 0; q < n; q++) ref[q] = fmax(fabs(plain[3 * q]), fmax(fabs(plain[3 * q + 1]), fabs(plain[3 * q + 2])));
  float *got = explain(GC_METHOD_SALIENCY, NULL, c, &map);
  CHECK(got && map.height == H0 && map.width == W0 && map.channels == 1, "saliency map at input size");
  if (got) CHECK(rel_l2(got, ref, n) < 1e-6, "saliency formula");
  free(got);
  /* guided backpropagation: the guided input gradient */
  for (int q = 0; q < n * 3; q++) ref[q] = guided[q];
  got = explain(GC_METHOD_GUIDED_BACKPROP, NULL, c, &map);
  CHECK(got && map.channels == 3, "guided backprop has 3 channels");
  if (got) CHECK(rel_l2(got, ref, n * 3) < 1e-6, "guided backprop");
  free(got);
  /* Guided Grad-CAM: guided gradient times the upsampled Grad-CAM scaled to max 1 */
  {
    float *cam = explain(GC_METHOD_GRADCAM, "block4_add", c, &map);
    const int ch = map.height, cw = map.width;
    float *up = malloc(n * sizeof *up), mx = 0;
    for (int q = 0; cam && q < ch * cw; q++) mx = fmaxf(mx, cam[q]);
    if (cam) gc_resize_map(cam, ch, cw, up, H0, W0);
    for (int q = 0; q < n; q++)
      for (int k = 0; k < 3; k++) ref[q * 3 + k] = guided[q * 3 + k] * (mx > 0 ? up[q] / mx : 0);
    got = explain(GC_METHOD_GUIDED_GRADCAM, "block4_add", c, &map);
    if (got) CHECK(rel_l2(got, ref, n * 3) < 1e-5, "guided Grad-CAM");
    free(got), free(cam), free(up);
  }
  /* SmoothGrad: the same noise through the public gradient API */
  {
    float lo = 1e30f, hi = -1e30f;
    for (int q = 0; q < n * 3; q++) lo = fminf(lo, input[q]), hi = fmaxf(hi, input[q]);
    float *noise = malloc(n * 3 * sizeof *noise);
    double *acc = calloc(n * 3, sizeof *acc);
    for (int i = 0; i < 3; i++) {
      gc_smoothgrad_noise(1, i, 0.15f * (hi - lo), noise, (size_t)n * 3);
      for (int q = 0; q < n * 3; q++) noise[q] += input[q];
      gc_model_forward_tensor(model, noise, H0, W0);
      gc_model_gradient(model, c, "input", GC_TARGET_LOGIT, 0, &g, &sh);
      for (int q = 0; q < n * 3; q++) acc[q] += g[q];
    }
    for (int q = 0; q < n; q++)
      ref[q] = fmax(fabs(acc[3 * q]), fmax(fabs(acc[3 * q + 1]), fabs(acc[3 * q + 2]))) / 3;
    gc_model_forward_tensor(model, input, H0, W0);
    got = explain(GC_METHOD_SMOOTHGRAD, NULL, c, &map);
    if (got) CHECK(rel_l2(got, ref, n) < 1e-5, "SmoothGrad");
    free(noise), free(acc), free(got);
    CHECK(gc_model_input(model, &g, &sh) == GC_OK && !memcmp(g, input, n * 3 * sizeof *input),
          "SmoothGrad restores the forward pass of the input");
  }
  /* Integrated Gradients from the black baseline (-1), 4 steps */
  {
    float *xs = malloc(n * 3 * sizeof *xs);
    double *acc = calloc(n * 3, sizeof *acc);
    for (int k = 1; k <= 4; k++) {
      for (int q = 0; q < n * 3; q++) xs[q] = -1.0f + (k / 4.0f) * (input[q] + 1.0f);
      gc_model_forward_tensor(model, xs, H0, W0);
      gc_model_gradient(model, c, "input", GC_TARGET_LOGIT, 0, &g, &sh);
      for (int q = 0; q < n * 3; q++) acc[q] += g[q];
    }
    for (int q = 0; q < n; q++) {
      double v = 0;
      for (int k = 0; k < 3; k++) v += (input[q * 3 + k] + 1.0) * acc[q * 3 + k] / 4;
      ref[q] = fabs(v);
    }
    gc_model_forward_tensor(model, input, H0, W0);
    got = explain(GC_METHOD_INTEGRATED_GRADIENTS, NULL, c, &map);
    if (got) CHECK(rel_l2(got, ref, n) < 1e-5, "Integrated Gradients");
    free(xs), free(acc), free(got);
  }
  free(plain), free(guided), free(ref);
}


/* EigenGrad-CAM, Ablation-CAM, Gradient x Input: the methods added with the registry. */
static void test_new_methods(void) {
  gc_model_forward_tensor(model, input, H0, W0);
  const int c = (top1() + 5) % 1000, n = H0 * W0;
  gc_map map;
  /* Gradient x Input: |sum_c x_c g_c| */
  {
    const float *g;
    gc_shape sh;
    CHECK_STATUS(gc_model_gradient(model, c, "input", GC_TARGET_LOGIT, 0, &g, &sh), GC_OK);
    double *ref = malloc(n * sizeof *ref);
    for (int q = 0; q < n; q++) {
      double v = 0;
      for (int k = 0; k < 3; k++) v += (double)input[q * 3 + k] * g[q * 3 + k];
      ref[q] = fabs(v);
    }
    float *got = explain(GC_METHOD_GRADIENT_INPUT, NULL, c, &map);
    if (got) CHECK(map.channels == 1 && map.height == H0 && rel_l2(got, ref, n) < 1e-6, "Gradient x Input");
    free(got), free(ref);
  }
  /* EigenGrad-CAM: Eigen-CAM's projection (covariance power iteration here) of G * A */
  {
    const char *L = "block13_sepconv2_act";
    const float *Ap, *Gp;
    gc_shape sa, sg;
    CHECK_STATUS(gc_model_gradient(model, c, L, GC_TARGET_LOGIT, 0, &Gp, &sg), GC_OK);
    const int hw = sg.dims[1] * sg.dims[2], K = sg.dims[3];
    float *X = malloc((size_t)hw * K * sizeof *X);
    memcpy(X, Gp, (size_t)hw * K * sizeof *X);
    CHECK_STATUS(gc_model_activation(model, L, &Ap, &sa), GC_OK);
    for (int i = 0; i < hw * K; i++) X[i] *= Ap[i];
    double *mean = calloc(K, sizeof *mean), *C = calloc((size_t)K * K, sizeof *C), *v = malloc(K * sizeof *v),
           *nv = malloc(K * sizeof *nv), *ref = malloc(hw * sizeof *ref), *cm = malloc(hw * sizeof *cm);
    for (int p = 0; p < hw; p++)
      for (int k = 0; k < K; k++) mean[k] += X[p * K + k] / (double)hw;
    for (int p = 0; p < hw; p++)
      for (int i = 0; i < K; i++) {
        const double xi = X[p * K + i] - mean[i];
        if (xi == 0) continue;
        for (int j = 0; j < K; j++) C[(size_t)i * K + j] += xi * (X[p * K + j] - mean[j]);
      }
    for (int k = 0; k < K; k++) v[k] = (k % 5) + 1.0;
    for (int it = 0; it < 300; it++) {
      double nrm = 0;
      for (int i = 0; i < K; i++) {
        nv[i] = 0;
        for (int j = 0; j < K; j++) nv[i] += C[(size_t)i * K + j] * v[j];
        nrm += nv[i] * nv[i];
      }
      for (int i = 0; i < K; i++) v[i] = nv[i] / sqrt(nrm);
    }
    double corr = 0, mu = 0;
    for (int p = 0; p < hw; p++) {
      ref[p] = cm[p] = 0;
      for (int k = 0; k < K; k++) ref[p] += (X[p * K + k] - mean[k]) * v[k], cm[p] += X[p * K + k] / K;
      mu += cm[p] / hw;
    }
    for (int p = 0; p < hw; p++) corr += ref[p] * (cm[p] - mu);
    for (int p = 0; p < hw; p++) ref[p] = fmax(corr < 0 ? -ref[p] : ref[p], 0);
    float *got = explain(GC_METHOD_EIGENGRADCAM, L, c, &map);
    if (got) CHECK(rel_l2(got, ref, hw) < 1e-3, "EigenGrad-CAM vs its formula: %g", rel_l2(got, ref, hw));
    free(got), free(X), free(mean), free(C), free(v), free(nv), free(ref), free(cm);
  }
  /* Ablation-CAM at two layers: each channel zeroed in the stored activation, the rest of the
   * network run again from there (gc_forward_from, one channel at a time) */
  const char *layers[2] = {"block14_sepconv2_act", "block14_sepconv2_bn"};
  for (int li = 0; li < 2; li++) {
    gc_model_forward_tensor(model, input, H0, W0);
    const char *L = layers[li];
    int pre;
    const int row = gc_model_find_layer(model, L, &pre);
    const float *Ap;
    gc_shape sa;
    CHECK_STATUS(gc_model_activation(model, L, &Ap, &sa), GC_OK);
    const int hw = sa.dims[1] * sa.dims[2], K = sa.dims[3];
    float *A = malloc((size_t)hw * K * sizeof *A);
    memcpy(A, Ap, (size_t)hw * K * sizeof *A);
    float *out = model->nodes[row].out, *keep = malloc((size_t)hw * K * sizeof *keep);
    memcpy(keep, out, (size_t)hw * K * sizeof *keep);
    const double y = gc_model_logits(model)[c];
    float lo = 0;
    for (int i = 0; i < hw * K; i++) lo = fminf(lo, keep[i]);
    double *w = malloc(K * sizeof *w), *ref = malloc(hw * sizeof *ref);
    for (int k = 0; k < K; k++) {
      memcpy(out, keep, (size_t)hw * K * sizeof *out);
      for (int p = 0; p < hw; p++) out[p * K + k] = pre || lo == 0 ? 0.0f : lo - 1e7f;
      gc_forward_from(model, row);
      w[k] = (y - gc_model_logits(model)[c]) / y;
    }
    memcpy(out, keep, (size_t)hw * K * sizeof *out);
    gc_model_forward_tensor(model, input, H0, W0);
    for (int p = 0; p < hw; p++) {
      ref[p] = 0;
      for (int k = 0; k < K; k++) ref[p] += w[k] * A[p * K + k];
      ref[p] = fmax(ref[p], 0);
    }
    float *got = explain(GC_METHOD_ABLATIONCAM, L, c, &map);
    if (got) CHECK(rel_l2(got, ref, hw) < 1e-4, "Ablation-CAM at %s vs its formula: %g", L, rel_l2(got, ref, hw));
    gc_explain_detail d;
    CHECK_STATUS(gc_model_explain_detail(model, &d), GC_OK);
    double werr = 0;
    for (int k = 0; d.weights && k < K; k++) werr = fmax(werr, fabs(d.weights[k] - w[k]) / (1e-6 + fabs(w[k])));
    CHECK(d.weights && d.channels == K && werr < 1e-3, "Ablation-CAM reports its weights (%g)", werr);
    free(got), free(A), free(keep), free(w), free(ref);
  }
}

/* Grad-CAM of y_a - y_b equals ReLU(sum_k (w_k^a - w_k^b) A^k); the detail reports the weights
 * and the pre-ReLU map. */
static void test_contrast_and_detail(void) {
  gc_model_forward_tensor(model, input, H0, W0);
  gc_class_score t[2];
  gc_model_top_k(model, 2, t);
  const char *L = "block8_sepconv3_act";
  const float *A;
  gc_shape sa;
  CHECK_STATUS(gc_model_activation(model, L, &A, &sa), GC_OK);
  const int hw = sa.dims[1] * sa.dims[2], K = sa.dims[3];
  double *wa = malloc(K * sizeof *wa), *wb = malloc(K * sizeof *wb), *ref = malloc(hw * sizeof *ref),
         *pre = malloc(hw * sizeof *pre);
  CHECK_STATUS(gc_gradient_sums(model, t[0].index, L, GC_TARGET_LOGIT, wa), GC_OK);
  CHECK_STATUS(gc_gradient_sums(model, t[1].index, L, GC_TARGET_LOGIT, wb), GC_OK);
  for (int k = 0; k < K; k++) wa[k] = (wa[k] - wb[k]) / hw;
  CHECK_STATUS(gc_model_activation(model, L, &A, &sa), GC_OK);
  for (int p = 0; p < hw; p++) {
    pre[p] = 0;
    for (int k = 0; k < K; k++) pre[p] += wa[k] * A[p * K + k];
    ref[p] = fmax(pre[p], 0);
  }
  gc_explain_params ep = gc_default_explain_params();
  ep.layer = L;
  ep.class_index = t[0].index;
  ep.contrast_class = t[1].index;
  gc_map map;
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_OK);
  CHECK(rel_l2(map.data, ref, hw) < 1e-5, "contrastive Grad-CAM: %g", rel_l2(map.data, ref, hw));
  gc_explain_detail d;
  CHECK_STATUS(gc_model_explain_detail(model, &d), GC_OK);
  CHECK(d.weights && d.channels == K && d.height == sa.dims[1] && d.width == sa.dims[2], "detail shape");
  double werr = 0;
  for (int k = 0; d.weights && k < K; k++) werr = fmax(werr, fabs(d.weights[k] - wa[k]));
  CHECK(werr < 1e-6, "detail weights = the contrastive channel weights (%g)", werr);
  if (d.pre_relu) CHECK(rel_l2(d.pre_relu, pre, hw) < 1e-5, "detail pre-ReLU map");
  /* at block14 the shortcut (classifier weights) gives the same contrast */
  ep.layer = "block14_sepconv2_act";
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_OK);
  float *fast = malloc((size_t)map.height * map.width * sizeof *fast);
  memcpy(fast, map.data, (size_t)map.height * map.width * sizeof *fast);
  const int mh = map.height, mw = map.width;
  ep.method = GC_METHOD_HIRESCAM; /* not the shortcut: the elementwise map of the same gradient */
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_OK);
  double s1 = 0, s2 = 0;
  for (int p = 0; p < mh * mw; p++) s1 += fast[p], s2 += map.data[p];
  CHECK(s1 > 0 && s2 > 0, "contrastive maps at block14 are not empty");
  /* a contrast class equal to the class, or out of range, is refused */
  ep.method = GC_METHOD_GRADCAM;
  ep.contrast_class = t[0].index;
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_ERR_INVALID_ARGUMENT);
  ep.contrast_class = 1000;
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_ERR_CLASS_OUT_OF_RANGE);
  /* a class out of range is refused by a class-free method too (the result would name it) */
  ep.contrast_class = -1;
  ep.method = GC_METHOD_EIGENCAM;
  const int saved_class = ep.class_index;
  ep.class_index = 1000;
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_ERR_CLASS_OUT_OF_RANGE);
  ep.class_index = saved_class;
  /* methods without channel weights report none */
  ep.contrast_class = -1;
  ep.method = GC_METHOD_LAYERCAM;
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_OK);
  CHECK_STATUS(gc_model_explain_detail(model, &d), GC_OK);
  CHECK(d.weights == NULL, "LayerCAM reports no channel weights");
  free(wa), free(wb), free(ref), free(pre), free(fast);
}

/* Grad-CAM++ and Score-CAM over every channel at block14 against pytorch-grad-cam's formulas,
 * on a photograph at 71x71 (a 3x3 map; 2048 masked passes). */
static void test_reference_definitions(void) {
  char path[4096], err[GC_ERRBUF_SIZE];
  snprintf(path, sizeof path, "%s/tests/data/images/skimage_chelsea.png", GRADCAM_SOURCE_DIR);
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL, "photo %s", path);
  if (!f) return;
  fseek(f, 0, SEEK_END);
  const long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *bytes = malloc((size_t)len);
  CHECK(fread(bytes, 1, (size_t)len, f) == (size_t)len, "read the photo");
  fclose(f);
  uint8_t *px = NULL;
  int w = 0, h = 0;
  CHECK_STATUS(gc_decode_image(bytes, (size_t)len, &px, &w, &h, err, sizeof err), GC_OK);
  free(bytes);
  if (!px) return;
  CHECK_STATUS(gc_model_forward_image_size(model, px, w, h, w * 4, GC_PIXEL_RGBA8, 71, 71), GC_OK);
  gc_free(px);
  const int c = top1();
  const char *L = "block14_sepconv2_act";
  const float *Ap, *Gp;
  gc_shape sa, sg;
  CHECK_STATUS(gc_model_activation(model, L, &Ap, &sa), GC_OK);
  const int hw = sa.dims[1] * sa.dims[2], K = sa.dims[3];
  float *A = malloc((size_t)hw * K * sizeof *A);
  memcpy(A, Ap, (size_t)hw * K * sizeof *A);
  CHECK_STATUS(gc_model_gradient(model, c, L, GC_TARGET_LOGIT, 0, &Gp, &sg), GC_OK);
  /* Grad-CAM++ in float32, as pytorch-grad-cam computes it with numpy on float32 arrays */
  double *wts = malloc(K * sizeof *wts), *ref = malloc(hw * sizeof *ref);
  for (int k = 0; k < K; k++) {
    float sum_a = 0, acc = 0;
    for (int p = 0; p < hw; p++) sum_a += A[p * K + k];
    for (int p = 0; p < hw; p++) {
      const float g = Gp[p * K + k], g2 = g * g, g3 = g2 * g;
      const float aij = g != 0 ? g2 / (2 * g2 + sum_a * g3 + 0.000001f) : 0;
      acc += (g > 0 ? g : 0) * aij;
    }
    wts[k] = acc;
  }
  for (int p = 0; p < hw; p++) {
    ref[p] = 0;
    for (int k = 0; k < K; k++) ref[p] += wts[k] * A[p * K + k];
    ref[p] = fmax(ref[p], 0);
  }
  gc_explain_params ep = gc_default_explain_params();
  ep.layer = L;
  ep.class_index = c;
  ep.method = GC_METHOD_GRADCAM_PP;
  gc_map map;
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_OK);
  CHECK(rel_l2(map.data, ref, hw) < 1e-5, "Grad-CAM++ = pytorch-grad-cam's formula: %g", rel_l2(map.data, ref, hw));
  /* the old epsilon (1e-7) differs measurably: the test can tell the definitions apart */
  for (int k = 0; k < K; k++) {
    double sum_a = 0, acc = 0;
    for (int p = 0; p < hw; p++) sum_a += A[p * K + k];
    for (int p = 0; p < hw; p++) {
      const double g = Gp[p * K + k];
      if (g != 0) acc += (g > 0 ? g : 0) * g * g / (2 * g * g + sum_a * g * g * g + 1e-7);
    }
    wts[k] = acc;
  }
  double *old = malloc(hw * sizeof *old);
  for (int p = 0; p < hw; p++) {
    old[p] = 0;
    for (int k = 0; k < K; k++) old[p] += wts[k] * A[p * K + k];
    old[p] = fmax(old[p], 0);
  }
  CHECK(rel_l2(map.data, old, hw) > 1e-4, "the 1e-7 epsilon gives another map (%g)", rel_l2(map.data, old, hw));
#ifndef GRADCAM_SANITIZED_BUILD
  /* Score-CAM, every channel (2048 passes each side: left to the uninstrumented build) */
  int *all = malloc(K * sizeof *all);
  for (int k = 0; k < K; k++) all[k] = k, wts[k] = 0;
  scorecam_reference(A, sa.dims[1], sa.dims[2], K, all, K, c, wts);
  for (int p = 0; p < hw; p++) {
    ref[p] = 0;
    for (int k = 0; k < K; k++) ref[p] += wts[k] * A[p * K + k];
    ref[p] = fmax(ref[p], 0);
  }
  ep.method = GC_METHOD_SCORECAM;
  ep.scorecam_channels = 0;
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_OK);
  CHECK(rel_l2(map.data, ref, hw) < 1e-5, "Score-CAM (all channels) = pytorch-grad-cam's formula: %g",
        rel_l2(map.data, ref, hw));
  free(all);
#endif
  free(A), free(wts), free(ref), free(old);
}

/* The registry: names, parameters and defaults agree with the API. */
static void test_registry(void) {
  gc_explain_params p = gc_default_explain_params();
  for (int i = 0; i < GC_METHOD_COUNT; i++) {
    const gc_method_info *mi = gc_method_info_of((gc_method)i);
    gc_method m;
    CHECK(mi && mi->name && mi->label && mi->summary && mi->formula && mi->reference, "row %d complete", i);
    CHECK(gc_method_from_name(mi->name, &m) == GC_OK && m == (gc_method)i, "name %s round-trips", mi->name);
    CHECK(mi->channels == 1 || mi->channels == 3, "%s channels", mi->name);
    for (int k = 0; k < mi->nparams; k++) {
      const gc_method_param *q = &mi->params[k];
      CHECK(gc_explain_params_get(&p, q->name) == (q->integer ? (double)(long long)q->def : (double)(float)q->def),
            "%s.%s default %g in gc_default_explain_params", mi->name, q->name, q->def);
      gc_explain_params t = p;
      char err[GC_ERRBUF_SIZE];
      CHECK_STATUS(gc_explain_params_set(&t, (gc_method)i, q->name, q->max + 1, err, sizeof err),
                   GC_ERR_INVALID_ARGUMENT);
      CHECK(strstr(err, q->name) != NULL, "range message names %s: %s", q->name, err);
      CHECK_STATUS(gc_explain_params_set(&t, (gc_method)i, q->name, q->min, err, sizeof err), GC_OK);
    }
  }
  CHECK(gc_method_info_of(GC_METHOD_COUNT) == NULL, "out of range");
  CHECK(p.contrast_class == -1 && p.scorecam_channels == 32 && p.smoothgrad_samples == 8 && p.ig_steps == 16,
        "defaults");
}

/* Cancellation: the progress hook is polled before each step and between a step's forward and
 * backward pass; answering "stop" gives CANCELLED and leaves no pass to explain. */
static int polls, stop_at;
static int count_polls(void *user, int done, int total) {
  (void)user, (void)done, (void)total;
  return ++polls >= stop_at;
}
static void test_cancel(void) {
  gc_model_forward_tensor(model, input, H0, W0);
  gc_explain_params ep = gc_default_explain_params();
  ep.method = GC_METHOD_INTEGRATED_GRADIENTS;
  ep.ig_steps = 2;
  gc_map map;
  polls = 0, stop_at = 1 << 30;
  gc_model_set_progress(model, count_polls, NULL);
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_OK);
  CHECK(polls == 4, "IG with 2 steps polls twice a step (%d polls)", polls);
  polls = 0, stop_at = 2; /* inside the first step, after its forward pass */
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_ERR_CANCELLED);
  CHECK(polls == 2, "stopped at the second poll (%d)", polls);
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_ERR_NOT_RUN);
  ep.method = GC_METHOD_SMOOTHGRAD;
  ep.smoothgrad_samples = 2;
  gc_model_forward_tensor(model, input, H0, W0);
  polls = 0, stop_at = 3;
  CHECK_STATUS(gc_model_explain(model, &ep, &map, NULL), GC_ERR_CANCELLED);
  CHECK(polls == 3, "SmoothGrad stopped at the third poll (%d)", polls);
  gc_model_set_progress(model, NULL, NULL);
  gc_model_forward_tensor(model, input, H0, W0);
}

int main(void) {
  test_registry();
  setup_model();
  if (model) {
    test_methods();
    test_input_methods();
    test_new_methods();
    test_contrast_and_detail();
    test_reference_definitions();
    test_cancel();
  }
  gc_model_free(model);
  synth_free(&weights);
  free(input);
  return check_report("test_methods");
}
