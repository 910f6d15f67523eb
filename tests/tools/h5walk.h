/* h5walk.h - walks every group, attribute and dataset of an HDF5 image (or of each HDF5 entry of a
 * ZIP archive) through the project's readers (src/io), printing one line per item. Used by the
 * h5walk tool (tests/js/h5-reader.test.mjs compares its output with tests/tools/h5walk.py, the
 * same walk through h5py) and by the fuzz targets fuzz_h5 and fuzz_zip, which walk without
 * printing and check the readers' contract on every call. Test code only.
 *
 * Output (sorted by path, then attribute name; paths absolute; strings escaped as esc() does):
 *   group /a
 *   attr /a NAME strings 2 "x" "y"       (or: attr /a NAME error)
 *   dataset /a/k float 4 dims [3,3] count 9 crc32 0123abcd   (the CRC-32 of the float32 values)
 *   dataset /a/i integer 8 dims [2] count 2                   (and string, other: no values)
 *   entry NAME size N crc32 X             (ZIP entries, sorted by name; HDF5 entries are walked
 *                                          with paths prefixed by "NAME:")
 */
#ifndef GRADCAM_TESTS_H5WALK_H
#define GRADCAM_TESTS_H5WALK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcam.h"
#include "io/h5.h"
#include "io/h5_priv.h"
#include "io/zip.h"

typedef struct h5walk_opts {
  FILE *out;            /* NULL: print nothing */
  int checksums;        /* verify the checksums of v2 structures */
  int keep_going;       /* after an error, go on with the next item (the fuzz targets) */
  uint64_t max_read;    /* datasets of more bytes (as float32) are not read; 0: no limit */
  int max_objects;      /* stop after this many objects; 0: no limit */
  /* called after every reader call with its status and message (fuzz contract checks), and
   * when two calls disagree (a listed child or attribute that is then not found) */
  void (*check)(gc_status s, const char *err, const char *what);
  void (*inconsistent)(const char *what);
} h5walk_opts;

typedef struct h5walk {
  const h5walk_opts *o;
  gc_h5 *f;
  const char *prefix;
  int objects;
  uint64_t seen[64]; /* the objects on the current path: a link back to one is a cycle */
  int depth;
  gc_status first; /* the first error, and its message */
  char first_err[GC_ERRBUF_SIZE];
  char err[GC_ERRBUF_SIZE];
} h5walk;

/* without keep_going, nothing more is read after the first error */
static int h5walk_stopped(const h5walk *w) { return w->first != GC_OK && !w->o->keep_going; }

static void h5walk_esc(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') fputc(*p, out);
    else fprintf(out, "\\x%02x", *p);
  }
  fputc('"', out);
}

/* records a reader call's outcome; returns 1 if the walk goes on past it */
static int h5walk_status(h5walk *w, gc_status s, const char *what) {
  if (w->o->check) w->o->check(s, w->err, what);
  if (s == GC_OK) return 1;
  if (w->first == GC_OK) {
    w->first = s;
    snprintf(w->first_err, sizeof w->first_err, "%s", w->err);
    if (w->o->out) fprintf(w->o->out, "error %s: %s\n", gc_status_to_string(s), w->err);
  }
  return w->o->keep_going;
}

