#!/usr/bin/env bash
# Put the upstream source tarballs of XNNPACK, pthreadpool and FXdiv into the cache
# (${GRADCAM_CACHE:-$HOME/.cache/gradcam}/src/), checked by sha256.
#
# They come from Debian trixie's source archive through apt's own client, with a private,
# temporary source list derived from this machine's own apt sources, so that neither the
# system's apt configuration nor this project names an archive host. Needs root for that
# (apt-get update); nothing is downloaded when the cache already holds the right files.
# Usage: tools/deps/fetch.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$here/common.sh"

mkdir -p "$DEPS_SRC"

missing=()
for n in $(deps_names); do
  deps_tarball_ok "$n" || missing+=("$n")
done
if [ ${#missing[@]} -eq 0 ]; then
  deps_log "sources present in $DEPS_SRC"
  exit 0
fi

# One line saying what is missing and how to get it; then exit non-zero.
fail() {
  local what="" how=""
  for n in "${missing[@]}"; do
    deps_tarball_ok "$n" && continue
    what+="${what:+, }$(deps_field "$n" 2) (sha256 $(deps_field "$n" 3))"
    how+="${how:+, }github.com/$(deps_field "$n" 4)"
  done
  printf '[deps] error: %s: missing from %s: %s. Get them by running tools/deps/fetch.sh as root on a Debian/apt machine that reaches the Debian archive, or copy them there by hand; outside Debian the same upstream commits are %s.\n' \
    "$1" "$DEPS_SRC" "$what" "$how" >&2
  exit 1
}

command -v apt-get >/dev/null || fail "apt-get not found"
[ "$(id -u)" -eq 0 ] || fail "not root (apt-get update needs root)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gradcam-fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

# Write a deb-src source list for trixie from the system's first Debian source entry.
list=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  # deb822: keep the first stanza; Types -> deb-src, Suites -> trixie.
  list="$tmp/sources.list.d/gradcam.sources"
  mkdir -p "$tmp/sources.list.d"
  awk '
    /^[ \t]*$/ { if (seen) exit; next }
    /^#/       { next }
    /^[Tt]ypes:/  { print "Types: deb-src"; seen = 1; next }
    /^[Ss]uites:/ { print "Suites: trixie"; seen = 1; next }
    /^[Cc]omponents:/ { print "Components: main"; seen = 1; next }
    { print; seen = 1 }
  ' /etc/apt/sources.list.d/debian.sources > "$list"
  grep -q '^URIs:' "$list" || fail "no URIs line in the first stanza of /etc/apt/sources.list.d/debian.sources"
  srcopts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$tmp/sources.list.d")
elif [ -f /etc/apt/sources.list ]; then
  # One-line format: take the first "deb [options] URI suite components" line.
  list="$tmp/sources.list"
  awk '
    $1 == "deb" {
      i = 2; opts = ""
      if ($2 ~ /^\[/) { while (i <= NF) { opts = opts " " $i; if ($i ~ /\]$/) break; i++ } ; i++ }
      print "deb-src" opts " " $i " trixie main"; exit
    }
  ' /etc/apt/sources.list > "$list"
  [ -s "$list" ] || fail "no 'deb' line in /etc/apt/sources.list"
  srcopts=(-o "Dir::Etc::SourceList=$list" -o "Dir::Etc::SourceParts=/dev/null")
else
  fail "no /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list to derive a Debian source entry from"
fi

mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/download"
chown -R _apt "$tmp/lists" "$tmp/cache" "$tmp/download" 2>/dev/null || true
apt=(apt-get -q "${srcopts[@]}"
     -o "Dir::State::Lists=$tmp/lists"
     -o "Dir::Cache=$tmp/cache" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")

deps_log "fetching sources of ${missing[*]} with apt-get (private source list, suite trixie)"
if ! "${apt[@]}" update > "$tmp/update.log" 2>&1; then
  tail -n 5 "$tmp/update.log" >&2
  fail "apt-get update of the private deb-src list failed"
fi
for n in "${missing[@]}"; do
  # The archive answers some files (.dsc, .debian.tar.xz) with 404, so apt-get exits non-zero
  # even when the .orig tarball arrived: judge by the tarball and its sha256, not the exit code.
  (cd "$tmp/download" && "${apt[@]}" source --download-only "$n") > "$tmp/source-$n.log" 2>&1 || true
  f=$(deps_field "$n" 2)
  if [ -f "$tmp/download/$f" ]; then
    got=$(deps_sha256 "$tmp/download/$f")
    if [ "$got" = "$(deps_field "$n" 3)" ]; then
      cp "$tmp/download/$f" "$DEPS_SRC/$f.part.$$"
      mv -f "$DEPS_SRC/$f.part.$$" "$DEPS_SRC/$f"
      deps_log "got $f"
    else
      deps_log "$f has sha256 $got, expected $(deps_field "$n" 3)"
    fi
  else
    tail -n 3 "$tmp/source-$n.log" >&2
  fi
done

for n in "${missing[@]}"; do
  deps_tarball_ok "$n" || fail "download failed or wrong sha256"
done
deps_log "sources present in $DEPS_SRC"
