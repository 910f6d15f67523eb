/* fuzz_request.c - requests: what a caller sends as strings and numbers.
 *
 * 1. The CLI's option parser (src/cli/options.c cli_parse: --method, --layer, --class, --alpha,
 *    --input-size HxW, the method parameters of the registry, ...) on an argv decoded from the
 *    input, and the parameters it gives set on an explanation's (cli_apply_params).
 * 2. The WebAssembly boundary (src/wasm/exports.c, compiled natively): gcw_layer_shape,
 *    gcw_render, gcw_params_* + gcw_explain_with, gcw_gradient, gcw_metrics with method / layer /
 *    colormap names
 *    and numbers from the input, on a model with synthetic weights (one forward pass at
 *    71x71, made once). Expensive but valid counts (Score-CAM channels, SmoothGrad samples,
 *    IG steps, metric steps) are kept small; out-of-range ones are passed as they are.
 * Input: a byte choosing the parts, then a sequence of fields read by fuzz_reader (past the
 * end everything is 0). */
#include <math.h>

#include "fuzz.h"

/* the CLI's option parser, with stderr silenced */
#include <stdio.h>
static FILE *fuzz_devnull;
#undef stderr /* glibc defines it as itself */
#define stderr fuzz_devnull
#include "../../src/cli/options.c"
#undef stderr
#define stderr stderr

#include "../../src/wasm/exports.c"
#include "../c/synth.h"

static gc_model *g_model;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_devnull = fopen("/dev/null", "w");
  synth w;
  void *bytes = NULL;
  size_t size = 0;
  char err[GC_ERRBUF_SIZE];
  if (synth_make(&w, 7) != 0 || synth_write(&w, GC_DTYPE_F16, &bytes, &size) != GC_OK) abort();
  synth_free(&w);
  if (gc_model_load_memory(bytes, size, NULL, &g_model, err, sizeof err) != GC_OK) abort();
  gc_free(bytes);
  float *x = malloc(71 * 71 * 3 * sizeof *x);
  uint32_t s = 3;
  for (int i = 0; i < 71 * 71 * 3; i++) x[i] = synth_uniform(&s);
  if (gc_model_forward_tensor(g_model, x, 71, 71) != GC_OK) abort();
  free(x);
  return 0;
}

static const char *const kOpts[] = {
    "--weights", "--image", "--input-tensor", "--dump-dir", "--dump-layers", "--save-input", "--in", "--out",
    "--top", "--class", "--layer", "--method", "--colormap", "--blend", "--baseline", "--target",
    "--out-heatmap", "--save-grad", "--out-overlay", "--metrics", "--steps", "--samples", "--seed",
    "--ig-steps", "--channels", "--alpha", "--sigma", "--threads", "--runs", "--warmup", "--json",
    "--input-size", "--size", "--dtype", "f16", "f32", "299x299", "71", "-1", "0.4", "nan", "1e9",
    "--contrast", "--detail", "--arithmetic", "all", "scorecam", "smoothgrad", "integrated-gradients",
    "prob", "--help", "2.5", "4097"};
#define NOPTS ((int)(sizeof kOpts / sizeof kOpts[0]))

