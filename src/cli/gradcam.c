/* gradcam.c - the native command-line tool.
 *
 *   gradcam predict --weights FILE --image IMG [--top K] [--threads N] [--json]
 *   gradcam predict --weights FILE --input-tensor X.f32 --input-size HxW [...]
 *                   [--dump-dir DIR --dump-layers a,b,c] [--save-input X.f32]
 *   gradcam explain --weights FILE --image IMG [--class C | --top K] [--layer NAME] [--method NAME]
 *                   [--colormap NAME] [--alpha A] [--blend additive|alpha] [--out-heatmap PNG]
 *                   [--out-overlay PNG] [--metrics [--steps K] [--baseline blur|mean]] [--json]
 *   gradcam layers  [--weights FILE] [--size HxW]
 *   gradcam convert --in MODEL --out FILE.gcw [--labels FILE] [--dtype f16|f32]
 *   gradcam bench   --weights FILE [--threads N] [--runs N] [--warmup N] [--size S]
 *
 * FILE (MODEL) is any model file the import API reads, recognised by content (a .gcw, Keras 1/2
 * .h5, Keras 3 .weights.h5 or .keras, a TF.js model.json with its shards beside it); anything but
 * a .gcw is converted in memory first. --labels FILE gives the class names (one per line, a JSON
 * list, {index: name}, or Keras' imagenet_class_index.json).
 * --arithmetic portable (the default on x86-64) gives results bit-identical to the
 * WebAssembly build's; --arithmetic fma lets XNNPACK use fused multiply-add kernels.
 * Errors go to stderr with a non-zero exit status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gradcam.h"
#include "load.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb/stb_image_write.h>

#define CLI_MAX_CLASSES 65536 /* a Dense head's most units (spec.h's GC_SPEC_MAX_UNITS) */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int usage(void) {
  fputs(
      "usage:\n"
      "  gradcam predict --weights FILE --image IMG [--top K] [--threads N] [--json] [--input-size HxW]\n"
      "  gradcam predict --weights FILE --input-tensor X.f32 --input-size HxW [--top K] [--json]\n"
      "                  [--dump-dir DIR --dump-layers NAME,NAME,...] [--save-input X.f32]\n"
      "  gradcam explain --weights FILE --image IMG [--class C | --top K] [--layer NAME] [--method NAME]\n"
      "                  [--colormap jet|viridis|inferno|turbo|gray] [--alpha A] [--blend additive|alpha]\n"
      "                  [--out-heatmap PNG] [--out-overlay PNG] [--metrics [--steps K] [--baseline blur|mean]]\n"
      "                  [--samples N] [--sigma S] [--seed N] [--ig-steps N] [--channels N] [--target logit|prob]\n"
      "                  [--input-size HxW] [--save-grad F.f32] [--threads N] [--json]\n"
      "  gradcam layers  [--weights FILE] [--size HxW]\n"
      "  gradcam convert --in MODEL --out FILE.gcw [--labels FILE] [--dtype f16|f32]\n"
      "  gradcam bench   --weights FILE [--threads N] [--runs N] [--warmup N] [--size S] [--json]\n"
      "                  [--method NAME [--layer NAME] [--samples N] [--channels N] [--ig-steps N]]\n"
      "FILE (MODEL) is a .gcw, a Keras .h5 (Keras 1/2 weights or model.save), .weights.h5 or .keras file,\n"
      "or a TF.js model.json (its shards beside it), recognised by content; predict, explain, bench and\n"
      "convert take --labels FILE with the class names (one per line, a JSON list or object).\n"
      "predict, explain and bench also take --arithmetic portable|fma: portable (the default on x86-64)\n"
      "computes exactly what the WebAssembly build computes; fma lets XNNPACK use the CPU's fused\n"
      "multiply-add kernels (results then differ from the browser's in the last bits).\n",
      stderr);
  return 2;
}

/* The arithmetic the models of this run use ("portable" / "fma"), for the outputs. */
static const char *arith_name(void) { return gc_arithmetic_name(gc_get_arithmetic()); }

static int fail(const char *what, gc_status s, const char *detail) {
  fprintf(stderr, "gradcam: %s: %s%s%s\n", what, gc_status_to_string(s), detail && *detail ? ": " : "",
          detail ? detail : "");
  return 1;
}

static int write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t n = fwrite(data, 1, size, f);
  int rc = fclose(f);
  return n == size && rc == 0 ? 0 : -1;
}

typedef struct opts {
  const char *weights, *labels, *image, *tensor, *dump_dir, *dump_layers, *save_input, *in, *out;
  const char *layer, *method, *colormap, *out_heatmap, *out_overlay, *blend, *baseline, *target, *save_grad;
  int top, threads, json, runs, warmup, h, w, class_index, metrics, steps, samples, seed, ig_steps, channels;
  int top_given, arith_given;
  gc_arithmetic arith;
  float alpha, sigma;
  gc_dtype dtype;
} opts;

