/* arith.c - the process-wide choice of XNNPACK's arithmetic, and XNNPACK's start-up.
 *
 * XNNPACK picks its micro-kernels once per process, from the CPU features cpuinfo reports.
 * On x86-64 with FMA3 it takes fused multiply-add kernels; the WebAssembly SIMD builds (wasm
 * SIMD has no fused multiply-add) take kernels that multiply, round, then add. (The relaxed
 * SIMD build, wasm-relaxed, compiled with -mrelaxed-simd, takes XNNPACK's wasmrelaxedsimd
 * kernels, built on f32x4.relaxed_madd, which the engine fuses where the CPU has fused
 * multiply-add: its arithmetic is "fma", and it has no portable kernels.) The f32 GEMM,
 * IGEMM and depthwise kernels of both families sum each output in the same order (bias, then
 * tap by tap, channel by channel), so with the fused kernels out of the way the native build
 * computes exactly what the WebAssembly build computes: measured bit-identical activations,
 * gradients and maps on the package tests' photo, single- and multi-threaded.
 *
 * GC_ARITH_PORTABLE therefore hides FMA3, FMA4, AVX2 and AVX-512 from XNNPACK before it first
 * reads the CPU features: cpuinfo_isa is cpuinfo's public record of them, and XNNPACK's
 * hardware configuration is built from it once, inside xnn_initialize. XNNPACK then falls
 * back to its AVX (or SSE) kernels, which multiply and add separately. Nothing else in the
 * process reads cpuinfo. The AVX kernels measured as fast as the FMA3 ones for Xception on the
 * development machine (a forward pass at 299x299: 248-259 ms against 253-263 ms, 2 threads).
 */
#include <stdbool.h>

#include <pthread.h>
#include <xnnpack.h>

#include "state.h"

/* SWITCHABLE: native x86, where hiding FMA from XNNPACK gives the portable kernels.
 * HAS_PORTABLE: there, and in WebAssembly SIMD (no fused kernels at all); elsewhere (ARM, and
 * WebAssembly relaxed SIMD, whose kernels are all built on relaxed_madd) only FMA. */
#if !defined(__EMSCRIPTEN__) && (defined(__x86_64__) || defined(__i386__))
#include <cpuinfo.h>
#define SWITCHABLE 1
#define HAS_PORTABLE 1
#elif defined(__EMSCRIPTEN__) && !defined(__wasm_relaxed_simd__)
#define SWITCHABLE 0
#define HAS_PORTABLE 1
#else
#define SWITCHABLE 0
#define HAS_PORTABLE 0
#endif

static gc_arithmetic arith = HAS_PORTABLE ? GC_ARITH_PORTABLE : GC_ARITH_FMA;
static pthread_once_t started_once = PTHREAD_ONCE_INIT;
static volatile int started;
static enum xnn_status start_status = xnn_status_uninitialized;

gc_arithmetic gc_get_arithmetic(void) { return arith; }

gc_status gc_set_arithmetic(gc_arithmetic a) {
  if (!gc_arithmetic_name(a)) return GC_ERR_INVALID_ARGUMENT;
  if (a == GC_ARITH_PORTABLE && !HAS_PORTABLE) return GC_ERR_INVALID_ARGUMENT;
  if (a == arith) return GC_OK;
  if (!SWITCHABLE) return GC_ERR_INVALID_ARGUMENT; /* a build computes with its one arithmetic (the CLI built
                                                      for Node must not claim fma and compute portably) */
  if (started) return GC_ERR_INVALID_ARGUMENT; /* XNNPACK has picked its kernels already */
  arith = a;
  return GC_OK;
}

static void start(void) {
#if SWITCHABLE
  if (arith == GC_ARITH_PORTABLE && cpuinfo_initialize()) {
    cpuinfo_isa.fma3 = false;
    cpuinfo_isa.fma4 = false;
    cpuinfo_isa.avx2 = false;
    cpuinfo_isa.avx512f = false; /* every AVX-512 kernel family in XNNPACK requires it */
  }
#endif
  start_status = xnn_initialize(NULL);
  started = 1;
}

enum xnn_status gc_xnn_start(void) {
  pthread_once(&started_once, start);
  return start_status;
}
