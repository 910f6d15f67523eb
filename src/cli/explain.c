/* explain.c - gradcam explain: one explanation per class asked for (--class C, else the top
 * --top K, else the top-1), rendered as a heatmap and an overlay, with faithfulness metrics and
 * the channel weights on request; text or JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb/stb_image_write.h>

#include "cli.h"

/* What one run shares between its classes. */
typedef struct run {
  const cli_opts *o;
  gc_model *m;
  gc_explain_params ep;
  uint8_t *rgba; /* the image */
  int w, h;
  gc_decoded t;
  int nclass; /* > 1: file names get -<class>, the JSON is an array */
  gc_json_writer json;
} run;

/* The result for one class. */
typedef struct result {
  int cls;
  gc_map map;
  gc_metrics mt;
  int have_metrics;
  double ms_explain, ms_render, ms_metrics;
} result;

static void class_path(char *out, size_t len, const char *path, int cls) {
  if (cls < 0) {
    snprintf(out, len, "%s", path);
    return;
  }
  const char *dot = strrchr(path, '.');
  const int stem = dot && !strchr(dot, '/') ? (int)(dot - path) : (int)strlen(path);
  snprintf(out, len, "%.*s-%d%s", stem, path, cls, path + stem);
}

static int write_png(const run *r, const char *path, int cls, const uint8_t *rgba) {
  if (!path) return 0;
  char p[4096];
  class_path(p, sizeof p, path, r->nclass > 1 ? cls : -1);
  if (!stbi_write_png(p, r->w, r->h, 4, rgba, r->w * 4)) {
    fprintf(stderr, "gradcam: cannot write %s\n", p);
    return 1;
  }
  return 0;
}

/* --save-grad: the raw gradient the method used (tests compare it). */
static int save_grad(const run *r, int cls) {
  const gc_explain_params *ep = &r->ep;
  /* Guided Grad-CAM's gradient is the input one (its layer factor needs no separate dump) */
  const int in_space = !gc_method_uses_layer(ep->method) || ep->method == GC_METHOD_GUIDED_GRADCAM;
  const float *g;
  gc_shape gs;
  gc_status s = gc_model_gradient(r->m, cls, in_space ? "input" : ep->layer, ep->target,
                                  ep->method == GC_METHOD_GUIDED_BACKPROP, &g, &gs);
  if (s != GC_OK) return cli_fail("gradient", s, gc_model_last_error(r->m));
  if (cli_write_file(r->o->save_grad, g, (size_t)gs.dims[1] * gs.dims[2] * gs.dims[3] * sizeof *g)) {
    fprintf(stderr, "gradcam: cannot write %s\n", r->o->save_grad);
    return 1;
  }
  return 0;
}

static void json_metrics(gc_json_writer *w, const gc_metrics *mt) {
  gc_jw_key(w, "metrics");
  gc_jw_open(w, '{');
  gc_jw_key(w, "steps");
  gc_jw_int(w, mt->steps);
  gc_jw_key(w, "deletion_auc");
  gc_jw_num(w, mt->deletion_auc);
  gc_jw_key(w, "insertion_auc");
  gc_jw_num(w, mt->insertion_auc);
  gc_jw_key(w, "average_drop");
  gc_jw_num(w, mt->average_drop);
  gc_jw_key(w, "increase_in_confidence");
  gc_jw_int(w, mt->increase_in_confidence);
  gc_jw_key(w, "deletion");
  gc_jw_floats(w, mt->deletion, (size_t)mt->steps + 1);
  gc_jw_key(w, "insertion");
  gc_jw_floats(w, mt->insertion, (size_t)mt->steps + 1);
  gc_jw_close(w);
}

