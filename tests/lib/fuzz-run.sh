#!/bin/bash
# fuzz-run.sh SECONDS TARGET... - runs each libFuzzer target for SECONDS, starting
# from a scratch copy of its committed corpus (tests/fuzz/corpus/NAME), so new
# inputs do not dirty the tree. Crashes are kept in build/fuzz/NAME-crash-*.
# Prints one line per target; exits non-zero if any target failed.
set -u
secs=$1
shift
status=0
for t in "$@"; do
    n=$(basename "$t")
    work=$(mktemp -d /tmp/leal-fuzz-XXXXXX)
    [ -d "tests/fuzz/corpus/$n" ] && cp -r "tests/fuzz/corpus/$n/." "$work/"
    out=$("$t" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="build/fuzz/$n-crash-" \
        "$work" 2>&1)
    rc=$?
    runs=$(printf '%s\n' "$out" | sed -n 's/^stat::number_of_executed_units: *//p')
    if [ $rc -eq 0 ]; then
        echo "fuzz $n: ${runs:-?} runs in ${secs}s, no crash"
    else
        echo "fuzz $n: FAILED"
        printf '%s\n' "$out" | grep -E 'ERROR|SUMMARY|Test unit written' | head -5
        status=1
    fi
    rm -rf "$work"
done
exit $status
