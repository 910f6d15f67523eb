/* h5_attr.c - attributes: in the object header (attribute messages) or in dense storage (a
 * fractal heap of attribute messages indexed by a v2 B-tree of name hashes, as HDF5 keeps them
 * past 8 attributes or 64 KB with libver 'latest'), and their values as strings: fixed-length
 * (NUL-terminated, NUL- or space-padded) or variable-length (global heap), scalar or 1-D.
 *
 * Variable-length strings are looked up per global heap collection, sorted by collection and
 * index, so each collection is read once per attribute however many strings it holds. */
#include <stdlib.h>
#include <string.h>

#include "io/h5_priv.h"

typedef struct attr_view {
  char name[256];
  h5_type type;
  h5_space space;
  const uint8_t *data;
  uint64_t data_size;
} attr_view;

typedef gc_status (*attr_fn)(void *ctx, const attr_view *a);

static gc_status parse_attr(gc_h5 *f, const uint8_t *p, size_t n, attr_view *a) {
  h5_cur c = h5_cursor(p, n);
  const int version = (int)h5_u(&c, 1), flags = (int)h5_u(&c, 1);
  const uint64_t name_size = h5_u(&c, 2), type_size = h5_u(&c, 2), space_size = h5_u(&c, 2);
  if (version == 3) h5_u(&c, 1); /* name encoding */
  const uint64_t align = version == 1 ? 7 : 0; /* version 1 pads each part to 8 bytes */
  const uint8_t *name = h5_take(&c, (name_size + align) & ~align);
  const uint8_t *type = h5_take(&c, (type_size + align) & ~align);
  const uint8_t *space = h5_take(&c, (space_size + align) & ~align);
  if (version < 1 || version > 3) return h5_fail(f, GC_ERR_H5, "attribute message version %d (1 to 3 are read)", version);
  if (c.bad) return h5_fail(f, GC_ERR_H5, "an attribute message of %zu bytes is truncated", n);
  if (version > 1 && (flags & 3)) return h5_fail(f, GC_ERR_H5, "an attribute has a shared datatype or dataspace");
  size_t len = name_size ? (size_t)name_size - 1 : 0;
  const uint8_t *nul = memchr(name, 0, (size_t)name_size);
  if (nul) len = (size_t)(nul - name);
  if (len == 0 || len >= sizeof a->name) return h5_fail(f, GC_ERR_H5, "an attribute has a name of %zu bytes", len);
  memcpy(a->name, name, len);
  a->name[len] = 0;
  gc_status s = h5_type_parse(f, type, (size_t)type_size, &a->type);
  if (s == GC_OK) s = h5_space_parse(f, space, (size_t)space_size, &a->space);
  a->data = c.p;
  a->data_size = h5_left(&c);
  return s;
}

typedef struct dense_attrs {
  gc_h5 *f;
  h5_fheap heap;
  attr_fn fn;
  void *ctx;
} dense_attrs;

static gc_status dense_record(void *ctx, const uint8_t *rec, size_t size) {
  dense_attrs *d = ctx;
  if (size < 17 || d->heap.id_len > 8)
    return h5_fail(d->f, GC_ERR_H5, "its attribute name index has records of %zu bytes for heap IDs of %d", size,
                   d->heap.id_len);
  if (rec[8] & 2) return h5_fail(d->f, GC_ERR_H5, "a shared attribute, not read here");
  const uint8_t *obj;
  size_t len;
  attr_view a;
  gc_status s = h5_fheap_get(d->f, &d->heap, rec, &obj, &len);
  if (s == GC_OK) s = parse_attr(d->f, obj, len, &a);
  return s != GC_OK ? s : d->fn(d->ctx, &a);
}

