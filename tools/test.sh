#!/usr/bin/env bash
# npm test: build whatever is missing (system packages, dependencies, native + wasm), then run
# every test: the C unit tests and the leak check (ctest), and the Node tests (oracle
# comparisons, wasm builds, converters, scripts).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
start=$(date +%s)

bash tools/build.sh all

echo "[test] C unit tests (ctest)"
ctest --test-dir build/native --output-on-failure

echo "[test] Node tests"
node --test --test-reporter=spec tests/js/

echo "[test] all tests passed in $(( $(date +%s) - start )) s"
