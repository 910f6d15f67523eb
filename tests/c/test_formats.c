/* test_formats.c - the parts of the import (src/formats/) on small hand-made inputs:
 *   - class names files (gc_labels_parse): every shape, and what is refused;
 *   - recognition of the container by content (gc_detect_container);
 *   - Keras model configs into a spec (gc_kconfig_spec): every head kind, preprocessing, input
 *     sizes, nested models, and what is refused (another model, an LSTM in the head, ...);
 *   - matching a file's layers with the model's (gc_match_source) on sources built here in
 *     Keras' model.layers order, with Keras 2 names or none (Keras 3), and with one defect each.
 * The Xception layer list used here is written out below from Keras' xception.py, not taken
 * from the code under test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "formats/formats.h"

/* ---- labels ------------------------------------------------------------------------------- */

static void labels_case(const char *text, size_t len, int expected, gc_status want, int n, const char *first,
                        const char *last, const char *words) {
  char **names = NULL;
  int count = -1;
  char err[GC_ERRBUF_SIZE] = "";
  gc_status st = gc_labels_parse(text, len, expected, &names, &count, err, sizeof err);
  CHECK(st == want, "labels '%.30s': got %s (%s), want %s", text, gc_status_to_string(st), err,
        gc_status_to_string(want));
  if (st == GC_OK && want == GC_OK) {
    CHECK(count == n, "labels '%.30s': %d names, want %d", text, count, n);
    CHECK(count > 0 && !strcmp(names[0], first), "labels '%.30s': first '%s', want '%s'", text, names[0], first);
    CHECK(count > 0 && !strcmp(names[count - 1], last), "labels '%.30s': last '%s', want '%s'", text,
          names[count - 1], last);
  }
  if (st != GC_OK) CHECK(names == NULL && count == 0, "labels: nothing returned on failure");
  if (words) CHECK(strstr(err, words) != NULL, "labels '%.30s': message '%s' lacks '%s'", text, err, words);
  gc_names_free(names, count > 0 ? count : 0);
}

static void test_labels(void) {
#define L(s) s, sizeof s - 1
  labels_case(L("cat\ndog\n\n\n"), 2, GC_OK, 2, "cat", "dog", NULL);
  labels_case(L("\xef\xbb\xbf  cat \r\ndog\r\n"), 0, GC_OK, 2, "cat", "dog", NULL);
  labels_case(L("great white shark\ntiger shark"), 2, GC_OK, 2, "great white shark", "tiger shark", NULL);
  labels_case(L("[\"cat\", \"dog\", \"caf\xc3\xa9\"]"), 3, GC_OK, 3, "cat", "caf\xc3\xa9", NULL);
  labels_case(L("{\"1\": \"dog\", \"0\": \"cat\"}"), 2, GC_OK, 2, "cat", "dog", NULL);
  labels_case(L("{\"0\": [\"n01440764\", \"tench\"], \"1\": [\"n01443537\", \"goldfish\"]}"), 0, GC_OK, 2, "tench",
              "goldfish", NULL);
  labels_case(L("cat\ndog\nbird\n"), 2, GC_ERR_LABELS, 0, NULL, NULL,
              "the labels file has 3 class names; the model has 2 classes");
  labels_case(L("cat\n\ndog\n"), 0, GC_ERR_LABELS, 0, NULL, NULL, "line 2 of the labels file is blank");
  labels_case("cat\0dog", 7, 0, GC_ERR_LABELS, 0, NULL, NULL, "NUL byte at offset 3: it is not text");
  labels_case(L("cat\n\xff\xfe"), 0, GC_ERR_LABELS, 0, NULL, NULL, "not UTF-8 text (byte 0xff at offset 4)");
  labels_case(L("\n \n"), 0, GC_ERR_LABELS, 0, NULL, NULL, "holds no class names");
  labels_case(L("{\"0\": \"cat\", \"2\": \"dog\"}"), 0, GC_ERR_LABELS, 0, NULL, NULL, "\"2\" is not a class index 0..1");
  labels_case(L("{\"0\": \"cat\", \"00\": \"dog\"}"), 0, GC_ERR_LABELS, 0, NULL, NULL, "is not a class index");
  labels_case(L("{\"0\": \"cat\", \"0\": \"dog\"}"), 0, GC_ERR_LABELS, 0, NULL, NULL, "names class 0 twice");
  labels_case(L("[\"cat\", 3]"), 0, GC_ERR_LABELS, 0, NULL, NULL, "item 1 of the labels list is not a class name");
  labels_case(L("[\"cat\", \"\"]"), 0, GC_ERR_LABELS, 0, NULL, NULL, "item 1");
  labels_case(L("[]"), 0, GC_ERR_LABELS, 0, NULL, NULL, "empty JSON list");
  labels_case(L("[\"cat\", "), 0, GC_ERR_JSON, 0, NULL, NULL, "starts like JSON but is not");
#undef L
}