static void cli(fuzz_reader *r) {
  char store[16][64];
  char *argv[18];
  int argc = 2 + fuzz_u8(r) % 16;
  argv[0] = "gradcam";
  argv[1] = "explain";
  for (int i = 2; i < argc; i++) {
    uint8_t b = fuzz_u8(r);
    if (b < 0xc0) snprintf(store[i - 2], sizeof store[0], "%s", kOpts[b % NOPTS]);
    else fuzz_str(r, store[i - 2], sizeof store[0]);
    argv[i] = store[i - 2];
  }
  argv[argc] = NULL;
  cli_opts o;
  int rc = cli_parse(CLI_EXPLAIN, argc, argv, 2, &o);
  FUZZ_CHECK(rc == 0 || rc == -1 || rc == 1, "cli_parse returned %d", rc);
  if (rc == 0) {
    FUZZ_CHECK(o.top >= 1 && o.top <= CLI_MAX_CLASSES, "top %d", o.top);
    FUZZ_CHECK(o.class_index >= -1 && o.class_index < CLI_MAX_CLASSES, "class %d", o.class_index);
    FUZZ_CHECK(o.contrast >= -1 && o.contrast < CLI_MAX_CLASSES, "contrast %d", o.contrast);
    FUZZ_CHECK(o.alpha >= 0.0 && o.alpha <= 1.0, "alpha %g", o.alpha);
    FUZZ_CHECK(o.steps >= 1 && o.steps <= GC_MAX_METRIC_STEPS, "steps %d", o.steps);
    FUZZ_CHECK(gc_method_name((gc_method)o.method) && gc_colormap_name((gc_colormap)o.colormap) &&
                   gc_target_name((gc_target)o.target) && gc_blend_name((gc_blend)o.blend),
               "method %d colormap %d target %d blend %d", o.method, o.colormap, o.target, o.blend);
    FUZZ_CHECK((o.size[0] == 0 && o.size[1] == 0) || (o.size[0] >= 1 && o.size[1] >= 1), "size %dx%d", o.size[0],
               o.size[1]);
    for (int k = 0; k < o.nparams; k++) {
      const gc_method_param *q = o.params[k].param;
      FUZZ_CHECK(o.params[k].value >= q->min && o.params[k].value <= q->max, "--%s %g", q->cli, o.params[k].value);
    }
    /* whatever the parser accepted, the library accepts */
    gc_explain_params ep = gc_default_explain_params();
    ep.method = (gc_method)o.method;
    char err[GC_ERRBUF_SIZE] = "";
    gc_status s = cli_apply_params(&o, &ep, err, sizeof err);
    FUZZ_CHECK(s == GC_OK, "cli_apply_params: %s", err);
  }
}

/* a name: mostly from the valid ones (with small edits), else raw bytes */
static void pick_name(fuzz_reader *r, char *out, size_t cap, const char *(*name_of)(int), int count) {
  uint8_t b = fuzz_u8(r);
  if (b >= 0xe0) {
    fuzz_str(r, out, cap);
    return;
  }
  const char *n = name_of(fuzz_u8(r) % (count + 2));
  snprintf(out, cap, "%s", n ? n : "");
  size_t len = strlen(out);
  switch (b % 8) {
    case 5: if (len) out[len - 1] = 0; break;                  /* truncated */
    case 6: snprintf(out + len, cap - len, " "); break;          /* trailing space */
    case 7: if (len) out[0] = (char)(out[0] ^ 0x20); break;     /* case changed */
    default: break;
  }
}
static const char *method_name_i(int i) { return gc_method_name((gc_method)i); }
static const char *cmap_name_i(int i) { return gc_colormap_name((gc_colormap)i); }

/* a value from a small table: mostly valid ones, plus the edges and invalid ones */
static int pick_int(fuzz_reader *r, const int *vals, int n) { return vals[fuzz_u8(r) % n]; }
static float pick_float(fuzz_reader *r) {
  static const float vals[] = {0.0f, 0.4f, 1.0f, 0.15f, -0.5f, 1.5f, 10.0f, 11.0f};
  uint8_t b = fuzz_u8(r);
  if (b == 0xff) return NAN;
  if (b == 0xfe) return INFINITY;
  if (b == 0xfd) {
    uint32_t bits = fuzz_u32(r);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
  }
  return vals[b % 8];
}

/* An explanation through the boundary's calls, as web/core.js makes them: the parameters by
 * name (each of the method's own, from the values given), then gcw_explain_with. */
