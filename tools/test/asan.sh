#!/usr/bin/env bash
# The whole native C test suite (ctest: unit tests, test_cycle as the leak check, and the replays of the fuzz
# regression inputs) built with clang -fsanitize=address,undefined -fno-sanitize-recover=all in
# build/asan. XNNPACK and pthreadpool stay uninstrumented (linked from the dependency cache).
# Any sanitizer report fails the test that produced it.
# Usage: tools/test/asan.sh [CTEST_ARGS...]   (npm test runs it)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

# shellcheck source=tools/build/clang-build.sh
. tools/build/clang-build.sh
dir=build/asan
clang_build asan "$dir" GRADCAM_SANITIZE 10

sym=/usr/lib/llvm-14/bin/llvm-symbolizer
[ -x "$sym" ] && export ASAN_SYMBOLIZER_PATH="$sym" UBSAN_SYMBOLIZER_PATH="$sym"
# allocator_may_return_null: an absurd allocation fails as it does without ASan (a damaged
# file can ask for gigabytes; the library must cope with NULL). detect_leaks: every test is also
# a leak check, without suppressions (the files the tests read go through the project's own readers).
export ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir "$dir" --output-on-failure "$@"
