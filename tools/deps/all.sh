#!/usr/bin/env bash
# Bootstrap every native/wasm dependency of the project:
#   system packages (system.sh), source tarballs (fetch.sh), XNNPACK builds (build.sh) for
#   native, wasm-st, wasm-mt and wasm-relaxed. Progress goes to stderr; stdout is exactly four lines:
#     GRADCAM_DEPS_NATIVE=<prefix>
#     GRADCAM_DEPS_WASM_ST=<prefix>
#     GRADCAM_DEPS_WASM_MT=<prefix>
#     GRADCAM_DEPS_WASM_RELAXED=<prefix>
# so that `eval "$(tools/deps/all.sh)"` sets them. Everything is cached: a second run only
# checks and prints. Extra arguments are extra Debian packages for system.sh (e.g. chromium).
# Usage: tools/deps/all.sh [EXTRA_PACKAGE...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$here/common.sh"

"$here/system.sh" "clang-$DEPS_RELAXED_LLVM" "lld-$DEPS_RELAXED_LLVM" "llvm-$DEPS_RELAXED_LLVM" "$@" >&2
"$here/fetch.sh" >&2
native=$("$here/build.sh" native | tail -n 1)
wasm_st=$("$here/build.sh" wasm-st | tail -n 1)
wasm_mt=$("$here/build.sh" wasm-mt | tail -n 1)
wasm_relaxed=$("$here/build.sh" wasm-relaxed | tail -n 1)

echo "GRADCAM_DEPS_NATIVE=$native"
echo "GRADCAM_DEPS_WASM_ST=$wasm_st"
echo "GRADCAM_DEPS_WASM_MT=$wasm_mt"
echo "GRADCAM_DEPS_WASM_RELAXED=$wasm_relaxed"
