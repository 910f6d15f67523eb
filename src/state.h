/* state.h - the model handle's contents, shared by the core's files. Not public: callers see
 * only the opaque gc_model.
 *
 * Who uses what (dependencies run one way):
 *   methods.c, metrics.c   -> backward.c (gradients) -> forward.c (passes, activations)
 *   backward.c, forward.c  -> ops/ (one file per layer kind: create, reshape, run, backward)
 *   everything             -> model.c (the handle: lifecycle, weights, buffers, threads)
 */
#ifndef GRADCAM_STATE_H
#define GRADCAM_STATE_H

#include <pthreadpool.h>
#include <xnnpack.h>

#include "spec.h"

typedef struct gc_node {
  /* forward (ops/) */
  xnn_operator_t op;  /* conv, depthwise, relu, pool, add, dense */
  xnn_operator_t op2; /* pointwise convolution of a separable convolution */
  int h, w;           /* current output size */
  float *out;         /* (batch, h, w, cout) + XNN_EXTRA_BYTES; transient rows: a shared slot */
  float *val;         /* transient rows: the value recomputed on demand (1, h, w, cout) */
  /* fused ReLU rows: the pre-activation (the Keras *_bn output), computed on demand */
  xnn_operator_t pre_op; /* the row's last convolution without the ReLU clamp */
  float *pre;            /* (1, h, w, cout) */
  int pre_valid;
  /* backward (ops/, created on first use) */
  xnn_operator_t bop;  /* CONV: deconvolution or transposed 1x1; SEPCONV: transposed pointwise */
  xnn_operator_t bop2; /* SEPCONV: depthwise with the kernel rotated by 180 degrees */
  unsigned bgen;       /* shape generation the backward operators are reshaped for (0: none) */
  float *bweights;     /* DENSE: the folded kernel [cout][cin] as float32, for dx = W^T g */
  float *grad;         /* d(score)/d(out), (1, h, w, cout) */
  size_t grad_cap;     /* floats allocated in grad */
  int has_grad;
} gc_node;

struct gc_reshape_need;

struct gc_model {
  gc_spec spec;           /* what the weights file says the model is */
  gc_net net;             /* its rows */
  gc_layer *rows;         /* net.rows */
  int nrows;
  gc_node *nodes;
  int nclasses;           /* gc_spec_classes(&spec): 0 without a classifier */
  char **names;           /* class names (nclasses), NULL: the defaults */
  int threads;
  pthreadpool_t pool;
  int in_h, in_w, batch;  /* shape the forward operators are reshaped for (0 = none) */
  int ops_partial;        /* some rows are reshaped for another batch than the others */
  int kept_h, kept_w;     /* size the kept pass's buffers are allocated for (0 = none) */
  float **arena;          /* batch.c's buffers */
  size_t *arena_cap;
  int arena_n;
  const float *batch_logits; /* the classifier's outputs of the last batch (in the arena) */
  float *batch_out;          /* gc_forward_batch's copy of them */
  size_t batch_out_cap;
  unsigned shape_gen;     /* incremented by every reshape: sizes of all buffers may have changed */
  int ran;                /* batch-1 results of a forward pass are available */
  float *scratch;         /* depthwise output inside a separable convolution (gc_model_scratch) */
  size_t scratch_size;    /* floats it needs at batch 1 */
  float *slot[3];         /* outputs of transient rows during a kept pass: two short-lived slots,
                             the residual slot (freed after the pass: its memory serves the
                             backward pass) */
  size_t slot_size[3];
  void *workspace;        /* shared convolution workspace */
  size_t workspace_size;
  float *scores;          /* nclasses class scores (logits; binary: -z, +z) of the last pass */
  float *probs;           /* nclasses probabilities */
  size_t param_count;
  /* the weights file, kept to create backward and pre-activation operators on demand; w.data
     points into it. With a reader (gc_model_set_weights_reader) the copy is freed (NULL) and
     tensors are read back through it, each checked against its hash in wsums. */
  uint8_t *wbytes;
  size_t wbytes_size;
  uint8_t wsum[8];        /* the file's checksum field */
  gc_weights_read read;
  void *read_user;
  uint64_t *wsums;        /* gc_hash_words of each table entry's bytes */
  uint64_t wdata_offset;  /* the data section's offset in the file */
  gc_weights w;
  /* gradient buffers no row holds, kept for the next rows (ops/grad.c) */
  float **gpool;
  size_t *gpool_cap;
  int gpool_n;
  /* backward scratch: three buffers of the largest gradient size */
  float *bscratch[3];
  size_t bscratch_size;
  /* explanation results and working memory (methods.c, metrics.c) */
  float *mapbuf;
  size_t mapbuf_cap;
  float *work[3];
  size_t work_cap[3];
  /* what the last explanation weighed (gc_model_explain_detail) */
  float *detail_weights, *detail_map;
  size_t detail_weights_cap, detail_map_cap;
  int detail_k, detail_h, detail_w, detail_valid;
  gc_progress_callback progress; /* gc_model_set_progress */
  void *progress_user;
  char error[GC_ERRBUF_SIZE];
};

