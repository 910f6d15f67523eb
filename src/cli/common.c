/* common.c - what several commands do: messages, files, the model of --weights, an image's
 * forward pass, the classes asked for, and printing JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "load.h"

double cli_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int cli_fail(const char *what, gc_status s, const char *detail) {
  fprintf(stderr, "gradcam: %s: %s%s%s\n", what, gc_status_to_string(s), detail && *detail ? ": " : "",
          detail ? detail : "");
  return 1;
}

int cli_write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t n = fwrite(data, 1, size, f);
  int rc = fclose(f);
  return n == size && rc == 0 ? 0 : -1;
}

gc_model *cli_load(const cli_opts *o, int threads) {
  char err[GC_ERRBUF_SIZE] = "";
  gc_model *m = NULL;
  gc_status s = cli_load_model(o->weights, o->labels, threads, &m, err, sizeof err);
  if (s != GC_OK) cli_fail(o->weights, s, err);
  return s == GC_OK ? m : NULL;
}

int cli_forward_image(gc_model *m, const cli_opts *o, gc_decoded *info, uint8_t **rgba) {
  size_t size = 0;
  unsigned char *bytes = cli_read_file(o->image, &size);
  if (!bytes) {
    fprintf(stderr, "gradcam: cannot read %s: %s\n", o->image, strerror(errno));
    return 1;
  }
  gc_status s = gc_model_forward_encoded(m, bytes, size, o->size[0], o->size[1], info, rgba);
  free(bytes);
  return s == GC_OK ? 0 : cli_fail(o->image, s, gc_model_last_error(m));
}

/* The method, layer, target, contrast and parameters of the options. 0, or 2 after a message. */
int cli_explain_params(const cli_opts *o, gc_explain_params *ep) {
  *ep = gc_default_explain_params();
  ep->method = (gc_method)o->method;
  ep->target = (gc_target)o->target;
  ep->contrast_class = o->contrast;
  if (o->layer) ep->layer = o->layer;
  char err[GC_ERRBUF_SIZE] = "";
  if (cli_apply_params(o, ep, err, sizeof err) != GC_OK) {
    fprintf(stderr, "gradcam: %s\n", err);
    return 2;
  }
  return 0;
}

int cli_check_classes(const gc_model *m, const cli_opts *o, int *top) {
  const int n = gc_model_num_classes(m);
  const int top_given = cli_given(o, "top");
  *top = o->top < n ? o->top : n;
  if (o->class_index >= n && n > 0) {
    fprintf(stderr, "gradcam: --class %d: the model has %d classes (0..%d)\n", o->class_index, n, n - 1);
    return -1;
  }
  if (o->contrast >= n && n > 0) {
    fprintf(stderr, "gradcam: --contrast %d: the model has %d classes (0..%d)\n", o->contrast, n, n - 1);
    return -1;
  }
  if (top_given && o->top > n && n > 0) {
    fprintf(stderr, "gradcam: --top %d: the model has %d classes\n", o->top, n);
    return -1;
  }
  if (n == 0 && (o->class_index >= 0 || o->contrast >= 0 || top_given)) {
    fprintf(stderr, "gradcam: the model has no classifier (a notop file): --class, --contrast and --top do not "
                    "apply\n");
    return -1;
  }
  return 0;
}

const char *cli_class_label(const gc_model *m, int i, char *buf, size_t len) {
  const char *name = gc_model_class_name(m, i);
  if (name) return name;
  snprintf(buf, len, "class %d", i);
  return buf;
}

void cli_json_model(gc_json_writer *w, const gc_model *m) {
  char head[512] = "";
  gc_model_head(m, head, sizeof head);
  int h = 0, wd = 0;
  gc_model_input_size(m, &h, &wd);
  gc_jw_key(w, "model");
  gc_jw_open(w, '{');
  gc_jw_key(w, "source");
  gc_jw_str(w, gc_model_source(m) ? gc_model_source(m) : "");
  gc_jw_key(w, "head");
  gc_jw_str(w, head);
  gc_jw_key(w, "inferred");
  gc_jw_bool(w, gc_model_head_inferred(m));
  gc_jw_key(w, "inputSize");
  gc_jw_open(w, '[');
  gc_jw_int(w, h);
  gc_jw_int(w, wd);
  gc_jw_close(w);
  gc_jw_key(w, "classes");
  gc_jw_int(w, gc_model_num_classes(m));
  gc_jw_close(w);
}

int cli_json_print(gc_json_writer *w) {
  int rc = 0;
  if (w->failed) rc = cli_fail("json", GC_ERR_OUT_OF_MEMORY, "");
  else if (w->depth) rc = cli_fail("json", GC_ERR_INVALID_ARGUMENT, "a container left open (a bug)");
  else printf("%s\n", w->text ? w->text : "");
  gc_jw_free(w);
  return rc;
}
