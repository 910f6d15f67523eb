/* h5.h - read Keras HDF5 weight files (native CLI only; uses Debian's libhdf5). */
#ifndef GRADCAM_CLI_H5_H
#define GRADCAM_CLI_H5_H

#include <stddef.h>

#include "gradcam.h"

/* Read every weight of a Keras HDF5 weights file (root attribute layer_names, per layer
 * attribute weight_names, datasets <layer>/<weight>) in file order into a converter and
 * produce a project weights file image in *bytes (free with gc_free). */
gc_status gc_h5_convert(const char *path, gc_dtype dtype, void **bytes, size_t *size, char *err,
                        size_t errlen);

/* The same from an HDF5 file image in memory (libhdf5's core driver; the bytes are copied). */
gc_status gc_h5_convert_memory(const void *data, size_t len, gc_dtype dtype, void **bytes, size_t *size, char *err,
                               size_t errlen);

/* gc_h5_convert in a forked child process: a crash of libhdf5 on a damaged file ends the
 * child and gives GC_ERR_CONVERT with a message, not a crash of the caller (POSIX only). */
gc_status gc_h5_convert_isolated(const char *path, gc_dtype dtype, void **bytes, size_t *size, char *err,
                                 size_t errlen);

/* 1 if the file starts with the HDF5 signature. */
int gc_h5_is_hdf5(const char *path);

#endif
