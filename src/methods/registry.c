/* registry.c - the explanation methods, one row each: name, label, what it computes, its
 * parameters, and the function that computes it. The one home of these facts: the CLI's
 * options, the WebAssembly boundary, the JavaScript package (methods(), option checks, the
 * demo's pickers) and the README's table are generated from it or checked against it. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "methods.h"

/* The methods' functions (cam.c, perturb.c, input.c). */
gc_status gc_cam_gradcam(gc_method_ctx *c);
gc_status gc_cam_gradcam_pp(gc_method_ctx *c);
gc_status gc_cam_hirescam(gc_method_ctx *c);
gc_status gc_cam_xgradcam(gc_method_ctx *c);
gc_status gc_cam_layercam(gc_method_ctx *c);
gc_status gc_cam_eigencam(gc_method_ctx *c);
gc_status gc_cam_eigengradcam(gc_method_ctx *c);
gc_status gc_cam_scorecam(gc_method_ctx *c);
gc_status gc_cam_ablationcam(gc_method_ctx *c);
gc_status gc_in_saliency(gc_method_ctx *c);
gc_status gc_in_guided_backprop(gc_method_ctx *c);
gc_status gc_in_guided_gradcam(gc_method_ctx *c);
gc_status gc_in_smoothgrad(gc_method_ctx *c);
gc_status gc_in_integrated_gradients(gc_method_ctx *c);
gc_status gc_in_gradient_input(gc_method_ctx *c);

#define NO_PARAMS 0, {{0}}
#define LAYER 1
#define INPUT 0

