/* h5.h - a reader for the subset of HDF5 that Keras (through h5py) writes, on a file image in
 * memory. Not public; used by the format code (src/formats/) in the CLI and the wasm core alike.
 *
 * Supported: superblock versions 0-3; object headers v1 and v2 (with continuation blocks);
 * groups as symbol tables (v1 B-tree + local heap) or link messages (compact) or dense link
 * storage (fractal heap + v2 B-tree name index), hard links only; datasets with contiguous,
 * compact or chunked layout (layout message v3 and v4; chunk indexes: v1 B-tree, single chunk,
 * implicit, fixed array, extensible array, v2 B-tree), filters deflate and shuffle, element types
 * IEEE float16/32/64 little-endian (read as float32) and 1/2/4/8-byte integers (info only);
 * attributes in the object header or in dense attribute storage, holding fixed-length or
 * variable-length strings (global heap), scalar or one-dimensional.
 * Not read, each a named GC_ERR_H5: soft and external links (listed by gc_h5_children, not
 * followed), filters other than deflate and shuffle (Fletcher-32, szip, n-bit, scale-offset),
 * shared or committed datatypes, virtual datasets, user blocks, data layout messages 1 and 2
 * (HDF5 1.4), big-endian or non-IEEE floats (gc_h5_read_f32), filtered fractal heaps.
 *
 * Safety contract (the bytes are untrusted): every offset, size, count and nesting depth is
 * checked against the file image before it is used or allocated; a structure that loops
 * (continuation blocks, B-tree nodes, heap blocks) is detected; the work per call is bounded by
 * the file size; nothing is allocated that the file's size cannot justify (decompressed data is
 * bounded by the dataset's size, itself bounded by 1032 x the stored bytes, deflate's maximum
 * ratio). Failures return GC_ERR_H5 with a message naming the object ("'layers/dense/vars/0':
 * chunk 3 points past the end of the file ..."), GC_ERR_OUT_OF_MEMORY, or GC_ERR_INVALID_ARGUMENT
 * for NULL arguments; never a crash, an exit or an abort.
 */
#ifndef GRADCAM_IO_H5_H
#define GRADCAM_IO_H5_H

#include <stddef.h>
#include <stdint.h>

#include "gradcam.h"

#define GC_H5_MAX_DIMS 8

typedef struct gc_h5 gc_h5; /* an open file image: borrows the bytes, which must outlive it */

/* An object (group or dataset) of the file: the address of its object header. */
typedef struct gc_h5_obj {
  uint64_t addr;
} gc_h5_obj;

typedef enum gc_h5_kind { GC_H5_GROUP = 1, GC_H5_DATASET = 2, GC_H5_OTHER = 3 } gc_h5_kind;

typedef enum gc_h5_class { GC_H5_FLOAT = 1, GC_H5_INTEGER = 2, GC_H5_STRING = 3, GC_H5_OTHER_TYPE = 4 } gc_h5_class;

typedef struct gc_h5_dataset_info {
  gc_h5_class type_class;
  int type_size;                   /* bytes per element (2, 4, 8 for floats) */
  int ndim;                        /* 0 for a scalar */
  int64_t dims[GC_H5_MAX_DIMS];
  uint64_t count;                  /* number of elements (1 for a scalar) */
} gc_h5_dataset_info;

/* A list of strings, each NUL-terminated, released with gc_h5_strings_free. */
typedef struct gc_h5_strings {
  char **items;
  size_t count;
} gc_h5_strings;

gc_status gc_h5_open(const void *bytes, size_t size, gc_h5 **out, char *err, size_t errlen);
void gc_h5_close(gc_h5 *f);
/* 1 if the bytes start with the HDF5 signature (at offset 0; user blocks are not supported). */
int gc_h5_is_hdf5(const void *bytes, size_t size);

gc_h5_obj gc_h5_root(const gc_h5 *f);
/* The object at a path of link names separated by '/', relative to `from` (a leading '/' starts
 * at the root). A missing link gives GC_ERR_H5 with "no object 'path'" (check first with
 * gc_h5_exists when absence is not an error). */
gc_status gc_h5_open_path(gc_h5 *f, gc_h5_obj from, const char *path, gc_h5_obj *out, char *err, size_t errlen);
/* 1 if the path leads to an object, 0 if a link on it is missing, negative (a gc_status
 * negated) if the file is damaged on the way. */
int gc_h5_exists(gc_h5 *f, gc_h5_obj from, const char *path, char *err, size_t errlen);
gc_status gc_h5_kind_of(gc_h5 *f, gc_h5_obj obj, gc_h5_kind *kind, char *err, size_t errlen);
/* Names of a group's links, sorted by strcmp. */
gc_status gc_h5_children(gc_h5 *f, gc_h5_obj group, gc_h5_strings *out, char *err, size_t errlen);

/* Attributes. gc_h5_has_attr: 1 / 0 / negative status as gc_h5_exists. */
int gc_h5_has_attr(gc_h5 *f, gc_h5_obj obj, const char *name, char *err, size_t errlen);
/* Names of an object's attributes, sorted by strcmp. */
gc_status gc_h5_attr_names(gc_h5 *f, gc_h5_obj obj, gc_h5_strings *out, char *err, size_t errlen);
/* A string attribute (fixed- or variable-length, scalar or 1-D; a 1-D array of 8-bit integers
 * is taken as one string too): one item per element, padding removed. An empty array gives
 * count 0. Any other type gives GC_ERR_H5 naming the attribute and its type. */
gc_status gc_h5_attr_strings(gc_h5 *f, gc_h5_obj obj, const char *name, gc_h5_strings *out, char *err,
                             size_t errlen);
void gc_h5_strings_free(gc_h5_strings *s);

/* Datasets. */
gc_status gc_h5_dataset_info_of(gc_h5 *f, gc_h5_obj ds, gc_h5_dataset_info *info, char *err, size_t errlen);
/* All elements of a floating-point dataset as float32 (float64 rounded to nearest), row-major;
 * `count` must equal the info's count. Integer or other types give GC_ERR_H5. */
gc_status gc_h5_read_f32(gc_h5 *f, gc_h5_obj ds, float *out, uint64_t count, char *err, size_t errlen);

#endif