static int explain(const char *method, int cls, const char *layer, int target, int channels, int samples,
                   float sigma, int seed, int ig, const float **data, int *out) {
  gc_explain_params *p = gcw_params_new(method);
  if (!p) return GC_ERR_INVALID_ARGUMENT;
  gcw_params_target(p, cls, -1, layer, target);
  const gc_method_info *mi = gc_method_info_of(p->method);
  char err[GC_ERRBUF_SIZE];
  int s = GC_OK;
  for (int i = 0; s == GC_OK && i < mi->nparams; i++) {
    const char *n = mi->params[i].name;
    const double v = !strcmp(n, "channels") ? channels : !strcmp(n, "samples") ? samples
                     : !strcmp(n, "sigma") ? sigma : !strcmp(n, "seed") ? seed : ig;
    s = gcw_params_set(p, n, v, err, (int)sizeof err);
    if (s != GC_OK) FUZZ_ERRBUF_OK(err);
  }
  if (s == GC_OK) s = gcw_explain_with(g_model, p, data, out);
  gcw_params_free(p);
  return s;
}

static void check_map(const float *data, const int *out) {
  FUZZ_CHECK(data && out[0] >= 1 && out[1] >= 1 && (out[2] == 1 || out[2] == 3) && out[3] >= 0 &&
                 out[3] < GC_NUM_CLASSES,
             "map %dx%dx%d class %d", out[0], out[1], out[2], out[3]);
  const size_t n = (size_t)out[0] * out[1] * out[2];
  for (size_t i = 0; i < n; i++) FUZZ_CHECK(isfinite(data[i]), "non-finite map value at %zu", i);
}

