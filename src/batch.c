/* batch.c - forward-only passes on batches of versions of one value (Score-CAM's masked
 * inputs, the metrics' perturbed inputs, Ablation-CAM's ablated activations), in buffers of
 * their own: the kept pass (the activations, scores and gradients of the image being
 * explained) is left as it is, so no pass has to run again afterwards.
 *
 * No backward pass follows, so a row's output lives only until its last consumer has run: the
 * buffers are planned by liveness (a freed buffer serves the next row that fits), which holds a
 * few maps per batch item instead of every activation. The batch size is chosen so that the
 * plan stays within a memory budget.
 */
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

/* Bytes of activations for one batch. A whole pass at 299x299 needs 41 MB per item (the entry
 * flow's 147x147x128 maps and the depthwise scratch), so passes from the input run one item at
 * a time there (two at a time measured no faster: Score-CAM N=32 15.0 s against 15.5 s, within
 * the noise) and the wasm heap stays under 400 MB; later layers (Ablation-CAM) and smaller
 * inputs batch up to BATCH_MAX. */
#define BATCH_BUDGET ((size_t)64 << 20)
#define BATCH_MAX 16

typedef struct plan {
  int *buf;     /* rows: buffer index, -1 for rows that do not run */
  size_t *cap;  /* buffers: floats per batch item */
  int nbuf;
  size_t total; /* floats per batch item, all buffers */
} plan;

static void plan_free(plan *p) {
  free(p->buf);
  free(p->cap);
  memset(p, 0, sizeof *p);
}

/* Buffers for rows t.. (t's value and `given` rows before t are written before the rows after
 * t run): each row's output takes a free buffer (the smallest that fits, else a new one) and
 * frees it after its last consumer. */
static gc_status make_plan(const gc_model *m, int t, const int *given, plan *p) {
  const int n = m->nrows;
  memset(p, 0, sizeof *p);
  int *last = malloc((size_t)n * sizeof *last), *freed = calloc((size_t)n + 1, sizeof *freed);
  p->buf = malloc((size_t)n * sizeof *p->buf);
  p->cap = calloc((size_t)n, sizeof *p->cap);
  if (!last || !freed || !p->buf || !p->cap) {
    free(last), free(freed);
    plan_free(p);
    return GC_ERR_OUT_OF_MEMORY;
  }
  for (int i = 0; i < n; i++) {
    last[i] = i == n - 1 ? n : -1; /* the last row's output (the logits) is read at the end */
    p->buf[i] = -1;
  }
  for (int j = t + 1; j < n; j++) {
    const gc_layer *r = &m->rows[j];
    if (r->in0 >= 0) last[r->in0] = j;
    if (r->in1 >= 0) last[r->in1] = j;
  }
  int nfree = 0;
  int *pool = malloc((size_t)n * sizeof *pool); /* free buffer indices */
  if (!pool) {
    free(last), free(freed);
    plan_free(p);
    return GC_ERR_OUT_OF_MEMORY;
  }
  for (int i = 0; i < n; i++) {
    const int defined = i == t || (i < t && given[i]) || i > t;
    if (!defined || last[i] < 0) continue;
    const size_t need = gc_row_elems(m, i);
    int best = -1;
    for (int k = 0; k < nfree; k++)
      if (p->cap[pool[k]] >= need && (best < 0 || p->cap[pool[k]] < p->cap[pool[best]])) best = k;
    if (best >= 0) {
      p->buf[i] = pool[best];
      pool[best] = pool[--nfree];
    } else {
      p->buf[i] = p->nbuf;
      p->cap[p->nbuf++] = need;
    }
    /* values defined at t (t and the given rows) are all live at once: free nothing before */
    if (i < t) continue;
    for (int r = 0; r <= i; r++) /* rows whose last reader is i give their buffers back */
      if (p->buf[r] >= 0 && last[r] == i && !freed[r]) {
        freed[r] = 1;
        pool[nfree++] = p->buf[r];
      }
  }
  for (int k = 0; k < p->nbuf; k++) p->total += p->cap[k];
  free(pool), free(last), free(freed);
  return GC_OK;
}

/* The buffers of a plan for B items (kept between calls, grown when needed). */
static gc_status arena(gc_model *m, const plan *p, int B) {
  if (p->nbuf > m->arena_n) {
    float **nb = realloc(m->arena, (size_t)p->nbuf * sizeof *nb);
    size_t *nc = realloc(m->arena_cap, (size_t)p->nbuf * sizeof *nc);
    if (nb) m->arena = nb;
    if (nc) m->arena_cap = nc;
    if (!nb || !nc) return GC_ERR_OUT_OF_MEMORY;
    for (int k = m->arena_n; k < p->nbuf; k++) m->arena[k] = NULL, m->arena_cap[k] = 0;
    m->arena_n = p->nbuf;
  }
  for (int k = 0; k < p->nbuf; k++)
    if (!gc_model_buffer(&m->arena[k], &m->arena_cap[k], p->cap[k] * (size_t)B)) return GC_ERR_OUT_OF_MEMORY;
  return GC_OK;
}

void gc_batch_scores(const gc_model *m, int b, float *out) {
  gc_logits_to_scores(m, m->batch_logits + (size_t)b * m->rows[m->net.logits_row].cout, out);
}

