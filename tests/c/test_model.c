/* test_model.c - the model as a value: .gcw v2 files carrying a head, an input size, a
 * preprocessing and class names; heads computed by the core against plain loops over the same
 * weights (average / max pooling, hidden Dense + ReLU, softmax / sigmoid / binary classifiers);
 * gradients through the head; notop models; specs that must be refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "synth.h"

static const float *tensor(const synth *w, const char *name) {
  for (int i = 0; i < w->count; i++)
    if (!strcmp(w->specs[i].name, name)) return w->data[i];
  return NULL;
}

static gc_model *load_spec(const gc_spec *spec, const char *const *names, int nnames, synth *w, uint32_t seed) {
  char err[GC_ERRBUF_SIZE] = "";
  CHECK(synth_make_spec(w, seed, spec) == 0, "synthetic weights for the spec");
  void *b = NULL;
  size_t n = 0;
  CHECK_STATUS(gc_weights_write_model(spec, names, nnames, w->specs, (const float *const *)w->data, w->count,
                                      GC_DTYPE_F32, &b, &n, err, sizeof err),
               GC_OK);
  gc_model *m = NULL;
  gc_params p = gc_default_params();
  p.threads = 2;
  CHECK_STATUS(gc_model_load_memory(b, n, &p, &m, err, sizeof err), GC_OK);
  if (!m) fprintf(stderr, "load: %s\n", err);
  gc_free(b);
  return m;
}

static void constant_image(uint8_t *px, int n, uint8_t v) {
  for (int i = 0; i < n * 4; i++) px[i] = (uint8_t)(i % 4 == 3 ? 255 : v + (i % 7));
}

/* The Xception base at size x size with a Rescaling(1/255) input, average pooling and a first
 * Dense layer "dense" of `units`. */
static void rescaled_spec(gc_spec *s, int size, int units, gc_act act) {
  gc_spec_imagenet(s);
  s->input_h = s->input_w = size;
  s->pre = GC_PRE_RESCALE;
  s->pre_scale = 1.0f / 255.0f;
  s->pre_offset = 0.0f;
  s->ndense = 1;
  snprintf(s->dense[0].name, sizeof s->dense[0].name, "dense");
  s->dense[0].units = units;
  s->dense[0].act = act;
}

