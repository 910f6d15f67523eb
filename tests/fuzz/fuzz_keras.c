/* fuzz_keras.c - the Keras converter (gc_converter_add / gc_converter_finish: tensors handed over
 * one by one, paired with the model by src/formats/match.c), from a structured decoding of the
 * fuzz input.
 *
 * Byte 0: bit 0 the output dtype (f32/f16); the mode is "model" when the input starts with
 * "MODL" (then byte 4 is the dtype byte), "records" otherwise. A model input converts all
 * 22.9 M parameters (seconds under the sanitizers), so its seeds are kept as regression
 * inputs (tests/fuzz/regressions/fuzz_keras) rather than in the fuzzing corpus.
 * Mode "records": a sequence of tensors, each
 *   u8 layer  (< 0xe0: a name from a dictionary of Keras Xception layer names, auto-generated
 *              residual names and TF.js "_1" variants; else a raw string follows)
 *   u8 weight (< 0xe0: kernel, depthwise_kernel, ..., or "layer/weight:0"; else raw string)
 *   u8 shape  (even: the shape Keras Xception has for that layer/weight, when there is one;
 *              odd: ndim = next byte % 6 (0 and 5 are invalid) and that many u16 dims (0xfffd, 0xfffe,
 *              0xffff mean 2^24, -1, 2^24 + 1))
 *   u8 fill   (the values: plain, one NaN, one infinity, one value beyond float16's range)
 * Mode "model": every tensor of Keras Xception in file order, each preceded by an op byte:
 *   as is, skipped, duplicated, wrong shape, a NaN, a float16-overflowing value, the TF.js
 *   "_1" layer-name suffix (on a layer's first tensor: for the whole layer, as TF.js names
 *   layers), the long "layer/weight:0" name. The result is predicted (benign
 *   changes must convert, harmful ones must fail) and checked.
 * A successful conversion must produce a file gc_weights_parse accepts. */
#include <math.h>

#include "formats/formats.h"
#include "fuzz.h"

#define MAX_ELEMS (3u << 20) /* the largest Xception tensor (1536 x 2048) fits */

static gc_tensor_spec *g_specs;
static int g_nspecs;
static float *g_buf;
static char (*g_dict)[96];
static int g_ndict;

static const char *const kWeights[] = {"kernel", "depthwise_kernel", "pointwise_kernel", "gamma", "beta",
                                       "moving_mean", "moving_variance", "bias", "", "kernel:0", "weird"};
#define NWEIGHTS ((int)(sizeof kWeights / sizeof kWeights[0]))

/* Keras layer name of spec i: residual convolutions and their BNs are auto-named in Keras */
static void keras_layer(int i, char *out, size_t len) {
  const char *name = g_specs[i].name;
  const char *slash = strchr(name, '/');
  char prefix[80];
  snprintf(prefix, sizeof prefix, "%.*s", (int)(slash - name), name);
  if (strstr(prefix, "_residual")) {
    static const char *const blocks[4] = {"block2_", "block3_", "block4_", "block13_"};
    int slot = 0;
    for (int s = 0; s < 4; s++)
      if (!strncmp(prefix, blocks[s], strlen(blocks[s]))) slot = s;
    const char *base = strstr(prefix, "_bn") ? "batch_normalization" : "conv2d";
    if (slot) snprintf(out, len, "%s_%d", base, slot);
    else snprintf(out, len, "%s", base);
  } else {
    snprintf(out, len, "%s", prefix);
  }
}

/* source (Keras) shape of spec i */
static int keras_shape(int i, int *dims) {
  const gc_tensor_spec *s = &g_specs[i];
  const char *w = strrchr(s->name, '/') + 1;
  if (s->ndim == 4 && !strcmp(w, "depthwise_kernel")) {
    dims[0] = s->dims[1], dims[1] = s->dims[2], dims[2] = s->dims[3], dims[3] = 1;
  } else if (s->ndim == 4) {
    dims[0] = s->dims[1], dims[1] = s->dims[2], dims[2] = s->dims[3], dims[3] = s->dims[0];
  } else if (s->ndim == 2) {
    dims[0] = s->dims[1], dims[1] = s->dims[0];
  } else {
    for (int d = 0; d < s->ndim; d++) dims[d] = s->dims[d];
  }
  return s->ndim;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  gc_spec imagenet; /* the tensors of the ImageNet model, which a full conversion writes */
  gc_spec_imagenet(&imagenet);
  g_nspecs = gc_spec_weight_specs(&imagenet, NULL, 0);
  g_specs = calloc((size_t)g_nspecs, sizeof *g_specs);
  gc_spec_weight_specs(&imagenet, g_specs, g_nspecs);
  g_buf = malloc(MAX_ELEMS * sizeof *g_buf);
  for (size_t k = 0; k < MAX_ELEMS; k++) g_buf[k] = (float)((k * 2654435761u) % 2001) / 1000.0f - 1.0f;
  g_dict = calloc((size_t)g_nspecs * 2 + 16, sizeof *g_dict);
  for (int i = 0; i < g_nspecs; i++) {
    char l[96];
    keras_layer(i, l, sizeof l);
    int dup = 0;
    for (int j = 0; j < g_ndict && !dup; j++) dup = !strcmp(g_dict[j], l);
    if (dup) continue;
    snprintf(g_dict[g_ndict++], 96, "%s", l);
    snprintf(g_dict[g_ndict++], 96, "%.80s_1", l);
  }
  static const char *const extra[] = {"conv2d_4", "batch_normalization_4", "predictions_x", "_", "block1_conv1_",
                                      "add", "input_1", "block14_sepconv2_act"};
  for (size_t k = 0; k < sizeof extra / sizeof extra[0]; k++) snprintf(g_dict[g_ndict++], 96, "%s", extra[k]);
  return 0;
}

