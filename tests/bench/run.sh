#!/bin/bash
# tests/bench/run.sh BUILD - runs every benchmark: compiled tests/bench/bench_* binaries
# and tests/bench/*.sh scripts. Each prints its figures as ratios against a reference
# measured in the same run. Benchmarks report; they never fail on a figure.
set -u
B=${1:-build/release}
export LEAL_BUILD=$B
# The default scrypt cost, as a shop's keystore has it: tests/lib/testlib.sh
# lowers it for make test only when the variable is unset.
export LEAL_SCRYPT_LOG2N=
status=0
for t in "$B"/tests/bench/bench_*; do
    [ -x "$t" ] || continue
    echo "== $(basename "$t")"
    "$t" || status=1
done
for t in tests/bench/*.sh; do
    [ "$(basename "$t")" = run.sh ] && continue
    [ -f "$t" ] || continue
    echo "== $(basename "$t" .sh)"
    bash "$t" || status=1
done
exit $status
