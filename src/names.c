/* names.c - the names of the public enums, both ways: one table each, read by the CLI's
 * options, the WebAssembly boundary and the messages that list the choices. (Methods have their
 * own registry, src/methods/registry.c.) */
#include <string.h>

#include "internal.h"

typedef struct alias {
  const char *name;
  int value;
} alias;

/* Each table lists the enum's values in order, NULL-terminated; aliases are accepted, never
 * printed. */
static const char *const kColormaps[] = {"jet", "viridis", "inferno", "turbo", "gray", "diverging", NULL};
static const alias kColormapAliases[] = {{"grey", GC_COLORMAP_GRAY}, {NULL, 0}};
static const char *const kTargets[] = {"logit", "prob", NULL};
static const char *const kBlends[] = {"additive", "alpha", NULL};
static const char *const kBaselines[] = {"blur", "mean", NULL};
static const char *const kArithmetics[] = {"portable", "fma", NULL};
static const char *const kDtypes[] = {"f32", "f16", NULL};
static const alias kDtypeAliases[] = {{"float32", GC_DTYPE_F32}, {"float16", GC_DTYPE_F16}, {NULL, 0}};

_Static_assert(sizeof kColormaps / sizeof *kColormaps == GC_COLORMAP_COUNT + 1, "a name per colormap");
_Static_assert(GC_TARGET_PROB == 1 && GC_BLEND_ALPHA == 1 && GC_BASELINE_MEAN == 1 && GC_ARITH_FMA == 1 &&
                   GC_DTYPE_F16 == 1,
               "the tables follow the enums' order");

static const char *name_at(const char *const *names, int i) {
  if (i < 0) return NULL;
  for (int k = 0; k < i; k++)
    if (!names[k]) return NULL;
  return names[i];
}

static gc_status lookup(const char *const *names, const alias *aliases, const char *name, int *out) {
  if (!name) return GC_ERR_INVALID_ARGUMENT;
  for (int i = 0; names[i]; i++)
    if (!strcmp(name, names[i])) {
      *out = i;
      return GC_OK;
    }
  for (const alias *a = aliases; a && a->name; a++)
    if (!strcmp(name, a->name)) {
      *out = a->value;
      return GC_OK;
    }
  return GC_ERR_INVALID_ARGUMENT;
}

/* The enum-typed pair of each table. */
#define NAMES(type, prefix, table, aliases)                                 \
  const char *gc_##prefix##_name(type v) { return name_at(table, (int)v); } \
  gc_status gc_##prefix##_from_name(const char *name, type *out) {          \
    int v = 0;                                                              \
    if (!out) return GC_ERR_INVALID_ARGUMENT;                               \
    gc_status s = lookup(table, aliases, name, &v);                         \
    if (s == GC_OK) *out = (type)v;                                         \
    return s;                                                               \
  }

NAMES(gc_colormap, colormap, kColormaps, kColormapAliases)
NAMES(gc_target, target, kTargets, NULL)
NAMES(gc_blend, blend, kBlends, NULL)
NAMES(gc_baseline, baseline, kBaselines, NULL)
NAMES(gc_arithmetic, arithmetic, kArithmetics, NULL)
NAMES(gc_dtype, dtype, kDtypes, kDtypeAliases)
