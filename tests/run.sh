#!/bin/bash
# tests/run.sh BUILD - runs lint, every unit test, every fuzz corpus replay, each
# libFuzzer target briefly and every integration test, and ends with one line
# "N passed, N failed". Unit tests count cmocka's cases; integration scripts count
# their checks.
#
# The jobs run LEAL_TEST_JOBS at a time (default: the number of CPUs), longest
# first by tests/lib/durations.txt, so the last to start are the short ones.
# Every integration test starts its own daemons on its own ports and in its own
# temporary directory, so they can run side by side. Each job prints its line as
# it ends; a failed job's details follow the summary. The run writes
# $BUILD/test-logs/durations.txt in durations.txt's form (wall seconds, then CPU
# seconds): copy it over tests/lib/durations.txt when the suites' lengths change.
# LEAL_TEST_ONLY=REGEX runs only the jobs whose "KIND NAME" matches (grep -E).
set -u
B=${1:-build/asan}
export LEAL_BUILD=$B B
export LOG=$B/test-logs
JOBS=${LEAL_TEST_JOBS:-$(nproc)}
rm -rf "$LOG/jobs"
mkdir -p "$LOG/jobs"

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

jobs_list() {
    for l in format-check cppcheck checksrc check-freestanding check-size; do echo "lint $l"; done
    for t in "$B"/tests/unit/*_test; do [ -x "$t" ] && echo "unit $(basename "$t")"; done
    for t in "$B"/tests/replay/fuzz_*; do [ -x "$t" ] && echo "replay $(basename "$t")"; done
    for t in build/fuzz/bin/fuzz_*; do [ -x "$t" ] && echo "fuzz $(basename "$t")"; done
    for t in tests/integration/*.sh; do [ -f "$t" ] && echo "integration $(basename "$t" .sh)"; done
}

# Longest first: a job's expected seconds from durations.txt (a job not in it: 10).
jobs_list | awk 'NR == FNR { secs[$1] = $2; next }
    { k = $1 "-" $2; print (k in secs ? secs[k] : 10), $0 }' tests/lib/durations.txt - |
    sort -k1,1nr -k2,3 | cut -d' ' -f2- | grep -E -- "${LEAL_TEST_ONLY:-.}" >"$LOG/jobs.txt"

echo "running $(wc -l <"$LOG/jobs.txt") jobs, $JOBS at a time"
start=$(date +%s)
xargs -P "$JOBS" -L 1 tests/lib/run-job.sh <"$LOG/jobs.txt"

PASS=0
FAIL=0
FAILED=()
: >"$LOG/durations.txt.tmp"
while read -r kind name; do
    r=$LOG/jobs/$kind-$name
    if [ ! -s "$r" ]; then
        echo "FAIL $kind: $name (the job left no result)"
        FAIL=$((FAIL + 1)) FAILED+=("$kind: $name")
        continue
    fi
    read -r p f secs cpu <"$r"
    PASS=$((PASS + p)) FAIL=$((FAIL + f))
    echo "$kind-$name $secs $cpu" >>"$LOG/durations.txt.tmp"
    if [ "$f" -gt 0 ]; then
        FAILED+=("$kind: $name")
        echo "--- $kind: $name failed ($LOG):"
        tail -n +2 "$r"
    fi
done <"$LOG/jobs.txt"
sort -k2,2nr "$LOG/durations.txt.tmp" >"$LOG/durations.txt" && rm -f "$LOG/durations.txt.tmp"
awk -v wall=$(($(date +%s) - start)) -v jobs="$JOBS" '{ s += $2; c += $3 }
    END { printf "%d s of jobs (%d s of CPU) in %d s, %d at a time\n", s, c, wall, jobs }' \
    "$LOG/durations.txt"

if [ "$FAIL" -gt 0 ]; then
    echo "failed: ${FAILED[*]}"
    echo "logs: $LOG"
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
