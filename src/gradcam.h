/*
 * gradcam.h - the one public header of the Xception Grad-CAM core.
 *
 * Overview
 * --------
 * The core runs the Keras Xception ImageNet classifier (299x299x3 -> 1000 classes) on
 * XNNPACK operators, natively and in WebAssembly. It is plain C11 with no global state:
 * everything lives in an opaque gc_model handle. Every function that can fail returns a
 * gc_status; gc_status_to_string() names it, and gc_model_last_error() (or the errbuf of
 * the loaders) gives a human-readable detail. Bad input never exits or aborts.
 *
 * Usage
 * -----
 *     gc_params p = gc_default_params();
 *     p.threads = 2;
 *     gc_model *m = NULL;
 *     char err[256];
 *     gc_status s = gc_model_load_file("weights/xception.gcw", &p, &m, err, sizeof err);
 *     if (s != GC_OK) { fprintf(stderr, "%s: %s\n", gc_status_to_string(s), err); return 1; }
 *     s = gc_model_forward_image(m, rgba, width, height, width * 4, GC_PIXEL_RGBA8);
 *     gc_class_score top[5];
 *     gc_model_top_k(m, 5, top);          // top[0].index, gc_class_name(top[0].index), .prob
 *     gc_model_free(m);
 *
 * Ownership: pointers returned by gc_model_* accessors point into the model and stay
 * valid until the next forward call, gc_model_set_threads() or gc_model_free().
 *
 * Layers: every intermediate activation is addressable by its Keras layer name
 * (block1_conv1_act ... block14_sepconv2_act, block2_pool, ...). The residual
 * additions, which Keras names add/add_1/..., are called block2_add ... block13_add here;
 * the four residual 1x1 convolutions (+BN) are block2_residual, block3_residual,
 * block4_residual and block13_residual. gc_layer_count()/gc_layer_name() list them all.
 */
#ifndef GRADCAM_H
#define GRADCAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GC_VERSION_STRING "0.1.0"
#define GC_NUM_CLASSES 1000
#define GC_INPUT_SIZE 299 /* the size images are resized to */
#define GC_MIN_INPUT_SIZE 71 /* smallest tensor the network accepts */
#define GC_MAX_INPUT_SIZE 1024 /* largest tensor side gc_model_forward_tensor accepts */
#define GC_MAX_IMAGE_SIDE 131072 /* largest image side accepted by the image entry points */
#define GC_MAX_IMAGE_PIXELS (64 * 1024 * 1024) /* largest width * height accepted */
#define GC_MAX_DIMS 4
#define GC_ERRBUF_SIZE 256

typedef enum gc_status {
  GC_OK = 0,
  GC_ERR_INVALID_ARGUMENT,    /* NULL pointer, negative size, bad option */
  GC_ERR_OUT_OF_MEMORY,
  GC_ERR_IO,                  /* file could not be opened or read */
  GC_ERR_WEIGHTS_TRUNCATED,   /* file shorter than its header/table says */
  GC_ERR_WEIGHTS_MAGIC,       /* not a weights file of this project */
  GC_ERR_WEIGHTS_VERSION,     /* format version this build does not read */
  GC_ERR_WEIGHTS_MODEL,       /* weights of another model (not Xception) */
  GC_ERR_WEIGHTS_CHECKSUM,    /* data does not match its checksum */
  GC_ERR_WEIGHTS_SHAPE,       /* a tensor has the wrong shape */
  GC_ERR_WEIGHTS_MISSING,     /* a tensor the model needs is absent */
  GC_ERR_WEIGHTS_CORRUPT,     /* malformed table (bad offsets, dtype, names) */
  GC_ERR_IMAGE_INVALID,       /* bad pixel buffer, stride or format */
  GC_ERR_IMAGE_SIZE,          /* image or tensor too small or too large */
  GC_ERR_IMAGE_DECODE,        /* bytes are not a decodable image */
  GC_ERR_LAYER_UNKNOWN,       /* no layer by that name */
  GC_ERR_CLASS_OUT_OF_RANGE,  /* class index not in 0..999 */
  GC_ERR_NOT_RUN,             /* result asked for before a forward pass */
  GC_ERR_CONVERT,             /* the source weights do not describe Keras Xception */
  GC_ERR_BACKEND,             /* XNNPACK or the thread pool failed */
  GC_STATUS_COUNT
} gc_status;

/* Static English name and short description of a status ("GC_ERR_WEIGHTS_CHECKSUM: ..."). */
const char *gc_status_to_string(gc_status status);

typedef enum gc_pixel_format {
  GC_PIXEL_RGB8 = 3,  /* 3 bytes per pixel, R G B */
  GC_PIXEL_RGBA8 = 4  /* 4 bytes per pixel, R G B A (alpha ignored, not premultiplied) */
} gc_pixel_format;

typedef enum gc_dtype { GC_DTYPE_F32 = 0, GC_DTYPE_F16 = 1 } gc_dtype;

typedef struct gc_params {
  int threads; /* worker threads for XNNPACK's pool; 0 = one per core (default 1) */
} gc_params;

gc_params gc_default_params(void);

typedef struct gc_model gc_model;

typedef struct gc_shape {
  int ndim;               /* 4 for feature maps (N,H,W,C), 2 for logits (N,C) */
  int dims[GC_MAX_DIMS];
} gc_shape;

typedef struct gc_class_score {
  int index;   /* 0..999, Keras class order */
  float prob;  /* softmax probability */
  float logit; /* pre-softmax score */
} gc_class_score;

/* ---- loading ------------------------------------------------------------------------ */

