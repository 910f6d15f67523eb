/* formats.h - shared by the format readers of src/formats/ and the matcher; not public.
 *
 * Every reader turns a file into the same two things: a gc_spec (input size, preprocessing,
 * head: from the file's Keras config, or inferred from its weights) and a gc_source, the
 * file's weighted layers in the file's own terms (Keras names and layouts, weights in the order
 * the file lists them, read lazily). match.c pairs the source's layers with the tensors
 * gc_spec_weight_specs() asks for, the way Keras' own loaders do (formats/match.c says how), and
 * reads each tensor into the project's layout. import.c drives it all (the public gc_import_*).
 */
#ifndef GRADCAM_FORMATS_H
#define GRADCAM_FORMATS_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "io/h5.h"
#include "io/json.h"
#include "spec.h"

/* The kinds of weighted layer an Xception model is made of. */
typedef enum gc_kind {
  GC_KIND_NONE = 0, /* anything else (a layer of another model) */
  GC_KIND_CONV,     /* Conv2D: kernel [kh][kw][in][out] */
  GC_KIND_SEPCONV,  /* SeparableConv2D: depthwise [kh][kw][in][1], pointwise [1][1][in][out] */
  GC_KIND_BN,       /* BatchNormalization: gamma, beta, moving mean, moving variance [C] */
  GC_KIND_DENSE,    /* Dense: kernel [in][out], bias [out] */
  GC_KIND_COUNT
} gc_kind;

/* "Conv2D", "SeparableConv2D", "BatchNormalization", "Dense" (NULL for NONE). */
const char *gc_kind_name(gc_kind k);
/* The kind a Keras class name stands for ("Conv2D", "Convolution2D", "conv2d" as Keras 3
 * writes it, ...); GC_KIND_NONE for any other class. */
gc_kind gc_kind_of_class(const char *class_name);

#define GC_SRC_NAME_SIZE 128
/* Xception has 236 weight tensors and a head at most 16 more: a file listing more than this is
 * another model, refused before any work grows with it */
#define GC_SRC_MAX_WEIGHTS 4096
#define GC_SRC_LABEL_SIZE 192

/* One weight tensor of the file, in the file's layout. */
typedef struct gc_src_weight {
  char label[GC_SRC_LABEL_SIZE]; /* what messages call it: "block1_conv1/kernel:0", "layers/conv2d/vars/0" */
  int ndim;
  int64_t dims[GC_MAX_DIMS];
  uint64_t count;  /* elements */
  uint64_t ref;    /* for the reader: an HDF5 object address, a byte offset */
  int part;        /* for the reader: a TF.js weight group */
  int dtype;       /* for the reader (TF.js: stored type) */
  float q_scale, q_min; /* TF.js affine quantization */
} gc_src_weight;

typedef struct gc_src_layer {
  char name[GC_SRC_NAME_SIZE]; /* the Keras layer name; "" where the format has none (Keras 3) */
  char label[GC_SRC_LABEL_SIZE]; /* what messages call it: "layer 'conv2d_1'", "layers/conv2d_1" */
  gc_kind kind;                /* from its class where the file says it, else from its weights */
  int first, count;            /* its weights: source->weights[first .. first + count - 1] */
} gc_src_layer;

typedef struct gc_source gc_source;
/* Read weight w as float32 (w->count values) into out. */
typedef gc_status (*gc_src_read_fn)(gc_source *s, const gc_src_weight *w, float *out, char *err, size_t errlen);

struct gc_source {
  gc_src_layer *layers; /* weighted layers, in the file's order */
  int nlayers, cap_layers;
  gc_src_weight *weights;
  int nweights, cap_weights;
  gc_src_read_fn read;
  void *state; /* the reader's (an open HDF5 file, shard bytes, ...) */
  void (*release)(gc_source *s); /* frees state */
  char file[GC_SRC_NAME_SIZE];   /* the file the weights are in, for messages */
};

void gc_source_init(gc_source *s);
void gc_source_free(gc_source *s);
/* Start a new layer (kind GC_KIND_NONE: decided from its class or weights later). */
gc_status gc_source_add_layer(gc_source *s, const char *name, const char *label, gc_kind kind);
/* Add a weight to the last layer; *out (may be NULL) points at it until the next add. */
gc_status gc_source_add_weight(gc_source *s, const char *label, int ndim, const int64_t *dims, gc_src_weight **out,
                               char *err, size_t errlen);
/* Drop layers without weights (formats list every layer; only weighted ones are matched). */
void gc_source_drop_empty(gc_source *s);
/* Weights listed one by one with their layer's name, grouped into layers by that name, in the
 * order the names first appear (a nested Keras 2 model lists all trainable weights before the
 * batch norms' statistics; a weight keeps its place among its layer's). `labels` (may be NULL)
 * gives each weight's label (else the entry's own). */
typedef struct gc_src_entry {
  char layer[GC_SRC_NAME_SIZE];
  gc_src_weight w; /* label, shape and reader fields */
} gc_src_entry;
gc_status gc_source_add_grouped(gc_source *s, const gc_src_entry *e, int n, char *err, size_t errlen);
/* A layer's kind from its weights' shapes where its class did not say: one 4-D tensor is a
 * Conv2D, two a SeparableConv2D, a 2-D and a 1-D tensor a Dense, 3 or 4 vectors of one length
 * a BatchNormalization; otherwise a Keras class name at the start of its name decides
 * ("batchnormalization_3" in a Keras 1 file). */
