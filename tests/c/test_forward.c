/* test_forward.c - the forward pass: layer semantics recomputed by naive loops from the
 * weights (stem convolution + BN + ReLU, separable convolution, TF-"same" max pooling, the
 * residual additions, global average pooling, the dense layer), reshaping between input
 * sizes, thread counts, the image entry point, and bad arguments. The whole network is
 * checked against the independent TF.js implementation in tests/js/oracle.test.mjs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "spec.h"
#include "synth.h"

static const float *act(gc_model *m, const char *name, gc_shape *s) {
  const float *d = NULL;
  gc_status st = gc_model_activation(m, name, &d, s);
  CHECK(st == GC_OK, "activation %s: %s", name, gc_status_to_string(st));
  return d;
}

static double max_rel_diff(const float *a, const double *b, size_t n) {
  double num = 0, den = 0, worst = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs(a[i] - b[i]);
    if (d > worst) worst = d;
    num += d * d;
    den += b[i] * b[i];
  }
  (void)worst;
  return sqrt(num / (den + 1e-30));
}

static void bn_scale(const synth *w, const char *bn, int c, double *scale, double *shift) {
  char name[96];
  snprintf(name, sizeof name, "%s/gamma", bn);
  const float *g = synth_get(w, name);
  snprintf(name, sizeof name, "%s/beta", bn);
  const float *b = synth_get(w, name);
  snprintf(name, sizeof name, "%s/moving_mean", bn);
  const float *mu = synth_get(w, name);
  snprintf(name, sizeof name, "%s/moving_variance", bn);
  const float *var = synth_get(w, name);
  for (int o = 0; o < c; o++) {
    scale[o] = g[o] / sqrt((double)var[o] + 1e-3);
    shift[o] = b[o] - mu[o] * scale[o];
  }
}

/* block1_conv1: 3x3 stride 2 valid, 3 -> 32, BN, ReLU (kernel stored OHWI) */
static void check_stem(gc_model *m, const synth *w, const float *x, int h, int wd) {
  gc_shape s;
  const float *y = act(m, "block1_conv1_act", &s);
  const int oh = (h - 3) / 2 + 1, ow = (wd - 3) / 2 + 1;
  CHECK(s.dims[1] == oh && s.dims[2] == ow && s.dims[3] == 32, "stem shape %dx%dx%d", s.dims[1], s.dims[2], s.dims[3]);
  const float *k = synth_get(w, "block1_conv1/kernel");
  double scale[32], shift[32];
  bn_scale(w, "block1_conv1_bn", 32, scale, shift);
  double *ref = malloc((size_t)oh * ow * 32 * sizeof *ref);
  for (int i = 0; i < oh; i++)
    for (int j = 0; j < ow; j++)
      for (int o = 0; o < 32; o++) {
        double acc = 0;
        for (int ky = 0; ky < 3; ky++)
          for (int kx = 0; kx < 3; kx++)
            for (int c = 0; c < 3; c++)
              acc += (double)x[((2 * i + ky) * wd + 2 * j + kx) * 3 + c] * k[((o * 3 + ky) * 3 + kx) * 3 + c];
        double v = acc * scale[o] + shift[o];
        ref[(i * ow + j) * 32 + o] = v > 0 ? v : 0;
      }
  double e = max_rel_diff(y, ref, (size_t)oh * ow * 32);
  CHECK(e < 1e-5, "stem convolution relative error %g", e);
  free(ref);
}