static void json_result(run *r, const result *x, const float *cam, const gc_explain_detail *d) {
  gc_json_writer *w = &r->json;
  const gc_explain_params *ep = &r->ep;
  const float *probs = gc_model_probs(r->m);
  char label[32];
  gc_jw_open(w, '{');
  gc_jw_key(w, "class");
  gc_jw_int(w, x->cls);
  gc_jw_key(w, "name");
  gc_jw_str(w, x->cls >= 0 ? cli_class_label(r->m, x->cls, label, sizeof label) : NULL);
  gc_jw_key(w, "prob");
  if (probs && x->cls >= 0) gc_jw_num(w, probs[x->cls]);
  else gc_jw_null(w);
  if (ep->contrast_class >= 0) {
    gc_jw_key(w, "contrast");
    gc_jw_int(w, ep->contrast_class);
  }
  gc_jw_key(w, "layer");
  gc_jw_str(w, gc_method_uses_layer(ep->method) ? ep->layer : "input");
  gc_jw_key(w, "method");
  gc_jw_str(w, gc_method_name(ep->method));
  gc_jw_key(w, "target");
  gc_jw_str(w, gc_target_name(ep->target));
  gc_jw_key(w, "arithmetic");
  gc_jw_str(w, gc_arithmetic_name(gc_get_arithmetic()));
  gc_jw_key(w, "h");
  gc_jw_int(w, x->map.height);
  gc_jw_key(w, "w");
  gc_jw_int(w, x->map.width);
  gc_jw_key(w, "channels");
  gc_jw_int(w, x->map.channels);
  gc_jw_key(w, "cam");
  gc_jw_floats(w, cam, (size_t)x->map.height * x->map.width * x->map.channels);
  if (x->have_metrics) json_metrics(w, &x->mt);
  if (d) { /* --detail: the channel weights, null for methods that weigh no channels */
    gc_jw_key(w, "detail");
    if (d->weights) {
      gc_jw_open(w, '{');
      gc_jw_key(w, "channels");
      gc_jw_int(w, d->channels);
      gc_jw_key(w, "weights");
      gc_jw_floats(w, d->weights, (size_t)d->channels);
      gc_jw_close(w);
    } else {
      gc_jw_null(w);
    }
  }
  gc_jw_key(w, "ms");
  gc_jw_open(w, '{');
  const char *keys[] = {"decode", "forward", "explain", "render", "metrics"};
  const double ms[] = {r->t.decode_ms, r->t.forward_ms, x->ms_explain, x->ms_render, x->ms_metrics};
  for (int i = 0; i < 4 + x->have_metrics; i++) {
    gc_jw_key(w, keys[i]);
    gc_jw_numf(w, "%.3f", ms[i]);
  }
  gc_jw_close(w);
  gc_jw_close(w);
}

static void text_result(const run *r, const result *x, const gc_explain_detail *d) {
  const gc_explain_params *ep = &r->ep;
  const float *probs = gc_model_probs(r->m);
  char label[32];
  printf("%s (class %d, p=%.4f): %s at %s, map %dx%d%s\n",
         x->cls >= 0 ? cli_class_label(r->m, x->cls, label, sizeof label) : "-", x->cls,
         probs && x->cls >= 0 ? probs[x->cls] : 0.0, gc_method_name(ep->method),
         gc_method_uses_layer(ep->method) ? ep->layer : "input", x->map.height, x->map.width,
         x->map.channels == 3 ? "x3" : "");
  if (ep->contrast_class >= 0)
    printf("  rather than %s (class %d)\n", cli_class_label(r->m, ep->contrast_class, label, sizeof label),
           ep->contrast_class);
  if (x->have_metrics)
    printf("  deletion AUC %.4f, insertion AUC %.4f, average drop %.1f%%, increase in confidence %s\n",
           x->mt.deletion_auc, x->mt.insertion_auc, 100.0 * x->mt.average_drop,
           x->mt.increase_in_confidence ? "yes" : "no");
  if (d && d->weights) {
    int hi = 0, lo = 0;
    for (int k = 1; k < d->channels; k++) {
      if (d->weights[k] > d->weights[hi]) hi = k;
      if (d->weights[k] < d->weights[lo]) lo = k;
    }
    printf("  %d channel weights: largest %.6g (channel %d), smallest %.6g (channel %d)\n", d->channels,
           d->weights[hi], hi, d->weights[lo], lo);
  } else if (d) {
    printf("  %s weighs no channels (--detail has nothing to show)\n", gc_method_name(ep->method));
  }
  printf("  forward %.1f ms, explain %.1f ms, render %.1f ms\n", r->t.forward_ms, x->ms_explain, x->ms_render);
}