/* a spec whose Keras layer/weight is (layer, weight), -1 if none */
static int find_spec(const char *layer, const char *weight) {
  char short_w[32];
  const char *sl = strrchr(weight, '/');
  snprintf(short_w, sizeof short_w, "%.*s", (int)strcspn(sl ? sl + 1 : weight, ":"), sl ? sl + 1 : weight);
  for (int i = 0; i < g_nspecs; i++) {
    char l[96];
    keras_layer(i, l, sizeof l);
    size_t n = strlen(l);
    if (strncmp(layer, l, n) != 0 || (layer[n] && strcmp(layer + n, "_1") != 0)) continue;
    if (!strcmp(strrchr(g_specs[i].name, '/') + 1, short_w)) return i;
  }
  return -1;
}

static void fill(float *d, size_t n, int how) {
  memcpy(d, g_buf, n * sizeof *d);
  size_t at = n / 2;
  switch (how % 4) {
    case 1: d[at] = NAN; break;
    case 2: d[at] = -INFINITY; break;
    case 3: d[at] = 70000.0f; break;
    default: break;
  }
}

static void finish_and_check(gc_converter *c, gc_dtype dtype, int expect) {
  void *bytes = NULL;
  size_t size = 0;
  char err[GC_ERRBUF_SIZE];
  err[0] = 0;
  gc_status s = gc_converter_finish(c, dtype, &bytes, &size, err, sizeof err);
  FUZZ_STATUS_OK(s);
  FUZZ_ERRBUF_OK(err);
  FUZZ_CHECK((s == GC_OK) == (bytes != NULL), "status %d, bytes %p", (int)s, bytes);
  if (s != GC_OK) FUZZ_CHECK(err[0], "conversion failed (%d) without a message", (int)s);
  if (expect >= 0) FUZZ_CHECK((s == GC_OK) == expect, "conversion %s but was expected to %s (%s)",
                              s == GC_OK ? "succeeded" : "failed", expect ? "succeed" : "fail", err);
  if (s == GC_OK) {
    gc_weights w;
    gc_status ps = gc_weights_parse(bytes, size, &w, err, sizeof err);
    FUZZ_CHECK(ps == GC_OK, "the converter's output does not parse: %s", err);
    FUZZ_CHECK(fuzz_tensor_count(&w) == g_nspecs, "%d tensors written", fuzz_tensor_count(&w));
    gc_weights_release(&w);
  }
  gc_free(bytes);
}