/* block14_sepconv2_act from block14_sepconv1_act: depthwise 3x3 same + pointwise + BN + ReLU */
static void check_sepconv(gc_model *m, const synth *w) {
  gc_shape si, so;
  const float *x = act(m, "block14_sepconv1_act", &si);
  const float *y = act(m, "block14_sepconv2_act", &so);
  const int H = si.dims[1], W = si.dims[2], C = si.dims[3], O = so.dims[3];
  CHECK(C == 1536 && O == 2048 && so.dims[1] == H && so.dims[2] == W, "block14 shapes");
  const float *dw = synth_get(w, "block14_sepconv2/depthwise_kernel"); /* [1][3][3][C] */
  const float *pw = synth_get(w, "block14_sepconv2/pointwise_kernel"); /* [O][1][1][C] */
  double *scale = malloc(O * sizeof *scale), *shift = malloc(O * sizeof *shift);
  bn_scale(w, "block14_sepconv2_bn", O, scale, shift);
  double *d = calloc((size_t)H * W * C, sizeof *d), *ref = malloc((size_t)H * W * O * sizeof *ref);
  for (int i = 0; i < H; i++)
    for (int j = 0; j < W; j++)
      for (int c = 0; c < C; c++) {
        double acc = 0;
        for (int ky = -1; ky <= 1; ky++)
          for (int kx = -1; kx <= 1; kx++) {
            int yy = i + ky, xx = j + kx;
            if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue; /* zero padding */
            acc += (double)x[(yy * W + xx) * C + c] * dw[((ky + 1) * 3 + kx + 1) * C + c];
          }
        d[(i * W + j) * C + c] = acc;
      }
  for (int p = 0; p < H * W; p++)
    for (int o = 0; o < O; o++) {
      double acc = 0;
      for (int c = 0; c < C; c++) acc += d[p * C + c] * pw[(size_t)o * C + c];
      double v = acc * scale[o] + shift[o];
      ref[(size_t)p * O + o] = v > 0 ? v : 0;
    }
  double e = max_rel_diff(y, ref, (size_t)H * W * O);
  CHECK(e < 1e-5, "separable convolution relative error %g", e);
  free(d);
  free(ref);
  free(scale);
  free(shift);
}

/* 3x3 stride-2 max pooling with TF "same" padding: pad_before = floor(total / 2), padded cells
 * never win */
static void check_pool(gc_model *m, const char *in, const char *out) {
  gc_shape si, so;
  const float *x = act(m, in, &si);
  const float *y = act(m, out, &so);
  const int H = si.dims[1], W = si.dims[2], C = si.dims[3];
  const int OH = (H + 1) / 2, OW = (W + 1) / 2;
  CHECK(so.dims[1] == OH && so.dims[2] == OW, "%s shape %dx%d, want %dx%d", out, so.dims[1], so.dims[2], OH, OW);
  const int pt = ((OH - 1) * 2 + 3 - H) / 2, pl = ((OW - 1) * 2 + 3 - W) / 2;
  int bad = 0;
  for (int i = 0; i < OH; i++)
    for (int j = 0; j < OW; j++)
      for (int c = 0; c < C; c++) {
        float best = -INFINITY;
        for (int ky = 0; ky < 3; ky++)
          for (int kx = 0; kx < 3; kx++) {
            int yy = 2 * i + ky - pt, xx = 2 * j + kx - pl;
            if (yy >= 0 && yy < H && xx >= 0 && xx < W && x[(yy * W + xx) * C + c] > best)
              best = x[(yy * W + xx) * C + c];
          }
        if (y[(i * OW + j) * C + c] != best) bad++;
      }
  CHECK(bad == 0, "%s: %d pooled values differ (padding %d/%d)", out, bad, pt, pl);
}

static void check_add_relu(gc_model *m) {
  gc_shape s1, s2, s3, s4;
  const float *a = act(m, "block5_sepconv3_bn", &s1);
  const float *b = act(m, "block4_add", &s2);
  const float *y = act(m, "block5_add", &s3);
  const float *r = act(m, "block6_sepconv1_act", &s4);
  size_t n = (size_t)s3.dims[1] * s3.dims[2] * s3.dims[3];
  int bad = 0, badr = 0;
  for (size_t i = 0; i < n; i++) {
    if (y[i] != a[i] + b[i]) bad++;
    if (r[i] != (y[i] > 0 ? y[i] : 0)) badr++;
  }
  CHECK(bad == 0, "block5_add: %d elements differ from the sum", bad);
  CHECK(badr == 0, "block6_sepconv1_act: %d elements differ from ReLU(block5_add)", badr);
}

