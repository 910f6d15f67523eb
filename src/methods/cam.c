/* cam.c - the class activation maps computed from a layer's activations A (H x W x K) and the
 * gradient G = dy/dA of the explained score (or its spatial sums), one function each; their
 * exact definitions are in the registry (registry.c). Weighted methods only fill the channel
 * weights: explain.c makes ReLU(sum_k w_k A^k). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"

/* Grad-CAM (Selvaraju et al. 2017): w_k = mean_ij G_ij^k, from the sums explain.c computed. */
gc_status gc_cam_gradcam(gc_method_ctx *c) {
  const double hw = (double)c->H * c->W;
  for (int k = 0; k < c->K; k++) c->w[k] /= hw;
  return GC_OK;
}

/* Grad-CAM++ (Chattopadhay et al. 2018), with pytorch-grad-cam's epsilon:
 * a = G^2 / (2 G^2 + sum_ab A_ab G^3 + 1e-6), 0 where G = 0; w_k = sum_ij a_ij ReLU(G_ij). */
gc_status gc_cam_gradcam_pp(gc_method_ctx *c) {
  const size_t hw = (size_t)c->H * c->W;
  const int K = c->K;
  for (int k = 0; k < K; k++) {
    double sa = 0.0;
    for (size_t p = 0; p < hw; p++) sa += c->A[p * K + k];
    double acc = 0.0;
    for (size_t p = 0; p < hw; p++) {
      const double g = c->G[p * K + k];
      if (g == 0.0) continue;
      const double a = g * g / (2.0 * g * g + sa * g * g * g + 1e-6);
      acc += a * (g > 0 ? g : 0.0);
    }
    c->w[k] = acc;
  }
  return GC_OK;
}

/* HiResCAM (Draelos & Carin 2020): L = ReLU(sum_k G^k * A^k), elementwise. LayerCAM (Jiang et
 * al. 2021): the same with ReLU(G^k). */
static void elementwise(gc_method_ctx *c, int positive_only) {
  const size_t hw = (size_t)c->H * c->W;
  const int K = c->K;
  for (size_t p = 0; p < hw; p++) {
    double acc = 0.0;
    for (int k = 0; k < K; k++) {
      const float g = c->G[p * K + k];
      if (!positive_only || g > 0) acc += (double)g * c->A[p * K + k];
    }
    c->out[p] = (float)acc;
  }
  gc_relu_inplace(c->out, hw);
}

gc_status gc_cam_hirescam(gc_method_ctx *c) {
  elementwise(c, 0);
  return GC_OK;
}

gc_status gc_cam_layercam(gc_method_ctx *c) {
  elementwise(c, 1);
  return GC_OK;
}

/* XGrad-CAM (Fu et al. 2020): w_k = sum_ij (A_ij^k / sum_ab A_ab^k) G_ij^k. */
gc_status gc_cam_xgradcam(gc_method_ctx *c) {
  const size_t hw = (size_t)c->H * c->W;
  const int K = c->K;
  for (int k = 0; k < K; k++) {
    double sa = 0.0, acc = 0.0;
    for (size_t p = 0; p < hw; p++) {
      sa += c->A[p * K + k];
      acc += (double)c->A[p * K + k] * c->G[p * K + k];
    }
    c->w[k] = acc / (sa + 1e-7);
  }
  return GC_OK;
}

/* ReLU of the projection of the mean-centred rows of X (HW x K) on their first principal
 * component (power iteration on X^T X, from the all-ones direction), the component's sign chosen
 * so that the projection correlates positively with the channel mean of X: pytorch-grad-cam
 * keeps whatever sign its SVD returns, which can flip the map; this is a deliberate difference. */
static gc_status projection(gc_model *m, const float *src, size_t hw, int K, float *cam) {
  float *X = gc_model_buffer(&m->work[1], &m->work_cap[1], hw * (size_t)K);
  double *mean = calloc((size_t)K, sizeof *mean), *v = calloc((size_t)K, sizeof *v), *u = calloc(hw, sizeof *u);
  double *nv = calloc((size_t)K, sizeof *nv);
  if (!X || !mean || !v || !u || !nv) {
    free(mean), free(v), free(u), free(nv);
    return GC_ERR_OUT_OF_MEMORY;
  }
  for (size_t p = 0; p < hw; p++)
    for (int k = 0; k < K; k++) mean[k] += src[p * K + k];
  for (int k = 0; k < K; k++) mean[k] /= (double)hw;
  for (size_t p = 0; p < hw; p++)
    for (int k = 0; k < K; k++) X[p * K + k] = (float)(src[p * K + k] - mean[k]);
  for (int k = 0; k < K; k++) v[k] = 1.0 / sqrt((double)K);
  for (int it = 0; it < 200; it++) {
    for (size_t p = 0; p < hw; p++) {
      double acc = 0.0;
      for (int k = 0; k < K; k++) acc += X[p * K + k] * v[k];
      u[p] = acc;
    }
    memset(nv, 0, (size_t)K * sizeof *nv);
    for (size_t p = 0; p < hw; p++)
      for (int k = 0; k < K; k++) nv[k] += X[p * K + k] * u[p];
    double norm = 0.0, diff = 0.0;
    for (int k = 0; k < K; k++) norm += nv[k] * nv[k];
    norm = sqrt(norm);
    if (!(norm > 0.0)) break;
    for (int k = 0; k < K; k++) {
      nv[k] /= norm;
      diff += fabs(nv[k] - v[k]);
      v[k] = nv[k];
    }
    if (diff < 1e-10) break;
  }
  double corr = 0.0, mu = 0.0;
  for (size_t p = 0; p < hw; p++) {
    double acc = 0.0, am = 0.0;
    for (int k = 0; k < K; k++) {
      acc += X[p * K + k] * v[k];
      am += src[p * K + k];
    }
    u[p] = acc;
    mu += am / K;
    cam[p] = (float)(am / K); /* temporarily the channel mean */
  }
  mu /= (double)hw;
  for (size_t p = 0; p < hw; p++) corr += u[p] * (cam[p] - mu);
  const double sign = corr < 0 ? -1.0 : 1.0;
  for (size_t p = 0; p < hw; p++) cam[p] = (float)(sign * u[p]);
  gc_relu_inplace(cam, hw);
  free(mean), free(v), free(u), free(nv);
  return GC_OK;
}

/* Eigen-CAM (Muhammad & Yeasin 2020): on the activations. */
gc_status gc_cam_eigencam(gc_method_ctx *c) {
  return projection(c->m, c->A, (size_t)c->H * c->W, c->K, c->out);
}

/* EigenGrad-CAM (pytorch-grad-cam): on the activations times their gradients. */
gc_status gc_cam_eigengradcam(gc_method_ctx *c) {
  const size_t n = (size_t)c->H * c->W * c->K;
  float *ga = gc_model_buffer(&c->m->work[2], &c->m->work_cap[2], n);
  if (!ga) return GC_ERR_OUT_OF_MEMORY;
  for (size_t i = 0; i < n; i++) ga[i] = c->G[i] * c->A[i];
  return projection(c->m, ga, (size_t)c->H * c->W, c->K, c->out);
}
