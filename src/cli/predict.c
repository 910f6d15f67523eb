/* predict.c - gradcam predict: the top classes of an image (or of a preprocessed tensor), and
 * on request the activations of named layers and the input tensor as raw float32 files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "load.h"

static int dump_layers(const gc_model *m, const char *dir, const char *list) {
  char *names = strdup(list);
  if (!names) return cli_fail("predict", GC_ERR_OUT_OF_MEMORY, "");
  int rc = 0;
  for (char *save = NULL, *name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
    const float *data;
    gc_shape shape;
    gc_status s = gc_model_activation(m, name, &data, &shape);
    if (s != GC_OK) {
      rc = cli_fail(name, s, gc_model_last_error(m));
      break;
    }
    size_t n = 1;
    for (int d = 0; d < shape.ndim; d++) n *= (size_t)shape.dims[d];
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.f32", dir, name);
    if (cli_write_file(path, data, n * sizeof(float))) {
      fprintf(stderr, "gradcam: cannot write %s: %s\n", path, strerror(errno));
      rc = 1;
      break;
    }
  }
  free(names);
  return rc;
}

/* --input-tensor: the raw float32 tensor of --input-size. */
static int forward_tensor(gc_model *m, const cli_opts *o, double *t_forward) {
  size_t size = 0;
  unsigned char *bytes = cli_read_file(o->tensor, &size);
  if (!bytes) {
    fprintf(stderr, "gradcam: cannot read %s: %s\n", o->tensor, strerror(errno));
    return 1;
  }
  const int h = o->size[0], w = o->size[1];
  int rc = 0;
  if (h <= 0 || (size_t)h * w * 3 * sizeof(float) != size) {
    fprintf(stderr, "gradcam: %s has %zu bytes; --input-size %dx%d needs %zu\n", o->tensor, size, h, w,
            (size_t)h * w * 3 * sizeof(float));
    rc = 1;
  } else {
    double t0 = cli_now_ms();
    gc_status s = gc_model_forward_tensor(m, (const float *)(const void *)bytes, h, w);
    *t_forward = cli_now_ms() - t0;
    if (s != GC_OK) rc = cli_fail(o->tensor, s, gc_model_last_error(m));
  }
  free(bytes);
  return rc;
}

static int save_input(const gc_model *m, const char *path) {
  const float *x;
  gc_shape sh;
  gc_status s = gc_model_input(m, &x, &sh);
  if (s != GC_OK) return cli_fail("input", s, gc_model_last_error(m));
  if (cli_write_file(path, x, (size_t)sh.dims[1] * sh.dims[2] * 3 * sizeof(float))) {
    fprintf(stderr, "gradcam: cannot write %s\n", path);
    return 1;
  }
  return 0;
}

static int print_top(const gc_model *m, const cli_opts *o, const gc_class_score *top, int ntop,
                     const gc_decoded *t) {
  const int nclasses = gc_model_num_classes(m);
  const char *arith = gc_arithmetic_name(gc_get_arithmetic());
  char label[32];
  if (!o->json) {
    for (int i = 0; i < ntop; i++)
      printf("%2d. %-28s %6.2f%%  (class %d, logit %.4f)\n", i + 1, cli_class_label(m, top[i].index, label, sizeof label),
             100.0 * top[i].prob, top[i].index, top[i].logit);
    printf("decode %.1f ms, forward %.1f ms, %d thread(s), %s arithmetic\n", t->decode_ms, t->forward_ms,
           gc_model_threads(m), arith);
    return 0;
  }
  gc_json_writer w = {0};
  gc_jw_open(&w, '{');
  gc_jw_key(&w, "top");
  gc_jw_open(&w, '[');
  for (int i = 0; i < ntop; i++) {
    gc_jw_open(&w, '{');
    gc_jw_key(&w, "index");
    gc_jw_int(&w, top[i].index);
    gc_jw_key(&w, "name");
    gc_jw_str(&w, cli_class_label(m, top[i].index, label, sizeof label));
    gc_jw_key(&w, "prob");
    gc_jw_num(&w, top[i].prob);
    gc_jw_key(&w, "logit");
    gc_jw_num(&w, top[i].logit);
    gc_jw_close(&w);
  }
  gc_jw_close(&w);
  gc_jw_key(&w, "classes");
  gc_jw_int(&w, nclasses);
  gc_jw_key(&w, "logits");
  gc_jw_floats(&w, gc_model_logits(m), (size_t)nclasses);
  cli_json_model(&w, m);
  gc_jw_key(&w, "arithmetic");
  gc_jw_str(&w, arith);
  gc_jw_key(&w, "ms");
  gc_jw_open(&w, '{');
  gc_jw_key(&w, "decode");
  gc_jw_numf(&w, "%.3f", t->decode_ms);
  gc_jw_key(&w, "forward");
  gc_jw_numf(&w, "%.3f", t->forward_ms);
  gc_jw_close(&w);
  gc_jw_close(&w);
  return cli_json_print(&w);
}

int cli_predict(const cli_opts *o) {
  if (!o->weights || (!o->image == !o->tensor)) {
    fprintf(stderr, "gradcam predict: needs --weights and one of --image or --input-tensor\n");
    return 2;
  }
  if (o->dump_layers && !o->dump_dir) {
    fprintf(stderr, "gradcam predict: --dump-layers needs --dump-dir\n");
    return 2;
  }
  gc_model *m = cli_load(o, o->threads);
  if (!m) return 1;
  gc_decoded t = {0};
  int rc = o->image ? cli_forward_image(m, o, &t, NULL) : forward_tensor(m, o, &t.forward_ms);
  if (rc == 0 && o->save_input) rc = save_input(m, o->save_input);
  if (rc == 0 && o->dump_layers) rc = dump_layers(m, o->dump_dir, o->dump_layers);
  const int nclasses = gc_model_num_classes(m);
  int ntop = 0;
  gc_class_score *top = NULL;
  gc_status s;
  if (rc == 0 && nclasses == 0 && !o->dump_layers)
    rc = cli_fail(o->weights, GC_ERR_NO_HEAD, "predict needs a classifier; this model is the Xception base alone "
                                              "(explain --method eigencam and --dump-layers work without one)");
  if (rc == 0 && nclasses > 0) {
    if (cli_check_classes(m, o, &ntop)) rc = 2;
    else if (!(top = malloc((size_t)ntop * sizeof *top))) rc = cli_fail("predict", GC_ERR_OUT_OF_MEMORY, "");
  }
  if (rc == 0 && top && (s = gc_model_top_k(m, ntop, top)) != GC_OK) rc = cli_fail("predict", s, gc_model_last_error(m));
  if (rc == 0 && top) rc = print_top(m, o, top, ntop, &t);
  free(top);
  gc_model_free(m);
  return rc;
}