static int parse_size(const char *s, int *h, int *w) {
  char x;
  if (sscanf(s, "%dx%d%c", h, w, &x) == 2) return 0;
  if (sscanf(s, "%d%c", h, &x) == 1) {
    *w = *h;
    return 0;
  }
  return -1;
}

static int parse_int(const char *s, int lo, int hi, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < lo || v > hi) return -1;
  *out = (int)v;
  return 0;
}

static int parse(int argc, char **argv, opts *o) {
  memset(o, 0, sizeof *o);
  o->top = 5;
  o->threads = 1;
  o->runs = 7;
  o->warmup = 2;
  o->dtype = GC_DTYPE_F16;
  o->class_index = -1;
  o->alpha = 0.4f;
  o->sigma = 0.15f;
  o->steps = 16;
  o->samples = 8;
  o->seed = 1;
  o->ig_steps = 16;
  o->channels = 32;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VAL()                                                    \
  do {                                                           \
    if (!v) {                                                    \
      fprintf(stderr, "gradcam: %s needs a value\n", a);         \
      return -1;                                                 \
    }                                                            \
    i++;                                                         \
  } while (0)
#define INT(lo, hi, dst)                                                       \
  do {                                                                         \
    VAL();                                                                     \
    if (parse_int(v, lo, hi, dst)) {                                           \
      fprintf(stderr, "gradcam: %s wants an integer in %d..%d\n", a, lo, hi);  \
      return -1;                                                               \
    }                                                                          \
  } while (0)
    if (!strcmp(a, "--weights")) { VAL(); o->weights = v; }
    else if (!strcmp(a, "--labels")) { VAL(); o->labels = v; }
    else if (!strcmp(a, "--image")) { VAL(); o->image = v; }
    else if (!strcmp(a, "--input-tensor")) { VAL(); o->tensor = v; }
    else if (!strcmp(a, "--dump-dir")) { VAL(); o->dump_dir = v; }
    else if (!strcmp(a, "--dump-layers")) { VAL(); o->dump_layers = v; }
    else if (!strcmp(a, "--save-input")) { VAL(); o->save_input = v; }
    else if (!strcmp(a, "--in")) { VAL(); o->in = v; }
    else if (!strcmp(a, "--out")) { VAL(); o->out = v; }
    else if (!strcmp(a, "--top")) { INT(1, CLI_MAX_CLASSES, &o->top); o->top_given = 1; }
    else if (!strcmp(a, "--class")) INT(0, CLI_MAX_CLASSES - 1, &o->class_index);
    else if (!strcmp(a, "--layer")) { VAL(); o->layer = v; }
    else if (!strcmp(a, "--method")) { VAL(); o->method = v; }
    else if (!strcmp(a, "--colormap")) { VAL(); o->colormap = v; }
    else if (!strcmp(a, "--blend")) { VAL(); o->blend = v; }
    else if (!strcmp(a, "--baseline")) { VAL(); o->baseline = v; }
    else if (!strcmp(a, "--target")) { VAL(); o->target = v; }
    else if (!strcmp(a, "--out-heatmap")) { VAL(); o->out_heatmap = v; }
    else if (!strcmp(a, "--save-grad")) { VAL(); o->save_grad = v; }
    else if (!strcmp(a, "--out-overlay")) { VAL(); o->out_overlay = v; }
    else if (!strcmp(a, "--metrics")) o->metrics = 1;
    else if (!strcmp(a, "--steps")) INT(1, GC_MAX_METRIC_STEPS, &o->steps);
    else if (!strcmp(a, "--samples")) INT(1, 256, &o->samples);
    else if (!strcmp(a, "--seed")) INT(0, 2147483647, &o->seed);
    else if (!strcmp(a, "--ig-steps")) INT(1, 512, &o->ig_steps);
    else if (!strcmp(a, "--channels")) INT(1, 2048, &o->channels);
    else if (!strcmp(a, "--alpha") || !strcmp(a, "--sigma")) {
      VAL();
      char *end;
      float f = strtof(v, &end);
      if (*end || end == v || !(f >= 0.0f && f <= (a[2] == 'a' ? 1.0f : 10.0f))) {
        fprintf(stderr, "gradcam: %s wants a number in 0..%s\n", a, a[2] == 'a' ? "1" : "10");
        return -1;
      }
      if (a[2] == 'a') o->alpha = f;
      else o->sigma = f;
    }
    else if (!strcmp(a, "--threads")) INT(0, 256, &o->threads);
    else if (!strcmp(a, "--runs")) INT(1, 1000, &o->runs);
    else if (!strcmp(a, "--warmup")) INT(0, 1000, &o->warmup);
    else if (!strcmp(a, "--json")) o->json = 1;
    else if (!strcmp(a, "--input-size") || !strcmp(a, "--size")) {
      VAL();
      if (parse_size(v, &o->h, &o->w)) {
        fprintf(stderr, "gradcam: %s wants HxW, e.g. 299x299\n", a);
        return -1;
      }
    } else if (!strcmp(a, "--arithmetic")) {
      VAL();
      if (!strcmp(v, "portable")) o->arith = GC_ARITH_PORTABLE;
      else if (!strcmp(v, "fma")) o->arith = GC_ARITH_FMA;
      else {
        fprintf(stderr, "gradcam: --arithmetic is portable or fma\n");
        return -1;
      }
      o->arith_given = 1;
    } else if (!strcmp(a, "--dtype")) {
      VAL();
      if (!strcmp(v, "f16") || !strcmp(v, "float16")) o->dtype = GC_DTYPE_F16;
      else if (!strcmp(v, "f32") || !strcmp(v, "float32")) o->dtype = GC_DTYPE_F32;
      else {
        fprintf(stderr, "gradcam: --dtype is f16 or f32\n");
        return -1;
      }
    } else {
      fprintf(stderr, "gradcam: unknown option '%s'\n", a);
      return -1;
    }
#undef VAL
#undef INT
  }
  return 0;
}

