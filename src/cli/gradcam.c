/* gradcam.c - the native command-line tool.
 *
 *   gradcam predict --weights FILE --image IMG [--top K] [--threads N] [--json]
 *   gradcam predict --weights FILE --input-tensor X.f32 --input-size HxW [...]
 *                   [--dump-dir DIR --dump-layers a,b,c] [--save-input X.f32]
 *   gradcam layers  [--size HxW]
 *   gradcam convert --in KERAS.h5 --out FILE.gcw [--dtype f16|f32]
 *   gradcam bench   --weights FILE [--threads N] [--runs N] [--warmup N] [--size S]
 *
 * FILE may be a project weights file or a Keras HDF5 file (converted in memory first).
 * Errors go to stderr with a non-zero exit status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gradcam.h"
#include "h5.h"

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
      "  gradcam layers  [--size HxW]\n"
      "  gradcam convert --in KERAS.h5 --out FILE.gcw [--dtype f16|f32]\n"
      "  gradcam bench   --weights FILE [--threads N] [--runs N] [--warmup N] [--size S] [--json]\n"
      "FILE is a project weights file (.gcw) or the Keras HDF5 file (converted on the fly).\n",
      stderr);
  return 2;
}

static int fail(const char *what, gc_status s, const char *detail) {
  fprintf(stderr, "gradcam: %s: %s%s%s\n", what, gc_status_to_string(s), detail && *detail ? ": " : "",
          detail ? detail : "");
  return 1;
}

/* Read a whole file; NULL (errno set) on failure. */
static unsigned char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 1 << 16;
      unsigned char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        errno = ENOMEM;
        return NULL;
      }
      buf = nb;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    errno = EIO;
    return NULL;
  }
  *size = len;
  return buf;
}

static int write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t n = fwrite(data, 1, size, f);
  int rc = fclose(f);
  return n == size && rc == 0 ? 0 : -1;
}

