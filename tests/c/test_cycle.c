/* test_cycle.c - a load / predict / activation / explain / free cycle, twice, including failed
 * loads, failed forwards and failed explanations; explanations with every method (backward
 * passes at several layers, input gradients, batched forward passes), rendering and metrics,
 * across a change of input size and of thread count; models freed at every stage (just
 * loaded, after a forward pass, right after an explanation). Linked with LeakSanitizer by
 * ctest (leak_check), so that any leak fails; plain and ASan/UBSan builds run it too. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"
#include "synth.h"

/* every method once, at a layer each; a few with the probability target */
static void explain_all(gc_model *m) {
  static const char *const layers[] = {"block14_sepconv2_act", "block8_sepconv3_act", "block3_sepconv2_bn",
                                       "block1_conv2_act", "block13_add", "block4_pool"};
  for (int k = 0; k < GC_METHOD_COUNT; k++) {
    gc_explain_params ep = gc_default_explain_params();
    ep.method = (gc_method)k;
    ep.layer = layers[k % 6];
    ep.target = k % 3 == 2 ? GC_TARGET_PROB : GC_TARGET_LOGIT;
    ep.scorecam_channels = 3;
    ep.smoothgrad_samples = 2;
    ep.ig_steps = 2;
    gc_map map;
    int cls = -1;
    CHECK_STATUS(gc_model_explain(m, &ep, &map, &cls), GC_OK);
    CHECK(map.data && map.height > 0 && map.width > 0 && cls >= 0, "%s: a map", gc_method_name(ep.method));
    if (!map.data) continue;
    uint8_t heat[20 * 12 * 4], over[20 * 12 * 4], img[20 * 12 * 3] = {0};
    CHECK_STATUS(gc_render(&map, img, 20, 12, 60, GC_PIXEL_RGB8, GC_COLORMAP_JET, 0.4f, GC_BLEND_ADDITIVE, heat, over),
                 GC_OK);
    if (k == GC_METHOD_LAYERCAM) { /* metrics: batched forward passes, then the input is restored */
      gc_metrics mt;
      float copy[40 * 40];
      gc_map mc = map;
      if ((size_t)map.height * map.width <= 40 * 40) {
        memcpy(copy, map.data, (size_t)map.height * map.width * sizeof *copy);
        mc.data = copy;
        CHECK_STATUS(gc_model_metrics(m, &mc, cls, 2, GC_BASELINE_BLUR, &mt), GC_OK);
      }
    }
  }
  const float *g;
  gc_shape sh;
  CHECK_STATUS(gc_model_gradient(m, 5, "block2_sepconv2_bn", GC_TARGET_LOGIT, 1, &g, &sh), GC_OK);
  gc_explain_params bad = gc_default_explain_params();
  bad.layer = "no_such_layer";
  gc_map map;
  CHECK_STATUS(gc_model_explain(m, &bad, &map, NULL), GC_ERR_LAYER_UNKNOWN);
  bad = gc_default_explain_params();
  bad.class_index = 1000;
  CHECK_STATUS(gc_model_explain(m, &bad, &map, NULL), GC_ERR_CLASS_OUT_OF_RANGE);
}

int main(void) {
  synth w;
  CHECK(synth_make(&w, 3) == 0, "synthetic weights");
  void *bytes = NULL;
  size_t size = 0;
  CHECK_STATUS(synth_write(&w, GC_DTYPE_F16, &bytes, &size), GC_OK);
  synth_free(&w);
  char err[GC_ERRBUF_SIZE];
  float *x = malloc(72 * 73 * 3 * sizeof *x);
  uint32_t s = 1;
  for (int i = 0; i < 72 * 73 * 3; i++) x[i] = synth_uniform(&s);
  for (int round = 0; round < 2; round++) {
    gc_params p = gc_default_params();
    p.threads = 1 + round;
    gc_model *m = NULL;
    CHECK_STATUS(gc_model_load_memory(bytes, size, &p, &m, err, sizeof err), GC_OK);
    if (!m) break;
    CHECK_STATUS(gc_model_forward_tensor(m, x, 72, 73), GC_OK);
    const float *d;
    gc_shape sh;
    CHECK_STATUS(gc_model_activation(m, "block8_add", &d, &sh), GC_OK);
    CHECK_STATUS(gc_model_forward_tensor(m, x, 71, 71), GC_OK); /* reshape frees and reallocates */
    uint8_t px[16 * 9 * 4] = {0};
    CHECK_STATUS(gc_model_forward_image(m, px, 16, 9, 64, GC_PIXEL_RGBA8), GC_OK);
    CHECK_STATUS(gc_model_forward_tensor(m, x, 10, 10), GC_ERR_IMAGE_SIZE);
    CHECK_STATUS(gc_model_forward_tensor(m, x, 72, 73), GC_OK);
    explain_all(m); /* backward operators and buffers created for 72x73 */
    CHECK_STATUS(gc_model_set_threads(m, 2 - round), GC_OK);
    CHECK_STATUS(gc_model_forward_tensor(m, x, 71, 71), GC_OK);
    explain_all(m); /* ... reshaped / reallocated for 71x71 and the new pool */
    gc_model_free(m);
  }
  /* freed at each stage: just loaded; after a forward pass; right after a backward pass */
  for (int stage = 0; stage < 3; stage++) {
    gc_model *m = NULL;
    CHECK_STATUS(gc_model_load_memory(bytes, size, NULL, &m, err, sizeof err), GC_OK);
    if (!m) break;
    if (stage >= 1) CHECK_STATUS(gc_model_forward_tensor(m, x, 71, 71), GC_OK);
    if (stage == 2) {
      gc_explain_params ep = gc_default_explain_params();
      ep.method = GC_METHOD_GUIDED_GRADCAM;
      ep.layer = "block10_sepconv1_act";
      gc_map map;
      CHECK_STATUS(gc_model_explain(m, &ep, &map, NULL), GC_OK);
    }
    gc_model_free(m);
  }
  /* failed loads release everything they took */
  gc_model *m = NULL;
  CHECK_STATUS(gc_model_load_memory(bytes, size / 2, NULL, &m, err, sizeof err), GC_ERR_WEIGHTS_TRUNCATED);
  ((unsigned char *)bytes)[size - 5] ^= 1;
  CHECK_STATUS(gc_model_load_memory(bytes, size, NULL, &m, err, sizeof err), GC_ERR_WEIGHTS_CHECKSUM);
  free(x);
  gc_free(bytes);
  return check_report("test_cycle");
}