const gc_method_row gc_method_rows[GC_METHOD_COUNT] = {
    [GC_METHOD_GRADCAM] = {{"gradcam", "Grad-CAM",
                            "The layer's channels weighted by their average gradient, summed, negative values cut.",
                            "ReLU(sum_k w_k A^k), w_k = mean_ij dy/dA^k_ij", "Selvaraju et al. 2017", LAYER, 1, 1, 0,
                            NO_PARAMS},
                           GC_NEEDS_SUMS, 1, gc_cam_gradcam},
    [GC_METHOD_GRADCAM_PP] = {{"gradcam++", "Grad-CAM++",
                               "Channel weights from the positive gradients with per-pixel coefficients, better with "
                               "several objects of the class.",
                               "ReLU(sum_k w_k A^k), w_k = sum_ij a_ij ReLU(G_ij), a = G^2 / (2 G^2 + sum_ab A_ab G^3 + "
                               "1e-6), a = 0 where G = 0 (G = dy/dA^k)",
                               "Chattopadhay et al. 2018", LAYER, 1, 1, 0, NO_PARAMS},
                              GC_NEEDS_GRADIENT, 1, gc_cam_gradcam_pp},
    [GC_METHOD_HIRESCAM] = {{"hirescam", "HiResCAM",
                             "Gradients times activations element by element, summed over channels: exactly what the "
                             "score used.",
                             "ReLU(sum_k G^k * A^k), elementwise", "Draelos & Carin 2020", LAYER, 1, 1, 0, NO_PARAMS},
                            GC_NEEDS_GRADIENT, 0, gc_cam_hirescam},
    [GC_METHOD_XGRADCAM] = {{"xgradcam", "XGrad-CAM",
                             "Channel weights are the gradients averaged with the activations as weights.",
                             "ReLU(sum_k w_k A^k), w_k = sum_ij (A_ij^k / (sum_ab A_ab^k + 1e-7)) G_ij^k",
                             "Fu et al. 2020", LAYER, 1, 1, 0, NO_PARAMS},
                            GC_NEEDS_GRADIENT, 1, gc_cam_xgradcam},
    [GC_METHOD_LAYERCAM] = {{"layercam", "LayerCAM",
                             "Activations weighted pixel by pixel by their positive gradients; sharp at earlier layers "
                             "too.",
                             "ReLU(sum_k ReLU(G^k) * A^k), elementwise", "Jiang et al. 2021", LAYER, 1, 1, 0,
                             NO_PARAMS},
                            GC_NEEDS_GRADIENT, 0, gc_cam_layercam},
    [GC_METHOD_EIGENCAM] = {{"eigencam", "Eigen-CAM",
                             "The activations projected on their first principal component: no gradient, the same "
                             "map for every class.",
                             "ReLU(X v), X = A (HW x K) minus its column means, v its first principal component, its "
                             "sign chosen so that X v correlates positively with the channel mean of A",
                             "Muhammad & Yeasin 2020", LAYER, 1, 0, 0, NO_PARAMS},
                            GC_NEEDS_NOTHING, 0, gc_cam_eigencam},
    [GC_METHOD_SCORECAM] = {{"scorecam", "Score-CAM",
                             "Channels used as masks on the input, weighted by the class score of each masked image; "
                             "no gradient, slow.",
                             "ReLU(sum_k w_k A^k), w = softmax_k(y^c(x * m_k)), m_k = min-max normalised "
                             "align-corners bilinear upsampling of A^k, over the N channels of highest mean "
                             "activation (all channels: channels 0)",
                             "Wang et al. 2020", LAYER, 1, 1, 1,
                             1, {{"channels", "channels", "channels used as masks (all: every channel)", 0, 4096, 32, 1,
                                  "all"}}},
                            GC_NEEDS_NOTHING, 1, gc_cam_scorecam},
    [GC_METHOD_SALIENCY] = {{"saliency", "Saliency",
                             "The largest absolute gradient of the class score over the colour channels of each "
                             "input pixel.",
                             "max_c |dy/dx_c|", "Simonyan et al. 2014", INPUT, 1, 1, 0, NO_PARAMS},
                            GC_NEEDS_NOTHING, 0, gc_in_saliency},
    [GC_METHOD_GUIDED_BACKPROP] = {{"guided-backprop", "Guided backpropagation",
                                    "The input gradient with ReLUs passing only positive gradients of positive "
                                    "inputs, shown in colour.",
                                    "dy/dx with each ReLU's backward dx = dy [x > 0] [dy > 0] (RGB)",
                                    "Springenberg et al. 2015", INPUT, 3, 1, 0, NO_PARAMS},
                                   GC_NEEDS_NOTHING, 0, gc_in_guided_backprop},
    [GC_METHOD_GUIDED_GRADCAM] = {{"guided-gradcam", "Guided Grad-CAM",
                                   "Guided backpropagation multiplied by the upsampled Grad-CAM of the layer, shown in "
                                   "colour.",
                                   "guided backpropagation * up(Grad-CAM) / max(Grad-CAM) (RGB)",
                                   "Selvaraju et al. 2017", LAYER, 3, 1, 0, NO_PARAMS},
                                  GC_NEEDS_SUMS, 0, gc_in_guided_gradcam},
    [GC_METHOD_SMOOTHGRAD] = {{"smoothgrad", "SmoothGrad",
                               "The input gradient averaged over noisy copies of the image: a less noisy saliency map.",
                               "max_c |mean_n dy/dx(x + N(0, (sigma (max x - min x))^2))_c|",
                               "Smilkov et al. 2017", INPUT, 1, 1, 1,
                               3, {{"samples", "samples", "noisy samples", 1, 256, 8, 1, NULL},
                                   {"sigma", "sigma", "noise as a fraction of the input range", 0, 10, 0.15, 0, NULL},
                                   {"seed", "seed", "noise seed", 0, 2147483647, 1, 1, NULL}}},
                              GC_NEEDS_NOTHING, 0, gc_in_smoothgrad},
    [GC_METHOD_INTEGRATED_GRADIENTS] = {{"integrated-gradients", "Integrated Gradients",
                                         "The gradient averaged along the path from a black image to the input, times "
                                         "their difference.",
                                         "|sum_c (x - x')_c mean_k dy/dx(x' + k/m (x - x'))_c|, x' black, k = 1..m",
                                         "Sundararajan et al. 2017", INPUT, 1, 1, 1,
                                         1, {{"steps", "ig-steps", "steps from the black image", 1, 512, 16, 1, NULL}}},
                                        GC_NEEDS_NOTHING, 0, gc_in_integrated_gradients},
    [GC_METHOD_EIGENGRADCAM] = {{"eigengradcam", "EigenGrad-CAM",
                                 "Like Eigen-CAM, on the activations times their gradients: class-specific.",
                                 "ReLU(X v), X = G * A (HW x K) minus its column means, v its first principal "
                                 "component, its sign chosen so that X v correlates positively with the channel mean "
                                 "of G * A",
                                 "pytorch-grad-cam (after Muhammad & Yeasin 2020)", LAYER, 1, 1, 0, NO_PARAMS},
                                GC_NEEDS_GRADIENT, 0, gc_cam_eigengradcam},
    [GC_METHOD_ABLATIONCAM] = {{"ablationcam", "Ablation-CAM",
                                "Each channel's weight is how much the class score drops when that channel is zeroed; "
                                "no gradient, slow at early layers.",
                                "ReLU(sum_k w_k A^k), w_k = (y^c - y^c(A^k = 0)) / y^c (A^k set to min(A) - 1e7 "
                                "instead when min(A) != 0)",
                                "Desai & Ramaswamy 2020", LAYER, 1, 1, 1, NO_PARAMS},
                               GC_NEEDS_NOTHING, 1, gc_cam_ablationcam},
    [GC_METHOD_GRADIENT_INPUT] = {{"gradient-input", "Gradient x Input",
                                   "The input gradient times the input, summed over the colour channels.",
                                   "|sum_c x_c dy/dx_c|", "Shrikumar et al. 2016", INPUT, 1, 1, 0, NO_PARAMS},
                                  GC_NEEDS_NOTHING, 0, gc_in_gradient_input},
};