/* head = Dense(64, relu) -> Dense(5, softmax) after average pooling, at 150x150 with x / 255 */
static void test_dense_head(void) {
  gc_spec s;
  rescaled_spec(&s, 150, 64, GC_ACT_RELU);
  s.ndense = 2;
  snprintf(s.dense[1].name, sizeof s.dense[1].name, "dense_1");
  s.dense[1].units = 5;
  s.dense[1].act = GC_ACT_SOFTMAX;
  const char *names[5] = {"daisy", "dandelion", "roses", "sunflowers", "tulips"};
  synth w;
  gc_model *m = load_spec(&s, names, 5, &w, 11);
  if (!m) return;
  CHECK(gc_model_num_classes(m) == 5, "5 classes (%d)", gc_model_num_classes(m));
  int h = 0, wd = 0;
  gc_model_input_size(m, &h, &wd);
  CHECK(h == 150 && wd == 150, "input size 150x150 (%dx%d)", wd, h);
  CHECK(gc_model_class_name(m, 3) && !strcmp(gc_model_class_name(m, 3), "sunflowers"), "class name 3");
  char head[128];
  CHECK_STATUS(gc_model_head(m, head, sizeof head), GC_OK);
  CHECK(!strcmp(head, "GlobalAveragePooling2D -> Dense(64, relu) -> Dense(5, softmax)"), "head text: %s", head);
  const int last = gc_model_layer_count(m) - 1;
  CHECK(!strcmp(gc_model_layer_name(m, last), "dense_1") && !strcmp(gc_model_layer_name(m, last - 1), "dense") &&
            !strcmp(gc_model_layer_name(m, last - 2), "avg_pool"),
        "the head's layers close the list");

  uint8_t *px = malloc(200 * 180 * 4);
  constant_image(px, 200 * 180, 90);
  CHECK_STATUS(gc_model_forward_image(m, px, 200, 180, 200 * 4, GC_PIXEL_RGBA8), GC_OK);
  const float *x, *f;
  gc_shape sx, sf;
  CHECK_STATUS(gc_model_input(m, &x, &sx), GC_OK);
  CHECK(sx.dims[1] == 150 && sx.dims[2] == 150, "forward at the model's input size");
  float lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < 150 * 150 * 3; i++) lo = fminf(lo, x[i]), hi = fmaxf(hi, x[i]);
  CHECK(lo >= 90.0f / 255.0f - 1e-6f && hi <= 96.0f / 255.0f + 1e-6f, "x / 255 preprocessing (%g..%g)", lo, hi);

  /* the head recomputed from the pooled features with the file's weights */
  CHECK_STATUS(gc_model_activation(m, "avg_pool", &f, &sf), GC_OK);
  const float *W1 = tensor(&w, "head_dense1/kernel"), *b1 = tensor(&w, "head_dense1/bias");
  const float *W2 = tensor(&w, "predictions/kernel"), *b2 = tensor(&w, "predictions/bias");
  CHECK(W1 && b1 && W2 && b2 && sf.dims[1] == 2048, "head tensors");
  double hid[64], z[5], zmax = -INFINITY, zs = 0;
  for (int o = 0; o < 64; o++) {
    double a = b1[o];
    for (int k = 0; k < 2048; k++) a += (double)W1[(size_t)o * 2048 + k] * f[k];
    hid[o] = a > 0 ? a : 0;
  }
  for (int o = 0; o < 5; o++) {
    double a = b2[o];
    for (int k = 0; k < 64; k++) a += (double)W2[o * 64 + k] * hid[k];
    z[o] = a;
    zmax = fmax(zmax, a);
  }
  for (int o = 0; o < 5; o++) zs += exp(z[o] - zmax);
  const float *lg = gc_model_logits(m), *pr = gc_model_probs(m);
  double err = 0, perr = 0;
  for (int o = 0; o < 5; o++) {
    err = fmax(err, fabs(lg[o] - z[o]) / (1e-3 + fabs(z[o])));
    perr = fmax(perr, fabs(pr[o] - exp(z[o] - zmax) / zs));
  }
  CHECK(err < 1e-4, "logits of the hidden-Dense head (rel %g)", err);
  CHECK(perr < 1e-6, "softmax probabilities (%g)", perr);

  /* gradient at the pooled features: W1^T (relu mask * W2[c]) */
  const int c = 2;
  const float *g;
  gc_shape sg;
  CHECK_STATUS(gc_model_gradient(m, c, "avg_pool", GC_TARGET_LOGIT, 0, &g, &sg), GC_OK);
  double gerr = 0, gmax = 0;
  for (int k = 0; k < 2048; k++) {
    double a = 0;
    for (int o = 0; o < 64; o++)
      if (hid[o] > 0) a += (double)W1[(size_t)o * 2048 + k] * W2[c * 64 + o];
    gerr = fmax(gerr, fabs(g[k] - a));
    gmax = fmax(gmax, fabs(a));
  }
  CHECK(gmax > 0 && gerr <= 1e-5 * gmax, "gradient through the head (%g of %g)", gerr, gmax);
  /* Grad-CAM's sums at the base's output: every position gets g / HW */
  gc_explain_params ep = gc_default_explain_params();
  ep.class_index = c;
  gc_map map;
  CHECK_STATUS(gc_model_explain(m, &ep, &map, NULL), GC_OK);
  CHECK(map.height == 5 && map.width == 5, "block14 map of a 150x150 input is 5x5 (%dx%d)", map.height, map.width);
  CHECK_STATUS(gc_model_top_k(m, 5, (gc_class_score[5]){{0}}), GC_OK);
  CHECK_STATUS(gc_model_top_k(m, 6, (gc_class_score[6]){{0}}), GC_ERR_INVALID_ARGUMENT);
  /* a class out of range names the model's range */
  ep.class_index = 5;
  CHECK_STATUS(gc_model_explain(m, &ep, &map, NULL), GC_ERR_CLASS_OUT_OF_RANGE);
  CHECK(strstr(gc_model_last_error(m), "0..4") != NULL, "range in the message: %s", gc_model_last_error(m));
  /* labels: wrong count refused, the right count replaces the names */
  const char *three[3] = {"a", "b", "c"};
  CHECK_STATUS(gc_model_set_class_names(m, three, 3), GC_ERR_LABELS);
  const char *five[5] = {"A", "B", "C", "D", "E"};
  CHECK_STATUS(gc_model_set_class_names(m, five, 5), GC_OK);
  CHECK(!strcmp(gc_model_class_name(m, 4), "E"), "names replaced");
  free(px);
  gc_model_free(m);
  synth_free(&w);
}

