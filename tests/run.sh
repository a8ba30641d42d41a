#!/bin/bash
# tests/run.sh BUILD - runs lint, every unit test, every fuzz corpus replay and
# every integration test, and ends with one line "N passed, N failed".
# Unit tests count cmocka's cases; integration scripts count their checks.
set -u
B=${1:-build/asan}
export LEAL_BUILD=$B
PASS=0
FAIL=0
FAILED_NAMES=()
LOG=$B/test-logs
mkdir -p "$LOG"

add() { PASS=$((PASS + $1)); FAIL=$((FAIL + $2)); [ "$2" -gt 0 ] && FAILED_NAMES+=("$3"); }

for l in format-check cppcheck checksrc check-freestanding check-size; do
    if make --no-print-directory -s "$l" >"$LOG/lint-$l.log" 2>&1; then
        echo "PASS lint: $l"; add 1 0 "$l"
    else
        echo "FAIL lint: $l"; sed -n '1,40p' "$LOG/lint-$l.log"; add 0 1 "lint: $l"
    fi
done

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "$B"/tests/unit/*_test; do
    [ -x "$t" ] || continue
    n=$(basename "$t")
    "$t" >"$LOG/$n.log" 2>&1
    rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$LOG/$n.log" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$LOG/$n.log" | tail -1)
    p=${p:-0} f=${f:-0}
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    if [ "$f" -eq 0 ]; then echo "PASS unit: $n ($p)"; else echo "FAIL unit: $n"; tail -40 "$LOG/$n.log"; fi
    add "$p" "$f" "unit: $n"
done

for t in "$B"/tests/replay/fuzz_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t")
    if "$t" "tests/fuzz/corpus/$n" >"$LOG/$n.log" 2>&1; then
        echo "PASS fuzz replay: $n ($(tail -1 "$LOG/$n.log"))"; add 1 0 "$n"
    else
        echo "FAIL fuzz replay: $n"; tail -30 "$LOG/$n.log"; add 0 1 "fuzz replay: $n"
    fi
done

# Each libFuzzer target briefly (make fuzz runs them longer).
for t in build/fuzz/bin/fuzz_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t")
    if tests/lib/fuzz-run.sh "${FUZZ_TEST_SECONDS:-5}" "$t" >"$LOG/$n.fuzz.log" 2>&1; then
        echo "PASS $(cat "$LOG/$n.fuzz.log")"; add 1 0 "$n"
    else
        echo "FAIL fuzz: $n"; cat "$LOG/$n.fuzz.log"; add 0 1 "fuzz: $n"
    fi
done

for t in tests/integration/*.sh; do
    [ -f "$t" ] || continue
    n=$(basename "$t" .sh)
    start=$(date +%s)
    timeout 900 bash "$t" >"$LOG/$n.log" 2>&1
    rc=$?
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$LOG/$n.log" | tail -1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed$/\1/p')
    p=${p:-0} f=${f:-0}
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    secs=$(($(date +%s) - start))
    if [ "$f" -eq 0 ]; then echo "PASS integration: $n ($p checks, ${secs}s)"
    else echo "FAIL integration: $n (rc $rc)"; grep -E -A3 '^not ok' "$LOG/$n.log" | head -60; tail -15 "$LOG/$n.log"; fi
    add "$p" "$f" "integration: $n"
done

if [ "$FAIL" -gt 0 ]; then
    echo "failed: ${FAILED_NAMES[*]}"
    echo "logs: $LOG"
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