static gc_status run_versions(gc_model *m, int t, int versions, int forced_b, gc_batch_fill fill, gc_batch_done done,
                              void *user) {
  if (!m->ran || t < 0 || t >= m->nrows || versions < 1) return GC_ERR_NOT_RUN;
  const int n = m->nrows, h = m->kept_h, w = m->kept_w;
  if (m->net.logits_row < 0) return GC_ERR_NO_HEAD;
  /* rows up to t that the rows after it read are copied from the kept pass */
  int *given = calloc((size_t)n, sizeof *given);
  gc_status s = given ? GC_OK : GC_ERR_OUT_OF_MEMORY;
  for (int j = t + 1; s == GC_OK && j < n; j++) {
    const gc_layer *r = &m->rows[j];
    if (r->in0 >= 0 && r->in0 < t) given[r->in0] = 1;
    if (r->in1 >= 0 && r->in1 < t) given[r->in1] = 1;
  }
  for (int i = 0; s == GC_OK && i < t; i++)
    if (given[i]) s = gc_materialize(m, i); /* with the kept pass's operators */
  plan p = {0};
  if (s == GC_OK) s = make_plan(m, t, given, &p);
  int B = 1;
  gc_reshape_need need = {0, 0};
  if (s == GC_OK) s = gc_reshape_rows(m, t + 1, 1, h, w, &need); /* per item: the depthwise scratch */
  if (s == GC_OK) {
    B = (int)(BATCH_BUDGET / ((p.total + need.scratch) * sizeof(float) + 1));
    B = B < 1 ? 1 : B > BATCH_MAX ? BATCH_MAX : B;
    B = forced_b ? forced_b : B < versions ? B : versions;
  }
  if (s == GC_OK) s = arena(m, &p, B);
  if (s == GC_OK) s = gc_reshape_rows(m, t + 1, B, h, w, &need);
  float *scratch = NULL; /* the separable convolutions' depthwise output, for B items */
  if (s == GC_OK && !(scratch = gc_alloc_buffer(need.scratch))) s = GC_ERR_OUT_OF_MEMORY;
  float *const kept_scratch = m->scratch;
  m->scratch = scratch;
  const size_t te = gc_row_elems(m, t);
  for (int v0 = 0; s == GC_OK && v0 < versions; v0 += B) {
    if (gc_model_cancelled(m, v0, versions)) {
      s = GC_ERR_CANCELLED;
      break;
    }
    const int nb = versions - v0 < B ? versions - v0 : B;
    for (int i = 0; i < t; i++) {
      if (!given[i]) continue;
      const size_t e = gc_row_elems(m, i);
      for (int b = 0; b < B; b++) memcpy(m->arena[p.buf[i]] + (size_t)b * e, m->nodes[i].out, e * sizeof(float));
    }
    for (int b = 0; b < B; b++) fill(user, v0 + (b < nb ? b : nb - 1), m->arena[p.buf[t]] + (size_t)b * te);
    for (int j = t + 1; s == GC_OK && j < n; j++) {
      const gc_layer *r = &m->rows[j];
      const float *in0 = r->in0 >= 0 ? m->arena[p.buf[r->in0]] : NULL;
      const float *in1 = r->in1 >= 0 ? m->arena[p.buf[r->in1]] : NULL;
      s = gc_ops[r->def->op]->run(m, j, in0, in1, m->arena[p.buf[j]]);
    }
    if (s == GC_OK) {
      m->batch_logits = m->arena[p.buf[m->net.logits_row]];
      done(user, v0, nb);
    }
  }
  m->scratch = kept_scratch;
  free(scratch);
  free(given);
  plan_free(&p);
  for (int k = 0; k < m->arena_n; k++) { /* their memory serves what comes next */
    free(m->arena[k]);
    m->arena[k] = NULL, m->arena_cap[k] = 0;
  }
  return s;
}

gc_status gc_forward_versions(gc_model *m, int t, int versions, gc_batch_fill fill, gc_batch_done done, void *user) {
  return run_versions(m, t, versions, 0, fill, done, user);
}

typedef struct inputs {
  const float *x;
  size_t n;
  gc_model *m;
} inputs;

static void fill_input(void *user, int v, float *dst) {
  const inputs *in = user;
  memcpy(dst, in->x + (size_t)v * in->n, in->n * sizeof *dst);
}

/* the batch's logits, kept after the call (the arena is freed) */
static void keep_logits(void *user, int first, int count) {
  gc_model *m = ((const inputs *)user)->m;
  const size_t n = (size_t)count * m->rows[m->net.logits_row].cout;
  (void)first;
  if (gc_model_buffer(&m->batch_out, &m->batch_out_cap, n)) memcpy(m->batch_out, m->batch_logits, n * sizeof(float));
}

gc_status gc_forward_batch(gc_model *m, const float *input, int batch, int h, int w) {
  if (!m->ran || h != m->kept_h || w != m->kept_w) return GC_ERR_NOT_RUN;
  inputs in = {input, (size_t)h * w * 3, m};
  gc_status s = run_versions(m, 0, batch, batch, fill_input, keep_logits, &in); /* one batch: every item */
  m->batch_logits = s == GC_OK ? m->batch_out : NULL;
  return s;
}
