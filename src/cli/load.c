/* load.c - the CLI's files: reading them, and models from any format the import API reads
 * (gradcam.h: gc_import_*), recognised by content. A .gcw without --labels loads as it is;
 * anything else becomes a .gcw v2 image in memory first. A TF.js model.json brings the shards
 * its weightsManifest lists, read from model.json's directory.
 */
#include "load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/json.h"

unsigned char *cli_read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 1 << 16;
      unsigned char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        errno = ENOMEM;
        return NULL;
      }
      buf = nb;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    errno = EIO;
    return NULL;
  }
  *size = len;
  return buf;
}

static gc_status io_error(const char *path, char *err, size_t errlen) {
  snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
  return GC_ERR_IO;
}

typedef struct files {
  int n;
  unsigned char *bytes[CLI_MAX_FILES];
  size_t size[CLI_MAX_FILES];
  char *name[CLI_MAX_FILES];
} files;

static void files_free(files *fs) {
  for (int i = 0; i < fs->n; i++) {
    free(fs->bytes[i]);
    free(fs->name[i]);
  }
  fs->n = 0;
}

static gc_status files_add(files *fs, const char *path, const char *name, char *err, size_t errlen) {
  if (fs->n == CLI_MAX_FILES) {
    snprintf(err, errlen, "more than %d files", CLI_MAX_FILES - 1);
    return GC_ERR_INVALID_ARGUMENT;
  }
  size_t size = 0;
  unsigned char *b = cli_read_file(path, &size);
  if (!b) return io_error(path, err, errlen);
  fs->bytes[fs->n] = b;
  fs->size[fs->n] = size;
  fs->name[fs->n] = strdup(name);
  fs->n++;
  return fs->name[fs->n - 1] ? GC_OK : GC_ERR_OUT_OF_MEMORY;
}

/* The shards a TF.js model.json lists (an unreadable model.json is left to the import to name). */
static gc_status tfjs_shards(files *fs, const char *path, char *err, size_t errlen) {
  gc_json *doc = NULL;
  if (gc_json_parse((const char *)fs->bytes[0], fs->size[0], &doc, NULL, 0) != GC_OK) return GC_OK;
  const gc_json_value *groups = gc_json_get(gc_json_root(doc), "weightsManifest");
  const char *slash = strrchr(path, '/');
  const int dirlen = slash ? (int)(slash - path + 1) : 0;
  gc_status st = GC_OK;
  for (size_t g = 0; g < gc_json_len(groups) && st == GC_OK; g++) {
    const gc_json_value *paths = gc_json_get(gc_json_at(groups, g), "paths");
    for (size_t p = 0; p < gc_json_len(paths) && st == GC_OK; p++) {
      const char *shard = gc_json_str(gc_json_at(paths, p));
      if (!shard || shard[0] == '/' || strstr(shard, "..")) continue; /* the import names it */
      char full[4096];
      snprintf(full, sizeof full, "%.*s%s", dirlen, path, shard);
      st = files_add(fs, full, shard, err, errlen);
    }
  }
  gc_json_free(doc);
  return st;
}

gc_status cli_import(const char *path, const char *labels, gc_dtype dtype, void **gcw, size_t *gcw_size, char **desc,
                     char *err, size_t errlen) {
  *gcw = NULL;
  *gcw_size = 0;
  if (desc) *desc = NULL;
  files fs = {0};
  const char *base = strrchr(path, '/');
  gc_status st = files_add(&fs, path, base ? base + 1 : path, err, errlen);
  size_t k = 0; /* JSON (a TF.js model.json) starts with '{' after white space */
  while (st == GC_OK && k < fs.size[0] && strchr(" \t\r\n", fs.bytes[0][k]) && fs.bytes[0][k]) k++;
  if (st == GC_OK && k < fs.size[0] && fs.bytes[0][k] == '{') st = tfjs_shards(&fs, path, err, errlen);
  size_t lsize = 0;
  unsigned char *lbytes = NULL;
  if (st == GC_OK && labels && !(lbytes = cli_read_file(labels, &lsize))) st = io_error(labels, err, errlen);
  gc_import *im = NULL;
  int total = 0;
  if (st == GC_OK) st = gc_import_new(&im);
  for (int i = 0; i < fs.n && st == GC_OK; i++) st = gc_import_add_file(im, fs.name[i], fs.bytes[i], fs.size[i]);
  if (st == GC_OK && labels) st = gc_import_set_labels(im, lbytes, lsize, err, errlen);
  if (st == GC_OK) st = gc_import_start(im, &total, err, errlen);
  if (st == GC_OK && desc && gc_import_describe(im)) *desc = strdup(gc_import_describe(im));
  if (st == GC_OK) st = gc_import_finish(im, dtype, gcw, gcw_size, err, errlen);
  gc_import_free(im);
  free(lbytes);
  files_free(&fs);
  if (st == GC_ERR_LABELS && labels) { /* name the labels file too */
    char msg[GC_ERRBUF_SIZE];
    snprintf(msg, sizeof msg, "%s", err);
    snprintf(err, errlen, "%s (--labels %s)", msg, labels);
  }
  return st;
}

gc_status cli_load_model(const char *path, const char *labels, int threads, gc_model **m, char *err, size_t errlen) {
  gc_params p = gc_default_params();
  p.threads = threads;
  size_t size = 0;
  void *bytes = NULL;
  gc_status st;
  unsigned char head[8] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) return io_error(path, err, errlen);
  const size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  if (!labels && n == 8 && !memcmp(head, "GCAMWTS", 8)) return gc_model_load_file(path, &p, m, err, errlen);
  st = cli_import(path, labels, GC_DTYPE_F32, &bytes, &size, NULL, err, errlen);
  if (st == GC_OK) st = gc_model_load_memory(bytes, size, &p, m, err, errlen);
  gc_free(bytes);
  return st;
}