/* Load weights in the project format (weights/README.md) from memory. The bytes are
 * copied/unpacked; the caller may free them afterwards. On failure *out is NULL and, when
 * errbuf is not NULL, a detail message (at most errlen bytes, NUL-terminated) is written. */
gc_status gc_model_load_memory(const void *data, size_t size, const gc_params *params,
                               gc_model **out, char *errbuf, size_t errlen);
/* The same from a file path. */
gc_status gc_model_load_file(const char *path, const gc_params *params, gc_model **out,
                             char *errbuf, size_t errlen);
void gc_model_free(gc_model *model);

/* Detail message of the last failure on this model ("" if none). */
const char *gc_model_last_error(const gc_model *model);

gc_status gc_model_set_threads(gc_model *model, int threads);
int gc_model_threads(const gc_model *model);
/* Number of parameters in the loaded file (22,910,480 for Xception). */
size_t gc_model_param_count(const gc_model *model);

/* ---- forward ------------------------------------------------------------------------ */

/* Resize an 8-bit RGB/RGBA image of any size to 299x299 (bilinear, see gc_preprocess_image)
 * and run the network. stride is in bytes between rows (>= width * channels). */
gc_status gc_model_forward_image(gc_model *model, const uint8_t *pixels, int width, int height,
                                 int stride, gc_pixel_format format);

/* Run the network on an already preprocessed NHWC float tensor (1 x height x width x 3,
 * values usually in [-1, 1]). height and width in [71, GC_MAX_INPUT_SIZE]. */
gc_status gc_model_forward_tensor(gc_model *model, const float *input, int height, int width);

/* Results of the last forward pass (NULL before the first). */
const float *gc_model_logits(const gc_model *model); /* 1000 pre-softmax scores */
const float *gc_model_probs(const gc_model *model);  /* 1000 softmax probabilities */

/* The k best classes, best first (k in 1..1000); ties broken by lower index. */
gc_status gc_model_top_k(const gc_model *model, int k, gc_class_score *out);

/* Activation of a named layer from the last forward pass: *data points into the model
 * (NHWC, batch 1). Layers whose value is fused away (the *_bn output feeding a fused ReLU)
 * report GC_ERR_LAYER_UNKNOWN with a message saying so. */
gc_status gc_model_activation(const gc_model *model, const char *layer, const float **data,
                              gc_shape *shape);

/* Input tensor of the last forward pass (1 x H x W x 3, after preprocessing). */
gc_status gc_model_input(const gc_model *model, const float **data, gc_shape *shape);

/* ---- layers and classes --------------------------------------------------------------- */

int gc_layer_count(void);
/* Name of layer i in forward order (0 <= i < gc_layer_count()), NULL if out of range. */
const char *gc_layer_name(int i);
/* Shape of a named layer for a given input size (default 299x299 when height/width 0). */
gc_status gc_layer_shape(const char *layer, int height, int width, gc_shape *shape);

/* Keras class name of index 0..999 ("tench", ..., "toilet_tissue"); NULL out of range. */
const char *gc_class_name(int index);
/* WordNet id ("n01440764"); NULL out of range. */
const char *gc_class_wnid(int index);

/* ---- preprocessing ---------------------------------------------------------------------- */

/* Bilinear resize of an 8-bit image to out_w x out_h followed by x / 127.5 - 1, written to
 * out (out_h * out_w * 3 floats, NHWC). Sampling uses pixel centres (src = (dst + 0.5) *
 * in / out - 0.5, clamped to the edge) and plain 2x2 bilinear weights with no prefilter,
 * which is what a browser canvas drawImage does with imageSmoothingQuality "low" (the
 * default). Alpha is ignored. */
gc_status gc_preprocess_image(const uint8_t *pixels, int width, int height, int stride,
                              gc_pixel_format format, int out_w, int out_h, float *out);

/* Decode PNG, JPEG, BMP, GIF (first frame), TGA, PSD, PIC or PNM bytes with stb_image into
 * 8-bit RGBA (grey, grey+alpha and 16-bit images are converted); *rgba is released with
 * gc_free. Images larger than GC_MAX_IMAGE_SIDE / GC_MAX_IMAGE_PIXELS give GC_ERR_IMAGE_SIZE;
 * anything undecodable GC_ERR_IMAGE_DECODE with a reason in errbuf. */
gc_status gc_decode_image(const void *bytes, size_t size, uint8_t **rgba, int *width, int *height,
                          char *errbuf, size_t errlen);

/* ---- weights conversion ----------------------------------------------------------------- */

/* A converter takes the weight tensors of a Keras Xception model in the order of the source
 * file's layers (HDF5 or TF.js layers format; layer/weight names as in the source) and
 * produces a weights file in the project format. Layers are matched the way Keras' loader
 * does: by order and shape, so auto-generated names (conv2d_1 vs conv2d) do not matter. */
typedef struct gc_converter gc_converter;

gc_status gc_converter_new(gc_converter **out);
/* Add one tensor. layer: the source layer name ("block1_conv1", "conv2d_1");
 * weight: the weight's short name ("kernel", "depthwise_kernel", "gamma", "bias", ...;
 * "block1_conv1/kernel:0" style names are accepted too); shape in the source (Keras HWIO)
 * layout; data is float32 and is copied. */
gc_status gc_converter_add(gc_converter *conv, const char *layer, const char *weight, int ndim,
                           const int64_t *shape, const float *data);
/* Produce the file; *bytes is malloc'ed (free with gc_free). Detail message on failure. */
gc_status gc_converter_finish(gc_converter *conv, gc_dtype dtype, void **bytes, size_t *size,
                              char *errbuf, size_t errlen);
void gc_converter_free(gc_converter *conv);

void gc_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* GRADCAM_H */