static void check_head(gc_model *m, const synth *w) {
  gc_shape s, sp;
  const float *f = act(m, "block14_sepconv2_act", &s);
  const float *pool = act(m, "avg_pool", &sp);
  CHECK(sp.ndim == 2 && sp.dims[1] == 2048, "avg_pool shape");
  const int HW = s.dims[1] * s.dims[2];
  double *ref = malloc(2048 * sizeof *ref);
  for (int c = 0; c < 2048; c++) {
    double acc = 0;
    for (int p = 0; p < HW; p++) acc += f[p * 2048 + c];
    ref[c] = acc / HW;
  }
  CHECK(max_rel_diff(pool, ref, 2048) < 1e-6, "global average pooling");
  const float *k = synth_get(w, "predictions/kernel"); /* [1000][2048] */
  const float *b = synth_get(w, "predictions/bias");
  double logits[1000];
  for (int o = 0; o < 1000; o++) {
    double acc = b[o];
    for (int c = 0; c < 2048; c++) acc += (double)pool[c] * k[(size_t)o * 2048 + c];
    logits[o] = acc;
  }
  CHECK(max_rel_diff(gc_model_logits(m), logits, 1000) < 1e-5, "dense layer");
  const float *p = gc_model_probs(m);
  double sum = 0;
  int argmax = 0;
  for (int i = 0; i < 1000; i++) {
    sum += p[i];
    if (logits[i] > logits[argmax]) argmax = i;
  }
  CHECK(fabs(sum - 1.0) < 1e-5, "probabilities sum to %f", sum);
  gc_class_score top[5];
  CHECK_STATUS(gc_model_top_k(m, 5, top), GC_OK);
  CHECK(top[0].index == argmax, "top-1 is the arg max");
  for (int i = 1; i < 5; i++) CHECK(top[i].logit <= top[i - 1].logit, "top-k sorted");
  free(ref);
}

static float *random_input(int h, int w, uint32_t seed) {
  float *x = malloc((size_t)h * w * 3 * sizeof *x);
  for (size_t i = 0; i < (size_t)h * w * 3; i++) x[i] = synth_uniform(&seed);
  return x;
}

/* The process-wide arithmetic: chosen before the first load, fixed once XNNPACK has started.
 * (That portable really matches the WebAssembly build bit for bit is checked from Node:
 * tests/js/package-engine.test.mjs.) */
static void test_arithmetic_before_load(void) {
  CHECK(!strcmp(gc_arithmetic_name(GC_ARITH_PORTABLE), "portable"), "name of portable");
  CHECK(!strcmp(gc_arithmetic_name(GC_ARITH_FMA), "fma"), "name of fma");
  CHECK(gc_arithmetic_name((gc_arithmetic)7) == NULL, "no name for an unknown value");
  CHECK_STATUS(gc_set_arithmetic((gc_arithmetic)7), GC_ERR_INVALID_ARGUMENT);
#if defined(__x86_64__) || defined(__i386__)
  CHECK(gc_get_arithmetic() == GC_ARITH_PORTABLE, "portable is the default on x86");
  CHECK_STATUS(gc_set_arithmetic(GC_ARITH_FMA), GC_OK);
  CHECK(gc_get_arithmetic() == GC_ARITH_FMA, "fma chosen before the first load");
  CHECK_STATUS(gc_set_arithmetic(GC_ARITH_PORTABLE), GC_OK);
  CHECK(gc_get_arithmetic() == GC_ARITH_PORTABLE, "portable chosen again");
#endif
}

static void test_arithmetic_after_load(void) {
  const gc_arithmetic a = gc_get_arithmetic();
  CHECK_STATUS(gc_set_arithmetic(a), GC_OK);
  CHECK_STATUS(gc_set_arithmetic(a == GC_ARITH_FMA ? GC_ARITH_PORTABLE : GC_ARITH_FMA), GC_ERR_INVALID_ARGUMENT);
  CHECK(gc_get_arithmetic() == a, "the arithmetic stays what the loaded models use");
}

