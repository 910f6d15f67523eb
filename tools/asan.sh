#!/usr/bin/env bash
# The whole native C test suite (ctest: unit tests, the leak check, and the replays of the fuzz
# regression inputs) built with clang -fsanitize=address,undefined -fno-sanitize-recover=all in
# build/asan. XNNPACK and pthreadpool stay uninstrumented (linked from the dependency cache).
# Any sanitizer report fails the test that produced it.
# Usage: tools/asan.sh [CTEST_ARGS...]   (npm test runs it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${GRADCAM_JOBS:-2}

bash tools/deps/system.sh >&2
prefix=$(bash tools/deps/build.sh native | tail -n 1)
[ -f "$prefix/include/xnnpack.h" ] || { echo "[asan] error: dependency build failed" >&2; exit 1; }

dir=build/asan
mkdir -p "$dir"
if [ ! -f "$dir/build.ninja" ]; then
  CC=clang cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRADCAM_SANITIZE=ON \
    -DGRADCAM_DEPS="$prefix" > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log" >&2; exit 1; }
fi
if ! nice -n 10 ninja -C "$dir" -j "$jobs" > "$dir.build.log" 2>&1; then
  grep -v '^\[[0-9]*/[0-9]*\]' "$dir.build.log" | tail -n 40 >&2
  echo "[asan] error: the sanitizer build failed (log: $dir.build.log)" >&2
  exit 1
fi

sym=/usr/lib/llvm-14/bin/llvm-symbolizer
[ -x "$sym" ] && export ASAN_SYMBOLIZER_PATH="$sym" UBSAN_SYMBOLIZER_PATH="$sym"
# allocator_may_return_null: an absurd allocation fails as it does without ASan (libhdf5 asks
# for 64 GB on a damaged file the fuzz_h5 replay feeds it; the library must cope with NULL). detect_leaks: every test is also a leak check; libhdf5's own leaks on damaged files (the
# fuzz_h5 replay) are suppressed by tests/fuzz/lsan.supp
export ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0"
ctest --test-dir "$dir" --output-on-failure "$@"