/* Dense(1, sigmoid) after max pooling: two classes, scores -z / +z, probabilities s(+-z). */
static void test_binary_head(void) {
  gc_spec s;
  gc_spec_imagenet(&s);
  s.input_h = 96;
  s.input_w = 112;
  s.pool = GC_POOL_MAX;
  snprintf(s.pool_name, sizeof s.pool_name, "max_pool");
  s.dense[0].units = 1;
  s.dense[0].act = GC_ACT_SIGMOID;
  synth w;
  gc_model *m = load_spec(&s, NULL, 0, &w, 5);
  if (!m) return;
  CHECK(gc_model_num_classes(m) == 2, "binary head: 2 classes");
  CHECK(gc_model_class_name(m, 0) == NULL, "no names: the caller says 'class 0'");
  uint8_t *px = malloc(64 * 64 * 4);
  constant_image(px, 64 * 64, 30);
  CHECK_STATUS(gc_model_forward_image(m, px, 64, 64, 64 * 4, GC_PIXEL_RGBA8), GC_OK);
  const float *f, *lg = gc_model_logits(m), *pr = gc_model_probs(m), *A;
  gc_shape sf, sa;
  CHECK_STATUS(gc_model_activation(m, "max_pool", &f, &sf), GC_OK);
  CHECK_STATUS(gc_model_activation(m, "block14_sepconv2_act", &A, &sa), GC_OK);
  const int hw = sa.dims[1] * sa.dims[2];
  CHECK(sa.dims[1] == 3 && sa.dims[2] == 4, "96x112 gives a 3x4 map");
  int bad = 0;
  for (int k = 0; k < 2048; k++) {
    float mx = A[k];
    for (int p = 1; p < hw; p++) mx = fmaxf(mx, A[p * 2048 + k]);
    bad += mx != f[k];
  }
  CHECK(bad == 0, "global max pooling (%d channels off)", bad);
  const float *W = tensor(&w, "predictions/kernel"), *b = tensor(&w, "predictions/bias");
  double z = b[0];
  for (int k = 0; k < 2048; k++) z += (double)W[k] * f[k];
  CHECK(fabs(lg[1] - z) < 1e-4 * (1 + fabs(z)) && lg[0] == -lg[1], "scores -z, +z (%g, %g; z %g)", lg[0], lg[1], z);
  CHECK(fabs(pr[1] - 1 / (1 + exp(-z))) < 1e-6 && fabs(pr[0] + pr[1] - 1) < 1e-6, "probabilities s(+-z)");
  /* class 0 is explained through -z: its gradient is the negated gradient of class 1 */
  const float *g0, *g1;
  gc_shape sg;
  float *keep = malloc(2048 * sizeof *keep);
  CHECK_STATUS(gc_model_gradient(m, 1, "max_pool", GC_TARGET_LOGIT, 0, &g1, &sg), GC_OK);
  memcpy(keep, g1, 2048 * sizeof *keep);
  CHECK_STATUS(gc_model_gradient(m, 0, "max_pool", GC_TARGET_LOGIT, 0, &g0, &sg), GC_OK);
  bad = 0;
  for (int k = 0; k < 2048; k++) bad += g0[k] != -keep[k] || keep[k] != W[k];
  CHECK(bad == 0, "d(+-z)/d features = +-W (%d off)", bad);
  /* max pooling routes the gradient to the maxima, split among ties */
  CHECK_STATUS(gc_model_gradient(m, 1, "block14_sepconv2_act", GC_TARGET_LOGIT, 0, &g1, &sg), GC_OK);
  bad = 0;
  for (int k = 0; k < 2048; k++) {
    int ties = 0;
    for (int p = 0; p < hw; p++) ties += A[p * 2048 + k] == f[k];
    for (int p = 0; p < hw; p++) {
      const float want = A[p * 2048 + k] == f[k] ? W[k] / ties : 0.0f;
      bad += fabsf(g1[p * 2048 + k] - want) > 1e-7f * (1 + fabsf(W[k]));
    }
  }
  CHECK(bad == 0, "max-pool gradient routing (%d off)", bad);
  /* probability target: d s(+-z)/dz = +-s(1 - s) */
  CHECK_STATUS(gc_model_gradient(m, 0, "max_pool", GC_TARGET_PROB, 0, &g0, &sg), GC_OK);
  const double ds = -(double)pr[0] * (1 - pr[0]);
  bad = 0;
  for (int k = 0; k < 2048; k++) bad += fabs(g0[k] - ds * W[k]) > 1e-6 * (1e-6 + fabs(ds * W[k]));
  CHECK(bad == 0, "probability target through the logistic (%d off)", bad);
  free(keep);
  free(px);
  gc_model_free(m);
  synth_free(&w);
}

