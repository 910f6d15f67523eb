/* h5.c - Keras HDF5 weights -> project weights, via libhdf5 and the core's converter.
 *
 * Layout of Keras' weight files (keras.Model.save_weights / the applications' downloads):
 * the root group has the attribute layer_names (one string per layer, in model order); each
 * layer is a group with the attribute weight_names (possibly empty), and each weight is a
 * dataset at <layer>/<weight name>, e.g. block1_conv1/block1_conv1/kernel:0.
 */
#include "h5.h"

#include <errno.h>
#include <hdf5.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct strlist {
  char **items;
  size_t count;
} strlist;

static void strlist_free(strlist *l) {
  for (size_t i = 0; i < l->count; i++) free(l->items[i]);
  free(l->items);
  l->items = NULL;
  l->count = 0;
}

/* Read a string-array attribute of fixed-length strings. */
static int read_string_attr(hid_t obj, const char *name, strlist *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (H5Aexists(obj, name) <= 0) {
    snprintf(err, errlen, "attribute '%s' is missing", name);
    return -1;
  }
  int rc = -1;
  hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
  hid_t type = attr >= 0 ? H5Aget_type(attr) : -1;
  hid_t space = attr >= 0 ? H5Aget_space(attr) : -1;
  hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
  if (attr < 0 || type < 0 || space < 0 || n < 0 || n > 100000) {
    snprintf(err, errlen, "attribute '%s' cannot be read", name);
    goto done;
  }
  if (n == 0) { /* Keras writes an empty array for layers without weights */
    rc = 0;
    goto done;
  }
  if (H5Tget_class(type) != H5T_STRING) {
    snprintf(err, errlen, "attribute '%s' is not a list of strings", name);
    goto done;
  }
  /* Keras (through h5py) writes these names as fixed-length strings. Variable-length strings
   * live in the file's global heap, and libhdf5 1.10.8 (Debian 12) hangs or copies
   * overlapping memory on damaged global-heap data (found by tests/fuzz/fuzz_h5; see the README
   * section on fuzzing), so they are refused before libhdf5 reads them. */
  if (H5Tis_variable_str(type) != 0) {
    snprintf(err, errlen, "attribute '%s' holds variable-length strings; Keras writes fixed-length ones", name);
    goto done;
  }
  out->items = calloc((size_t)n, sizeof *out->items);
  if (!out->items) goto done;
  hid_t mem = H5Tcopy(H5T_C_S1);
  {
    size_t sz = H5Tget_size(type);
    char *buf = sz < 4096 ? calloc((size_t)n, sz + 1) : NULL;
    H5Tset_size(mem, sz + 1);
    H5Tset_strpad(mem, H5T_STR_NULLTERM);
    if (buf && H5Aread(attr, mem, buf) >= 0) {
      for (hssize_t i = 0; i < n; i++) out->items[i] = strndup(buf + (size_t)i * (sz + 1), sz);
      out->count = (size_t)n;
      rc = 0;
    }
    free(buf);
  }
  H5Tclose(mem);
  for (size_t i = 0; i < out->count; i++)
    if (!out->items[i]) rc = -1;
  if (rc != 0) snprintf(err, errlen, "attribute '%s' cannot be read", name);
done:
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  if (attr >= 0) H5Aclose(attr);
  if (rc != 0) strlist_free(out);
  return rc;
}

