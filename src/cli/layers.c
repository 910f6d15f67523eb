/* layers.c - gradcam layers [--weights FILE] [--size HxW]: every addressable layer and its shape,
 * of the model in FILE (its head's layers too, at its input size) or of the ImageNet model. */
#include <stdio.h>

#include "cli.h"

int cli_layers(const cli_opts *o) {
  gc_model *m = NULL;
  if (o->weights && !(m = cli_load(o, 1))) return 1;
  int h = o->size[0] ? o->size[0] : GC_INPUT_SIZE, w = o->size[1] ? o->size[1] : GC_INPUT_SIZE;
  if (m && !o->size[0]) gc_model_input_size(m, &h, &w);
  const int n = m ? gc_model_layer_count(m) : gc_layer_count();
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++) {
    const char *name = m ? gc_model_layer_name(m, i) : gc_layer_name(i);
    gc_shape s;
    gc_status st = m ? gc_model_layer_shape(m, name, h, w, &s) : gc_layer_shape(name, h, w, &s);
    if (st != GC_OK) {
      rc = cli_fail("layers", st, name);
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