/* The classes a command works with: --class and --top checked against the model's count (a
 * --top left at its default is cut to it). Prints the error and returns -1 when they do not fit. */
static int check_classes(const gc_model *m, const opts *o, int *top) {
  const int n = gc_model_num_classes(m);
  *top = o->top < n ? o->top : n;
  if (o->class_index >= n && n > 0) {
    fprintf(stderr, "gradcam: --class %d: the model has %d classes (0..%d)\n", o->class_index, n, n - 1);
    return -1;
  }
  if (o->top_given && o->top > n && n > 0) {
    fprintf(stderr, "gradcam: --top %d: the model has %d classes\n", o->top, n);
    return -1;
  }
  if (n == 0 && (o->class_index >= 0 || o->top_given)) {
    fprintf(stderr, "gradcam: the model has no classifier (a notop file): --class and --top do not apply\n");
    return -1;
  }
  return 0;
}

/* A class's name: the model's, or "class <i>" for a head without names. */
static const char *class_label(const gc_model *m, int i, char *buf, size_t len) {
  const char *name = gc_model_class_name(m, i);
  if (name) return name;
  snprintf(buf, len, "class %d", i);
  return buf;
}

static void json_string(const char *s);

/* "model": what was loaded (source, head, input size, classes), for the JSON outputs. */
static void json_model(const gc_model *m) {
  char head[512] = "";
  gc_model_head(m, head, sizeof head);
  int h = 0, w = 0;
  gc_model_input_size(m, &h, &w);
  printf("\"model\":{\"source\":");
  json_string(gc_model_source(m) ? gc_model_source(m) : "");
  printf(",\"head\":");
  json_string(head);
  printf(",\"inferred\":%s,\"inputSize\":[%d,%d],\"classes\":%d}", gc_model_head_inferred(m) ? "true" : "false",
         h, w, gc_model_num_classes(m));
}