static gc_status each_attr(gc_h5 *f, const h5_ohdr *h, attr_fn fn, void *ctx) {
  gc_status s = GC_OK;
  for (size_t i = 0; i < h->count && s == GC_OK; i++) {
    const h5_msg *m = &h->m[i];
    if (m->type == H5M_ATTRIBUTE) {
      attr_view a;
      s = h5_not_shared(f, m, "attribute");
      if (s == GC_OK) s = parse_attr(f, m->p, m->size, &a);
      if (s == GC_OK) s = fn(ctx, &a);
    } else if (m->type == H5M_ATTR_INFO) {
      h5_cur c = h5_cursor(m->p, m->size);
      const int version = (int)h5_u(&c, 1), flags = (int)h5_u(&c, 1);
      if (flags & 1) h5_u(&c, 2);
      const uint64_t heap = h5_addr(f, &c), names = h5_addr(f, &c);
      if (c.bad) return h5_fail(f, GC_ERR_H5, "its attribute info message is truncated");
      if (version != 0) return h5_fail(f, GC_ERR_H5, "attribute info message version %d (0 is read)", version);
      if (heap == H5_UNDEF) continue;
      dense_attrs d = {f, {0}, fn, ctx};
      s = h5_fheap_open(f, heap, &d.heap);
      if (s == GC_OK) s = h5_btree2_walk(f, names, 8, dense_record, &d);
    }
  }
  return s;
}

/* ---- names ------------------------------------------------------------------------------- */

typedef struct name_list {
  gc_h5 *f;
  gc_h5_strings *out;
  const char *want; /* find one: its view goes to found */
  attr_view found;
  int hit;
} name_list;

static gc_status collect_name(void *ctx, const attr_view *a) {
  name_list *l = ctx;
  if (!l->want) return h5_strings_push(l->f, l->out, a->name, strlen(a->name));
  if (!strcmp(a->name, l->want) && !l->hit++) l->found = *a;
  return GC_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

gc_status gc_h5_attr_names(gc_h5 *f, gc_h5_obj obj, gc_h5_strings *out, char *err, size_t errlen) {
  h5_ohdr h;
  gc_status s = h5_enter_list(f, obj, out, err, errlen, &h);
  if (s != GC_OK) return s;
  name_list l;
  memset(&l, 0, sizeof l);
  l.f = f, l.out = out;
  s = each_attr(f, &h, collect_name, &l);
  h5_ohdr_free(&h);
  if (s == GC_OK && out->count) qsort(out->items, out->count, sizeof *out->items, cmp_str);
  for (size_t i = 1; s == GC_OK && i < out->count; i++)
    if (!strcmp(out->items[i - 1], out->items[i])) s = h5_fail(f, GC_ERR_H5, "has two attributes named '%.64s'", out->items[i]);
  if (s != GC_OK) gc_h5_strings_free(out);
  return s;
}

static gc_status find_attr(gc_h5 *f, gc_h5_obj obj, const char *name, char *err, size_t errlen, name_list *l) {
  h5_ohdr h;
  gc_status s = h5_enter(f, obj, err, errlen, &h);
  if (s != GC_OK) return s;
  memset(l, 0, sizeof *l);
  l->f = f, l->want = name;
  s = each_attr(f, &h, collect_name, l);
  h5_ohdr_free(&h);
  if (s == GC_OK && l->hit > 1) s = h5_fail(f, GC_ERR_H5, "has %d attributes named '%.64s'", l->hit, name);
  return s;
}

int gc_h5_has_attr(gc_h5 *f, gc_h5_obj obj, const char *name, char *err, size_t errlen) {
  if (!f || !name) return -(int)GC_ERR_INVALID_ARGUMENT;
  name_list l;
  gc_status s = find_attr(f, obj, name, err, errlen, &l);
  return s != GC_OK ? -(int)s : l.hit > 0;
}

/* ---- values as strings ------------------------------------------------------------------- */

typedef struct vref {
  uint64_t coll;
  uint32_t index;
  uint32_t len;
  size_t slot;
} vref;

static int cmp_vref(const void *a, const void *b) {
  const vref *x = a, *y = b;
  if (x->coll != y->coll) return x->coll < y->coll ? -1 : 1;
  return (x->index > y->index) - (x->index < y->index);
}

/* the strings of a variable-length string attribute: each a (pointer, length) in `at` */
static gc_status vlen_strings(gc_h5 *f, const attr_view *a, const uint8_t **at, uint32_t *len) {
  const uint64_t n = a->space.count, es = 8 + (uint64_t)f->osz;
  vref *r = malloc((size_t)n * sizeof *r);
  if (!r) return h5_fail(f, GC_ERR_OUT_OF_MEMORY, "out of memory reading attribute '%s'", a->name);
  size_t nr = 0;
  for (uint64_t i = 0; i < n; i++) {
    h5_cur c = h5_cursor(a->data + i * es, (size_t)es);
    const uint32_t l = (uint32_t)h5_u(&c, 4);
    const uint64_t coll = h5_addr(f, &c);
    const uint32_t index = (uint32_t)h5_u(&c, 4);
    at[i] = (const uint8_t *)"";
    len[i] = 0;
    if (l) r[nr++] = (vref){coll, index, l, (size_t)i};
  }
  qsort(r, nr, sizeof *r, cmp_vref);
  gc_status s = GC_OK;
  h5_gobj *objs = NULL;
  size_t count = 0;
  for (size_t i = 0; i < nr && s == GC_OK; i++) {
    if (i == 0 || r[i].coll != r[i - 1].coll) {
      free(objs);
      s = h5_gcol_read(f, r[i].coll, &objs, &count);
      if (s != GC_OK) break;
    }
    size_t lo = 0, hi = count;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (objs[mid].index < r[i].index) lo = mid + 1;
      else hi = mid;
    }
    if (lo == count || objs[lo].index != r[i].index || objs[lo].size < r[i].len)
      s = h5_fail(f, GC_ERR_H5, "string %zu of attribute '%s' is missing from the global heap at 0x%llx", r[i].slot,
                  a->name, (unsigned long long)r[i].coll);
    else at[r[i].slot] = objs[lo].p, len[r[i].slot] = r[i].len;
  }
  free(objs);
  free(r);
  return s;
}

