#!/usr/bin/env bash
# Install the Debian packages the project needs, only those not yet installed.
# Usage: tools/deps/system.sh [EXTRA_PACKAGE...]
set -euo pipefail

# python3-h5py, python3-numpy: the test fixtures' writer (tools/fixtures/*.py) and the oracle's HDF5 reader.
# clang, its sanitizer and libFuzzer runtimes and llvm-symbolizer: the ASan/UBSan test build and
# the fuzz targets (tools/test/asan.sh, tools/test/fuzz.sh); python3-h5py: writes the HDF5 test files and reads
# them as the oracle of the project's own reader (tests/js/h5-reader.test.mjs, /usr/bin/python3)
packages=(emscripten cmake ninja-build libstb-dev libcpuinfo-dev libhdf5-dev pkg-config xz-utils patch
          clang libclang-rt-14-dev llvm-14 python3-h5py python3-numpy "$@")

missing=()
for p in "${packages[@]}"; do
  # "install ok installed" is the only state in which the package is really there.
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "[deps] system packages present: ${packages[*]}"
  exit 0
fi

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "[deps] error: missing Debian packages: ${missing[*]}; install them as root with: $cmd" >&2
  exit 1
fi

echo "[deps] installing Debian packages: ${missing[*]}"
# Wait up to 10 minutes for another apt/dpkg run to release its lock rather than failing.
lock=(-o DPkg::Lock::Timeout=600)
apt-get "${lock[@]}" update -qq
DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -q "${missing[@]}"

still=()
for p in "${missing[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
    still+=("$p")
  fi
done
if [ ${#still[@]} -ne 0 ]; then
  echo "[deps] error: still missing after apt-get install: ${still[*]}" >&2
  exit 1
fi
echo "[deps] system packages installed: ${missing[*]}"
