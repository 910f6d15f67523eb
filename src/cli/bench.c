/* bench.c - gradcam bench: the forward pass's time on a fixed pseudo-random input (a 32-bit LCG,
 * seed 12345, as tools/bench reproduces); with --method, also the time of that explanation
 * after each forward pass and the ratio (forward + explain) / forward. Medians of --runs after
 * --warmup untimed runs. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *t, int n) {
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

typedef struct timing {
  double med, min, max, explain_med;
} timing;

/* The runs: forward (and explain) times into t and te. */
static int time_runs(gc_model *m, const cli_opts *o, const gc_explain_params *ep, int h, int w, timing *out) {
  float *x = malloc((size_t)h * w * 3 * sizeof *x);
  double *t = malloc((size_t)o->runs * sizeof *t), *te = malloc((size_t)o->runs * sizeof *te);
  int rc = 0;
  if (!x || !t || !te) rc = cli_fail("bench", GC_ERR_OUT_OF_MEMORY, "");
  uint32_t r = 12345;
  for (size_t i = 0; rc == 0 && i < (size_t)h * w * 3; i++) {
    r = r * 1664525u + 1013904223u;
    x[i] = (float)(r >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
  }
  for (int i = 0; rc == 0 && i < o->warmup + o->runs; i++) {
    double t0 = cli_now_ms();
    gc_status s = gc_model_forward_tensor(m, x, h, w);
    double t1 = cli_now_ms();
    if (s != GC_OK) rc = cli_fail("forward", s, gc_model_last_error(m));
    if (rc == 0 && ep) {
      gc_map map;
      s = gc_model_explain(m, ep, &map, NULL);
      if (s != GC_OK) rc = cli_fail("explain", s, gc_model_last_error(m));
    }
    if (i >= o->warmup) {
      t[i - o->warmup] = t1 - t0;
      te[i - o->warmup] = cli_now_ms() - t1;
    }
  }
  if (rc == 0) {
    out->min = 1e300, out->max = 0;
    for (int i = 0; i < o->runs; i++) out->min = t[i] < out->min ? t[i] : out->min, out->max = t[i] > out->max ? t[i] : out->max;
    out->med = median(t, o->runs);
    out->explain_med = ep ? median(te, o->runs) : 0;
  }
  free(x), free(t), free(te);
  return rc;
}

static int print_timing(const gc_model *m, const cli_opts *o, const gc_explain_params *ep, int h, int w,
                        const timing *t) {
  const double gflops = 16.7 * ((double)h * w) / (299.0 * 299.0) / (t->med / 1e3);
  const char *arith = gc_arithmetic_name(gc_get_arithmetic());
  if (!o->json) {
    printf("forward %dx%d, %d thread(s), %s arithmetic: median %.1f ms (min %.1f, max %.1f, %d runs) = %.1f GFLOP/s\n",
           w, h, gc_model_threads(m), arith, t->med, t->min, t->max, o->runs, gflops);
    if (ep)
      printf("%s at %s: explain %.1f ms; (forward + explain) / forward = %.2f\n", gc_method_name(ep->method), ep->layer,
             t->explain_med, (t->med + t->explain_med) / t->med);
    return 0;
  }
  gc_json_writer j = {0};
  gc_jw_open(&j, '{');
  gc_jw_key(&j, "threads");
  gc_jw_int(&j, gc_model_threads(m));
  gc_jw_key(&j, "arithmetic");
  gc_jw_str(&j, arith);
  gc_jw_key(&j, "size");
  gc_jw_open(&j, '[');
  gc_jw_int(&j, h);
  gc_jw_int(&j, w);
  gc_jw_close(&j);
  gc_jw_key(&j, "runs");
  gc_jw_int(&j, o->runs);
  const char *keys[] = {"median_ms", "min_ms", "max_ms"};
  const double ms[] = {t->med, t->min, t->max};
  for (int i = 0; i < 3; i++) {
    gc_jw_key(&j, keys[i]);
    gc_jw_numf(&j, "%.3f", ms[i]);
  }
  gc_jw_key(&j, "gflops");
  gc_jw_numf(&j, "%.2f", gflops);
  if (ep) {
    gc_jw_key(&j, "method");
    gc_jw_str(&j, gc_method_name(ep->method));
    gc_jw_key(&j, "layer");
    gc_jw_str(&j, ep->layer);
    gc_jw_key(&j, "explain_ms");
    gc_jw_numf(&j, "%.3f", t->explain_med);
    gc_jw_key(&j, "ratio");
    gc_jw_numf(&j, "%.3f", (t->med + t->explain_med) / t->med);
  }
  gc_jw_close(&j);
  return cli_json_print(&j);
}

int cli_bench(const cli_opts *o) {
  if (!o->weights) {
    fprintf(stderr, "gradcam bench: needs --weights\n");
    return 2;
  }
  gc_explain_params ep;
  if (cli_explain_params(o, &ep)) return 2;
  gc_model *m = cli_load(o, o->threads);
  if (!m) return 1;
  int h = o->size[0], w = o->size[1]; /* the model's input size unless --size */
  if (!h) gc_model_input_size(m, &h, &w);
  const gc_explain_params *with = cli_given(o, "method") ? &ep : NULL;
  timing t;
  int rc = time_runs(m, o, with, h, w, &t);
  if (rc == 0) rc = print_timing(m, o, with, h, w, &t);
  gc_model_free(m);
  return rc;
}