static void test_notop(void) {
  gc_spec s;
  gc_spec_notop(&s);
  synth w;
  gc_model *m = load_spec(&s, NULL, 0, &w, 3);
  if (!m) return;
  CHECK(gc_model_num_classes(m) == 0, "notop: no classes");
  uint8_t px[8 * 8 * 4];
  constant_image(px, 64, 100);
  CHECK_STATUS(gc_model_forward_image_size(m, px, 8, 8, 32, GC_PIXEL_RGBA8, 71, 71), GC_OK);
  CHECK(gc_model_logits(m) == NULL, "no logits without a classifier");
  gc_class_score top;
  CHECK_STATUS(gc_model_top_k(m, 1, &top), GC_ERR_NO_HEAD);
  gc_explain_params ep = gc_default_explain_params();
  gc_map map;
  CHECK_STATUS(gc_model_explain(m, &ep, &map, NULL), GC_ERR_NO_HEAD);
  ep.method = GC_METHOD_EIGENCAM;
  CHECK_STATUS(gc_model_explain(m, &ep, &map, NULL), GC_OK);
  const float *a;
  gc_shape sa;
  CHECK_STATUS(gc_model_activation(m, "block14_sepconv2_act", &a, &sa), GC_OK);
  CHECK(gc_model_layer_count(m) == gc_layer_count() - 2, "notop lists the base only");
  gc_model_free(m);
  synth_free(&w);
}

static void test_spec_checks(void) {
  char err[GC_ERRBUF_SIZE];
  gc_spec s;
  gc_spec_imagenet(&s);
  CHECK_STATUS(gc_spec_check(&s, err, sizeof err), GC_OK);
  CHECK(gc_spec_is_imagenet(&s) && gc_spec_classes(&s) == 1000, "ImageNet spec");
  s.input_h = 70;
  CHECK_STATUS(gc_spec_check(&s, err, sizeof err), GC_ERR_CONVERT);
  CHECK(strstr(err, "70") != NULL, "input size message: %s", err);
  gc_spec_imagenet(&s);
  s.input_w = 1025;
  CHECK_STATUS(gc_spec_check(&s, err, sizeof err), GC_ERR_CONVERT);
  gc_spec_imagenet(&s);
  s.ndense = 2;
  s.dense[1] = s.dense[0];
  s.dense[0].act = GC_ACT_SOFTMAX; /* softmax in a hidden layer */
  snprintf(s.dense[0].name, sizeof s.dense[0].name, "hidden");
  CHECK_STATUS(gc_spec_check(&s, err, sizeof err), GC_ERR_CONVERT);
  CHECK(strstr(err, "hidden") != NULL, "names the layer: %s", err);
  gc_spec_imagenet(&s);
  s.dense[0].act = GC_ACT_RELU; /* a ReLU classifier */
  CHECK_STATUS(gc_spec_check(&s, err, sizeof err), GC_ERR_CONVERT);
  gc_spec_imagenet(&s);
  s.dense[0].units = 0;
  CHECK_STATUS(gc_spec_check(&s, err, sizeof err), GC_ERR_CONVERT);
  gc_spec_imagenet(&s);
  s.pool = GC_POOL_NONE; /* Dense without pooling */
  CHECK_STATUS(gc_spec_check(&s, err, sizeof err), GC_ERR_CONVERT);
  gc_spec_imagenet(&s);
  snprintf(s.dense[0].name, sizeof s.dense[0].name, "block3_pool"); /* a base layer's name */
  gc_net net;
  CHECK_STATUS(gc_net_build(&s, &net, err, sizeof err), GC_ERR_CONVERT);
  CHECK(strstr(err, "block3_pool") != NULL, "name collision message: %s", err);
  /* names in a v2 file must match the class count */
  gc_spec_imagenet(&s);
  const char *one[1] = {"x"};
  void *b = NULL;
  size_t n = 0;
  CHECK_STATUS(gc_weights_write_model(&s, one, 1, NULL, NULL, 0, GC_DTYPE_F16, &b, &n, err, sizeof err),
               GC_ERR_LABELS);
}

