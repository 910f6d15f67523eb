#!/usr/bin/env bash
# Build XNNPACK + pthreadpool (static) for one flavour and install them into the cache:
#   ${GRADCAM_CACHE:-$HOME/.cache/gradcam}/deps/<FLAVOUR>-<KEY>/{include,lib}
# Usage: tools/deps/build.sh native|wasm-st|wasm-mt|wasm-relaxed
#   native        gcc, x86-64 (or whatever gcc targets), links Debian's libcpuinfo at run time
#   wasm-st       emcc, wasm SIMD (-msimd128), no threads (pthreadpool runs everything inline)
#   wasm-mt       emcc, wasm SIMD + -pthread (real pthreadpool on Web Workers)
#   wasm-relaxed  wasm-mt + relaxed SIMD (-mrelaxed-simd, XNNPACK's wasmrelaxedsimd kernels),
#                 emcc driving Debian's clang 16 (common.sh: deps_relaxed_env)
# KEY hashes the tarball sha256s, the patches, this script, common.sh, the flavour and the
# compiler version, so a change to any of them builds a new prefix. An existing complete
# prefix is reused at once. Progress goes to stderr; stdout is one line: the prefix path.
# Environment: GRADCAM_CACHE (cache root), GRADCAM_DEPS_JOBS (parallel jobs, default 2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$here/common.sh"

usage() { echo "usage: $0 native|wasm-st|wasm-mt|wasm-relaxed" >&2; exit 2; }
[ $# -eq 1 ] || usage
flavour=$1
case "$flavour" in native|wasm-st|wasm-mt|wasm-relaxed) ;; *) usage ;; esac

# emcc 3.1.6 needs Debian's node modules (acorn) on the module path.
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"

need_tools() {
  local t missing=()
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] ||
    deps_die "missing tools: ${missing[*]}; install the system packages with tools/deps/system.sh (as root)"
}
need_tools cmake ninja patch tar xz sha256sum python3
if [ "$flavour" = native ]; then
  need_tools gcc g++
  compiler=$(gcc --version | sed -n 1p)  # sed reads to the end: no SIGPIPE under pipefail
else
  need_tools emcc emcmake
  compiler=$(emcc --version | sed -n 1p)
  if [ "$flavour" = wasm-relaxed ]; then
    need_tools "clang-$DEPS_RELAXED_LLVM" "wasm-ld-$DEPS_RELAXED_LLVM" "llvm-ar-$DEPS_RELAXED_LLVM"
    deps_relaxed_env
    compiler="$compiler + $("clang-$DEPS_RELAXED_LLVM" --version | sed -n 1p)"
  fi
fi

# ---- cache key and install prefix
key=$(
  {
    for n in $(deps_names); do echo "tarball $n $(deps_field "$n" 3)"; done
    (cd "$here/patches" && find . -type f -name '*.patch' | LC_ALL=C sort | while read -r p; do
      echo "patch $p $(sha256sum < "$p" | cut -d' ' -f1)"
    done)
    echo "build.sh $(sha256sum < "$here/build.sh" | cut -d' ' -f1)"
    echo "common.sh $(sha256sum < "$here/common.sh" | cut -d' ' -f1)"
    echo "flavour $flavour"
    echo "compiler $compiler"
  } | sha256sum | cut -c1-12
)
deps_root="$DEPS_CACHE/deps"
prefix="$deps_root/$flavour-$key"
stamp="$prefix/.complete"

if [ -f "$stamp" ]; then
  echo "$prefix"
  exit 0
fi

mkdir -p "$deps_root" "$DEPS_CACHE/logs"
# One build per prefix at a time; a second caller waits and then reuses the result.
exec 9> "$deps_root/.$flavour-$key.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi
if [ -f "$stamp" ]; then
  echo "$prefix"
  exit 0
fi

# ---- sources (no network when the cache already has them)
"$here/fetch.sh" >&2