static void json_string(const char *s) {
  if (!s) {
    printf("null");
    return;
  }
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static int dump_layers(const gc_model *m, const char *dir, const char *list) {
  char *names = strdup(list);
  if (!names) return 1;
  int rc = 0;
  for (char *save = NULL, *name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
    const float *data;
    gc_shape shape;
    gc_status s = gc_model_activation(m, name, &data, &shape);
    if (s != GC_OK) {
      rc = fail(name, s, gc_model_last_error(m));
      break;
    }
    size_t n = 1;
    for (int d = 0; d < shape.ndim; d++) n *= (size_t)shape.dims[d];
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.f32", dir, name);
    if (write_file(path, data, n * sizeof(float))) {
      fprintf(stderr, "gradcam: cannot write %s: %s\n", path, strerror(errno));
      rc = 1;
      break;
    }
  }
  free(names);
  return rc;
}

static int cmd_predict(const opts *o) {
  if (!o->weights || (!o->image == !o->tensor)) {
    fprintf(stderr, "gradcam predict: needs --weights and one of --image or --input-tensor\n");
    return 2;
  }
  if (o->dump_layers && !o->dump_dir) {
    fprintf(stderr, "gradcam predict: --dump-layers needs --dump-dir\n");
    return 2;
  }
  char err[GC_ERRBUF_SIZE] = "";
  gc_model *m = NULL;
  gc_status s = cli_load_model(o->weights, o->labels, o->threads, &m, err, sizeof err);
  if (s != GC_OK) return fail(o->weights, s, err);

  int rc = 0;
  double t_decode = 0, t_forward = 0;
  size_t size = 0;
  unsigned char *bytes = cli_read_file(o->image ? o->image : o->tensor, &size);
  if (!bytes) {
    fprintf(stderr, "gradcam: cannot read %s: %s\n", o->image ? o->image : o->tensor, strerror(errno));
    gc_model_free(m);
    return 1;
  }
  if (o->image) {
    double t0 = now_ms();
    uint8_t *rgba = NULL;
    int w = 0, h = 0;
    s = gc_decode_image(bytes, size, &rgba, &w, &h, err, sizeof err);
    double t1 = now_ms();
    if (s == GC_OK && o->h > 0) {
      /* resize to the size asked for instead of 299x299 (tests use small inputs) */
      float *x = malloc((size_t)o->h * o->w * 3 * sizeof *x);
      s = x ? gc_preprocess_image(rgba, w, h, w * 4, GC_PIXEL_RGBA8, o->w, o->h, x) : GC_ERR_OUT_OF_MEMORY;
      if (s == GC_OK) s = gc_model_forward_tensor(m, x, o->h, o->w);
      if (s != GC_OK) snprintf(err, sizeof err, "%s", gc_model_last_error(m));
      free(x);
    } else if (s == GC_OK) {
      s = gc_model_forward_image(m, rgba, w, h, w * 4, GC_PIXEL_RGBA8);
      if (s != GC_OK) snprintf(err, sizeof err, "%s", gc_model_last_error(m));
    }
    t_decode = t1 - t0;
    t_forward = now_ms() - t1;
    gc_free(rgba);
    if (s != GC_OK) rc = fail(o->image, s, err);
  } else {
    if (o->h <= 0 || (size_t)o->h * o->w * 3 * sizeof(float) != size) {
      fprintf(stderr, "gradcam: %s has %zu bytes; --input-size %dx%d needs %zu\n", o->tensor, size, o->h, o->w,
              (size_t)o->h * o->w * 3 * sizeof(float));
      rc = 1;
    } else {
      double t0 = now_ms();
      s = gc_model_forward_tensor(m, (const float *)(const void *)bytes, o->h, o->w);
      t_forward = now_ms() - t0;
      if (s != GC_OK) rc = fail(o->tensor, s, gc_model_last_error(m));
    }
  }
  free(bytes);
  if (rc == 0 && o->save_input) {
    const float *x;
    gc_shape sh;
    gc_model_input(m, &x, &sh);
    if (write_file(o->save_input, x, (size_t)sh.dims[1] * sh.dims[2] * 3 * sizeof(float))) {
      fprintf(stderr, "gradcam: cannot write %s\n", o->save_input);
      rc = 1;
    }
  }
  if (rc == 0 && o->dump_layers) rc = dump_layers(m, o->dump_dir, o->dump_layers);
  const int nclasses = gc_model_num_classes(m);
  int ntop = 0;
  gc_class_score *top = NULL;
  if (rc == 0 && nclasses == 0 && !o->dump_layers)
    rc = fail(o->weights, GC_ERR_NO_HEAD, "predict needs a classifier; this model is the Xception base alone (explain "
                                           "--method eigencam and --dump-layers work without one)");
  if (rc == 0 && nclasses > 0) {
    if (check_classes(m, o, &ntop)) rc = 2;
    else if (!(top = malloc((size_t)ntop * sizeof *top))) rc = fail("predict", GC_ERR_OUT_OF_MEMORY, "");
  }
  if (rc == 0 && top && (s = gc_model_top_k(m, ntop, top)) != GC_OK) rc = fail("predict", s, gc_model_last_error(m));
  char label[32];
  if (rc == 0 && top) {
    const float *logits = gc_model_logits(m);
    if (o->json) {
      printf("{\"top\":[");
      for (int i = 0; i < ntop; i++) {
        printf("%s{\"index\":%d,\"name\":", i ? "," : "", top[i].index);
        json_string(class_label(m, top[i].index, label, sizeof label));
        printf(",\"prob\":%.9g,\"logit\":%.9g}", top[i].prob, top[i].logit);
      }
      printf("],\"classes\":%d,\"logits\":[", nclasses);
      for (int i = 0; i < nclasses; i++) printf("%s%.9g", i ? "," : "", logits[i]);
      printf("],");
      json_model(m);
      printf(",\"arithmetic\":\"%s\",\"ms\":{\"decode\":%.3f,\"forward\":%.3f}}\n", arith_name(), t_decode,
             t_forward);
    } else {
      for (int i = 0; i < ntop; i++)
        printf("%2d. %-28s %6.2f%%  (class %d, logit %.4f)\n", i + 1, class_label(m, top[i].index, label, sizeof label),
               100.0 * top[i].prob, top[i].index, top[i].logit);
      printf("decode %.1f ms, forward %.1f ms, %d thread(s), %s arithmetic\n", t_decode, t_forward,
             gc_model_threads(m), arith_name());
    }
  }
  free(top);
  gc_model_free(m);
  return rc;
}

/* gradcam layers [--weights FILE] [--size HxW]: every addressable layer and its shape, of the
 * model in FILE (its head's layers too, at its input size) or of the ImageNet model. */
static int cmd_layers(const opts *o) {
  gc_model *m = NULL;
  char err[GC_ERRBUF_SIZE] = "";
  if (o->weights) {
    gc_status s = cli_load_model(o->weights, o->labels, 1, &m, err, sizeof err);
    if (s != GC_OK) return fail(o->weights, s, err);
  }
  int h = o->h ? o->h : GC_INPUT_SIZE, w = o->w ? o->w : GC_INPUT_SIZE;
  if (m && !o->h) gc_model_input_size(m, &h, &w);
  const int n = m ? gc_model_layer_count(m) : gc_layer_count();
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++) {
    const char *name = m ? gc_model_layer_name(m, i) : gc_layer_name(i);
    gc_shape s;
    gc_status st = m ? gc_model_layer_shape(m, name, h, w, &s) : gc_layer_shape(name, h, w, &s);
    if (st != GC_OK) {
      rc = fail("layers", st, name);
      break;
    }
    printf("%-23s ", name);
    for (int d = 1; d < s.ndim; d++) printf("%s%d", d > 1 ? "x" : "", s.dims[d]);
    printf("\n");
  }
  if (m && rc == 0) {
    char head[512] = "";
    gc_model_head(m, head, sizeof head);
    printf("# %s; head: %s%s; %d classes\n", gc_model_source(m) ? gc_model_source(m) : "", head,
           gc_model_head_inferred(m) ? " (inferred from the weights)" : "", gc_model_num_classes(m));
  }
  gc_model_free(m);
  return rc;
}