/* Cascading randomisation: the layers from the named one on change, the ones before do not. */
static void test_randomized(void) {
  gc_spec s;
  gc_spec_imagenet(&s);
  synth w;
  CHECK(synth_make_spec(&w, 9, &s) == 0, "weights");
  char err[GC_ERRBUF_SIZE];
  void *b = NULL, *r1 = NULL, *r2 = NULL, *r3 = NULL;
  size_t n = 0, n1 = 0, n2 = 0, n3 = 0;
  CHECK_STATUS(gc_weights_write_model(&s, NULL, 0, w.specs, (const float *const *)w.data, w.count, GC_DTYPE_F16, &b,
                                      &n, err, sizeof err),
               GC_OK);
  CHECK_STATUS(gc_weights_randomized(b, n, "block99", 1, &r1, &n1, err, sizeof err), GC_ERR_LAYER_UNKNOWN);
  CHECK_STATUS(gc_weights_randomized(b, n, "block14_sepconv2_act", 1, &r1, &n1, err, sizeof err), GC_OK);
  CHECK_STATUS(gc_weights_randomized(b, n, "block14_sepconv2_act", 1, &r2, &n2, err, sizeof err), GC_OK);
  CHECK_STATUS(gc_weights_randomized(b, n, "predictions", 1, &r3, &n3, err, sizeof err), GC_OK);
  CHECK(n1 == n && n2 == n1 && !memcmp(r1, r2, n1), "the same seed gives the same file");
  {
    gc_model *base = NULL;
    void *r4 = NULL;
    size_t n4 = 0;
    CHECK_STATUS(gc_model_load_memory(b, n, NULL, &base, err, sizeof err), GC_OK);
    CHECK_STATUS(gc_model_randomized(base, "block14_sepconv2_act", 1, &r4, &n4, err, sizeof err), GC_OK);
    CHECK(n4 == n1 && r4 && !memcmp(r4, r1, n1), "from the model's kept weights: the same file");
    gc_free(r4);
    gc_model_free(base);
  }
  gc_model *m[3] = {NULL, NULL, NULL};
  const void *files[3] = {b, r1, r3};
  const size_t sizes[3] = {n, n1, n3};
  uint8_t px[32 * 32 * 4];
  constant_image(px, 32 * 32, 120);
  float *a13[3], *a14[3], *lg[3];
  for (int i = 0; i < 3; i++) {
    CHECK_STATUS(gc_model_load_memory(files[i], sizes[i], NULL, &m[i], err, sizeof err), GC_OK);
    CHECK_STATUS(gc_model_forward_image_size(m[i], px, 32, 32, 128, GC_PIXEL_RGBA8, 71, 71), GC_OK);
    const float *d;
    gc_shape sh;
    gc_model_activation(m[i], "block13_add", &d, &sh);
    a13[i] = malloc(gc_tensor_count(4, sh.dims) * 4), memcpy(a13[i], d, gc_tensor_count(4, sh.dims) * 4);
    gc_model_activation(m[i], "block14_sepconv2_act", &d, &sh);
    a14[i] = malloc(gc_tensor_count(4, sh.dims) * 4), memcpy(a14[i], d, gc_tensor_count(4, sh.dims) * 4);
    lg[i] = malloc(1000 * 4), memcpy(lg[i], gc_model_logits(m[i]), 1000 * 4);
  }
  const size_t e13 = 3 * 3 * 1024, e14 = 3 * 3 * 2048;
  CHECK(!memcmp(a13[0], a13[1], e13 * 4) && !memcmp(a13[0], a13[2], e13 * 4), "layers before stay");
  CHECK(memcmp(a14[0], a14[1], e14 * 4) != 0, "block14_sepconv2 randomised");
  CHECK(!memcmp(a14[0], a14[2], e14 * 4), "randomising predictions keeps block14");
  CHECK(memcmp(lg[0], lg[2], 4000) != 0, "randomising predictions changes the logits");
  for (int i = 0; i < 3; i++) gc_model_free(m[i]), free(a13[i]), free(a14[i]), free(lg[i]);
  gc_free(b), gc_free(r1), gc_free(r2), gc_free(r3);
  synth_free(&w);
}

/* gc_model_forward_encoded: a file's bytes to a forward pass, the same as decoding and
 * gc_model_forward_image_size, with the model's own preprocessing (x / 255 here) and size. */
