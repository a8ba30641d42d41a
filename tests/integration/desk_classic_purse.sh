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

# --- DESFire: the purse file's upper limit is the program's cap ----------------
run_capture "$LEAL" keys init --issuer "Café Sol" --program 7
check_eq "keystore" 0 "$RC"
for n in Ana Luis Marta Pedro; do "$LEAL" customer add --program 7 --name "$n" >/dev/null; done
run_capture "$LEAL" program set 7 --purse-cap 200 --classic-stored-value-cap off
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/df.json" >/dev/null
run_capture "$LEAL" card issue --customer 4 --reader "sim:$T/df.json" --topup 200,01
check_eq "an opening top-up over the purse cap is refused before anything is written" \
    "1|leal: issuing the card refused: the new card's purse would hold more than the program's purse cap of 200.00; nothing was written|0" \
    "$RC|$ERR|$(sqlite3 "$DB" 'SELECT count(*) FROM card')"
run_capture "$LEAL" card issue --customer 4 --reader "sim:$T/df.json" --topup 150 --json
check_eq "DESFire issued under a 200.00 cap with 150.00" "0 15000" "$RC $(field purse_cents <<<"$OUT")"
DF=$(field card_id <<<"$OUT")
check_eq "the card file's purse upper limit is 20000 cents" 20000 \
    "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(*[f["upper"] for a in d["apps"] if a["aid"] == "41454c" for f in a["files"] if f["no"] == 3])' "$T/df.json")"
run_capture "$LEAL" card top-up 50,01 --reader "sim:$T/df.json"
check_eq "a top-up over the program's cap is refused in one line" \
    "1|leal: top-up of card $DF refused: 150.00 on the card plus 50.01 would pass the program's purse cap of 200.00; nothing was written" \
    "$RC|$ERR"
run_capture "$LEAL" program set 7 --purse-cap 500
run_capture "$LEAL" card top-up 60 --reader "sim:$T/df.json"
check_eq "raised cap: the card keeps its own limit and refuses" \
    "1|leal: top-up of card $DF refused by the card: 150.00 on it plus 60.00 passes the purse limit it was issued with (the program's cap is now 500.00); replace the card to raise it; nothing was written" \
    "$RC|$ERR"
run_capture "$LEAL" card read --reader "sim:$T/df.json" --json
check_eq "... the card and the ledger still hold 150.00" "0 15000 15000 True" \
    "$RC $($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["purse_cents"], d["ledger_eur_cents"], d["agrees"])' <<<"$OUT")"
run_capture "$LEAL" card top-up 50 --reader "sim:$T/df.json" --json
check_eq "up to the card's limit it is accepted" "0 20000" "$RC $(field purse_cents <<<"$OUT")"

run_capture "$LEAL" ledger verify
check_eq "the ledger verifies" 0 "$RC"
finish
