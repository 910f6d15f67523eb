/* seeds.c - write the starting corpora of the fuzz targets: fuzz_seeds OUTDIR SOURCE_DIR
 * creates OUTDIR/<target>/ with small valid inputs (weights files with the first tensors of
 * Xception, HDF5 files in Keras' layout and in libhdf5's newest format, .keras-like ZIP archives,
 * small images in every format stb_image reads, structured converter and request inputs). Generated at fuzz time so no large binary is committed. */
#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "bytes.h"
#include "io/zip.h"
#include "synth.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image_write.h>

static char outdir[4096];

static void put_seed(const char *target, const char *name, const void *data, size_t size) {
  char path[8192];
  snprintf(path, sizeof path, "%s/%s", outdir, target);
  mkdir(path, 0777);
  snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
    fprintf(stderr, "fuzz_seeds: cannot write %s: %s\n", path, strerror(errno));
    exit(1);
  }
}

/* ---- weights: the first n tensors of the model, written by the project's writer */
static void weights_seeds(void) {
  synth w;
  if (synth_make(&w, 5) != 0) exit(1);
  static const int counts[] = {1, 5, 10};
  for (int k = 0; k < 3; k++)
    for (int dt = 0; dt < 2; dt++) {
      void *bytes = NULL;
      size_t size = 0;
      if (gc_weights_write(w.specs, (const float *const *)w.data, counts[k], (gc_dtype)dt, &bytes, &size) != GC_OK)
        exit(1);
      char name[64];
      snprintf(name, sizeof name, "first%d-%s.gcw", counts[k], dt ? "f16" : "f32");
      put_seed("fuzz_weights", name, bytes, size);
      gc_free(bytes);
    }
  synth_free(&w);
}

/* a file's bytes as a seed of target, the file removed */
static void seed_file(const char *target, const char *name, const char *path) {
  bytes b = {0};
  if (!put_file(&b, path)) exit(1);
  remove(path);
  put_seed(target, name, b.b, b.n);
  free(b.b);
}

/* ---- Keras HDF5 files: a few layers in the layout of Keras' weight files */
typedef struct h5layer {
  const char *name;
  int nweights;
  const char *weights[4];
  int ndim[4];
  hsize_t dims[4][4];
} h5layer;

static void h5_names_attr(hid_t obj, const char *attr, const char *const *names, int n, int varlen) {
  hsize_t dim = (hsize_t)n;
  hid_t space = H5Screate_simple(1, &dim, NULL);
  hid_t type = H5Tcopy(H5T_C_S1);
  if (varlen) {
    H5Tset_size(type, H5T_VARIABLE);
    hid_t a = H5Acreate2(obj, attr, type, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, type, names);
    H5Aclose(a);
  } else {
    size_t len = 1;
    for (int i = 0; i < n; i++) len = strlen(names[i]) > len ? strlen(names[i]) : len;
    char *buf = calloc((size_t)(n ? n : 1), len);
    for (int i = 0; i < n; i++) memcpy(buf + (size_t)i * len, names[i], strlen(names[i]));
    H5Tset_size(type, len);
    hid_t a = H5Acreate2(obj, attr, type, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, type, buf);
    H5Aclose(a);
    free(buf);
  }
  H5Tclose(type);
  H5Sclose(space);
}