static int cmd_convert(const opts *o) {
  if (!o->in || !o->out) {
    fprintf(stderr, "gradcam convert: needs --in MODEL and --out FILE.gcw\n");
    return 2;
  }
  char err[GC_ERRBUF_SIZE] = "";
  void *bytes = NULL;
  size_t size = 0;
  char *desc = NULL;
  gc_status s = cli_import(o->in, o->labels, o->dtype, &bytes, &size, &desc, err, sizeof err);
  if (s != GC_OK) return fail(o->in, s, err);
  /* verify by loading before writing anything */
  gc_model *m = NULL;
  s = gc_model_load_memory(bytes, size, NULL, &m, err, sizeof err);
  if (s != GC_OK) {
    gc_free(bytes);
    free(desc);
    return fail("converted weights", s, err);
  }
  size_t params = gc_model_param_count(m);
  gc_model_free(m);
  int rc = write_file(o->out, bytes, size);
  gc_free(bytes);
  if (rc) {
    fprintf(stderr, "gradcam: cannot write %s: %s\n", o->out, strerror(errno));
    free(desc);
    return 1;
  }
  printf("wrote %s: %zu parameters, %s, %.1f MB\n", o->out, params, o->dtype == GC_DTYPE_F16 ? "float16" : "float32",
         size / 1e6);
  if (desc) printf("%s\n", desc); /* what was read: format, input size, head, classes */
  free(desc);
  return 0;
}

/* Decode an image file and run the forward pass on it (299x299, or --input-size). */
static int forward_file(gc_model *m, const opts *o, uint8_t **rgba, int *w, int *h, double *t_decode,
                        double *t_forward) {
  size_t size = 0;
  char err[GC_ERRBUF_SIZE] = "";
  unsigned char *bytes = cli_read_file(o->image, &size);
  if (!bytes) {
    fprintf(stderr, "gradcam: cannot read %s: %s\n", o->image, strerror(errno));
    return 1;
  }
  double t0 = now_ms();
  gc_status s = gc_decode_image(bytes, size, rgba, w, h, err, sizeof err);
  free(bytes);
  double t1 = now_ms();
  *t_decode = t1 - t0;
  if (s != GC_OK) return fail(o->image, s, err);
  if (o->h > 0) {
    float *x = malloc((size_t)o->h * o->w * 3 * sizeof *x);
    s = x ? gc_preprocess_image(*rgba, *w, *h, *w * 4, GC_PIXEL_RGBA8, o->w, o->h, x) : GC_ERR_OUT_OF_MEMORY;
    if (s == GC_OK) s = gc_model_forward_tensor(m, x, o->h, o->w);
    free(x);
  } else {
    s = gc_model_forward_image(m, *rgba, *w, *h, *w * 4, GC_PIXEL_RGBA8);
  }
  *t_forward = now_ms() - t1;
  return s == GC_OK ? 0 : fail(o->image, s, gc_model_last_error(m));
}

static void class_path(char *out, size_t len, const char *path, int cls) {
  if (cls < 0) {
    snprintf(out, len, "%s", path);
    return;
  }
  const char *dot = strrchr(path, '.');
  const int stem = dot && !strchr(dot, '/') ? (int)(dot - path) : (int)strlen(path);
  snprintf(out, len, "%.*s-%d%s", stem, path, cls, path + stem);
}

static int write_png(const char *path, const uint8_t *rgba, int w, int h) {
  if (!stbi_write_png(path, w, h, 4, rgba, w * 4)) {
    fprintf(stderr, "gradcam: cannot write %s\n", path);
    return 1;
  }
  return 0;
}