static void test_forward_encoded(void) {
  gc_spec s;
  rescaled_spec(&s, 96, 5, GC_ACT_SOFTMAX);
  synth w;
  gc_model *m = load_spec(&s, NULL, 0, &w, 5);
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/data/images/darknet_eagle.jpg", GRADCAM_SOURCE_DIR);
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL, "photo %s", path);
  if (!m || !f) {
    if (f) fclose(f);
    gc_model_free(m);
    synth_free(&w);
    return;
  }
  fseek(f, 0, SEEK_END);
  const size_t len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *bytes = malloc(len);
  CHECK(fread(bytes, 1, len, f) == len, "read the photo");
  fclose(f);

  gc_decoded info;
  uint8_t *rgba = NULL;
  CHECK_STATUS(gc_model_forward_encoded(m, bytes, len, 0, 0, &info, &rgba), GC_OK);
  uint8_t *px = NULL;
  int pw = 0, ph = 0;
  char err[GC_ERRBUF_SIZE];
  CHECK_STATUS(gc_decode_image(bytes, len, &px, &pw, &ph, err, sizeof err), GC_OK);
  CHECK(info.width == pw && info.height == ph && pw > 0, "size %dx%d, decoded %dx%d", info.width, info.height, pw, ph);
  CHECK(rgba && px && !memcmp(rgba, px, (size_t)pw * ph * 4), "the pixels kept are the decoded ones");
  CHECK(info.decode_ms >= 0 && info.forward_ms > 0, "timings %g %g", info.decode_ms, info.forward_ms);
  const float *x;
  gc_shape sx;
  CHECK_STATUS(gc_model_input(m, &x, &sx), GC_OK);
  CHECK(sx.dims[1] == 96 && sx.dims[2] == 96, "the model's input size (%dx%d)", sx.dims[2], sx.dims[1]);
  float lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < 96 * 96 * 3; i++) lo = fminf(lo, x[i]), hi = fmaxf(hi, x[i]);
  CHECK(lo >= 0 && hi <= 1 && hi > 0.5f, "the model's preprocessing, x / 255: %g..%g", lo, hi);
  float logits[5], input[96 * 96 * 3];
  memcpy(logits, gc_model_logits(m), sizeof logits);
  memcpy(input, x, sizeof input);
  CHECK_STATUS(gc_model_forward_image_size(m, px, pw, ph, pw * 4, GC_PIXEL_RGBA8, 0, 0), GC_OK);
  CHECK_STATUS(gc_model_input(m, &x, &sx), GC_OK);
  CHECK(!memcmp(input, x, sizeof input) && !memcmp(logits, gc_model_logits(m), sizeof logits),
        "the same input tensor and logits as decode + gc_model_forward_image_size");
  /* another size, no info, no pixels */
  CHECK_STATUS(gc_model_forward_encoded(m, bytes, len, 71, 80, NULL, NULL), GC_OK);
  CHECK_STATUS(gc_model_input(m, &x, &sx), GC_OK);
  CHECK(sx.dims[1] == 71 && sx.dims[2] == 80, "71x80 asked for (%dx%d)", sx.dims[1], sx.dims[2]);
  /* failures: what is wrong in the model's message, nothing kept */
  gc_free(rgba);
  rgba = (uint8_t *)1;
  CHECK_STATUS(gc_model_forward_encoded(m, "not an image at all", 19, 0, 0, &info, &rgba), GC_ERR_IMAGE_DECODE);
  CHECK(rgba == NULL && info.width == 0, "nothing kept after a decoding failure");
  CHECK(strstr(gc_model_last_error(m), "not a PNG, JPEG"), "decoder's reason: %s", gc_model_last_error(m));
  CHECK_STATUS(gc_model_forward_encoded(m, bytes, len, 20, 20, &info, &rgba), GC_ERR_IMAGE_SIZE);
  CHECK(rgba == NULL, "nothing kept after a forward failure");
  CHECK(strstr(gc_model_last_error(m), "20x20 outside 71..1024"), "size: %s", gc_model_last_error(m));
  CHECK_STATUS(gc_model_forward_encoded(m, NULL, 0, 0, 0, NULL, NULL), GC_ERR_IMAGE_DECODE);
  CHECK(strstr(gc_model_last_error(m), "empty"), "no bytes: %s", gc_model_last_error(m));
  CHECK_STATUS(gc_model_forward_encoded(NULL, bytes, len, 0, 0, NULL, NULL), GC_ERR_INVALID_ARGUMENT);
  free(bytes);
  gc_free(px);
  gc_model_free(m);
  synth_free(&w);
}