typedef struct opts {
  const char *weights, *image, *tensor, *dump_dir, *dump_layers, *save_input, *in, *out;
  int top, threads, json, runs, warmup, h, w;
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
    else if (!strcmp(a, "--image")) { VAL(); o->image = v; }
    else if (!strcmp(a, "--input-tensor")) { VAL(); o->tensor = v; }
    else if (!strcmp(a, "--dump-dir")) { VAL(); o->dump_dir = v; }
    else if (!strcmp(a, "--dump-layers")) { VAL(); o->dump_layers = v; }
    else if (!strcmp(a, "--save-input")) { VAL(); o->save_input = v; }
    else if (!strcmp(a, "--in")) { VAL(); o->in = v; }
    else if (!strcmp(a, "--out")) { VAL(); o->out = v; }
    else if (!strcmp(a, "--top")) INT(1, GC_NUM_CLASSES, &o->top);
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

/* Load a project file, or convert a Keras HDF5 file in memory first. */
static gc_status load_model(const char *path, int threads, gc_model **m, char *err, size_t errlen) {
  gc_params p = gc_default_params();
  p.threads = threads;
  if (!gc_h5_is_hdf5(path)) return gc_model_load_file(path, &p, m, err, errlen);
  void *bytes = NULL;
  size_t size = 0;
  gc_status s = gc_h5_convert(path, GC_DTYPE_F32, &bytes, &size, err, errlen);
  if (s == GC_OK) s = gc_model_load_memory(bytes, size, &p, m, err, errlen);
  gc_free(bytes);
  return s;
}

static void json_string(const char *s) {
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
  gc_status s = load_model(o->weights, o->threads, &m, err, sizeof err);
  if (s != GC_OK) return fail(o->weights, s, err);

  int rc = 0;
  double t_decode = 0, t_forward = 0;
  size_t size = 0;
  unsigned char *bytes = read_file(o->image ? o->image : o->tensor, &size);
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
  if (rc == 0) {
    gc_class_score top[GC_NUM_CLASSES];
    gc_model_top_k(m, o->top, top);
    const float *logits = gc_model_logits(m);
    if (o->json) {
      printf("{\"top\":[");
      for (int i = 0; i < o->top; i++) {
        printf("%s{\"index\":%d,\"name\":", i ? "," : "", top[i].index);
        json_string(gc_class_name(top[i].index));
        printf(",\"prob\":%.9g,\"logit\":%.9g}", top[i].prob, top[i].logit);
      }
      printf("],\"logits\":[");
      for (int i = 0; i < GC_NUM_CLASSES; i++) printf("%s%.9g", i ? "," : "", logits[i]);
      printf("],\"ms\":{\"decode\":%.3f,\"forward\":%.3f}}\n", t_decode, t_forward);
    } else {
      for (int i = 0; i < o->top; i++)
        printf("%2d. %-28s %6.2f%%  (class %d, logit %.4f)\n", i + 1, gc_class_name(top[i].index),
               100.0 * top[i].prob, top[i].index, top[i].logit);
      printf("decode %.1f ms, forward %.1f ms, %d thread(s)\n", t_decode, t_forward, gc_model_threads(m));
    }
  }
  gc_model_free(m);
  return rc;
}

static int cmd_layers(const opts *o) {
  int h = o->h ? o->h : GC_INPUT_SIZE, w = o->w ? o->w : GC_INPUT_SIZE;
  for (int i = 0; i < gc_layer_count(); i++) {
    gc_shape s;
    gc_status st = gc_layer_shape(gc_layer_name(i), h, w, &s);
    if (st != GC_OK) return fail("layers", st, "");
    printf("%-24s", gc_layer_name(i));
    for (int d = 1; d < s.ndim; d++) printf("%s%d", d > 1 ? "x" : "", s.dims[d]);
    printf("\n");
  }
  return 0;
}

static int cmd_convert(const opts *o) {
  if (!o->in || !o->out) {
    fprintf(stderr, "gradcam convert: needs --in KERAS.h5 and --out FILE.gcw\n");
    return 2;
  }
  char err[GC_ERRBUF_SIZE] = "";
  void *bytes = NULL;
  size_t size = 0;
  gc_status s = gc_h5_convert(o->in, o->dtype, &bytes, &size, err, sizeof err);
  if (s != GC_OK) return fail(o->in, s, err);
  /* verify by loading before writing anything */
  gc_model *m = NULL;
  s = gc_model_load_memory(bytes, size, NULL, &m, err, sizeof err);
  if (s != GC_OK) {
    gc_free(bytes);
    return fail("converted weights", s, err);
  }
  size_t params = gc_model_param_count(m);
  gc_model_free(m);
  int rc = write_file(o->out, bytes, size);
  gc_free(bytes);
  if (rc) {
    fprintf(stderr, "gradcam: cannot write %s: %s\n", o->out, strerror(errno));
    return 1;
  }
  printf("wrote %s: %zu parameters, %s, %.1f MB\n", o->out, params,
         o->dtype == GC_DTYPE_F16 ? "float16" : "float32", size / 1e6);
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int cmd_bench(const opts *o) {
  if (!o->weights) {
    fprintf(stderr, "gradcam bench: needs --weights\n");
    return 2;
  }
  int h = o->h ? o->h : GC_INPUT_SIZE, w = o->w ? o->w : GC_INPUT_SIZE;
  char err[GC_ERRBUF_SIZE] = "";
  gc_model *m = NULL;
  gc_status s = load_model(o->weights, o->threads, &m, err, sizeof err);
  if (s != GC_OK) return fail(o->weights, s, err);
  float *x = malloc((size_t)h * w * 3 * sizeof *x);
  double *t = malloc((size_t)o->runs * sizeof *t);
  int rc = 0;
  if (!x || !t) {
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
      if (s != GC_OK) rc = fail("forward", s, gc_model_last_error(m));
      else if (i >= o->warmup) t[i - o->warmup] = now_ms() - t0;
    }
  }
  if (rc == 0) {
    qsort(t, (size_t)o->runs, sizeof *t, cmp_double);
    double med = o->runs % 2 ? t[o->runs / 2] : 0.5 * (t[o->runs / 2 - 1] + t[o->runs / 2]);
    double gflop = 16.7 * ((double)h * w) / (299.0 * 299.0);
    if (o->json)
      printf("{\"threads\":%d,\"size\":[%d,%d],\"runs\":%d,\"median_ms\":%.3f,\"min_ms\":%.3f,\"max_ms\":%.3f,"
             "\"gflops\":%.2f}\n",
             gc_model_threads(m), h, w, o->runs, med, t[0], t[o->runs - 1], gflop / (med / 1e3));
    else
      printf("forward %dx%d, %d thread(s): median %.1f ms (min %.1f, max %.1f, %d runs) = %.1f GFLOP/s\n", w, h,
             gc_model_threads(m), med, t[0], t[o->runs - 1], o->runs, gflop / (med / 1e3));
  }
  free(x);
  free(t);
  gc_model_free(m);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  opts o;
  if (parse(argc, argv, &o)) return 2;
  const char *cmd = argv[1];
  if (!strcmp(cmd, "predict")) return cmd_predict(&o);
  if (!strcmp(cmd, "layers")) return cmd_layers(&o);
  if (!strcmp(cmd, "convert")) return cmd_convert(&o);
  if (!strcmp(cmd, "bench")) return cmd_bench(&o);
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    usage();
    return 0;
  }
  fprintf(stderr, "gradcam: unknown command '%s'\n", cmd);
  return usage();
}
