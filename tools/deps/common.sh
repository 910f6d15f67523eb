# shellcheck shell=bash
# Shared settings for the tools/deps scripts. Sourced, not run.
# The upstream source tarballs (Debian trixie's .orig tarballs of these commits):
#   name        file                                             sha256                                                            upstream fallback
DEPS_TARBALLS='
xnnpack     xnnpack_0.0~git20241108.4ea82e5.orig.tar.xz      90bde2caef0f880f627bab0dc805a86c4b8070cd98e3243db3046ab3f3be1a99  google/XNNPACK@4ea82e5
pthreadpool pthreadpool_0.0~git20240616.560c60d.orig.tar.xz  4cc3cbd933b28131d2a34edc54f76af9fb41bc490af5eae1a5bd3cd07ea90708  Maratyszcza/pthreadpool@560c60d
fxdiv       fxdiv_0.0~git20200417.b408327.orig.tar.xz        7953482badaf4cb34026c3487c257b8e4ab2df061c019bd6fabbbc12ad52c44b  Maratyszcza/FXdiv@b408327
'

DEPS_CACHE="${GRADCAM_CACHE:-${HOME:-/tmp}/.cache/gradcam}"
case "$DEPS_CACHE" in /*) ;; *) DEPS_CACHE="$PWD/$DEPS_CACHE" ;; esac
DEPS_SRC="$DEPS_CACHE/src"

# The wasm-relaxed flavour (threads + SIMD + relaxed SIMD): Emscripten 3.1.6 compiles with its
# clang 14, which has no relaxed SIMD. EM_LLVM_ADD_VERSION / EM_CLANG_ADD_VERSION make it drive
# Debian's clang-16, wasm-ld-16, llvm-ar-16 etc. instead (emcc warns that it expected LLVM 14;
# that is -Wversion-check, and it is only printed by `emcc --check`). Binaryen 108 cannot parse
# the relaxed opcodes clang 16 emits (their final encoding: "invalid code after SIMD prefix:
# 261" for f32x4.relaxed_madd), so no binaryen tool may see the linked module:
# EMCC_READ_METADATA=python reads the metadata without wasm-emscripten-finalize, and the
# project's link (CMakeLists.txt) uses -O1 (no wasm-opt) and -sWASM_BIGINT (no i64
# legalisation, which would need finalize).
DEPS_RELAXED_LLVM=16
deps_relaxed_env() {
  export EM_LLVM_ADD_VERSION=$DEPS_RELAXED_LLVM EM_CLANG_ADD_VERSION=$DEPS_RELAXED_LLVM EMCC_READ_METADATA=python
}

deps_log() { printf '[deps] %s\n' "$*" >&2; }
deps_die() { printf '[deps] error: %s\n' "$*" >&2; exit 1; }

# deps_field NAME COLUMN -> one column (2 file, 3 sha256, 4 upstream) of NAME's row.
deps_field() {
  local row
  row=$(printf '%s\n' "$DEPS_TARBALLS" | awk -v n="$1" '$1 == n')
  [ -n "$row" ] || deps_die "unknown source package '$1'"
  printf '%s\n' "$row" | awk -v c="$2" '{ print $c }'
}

deps_names() { printf '%s\n' "$DEPS_TARBALLS" | awk 'NF { print $1 }'; }

# deps_sha256 FILE -> its sha256, or nothing if the file is missing.
deps_sha256() { if [ -f "$1" ]; then sha256sum "$1" | awk '{ print $1 }'; fi; }

# deps_tarball_ok NAME -> true if the cached tarball exists with the right sha256.
deps_tarball_ok() {
  local f
  f="$DEPS_SRC/$(deps_field "$1" 2)"
  [ -f "$f" ] && [ "$(deps_sha256 "$f")" = "$(deps_field "$1" 3)" ]
}