/* A reader over a file the test holds: counts reads, fails when told to. */
typedef struct file_reader {
  uint8_t *bytes;
  size_t size;
  int reads, fail;
} file_reader;

static int read_file_range(void *user, uint64_t offset, void *dst, size_t size) {
  file_reader *f = user;
  f->reads++;
  if (f->fail || offset > f->size || size > f->size - offset) return 1;
  memcpy(dst, f->bytes + offset, size);
  return 0;
}

/* One method's map on a model, copied out (the model's buffer changes with the next call). */
static gc_status explain_copy(gc_model *m, const char *method, const char *layer, float **out, size_t *n) {
  gc_explain_params ep = gc_default_explain_params();
  CHECK_STATUS(gc_method_from_name(method, &ep.method), GC_OK);
  ep.layer = layer;
  gc_map map;
  *out = NULL;
  gc_status s = gc_model_explain(m, &ep, &map, NULL);
  if (s != GC_OK) return s;
  *n = (size_t)map.height * map.width * map.channels;
  *out = malloc(*n * sizeof **out);
  memcpy(*out, map.data, *n * sizeof **out);
  return GC_OK;
}

/* gc_model_set_weights_reader: the model frees its copy of the file and reads back only the
 * tensors it needs; every map equals the one of a model that kept its copy, and a changed or
 * unreadable file gives an error, never other weights. */
