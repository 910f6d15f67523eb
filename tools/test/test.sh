#!/usr/bin/env bash
# npm test: build whatever is missing (system packages, dependencies, native + wasm), then run
# every test: the C unit tests and the leak check (ctest), the same C tests built with
# AddressSanitizer + UBSan (tools/test/asan.sh), a short smoke of each fuzz target (tools/test/fuzz.sh),
# and the Node tests (oracle
# comparisons, wasm builds, converters, scripts, the npm package's engine), and the browser
# tests of the npm package in headless Chromium (tests/browser).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
start=$(date +%s)

bash tools/build/build.sh all

echo "[test] C unit tests (ctest)"
ctest --test-dir build/native --output-on-failure

echo "[test] C tests under AddressSanitizer + UBSan (tools/test/asan.sh, build/asan)"
bash tools/test/asan.sh

echo "[test] fuzz targets: ${GRADCAM_FUZZ_SMOKE:-30} s each from their seeds (tools/test/fuzz.sh --smoke)"
bash tools/test/fuzz.sh --smoke "${GRADCAM_FUZZ_SMOKE:-30}"

echo "[test] Node tests"
node --test --test-reporter=spec tests/js/

echo "[test] browser tests (headless Chromium)"
node --test --test-reporter=spec --test-concurrency=1 tests/browser/

echo "[test] all tests passed in $(( $(date +%s) - start )) s"