static void test_network(void) {
  synth w;
  CHECK(synth_make(&w, 11) == 0, "synthetic weights");
  void *bytes = NULL;
  size_t size = 0;
  CHECK_STATUS(synth_write(&w, GC_DTYPE_F32, &bytes, &size), GC_OK);
  gc_params p = gc_default_params();
  p.threads = 2;
  gc_model *m = NULL;
  char err[GC_ERRBUF_SIZE];
  CHECK_STATUS(gc_model_load_memory(bytes, size, &p, &m, err, sizeof err), GC_OK);
  if (!m) return;
  test_arithmetic_after_load();
  CHECK(gc_model_logits(m) == NULL, "no logits before a forward pass");
  gc_class_score top[5];
  CHECK_STATUS(gc_model_top_k(m, 5, top), GC_ERR_NOT_RUN);

  /* 75x81 (non-square): exercises the 0/1 asymmetric "same" pooling at several stages */
  const int H = 75, W = 81;
  float *x = random_input(H, W, 5);
  CHECK_STATUS(gc_model_forward_tensor(m, x, H, W), GC_OK);
  check_stem(m, &w, x, H, W);
  check_pool(m, "block2_sepconv2_bn", "block2_pool");
  check_pool(m, "block3_sepconv2_bn", "block3_pool");
  check_pool(m, "block4_sepconv2_bn", "block4_pool");
  check_pool(m, "block13_sepconv2_bn", "block13_pool");
  check_add_relu(m);
  check_sepconv(m, &w);
  check_head(m, &w);
  float first[1000];
  memcpy(first, gc_model_logits(m), sizeof first);

  /* every listed layer has the shape gc_layer_shape predicts */
  gc_spec imagenet;
  gc_net net;
  gc_spec_imagenet(&imagenet);
  CHECK_STATUS(gc_net_build(&imagenet, &net, NULL, 0), GC_OK);
  for (int i = 0; i < gc_layer_count(); i++) {
    gc_shape a, b;
    if (strstr(gc_layer_name(i), "_bn") && gc_net_find(&net, gc_layer_name(i)) < 0) continue; /* checked below */
    const float *d;
    CHECK_STATUS(gc_model_activation(m, gc_layer_name(i), &d, &a), GC_OK);
    CHECK_STATUS(gc_layer_shape(gc_layer_name(i), H, W, &b), GC_OK);
    CHECK(!memcmp(&a, &b, sizeof a), "%s shape", gc_layer_name(i));
  }
  gc_net_free(&net);
  const float *d;
  gc_shape s;
  /* a fused pre-activation is computed on demand: ReLU of it is the stored *_act */
  {
    const float *act_;
    gc_shape sa_;
    CHECK_STATUS(gc_model_activation(m, "block3_sepconv1_bn", &d, &s), GC_OK);
    CHECK_STATUS(gc_model_activation(m, "block3_sepconv2_act", &act_, &sa_), GC_OK);
    CHECK(!memcmp(&s, &sa_, sizeof s), "pre-activation shape");
    size_t n_ = (size_t)s.dims[1] * s.dims[2] * s.dims[3];
    int bad_ = 0, neg_ = 0;
    for (size_t i = 0; i < n_; i++) {
      bad_ += fabsf((d[i] > 0 ? d[i] : 0) - act_[i]) > 1e-5f * (1 + fabsf(act_[i]));
      neg_ += d[i] < 0;
    }
    CHECK(bad_ == 0 && neg_ > 0, "ReLU(block3_sepconv1_bn) == block3_sepconv2_act (%d off, %d negative)", bad_, neg_);
  }
  CHECK_STATUS(gc_model_activation(m, "no_such_layer", &d, &s), GC_ERR_LAYER_UNKNOWN);
  CHECK(gc_model_activation(m, "block2_add", &d, &s) == GC_OK && s.dims[1] == 18 && s.dims[2] == 19,
        "block2_add 18x19");

  /* another size, then back: reshaping gives the same results */
  float *x2 = random_input(96, 128, 9);
  CHECK_STATUS(gc_model_forward_tensor(m, x2, 96, 128), GC_OK);
  CHECK_STATUS(gc_model_forward_tensor(m, x, H, W), GC_OK);
  CHECK(!memcmp(first, gc_model_logits(m), sizeof first), "same logits after a reshape round trip");

  /* one thread gives the same answer as two */
  CHECK_STATUS(gc_model_set_threads(m, 1), GC_OK);
  CHECK(gc_model_threads(m) == 1, "threads 1");
  CHECK_STATUS(gc_model_forward_tensor(m, x, H, W), GC_OK);
  double num = 0, den = 0;
  for (int i = 0; i < 1000; i++) {
    num += pow(gc_model_logits(m)[i] - first[i], 2);
    den += pow(first[i], 2);
  }
  CHECK(sqrt(num / den) < 1e-5, "1 vs 2 threads relative difference %g", sqrt(num / den));

  /* bad tensors */
  CHECK_STATUS(gc_model_forward_tensor(m, x, 70, 100), GC_ERR_IMAGE_SIZE);
  CHECK_STATUS(gc_model_forward_tensor(m, x, 100, 5000), GC_ERR_IMAGE_SIZE);
  CHECK_STATUS(gc_model_forward_tensor(m, NULL, 100, 100), GC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gc_model_forward_tensor(NULL, x, 100, 100), GC_ERR_INVALID_ARGUMENT);
  x[17] = NAN;
  CHECK_STATUS(gc_model_forward_tensor(m, x, H, W), GC_ERR_IMAGE_INVALID);
  CHECK(gc_model_logits(m) == NULL, "no logits after a failed pass");
  CHECK_STATUS(gc_model_set_threads(m, -1), GC_ERR_INVALID_ARGUMENT);

  /* images: 1x1, 100000x1, RGB vs RGBA, strides, and garbage arguments */
  uint8_t px[4] = {200, 100, 50, 255};
  CHECK_STATUS(gc_model_forward_image(m, px, 1, 1, 4, GC_PIXEL_RGBA8), GC_OK);
  float one[1000];
  memcpy(one, gc_model_logits(m), sizeof one);
  uint8_t rgb[6] = {200, 100, 50, 0, 0, 0};
  CHECK_STATUS(gc_model_forward_image(m, rgb, 1, 1, 6, GC_PIXEL_RGB8), GC_OK);
  CHECK(!memcmp(one, gc_model_logits(m), sizeof one), "RGB and RGBA of the same pixel agree");
  uint8_t *wide = malloc(100000 * 4);
  for (int i = 0; i < 100000 * 4; i++) wide[i] = (uint8_t)(i * 7);
  CHECK_STATUS(gc_model_forward_image(m, wide, 100000, 1, 100000 * 4, GC_PIXEL_RGBA8), GC_OK);
  CHECK_STATUS(gc_model_forward_image(m, px, 0, 0, 0, GC_PIXEL_RGBA8), GC_ERR_IMAGE_SIZE);
  CHECK_STATUS(gc_model_forward_image(m, px, 1, 1, 2, GC_PIXEL_RGBA8), GC_ERR_IMAGE_INVALID);
  CHECK_STATUS(gc_model_forward_image(m, NULL, 1, 1, 4, GC_PIXEL_RGBA8), GC_ERR_IMAGE_INVALID);
  CHECK_STATUS(gc_model_forward_image(m, px, 1, 1, 4, (gc_pixel_format)2), GC_ERR_IMAGE_INVALID);
  CHECK_STATUS(gc_model_forward_image(m, wide, 200000, 1, 800000, GC_PIXEL_RGBA8), GC_ERR_IMAGE_SIZE);
  CHECK_STATUS(gc_model_top_k(m, 0, top), GC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gc_model_top_k(m, 1001, top), GC_ERR_INVALID_ARGUMENT);
  free(wide);

  free(x);
  free(x2);
  gc_model_free(m);
  gc_free(bytes);
  synth_free(&w);
}