static void test_weights_reader(void) {
  gc_spec s;
  gc_spec_imagenet(&s);
  synth w;
  CHECK(synth_make_spec(&w, 4, &s) == 0, "weights");
  char err[GC_ERRBUF_SIZE];
  void *b = NULL;
  size_t n = 0;
  CHECK_STATUS(gc_weights_write_model(&s, NULL, 0, w.specs, (const float *const *)w.data, w.count, GC_DTYPE_F32, &b,
                                      &n, err, sizeof err),
               GC_OK);
  file_reader f = {malloc(n), n, 0, 0};
  memcpy(f.bytes, b, n);
  gc_model *kept = NULL, *m = NULL;
  CHECK_STATUS(gc_model_load_memory(b, n, NULL, &kept, err, sizeof err), GC_OK);
  CHECK_STATUS(gc_model_load_memory(b, n, NULL, &m, err, sizeof err), GC_OK);
  CHECK(gc_model_weights_held(m) == n, "a loaded model holds its file: %zu of %zu bytes", gc_model_weights_held(m), n);
  CHECK_STATUS(gc_model_set_weights_reader(m, NULL, NULL), GC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gc_model_set_weights_reader(m, read_file_range, &f), GC_OK);
  CHECK(gc_model_weights_held(m) == 0, "with a reader it holds none: %zu bytes", gc_model_weights_held(m));
  CHECK(f.reads == 0, "nothing read before a call needs it: %d reads", f.reads);
  uint8_t px[32 * 32 * 4];
  constant_image(px, 32 * 32, 90);
  /* saliency creates every backward operator; Grad-CAM at a *_bn layer a pre-activation one */
  const char *cases[][2] = {{"saliency", NULL}, {"gradcam", "block14_sepconv1_bn"}, {"gradcam", "block3_sepconv2_act"}};
  for (int c = 0; c < 3; c++) {
    CHECK_STATUS(gc_model_forward_image_size(kept, px, 32, 32, 128, GC_PIXEL_RGBA8, 71, 71), GC_OK);
    CHECK_STATUS(gc_model_forward_image_size(m, px, 32, 32, 128, GC_PIXEL_RGBA8, 71, 71), GC_OK);
    float *a = NULL, *r = NULL;
    size_t na = 0, nr = 0;
    const int before = f.reads;
    CHECK_STATUS(explain_copy(kept, cases[c][0], cases[c][1], &a, &na), GC_OK);
    CHECK_STATUS(explain_copy(m, cases[c][0], cases[c][1], &r, &nr), GC_OK);
    CHECK(a && r && na == nr && !memcmp(a, r, na * sizeof *a), "%s %s: the same map from the tensors read back",
          cases[c][0], cases[c][1] ? cases[c][1] : "");
    if (c < 2) CHECK(f.reads > before, "%s %s read tensors", cases[c][0], cases[c][1] ? cases[c][1] : "");
    else CHECK(f.reads == before, "operators made once: no more reads (%d)", f.reads - before);
    free(a), free(r);
  }
  CHECK(gc_model_weights_held(m) == 0, "still none held after the calls");
  void *r1 = NULL, *r2 = NULL;
  size_t n1 = 0, n2 = 0;
  CHECK_STATUS(gc_model_randomized(kept, "block13_sepconv1_act", 3, &r1, &n1, err, sizeof err), GC_OK);
  CHECK_STATUS(gc_model_randomized(m, "block13_sepconv1_act", 3, &r2, &n2, err, sizeof err), GC_OK);
  CHECK(n1 == n2 && r1 && r2 && !memcmp(r1, r2, n1), "the randomized file from the file read back");
  gc_free(r1), gc_free(r2);
  /* a fresh model whose file changes after loading: refused by the tensor's hash */
  gc_model *m2 = NULL;
  CHECK_STATUS(gc_model_load_memory(b, n, NULL, &m2, err, sizeof err), GC_OK);
  CHECK_STATUS(gc_model_set_weights_reader(m2, read_file_range, &f), GC_OK);
  CHECK_STATUS(gc_model_forward_image_size(m2, px, 32, 32, 128, GC_PIXEL_RGBA8, 71, 71), GC_OK);
  for (size_t i = n / 2; i < n / 2 + 64; i++) f.bytes[i] ^= 0x40;
  float *x = NULL;
  size_t nx = 0;
  CHECK_STATUS(explain_copy(m2, "saliency", NULL, &x, &nx), GC_ERR_WEIGHTS_CHECKSUM);
  CHECK(strstr(gc_model_last_error(m2), "changed") != NULL, "says the file changed: %s", gc_model_last_error(m2));
  CHECK_STATUS(gc_model_randomized(m2, "block13_sepconv1_act", 3, &r1, &n1, err, sizeof err), GC_ERR_WEIGHTS_CHECKSUM);
  CHECK(r1 == NULL, "no file on failure");
  /* an unreadable one: GC_ERR_IO */
  memcpy(f.bytes, b, n);
  f.fail = 1;
  CHECK_STATUS(gc_model_forward_image_size(m2, px, 32, 32, 128, GC_PIXEL_RGBA8, 71, 71), GC_OK);
  CHECK_STATUS(explain_copy(m2, "saliency", NULL, &x, &nx), GC_ERR_IO);
  f.fail = 0;
  CHECK_STATUS(gc_model_forward_image_size(m2, px, 32, 32, 128, GC_PIXEL_RGBA8, 71, 71), GC_OK);
  CHECK_STATUS(explain_copy(m2, "saliency", NULL, &x, &nx), GC_OK);
  free(x);
  gc_model_free(m2);
  /* gc_model_load_owned takes the bytes in every case (the sanitizer's leak check sees the rest) */
  {
    gc_params bad = gc_default_params();
    bad.threads = -1;
    gc_model *o = NULL;
    void *c1 = malloc(n), *c2 = malloc(n / 2), *c3 = malloc(n);
    memcpy(c1, b, n), memcpy(c2, b, n / 2), memcpy(c3, b, n);
    CHECK_STATUS(gc_model_load_owned(c1, n, &bad, &o, err, sizeof err), GC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(gc_model_load_owned(c2, n / 2, NULL, &o, err, sizeof err), GC_ERR_WEIGHTS_TRUNCATED);
    CHECK(o == NULL, "no model after a failed load");
    CHECK_STATUS(gc_model_load_owned(NULL, 8, NULL, &o, err, sizeof err), GC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(gc_model_load_owned(c3, n, NULL, &o, err, sizeof err), GC_OK);
    CHECK(o && gc_model_weights_held(o) == n, "the model holds the bytes it took");
    CHECK_STATUS(gc_model_forward_image_size(o, px, 32, 32, 128, GC_PIXEL_RGBA8, 71, 71), GC_OK);
    CHECK_STATUS(gc_model_forward_image_size(kept, px, 32, 32, 128, GC_PIXEL_RGBA8, 71, 71), GC_OK);
    CHECK(!memcmp(gc_model_logits(o), gc_model_logits(kept), 1000 * sizeof(float)), "the same logits as a copied load");
    gc_model_free(o);
  }
  gc_model_free(m);
  gc_model_free(kept);
  free(f.bytes);
  gc_free(b);
  synth_free(&w);
}

int main(void) {
  test_weights_reader();
  test_forward_encoded();
  test_randomized();
  test_spec_checks();
  test_dense_head();
  test_binary_head();
  test_notop();
  return check_report("test_model");
}