void gc_source_guess_kinds(gc_source *s);

/* ---- matching (match.c) ------------------------------------------------------------------- */

typedef struct gc_match {
  int count;              /* tensors the model needs (gc_spec_weight_specs) */
  gc_tensor_spec *specs;  /* their names and layouts */
  int *src;               /* the source weight of each */
} gc_match;

/* Pair the source's layers with the model's; every shape is checked. GC_ERR_CONVERT (or
 * GC_ERR_WEIGHTS_SHAPE / _MISSING) naming the layer and tensor. */
gc_status gc_match_source(const gc_spec *spec, const gc_source *src, gc_match *m, char *err, size_t errlen);
/* Read tensor i of the match, in the project's layout, checked finite; *out is malloc'ed. */
gc_status gc_match_read(const gc_match *m, gc_source *src, int i, float **out, char *err, size_t errlen);
void gc_match_free(gc_match *m);
/* GC_ERR_CONVERT naming the first value float16 cannot hold (|x| > 65504), for f16 output. */
gc_status gc_check_f16(const gc_tensor_spec *specs, float *const *data, int count, char *err, size_t errlen);

/* A head inferred from the weights alone (no config): every Dense layer of the source, in its
 * order, makes the head (hidden ones relu, the last softmax, or sigmoid for one unit); `pool`
 * is what the format could tell (GC_POOL_NONE: average when there is a Dense layer), pool_name
 * its layer's name (NULL: "avg_pool" / "max_pool"). Without
 * Dense layers the model is the base alone, with `pool` if any. Input 299x299, x / 127.5 - 1.
 * GC_ERR_CONVERT when the Dense kernels do not chain (2048 -> a -> b ...). */
gc_status gc_infer_head(const gc_source *src, gc_pool pool, const char *pool_name, gc_spec *spec, char *err,
                        size_t errlen);

/* ---- Keras model configs (kconfig.c) ---------------------------------------------------------- */

/* A Keras model config ({"class_name": "Functional" | "Model" | "Sequential", "config": ...},
 * as in model_config, config.json or a TF.js modelTopology) into a spec: the Xception base
 * must be in it (by its layer names, nested or not); the layers before it may only rescale or
 * augment, the layers after it must form a supported head. GC_ERR_CONVERT naming the layer
 * otherwise. `what` names the config's origin for messages ("config.json"). */
gc_status gc_kconfig_spec(const gc_json_value *model, const char *what, gc_spec *spec, char *err, size_t errlen);

/* ---- the readers --------------------------------------------------------------------------------
 * Each fills spec, source and format from a file image (borrowed: it must outlive the source).
 * `name` is the file's name for messages. (A .gcw needs no reader: import.c takes its tensors
 * by name.) */
typedef struct gc_import_files {
  int count;
  const char *const *names;
  const void *const *bytes;
  const size_t *sizes;
} gc_import_files;

typedef struct gc_reader_out {
  gc_spec spec;
  gc_source source;
  const char *format; /* an id of detect.c's table */
  char note[192];     /* what the description should add ("Rescaling factors not in the file: ...") */
  char **names;       /* class names the file carries (.gcw v2), else NULL */
  int nnames;
} gc_reader_out;

gc_status gc_read_h5(const char *name, const void *bytes, size_t size, gc_reader_out *out, char *err, size_t errlen);
gc_status gc_read_keras_zip(const char *name, const void *bytes, size_t size, gc_reader_out *out, char *err,
                            size_t errlen);
gc_status gc_read_tfjs(const gc_import_files *files, gc_reader_out *out, char *err, size_t errlen);

/* Shared by the HDF5 readers (keras_legacy.c): the source reads its weights from f and, when
 * it is freed, closes f and frees `owned` (may be NULL). */
gc_status gc_source_use_h5(gc_source *s, gc_h5 *f, void *owned);
/* The float dataset at path (from group) as a source weight labelled `label`. */
gc_status gc_h5_weight(gc_h5 *f, gc_h5_obj group, const char *path, const char *label, gc_src_weight *w, char *err,
                       size_t errlen);
/* A Keras 3 weights file (keras3.c), already open and given to out->source; config: the
 * model's config (config.json of a .keras), NULL when there is none (the head is inferred);
 * config_what names it in messages. */
gc_status gc_keras3_read(gc_h5 *f, const char *name, const gc_json_value *config, const char *config_what,
                         gc_reader_out *out, char *err, size_t errlen);

/* ---- recognition (detect.c) ---------------------------------------------------------------------- */

typedef enum gc_container {
  GC_CONTAINER_UNKNOWN = 0,
  GC_CONTAINER_GCW,
  GC_CONTAINER_HDF5,
  GC_CONTAINER_ZIP,
  GC_CONTAINER_JSON
} gc_container;

/* What the bytes are, by their first bytes alone; for UNKNOWN, `what` (may be NULL) receives a
 * phrase naming what they look like ("a PNG image", "empty") for the message. */
gc_container gc_detect_container(const void *bytes, size_t size, char *what, size_t whatlen);

/* The formats read, one row each: id (gc_import_describe's "format") and what it is. */
typedef struct gc_format_info {
  const char *id;
  const char *source;
} gc_format_info;
int gc_format_count(void);
const gc_format_info *gc_format_at(int i);
/* The row of an id (NULL if none). */
const gc_format_info *gc_format_find(const char *id);

#endif