static gc_status add_dataset(gc_converter *conv, hid_t layer_group, const char *layer, const char *wname,
                             char *err, size_t errlen) {
  gc_status st = GC_ERR_CONVERT;
  hid_t ds = H5Dopen2(layer_group, wname, H5P_DEFAULT);
  hid_t space = ds >= 0 ? H5Dget_space(ds) : -1;
  int nd = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
  float *data = NULL;
  if (ds < 0 || space < 0 || nd < 1 || nd > GC_MAX_DIMS) {
    snprintf(err, errlen, "dataset '%s/%s' is missing or not a 1-4 dimensional array", layer, wname);
    goto done;
  }
  hsize_t dims[GC_MAX_DIMS];
  H5Sget_simple_extent_dims(space, dims, NULL);
  int64_t shape[GC_MAX_DIMS];
  size_t n = 1;
  for (int d = 0; d < nd; d++) {
    shape[d] = (int64_t)dims[d];
    if (dims[d] == 0 || dims[d] > (1u << 24)) {
      snprintf(err, errlen, "dataset '%s/%s' has an unusable shape", layer, wname);
      goto done;
    }
    if (n > ((size_t)1 << 28) / (size_t)dims[d]) { /* checked before the product can wrap */
      snprintf(err, errlen, "dataset '%s/%s' is too large", layer, wname);
      goto done;
    }
    n *= (size_t)dims[d];
  }
  /* Keras weights are IEEE floats (float32; 16 and 64 bits convert too). Anything else is
   * refused before H5Dread: libhdf5 1.10.8 sizes its conversion buffers from the file's
   * datatype and asked for 4 GiB on a damaged one (tests/fuzz/fuzz_h5). */
  hid_t ftype = H5Dget_type(ds);
  size_t tsize = ftype >= 0 ? H5Tget_size(ftype) : 0;
  int is_float = ftype >= 0 && H5Tget_class(ftype) == H5T_FLOAT && (tsize == 2 || tsize == 4 || tsize == 8);
  if (ftype >= 0) H5Tclose(ftype);
  if (!is_float) {
    snprintf(err, errlen, "dataset '%s/%s' is not an array of 16-, 32- or 64-bit floats", layer, wname);
    goto done;
  }
  if (!(data = malloc(n * sizeof *data))) {
    st = GC_ERR_OUT_OF_MEMORY;
    goto done;
  }
  if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    snprintf(err, errlen, "dataset '%s/%s' cannot be read as numbers", layer, wname);
    goto done;
  }
  st = gc_converter_add(conv, layer, wname, nd, shape, data);
  if (st != GC_OK) snprintf(err, errlen, "dataset '%s/%s' was rejected", layer, wname);
done:
  free(data);
  if (space >= 0) H5Sclose(space);
  if (ds >= 0) H5Dclose(ds);
  return st;
}

int gc_h5_is_hdf5(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  unsigned char sig[8] = {0};
  size_t n = fread(sig, 1, 8, f);
  fclose(f);
  return n == 8 && memcmp(sig, "\x89HDF\r\n\x1a\n", 8) == 0;
}

/* Convert an open file; closes it. */
static gc_status convert_file(hid_t file, gc_dtype dtype, void **bytes, size_t *size, char *err, size_t errlen) {
  gc_converter *conv = NULL;
  strlist layers = {0};
  gc_status st = gc_converter_new(&conv);
  if (st == GC_OK && read_string_attr(file, "layer_names", &layers, err, errlen) != 0) {
    st = GC_ERR_CONVERT;
    snprintf(err + strlen(err), errlen - strlen(err), " (not a Keras weights file?)");
  }
  for (size_t i = 0; st == GC_OK && i < layers.count; i++) {
    hid_t g = H5Gopen2(file, layers.items[i], H5P_DEFAULT);
    if (g < 0) {
      snprintf(err, errlen, "layer group '%s' is missing", layers.items[i]);
      st = GC_ERR_CONVERT;
      break;
    }
    strlist wn = {0};
    if (read_string_attr(g, "weight_names", &wn, err, errlen) != 0) st = GC_ERR_CONVERT;
    for (size_t k = 0; st == GC_OK && k < wn.count; k++)
      st = add_dataset(conv, g, layers.items[i], wn.items[k], err, errlen);
    strlist_free(&wn);
    H5Gclose(g);
  }
  if (st == GC_OK) st = gc_converter_finish(conv, dtype, bytes, size, err, errlen);
  strlist_free(&layers);
  gc_converter_free(conv);
  H5Fclose(file);
  return st;
}

gc_status gc_h5_convert(const char *path, gc_dtype dtype, void **bytes, size_t *size, char *err,
                        size_t errlen) {
  *bytes = NULL;
  *size = 0;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are reported through err, not printed */
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) {
    snprintf(err, errlen, "'%s' is not a readable HDF5 file", path);
    return GC_ERR_IO;
  }
  return convert_file(file, dtype, bytes, size, err, errlen);
}

