#!/bin/bash
# run-job.sh KIND NAME - one job of tests/run.sh: runs it with its log in
# $LOG/NAME.log, prints its one PASS/FAIL line, and leaves $LOG/jobs/KIND-NAME:
#   line 1  "PASSED FAILED SECONDS CPU-SECONDS" (CPU: the job's own processes, waited for)
#   then    the lines to show when it failed (empty when it passed)
# KIND is lint, unit, replay, fuzz or integration; tests/run.sh sets B and LOG.
set -u
kind=$1
name=$2
out=$LOG/jobs/$kind-$name
start=$(date +%s)
detail=
case $kind in
lint)
    log=$LOG/lint-$name.log
    make --no-print-directory -s "$name" >"$log" 2>&1
    rc=$?
    p=$((rc == 0)) f=$((rc != 0))
    line="lint: $name"
    [ $rc -ne 0 ] && detail=$(sed -n '1,40p' "$log")
    ;;
unit)
    log=$LOG/$name.log
    "$B/tests/unit/$name" >"$log" 2>&1
    rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    p=${p:-0} f=${f:-0}
    [ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
    line="unit: $name ($p)"
    [ "$f" -ne 0 ] && line="unit: $name" && detail=$(tail -40 "$log")
    ;;
replay)
    log=$LOG/$name.log
    "$B/tests/replay/$name" "tests/fuzz/corpus/$name" >"$log" 2>&1
    rc=$?
    p=$((rc == 0)) f=$((rc != 0))
    line="fuzz replay: $name ($(tail -1 "$log"))"
    [ $rc -ne 0 ] && line="fuzz replay: $name" && detail=$(tail -30 "$log")
    ;;
fuzz)
    log=$LOG/$name.fuzz.log
    tests/lib/fuzz-run.sh "${FUZZ_TEST_SECONDS:-5}" "build/fuzz/bin/$name" >"$log" 2>&1
    rc=$?
    p=$((rc == 0)) f=$((rc != 0))
    line=$(head -1 "$log")
    [ $rc -ne 0 ] && line="fuzz: $name" && detail=$(cat "$log")
    ;;
integration)
    log=$LOG/$name.log
    timeout 900 bash "tests/integration/$name.sh" >"$log" 2>&1
    rc=$?
    tally=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
    p=$(echo "$tally" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$tally" | sed -n 's/.* \([0-9]*\) failed$/\1/p')
    p=${p:-0} f=${f:-0}
    [ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
    line="integration: $name ($p checks, $(($(date +%s) - start))s)"
    if [ "$f" -ne 0 ]; then
        line="integration: $name (rc $rc)"
        detail=$(grep -E -A3 '^not ok' "$log" | head -60; tail -15 "$log")
    fi
    ;;
*)
    echo "run-job.sh: unknown kind '$kind' (lint, unit, replay, fuzz or integration)" >&2
    exit 2
    ;;
esac
# times: the shell's own user/system line, then its waited-for children's (run in
# this shell: in a pipeline or $(...) it would report a subshell's, nothing).
times >"$out.times"
cpu=$(tail -1 "$out.times" | awk '{ split($1, u, "m"); split($2, s, "m");
    printf "%.1f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
rm -f "$out.times"
if [ "$f" -eq 0 ]; then status=PASS; else status=FAIL; fi
{
    echo "$p $f $(($(date +%s) - start)) $cpu"
    [ -n "$detail" ] && printf '%s\n' "$detail"
} >"$out"
echo "$status $line"
exit 0
