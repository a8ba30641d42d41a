#!/bin/bash
# terminal_tear.sh - a package load cut by power loss, through the real
# leal-terminal: with version 1 in force, `load` of version 2 is cut after N
# bytes of its storage work (the erase counts one, then each programmed byte:
# the 150-byte package, then the 8-byte header last; the test build
# tests/tools/terminal_cut (leal-terminal's commands with
# LEAL_TERMINAL_POWER_CUT=package:N) ends the process there, exit 75, as a
# pulled plug would), then a restart's `status --json` must show version 1
# in force; uncut, version 2. Every byte of the header and the erase, the
# body's first and last bytes and every 16th between; TERMINAL_TEAR_ALL=1
# cuts at every byte (159 cuts; each costs two bundle openings, scrypt).
# tests/unit/package_store_test cuts at every byte of every work in RAM.
# The shipped leal-terminal has no such switch: the variable changes nothing.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-terminal-tear-XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="terminal test passphrase"
export LEAL_BUNDLE_PASSPHRASE="bundle pass phrase"
LT="$LEAL_BUILD/bin/leal-terminal"
CUT="$LEAL_BUILD/tests/tools/terminal_cut"
version_in_force() {
    "$LT" status --json --data "$1" | $PY -c 'import json,sys
p = json.load(sys.stdin)["package"]
print("none" if p is None else "%d %d" % (p["version"], p["copies_valid"]))'
}

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p2.lpkg" >/dev/null
SIZE=$(stat -c %s "$T/p2.lpkg")
check_eq "the package: 194 bytes (header 60, rules 18, store name 12, site 32, caps 8, signature 64)" 194 "$SIZE"
"$LT" init --bundle "$T/t1.ltb" --data "$T/base" >/dev/null
"$LT" load "$T/p1.lpkg" --data "$T/base" >/dev/null
check_eq "version 1 in force, one copy" "1 1" "$(version_in_force "$T/base")"

WORK=$((1 + SIZE + 8))
CUTS=()
for ((n = 0; n < WORK; n++)); do
    if [ "${TERMINAL_TEAR_ALL:-0}" = 1 ] || [ $n -le 2 ] || [ $n -ge $((WORK - 9)) ] ||
        [ $((n % 32)) -eq 0 ]; then
        CUTS+=("$n")
    fi
done
BAD=()
for n in "${CUTS[@]}"; do
    rm -rf "$T/cut" && cp -a "$T/base" "$T/cut"
    LEAL_TERMINAL_POWER_CUT=package:$n "$CUT" load "$T/p2.lpkg" --data "$T/cut" >"$T/out" 2>&1
    rc=$?
    got=$(version_in_force "$T/cut")
    [ "$rc|$got|$(cat "$T/out")" = "75|1 1|" ] ||
        BAD+=("cut $n: exit $rc, in force $got, said $(cat "$T/out")")
done
check_eq "${#CUTS[@]} loads cut (of $WORK bytes of work): each exit 75, silent, version 1 in force after, one copy valid" \
    "" "${BAD[*]}"
rm -rf "$T/cut" && cp -a "$T/base" "$T/cut"
LEAL_TERMINAL_POWER_CUT=package:$WORK run_capture "$CUT" load "$T/p2.lpkg" --data "$T/cut"
check_eq "the load with power enough for all $WORK bytes: exit 0" 0 "$RC"
check_eq "then version 2 in force, both copies valid" "2 2" "$(version_in_force "$T/cut")"
# A cut load, then the same load again: it completes.
rm -rf "$T/cut" && cp -a "$T/base" "$T/cut"
LEAL_TERMINAL_POWER_CUT=package:$((WORK - 1)) "$CUT" load "$T/p2.lpkg" --data "$T/cut" >/dev/null 2>&1
run_capture "$LT" load "$T/p2.lpkg" --data "$T/cut"
check_eq "a load cut at its last byte, loaded again: exit 0" 0 "$RC"
check_eq "then version 2 in force" "2 2" "$(version_in_force "$T/cut")"

# leal-terminal itself: the cut that ends the test build at byte 0 does nothing.
rm -rf "$T/cut" && cp -a "$T/base" "$T/cut"
LEAL_TERMINAL_POWER_CUT=package:0 run_capture "$LT" load "$T/p2.lpkg" --data "$T/cut"
check_eq "leal-terminal with LEAL_TERMINAL_POWER_CUT=package:0: the load completes (exit 0), version 2" \
    "0 2 2" "$RC $(version_in_force "$T/cut")"
check_eq "leal-terminal's binary holds no power-cut switch" 0 \
    "$(grep -ac 'LEAL_TERMINAL_POWER_CUT' "$LT")"
LEAL_TERMINAL_POWER_CUT=package:x run_capture "$CUT" load "$T/p2.lpkg" --data "$T/cut"
check_eq "the test build refuses a malformed cut" \
    "2|terminal_cut: LEAL_TERMINAL_POWER_CUT 'package:x': write journal:N or package:N" "$RC|$ERR"
finish