_Static_assert(sizeof gc_method_rows / sizeof gc_method_rows[0] == GC_METHOD_COUNT,
               "one registry row per gc_method");

const gc_method_info *gc_method_info_of(gc_method m) {
  return m >= 0 && m < GC_METHOD_COUNT ? &gc_method_rows[m].info : NULL;
}

const char *gc_method_name(gc_method m) { return m >= 0 && m < GC_METHOD_COUNT ? gc_method_rows[m].info.name : NULL; }

gc_status gc_method_from_name(const char *name, gc_method *out) {
  if (!name || !out) return GC_ERR_INVALID_ARGUMENT;
  for (int i = 0; i < GC_METHOD_COUNT; i++)
    if (!strcmp(name, gc_method_rows[i].info.name)) {
      *out = (gc_method)i;
      return GC_OK;
    }
  return GC_ERR_INVALID_ARGUMENT;
}

int gc_method_uses_layer(gc_method m) { return m >= 0 && m < GC_METHOD_COUNT && gc_method_rows[m].info.uses_layer; }

gc_explain_params gc_default_explain_params(void) {
  gc_explain_params p;
  memset(&p, 0, sizeof p);
  p.method = GC_METHOD_GRADCAM;
  p.class_index = -1;
  p.contrast_class = -1;
  p.layer = "block14_sepconv2_act";
  p.target = GC_TARGET_LOGIT;
  /* the parameters' defaults, from their rows */
  for (int m = 0; m < GC_METHOD_COUNT; m++)
    for (int i = 0; i < gc_method_rows[m].info.nparams; i++) {
      const gc_method_param *q = &gc_method_rows[m].info.params[i];
      gc_explain_params_set(&p, (gc_method)m, q->name, q->def, NULL, 0);
    }
  return p;
}

/* The field of gc_explain_params a parameter name stands for. */
static void *field(gc_explain_params *p, const char *name, int *is_float) {
  *is_float = 0;
  if (!strcmp(name, "channels")) return &p->scorecam_channels;
  if (!strcmp(name, "samples")) return &p->smoothgrad_samples;
  if (!strcmp(name, "seed")) return &p->seed;
  if (!strcmp(name, "steps")) return &p->ig_steps;
  *is_float = 1;
  if (!strcmp(name, "sigma")) return &p->smoothgrad_sigma;
  return NULL; /* a row names a parameter gc_explain_params lacks: a bug the tests catch */
}

double gc_explain_params_get(const gc_explain_params *p, const char *name) {
  int f;
  const void *v = field((gc_explain_params *)p, name, &f);
  if (!v) return NAN;
  if (f) return *(const float *)v;
  return !strcmp(name, "seed") ? (double)*(const uint32_t *)v : (double)*(const int *)v;
}

gc_status gc_explain_params_set(gc_explain_params *p, gc_method method, const char *name, double v, char *err,
                                size_t errlen) {
  const gc_method_info *mi = gc_method_info_of(method);
  if (!p || !mi || !name) return GC_ERR_INVALID_ARGUMENT;
  const gc_method_param *q = NULL;
  for (int i = 0; i < mi->nparams && !q; i++)
    if (!strcmp(mi->params[i].name, name)) q = &mi->params[i];
  if (!q) {
    gc_set_error(err, errlen, "%s has no parameter '%s'", mi->name, name);
    return GC_ERR_INVALID_ARGUMENT;
  }
  if (!(v >= q->min && v <= q->max) || (q->integer && v != (double)(long long)v)) {
    gc_set_error(err, errlen, "%s must be %s in %g..%g (%s: %s), not %g", name, q->integer ? "an integer" : "a number",
                 q->min, q->max, mi->label, q->label, v);
    return GC_ERR_INVALID_ARGUMENT;
  }
  int f;
  void *dst = field(p, name, &f);
  if (!dst) return GC_ERR_INVALID_ARGUMENT;
  if (f) *(float *)dst = (float)v;
  else if (!strcmp(name, "seed")) *(uint32_t *)dst = (uint32_t)v;
  else *(int *)dst = (int)v;
  return GC_OK;
}
