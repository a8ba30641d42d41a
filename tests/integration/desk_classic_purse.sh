#!/bin/bash
# desk_classic_purse.sh - stored value per program: `leal program create|set|show`
# with --purse-cap and --classic-stored-value-cap (bad input refused in one line,
# exit 2, database unchanged; Classic stored value off unless asked for).
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-cpurse-XXXXXX)
cleanup() {
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="classic purse test passphrase"
DB=$XDG_DATA_HOME/leal/ledger.db
field() { $PY -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
caps() { sqlite3 "$DB" "SELECT purse_cap_cents || ' ' || classic_stored_value_cap_cents FROM program WHERE id = $1" 2>&1; }

# --- program settings ---------------------------------------------------------
run_capture "$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 --json
check_eq "program create: purse cap 1000.00 and Classic stored value off by default" \
    '0|{"id":7,"code":"sol","name":"Café Sol","kind":"single","points_per_euro_milli":1000,"points_expiry_days":0,"purse_cap_cents":100000,"classic_stored_value_cap_cents":0}' \
    "$RC|$OUT"
run_capture "$LEAL" program create --code luna --name Luna --id 8 --purse-cap 200 --classic-stored-value-cap 12,50
check_eq "program create with both caps (12,50 accepted)" "0|program 8 created (luna)|20000 1250" "$RC|$OUT|$(caps 8)"
run_capture "$LEAL" program show 8
check_eq "program show" "program          8 (luna)
name             Luna
kind             single
points           1.00 per euro
points expire    never
purse cap        200.00
Classic purse    on, up to 12.50 a card" "$OUT"
run_capture "$LEAL" program set 7 --purse-cap 150 --classic-stored-value-cap 50 --json
check_eq "program set: both caps" "0 15000 5000 15000 5000" \
    "$RC $($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["purse_cap_cents"], d["classic_stored_value_cap_cents"])' <<<"$OUT") $(caps 7)"
run_capture "$LEAL" program set 7 --classic-stored-value-cap off
check_eq "program set: Classic stored value off again" "0|15000 0" "$RC|$(caps 7)"
check_match "... and show says so" "^Classic purse    off$" "$OUT"

# Bad input: one line, exit 2, nothing written.
bad() { # NAME EXPECTED-ERR ARGS...
    local name=$1 want=$2 before
    shift 2
    before=$(sqlite3 "$DB" "SELECT group_concat(id || ':' || purse_cap_cents || ':' || classic_stored_value_cap_cents) FROM program")
    run_capture "$LEAL" "$@"
    check_eq "$name" "2|$want|$before" \
        "$RC|$ERR|$(sqlite3 "$DB" "SELECT group_concat(id || ':' || purse_cap_cents || ':' || classic_stored_value_cap_cents) FROM program")"
}
bad "a thousands separator" \
    "leal: --purse-cap '1.000,00': write euros like 200 or 12,50 (0 to 21474836.47) (see 'leal --help')" \
    program create --code x --name X --purse-cap 1.000,00
bad "three decimals" \
    "leal: --classic-stored-value-cap '1,234': write euros like 200 or 12,50 (0 to 21474836.47), or off (see 'leal --help')" \
    program set 7 --classic-stored-value-cap 1,234
bad "a negative cap" \
    "leal: --purse-cap '-5': write euros like 200 or 12,50 (0 to 21474836.47) (see 'leal --help')" \
    program set 7 --purse-cap -5
bad "off is not a purse cap" \
    "leal: --purse-cap 'off': write euros like 200 or 12,50 (0 to 21474836.47) (see 'leal --help')" \
    program set 7 --purse-cap off
bad "a cap above a DESFire value file's range" \
    "leal: --purse-cap '21474836.48': write euros like 200 or 12,50 (0 to 21474836.47) (see 'leal --help')" \
    program create --code x --name X --purse-cap 21474836.48
bad "a Classic cap above the purse cap (create)" \
    "leal: --classic-stored-value-cap 300.00 is above the purse cap 200.00; raise --purse-cap or lower it (see 'leal --help')" \
    program create --code x --name X --purse-cap 200 --classic-stored-value-cap 300
bad "a Classic cap above the program's purse cap (set)" \
    "leal: --classic-stored-value-cap 150.01 is above the purse cap 150.00; raise --purse-cap or lower it (see 'leal --help')" \
    program set 7 --classic-stored-value-cap 150,01
bad "a purse cap below the program's Classic cap (set)" \
    "leal: --classic-stored-value-cap 12.50 is above the purse cap 10.00; raise --purse-cap or lower it (see 'leal --help')" \
    program set 8 --purse-cap 10
bad "set with nothing to set" \
    "leal: leal program set needs --purse-cap or --classic-stored-value-cap (see 'leal --help')" \
    program set 7
bad "an unknown program" "leal: program: program 9: no such id" program set 9 --purse-cap 10
bad "a malformed program id" "leal: leal program show: bad program id 'x7' (see 'leal --help')" program show x7
check_eq "nothing was created by the refused commands" 2 "$(sqlite3 "$DB" 'SELECT count(*) FROM program')"

run_capture "$LEAL" ledger verify
check_eq "the ledger verifies" 0 "$RC"
finish