/* Explain class `cls` (-1: the model's choice), render, write and print it. */
static int explain_class(run *r, int cls) {
  const cli_opts *o = r->o;
  result x = {0};
  r->ep.class_index = cls;
  double t0 = cli_now_ms();
  int cls_out = -1;
  gc_status s = gc_model_explain(r->m, &r->ep, &x.map, &cls_out);
  x.ms_explain = cli_now_ms() - t0;
  if (s != GC_OK) return cli_fail("explain", s, gc_model_last_error(r->m));
  x.cls = cls_out >= 0 ? cls_out : cls;
  gc_explain_detail detail;
  const int have_detail = o->detail && gc_model_explain_detail(r->m, &detail) == GC_OK;
  /* the map and the detail belong to the model until its next call: keep a copy of the map */
  const size_t n = (size_t)x.map.height * x.map.width * x.map.channels;
  float *cam = malloc(n * sizeof *cam), *weights = NULL;
  uint8_t *heat = malloc((size_t)r->w * r->h * 4), *over = malloc((size_t)r->w * r->h * 4);
  if (have_detail && detail.weights && (weights = malloc((size_t)detail.channels * sizeof *weights)))
    detail.weights = memcpy(weights, detail.weights, (size_t)detail.channels * sizeof *weights);
  int rc = 0;
  if (!cam || !heat || !over || (have_detail && detail.weights && !weights))
    rc = cli_fail("explain", GC_ERR_OUT_OF_MEMORY, "");
  if (rc == 0) {
    memcpy(cam, x.map.data, n * sizeof *cam);
    x.map.data = cam;
    t0 = cli_now_ms();
    s = gc_render(&x.map, r->rgba, r->w, r->h, r->w * 4, GC_PIXEL_RGBA8, (gc_colormap)o->colormap, (float)o->alpha,
                  (gc_blend)o->blend, heat, over);
    x.ms_render = cli_now_ms() - t0;
    if (s != GC_OK) rc = cli_fail("render", s, "");
  }
  if (rc == 0) rc = write_png(r, o->out_heatmap, x.cls, heat);
  if (rc == 0) rc = write_png(r, o->out_overlay, x.cls, over);
  if (rc == 0 && o->save_grad) rc = save_grad(r, cls);
  if (rc == 0 && o->metrics) {
    if (x.map.channels != 1) {
      fprintf(stderr, "gradcam: --metrics needs a single-channel map (not %s)\n", gc_method_name(r->ep.method));
      rc = 2;
    } else {
      t0 = cli_now_ms();
      s = gc_model_metrics(r->m, &x.map, cls, o->steps, (gc_baseline)o->baseline, &x.mt);
      x.ms_metrics = cli_now_ms() - t0;
      if (s != GC_OK) rc = cli_fail("metrics", s, gc_model_last_error(r->m));
      x.have_metrics = s == GC_OK;
    }
  }
  if (rc == 0 && o->json) json_result(r, &x, cam, have_detail ? &detail : NULL);
  else if (rc == 0) text_result(r, &x, have_detail ? &detail : NULL);
  free(cam), free(heat), free(over), free(weights);
  return rc;
}

/* The classes to explain: --class C, else the top K (default 1); none (-1) for a model without
 * a classifier (eigencam works; the other methods say GC_ERR_NO_HEAD). */
static int pick_classes(run *r, int **classes) {
  const cli_opts *o = r->o;
  const int k = cli_given(o, "top") ? o->top : 1;
  int ntop;
  if (cli_check_classes(r->m, o, &ntop)) return 2;
  if (!(*classes = malloc((size_t)k * sizeof **classes))) return cli_fail("explain", GC_ERR_OUT_OF_MEMORY, "");
  r->nclass = 1;
  (*classes)[0] = o->class_index;
  if (o->class_index >= 0 || gc_model_num_classes(r->m) == 0) return 0;
  gc_class_score *top = malloc((size_t)k * sizeof *top);
  gc_status s = top ? gc_model_top_k(r->m, k, top) : GC_ERR_OUT_OF_MEMORY;
  for (int i = 0; s == GC_OK && i < k; i++) (*classes)[i] = top[i].index;
  free(top);
  r->nclass = k;
  return s == GC_OK ? 0 : cli_fail("explain", s, gc_model_last_error(r->m));
}

int cli_explain(const cli_opts *o) {
  if (!o->weights || !o->image) {
    fprintf(stderr, "gradcam explain: needs --weights and --image\n");
    return 2;
  }
  if (o->class_index >= 0 && cli_given(o, "top")) {
    fprintf(stderr, "gradcam explain: give --class or --top, not both\n");
    return 2;
  }
  if (o->save_grad && o->contrast >= 0) {
    fprintf(stderr, "gradcam explain: --save-grad writes one class's gradient: not with --contrast\n");
    return 2;
  }
  run r = {0};
  r.o = o;
  int rc = cli_explain_params(o, &r.ep);
  if (rc) return rc;
  if (!(r.m = cli_load(o, o->threads))) return 1;
  int *classes = NULL;
  rc = cli_forward_image(r.m, o, &r.t, &r.rgba);
  r.w = r.t.width, r.h = r.t.height;
  if (rc == 0) rc = pick_classes(&r, &classes);
  if (rc == 0 && o->json && r.nclass > 1) gc_jw_open(&r.json, '[');
  for (int k = 0; rc == 0 && k < r.nclass; k++) rc = explain_class(&r, classes[k]);
  if (rc == 0 && o->json && r.nclass > 1) gc_jw_close(&r.json);
  if (rc == 0 && o->json) rc = cli_json_print(&r.json);
  gc_jw_free(&r.json);
  free(classes);
  gc_free(r.rgba);
  gc_model_free(r.m);
  return rc;
}