static void mode_records(fuzz_reader *r, gc_dtype dtype) {
  gc_converter *c = NULL;
  FUZZ_CHECK(gc_converter_new(&c) == GC_OK, "converter_new");
  size_t total = 0;
  for (int rec = 0; rec < 400 && r->n > 0; rec++) {
    char layer[160], weight[64];
    uint8_t lb = fuzz_u8(r);
    if (lb < 0xe0) snprintf(layer, sizeof layer, "%s", g_dict[lb % g_ndict]);
    else fuzz_str(r, layer, sizeof layer);
    uint8_t wb = fuzz_u8(r);
    if (wb < 0xe0) {
      const char *w = kWeights[wb % NWEIGHTS];
      if (wb / NWEIGHTS % 2) snprintf(weight, sizeof weight, "%.20s/%s:0", layer, w);
      else snprintf(weight, sizeof weight, "%s", w);
    } else {
      fuzz_str(r, weight, sizeof weight);
    }
    uint8_t sb = fuzz_u8(r);
    int ndim = 0;
    int64_t shape[6] = {0};
    int si = find_spec(layer, weight);
    if (!(sb & 1) && si >= 0) {
      int dims[4];
      ndim = keras_shape(si, dims);
      for (int d = 0; d < ndim; d++) shape[d] = dims[d];
    } else {
      ndim = fuzz_u8(r) % 6;
      for (int d = 0; d < ndim; d++) {
        uint16_t v = fuzz_u16(r);
        shape[d] = v == 0xffff ? (1 << 24) + 1 : v == 0xfffe ? -1 : v == 0xfffd ? 1 << 24 : v;
      }
    }
    uint8_t how = fuzz_u8(r);
    /* valid by the documented rules? then it must be accepted and data is read */
    int valid = ndim >= 1 && ndim <= GC_MAX_DIMS && strlen(layer) < GC_SRC_NAME_SIZE;
    uint64_t n = 1;
    for (int d = 0; valid && d < ndim; d++) {
      if (shape[d] <= 0 || shape[d] > (1 << 24)) valid = 0;
      else n *= (uint64_t)shape[d];
      if (n > ((uint64_t)1 << 28)) valid = 0;
    }
    const float *data = g_buf;
    float *owned = NULL;
    if (valid) {
      if (n > MAX_ELEMS || total + n > 4 * MAX_ELEMS) continue; /* too costly to run */
      total += n;
      owned = malloc(n * sizeof *owned); /* exact size: a read past it is reported */
      if (!owned) continue;
      fill(owned, n, how);
      data = owned;
    } else {
      owned = malloc(sizeof *owned); /* an invalid tensor's data must not be read */
      if (!owned) continue;
      owned[0] = 0.0f;
      data = owned;
    }
    gc_status s = gc_converter_add(c, layer, weight, ndim < 5 ? ndim : 5, shape, data);
    FUZZ_STATUS_OK(s);
    if (s == GC_OK) FUZZ_CHECK(valid, "an invalid tensor (ndim %d) was accepted", ndim);
    else FUZZ_CHECK(!valid || s == GC_ERR_OUT_OF_MEMORY, "a valid tensor was rejected: %s", gc_status_to_string(s));
    free(owned);
  }
  finish_and_check(c, dtype, -1);
  gc_converter_free(c);
}

static void mode_model(fuzz_reader *r, gc_dtype dtype) {
  gc_converter *c = NULL;
  FUZZ_CHECK(gc_converter_new(&c) == GC_OK, "converter_new");
  int harmful = 0, suffix = 0;
  for (int i = 0; i < g_nspecs; i++) {
    uint8_t op = fuzz_u8(r) % 16; /* 0 past the end of the input: as is */
    char layer[128], weight[160];
    keras_layer(i, layer, sizeof layer);
    const size_t plen = (size_t)(strchr(g_specs[i].name, '/') - g_specs[i].name);
    const int first = !i || strncmp(g_specs[i - 1].name, g_specs[i].name, plen + 1) != 0;
    if (first) suffix = op == 13;
    const char *w = strrchr(g_specs[i].name, '/') + 1;
    int residual = strstr(g_specs[i].name, "_residual") != NULL;
    snprintf(weight, sizeof weight, "%s", w);
    int dims[4];
    int nd = keras_shape(i, dims);
    int64_t shape[4];
    for (int d = 0; d < nd; d++) shape[d] = dims[d];
    size_t n = gc_tensor_count(nd, dims);
    int times = 1;
    switch (op) {
      case 8: times = 0; harmful = 1; break;                                    /* skipped */
      case 9: times = 2; harmful = 1; break;                                    /* duplicated */
      case 10: shape[0] += 1; n = n / (size_t)dims[0] * (size_t)shape[0]; harmful = 1; break; /* shape */
      case 11: harmful = 1; break;                                              /* NaN */
      case 12: if (dtype == GC_DTYPE_F16) harmful = 1; break;                   /* > 65504 */
      case 14: snprintf(weight, sizeof weight, "%s/%s:0", layer, w); break;
      default: break;
    }
    if (suffix && !residual) snprintf(layer + strlen(layer), sizeof layer - strlen(layer), "_1");
    if (n > 2 * MAX_ELEMS) n = 2 * MAX_ELEMS; /* cannot happen with Xception's shapes */
    float *data = malloc(n * sizeof *data);
    if (!data) break;
    memcpy(data, g_buf, (n < MAX_ELEMS ? n : MAX_ELEMS) * sizeof *data);
    if (n > MAX_ELEMS) memset(data + MAX_ELEMS, 0, (n - MAX_ELEMS) * sizeof *data);
    if (op == 11) data[n / 2] = NAN;
    if (op == 12) data[n / 2] = 70000.0f;
    for (int t = 0; t < times; t++) {
      gc_status s = gc_converter_add(c, layer, weight, nd, shape, data);
      FUZZ_CHECK(s == GC_OK, "tensor %s rejected: %s", g_specs[i].name, gc_status_to_string(s));
    }
    free(data);
  }
  finish_and_check(c, dtype, !harmful);
  gc_converter_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_reader r = {data, size};
  const int model = size >= 4 && !memcmp(data, "MODL", 4);
  if (model) r.p += 4, r.n -= 4;
  gc_dtype dtype = fuzz_u8(&r) & 1 ? GC_DTYPE_F16 : GC_DTYPE_F32;
  if (model) mode_model(&r, dtype);
  else mode_records(&r, dtype);
  return 0;
}