/* ---- recognition -------------------------------------------------------------------------- */

static void test_detect(void) {
  static const struct {
    const char *bytes;
    size_t n;
    gc_container want;
    const char *what;
  } cases[] = {
      {"GCAMWTS\0\1\0\0\0", 12, GC_CONTAINER_GCW, ""},
      {"GCAM", 4, GC_CONTAINER_GCW, ""}, /* truncated: the .gcw reader says so */
      {"\x89HDF\r\n\x1a\n\0\0", 10, GC_CONTAINER_HDF5, ""},
      {"PK\x03\x04xx", 6, GC_CONTAINER_ZIP, ""},
      {"PK\x05\x06", 4, GC_CONTAINER_ZIP, ""},
      {"\xef\xbb\xbf \n{\"a\": 1}", 13, GC_CONTAINER_JSON, ""},
      {"", 0, GC_CONTAINER_UNKNOWN, "an empty file"},
      {"\x89PNG\r\n", 6, GC_CONTAINER_UNKNOWN, "a PNG image"},
      {"\xff\xd8\xff\xe0", 4, GC_CONTAINER_UNKNOWN, "a JPEG image"},
      {"\x1f\x8b\x08", 3, GC_CONTAINER_UNKNOWN, "gzip-compressed data"},
      {"\x89HDF\r\n", 6, GC_CONTAINER_UNKNOWN, "a damaged HDF5 file"},
      {"[\"cat\"]", 7, GC_CONTAINER_UNKNOWN, "a JSON list"},
      {"hello\n", 6, GC_CONTAINER_UNKNOWN, "text that is not JSON"},
      {"\x01\x02\x03\x04\x05", 5, GC_CONTAINER_UNKNOWN, "binary data starting with 01 02 03 04"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char what[160] = "x";
    gc_container c = gc_detect_container(cases[i].bytes, cases[i].n, what, sizeof what);
    CHECK(c == cases[i].want, "case %zu: container %d, want %d", i, (int)c, (int)cases[i].want);
    CHECK(strstr(what, cases[i].what) != NULL && (cases[i].what[0] || !what[0]), "case %zu: '%s' lacks '%s'", i, what,
          cases[i].what);
  }
  CHECK(gc_format_count() == 7, "7 formats listed");
  for (int i = 0; i < gc_format_count(); i++)
    CHECK(gc_format_find(gc_format_at(i)->id) == gc_format_at(i), "format %d found by its id", i);
}

/* ---- the Xception layers, written out ------------------------------------------------------------ */

typedef struct klayer {
  char name[64]; /* the stable Keras name, "" for the auto-named residual layers */
  gc_kind kind;
  int c_in, c_out, k;
} klayer;

static int g_n;

static void add(klayer *out, const char *name, gc_kind kind, int c_in, int c_out, int k) {
  klayer *l = &out[g_n++];
  snprintf(l->name, sizeof l->name, "%s", name);
  l->kind = kind, l->c_in = c_in, l->c_out = c_out, l->k = k;
}

/* An entry-flow block (2, 3, 4, 13). In model.layers order (Keras sorts by the longest distance
 * to the output) the residual 1x1 convolution comes after the second separable convolution's BN
 * and its BN last; in creation order (creation != 0) both come first. */
static void entry_block(klayer *out, int b, int cin, int c1, int c2, int creation) {
  char a[64];
  if (creation) add(out, "", GC_KIND_CONV, cin, c2, 1), add(out, "", GC_KIND_BN, c2, c2, 0);
  snprintf(a, sizeof a, "block%d_sepconv1", b), add(out, a, GC_KIND_SEPCONV, cin, c1, 3);
  snprintf(a, sizeof a, "block%d_sepconv1_bn", b), add(out, a, GC_KIND_BN, c1, c1, 0);
  snprintf(a, sizeof a, "block%d_sepconv2", b), add(out, a, GC_KIND_SEPCONV, c1, c2, 3);
  snprintf(a, sizeof a, "block%d_sepconv2_bn", b), add(out, a, GC_KIND_BN, c2, c2, 0);
  if (!creation) add(out, "", GC_KIND_CONV, cin, c2, 1), add(out, "", GC_KIND_BN, c2, c2, 0);
}

/* The weighted layers of Keras Xception's base. */
static int xception_layers(klayer *out, int creation) {
  g_n = 0;
  add(out, "block1_conv1", GC_KIND_CONV, 3, 32, 3);
  add(out, "block1_conv1_bn", GC_KIND_BN, 32, 32, 0);
  add(out, "block1_conv2", GC_KIND_CONV, 32, 64, 3);
  add(out, "block1_conv2_bn", GC_KIND_BN, 64, 64, 0);
  entry_block(out, 2, 64, 128, 128, creation);
  entry_block(out, 3, 128, 256, 256, creation);
  entry_block(out, 4, 256, 728, 728, creation);
  for (int b = 5; b <= 12; b++)
    for (int k = 1; k <= 3; k++) {
      char a[64];
      snprintf(a, sizeof a, "block%d_sepconv%d", b, k), add(out, a, GC_KIND_SEPCONV, 728, 728, 3);
      snprintf(a, sizeof a, "block%d_sepconv%d_bn", b, k), add(out, a, GC_KIND_BN, 728, 728, 0);
    }
  entry_block(out, 13, 728, 728, 1024, creation);
  add(out, "block14_sepconv1", GC_KIND_SEPCONV, 1024, 1536, 3);
  add(out, "block14_sepconv1_bn", GC_KIND_BN, 1536, 1536, 0);
  add(out, "block14_sepconv2", GC_KIND_SEPCONV, 1536, 2048, 3);
  add(out, "block14_sepconv2_bn", GC_KIND_BN, 2048, 2048, 0);
  return g_n;
}

enum { STYLE_K2 = 0, STYLE_K3, STYLE_K1 };
enum { M_NONE = 0, M_BN_3_WEIGHTS, M_HEAD_KERNEL, M_NO_DENSE, M_LSTM, M_CREATION_ORDER, M_SWAP_NAMED };

/* A source of the Xception base and a Dense(units) head in Keras' layout, with one defect. */
static void make_source(gc_source *s, int style, int mutation, int units) {
  static klayer L[128];
  const int n = xception_layers(L, mutation == M_CREATION_ORDER);
  if (mutation == M_SWAP_NAMED) {
    klayer t = L[22];
    L[22] = L[24], L[24] = t; /* block5_sepconv1 and block5_sepconv2 out of order */
  }
  int counter[GC_KIND_COUNT] = {0}, autos[GC_KIND_COUNT] = {0};
  static const char *const snake[GC_KIND_COUNT] = {"", "conv2d", "separable_conv2d", "batch_normalization", "dense"};
  for (int i = 0; i <= n; i++) {
    const int head = i == n;
    if (head && mutation == M_NO_DENSE) break;
    klayer d = head ? (klayer){"predictions", GC_KIND_DENSE, 2048, units, 0} : L[i];
    char name[96], label[128];
    if (style == STYLE_K3) {
      const int r = counter[d.kind]++;
      if (r) snprintf(name, sizeof name, "layers/%s_%d", snake[d.kind], r);
      else snprintf(name, sizeof name, "layers/%s", snake[d.kind]);
      snprintf(label, sizeof label, "%s", name);
      gc_source_add_layer(s, "", label, d.kind);
    } else {
      static const char *const k1[GC_KIND_COUNT] = {"", "convolution2d", "separableconvolution2d",
                                                    "batchnormalization", "dense"};
      if (!d.name[0]) {
        const int r = autos[d.kind]++;
        if (style == STYLE_K1) snprintf(d.name, sizeof d.name, "%s_%d", k1[d.kind], r + 1);
        else if (r) snprintf(d.name, sizeof d.name, "%s_%d", snake[d.kind], r);
        else snprintf(d.name, sizeof d.name, "%s", snake[d.kind]);
      }
      snprintf(name, sizeof name, "%s", d.name);
      snprintf(label, sizeof label, "layer '%s'", d.name);
      gc_source_add_layer(s, d.name, label, GC_KIND_NONE);
    }
    int64_t dims[4][4];
    int nd[4], nw = 0;
    static const char *const wn[GC_KIND_COUNT][4] = {
        {0}, {"kernel"}, {"depthwise_kernel", "pointwise_kernel"}, {"gamma", "beta", "moving_mean", "moving_variance"},
        {"kernel", "bias"}};
    if (d.kind == GC_KIND_CONV) {
      nd[0] = 4, dims[0][0] = d.k, dims[0][1] = d.k, dims[0][2] = d.c_in, dims[0][3] = d.c_out, nw = 1;
    } else if (d.kind == GC_KIND_SEPCONV) {
      nd[0] = 4, dims[0][0] = 3, dims[0][1] = 3, dims[0][2] = d.c_in, dims[0][3] = 1;
      nd[1] = 4, dims[1][0] = 1, dims[1][1] = 1, dims[1][2] = d.c_in, dims[1][3] = d.c_out, nw = 2;
    } else if (d.kind == GC_KIND_BN) {
      nw = mutation == M_BN_3_WEIGHTS && (!strcmp(d.name, "block3_sepconv1_bn") || !strcmp(d.name, "batchnormalization_2"))
               ? 3 : 4;
      for (int k = 0; k < nw; k++) nd[k] = 1, dims[k][0] = d.c_out;
    } else {
      nd[0] = 2, dims[0][0] = 2048, dims[0][1] = mutation == M_HEAD_KERNEL ? units + 2 : units;
      nd[1] = 1, dims[1][0] = units, nw = 2;
    }
    for (int k = 0; k < nw; k++) {
      char wl[192];
      static const char *const k1w[GC_KIND_COUNT][4] = {
          {0}, {"W"}, {"depthwise_kernel", "pointwise_kernel"}, {"gamma", "beta", "running_mean", "running_std"},
          {"W", "b"}};
      if (style == STYLE_K3) snprintf(wl, sizeof wl, "%s/vars/%d", name, k);
      else if (style == STYLE_K1) snprintf(wl, sizeof wl, "%s_%s:0", name, k1w[d.kind][k]);
      else snprintf(wl, sizeof wl, "%s/%s:0", name, wn[d.kind][k]);
      CHECK_STATUS(gc_source_add_weight(s, wl, nd[k], dims[k], NULL, NULL, 0), GC_OK);
    }
  }
  if (mutation == M_LSTM) {
    gc_source_add_layer(s, "lstm", "layer 'lstm'", GC_KIND_NONE);
    const int64_t k[2] = {2048, 512}, r[2] = {128, 512}, bias[1] = {512};
    gc_source_add_weight(s, "lstm/kernel:0", 2, k, NULL, NULL, 0);
    gc_source_add_weight(s, "lstm/recurrent_kernel:0", 2, r, NULL, NULL, 0);
    gc_source_add_weight(s, "lstm/bias:0", 1, bias, NULL, NULL, 0);
  }
  if (style != STYLE_K3) gc_source_guess_kinds(s);
}

/* The source weight paired with a model tensor. */
static const char *paired(const gc_match *m, const gc_source *s, const char *tensor) {
  for (int i = 0; i < m->count; i++)
    if (!strcmp(m->specs[i].name, tensor)) return m->src[i] >= 0 ? s->weights[m->src[i]].label : "(none)";
  return "(no such tensor)";
}

static void match_case(int style, int mutation, int units, gc_status want, const char *words) {
  gc_source s;
  gc_source_init(&s);
  make_source(&s, style, mutation, 10);
  gc_spec spec;
  gc_spec_notop(&spec);
  spec.pool = GC_POOL_AVG;
  snprintf(spec.pool_name, sizeof spec.pool_name, "avg_pool");
  spec.ndense = 1;
  snprintf(spec.dense[0].name, sizeof spec.dense[0].name, "%s", "predictions");
  spec.dense[0].units = units;
  spec.dense[0].act = GC_ACT_SOFTMAX;
  gc_match m;
  char err[GC_ERRBUF_SIZE] = "";
  gc_status st = gc_match_source(&spec, &s, &m, err, sizeof err);
  CHECK(st == want, "style %d mutation %d: got %s (%s), want %s", style, mutation, gc_status_to_string(st), err,
        gc_status_to_string(want));
  if (words) CHECK(strstr(err, words) != NULL, "style %d mutation %d: '%s' lacks '%s'", style, mutation, err, words);
  if (st == GC_OK && style == STYLE_K3) {
    /* Keras 3 numbers each class in model.layers order: the residual BN of block 2 is the fifth BN */
    CHECK(!strcmp(paired(&m, &s, "block2_residual_bn/gamma"), "layers/batch_normalization_4/vars/0"), "got %s",
          paired(&m, &s, "block2_residual_bn/gamma"));
    CHECK(!strcmp(paired(&m, &s, "block13_residual_bn/moving_variance"), "layers/batch_normalization_37/vars/3"),
          "got %s", paired(&m, &s, "block13_residual_bn/moving_variance"));
    CHECK(!strcmp(paired(&m, &s, "block2_residual/kernel"), "layers/conv2d_2/vars/0"), "got %s",
          paired(&m, &s, "block2_residual/kernel"));
    CHECK(!strcmp(paired(&m, &s, "block5_sepconv1/pointwise_kernel"), "layers/separable_conv2d_6/vars/1"), "got %s",
          paired(&m, &s, "block5_sepconv1/pointwise_kernel"));
    CHECK(!strcmp(paired(&m, &s, "predictions/bias"), "layers/dense/vars/1"), "got %s",
          paired(&m, &s, "predictions/bias"));
  }
  if (st == GC_OK && style == STYLE_K1) {
    CHECK(!strcmp(paired(&m, &s, "block3_residual_bn/moving_variance"), "batchnormalization_2_running_std:0"),
          "Keras 1's running_std is the moving variance: got %s", paired(&m, &s, "block3_residual_bn/moving_variance"));
    CHECK(!strcmp(paired(&m, &s, "block13_residual/kernel"), "convolution2d_4_W:0"), "got %s",
          paired(&m, &s, "block13_residual/kernel"));
  }
  if (st == GC_OK && style == STYLE_K2) {
    CHECK(!strcmp(paired(&m, &s, "block13_residual_bn/beta"), "batch_normalization_3/beta:0"), "got %s",
          paired(&m, &s, "block13_residual_bn/beta"));
    CHECK(!strcmp(paired(&m, &s, "block5_sepconv2/depthwise_kernel"), "block5_sepconv2/depthwise_kernel:0"),
          "got %s", paired(&m, &s, "block5_sepconv2/depthwise_kernel"));
  }
  if (st == GC_OK) gc_match_free(&m);
  gc_source_free(&s);
}

static void test_match(void) {
  match_case(STYLE_K2, M_NONE, 10, GC_OK, NULL);
  match_case(STYLE_K3, M_NONE, 10, GC_OK, NULL);
  match_case(STYLE_K2, M_SWAP_NAMED, 10, GC_OK, NULL); /* named layers pair by name, wherever they are */
  match_case(STYLE_K1, M_NONE, 10, GC_OK, NULL);
  /* a Keras 1 file whose auto-named residual batch norm lacks its running_std */
  match_case(STYLE_K1, M_BN_3_WEIGHTS, 10, GC_ERR_CONVERT,
             "layer 'batchnormalization_2' has 3 weights, the residual 1x1 convolution's batch norm of block3 "
             "(BatchNormalization) needs 4 (gamma, beta, moving mean, moving variance (Keras 1: running_std)); the "
             "file has 'batchnormalization_2_gamma:0', "); /* the list goes on past the buffer's 256 bytes */
  match_case(STYLE_K2, M_BN_3_WEIGHTS, 10, GC_ERR_CONVERT,
             "layer 'block3_sepconv1_bn' has 3 weights, block3_sepconv1_bn (BatchNormalization) needs 4 (gamma, beta, "
             "moving mean, moving variance (Keras 1: running_std)); the file has 'block3_sepconv1_bn/gamma:0'");
  match_case(STYLE_K2, M_HEAD_KERNEL, 10, GC_ERR_WEIGHTS_SHAPE,
             "layer 'predictions': weight 0 ('predictions/kernel:0') has shape [2048,12], not [2048,10] as the head's "
             "Dense 'predictions' (Dense(10, softmax) in the model config)");
  match_case(STYLE_K2, M_NONE, 12, GC_ERR_WEIGHTS_SHAPE, "has shape [2048,10], not [2048,12]"); /* config: 12 */
  match_case(STYLE_K3, M_NO_DENSE, 10, GC_ERR_CONVERT,
             "the file has 0 Dense layers; the model's head has 1 ('predictions')");
  match_case(STYLE_K2, M_LSTM, 10, GC_ERR_CONVERT,
             "layer 'lstm' has 3 weights ('lstm/kernel:0' [2048,512] ...) of no layer kind an Xception model with a "
             "Dense head has");
  /* residual BNs in creation order instead of model.layers order: block 13's do not fit */
  match_case(STYLE_K3, M_CREATION_ORDER, 10, GC_ERR_WEIGHTS_SHAPE, "layers/batch_normalization_35: weight 0");
}

/* ---- Keras configs ------------------------------------------------------------------------------ */

/* A model config: an InputLayer (shape "[null, H, W, 3]" or NULL for none), the layers `before`
 * (JSON objects, comma-separated), the Xception base (flat, or nested as one Functional layer),
 * and the layers `after`. */
static char *xconfig(const char *shape, const char *before, int nested, const char *after) {
  gc_json_writer w = {0};
  static klayer L[128];
  const int n = xception_layers(L, 0);
  static const char *const cls[GC_KIND_COUNT] = {"", "Conv2D", "SeparableConv2D", "BatchNormalization", "Dense"};
  gc_jw_raw(&w, "{\"class_name\": \"Functional\", \"config\": {\"name\": \"model\", \"layers\": [");
  if (shape) gc_jw_rawf(&w, "{\"class_name\": \"InputLayer\", \"config\": {\"name\": \"input_1\", "
                        "\"batch_input_shape\": %s}},", shape);
  if (before && *before) gc_jw_rawf(&w, "%s,", before);
  if (nested) gc_jw_raw(&w, "{\"class_name\": \"Functional\", \"name\": \"xception\", \"config\": {\"name\": "
                        "\"xception\", \"layers\": [{\"class_name\": \"InputLayer\", \"config\": {\"name\": "
                        "\"input_2\", \"batch_input_shape\": [null, null, null, 3]}},");
  int conv = 0, bn = 0;
  for (int i = 0; i < n; i++) {
    char name[96];
    const int r = L[i].name[0] ? 0 : L[i].kind == GC_KIND_CONV ? conv++ : bn++;
    if (L[i].name[0]) snprintf(name, sizeof name, "%.63s", L[i].name);
    else if (r) snprintf(name, sizeof name, "%s_%d", L[i].kind == GC_KIND_CONV ? "conv2d" : "batch_normalization", r);
    else snprintf(name, sizeof name, "%s", L[i].kind == GC_KIND_CONV ? "conv2d" : "batch_normalization");
    gc_jw_rawf(&w, "{\"class_name\": \"%s\", \"config\": {\"name\": \"%s\", \"data_format\": "
               "\"channels_last\"}},", cls[L[i].kind], name);
  }
  gc_jw_raw(&w, "{\"class_name\": \"Activation\", \"config\": {\"name\": \"block14_sepconv2_act\", "
            "\"activation\": \"relu\"}}");
  if (nested) gc_jw_raw(&w, "]}}");
  if (after && *after) gc_jw_rawf(&w, ",%s", after);
  gc_jw_raw(&w, "]}}");
  return w.text;
}

#define GAP "{\"class_name\": \"GlobalAveragePooling2D\", \"config\": {\"name\": \"avg_pool\"}}"
#define GMP "{\"class_name\": \"GlobalMaxPooling2D\", \"config\": {\"name\": \"gmp\"}}"
#define DROP "{\"class_name\": \"Dropout\", \"config\": {\"name\": \"dropout\", \"rate\": 0.2}}"
#define DENSE(name, units, act) \
  "{\"class_name\": \"Dense\", \"config\": {\"name\": \"" name "\", \"units\": " #units ", \"activation\": \"" act \
  "\", \"use_bias\": true}}"
#define LAYER(cls, name, more) "{\"class_name\": \"" cls "\", \"config\": {\"name\": \"" name "\"" more "}}"
#define SHAPE299 "[null, 299, 299, 3]"

static gc_status config_case(const char *shape, const char *before, int nested, const char *after, gc_spec *spec,
                             char *err) {
  char *text = xconfig(shape, before, nested, after);
  gc_json *doc = NULL;
  gc_status st = gc_json_parse(text, strlen(text), &doc, err, GC_ERRBUF_SIZE);
  CHECK(st == GC_OK, "the test's config parses: %s", err);
  if (st == GC_OK) st = gc_kconfig_spec(gc_json_root(doc), "config.json", spec, err, GC_ERRBUF_SIZE);
  gc_json_free(doc);
  free(text);
  return st;
}

static void config_error(const char *shape, const char *before, int nested, const char *after, const char *words) {
  gc_spec spec;
  char err[GC_ERRBUF_SIZE] = "";
  gc_status st = config_case(shape, before, nested, after, &spec, err);
  CHECK(st == GC_ERR_CONVERT, "'%s' / '%s': got %s (%s), want GC_ERR_CONVERT", before ? before : "",
        after ? after : "", gc_status_to_string(st), err);
  CHECK(strstr(err, words) != NULL, "message '%s' lacks '%s'", err, words);
}

static void test_config(void) {
  gc_spec s;
  char err[GC_ERRBUF_SIZE] = "";
  /* ImageNet's head */
  CHECK_STATUS(config_case(SHAPE299, NULL, 0, GAP "," DENSE("predictions", 1000, "softmax"), &s, err), GC_OK);
  CHECK(s.input_h == 299 && s.input_w == 299 && s.pool == GC_POOL_AVG && s.ndense == 1 && s.dense[0].units == 1000 &&
            s.dense[0].act == GC_ACT_SOFTMAX && !strcmp(s.dense[0].name, "predictions") &&
            !strcmp(s.pool_name, "avg_pool") && !s.head_inferred,
        "ImageNet head");
  CHECK(gc_spec_is_imagenet(&s) && gc_spec_classes(&s) == 1000, "ImageNet spec");
  CHECK(s.pre == GC_PRE_TF, "default preprocessing: Keras' x / 127.5 - 1");
  /* GMP, Dropout, hidden relu, Dropout, Dense(1, sigmoid): binary */
  CHECK_STATUS(config_case(SHAPE299, NULL, 0,
                           GMP "," DROP "," DENSE("fc", 256, "relu") "," DROP "," DENSE("out", 1, "sigmoid"), &s, err),
               GC_OK);
  CHECK(s.pool == GC_POOL_MAX && s.ndense == 2 && s.dense[0].units == 256 && s.dense[0].act == GC_ACT_RELU &&
            s.dense[1].units == 1 && s.dense[1].act == GC_ACT_SIGMOID && gc_spec_classes(&s) == 2,
        "GMP, hidden relu, sigmoid: %s", err);
  /* a linear Dense then an Activation('softmax') layer; a Flatten after the pooling; hidden linear */
  CHECK_STATUS(config_case(SHAPE299, NULL, 0,
                           GAP "," LAYER("Flatten", "flatten", "") "," DENSE("h", 64, "linear") "," DENSE("d", 10, "linear")
                           "," LAYER("Activation", "act", ", \"activation\": \"softmax\""), &s, err),
               GC_OK);
  CHECK(s.ndense == 2 && s.dense[0].act == GC_ACT_LINEAR && s.dense[1].act == GC_ACT_SOFTMAX, "Activation folded");
  CHECK_STATUS(config_case(SHAPE299, NULL, 0, GAP "," LAYER("Dense", "logits", ", \"units\": 3"), &s, err), GC_OK);
  CHECK(s.ndense == 1 && s.dense[0].act == GC_ACT_LINEAR, "a Dense without activation is linear");
  /* notop: nothing after the base; pooling only */
  CHECK_STATUS(config_case("[null, null, null, 3]", NULL, 0, NULL, &s, err), GC_OK);
  CHECK(s.pool == GC_POOL_NONE && s.ndense == 0 && gc_spec_classes(&s) == 0 && s.input_h == 299,
        "notop with a variable input size: 299");
  CHECK_STATUS(config_case(SHAPE299, NULL, 0, GAP, &s, err), GC_OK);
  CHECK(s.pool == GC_POOL_AVG && s.ndense == 0, "pooling only");
  /* nested base, preprocessing before it: two Rescaling layers compose, RandomCrop sets the size */
  CHECK_STATUS(config_case("[null, 320, 320, 3]",
                           LAYER("RandomFlip", "flip", "") "," LAYER("Rescaling", "r1", ", \"scale\": 0.00392156862745098") ","
                           LAYER("Rescaling", "r2", ", \"scale\": 2.0, \"offset\": -1.0") ","
                           LAYER("RandomCrop", "crop", ", \"height\": 224, \"width\": 256") "," LAYER("RandomRotation", "rot", ""),
                           1, GAP "," DROP "," DENSE("dense", 5, "softmax"), &s, err),
               GC_OK);
  CHECK(s.input_h == 224 && s.input_w == 256, "RandomCrop's size: %dx%d", s.input_h, s.input_w);
  CHECK(s.pre == GC_PRE_RESCALE && s.pre_scale == (float)(2.0 / 255.0) && s.pre_offset == -1.0f,
        "x / 255 * 2 - 1: %g %g", s.pre_scale, s.pre_offset);
  CHECK(s.ndense == 1 && s.dense[0].units == 5, "the nested base's head");
  /* tf.keras' xception.preprocess_input inside the model: TFOpLambda x / 127.5, then x - 1 */
  CHECK_STATUS(config_case(SHAPE299,
                           "{\"class_name\": \"TFOpLambda\", \"config\": {\"name\": \"tf.math.truediv\", \"function\": "
                           "\"math.truediv\"}, \"inbound_nodes\": [[\"input_1\", 0, 0, {\"y\": 255.0, \"name\": null}]]},"
                           "{\"class_name\": \"TFOpLambda\", \"config\": {\"name\": \"tf.math.subtract\", \"function\": "
                           "\"math.subtract\"}, \"inbound_nodes\": [[\"tf.math.truediv\", 0, 0, {\"y\": 0.5, \"name\": null}]]}",
                           1, GAP "," DENSE("dense", 5, "softmax"), &s, err),
               GC_OK);
  CHECK(s.pre == GC_PRE_RESCALE && s.pre_scale == (float)(1.0 / 255.0) && s.pre_offset == -0.5f,
        "x / 255 - 0.5: %g %g", s.pre_scale, s.pre_offset);
  /* exactly preprocess_input's x / 127.5 - 1: Keras' "tf" mode, computed as Keras does */
  CHECK_STATUS(config_case(SHAPE299,
                           "{\"class_name\": \"TFOpLambda\", \"config\": {\"name\": \"tf.math.truediv\", \"function\": "
                           "\"math.truediv\"}, \"inbound_nodes\": [[\"input_1\", 0, 0, {\"y\": 127.5, \"name\": null}]]},"
                           "{\"class_name\": \"TFOpLambda\", \"config\": {\"name\": \"tf.math.subtract\", \"function\": "
                           "\"math.subtract\"}, \"inbound_nodes\": [[\"tf.math.truediv\", 0, 0, {\"y\": 1.0, \"name\": null}]]}",
                           1, GAP "," DENSE("dense", 5, "softmax"), &s, err),
               GC_OK);
  CHECK(s.pre == GC_PRE_TF, "preprocess_input inside the model is the tf mode");
  config_error(SHAPE299, "{\"class_name\": \"TFOpLambda\", \"config\": {\"name\": \"tf.math.sqrt\", "
               "\"function\": \"math.sqrt\"}, \"inbound_nodes\": [[\"input_1\", 0, 0, {\"y\": 2}]]}", 0, NULL,
               "layer 'tf.math.sqrt' (TFOpLambda math.sqrt) before the Xception base is not supported");
  /* what is refused */
  config_error(SHAPE299, NULL, 0, GAP "," LAYER("LSTM", "lstm", ", \"units\": 8") "," DENSE("d", 2, "softmax"),
               "config.json: layer 'lstm' (LSTM) after the Xception base is not supported; a supported head is");
  config_error(SHAPE299, NULL, 0, GAP "," DENSE("d", 10, "relu"), "Dense layer 'd' has activation relu as the classifier");
  config_error(SHAPE299, NULL, 0, GAP "," DENSE("h", 10, "softmax") "," DENSE("d", 2, "softmax"),
               "Dense layer 'h' has activation softmax in a hidden layer");
  config_error(SHAPE299, NULL, 0, GAP "," DENSE("d", 10, "tanh"), "Dense layer 'd' has activation 'tanh'");
  config_error(SHAPE299, NULL, 0, DENSE("d", 10, "softmax"), "layer 'd' (Dense) after the Xception base is not "
               "supported before a global pooling");
  config_error(SHAPE299, NULL, 0, GAP "," GMP, "layer 'gmp' (GlobalMaxPooling2D) pools again after 'avg_pool'");
  config_error(SHAPE299, NULL, 0, GAP "," LAYER("Dense", "d", ", \"units\": 4, \"use_bias\": false"),
               "Dense layer 'd' has no bias");
  config_error(SHAPE299, NULL, 0, GAP "," DENSE("d", 0, "softmax"), "Dense layer 'd' has 0 units");
  config_error(SHAPE299, LAYER("Normalization", "norm", ""), 0, NULL,
               "layer 'norm' (Normalization) before the Xception base is not supported");
  config_error(SHAPE299, LAYER("Rescaling", "r", ", \"scale\": [1, 2, 3]"), 0, NULL,
               "Rescaling layer 'r' has a scale or offset that is not one number");
  config_error("[null, 32, 32, 3]", NULL, 0, NULL, "config.json: the model's input is 32x32; supported sizes are 71 "
               "to 1024 on each side");
  config_error("[null, 2000, 299, 3]", NULL, 0, NULL, "the model's input is 2000x299");
  config_error("[null, 299, 299, 1]", NULL, 0, NULL, "layer 'input_1' gives an input shape that is not [batch, height, "
               "width, 3]");
  /* another model; a base layer of the wrong class */
  const char *resnet = "{\"class_name\": \"Functional\", \"config\": {\"name\": \"resnet50\", \"layers\": ["
                       "{\"class_name\": \"InputLayer\", \"config\": {\"name\": \"input_1\"}},"
                       "{\"class_name\": \"Conv2D\", \"config\": {\"name\": \"conv1_conv\"}}]}}";
  gc_json *doc = NULL;
  gc_json_parse(resnet, strlen(resnet), &doc, NULL, 0);
  CHECK_STATUS(gc_kconfig_spec(gc_json_root(doc), "model.json", &s, err, sizeof err), GC_ERR_CONVERT);
  CHECK(strstr(err, "model.json describes a model 'resnet50' of 2 layers (input_1, conv1_conv) with no layer "
                    "'block1_conv1': not an Xception model"), "resnet: %s", err);
  gc_json_free(doc);
  const char *notmodel = "{\"weights\": []}";
  gc_json_parse(notmodel, strlen(notmodel), &doc, NULL, 0);
  CHECK_STATUS(gc_kconfig_spec(gc_json_root(doc), "config.json", &s, err, sizeof err), GC_ERR_CONVERT);
  CHECK(strstr(err, "config.json is not a Keras model config") != NULL, "not a config: %s", err);
  gc_json_free(doc);
  /* Keras 2.0's Sequential: "config" is the list of layers */
  char *flat = xconfig(SHAPE299, NULL, 0, GAP "," DENSE("predictions", 7, "softmax"));
  char *list = strstr(flat, "\"layers\": ") + strlen("\"layers\": ");
  char seq[200000];
  snprintf(seq, sizeof seq, "{\"class_name\": \"Sequential\", \"config\": %.*s}", (int)(strlen(list) - 2), list);
  free(flat);
  gc_json_parse(seq, strlen(seq), &doc, err, sizeof err);
  CHECK_STATUS(gc_kconfig_spec(gc_json_root(doc), "config.json", &s, err, sizeof err), GC_OK);
  CHECK(s.ndense == 1 && s.dense[0].units == 7, "Keras 2.0 Sequential: %s", err);
  gc_json_free(doc);
}

static void test_f16_range(void) {
  gc_tensor_spec sp[2] = {{"a/kernel", 1, {3}}, {"b/bias", 1, {2}}};
  float a[3] = {1, -65504, 2}, b[2] = {0, 65520};
  float *data[2] = {a, b};
  char err[GC_ERRBUF_SIZE] = "";
  CHECK_STATUS(gc_check_f16(sp, data, 1, err, sizeof err), GC_OK); /* -65504 is float16's lowest */
  CHECK_STATUS(gc_check_f16(sp, data, 2, err, sizeof err), GC_ERR_CONVERT);
  CHECK(strstr(err, "b/bias holds 65520 at element 1, beyond float16's range") != NULL, "f16: %s", err);
}

int main(void) {
  test_f16_range();
  test_labels();
  test_config();
  test_detect();
  test_match();
  return check_report("test_formats");
}