static void h5_seed(const char *name, const h5layer *layers, int n, int varlen) {
  char tmp[8192];
  snprintf(tmp, sizeof tmp, "%s/.seed.h5", outdir);
  hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const char *names[16];
  for (int i = 0; i < n; i++) names[i] = layers[i].name;
  h5_names_attr(f, "layer_names", names, n, varlen);
  for (int i = 0; i < n; i++) {
    hid_t g = H5Gcreate2(f, layers[i].name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    char full[4][128];
    const char *wn[4];
    for (int k = 0; k < layers[i].nweights; k++) {
      snprintf(full[k], sizeof full[k], "%s/%s:0", layers[i].name, layers[i].weights[k]);
      wn[k] = full[k];
    }
    h5_names_attr(g, "weight_names", wn, layers[i].nweights, varlen);
    for (int k = 0; k < layers[i].nweights; k++) {
      hid_t space = H5Screate_simple(layers[i].ndim[k], layers[i].dims[k], NULL);
      hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
      H5Pset_create_intermediate_group(lcpl, 1);
      hid_t ds = H5Dcreate2(g, full[k], H5T_IEEE_F32LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
      hssize_t np = H5Sget_simple_extent_npoints(space);
      float *v = malloc((size_t)np * sizeof *v);
      for (hssize_t e = 0; e < np; e++) v[e] = (float)(e % 7) * 0.1f + 0.5f;
      H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
      free(v);
      H5Dclose(ds);
      H5Pclose(lcpl);
      H5Sclose(space);
    }
    H5Gclose(g);
  }
  H5Fclose(f);
  seed_file("fuzz_h5", name, tmp);
}

/* ---- HDF5 files in the newest format (checksummed headers, fractal heaps, v2 B-trees, every
 * chunk index) and with chunked, deflated and shuffled data */
static hid_t h5_dataset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims, const hsize_t *max,
                        const hsize_t *chunk, int deflate) {
  hid_t space = H5Screate_simple(rank, dims, max);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (chunk) H5Pset_chunk(dcpl, rank, chunk);
  if (deflate) H5Pset_shuffle(dcpl), H5Pset_deflate(dcpl, (unsigned)deflate);
  hid_t ds = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  hssize_t np = H5Sget_simple_extent_npoints(space);
  double *v = malloc((size_t)(np ? np : 1) * sizeof *v);
  for (hssize_t e = 0; e < np; e++) v[e] = (double)(e % 11) * 0.25 - 1;
  H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
  free(v);
  H5Pclose(dcpl);
  H5Sclose(space);
  return ds;
}

static void h5_format_seed(const char *name, int latest) {
  char tmp[8192];
  snprintf(tmp, sizeof tmp, "%s/.seed.h5", outdir);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (latest) H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  static const char *const layers[] = {"conv", "dense", "bn"};
  h5_names_attr(f, "layer_names", layers, 3, latest);
  hid_t g = H5Gcreate2(f, "dense_group", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  for (int i = 0; i < 12; i++) { /* past 8 links and 8 attributes: dense storage (latest) */
    char n[16];
    snprintf(n, sizeof n, "g%02d", i);
    H5Gclose(H5Gcreate2(g, n, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    const char *one[1] = {n};
    h5_names_attr(g, n, one, 1, i & 1);
  }
  H5Gclose(g);
  const hsize_t d2[2] = {10, 7}, c2[2] = {4, 3}, unl[2] = {H5S_UNLIMITED, 7}, unl2[2] = {H5S_UNLIMITED, H5S_UNLIMITED};
  const hsize_t d1[1] = {9}, c1[1] = {9};
  H5Dclose(h5_dataset(f, "chunked", H5T_IEEE_F32LE, 2, d2, NULL, c2, 6));   /* fixed array */
  H5Dclose(h5_dataset(f, "extensible", H5T_IEEE_F64LE, 2, d2, unl, c2, 0)); /* extensible array */
  H5Dclose(h5_dataset(f, "btree2", H5T_IEEE_F32LE, 2, d2, unl2, c2, 1));    /* v2 B-tree */
  H5Dclose(h5_dataset(f, "single", H5T_IEEE_F64LE, 1, d1, NULL, c1, 4));    /* single chunk */
  H5Dclose(h5_dataset(f, "contiguous", H5T_IEEE_F64LE, 2, d2, NULL, NULL, 0));
  H5Fclose(f);
  H5Pclose(fapl);
  seed_file("fuzz_h5", name, tmp);
}

static void h5_seeds(void) {
  const h5layer layers[] = {
      {"input_1", 0, {0}, {0}, {{0}}},
      {"block1_conv1", 1, {"kernel"}, {4}, {{3, 3, 3, 32}}},
      {"block1_conv1_bn", 4, {"gamma", "beta", "moving_mean", "moving_variance"}, {1, 1, 1, 1},
       {{32}, {32}, {32}, {32}}},
      {"block1_conv1_act", 0, {0}, {0}, {{0}}},
      {"block2_sepconv1", 2, {"depthwise_kernel", "pointwise_kernel"}, {4, 4}, {{3, 3, 64, 1}, {1, 1, 64, 128}}},
      {"conv2d", 1, {"kernel"}, {4}, {{1, 1, 64, 128}}},
      {"predictions", 2, {"kernel", "bias"}, {2, 1}, {{20, 10}, {10}}},
  };
  h5_seed("keras-fixed.h5", layers, 7, 0);
  h5_seed("keras-varlen.h5", layers, 4, 1);
  h5_seed("keras-one.h5", layers + 1, 1, 0);
  h5_format_seed("latest.h5", 1);
  h5_format_seed("chunked.h5", 0);
}

/* ---- ZIP archives: a .keras file's entries (JSON, a directory, an HDF5 file), stored or
 * deflated (stb_image_write's zlib compressor, its 2-byte header and Adler-32 removed) */
static void zip_seed(const char *name, int deflate, const char *h5_seed_name) {
  char path[8192];
  snprintf(path, sizeof path, "%s/fuzz_h5/%s", outdir, h5_seed_name);
  bytes h5 = {0};
  if (!put_file(&h5, path)) exit(1);
  struct {
    const char *name;
    const unsigned char *data;
    size_t n;
  } e[4] = {{"metadata.json", (const unsigned char *)"{\"keras_version\": \"3.3.3\"}", 26},
            {"config.json", (const unsigned char *)"{\"class_name\": \"Functional\", \"config\": {\"layers\": []}}", 53},
            {"assets/", (const unsigned char *)"", 0},
            {"model.weights.h5", h5.b, h5.n}};
  bytes z = {0};
  size_t local[4], zlen[4];
  unsigned char *zdata[4];
  for (int i = 0; i < 4; i++) {
    int len = 0;
    zdata[i] = deflate && e[i].n ? stbi_zlib_compress((unsigned char *)e[i].data, (int)e[i].n, &len, 8) : NULL;
    zlen[i] = zdata[i] ? (size_t)len - 6 : e[i].n;
    local[i] = put_le(&z, 0x04034b50, 4);
    put_le(&z, 20, 2), put_le(&z, 0, 2), put_le(&z, zdata[i] ? 8 : 0, 2), put_le(&z, 0, 4);
    put_le(&z, gc_zip_crc32(0, e[i].data, e[i].n), 4), put_le(&z, zlen[i], 4), put_le(&z, e[i].n, 4);
    put_le(&z, strlen(e[i].name), 2), put_le(&z, 0, 2), put_str(&z, e[i].name);
    put(&z, zdata[i] ? zdata[i] + 2 : e[i].data, zlen[i]);
  }
  const size_t cd = z.n;
  for (int i = 0; i < 4; i++) {
    put_le(&z, 0x02014b50, 4), put_le(&z, 20, 2), put_le(&z, 20, 2), put_le(&z, 0, 2);
    put_le(&z, zdata[i] ? 8 : 0, 2), put_le(&z, 0, 4);
    put_le(&z, gc_zip_crc32(0, e[i].data, e[i].n), 4), put_le(&z, zlen[i], 4), put_le(&z, e[i].n, 4);
    put_le(&z, strlen(e[i].name), 2), put_le(&z, 0, 8), put_le(&z, 0, 4), put_le(&z, local[i], 4);
    put_str(&z, e[i].name);
    free(zdata[i]);
  }
  const size_t cd_size = z.n - cd;
  put_le(&z, 0x06054b50, 4), put_le(&z, 0, 4), put_le(&z, 4, 2), put_le(&z, 4, 2);
  put_le(&z, cd_size, 4), put_le(&z, cd, 4), put_le(&z, 0, 2);
  put_seed("fuzz_zip", name, z.b, z.n);
  free(z.b);
  free(h5.b);
}

static void zip_seeds(void) {
  zip_seed("stored.keras", 0, "keras-one.h5");
  zip_seed("deflated.keras", 1, "keras-one.h5");
  zip_seed("deflated-latest.keras", 1, "latest.h5");
}

/* ---- images: the test photographs, shrunk, in every format */
static unsigned char wbuf[1 << 20];
static size_t wlen;
static void to_mem(void *ctx, void *data, int size) {
  (void)ctx;
  if (wlen + (size_t)size <= sizeof wbuf) memcpy(wbuf + wlen, data, (size_t)size);
  wlen += (size_t)size;
}
static void put_image(const char *name) {
  /* two leading bytes: fuzz_image's second output size */
  unsigned char *b = malloc(wlen + 2);
  b[0] = 17, b[1] = 40;
  memcpy(b + 2, wbuf, wlen);
  put_seed("fuzz_image", name, b, wlen + 2);
  free(b);
}

static void image_seeds(const char *srcdir) {
  static const char *const photos[] = {"darknet_eagle.jpg", "gradcam_both_cat_dog.png", "skimage_chelsea.png"};
  for (int p = 0; p < 3; p++) {
    char path[8192];
    snprintf(path, sizeof path, "%s/tests/data/images/%s", srcdir, photos[p]);
    FILE *f = fopen(path, "rb");
    if (!f) {
      fprintf(stderr, "fuzz_seeds: cannot read %s\n", path);
      exit(1);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *bytes = malloc((size_t)len);
    if (fread(bytes, 1, (size_t)len, f) != (size_t)len) exit(1);
    fclose(f);
    uint8_t *rgba;
    int w, h;
    char err[GC_ERRBUF_SIZE];
    if (gc_decode_image(bytes, (size_t)len, &rgba, &w, &h, err, sizeof err) != GC_OK) exit(1);
    free(bytes);
    const int sw = 24 + 4 * p, sh = 16 + 3 * p;
    uint8_t small[40 * 40 * 4], grey[40 * 40];
    for (int y = 0; y < sh; y++)
      for (int x = 0; x < sw; x++) {
        memcpy(small + (y * sw + x) * 4, rgba + ((size_t)(y * h / sh) * w + (size_t)(x * w / sw)) * 4, 4);
        small[(y * sw + x) * 4 + 3] = (uint8_t)(255 - x);
        grey[y * sw + x] = small[(y * sw + x) * 4 + 1];
      }
    gc_free(rgba);
    char name[64];
    wlen = 0, stbi_write_png_to_func(to_mem, NULL, sw, sh, 4, small, sw * 4);
    snprintf(name, sizeof name, "photo%d-rgba.png", p), put_image(name);
    wlen = 0, stbi_write_png_to_func(to_mem, NULL, sw, sh, 1, grey, sw);
    snprintf(name, sizeof name, "photo%d-grey.png", p), put_image(name);
    wlen = 0, stbi_write_jpg_to_func(to_mem, NULL, sw, sh, 4, small, 80);
    snprintf(name, sizeof name, "photo%d.jpg", p), put_image(name);
    wlen = 0, stbi_write_bmp_to_func(to_mem, NULL, sw, sh, 4, small);
    snprintf(name, sizeof name, "photo%d.bmp", p), put_image(name);
    wlen = 0, stbi_write_tga_to_func(to_mem, NULL, sw, sh, 3, small);
    snprintf(name, sizeof name, "photo%d.tga", p), put_image(name);
    /* binary PNM */
    wlen = (size_t)snprintf((char *)wbuf, sizeof wbuf, "P5\n%d %d\n255\n", sw, sh);
    memcpy(wbuf + wlen, grey, (size_t)sw * sh), wlen += (size_t)sw * sh;
    snprintf(name, sizeof name, "photo%d.pgm", p), put_image(name);
  }
  /* a 2x2 GIF, 2-colour palette, LZW min code size 2 */
  static const unsigned char gif[] = {'G', 'I', 'F', '8', '9', 'a', 2, 0, 2, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255,
                                      0x2c, 0, 0, 0, 0, 2, 0, 2, 0, 0, 2, 3, 0x84, 0x1d, 0x05, 0, 0x3b};
  memcpy(wbuf, gif, sizeof gif), wlen = sizeof gif, put_image("tiny.gif");
  /* a 1x1 RGB PSD (raw) */
  static const unsigned char psd[] = {'8', 'B', 'P', 'S', 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 8,
                                      0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 20, 30};
  memcpy(wbuf, psd, sizeof psd), wlen = sizeof psd, put_image("tiny.psd");
}

/* ---- converter: records of the first layers with their Keras shapes; the whole model */
static void keras_seeds(void) {
  unsigned char b[4096];
  size_t n = 0;
  b[n++] = 0; /* records, f32 */
  static const char *const recs[][2] = {{"block1_conv1", "kernel"}, {"block1_conv1_bn", "gamma"},
                                        {"block1_conv1_bn", "beta"}, {"conv2d", "kernel"},
                                        {"batch_normalization", "gamma"}, {"predictions_1", "bias"}};
  static const char *const weights[] = {"kernel", "depthwise_kernel", "pointwise_kernel", "gamma", "beta",
                                        "moving_mean", "moving_variance", "bias"};
  for (int i = 0; i < 6; i++) {
    b[n++] = 0xe0;
    b[n++] = (unsigned char)strlen(recs[i][0]);
    memcpy(b + n, recs[i][0], strlen(recs[i][0])), n += strlen(recs[i][0]);
    int wi = 0;
    for (int k = 0; k < 8; k++)
      if (!strcmp(weights[k], recs[i][1])) wi = k;
    b[n++] = (unsigned char)wi;
    b[n++] = 0; /* the Keras shape */
    b[n++] = 0; /* plain values */
  }
  put_seed("fuzz_keras", "records.bin", b, n);
  b[0] = 1;
  put_seed("fuzz_keras", "records-f16.bin", b, n);
  n = 0;
  b[n++] = 0;
  b[n++] = 0xe0, b[n++] = 3, memcpy(b + n, "abc", 3), n += 3;
  b[n++] = 0xe0, b[n++] = 3, memcpy(b + n, "k:0", 3), n += 3;
  b[n++] = 1, b[n++] = 4;
  for (int d = 0; d < 4; d++) b[n++] = 2, b[n++] = 0;
  b[n++] = 1;
  put_seed("fuzz_keras", "odd-shape.bin", b, n);
  /* the whole model (as is; with TF.js and long names, which still convert): regression
   * inputs in tests/fuzz/regressions/fuzz_keras, too slow for the fuzzing corpus */
}

static void request_seeds(void) {
  uint32_t s = 11;
  for (int k = 0; k < 8; k++) {
    unsigned char b[96];
    for (size_t i = 0; i < sizeof b; i++) b[i] = (unsigned char)(synth_rng(&s) >> 24);
    char name[32];
    snprintf(name, sizeof name, "random%d.bin", k);
    put_seed("fuzz_request", name, b, sizeof b);
  }
  unsigned char z[64] = {0};
  put_seed("fuzz_request", "defaults.bin", z, sizeof z);
}

/* ---- JSON and the import path: the small inputs kept as regression inputs (configs of every
 * head kind, labels, tiny Keras 1/2/3, .keras and TF.js files), as their starting corpora */
static void copy_dir(const char *srcdir, const char *target) {
  char dir[8192];
  snprintf(dir, sizeof dir, "%s/tests/fuzz/regressions/%s", srcdir, target);
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "fuzz_seeds: cannot open %s\n", dir);
    exit(1);
  }
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char path[8448];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    FILE *f = fopen(path, "rb");
    if (!f) continue;
    static unsigned char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    put_seed(target, e->d_name, buf, n);
  }
  closedir(d);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: fuzz_seeds OUTDIR SOURCE_DIR\n");
    return 2;
  }
  snprintf(outdir, sizeof outdir, "%s", argv[1]);
  mkdir(outdir, 0777);
  weights_seeds();
  h5_seeds();
  zip_seeds();
  image_seeds(argv[2]);
  keras_seeds();
  request_seeds();
  copy_dir(argv[2], "fuzz_json");
  copy_dir(argv[2], "fuzz_import");
  printf("fuzz_seeds: corpora written to %s\n", outdir);
  return 0;
}