static void wasm_requests(fuzz_reader *r, int parts) {
  char method[64], layer[64], cmap[32];
  pick_name(r, method, sizeof method, method_name_i, GC_METHOD_COUNT);
  pick_name(r, layer, sizeof layer, gc_layer_name, gc_layer_count());
  pick_name(r, cmap, sizeof cmap, cmap_name_i, GC_COLORMAP_COUNT);

  /* layer shapes for a requested input size */
  static const int sizes[] = {0, 71, 299, 1024, 70, 1025, -1, 300};
  int dims[5];
  int s = gcw_layer_shape(layer, pick_int(r, sizes, 8), pick_int(r, sizes, 8), dims);
  FUZZ_STATUS_OK(s);
  if (s == GC_OK) FUZZ_CHECK(dims[0] == 2 || dims[0] == 4, "ndim %d", dims[0]);
  gc_method mm;
  s = gc_method_from_name(method, &mm);
  FUZZ_CHECK(s == GC_OK || s == GC_ERR_INVALID_ARGUMENT, "method_from_name %d", s);
  if (s == GC_OK) FUZZ_CHECK(!strcmp(gc_method_name(mm), method), "method %s -> %d", method, (int)mm);

  if (!(parts & 2)) return; /* the model's requests run backward passes: slower */

  /* explain: the names above and numbers from the input */
  static const int classes[] = {-1, 0, 281, 999, 1000, -7, 500, 65536};
  static const int counts[] = {0, 1, 2, -1, 257, 513, 1 << 30, 1};
  const int cls = pick_int(r, classes, 8), target = fuzz_u8(r) % 3 == 2 ? 7 : fuzz_u8(r) % 2;
  int channels = pick_int(r, counts, 8), samples = pick_int(r, counts, 8), ig = pick_int(r, counts, 8);
  /* Score-CAM runs a forward pass per channel and takes min(N, K) of them (0: all K): any N > 2
   * is valid and only slower, so it is kept small */
  if (channels > 2 || channels == 0) channels = 2;
  /* <= 0 means the default (8 SmoothGrad samples, 16 IG steps): an input gradient each, which
   * under the sanitizers on a busy machine can take a minute; these two methods get 1 or 2
   * (values over the limit are kept, to be rejected) */
  gc_method em;
  if (gc_method_from_name(method, &em) == GC_OK) {
    if (em == GC_METHOD_SMOOTHGRAD && samples <= 256) samples = samples == 2 ? 2 : 1;
    if (em == GC_METHOD_INTEGRATED_GRADIENTS && ig <= 512) ig = ig == 2 ? 2 : 1;
  }
  /* Ablation-CAM runs the network from the layer once per channel: at block14 (the default)
   * that is the head alone, elsewhere up to 2048 passes through the rest of the network */
  const int ablation = gc_method_from_name(method, &em) == GC_OK && em == GC_METHOD_ABLATIONCAM;
  const float sigma = pick_float(r);
  const float *data = NULL;
  int out[4] = {0, 0, 0, 0};
  int layer_null = fuzz_u8(r) % 8 == 0 || ablation;
  s = explain(method, cls, layer_null ? NULL : layer, target, channels, samples, sigma, (int)fuzz_u16(r) - 5, ig,
              &data, out);
  FUZZ_STATUS_OK(s);
  if (s == GC_OK) check_map(data, out);

  /* a gradient with respect to the named layer */
  const float *g = NULL;
  int gd[5];
  s = gcw_gradient(g_model, cls, layer_null ? NULL : layer, target, fuzz_u8(r) & 1, &g, gd);
  FUZZ_STATUS_OK(s);
  if (s == GC_OK) FUZZ_CHECK(g && (gd[0] == 2 || gd[0] == 4), "gradient ndim %d", gd[0]);

  /* render a map (the explanation's, or one made of input bytes) onto an image */
  int mh = 1 + fuzz_u8(r) % 24, mw = 1 + fuzz_u8(r) % 24, mc = fuzz_u8(r) % 5;
  float *own = NULL;
  const float *map = NULL;
  if (s == GC_OK && out[0] && fuzz_u8(r) % 4 == 0) {
    s = explain(method, cls, layer_null ? NULL : layer, target, channels, samples, sigma, 1, ig, &data, out);
    if (s == GC_OK) mh = out[0], mw = out[1], mc = out[2], map = data;
  }
  if (!map) {
    const size_t n = (size_t)mh * mw * (mc ? mc : 1);
    own = malloc(n * sizeof *own);
    for (size_t i = 0; i < n; i++) {
      uint8_t b = fuzz_u8(r);
      own[i] = b == 0xff ? NAN : b == 0xfe ? INFINITY : b == 0xfd ? -INFINITY : (float)b - 100.0f;
    }
    map = own;
  }
  const int iw = fuzz_u8(r) % 40, ih = fuzz_u8(r) % 40, ch = 3 + fuzz_u8(r) % 3; /* 5: invalid */
  const int stride = iw * (ch == 5 ? 4 : ch) + (int)(fuzz_u8(r) % 8) - 2;
  const size_t img = (size_t)(stride > 0 ? stride : 1) * (ih ? ih : 1) + 64;
  uint8_t *image = malloc(img), *heat = malloc((size_t)(iw ? iw : 1) * (ih ? ih : 1) * 4);
  uint8_t *over = malloc((size_t)(iw ? iw : 1) * (ih ? ih : 1) * 4);
  memset(image, 0x80, img);
  const int blend = fuzz_u8(r) % 3;
  s = gcw_render(map, mh, mw, mc, image, iw, ih, stride, ch, cmap, pick_float(r), blend, fuzz_u8(r) & 1 ? heat : NULL,
                 fuzz_u8(r) & 1 ? over : NULL);
  FUZZ_STATUS_OK(s);

  /* faithfulness metrics of a 1-channel map */
  static const int steps_v[] = {1, 2, 0, -1, 65, 64, 1, 2};
  int steps = parts & 4 ? pick_int(r, steps_v, 8) : 0; /* 0: rejected at once */
  if (steps == 64) steps = 2; /* valid; a few batched passes */
  float res[2 * GC_MAX_METRIC_STEPS + 6];
  s = gcw_metrics(g_model, map, mh, mw, cls, steps, fuzz_u8(r) % 3, res);
  FUZZ_STATUS_OK(s);
  if (s == GC_OK)
    for (int i = 0; i < 2 * steps + 5; i++) FUZZ_CHECK(isfinite(res[i]), "metric %d is %g", i, res[i]);
  free(own);
  free(image);
  free(heat);
  free(over);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_reader r = {data, size};
  const uint8_t parts = fuzz_u8(&r); /* bit 0: the CLI; bit 1: explain, gradient; bit 2: metrics */
  if (parts & 1) cli(&r);
  wasm_requests(&r, parts);
  return 0;
}
