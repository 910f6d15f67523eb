#!/usr/bin/env bash
# npm run fuzz -- [--smoke] [SECONDS] [TARGET...]
# Build the libFuzzer targets of tests/fuzz with clang (-fsanitize=fuzzer,address,undefined)
# in build/fuzz, write their seed corpora (build/fuzz/seeds, from the project's own writers and
# the test photographs), replay the regression inputs of tests/fuzz/regressions/<target>/, then
# fuzz each target for SECONDS (default 60), one at a time, at nice 19. The corpora grow in
# build/fuzz/corpus/<target> from run to run; crash inputs go to build/fuzz/artifacts/<target>/.
# With --smoke (npm test) each target starts from its seeds alone, in a fresh corpus.
# After a crash the target is restarted for the time left (up to 5 times), so one bug does
# not end its campaign. Prints executions, exec/s and crashes per target; exits non-zero on
# any crash, timeout or out-of-memory, and on a failing regression input. Every target reads
# through the project's own code (libhdf5 only writes HDF5 seeds, in fuzz_seeds).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

smoke=0
if [ "${1:-}" = --smoke ]; then smoke=1; shift; fi # npm test: fresh corpora from the seeds only
secs=${1:-60}
shift || true
case "$secs" in '' | *[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;; esac
all_targets=(fuzz_weights fuzz_keras fuzz_h5 fuzz_zip fuzz_image fuzz_request fuzz_json fuzz_import)
targets=("${all_targets[@]}")
[ $# -eq 0 ] || targets=("$@")
log() { echo "[fuzz] $*"; }

# clang with libFuzzer and the sanitizer runtimes; llvm-symbolizer for readable stacks
# shellcheck source=tools/build/clang-build.sh
. tools/build/clang-build.sh
dir=build/fuzz
log "building the fuzz targets"
clang_build fuzz "$dir" GRADCAM_FUZZ 19 "${all_targets[@]}" fuzz_seeds

rm -rf "$dir/seeds"
"$dir/tests/fuzz/fuzz_seeds" "$dir/seeds" "$root" > /dev/null

# allocator_may_return_null: an absurd allocation fails as it would without ASan (callers must
# cope with NULL). max_allocation_size_mb: one allocation over 1 GB fails the same way (glibc
# refuses what it cannot back; ASan would hand out 20 GB of untouched address space, and the
# first writes then end the run as an out-of-memory report that names no allocation site).
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:max_allocation_size_mb=1024:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
# a single input running longer than 60 s is reported as a hang (an explanation request takes
# several seconds under the sanitizers at nice 19 on a busy 2-core machine)
timeout=60

failed=0
summary=()
for t in "${targets[@]}"; do
  bin="$dir/tests/fuzz/$t"
  [ -x "$bin" ] || { echo "[fuzz] error: unknown target $t" >&2; exit 2; }
  art="$dir/artifacts/$t"
  corpus="$dir/corpus/$t"
  if [ "$smoke" = 1 ]; then corpus="$dir/smoke-corpus/$t"; rm -rf "$corpus"; fi
  mkdir -p "$art" "$corpus"
  # 1. the regression inputs: each must run clean
  reg="tests/fuzz/regressions/$t"
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
    if ! "$bin" "$reg"/* > "$dir/$t.replay.log" 2>&1; then
      echo "[fuzz] $t: a regression input fails (log: $dir/$t.replay.log)" >&2
      tail -n 30 "$dir/$t.replay.log" >&2
      failed=1
      summary+=("$t: REGRESSION FAILED")
      continue
    fi
  fi
  # 2. fuzz for $secs seconds, restarting after a crash
  execs=0 crashes=0 runs=0 start=$(date +%s) found=()
  while :; do
    left=$(( secs - ($(date +%s) - start) ))
    # restarts: up to 5 after crashes
    [ "$left" -gt 0 ] && [ "$crashes" -lt 6 ] && [ "$runs" -lt 200 ] || break
    runs=$((runs + 1))
    runlog="$dir/$t.run$runs.log"
    touch "$runlog.start"
    set +e
    nice -n 19 "$bin" -max_total_time="$left" -timeout="$timeout" -print_final_stats=1 \
      -artifact_prefix="$art/" "$corpus" "$dir/seeds/$t" > "$runlog" 2>&1
    rc=$?
    set -e
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$runlog" | tail -n 1)
    execs=$(( execs + ${n:-0} ))
    new=$(find "$art" -newer "$runlog.start" -name 'crash-*' -o -newer "$runlog.start" -name 'leak-*' \
      -o -newer "$runlog.start" -name 'timeout-*' -o -newer "$runlog.start" -name 'oom-*' | wc -l)
    rm -f "$runlog.start"
    if [ "$rc" -ne 0 ] || [ "$new" -gt 0 ]; then
      crashes=$((crashes + 1))
      a=$(ls -t "$art" | grep -v '^slow-unit' | head -n 1)
      # where it happened: the first frame of the report in the project's sources
      where=$(grep -m1 -E '^ *#[0-9]+ .* in [^ ]+ /[^ ]*/(src|tests)/[^ ]+' "$runlog" |
        sed -E 's/^ *#[0-9]+ 0x[0-9a-f]+ in //; s/ \(BuildId.*//' || true)
      kind=$(grep -m1 -oE 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer): [a-z-]+|runtime error: .*|FUZZ_CHECK failed.*' "$runlog" || echo "exit status $rc")
      found+=("$art/$a: $kind at ${where:-?} (log: $runlog)")
    fi
  done
  el=$(( $(date +%s) - start ))
  rate=$(( el > 0 ? execs / el : execs ))
  line="$t: $execs executions, $rate exec/s, $crashes crashes ($el s)"
  log "$line"
  # one line per distinct (kind, place), with a count and the first input
  [ "$crashes" -eq 0 ] || printf '%s\n' "${found[@]}" | awk -F' \\(log: ' '{
      key = $1; sub(/^[^:]*: /, "", key)
      if (!(key in n)) { order[++k] = key; first[key] = $0 }
      n[key]++
    } END { for (i = 1; i <= k; i++) printf "[fuzz]   crash x%d: %s\n", n[order[i]], first[order[i]] }'

  summary+=("$line")
  [ "$crashes" -eq 0 ] || failed=1
done

echo "[fuzz] summary ($secs s per target):"
for s in "${summary[@]}"; do echo "[fuzz]   $s"; done
if [ "$failed" -ne 0 ]; then
  echo "[fuzz] FAILED: crash inputs are in $dir/artifacts/; reproduce with $dir/tests/fuzz/<target> FILE" >&2
  exit 1
fi
echo "[fuzz] no crashes"
