/* test_names.c - the names of the public enums (src/names.c): every value has a name that reads
 * back to it, the lists end where the enums end, aliases read but are never listed, and unknown
 * or missing names are refused. */
#include <string.h>

#include "check.h"
#include "gradcam.h"

/* name(i) for i = 0.. until NULL: `count` names, each reading back to i through parse. */
#define CHECK_TABLE(prefix, type, count, ...)                                                      \
  do {                                                                                             \
    const char *want[] = {__VA_ARGS__};                                                            \
    int n = 0;                                                                                     \
    while (gc_##prefix##_name((type)n)) {                                                          \
      type v = (type)-1;                                                                           \
      CHECK_STATUS(gc_##prefix##_from_name(gc_##prefix##_name((type)n), &v), GC_OK);               \
      CHECK((int)v == n, #prefix " %d reads back as %d", n, (int)v);                               \
      CHECK(n < (int)(sizeof want / sizeof *want) && !strcmp(gc_##prefix##_name((type)n), want[n]), \
            #prefix " %d is '%s'", n, gc_##prefix##_name((type)n));                                \
      n++;                                                                                         \
    }                                                                                              \
    CHECK(n == (count), #prefix ": %d names, want %d", n, (int)(count));                           \
    CHECK(gc_##prefix##_name((type)-1) == NULL, #prefix ": no name below 0");                      \
    type v = (type)0;                                                                              \
    CHECK_STATUS(gc_##prefix##_from_name("nonsense", &v), GC_ERR_INVALID_ARGUMENT);                \
    CHECK_STATUS(gc_##prefix##_from_name(NULL, &v), GC_ERR_INVALID_ARGUMENT);                      \
    CHECK_STATUS(gc_##prefix##_from_name(want[0], NULL), GC_ERR_INVALID_ARGUMENT);                 \
  } while (0)

int main(void) {
  CHECK_TABLE(colormap, gc_colormap, GC_COLORMAP_COUNT, "jet", "viridis", "inferno", "turbo", "gray", "diverging");
  CHECK_TABLE(target, gc_target, 2, "logit", "prob");
  CHECK_TABLE(blend, gc_blend, 2, "additive", "alpha");
  CHECK_TABLE(baseline, gc_baseline, 2, "blur", "mean");
  CHECK_TABLE(arithmetic, gc_arithmetic, 2, "portable", "fma");
  CHECK_TABLE(dtype, gc_dtype, 2, "f32", "f16");
  CHECK(gc_target_name(GC_TARGET_PROB) && !strcmp(gc_target_name(GC_TARGET_PROB), "prob"), "the enum's value");
  CHECK(gc_dtype_name(GC_DTYPE_F16) && !strcmp(gc_dtype_name(GC_DTYPE_F16), "f16"), "the enum's value");

  /* aliases read, never listed */
  gc_colormap c = GC_COLORMAP_JET;
  CHECK_STATUS(gc_colormap_from_name("grey", &c), GC_OK);
  CHECK(c == GC_COLORMAP_GRAY, "grey is gray");
  gc_dtype d = GC_DTYPE_F32;
  CHECK_STATUS(gc_dtype_from_name("float16", &d), GC_OK);
  CHECK(d == GC_DTYPE_F16, "float16 is f16");
  CHECK_STATUS(gc_dtype_from_name("float32", &d), GC_OK);
  CHECK(d == GC_DTYPE_F32, "float32 is f32");
  /* names are exact: no case folding, no prefixes, no trailing space */
  gc_blend b;
  CHECK_STATUS(gc_blend_from_name("Alpha", &b), GC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gc_blend_from_name("alph", &b), GC_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gc_blend_from_name("alpha ", &b), GC_ERR_INVALID_ARGUMENT);
  /* methods keep their registry: every name reads back */
  for (int i = 0; i < GC_METHOD_COUNT; i++) {
    gc_method m;
    CHECK_STATUS(gc_method_from_name(gc_method_name((gc_method)i), &m), GC_OK);
    CHECK((int)m == i, "method %d", i);
  }
  return check_report("test_names");
}