log="$DEPS_CACHE/logs/$flavour-$key.log"
work=$(mktemp -d "${TMPDIR:-/tmp}/gradcam-deps-$flavour.XXXXXX")
stage="$deps_root/.stage-$flavour-$key-$$"
cleanup() { rm -rf "$work" "$stage"; }
trap cleanup EXIT
: > "$log"

fail() {
  echo "[deps] error: $1 (full log: $log); last lines:" >&2
  tail -n 40 "$log" >&2
  exit 1
}

# run STEP CMD...: run CMD with all output appended to the log.
run() {
  local step=$1; shift
  echo "+ $*" >> "$log"
  "$@" >> "$log" 2>&1 || fail "$step failed"
}

# ---- unpack + patch
deps_log "preparing sources for $flavour in $work"
for n in $(deps_names); do
  t="$work/unpack-$n"
  mkdir -p "$t"
  run "unpacking $n" tar -xf "$DEPS_SRC/$(deps_field "$n" 2)" -C "$t"
  # Debian's xnnpack tarball has no top-level directory; the others have one.
  set -- "$t"/*
  if [ $# -eq 1 ] && [ -d "$1" ]; then mv "$1" "$work/$n"; rmdir "$t"; else mv "$t" "$work/$n"; fi
  if [ -d "$here/patches/$n" ]; then
    for p in "$here/patches/$n"/*.patch; do
      [ -f "$p" ] || continue
      run "applying patch $p" patch -p1 -N --no-backup-if-mismatch -s -d "$work/$n" -i "$p"
    done
  fi
done

# ---- configure
# XNNPACK runs tools/update-microkernels.py at configure time; prefer Debian's interpreter.
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3)
cmake_args=(
  -G Ninja -S "$work/xnnpack" -B "$work/build"
  -DCMAKE_BUILD_TYPE=Release
  "-DCMAKE_C_FLAGS_RELEASE=-O3 -DNDEBUG"
  "-DCMAKE_CXX_FLAGS_RELEASE=-O3 -DNDEBUG"
  "-DCMAKE_INSTALL_PREFIX=$stage"
  -DCMAKE_INSTALL_LIBDIR=lib
  -DCMAKE_INSTALL_INCLUDEDIR=include
  "-DPython_EXECUTABLE=$python"
  -DXNNPACK_BUILD_TESTS=OFF
  -DXNNPACK_BUILD_BENCHMARKS=OFF
  -DXNNPACK_BUILD_ALL_MICROKERNELS=OFF
  -DXNNPACK_LIBRARY_TYPE=static
  -DPTHREADPOOL_LIBRARY_TYPE=static
  "-DPTHREADPOOL_SOURCE_DIR=$work/pthreadpool"
  "-DFXDIV_SOURCE_DIR=$work/fxdiv"
)
case "$flavour" in
  native)
    # XNNPACK builds cpuinfo from source unless given a "cpuinfo" target; hand it Debian's
    # libcpuinfo (libcpuinfo-dev) through a tiny stand-in project as CPUINFO_SOURCE_DIR.
    mkdir -p "$work/cpuinfo-system"
    cat > "$work/cpuinfo-system/CMakeLists.txt" <<'EOF'
CMAKE_MINIMUM_REQUIRED(VERSION 3.18)
PROJECT(cpuinfo-system C)
FIND_LIBRARY(SYSTEM_CPUINFO_LIBRARY cpuinfo REQUIRED)
FIND_PATH(SYSTEM_CPUINFO_INCLUDE_DIR cpuinfo.h REQUIRED)
ADD_LIBRARY(cpuinfo UNKNOWN IMPORTED GLOBAL)
SET_TARGET_PROPERTIES(cpuinfo PROPERTIES
  IMPORTED_LOCATION "${SYSTEM_CPUINFO_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${SYSTEM_CPUINFO_INCLUDE_DIR}")
EOF
    cmake_args+=(
      -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++
      -DCMAKE_POSITION_INDEPENDENT_CODE=ON
      "-DCPUINFO_SOURCE_DIR=$work/cpuinfo-system"
      # Debian bookworm's libcpuinfo (2022) cannot detect these; their kernels would call
      # cpuinfo functions it does not have.
      -DXNNPACK_ENABLE_AVX512VNNIGFNI=OFF -DXNNPACK_ENABLE_AVX512AMX=OFF
      -DXNNPACK_ENABLE_AVX512FP16=OFF -DXNNPACK_ENABLE_AVXVNNI=OFF
      -DXNNPACK_ENABLE_AVXVNNIINT8=OFF -DXNNPACK_ENABLE_AVX256SKX=OFF
      -DXNNPACK_ENABLE_AVX256VNNI=OFF -DXNNPACK_ENABLE_AVX256VNNIGFNI=OFF
    )
    configure=(cmake)
    ;;
  wasm-st)
    cmake_args+=(-DXNNPACK_ENABLE_WASMSIMD=ON -DPTHREADPOOL_EMSCRIPTEN_THREADS=OFF)
    configure=(emcmake cmake)
    ;;
  wasm-mt|wasm-relaxed)
    cmake_args+=(-DXNNPACK_ENABLE_WASMSIMD=ON -DPTHREADPOOL_EMSCRIPTEN_THREADS=ON
                 -DCMAKE_C_FLAGS=-pthread -DCMAKE_CXX_FLAGS=-pthread)
    [ "$flavour" = wasm-relaxed ] && cmake_args+=(-DXNNPACK_ENABLE_WASMRELAXEDSIMD=ON)
    configure=(emcmake cmake)
    ;;
esac

start=$(date +%s)
deps_log "configuring XNNPACK for $flavour ($compiler)"
run "configure" "${configure[@]}" "${cmake_args[@]}"

deps_log "building XNNPACK for $flavour (takes ~3 min; log: $log)..."
run "build" cmake --build "$work/build" -j "${GRADCAM_DEPS_JOBS:-2}"

rm -rf "$stage"
run "install" cmake --install "$work/build"

for f in include/xnnpack.h include/pthreadpool.h lib/libXNNPACK.a lib/libmicrokernels-prod.a lib/libpthreadpool.a; do
  [ -f "$stage/$f" ] || fail "install produced no $f"
done

# ---- what a consumer needs, as a pkg-config file (relocatable through ${pcfiledir})
case "$flavour" in
  native)  cflags="";                 libs_extra=" -lcpuinfo -lpthread -lm" ;;
  wasm-st) cflags=" -msimd128";       libs_extra="" ;;
  wasm-mt) cflags=" -msimd128 -pthread"; libs_extra=" -pthread" ;;
  wasm-relaxed) cflags=" -msimd128 -mrelaxed-simd -pthread"; libs_extra=" -pthread" ;;
esac
mkdir -p "$stage/lib/pkgconfig"
cat > "$stage/lib/pkgconfig/xnnpack.pc" <<EOF
prefix=\${pcfiledir}/../..
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: xnnpack
Description: XNNPACK git20241108.4ea82e5 + pthreadpool, static, gradcam $flavour build
Version: 0.0.20241108
Cflags: -I\${includedir}$cflags
Libs: -L\${libdir} -lXNNPACK -lmicrokernels-prod -lpthreadpool$libs_extra
EOF

elapsed=$(( $(date +%s) - start ))
{
  echo "flavour=$flavour"
  echo "key=$key"
  echo "compiler=$compiler"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ) in ${elapsed}s"
} > "$stage/.complete"

# Move into place atomically; an incomplete leftover (no stamp) is replaced.
rm -rf "$prefix"
mv -T "$stage" "$prefix"
deps_log "installed $flavour in $prefix (${elapsed}s)"
echo "$prefix"
