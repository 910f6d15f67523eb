#!/usr/bin/env bash
# Build everything that is missing or out of date:
#   system packages (Debian, tools/deps/system.sh), XNNPACK + pthreadpool for each flavour
#   (cached outside the tree, tools/deps/build.sh), npm dev dependencies, and the project:
#     build/native   static core, the `gradcam` CLI, C tests   (gcc)
#     build/wasm-st  gradcam.js + gradcam.wasm, SIMD, single thread   (emcc)
#     build/wasm-mt  gradcam.js + gradcam.wasm + gradcam.worker.js, SIMD + pthreads
#     build/wasm-relaxed  the same files, SIMD + pthreads + relaxed SIMD (emcc driving clang 16)
# Usage: tools/build/build.sh [all|native|wasm|wasm-st|wasm-mt|wasm-relaxed]   (default all)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
what=${1:-all}
case "$what" in all|native|wasm|wasm-st|wasm-mt|wasm-relaxed) ;;
  *) echo "usage: $0 [all|native|wasm|wasm-st|wasm-mt|wasm-relaxed]" >&2; exit 2 ;; esac

log() { echo "[build] $*"; }
# shellcheck source=deps/common.sh
. tools/deps/common.sh  # DEPS_RELAXED_LLVM, deps_relaxed_env
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"  # emcc 3.1.6 needs Debian's acorn
jobs=${GRADCAM_JOBS:-2}

# chromium: the browser tests (tests/browser) drive Debian's Chromium with playwright-core;
# clang-N, lld-N, llvm-N: the relaxed SIMD build (tools/deps/common.sh)
bash tools/deps/system.sh gcc g++ make chromium "clang-$DEPS_RELAXED_LLVM" "lld-$DEPS_RELAXED_LLVM" "llvm-$DEPS_RELAXED_LLVM"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dev dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

build_flavour() {
  local flavour=$1 dir="build/$1" prefix
  prefix=$(bash tools/deps/build.sh "$flavour" | tail -n 1)
  [ -f "$prefix/include/xnnpack.h" ] || { echo "[build] error: dependency build for $flavour failed" >&2; exit 1; }
  log "$flavour: configuring and building in $dir (deps: $prefix)"
  if [ "$flavour" = native ]; then
    cmake -S . -B "$dir" -G Ninja -DGRADCAM_DEPS="$prefix" > "$dir.configure.log" 2>&1 ||
      { cat "$dir.configure.log" >&2; exit 1; }
  else
    local opts=(-DGRADCAM_THREADS=OFF)
    [ "$flavour" = wasm-mt ] && opts=(-DGRADCAM_THREADS=ON)
    [ "$flavour" = wasm-relaxed ] &&
      opts=(-DGRADCAM_THREADS=ON -DGRADCAM_RELAXED_SIMD=ON "-DGRADCAM_RELAXED_LLVM=$DEPS_RELAXED_LLVM")
    # (the relaxed flavour's environment also for CMake's compiler checks; its build folder
    # sets it for every compile and link by itself)
    ( [ "$flavour" != wasm-relaxed ] || deps_relaxed_env
      emcmake cmake -S . -B "$dir" -G Ninja -DGRADCAM_DEPS="$prefix" "${opts[@]}" ) \
      > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log" >&2; exit 1; }
  fi
  if ! ninja -C "$dir" -j "$jobs" > "$dir.build.log" 2>&1; then
    grep -v '^\[[0-9]*/[0-9]*\]' "$dir.build.log" | tail -n 60 >&2
    echo "[build] error: building $flavour failed (log: $dir.build.log)" >&2
    exit 1
  fi
  grep -A3 'warning:' "$dir.build.log" >&2 || true
}

mkdir -p build
if [ "$what" = all ] || [ "$what" = native ]; then build_flavour native; fi
for flavour in wasm-st wasm-mt wasm-relaxed; do
  if [ "$what" = all ] || [ "$what" = wasm ] || [ "$what" = "$flavour" ]; then build_flavour "$flavour"; fi
done
log "done"
