/* convert.c - gradcam convert --in MODEL --out FILE.gcw: any model file the import API reads
 * (with --labels) to a .gcw, checked by loading it before anything is written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "load.h"

int cli_convert(const cli_opts *o) {
  if (!o->in || !o->out) {
    fprintf(stderr, "gradcam convert: needs --in MODEL and --out FILE.gcw\n");
    return 2;
  }
  char err[GC_ERRBUF_SIZE] = "";
  void *bytes = NULL;
  size_t size = 0;
  char *desc = NULL;
  gc_status s = cli_import(o->in, o->labels, (gc_dtype)o->dtype, &bytes, &size, &desc, err, sizeof err);
  if (s != GC_OK) return cli_fail(o->in, s, err);
  /* verify by loading before writing anything */
  gc_model *m = NULL;
  s = gc_model_load_memory(bytes, size, NULL, &m, err, sizeof err);
  if (s != GC_OK) {
    gc_free(bytes);
    free(desc);
    return cli_fail("converted weights", s, err);
  }
  size_t params = gc_model_param_count(m);
  gc_model_free(m);
  int rc = cli_write_file(o->out, bytes, size);
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