static size_t trimmed(const uint8_t *p, size_t n, int pad) {
  const uint8_t *nul = memchr(p, 0, n);
  if (nul) n = (size_t)(nul - p);
  if (pad == 2)
    while (n && p[n - 1] == ' ') n--;
  return n;
}

gc_status gc_h5_attr_strings(gc_h5 *f, gc_h5_obj obj, const char *name, gc_h5_strings *out, char *err, size_t errlen) {
  if (!f || !name || !out) return GC_ERR_INVALID_ARGUMENT;
  out->items = NULL;
  out->count = 0;
  name_list l;
  gc_status s = find_attr(f, obj, name, err, errlen, &l);
  if (s != GC_OK) return s;
  if (!l.hit) return h5_fail(f, GC_ERR_H5, "has no attribute '%.64s'", name);
  const attr_view *a = &l.found;
  const h5_type *t = &a->type;
  const uint64_t n = a->space.ndim < 0 ? 0 : a->space.count;
  if (n == 0) return GC_OK; /* an empty array of any type: no strings (Keras writes [] as float64) */
  if (a->space.ndim > 1)
    return h5_fail(f, GC_ERR_H5, "attribute '%s' has %d dimensions (scalar and 1-D are read)", a->name, a->space.ndim);
  const int vlen = t->cls == 9 && t->vlen_string, bytes = t->cls == 0 && t->size == 1;
  if (t->cls != 3 && !vlen && !bytes)
    return h5_fail(f, GC_ERR_H5, "attribute '%s' holds values of datatype class %d, not strings", a->name, t->cls);
  const uint64_t es = vlen ? 8 + (uint64_t)f->osz : t->size;
  if (es > a->data_size / n)
    return h5_fail(f, GC_ERR_H5, "attribute '%s' needs %llu bytes for %llu values, its message holds %llu", a->name,
                   (unsigned long long)(es * n), (unsigned long long)n, (unsigned long long)a->data_size);
  if (bytes) return h5_strings_push(f, out, (const char *)a->data, trimmed(a->data, (size_t)n, 0));
  if (!vlen) {
    for (uint64_t i = 0; i < n && s == GC_OK; i++) {
      const uint8_t *p = a->data + i * es;
      s = h5_strings_push(f, out, (const char *)p, trimmed(p, (size_t)es, t->pad));
    }
  } else {
    const uint8_t **at = malloc((size_t)n * sizeof *at);
    uint32_t *len = malloc((size_t)n * sizeof *len);
    s = at && len ? vlen_strings(f, a, at, len) : h5_fail(f, GC_ERR_OUT_OF_MEMORY, "out of memory");
    for (uint64_t i = 0; i < n && s == GC_OK; i++)
      s = h5_strings_push(f, out, (const char *)at[i], trimmed(at[i], len[i], t->pad));
    free(at);
    free(len);
  }
  if (s != GC_OK) gc_h5_strings_free(out);
  return s;
}