static void test_layers(void) {
  CHECK(gc_layer_count() == 94, "layer count %d", gc_layer_count()); /* 70 outputs + 24 fused pre-activations */
  gc_shape s;
  CHECK_STATUS(gc_layer_shape("block14_sepconv2_act", 0, 0, &s), GC_OK);
  CHECK(s.ndim == 4 && s.dims[1] == 10 && s.dims[2] == 10 && s.dims[3] == 2048, "block14 10x10x2048");
  CHECK_STATUS(gc_layer_shape("block1_conv2_act", 299, 299, &s), GC_OK);
  CHECK(s.dims[1] == 147 && s.dims[3] == 64, "block1_conv2_act 147x147x64");
  CHECK_STATUS(gc_layer_shape("block3_pool", 299, 299, &s), GC_OK);
  CHECK(s.dims[1] == 37 && s.dims[3] == 256, "block3_pool 37x37x256");
  CHECK_STATUS(gc_layer_shape("block4_add", 299, 299, &s), GC_OK);
  CHECK(s.dims[1] == 19 && s.dims[3] == 728, "block4_add 19x19x728");
  CHECK_STATUS(gc_layer_shape("predictions", 0, 0, &s), GC_OK);
  CHECK(s.ndim == 2 && s.dims[1] == 1000, "predictions 1000");
  CHECK_STATUS(gc_layer_shape("nope", 0, 0, &s), GC_ERR_LAYER_UNKNOWN);
  CHECK_STATUS(gc_layer_shape("block1_conv1_act", 50, 50, &s), GC_ERR_IMAGE_SIZE);
  CHECK(gc_layer_name(-1) == NULL && gc_layer_name(gc_layer_count()) == NULL, "out of range names");
  CHECK(!strcmp(gc_class_name(207), "golden_retriever"), "class 207");
  CHECK(!strcmp(gc_class_name(285), "Egyptian_cat"), "class 285");
  CHECK(!strcmp(gc_class_wnid(0), "n01440764"), "wnid 0");
  CHECK(gc_class_name(1000) == NULL && gc_class_name(-1) == NULL, "class out of range");
}

int main(void) {
  test_arithmetic_before_load();
  test_layers();
  test_network();
  return check_report("test_forward");
}