gc_status gc_h5_convert_memory(const void *data, size_t len, gc_dtype dtype, void **bytes, size_t *size, char *err,
                               size_t errlen) {
  if (!bytes || !size) return GC_ERR_INVALID_ARGUMENT;
  *bytes = NULL;
  *size = 0;
  if (!data || len < 8 || memcmp(data, "\x89HDF\r\n\x1a\n", 8) != 0) {
    snprintf(err, errlen, "not an HDF5 file image (no HDF5 signature at its start)");
    return GC_ERR_IO;
  }
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  /* the core (in-memory) driver, opened on a copy of the image, never written back */
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  hid_t file = -1;
  if (fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0 && H5Pset_file_image(fapl, (void *)data, len) >= 0)
    file = H5Fopen("in-memory.h5", H5F_ACC_RDONLY, fapl);
  if (fapl >= 0) H5Pclose(fapl);
  if (file < 0) {
    snprintf(err, errlen, "the bytes are not a readable HDF5 file");
    return GC_ERR_IO;
  }
  return convert_file(file, dtype, bytes, size, err, errlen);
}

/* ---- conversion in a child process ----------------------------------------------------
 * libhdf5 1.10.8 (Debian's) reads some damaged files out of bounds or after free (found by
 * tests/fuzz/fuzz_h5). The CLI therefore reads .h5 files in a forked child that sends back
 * [status][error text][size][bytes] through a pipe: a crash of the library ends the child, not
 * the CLI, which reports it as a damaged file. */
static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_all(int fd, void *p, size_t n) {
  char *c = p;
  while (n) {
    ssize_t r = read(fd, c, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    c += r;
    n -= (size_t)r;
  }
  return 0;
}

gc_status gc_h5_convert_isolated(const char *path, gc_dtype dtype, void **bytes, size_t *size, char *err,
                                 size_t errlen) {
  *bytes = NULL;
  *size = 0;
  int fds[2];
  if (pipe(fds) != 0) return gc_h5_convert(path, dtype, bytes, size, err, errlen);
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return gc_h5_convert(path, dtype, bytes, size, err, errlen);
  }
  if (pid == 0) { /* child: convert, send, leave without running the parent's exit handlers */
    close(fds[0]);
    char cerr[GC_ERRBUF_SIZE] = "";
    void *b = NULL;
    size_t n = 0;
    int32_t st = (int32_t)gc_h5_convert(path, dtype, &b, &n, cerr, sizeof cerr);
    uint64_t n64 = st == GC_OK ? (uint64_t)n : 0;
    int ok = write_all(fds[1], &st, sizeof st) == 0 && write_all(fds[1], cerr, sizeof cerr) == 0 &&
             write_all(fds[1], &n64, sizeof n64) == 0 && (n64 == 0 || write_all(fds[1], b, n) == 0);
    _exit(ok ? 0 : 3);
  }
  close(fds[1]);
  int32_t st = -1;
  char cerr[GC_ERRBUF_SIZE] = "";
  uint64_t n64 = 0;
  gc_status s = GC_OK;
  void *b = NULL;
  if (read_all(fds[0], &st, sizeof st) != 0 || read_all(fds[0], cerr, sizeof cerr) != 0 ||
      read_all(fds[0], &n64, sizeof n64) != 0) {
    st = -1;
  } else if (st == GC_OK) {
    b = n64 && n64 <= SIZE_MAX ? malloc((size_t)n64) : NULL;
    if (!b) {
      s = GC_ERR_OUT_OF_MEMORY;
      snprintf(err, errlen, "out of memory for the converted weights (%llu bytes)", (unsigned long long)n64);
    } else if (read_all(fds[0], b, (size_t)n64) != 0) {
      st = -1;
    }
  }
  close(fds[0]);
  int wst = 0;
  while (waitpid(pid, &wst, 0) < 0 && errno == EINTR) {
  }
  if (s != GC_OK) {
    free(b);
    return s;
  }
  if (st == -1 || !WIFEXITED(wst) || WEXITSTATUS(wst) != 0) {
    free(b);
    if (WIFSIGNALED(wst))
      snprintf(err, errlen, "'%s' is a damaged HDF5 file: the HDF5 library crashed reading it (signal %d)", path,
               WTERMSIG(wst));
    else
      snprintf(err, errlen, "'%s' could not be read: the HDF5 reader stopped (exit status %d)", path,
               WIFEXITED(wst) ? WEXITSTATUS(wst) : -1);
    return GC_ERR_CONVERT;
  }
  if (st != GC_OK) {
    snprintf(err, errlen, "%s", cerr);
    return (gc_status)st;
  }
  *bytes = b; /* malloc'ed: the caller frees it with gc_free */
  *size = (size_t)n64;
  return GC_OK;
}