static void h5walk_attrs(h5walk *w, gc_h5_obj obj, const char *path) {
  if (h5walk_stopped(w)) return;
  gc_h5_strings names;
  if (!h5walk_status(w, gc_h5_attr_names(w->f, obj, &names, w->err, sizeof w->err), "attr_names")) return;
  for (size_t i = 0; i < names.count; i++) {
    int has = gc_h5_has_attr(w->f, obj, names.items[i], w->err, sizeof w->err);
    if (w->o->check && has < 0) w->o->check((gc_status)-has, w->err, "has_attr");
    if (w->o->inconsistent && has == 0) w->o->inconsistent("a listed attribute is not found");
    gc_h5_strings v;
    gc_status s = gc_h5_attr_strings(w->f, obj, names.items[i], &v, w->err, sizeof w->err);
    if (w->o->check) w->o->check(s, w->err, "attr_strings");
    if (w->o->out) {
      fprintf(w->o->out, "attr %s%s %s ", w->prefix, path, names.items[i]);
      if (s == GC_OK) {
        fprintf(w->o->out, "strings %zu", v.count);
        for (size_t k = 0; k < v.count; k++) fputc(' ', w->o->out), h5walk_esc(w->o->out, v.items[k]);
        fputc('\n', w->o->out);
      } else {
        fprintf(w->o->out, "error\n");
      }
    }
    if (s == GC_OK) gc_h5_strings_free(&v);
  }
  gc_h5_strings_free(&names);
}

static void h5walk_dataset(h5walk *w, gc_h5_obj obj, const char *path) {
  gc_h5_dataset_info info;
  if (!h5walk_status(w, gc_h5_dataset_info_of(w->f, obj, &info, w->err, sizeof w->err), "dataset_info")) return;
  static const char *const kinds[] = {"?", "float", "integer", "string", "other"};
  FILE *out = w->o->out;
  if (out) {
    fprintf(out, "dataset %s%s %s", w->prefix, path, kinds[info.type_class]);
    if (info.type_class <= GC_H5_INTEGER) fprintf(out, " %d", info.type_size);
    fprintf(out, " dims [");
    for (int d = 0; d < info.ndim; d++) fprintf(out, "%s%lld", d ? "," : "", (long long)info.dims[d]);
    fprintf(out, "] count %llu", (unsigned long long)info.count);
  }
  if (info.type_class == GC_H5_FLOAT && (!w->o->max_read || info.count <= w->o->max_read / 4)) {
    float *v = malloc((size_t)info.count * sizeof *v + 1);
    gc_status s = v ? gc_h5_read_f32(w->f, obj, v, info.count, w->err, sizeof w->err) : GC_ERR_OUT_OF_MEMORY;
    if (out && s == GC_OK) fprintf(out, " crc32 %08x", (unsigned)gc_zip_crc32(0, v, (size_t)info.count * 4));
    if (out) fputc('\n', out);
    free(v);
    h5walk_status(w, s, "read_f32");
    return;
  }
  if (out) fputc('\n', out);
}

static void h5walk_object(h5walk *w, gc_h5_obj obj, const char *path) {
  if (h5walk_stopped(w) || (w->o->max_objects && ++w->objects > w->o->max_objects)) return;
  for (int i = 0; i < w->depth; i++)
    if (w->seen[i] == obj.addr) {
      if (w->o->out) fprintf(w->o->out, "cycle %s%s\n", w->prefix, path);
      return;
    }
  gc_h5_kind kind;
  if (!h5walk_status(w, gc_h5_kind_of(w->f, obj, &kind, w->err, sizeof w->err), "kind_of")) return;
  if (kind == GC_H5_DATASET) h5walk_dataset(w, obj, path);
  else if (kind == GC_H5_GROUP && w->o->out) fprintf(w->o->out, "group %s%s\n", w->prefix, path);
  else if (w->o->out) fprintf(w->o->out, "other %s%s\n", w->prefix, path);
  h5walk_attrs(w, obj, path);
  if (kind != GC_H5_GROUP || w->depth == (int)(sizeof w->seen / sizeof w->seen[0])) return;
  gc_h5_strings kids;
  if (!h5walk_status(w, gc_h5_children(w->f, obj, &kids, w->err, sizeof w->err), "children")) return;
  w->seen[w->depth++] = obj.addr;
  for (size_t i = 0; i < kids.count; i++) {
    size_t len = strlen(path) + strlen(kids.items[i]) + 2;
    char *sub = malloc(len);
    if (!sub) break;
    snprintf(sub, len, "%s%s%s", path, strcmp(path, "/") ? "/" : "", kids.items[i]);
    gc_h5_obj child;
    int ex = gc_h5_exists(w->f, obj, kids.items[i], w->err, sizeof w->err);
    if (w->o->check && ex < 0) w->o->check((gc_status)-ex, w->err, "exists");
    if (w->o->inconsistent && ex == 0) w->o->inconsistent("a listed child does not exist");
    if (h5walk_status(w, gc_h5_open_path(w->f, obj, kids.items[i], &child, w->err, sizeof w->err), "open_path"))
      h5walk_object(w, child, sub);
    free(sub);
    if (h5walk_stopped(w)) break;
  }
  w->depth--;
  gc_h5_strings_free(&kids);
}

