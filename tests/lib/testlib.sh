# testlib.sh - assertions for integration tests (sourced). Each check prints
# "ok - NAME" or "not ok - NAME" with what differed; finish prints the line
# "N passed, N failed" that tests/run.sh adds up, and exits non-zero on failure.
# Environment: LEAL_BUILD (e.g. build/asan), bin/ under it holds the programs.
T_PASS=0
T_FAIL=0
: "${LEAL_BUILD:=build/asan}"
LEAL="$LEAL_BUILD/bin/leal"
CARDSIM="$LEAL_BUILD/bin/leal-cardsim"
# Debian's python3 with python3-cryptography (make deps), not whatever is first on PATH.
PY=/usr/bin/python3
# Virtual DESFire EV2/EV3 cards get an originality signature made with the test
# key pair (leal-cardsim new reads LEAL_CARDSIM_ORIGINALITY_KEY), and leal trusts
# that pair's public key instead of NXP's (host/issuance/originality.h): tests only.
export LEAL_CARDSIM_ORIGINALITY_KEY="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tests/vectors/originality_test_key.pem"
export LEAL_ORIGINALITY_TEST_KEY=0422b828d22d9b662341c7b6f4b41b1cf00bdb74cf92853675eed4f52998f512bc6a47196a36d97aaf70921fb26a77c141637e6dbd8ca72f5d
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Keystores, backups and bundles sealed with scrypt N = 2^10 rather than the
# default 2^17 (keys/hosted/keystore.h): the suites open them thousands of
# times, each default open about a second of CPU under ASan (two thirds of
# desk.sh's CPU by perf, 5 Dec 2026). keys.sh checks the default itself.
export LEAL_SCRYPT_LOG2N="${LEAL_SCRYPT_LOG2N-10}"

pass() { T_PASS=$((T_PASS + 1)); echo "ok - $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $1"; shift; for l in "$@"; do echo "#   $l"; done; }

# check_eq NAME EXPECTED ACTUAL
check_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected: $2" "actual:   $3"; fi
}
# check_match NAME REGEX ACTUAL (grep -E)
check_match() {
    if printf '%s\n' "$3" | grep -Eq -- "$2"; then pass "$1"; else fail "$1" "expected to match: $2" "actual: $3"; fi
}
# check_nomatch NAME REGEX ACTUAL
check_nomatch() {
    if printf '%s\n' "$3" | grep -Eq -- "$2"; then fail "$1" "must not match: $2" "actual: $3"; else pass "$1"; fi
}
# run_capture CMD...: sets OUT (stdout), ERR (stderr), RC
# flip_byte FILE OFFSET: the byte at OFFSET changed (xor 1) whatever it was, so
# a test that alters a MAC or random byte never writes the value already there.
flip_byte() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# clear_of_midnight SECONDS [ZONE...]: for a test that reckons "today" (or
# this month, a birthday, a day's total) once from the wall clock and checks
# it seconds later. When a midnight of ZONE (UTC when none is named) falls
# within the next SECONDS, it waits until that midnight has passed, so the day
# cannot change between the test's commands (CI runs across midnight UTC,
# which is 01:00 in Madrid). Never longer than SECONDS + 1.
clear_of_midnight() {
    local secs=$1 z now day next wait=0
    shift
    [ $# -gt 0 ] || set -- UTC
    now=$(date +%s)
    for z in "$@"; do
        day=$(TZ=$z date -d "@$now" +%F)
        next=$(TZ=$z date -d "$(TZ=$z date -d "$day + 1 day" +%F) 00:00:00" +%s)
        if [ $((next - now)) -le "$secs" ] && [ $((next - now + 1)) -gt "$wait" ]; then
            wait=$((next - now + 1))
        fi
    done
    if [ "$wait" -gt 0 ]; then
        echo "# midnight in $wait s ($*): waiting for it to pass"
        sleep "$wait"
    fi
}
run_capture() {
    local o e
    o=$(mktemp) e=$(mktemp)
    "$@" >"$o" 2>"$e"
    RC=$?
    OUT=$(cat "$o") ERR=$(cat "$e")
    rm -f "$o" "$e"
}
finish() {
    echo "$T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" -eq 0 ]
}

# program_fixture NAME PASSPHRASE [TERMINALS]: a fresh leal world for one
# script: T (a temporary directory /tmp/leal-NAME-*, removed at exit),
# XDG_DATA_HOME under it, LEAL_PASSPHRASE, DB (the ledger file); q SQL (the
# ledger, sqlite3) and field KEY (a key of the JSON object on stdin); the
# keystore of issuer "Café Sol" with program 7, the program (code sol, 1
# point per euro), store 1 (centro, Europe/Madrid) and its terminals 1..N
# ("caja 1", ...; 1 by default).
program_fixture() {
    T=$(mktemp -d "/tmp/leal-$1-XXXXXX")
    trap "rm -rf '$T'" EXIT
    export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="$2"
    DB=$XDG_DATA_HOME/leal/ledger.db
    q() { sqlite3 "$DB" "$1"; }
    field() { $PY -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
    "$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
    "$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
    "$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
    for ((n = 1; n <= ${3:-1}; n++)); do
        "$LEAL" terminal add --store 1 --name "caja $n" >/dev/null
    done
}
