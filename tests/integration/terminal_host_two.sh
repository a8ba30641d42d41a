#!/bin/bash
# terminal_host_two.sh - a points adjustment made at the host reaches the
# card once when the card is tapped at two terminals in turn before either
# syncs (issue 14), through the real binaries, on a DESFire EV1 and a MIFARE
# Classic 1K: +40 posted by hand for each card's account; terminals 1 and 2
# each load a package that carries it; each card earns at terminal 1 (the
# +40 applied with the tap), then at terminal 2 and at terminal 1 again
# (not applied again); the desk reads each card; both journals are imported
# (the order of the terminals' clocks, then again: nothing twice); the
# ledger, the cards and reconciliation agree, and nothing waits. sim: only.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

program_fixture host-two "host two passphrase" 2
export LEAL_BUNDLE_PASSPHRASE="host two bundle phrase"
LT="$LEAL_BUILD/bin/leal-terminal"
bal() { q "select coalesce((select amount from balance where account_id = $1 and asset = '$2'), 0)"; }
"$LEAL" customer add --program 7 --name Ana >/dev/null
"$LEAL" customer add --program 7 --name Marta >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
"$CARDSIM" new --type classic-1k --uid 04a2195c -o "$T/marta.json" >/dev/null
ANA=$("$LEAL" card issue --customer 1 --reader "sim:$T/ana.json" --json | field card_id)
MARTA=$("$LEAL" card issue --customer 2 --reader "sim:$T/marta.json" --json | field card_id)
ANA_ACC=$(q "select account_id from card where card_id = $ANA")
MARTA_ACC=$(q "select account_id from card where card_id = $MARTA")
for acc in "$ANA_ACC" "$MARTA_ACC"; do
    "$LEAL" ledger post --account "$acc" --asset PTS --amount 40 --reason "ajuste" \
        --operator test >/dev/null || fail "the +40 posted for account $acc"
done
for t in 1 2; do
    "$LEAL" keys export-terminal --terminal $t --program 7 --expires 2027-06-01 -o "$T/t$t.ltb" >/dev/null
    PENDING[t]=$("$LEAL" terminal package --terminal $t -o "$T/p$t.lpkg" --json | field pending)
    "$LT" init --bundle "$T/t$t.ltb" --data "$T/till$t" >/dev/null
    "$LT" load "$T/p$t.lpkg" --data "$T/till$t" >/dev/null
done
check_eq "both packages carry host changes for both cards" "2 2" "${PENDING[1]} ${PENDING[2]}"
# tap TILL CARD OPERATION...: one tap at terminal TILL (sets RC, OUT, ERR).
tap() {
    local till=$1 card=$2
    shift 2
    run_capture "$LT" tap "$@" --reader "sim:$T/$card.json" --data "$T/till$till"
}

for c in ana marta; do
    id=$ANA
    [ $c = marta ] && id=$MARTA
    tap 1 $c --earn 10
    check_eq "$c at terminal 1: the +40 applied with the earn of 10: 0 -> 50" \
        "0|card $id earn: +10 points, 0 -> 50|" "$RC|$OUT|$ERR"
    tap 2 $c --earn 5
    check_eq "$c at terminal 2 (its package carries the +40 too): not applied again, 50 -> 55" \
        "0|card $id earn: +5 points, 50 -> 55|" "$RC|$OUT|$ERR"
    tap 1 $c --earn 3
    check_eq "$c at terminal 1 again: not applied again, 55 -> 58" \
        "0|card $id earn: +3 points, 55 -> 58|" "$RC|$OUT|$ERR"
    run_capture "$LEAL" card read --reader "sim:$T/$c.json" --json
    check_eq "the desk reads $c's card: 58 points" 58 "$(field points <<<"$OUT")"
done

"$LT" journal export -o "$T/e1.ljx" --data "$T/till1" >/dev/null
"$LT" journal export -o "$T/e2.ljx" --data "$T/till2" >/dev/null
run_capture "$LEAL" sync import "$T/e1.ljx" "$T/e2.ljx" --json
check_eq "both journals in: 5 entries from terminal 1 (EPOCH, 4 earns), 3 from terminal 2" \
    "0|5 3" "$RC|$(sed -n 's/.*"taken":\([0-9]*\).*/\1/p' <<<"$OUT" | paste -sd' ')"
check_eq "the ledger: 58 points each (40 + 10 + 5 + 3), as the cards" "58 58" \
    "$(bal "$ANA_ACC" PTS) $(bal "$MARTA_ACC" PTS)"
run_capture "$LEAL" reconcile
check_eq "reconcile: no finding, nothing waits for either card" \
    "0|reconciled 2 card(s): 0 new finding(s) (0 fraud, 0 card(s) blocked), 0 resolved, 0 open|" \
    "$RC|$OUT|$ERR"
run_capture "$LEAL" sync import "$T/e2.ljx" "$T/e1.ljx" --json
check_eq "the same files again: nothing taken, 58 each" "0|0 0|58 58" \
    "$RC|$(sed -n 's/.*"taken":\([0-9]*\).*/\1/p' <<<"$OUT" | paste -sd' ')|$(bal "$ANA_ACC" PTS) $(bal "$MARTA_ACC" PTS)"
check_eq "terminal 2's next package carries no host change" 0 \
    "$("$LEAL" terminal package --terminal 2 -o "$T/p2b.lpkg" --json | field pending)"
run_capture "$LEAL" ledger verify
check_match "ledger verify" "^ledger ok" "$OUT"
finish
