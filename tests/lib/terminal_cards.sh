# terminal_cards.sh - the world of the fraud scripts (sourced; after
# testlib.sh): terminal_cards_fixture NAME TERMINALS makes T (a temporary
# directory /tmp/leal-terminal-NAME-*, removed at exit), XDG_DATA_HOME under
# it, the passphrases, DB and LT; q SQL (the ledger, or QDB when set), field
# KEY and jfield PATH (JSON on stdin), bal ACCOUNT ASSET; the keystore of
# issuer "Café Sol" with program 7 (1 point per euro, Classic stored value
# up to 50.00), store 1 and terminals 1..TERMINALS, each with its bundle, its
# first package loaded and its data in $T/tillN; Ana (ANA_ACC) with a
# DESFire EV1 (ANA, $T/ana.json) and Marta (MARTA_ACC) with a Classic 1K
# (MARTA, $T/marta.json), each topped up with 20.00 at issue; and tap TILL
# CARD OPERATION... (one tap at terminal TILL of the card $T/CARD.json: RC,
# OUT, ERR).
source tests/lib/terminal_setup.sh

terminal_cards_fixture() {
    T=$(mktemp -d "/tmp/leal-terminal-$1-XXXXXX")
    trap "rm -rf '$T'" EXIT
    terminal_env "$1"
    terminal_program "$2" --classic-stored-value-cap 50
    ANA_ACC=$("$LEAL" customer add --program 7 --name Ana --json | field account)
    MARTA_ACC=$("$LEAL" customer add --program 7 --name Marta --json | field account)
    "$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
    "$CARDSIM" new --type classic-1k --uid 04a2195c -o "$T/marta.json" >/dev/null
    ANA=$("$LEAL" card issue --customer 1 --reader "sim:$T/ana.json" --topup 20 --json | field card_id)
    MARTA=$("$LEAL" card issue --customer 2 --reader "sim:$T/marta.json" --topup 20 --json | field card_id)
    for ((t = 1; t <= $2; t++)); do
        "$LEAL" keys export-terminal --terminal $t --program 7 --expires 2027-06-01 -o "$T/t$t.ltb" >/dev/null
        "$LEAL" terminal package --terminal $t -o "$T/p$t.lpkg" >/dev/null
        "$LT" init --bundle "$T/t$t.ltb" --data "$T/till$t" >/dev/null
        "$LT" load "$T/p$t.lpkg" --data "$T/till$t" >/dev/null
    done
}
q() { sqlite3 "${QDB:-$DB}" "$1"; }
field() { $PY -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
jfield() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }
bal() { q "select coalesce((select amount from balance where account_id = $1 and asset = '$2'), 0)"; }
tap() {
    local till=$1 card=$2
    shift 2
    run_capture "$LT" tap "$@" --reader "sim:$T/$card.json" --data "$T/till$till"
}