static int cmd_explain(const opts *o) {
  if (!o->weights || !o->image) {
    fprintf(stderr, "gradcam explain: needs --weights and --image\n");
    return 2;
  }
  gc_explain_params ep = gc_default_explain_params();
  gc_colormap cmap = GC_COLORMAP_JET;
  gc_blend blend = GC_BLEND_ADDITIVE;
  gc_baseline baseline = GC_BASELINE_BLUR;
  if (o->method && gc_method_from_name(o->method, &ep.method) != GC_OK) {
    fprintf(stderr, "gradcam: unknown method '%s'; one of:", o->method);
    for (int i = 0; i < GC_METHOD_COUNT; i++) fprintf(stderr, " %s", gc_method_name((gc_method)i));
    fprintf(stderr, "\n");
    return 2;
  }
  if (o->colormap && gc_colormap_from_name(o->colormap, &cmap) != GC_OK) {
    fprintf(stderr, "gradcam: unknown colormap '%s' (jet, viridis, inferno, turbo, gray)\n", o->colormap);
    return 2;
  }
  if (o->blend) {
    if (!strcmp(o->blend, "alpha")) blend = GC_BLEND_ALPHA;
    else if (strcmp(o->blend, "additive")) {
      fprintf(stderr, "gradcam: --blend is additive or alpha\n");
      return 2;
    }
  }
  if (o->baseline) {
    if (!strcmp(o->baseline, "mean")) baseline = GC_BASELINE_MEAN;
    else if (strcmp(o->baseline, "blur")) {
      fprintf(stderr, "gradcam: --baseline is blur or mean\n");
      return 2;
    }
  }
  if (o->target) {
    if (!strcmp(o->target, "prob")) ep.target = GC_TARGET_PROB;
    else if (strcmp(o->target, "logit")) {
      fprintf(stderr, "gradcam: --target is logit or prob\n");
      return 2;
    }
  }
  if (o->class_index >= 0 && o->top_given) {
    fprintf(stderr, "gradcam explain: give --class or --top, not both\n");
    return 2;
  }
  if (o->layer) ep.layer = o->layer;
  ep.scorecam_channels = o->channels;
  ep.smoothgrad_samples = o->samples;
  ep.smoothgrad_sigma = o->sigma;
  ep.seed = (uint32_t)o->seed;
  ep.ig_steps = o->ig_steps;

  char err[GC_ERRBUF_SIZE] = "";
  gc_model *m = NULL;
  gc_status s = cli_load_model(o->weights, o->labels, o->threads, &m, err, sizeof err);
  if (s != GC_OK) return fail(o->weights, s, err);
  uint8_t *rgba = NULL;
  int w = 0, h = 0, rc;
  double t_decode = 0, t_forward = 0, t_explain = 0, t_render = 0, t_metrics = 0;
  rc = forward_file(m, o, &rgba, &w, &h, &t_decode, &t_forward);
  /* the classes to explain: --class C, else the top K (default 1); none for a model without a
   * classifier (eigencam works; the other methods say GC_ERR_NO_HEAD) */
  int *classes = NULL, nclass = 1, ntop = 0;
  const int nclasses = gc_model_num_classes(m);
  if (rc == 0 && check_classes(m, o, &ntop)) rc = 2;
  if (rc == 0 && !(classes = malloc((size_t)(o->top_given ? o->top : 1) * sizeof *classes)))
    rc = fail("explain", GC_ERR_OUT_OF_MEMORY, "");
  if (rc == 0) {
    classes[0] = -1;
    if (o->class_index >= 0) {
      classes[0] = o->class_index;
    } else if (nclasses > 0) {
      gc_class_score *top = malloc((size_t)(o->top_given ? o->top : 1) * sizeof *top);
      nclass = o->top_given ? o->top : 1;
      s = top ? gc_model_top_k(m, nclass, top) : GC_ERR_OUT_OF_MEMORY;
      if (s != GC_OK) rc = fail("explain", s, top ? gc_model_last_error(m) : "");
      for (int i = 0; rc == 0 && i < nclass; i++) classes[i] = top[i].index;
      free(top);
    }
  }
  const float *probs = gc_model_probs(m);
  char label[32];
  if (o->json && rc == 0) printf(nclass > 1 ? "[" : "");
  for (int k = 0; rc == 0 && k < nclass; k++) {
    ep.class_index = classes[k];
    gc_map map;
    double t0 = now_ms();
    int cls_out = -1;
    s = gc_model_explain(m, &ep, &map, &cls_out);
    t_explain = now_ms() - t0;
    if (s != GC_OK) {
      rc = fail("explain", s, gc_model_last_error(m));
      break;
    }
    const size_t n = (size_t)map.height * map.width * map.channels;
    float *cam = malloc(n * sizeof *cam);
    uint8_t *heat = malloc((size_t)w * h * 4), *over = malloc((size_t)w * h * 4);
    if (!cam || !heat || !over) {
      rc = fail("explain", GC_ERR_OUT_OF_MEMORY, "");
      free(cam), free(heat), free(over);
      break;
    }
    memcpy(cam, map.data, n * sizeof *cam);
    gc_map mine = {map.height, map.width, map.channels, cam};
    t0 = now_ms();
    s = gc_render(&mine, rgba, w, h, w * 4, GC_PIXEL_RGBA8, cmap, o->alpha, blend, heat, over);
    t_render = now_ms() - t0;
    if (s != GC_OK) rc = fail("render", s, "");
    /* with several classes, out.png becomes out-<class>.png */
    char hp[4096], op[4096];
    if (o->out_heatmap) class_path(hp, sizeof hp, o->out_heatmap, nclass > 1 ? classes[k] : -1);
    if (o->out_overlay) class_path(op, sizeof op, o->out_overlay, nclass > 1 ? classes[k] : -1);
    if (rc == 0 && o->out_heatmap) rc = write_png(hp, heat, w, h);
    if (rc == 0 && o->out_overlay) rc = write_png(op, over, w, h);
    if (rc == 0 && o->save_grad) { /* the raw gradient the method used (tests compare it) */
      /* Guided Grad-CAM's gradient is the input one (its layer factor needs no separate dump) */
      const int in_space = !gc_method_uses_layer(ep.method) || ep.method == GC_METHOD_GUIDED_GRADCAM;
      const float *g;
      gc_shape gs;
      s = gc_model_gradient(m, classes[k], in_space ? "input" : ep.layer, ep.target,
                            ep.method == GC_METHOD_GUIDED_BACKPROP, &g, &gs);
      if (s != GC_OK) rc = fail("gradient", s, gc_model_last_error(m));
      else if (write_file(o->save_grad, g, (size_t)gs.dims[1] * gs.dims[2] * gs.dims[3] * sizeof *g)) {
        fprintf(stderr, "gradcam: cannot write %s\n", o->save_grad);
        rc = 1;
      }
    }
    gc_metrics mt;
    int have_metrics = 0;
    if (rc == 0 && o->metrics) {
      if (mine.channels != 1) {
        fprintf(stderr, "gradcam: --metrics needs a single-channel map (not %s)\n", gc_method_name(ep.method));
        rc = 2;
      } else {
        t0 = now_ms();
        s = gc_model_metrics(m, &mine, classes[k], o->steps, baseline, &mt);
        t_metrics = now_ms() - t0;
        if (s != GC_OK) rc = fail("metrics", s, gc_model_last_error(m));
        have_metrics = s == GC_OK;
      }
    }
    const int c = cls_out >= 0 ? cls_out : classes[k];
    if (rc == 0 && o->json) {
      printf("%s{\"class\":%d,\"name\":", k ? "," : "", c);
      json_string(c >= 0 ? class_label(m, c, label, sizeof label) : NULL);
      if (probs && c >= 0) printf(",\"prob\":%.9g,\"layer\":", probs[c]);
      else printf(",\"prob\":null,\"layer\":");
      json_string(gc_method_uses_layer(ep.method) ? ep.layer : "input");
      printf(",\"method\":");
      json_string(gc_method_name(ep.method));
      printf(",\"arithmetic\":\"%s\"", arith_name());
      printf(",\"h\":%d,\"w\":%d,\"channels\":%d,\"cam\":[", map.height, map.width, map.channels);
      for (size_t i = 0; i < n; i++) printf("%s%.9g", i ? "," : "", cam[i]);
      printf("]");
      if (have_metrics) {
        printf(",\"metrics\":{\"steps\":%d,\"deletion_auc\":%.6g,\"insertion_auc\":%.6g,\"average_drop\":%.6g,"
               "\"increase_in_confidence\":%d,\"deletion\":[",
               mt.steps, mt.deletion_auc, mt.insertion_auc, mt.average_drop, mt.increase_in_confidence);
        for (int j = 0; j <= mt.steps; j++) printf("%s%.6g", j ? "," : "", mt.deletion[j]);
        printf("],\"insertion\":[");
        for (int j = 0; j <= mt.steps; j++) printf("%s%.6g", j ? "," : "", mt.insertion[j]);
        printf("]}");
      }
      printf(",\"ms\":{\"decode\":%.3f,\"forward\":%.3f,\"explain\":%.3f,\"render\":%.3f%s", t_decode, t_forward,
             t_explain, t_render, have_metrics ? "" : "}}");
      if (have_metrics) printf(",\"metrics\":%.3f}}", t_metrics);
    } else if (rc == 0) {
      printf("%s (class %d, p=%.4f): %s at %s, map %dx%d%s\n", c >= 0 ? class_label(m, c, label, sizeof label) : "-",
             c, probs && c >= 0 ? probs[c] : 0.0, gc_method_name(ep.method),
             gc_method_uses_layer(ep.method) ? ep.layer : "input",
             map.height, map.width, map.channels == 3 ? "x3" : "");
      if (have_metrics)
        printf("  deletion AUC %.4f, insertion AUC %.4f, average drop %.1f%%, increase in confidence %s\n",
               mt.deletion_auc, mt.insertion_auc, 100.0 * mt.average_drop, mt.increase_in_confidence ? "yes" : "no");
      printf("  forward %.1f ms, explain %.1f ms, render %.1f ms\n", t_forward, t_explain, t_render);
    }
    free(cam), free(heat), free(over);
  }
  if (o->json && rc == 0) printf(nclass > 1 ? "]\n" : "\n");
  free(classes);
  gc_free(rgba);
  gc_model_free(m);
  return rc;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *t, int n) {
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* gradcam bench: forward pass time; with --method, also the time of that explanation after a
 * forward pass (median of --runs after --warmup), and the ratio (forward + explain) / forward. */
static int cmd_bench(const opts *o) {
  if (!o->weights) {
    fprintf(stderr, "gradcam bench: needs --weights\n");
    return 2;
  }
  gc_explain_params ep = gc_default_explain_params();
  if (o->method && gc_method_from_name(o->method, &ep.method) != GC_OK) {
    fprintf(stderr, "gradcam: unknown method '%s'\n", o->method);
    return 2;
  }
  if (o->layer) ep.layer = o->layer;
  ep.scorecam_channels = o->channels;
  ep.smoothgrad_samples = o->samples;
  ep.ig_steps = o->ig_steps;
    char err[GC_ERRBUF_SIZE] = "";
  gc_model *m = NULL;
  gc_status s = cli_load_model(o->weights, o->labels, o->threads, &m, err, sizeof err);
  if (s != GC_OK) return fail(o->weights, s, err);
  int h = o->h, w = o->w; /* the model's input size unless --size */
  if (!h) gc_model_input_size(m, &h, &w);
  float *x = malloc((size_t)h * w * 3 * sizeof *x);
  double *t = malloc((size_t)o->runs * sizeof *t), *te = malloc((size_t)o->runs * sizeof *te);
  int rc = 0;
  if (!x || !t || !te) {
    rc = fail("bench", GC_ERR_OUT_OF_MEMORY, "");
  } else {
    uint32_t r = 12345;
    for (size_t i = 0; i < (size_t)h * w * 3; i++) {
      r = r * 1664525u + 1013904223u;
      x[i] = (float)(r >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
    }
    for (int i = 0; i < o->warmup + o->runs && rc == 0; i++) {
      double t0 = now_ms();
      s = gc_model_forward_tensor(m, x, h, w);
      double t1 = now_ms();
      if (s != GC_OK) rc = fail("forward", s, gc_model_last_error(m));
      if (rc == 0 && o->method) {
        gc_map map;
        s = gc_model_explain(m, &ep, &map, NULL);
        if (s != GC_OK) rc = fail("explain", s, gc_model_last_error(m));
      }
      if (i >= o->warmup) {
        t[i - o->warmup] = t1 - t0;
        te[i - o->warmup] = now_ms() - t1;
      }
    }
  }
  if (rc == 0) {
    double tmin = 1e300, tmax = 0;
    for (int i = 0; i < o->runs; i++) tmin = t[i] < tmin ? t[i] : tmin, tmax = t[i] > tmax ? t[i] : tmax;
    const double med = median(t, o->runs), emed = o->method ? median(te, o->runs) : 0;
    const double gflop = 16.7 * ((double)h * w) / (299.0 * 299.0);
    if (o->json) {
      printf("{\"threads\":%d,\"arithmetic\":\"%s\",\"size\":[%d,%d],\"runs\":%d,\"median_ms\":%.3f,"
             "\"min_ms\":%.3f,\"max_ms\":%.3f,\"gflops\":%.2f",
             gc_model_threads(m), arith_name(), h, w, o->runs, med, tmin, tmax,
             gflop / (med / 1e3));
      if (o->method)
        printf(",\"method\":\"%s\",\"layer\":\"%s\",\"explain_ms\":%.3f,\"ratio\":%.3f", gc_method_name(ep.method),
               ep.layer, emed, (med + emed) / med);
      printf("}\n");
    } else {
      printf("forward %dx%d, %d thread(s), %s arithmetic: median %.1f ms (min %.1f, max %.1f, %d runs) = %.1f GFLOP/s\n",
             w, h, gc_model_threads(m), arith_name(), med, tmin, tmax, o->runs,
             gflop / (med / 1e3));
      if (o->method)
        printf("%s at %s: explain %.1f ms; (forward + explain) / forward = %.2f\n", gc_method_name(ep.method), ep.layer,
               emed, (med + emed) / med);
    }
  }
  free(x), free(t), free(te);
  gc_model_free(m);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  opts o;
  if (parse(argc, argv, &o)) return 2;
  if (o.arith_given && gc_set_arithmetic(o.arith) != GC_OK) {
    fprintf(stderr, "gradcam: --arithmetic %s is not available in this build (CPU architecture)\n",
            gc_arithmetic_name(o.arith));
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "predict")) return cmd_predict(&o);
  if (!strcmp(cmd, "layers")) return cmd_layers(&o);
  if (!strcmp(cmd, "convert")) return cmd_convert(&o);
  if (!strcmp(cmd, "bench")) return cmd_bench(&o);
  if (!strcmp(cmd, "explain")) return cmd_explain(&o);
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    usage();
    return 0;
  }
  fprintf(stderr, "gradcam: unknown command '%s'\n", cmd);
  return usage();
}