/* the first error's status (GC_OK if none); its message in err */
static gc_status h5walk_hdf5(const uint8_t *b, size_t n, const char *prefix, const h5walk_opts *o,
                             char *err, size_t errlen) {
  h5walk w;
  memset(&w, 0, sizeof w);
  w.o = o;
  w.prefix = prefix;
  gc_status s = h5_open_opts(b, n, o->checksums, &w.f, w.err, sizeof w.err);
  if (!h5walk_status(&w, s, "open") || s != GC_OK) {
    snprintf(err, errlen, "%s", w.err);
    return s;
  }
  h5walk_object(&w, gc_h5_root(w.f), "/");
  gc_h5_close(w.f);
  snprintf(err, errlen, "%s", w.first_err);
  return w.first;
}

static int h5walk_cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* a ZIP archive: its entries, and the HDF5 ones walked; anything else: walked as HDF5 */
static gc_status h5walk_bytes(const uint8_t *b, size_t n, const h5walk_opts *o, char *err, size_t errlen) {
  if (!gc_zip_is_zip(b, n)) return h5walk_hdf5(b, n, "", o, err, errlen);
  gc_zip *z;
  gc_status s = gc_zip_open(b, n, &z, err, errlen);
  if (o->check) o->check(s, err, "zip_open");
  if (s != GC_OK) {
    if (o->out) fprintf(o->out, "error %s: %s\n", gc_status_to_string(s), err);
    return s;
  }
  const int count = gc_zip_count(z);
  char **names = malloc((size_t)(count ? count : 1) * sizeof *names);
  for (int i = 0; names && i < count; i++) names[i] = (char *)gc_zip_name(z, i);
  if (names) qsort(names, (size_t)count, sizeof *names, h5walk_cmp_names);
  gc_status first = names ? GC_OK : GC_ERR_OUT_OF_MEMORY;
  for (int k = 0; names && k < count && (first == GC_OK || o->keep_going); k++) {
    const int i = gc_zip_find(z, names[k]);
    if (o->inconsistent && i < 0) o->inconsistent("a listed entry is not found");
    uint8_t *data;
    size_t size;
    char e[GC_ERRBUF_SIZE];
    s = i < 0 ? GC_ERR_ZIP : gc_zip_extract(z, i, &data, &size, e, sizeof e);
    if (o->check && i >= 0) o->check(s, e, "zip_extract");
    if (s != GC_OK) {
      if (first == GC_OK && o->out) fprintf(o->out, "error %s: %s\n", gc_status_to_string(s), e);
      if (first == GC_OK) first = s, snprintf(err, errlen, "%s", e);
      continue;
    }
    if (o->inconsistent && size != gc_zip_size(z, i)) o->inconsistent("an entry's size differs from its declared one");
    if (o->out) fprintf(o->out, "entry %s size %zu crc32 %08x\n", names[k], size, (unsigned)gc_zip_crc32(0, data, size));
    if (gc_h5_is_hdf5(data, size)) {
      char prefix[1100];
      snprintf(prefix, sizeof prefix, "%s:", names[k]);
      s = h5walk_hdf5(data, size, prefix, o, e, sizeof e);
      if (s != GC_OK && first == GC_OK) first = s, snprintf(err, errlen, "%s", e);
    }
    free(data);
  }
  free(names);
  gc_zip_close(z);
  return first;
}

#endif
