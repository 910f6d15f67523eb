#!/usr/bin/env bash
# Build everything that is missing or out of date:
#   system packages (Debian, tools/deps/system.sh), XNNPACK + pthreadpool for each flavour
#   (cached outside the tree, tools/deps/build.sh), npm dev dependencies, and the project:
#     build/native   static core, the `gradcam` CLI, C tests   (gcc)
#     build/wasm-st  gradcam.js + gradcam.wasm, SIMD, single thread   (emcc)
#     build/wasm-mt  gradcam.js + gradcam.wasm + gradcam.worker.js, SIMD + pthreads
#     build/wasm-relaxed  the same files, SIMD + pthreads + relaxed SIMD (emcc driving clang 16)
# Usage: tools/build/build.sh [all|native|wasm|wasm-st|wasm-mt|wasm-relaxed]   (default all)
#   the wasm targets (npm start's) skip Chromium and the npm dev dependencies, which only the tests use
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
what=${1:-all}
case "$what" in all|native|wasm|wasm-st|wasm-mt|wasm-relaxed) ;;
  *) echo "usage: $0 [all|native|wasm|wasm-st|wasm-mt|wasm-relaxed]" >&2; exit 2 ;; esac

log() { echo "[build] $*"; }
exec 3>&1 # the terminal's stdout: progress lines reach it while a step's own output goes to a file
# shellcheck source=deps/common.sh
. tools/deps/common.sh  # DEPS_RELAXED_LLVM, deps_relaxed_env
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"  # emcc 3.1.6 needs Debian's acorn
jobs=${GRADCAM_JOBS:-2}

# The WebAssembly builds alone (what `npm start` needs) want neither Chromium nor the npm dev
# dependencies (the tests' and benchmarks'); `all` (npm test, npm run build) installs both.
wasm_only=0
case "$what" in wasm*) wasm_only=1 ;; esac
# chromium: the browser tests (tests/browser) drive Debian's Chromium with playwright-core;
# clang-N, lld-N, llvm-N: the relaxed SIMD build (tools/deps/common.sh)
extra=(gcc g++ make "clang-$DEPS_RELAXED_LLVM" "lld-$DEPS_RELAXED_LLVM" "llvm-$DEPS_RELAXED_LLVM")
[ "$wasm_only" = 1 ] || extra+=(chromium)
bash tools/deps/system.sh "${extra[@]}"

if [ "$wasm_only" = 0 ] && { [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  log "installing npm dev dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# with_progress LABEL LOG_GLOB CMD...: run CMD; every 15 s print the last ninja step "[n/N]" of the
# newest file matching LOG_GLOB (the dependency build's log in the cache, or the project's).
with_progress() {
  local label=$1 glob=$2 pid last="" f step t=0
  shift 2
  "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    t=$((t + 1))
    [ $((t % 15)) -eq 0 ] || continue
    # shellcheck disable=SC2086 # the glob is meant to expand
    f=$(ls -t $glob 2>/dev/null | head -n 1 || true)
    [ -n "$f" ] || continue
    step=$(grep -o '^\[[0-9]*/[0-9]*\]' "$f" 2>/dev/null | tail -n 1 || true)
    if [ -n "$step" ] && [ "$step" != "$last" ]; then
      log "$label: step ${step//[\[\]]/} after ${t} s" >&3
      last=$step
    fi
  done
  wait "$pid"
}

build_flavour() {
  local flavour=$1 dir="build/$1" prefix out
  log "$flavour ($2): XNNPACK for $flavour (cached in $DEPS_CACHE/deps; built from source when missing: ~3 min, about 650-920 steps)"
  out=$(mktemp)
  with_progress "$flavour: XNNPACK" "$DEPS_CACHE/logs/$flavour-*.log" bash tools/deps/build.sh "$flavour" > "$out" ||
    { rm -f "$out"; echo "[build] error: dependency build for $flavour failed" >&2; exit 1; }
  prefix=$(tail -n 1 "$out")
  rm -f "$out"
  [ -f "$prefix/include/xnnpack.h" ] || { echo "[build] error: dependency build for $flavour failed" >&2; exit 1; }
  log "$flavour ($2): configuring and building in $dir (deps: $prefix)"
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
  if ! with_progress "$flavour" "$dir.build.log" ninja -C "$dir" -j "$jobs" > "$dir.build.log" 2>&1; then
    grep -v '^\[[0-9]*/[0-9]*\]' "$dir.build.log" | tail -n 60 >&2
    echo "[build] error: building $flavour failed (log: $dir.build.log)" >&2
    exit 1
  fi
  grep -A3 'warning:' "$dir.build.log" >&2 || true
}

mkdir -p build
todo=()
if [ "$what" = all ] || [ "$what" = native ]; then todo+=(native); fi
for flavour in wasm-st wasm-mt wasm-relaxed; do
  if [ "$what" = all ] || [ "$what" = wasm ] || [ "$what" = "$flavour" ]; then todo+=("$flavour"); fi
done
log "building ${todo[*]} (${#todo[@]} step(s); each is quick when its XNNPACK is cached and the sources did not change)"
start=$(date +%s)
n=0
for flavour in "${todo[@]}"; do
  n=$((n + 1))
  build_flavour "$flavour" "$n of ${#todo[@]}"
done
log "done in $(( $(date +%s) - start )) s"
