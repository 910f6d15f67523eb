# clang-build.sh - sourced by tools/test/asan.sh and tools/test/fuzz.sh: the clang build of the project
# with one sanitizer option, on the cached XNNPACK/pthreadpool build (uninstrumented).
# clang_build TAG DIR CMAKE_OPTION NICENESS [NINJA_TARGET...]
#   installs what is missing (tools/deps/system.sh: clang, compiler-rt, llvm), configures DIR
#   once with -DCMAKE_OPTION=ON, builds the targets (all when none) at NICENESS with
#   $GRADCAM_JOBS (2) jobs; on failure prints the end of the log and exits.
clang_build() {
  local tag=$1 dir=$2 option=$3 niceness=$4
  shift 4
  bash tools/deps/system.sh >&2
  local prefix
  prefix=$(bash tools/deps/build.sh native | tail -n 1)
  [ -f "$prefix/include/xnnpack.h" ] || { echo "[$tag] error: dependency build failed" >&2; exit 1; }
  mkdir -p "$dir"
  if [ ! -f "$dir/build.ninja" ]; then
    echo "[$tag] configuring $dir (clang, $option)"
    CC=clang cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-D$option=ON" \
      -DGRADCAM_DEPS="$prefix" > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log" >&2; exit 1; }
  fi
  if ! nice -n "$niceness" ninja -C "$dir" -j "${GRADCAM_JOBS:-2}" "$@" > "$dir.build.log" 2>&1; then
    grep -v '^\[[0-9]*/[0-9]*\]' "$dir.build.log" | tail -n 40 >&2
    echo "[$tag] error: building $dir failed (log: $dir.build.log)" >&2
    exit 1
  fi
}