/* ---- model.c: the handle ------------------------------------------------------------------- */
void *gc_alloc_buffer(size_t floats);
/* A float buffer of the model that grows as needed (contents not kept). */
float *gc_model_buffer(float **buf, size_t *cap, size_t n);
/* The depthwise scratch (allocated on first use after a kept pass freed it). */
float *gc_model_scratch(gc_model *m);
/* Grow the shared convolution workspace to at least ws bytes. */
gc_status gc_model_workspace(gc_model *m, size_t ws);
/* xnn_initialize, once per process, with the arithmetic gc_set_arithmetic chose (arith.c) */
enum xnn_status gc_xnn_start(void);
gc_status gc_backend_error(gc_model *m, const char *what, const char *layer, enum xnn_status s);
/* Folded float32 weights of row i from the retained weights file: kernel (CONV: OHWI,
 * SEPCONV: pointwise [O][I], DENSE: [O][I]), dw (SEPCONV depthwise [k][k][C], else NULL),
 * bias [cout] (NULL for DENSE without one). The caller frees all three. */
gc_status gc_row_weights(gc_model *m, int i, float **kernel, float **dw, float **bias, char *err, size_t errlen);
/* The whole weights file: the kept copy (*bytes == m->wbytes), or read back and checked into a
 * malloc'ed buffer the caller frees. */
gc_status gc_model_weights_file(const gc_model *m, uint8_t **bytes, char *err, size_t errlen);
/* 1 if the model has stopped being asked to continue (calls the progress hook). */
int gc_model_cancelled(gc_model *m, int done, int total);

/* ---- forward.c ----------------------------------------------------------------------------- */
/* The operators reshaped for a batch (forward.c); the kept pass's buffers are not touched. */
gc_status gc_reshape_ops(gc_model *m, int batch, int h, int w, struct gc_reshape_need *need);
/* Only the rows from `first` on (the others keep their shape; the next pass reshapes all). */
gc_status gc_reshape_rows(gc_model *m, int first, int batch, int h, int w, struct gc_reshape_need *need);
/* The operators back at batch 1 for the kept pass (after batch.c's passes). */
gc_status gc_ops_batch1(gc_model *m);
/* Rerun the batch-1 forward pass from the row after `row` on the stored activations (the
 * tests perturb an activation in place and rerun, for finite differences). */
gc_status gc_forward_from(gc_model *m, int row);
/* Class scores (nclasses) from the classifier's outputs z. */
void gc_logits_to_scores(const gc_model *m, const float *z, float *out);
/* Probabilities of class scores, by the classifier's activation: softmax for softmax and for a
 * linear multi-class classifier; the logistic function of each score for sigmoid and binary. */
void gc_scores_to_probs(const gc_model *m, const float *scores, float *probs);
void gc_softmax(const float *logits, float *probs, int n);
/* Free the pooled gradient buffers (ops/grad.c), after each gradient call (backward.c). */
void gc_grad_trim(gc_model *m);
/* ---- batch.c: forward-only passes in buffers of their own (the kept pass stays) --------------
 * The rows after row t run on `versions` versions of row t's value (t = 0: of the input), in
 * batches within a memory budget: fill writes version v into dst (row t's size); done reads the
 * batch's results with gc_batch_scores (b = 0..count-1 for versions first..first+count-1).
 * Every other value the rows after t read is the kept pass's. Stops with GC_ERR_CANCELLED when
 * the progress callback asks. */
typedef void (*gc_batch_fill)(void *user, int version, float *dst);
typedef void (*gc_batch_done)(void *user, int first, int count);
gc_status gc_forward_versions(gc_model *m, int t, int versions, gc_batch_fill fill, gc_batch_done done, void *user);
/* One batch of `batch` (<= 16) inputs of the kept pass's size (tests). */
gc_status gc_forward_batch(gc_model *m, const float *input, int batch, int h, int w);
/* Class scores of batch item b of the last batch (nclasses floats into out). */
void gc_batch_scores(const gc_model *m, int b, float *out);
/* Rerun the batch-1 forward pass on a saved input so the model's results are the caller's. */
gc_status gc_restore_forward(gc_model *m, const float *input, int h, int w);
/* The input value a black pixel (0, 0, 0) becomes: the baseline of Integrated Gradients. */
float gc_model_black(const gc_model *m);
/* Row and fused-preactivation flag of a layer name ("input" and NULL: row 0). -1: unknown, with
 * the model's error set. */
int gc_model_find_layer(gc_model *m, const char *layer, int *preact);
/* The value of row i after the forward pass (recomputed for transient rows). */
gc_status gc_materialize(gc_model *m, int i);

/* ---- backward.c ---------------------------------------------------------------------------- */
/* sum[k] = sum over positions of d(score)/d(layer)[p][k] (cout of the layer): what Grad-CAM
 * needs, without the transposed convolution into the layer where its consumer allows. */
gc_status gc_gradient_sums(gc_model *m, int class_index, const char *layer, gc_target target, double *sum);
/* Either of them (sum, or data and shape) for the score of class_index minus, when
 * contrast >= 0, the score of class contrast. */
gc_status gc_gradient_ex(gc_model *m, int class_index, int contrast, const char *layer, gc_target target, int guided,
                         double *sum, const float **data, gc_shape *shape);
/* The Gaussian noise SmoothGrad adds to sample `sample` (sigma_abs = sigma * input range). */
void gc_smoothgrad_noise(uint32_t seed, int sample, float sigma_abs, float *noise, size_t n);

#endif
