#!/bin/bash
# terminal_tap.sh - leal-terminal tap and run through the real binary and the
# virtual card (sim:): a DESFire EV1 issued at the desk with 20.00 on its
# purse is tapped at the till: earn 23,50 (+23), pay 3,00 --json exactly,
# a balance, a payment beyond the purse refused (exit 3, journaled), a
# one-shot void of the payment (the terminal takes its last operation from
# its journal: 3.00 back), a reader that is not there (exit 1), usage errors (exit 2); then the
# desk reads the card (23 points, 20.00, the counter) and the journal holds every tap
# (status and the independent reader of JOURNAL.md); `run --balance` shows
# two cards presented one after the other, one line each, and ends on SIGINT
# with exit 0; serve --stdio on sim: answers no card once the card file is
# gone, journaling nothing, and taps the card again once it is back; a
# Classic 1K and a Classic 4K earn; a card blocked at the desk is refused once the next
# package hot-lists it; through the real pcscd (vpcd), an earn.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"

T=$(mktemp -d /tmp/leal-terminal-tap-XXXXXX)
RUN_PID=
SIM_PID=
cleanup() {
    [ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null
    if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi
    pcscd_stop
    [ -n "${LEAL_PCSCD_NS:-}" ] && umount /run/pcscd 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="terminal test passphrase"
export LEAL_BUNDLE_PASSPHRASE="bundle pass phrase"
LT="$LEAL_BUILD/bin/leal-terminal"
D=$T/till
field() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
"$LEAL" customer add --program 7 --name Ana >/dev/null
"$LEAL" customer add --program 7 --name Luis >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04112233445577 -o "$T/luis.json" >/dev/null
ANA=$("$LEAL" card issue --customer 1 --reader "sim:$T/ana.json" --topup 20 --json | field '["card_id"]')
LUIS=$("$LEAL" card issue --customer 2 --reader "sim:$T/luis.json" --json | field '["card_id"]')
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" >/dev/null
"$LT" init --bundle "$T/t1.ltb" --data "$D" >/dev/null
run_capture "$LT" tap --balance --reader "sim:$T/ana.json" --data "$D"
check_eq "a tap before any package: exit 1, one line" \
    "1|leal-terminal: no package loaded: load one with 'leal-terminal load FILE' (the terminal takes no tap without one)" "$RC|$ERR"
"$LT" load "$T/p1.lpkg" --data "$D" >/dev/null

run_capture "$LT" tap --earn 23,50 --reader "sim:$T/ana.json" --data "$D"
check_eq "earn 23,50: exit 0, the operator's line" "0|card $ANA earn: +23 points, 0 -> 23|" "$RC|$OUT|$ERR"
run_capture "$LT" tap --pay 3,00 --reader "sim:$T/ana.json" --data "$D" --json
check_eq "pay 3,00 --json: exit 0" 0 "$RC"
EPOCH=$(field '["entry"]["epoch"]' <<<"$OUT")
check_eq "pay 3,00 --json, exactly" \
    "{\"outcome\":\"done\",\"reason\":null,\"op\":\"pay\",\"card_id\":$ANA,\"card\":\"desfire\",\"points\":0,\"points_before\":23,\"points_after\":23,\"purse_before\":\"20.00\",\"purse_after\":\"17.00\",\"stamps_after\":[0,0,0,0],\"tier_after\":0,\"bono_left\":0,\"taps_before\":2,\"taps_after\":3,\"settled\":false,\"entry\":{\"epoch\":$EPOCH,\"seq\":3},\"round_trips\":$(field '["round_trips"]' <<<"$OUT")}" "$OUT"
run_capture "$LT" tap --balance --reader "sim:$T/ana.json" --data "$D"
check_eq "balance" "0|card $ANA balance: 23 points, 17.00 euros, stamps 0 0 0 0" "$RC|$OUT"
run_capture "$LT" tap --pay 300 --reader "sim:$T/ana.json" --data "$D"
check_eq "pay 300,00: refused, exit 3, in words" \
    "3|card $ANA pay: REFUSED: the card's purse holds less than the payment; nothing was taken" "$RC|$OUT"
run_capture "$LT" tap --void --reader "sim:$T/ana.json" --data "$D" --json
check_eq "a one-shot void of the payment (from the journal): done, 17.00 -> 20.00, taps 3 -> 4" \
    "0 done void 17.00 20.00 3 4" \
    "$RC $(field '["outcome"]' <<<"$OUT") $(field '["op"]' <<<"$OUT") $(field '["purse_before"]' <<<"$OUT") $(field '["purse_after"]' <<<"$OUT") $(field '["taps_before"]' <<<"$OUT") $(field '["taps_after"]' <<<"$OUT")"
run_capture "$LT" tap --balance --reader "sim:$T/none.json" --data "$D" --timeout 0
check_eq "a reader that is not there: exit 1, one line" \
    "1|leal-terminal: reader sim:$T/none.json: no card reader found; plug one in or name it with --reader" "$RC|$ERR"
run_capture "$LT" tap --earn 2 --pay 1 --balance --reader "sim:$T/ana.json" --data "$D"
check_eq "two operations: exit 2" 2 "$RC"
run_capture "$LT" tap --earn 2,505 --reader "sim:$T/ana.json" --data "$D"
check_eq "three decimals: exit 2, one line" \
    "2|leal-terminal: --earn '2,505': write euros like 23,50 or 3 (more than 0, at most 1000000.00)" "$RC|$ERR"
run_capture "$LT" tap --stamp 5 --reader "sim:$T/ana.json" --data "$D"
check_eq "stamp card 5: exit 2" "2|leal-terminal: --stamp '5': a whole number from 1 to 4" "$RC|$ERR"

# The desk reads what the till wrote; the ledger does not know it yet (offline).
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "the desk reads the card: 23 points, 2000 cents, 4 taps; the ledger still 2000 cents, 0 points" \
    "23 2000 4 2000 0" \
    "$(field '["points"]' <<<"$OUT") $(field '["purse_cents"]' <<<"$OUT") $(field '["taps"]' <<<"$OUT") $(field '["ledger_eur_cents"]' <<<"$OUT") $(field '["ledger_points"]' <<<"$OUT")"
run_capture "$LT" status --json --data "$D"
check_eq "the journal: EPOCH, earn, pay, balance, refusal, void" "6 6" \
    "$(field '["journal"]["seq"]' <<<"$OUT") $(field '["journal"]["unsynced"]' <<<"$OUT")"
"$LT" journal export -o "$T/e.ljx" --data "$D" >/dev/null
KEYS=$(PASS=$LEAL_PASSPHRASE $PY tests/integration/keystore_decode.py "$XDG_DATA_HOME/leal/keystore")
DEC=$($PY tests/integration/journal_decode.py "$(sed -n 's/^key journal 1 //p' <<<"$KEYS")" \
    "0x$(sed -n 's/^issuer_id //p' <<<"$KEYS")" 7 1 "$(od -An -tx1 -v "$T/e.ljx" | tr -d ' \n')" 00 2>&1)
check_match "the independent reader: the earn, 23 points, counter 1 -> 2" \
    "^seq 2 earn kind 1 .* card $(printf %x "$ANA") counter 1->2 .* amount 2350 purse 0 points 23 " "$DEC"
check_match "the independent reader: the pay, 300 cents, counter 2 -> 3" \
    "^seq 3 pay kind 1 .* counter 2->3 .* purse 300 points 0 " "$DEC"
check_match "the independent reader: the refused payment, journaled" "^seq 5 refusal kind 1 " "$DEC"
check_match "the independent reader: the void, 300 cents back, counter 3 -> 4" \
    "^seq 6 void kind 1 .* counter 3->4 .* purse 300 points 0 " "$DEC"
check_match "the independent reader: the export verifies" "^export ok$" "$DEC"

# run: every card presented, one line each, until SIGINT.
cp "$T/ana.json" "$T/field.json"
"$LT" run --balance --reader "sim:$T/field.json" --data "$D" >"$T/run.out" 2>"$T/run.err" &
RUN_PID=$!
for i in $(seq 1 600); do [ "$(wc -l <"$T/run.out")" -ge 1 ] && break; sleep 0.05; done
cp "$T/luis.json" "$T/field.tmp" && mv "$T/field.tmp" "$T/field.json"
for i in $(seq 1 600); do [ "$(wc -l <"$T/run.out")" -ge 2 ] && break; sleep 0.05; done
kill -INT "$RUN_PID"
wait "$RUN_PID"
RC=$?
RUN_PID=
check_eq "run: exit 0 on SIGINT" 0 "$RC"
check_eq "run: one line per card" \
    "card $ANA balance: 23 points, 20.00 euros, stamps 0 0 0 0|card $LUIS balance: 0 points, 0.00 euros, stamps 0 0 0 0" \
    "$(paste -sd'|' "$T/run.out")"
check_eq "run: says where it waits" "leal-terminal: waiting for cards on sim:$T/field.json (Ctrl-C ends)" "$(cat "$T/run.err")"

# serve --stdio on sim: the card file is the card in the field. A BALANCE
# with Ana's card there; its file taken away: the board's answer when no card
# comes (--timeout 1), nothing journaled; the file back: the card again; END.
cp "$T/ana.json" "$T/serve.json"
SEQ0=$(field '["journal"]["seq"]' <<<"$("$LT" status --json --data "$D")")
mkfifo "$T/serve-in"
"$LT" serve --stdio --timeout 1 --reader "sim:$T/serve.json" --data "$D" \
    <"$T/serve-in" >"$T/serve.out" 2>"$T/serve.err" &
RUN_PID=$!
exec 3>"$T/serve-in"
# serve_wait N: until serve has written N answer lines (30 s at most).
serve_wait() {
    for _ in $(seq 1 600); do
        [ "$(wc -l <"$T/serve.out")" -ge "$1" ] && return 0
        sleep 0.05
    done
    return 1
}
serve_wait 1
echo BALANCE >&3
serve_wait 3
mv "$T/serve.json" "$T/serve.away"
echo BALANCE >&3
serve_wait 4
mv "$T/serve.away" "$T/serve.json"
echo BALANCE >&3
serve_wait 6
echo END >&3
exec 3>&-
wait "$RUN_PID"
RC=$?
RUN_PID=
SEPOCH=$(field '["journal"]["epoch"]' <<<"$("$LT" status --json --data "$D")")
check_eq "serve --stdio on sim: Ana's balance, no card once her file is gone (nothing journaled), her balance once it is back, exit 0" \
    "0|till: ready
show card $ANA balance: 23 points, 20.00 euros, stamps 0 0 0 0
ok done card $ANA points 23 entry $SEPOCH/$((SEQ0 + 1))
error LEAL_E_NO_CARD
show card $ANA balance: 23 points, 20.00 euros, stamps 0 0 0 0
ok done card $ANA points 23 entry $SEPOCH/$((SEQ0 + 2))
ok end|" "$RC|$(cat "$T/serve.out")|$(cat "$T/serve.err")"
check_eq "serve --stdio on sim: the journal holds the two balances only" $((SEQ0 + 2)) \
    "$(field '["journal"]["seq"]' <<<"$("$LT" status --json --data "$D")")"

# A Classic 1K earns too; a card the desk blocked is refused once the package says so.
"$CARDSIM" new --type classic-1k --uid 04a2195c -o "$T/marta.json" >/dev/null
"$LEAL" customer add --program 7 --name Marta >/dev/null
MARTA=$("$LEAL" card issue --customer 3 --reader "sim:$T/marta.json" --json | field '["card_id"]')
run_capture "$LT" tap --earn 10 --reader "sim:$T/marta.json" --data "$D"
check_eq "a Classic 1K: earn 10,00" "0|card $MARTA earn: +10 points, 0 -> 10" "$RC|$OUT"
# A Classic 4K (its upper sectors of 16 blocks) earns the same way; the desk reads it.
"$CARDSIM" new --type classic-4k --uid 04a2195d -o "$T/pia.json" >/dev/null
"$LEAL" customer add --program 7 --name Pia >/dev/null
PIA=$("$LEAL" card issue --customer 4 --reader "sim:$T/pia.json" --json | field '["card_id"]')
run_capture "$LT" tap --earn 12 --reader "sim:$T/pia.json" --data "$D"
check_eq "a Classic 4K: earn 12,00" "0|card $PIA earn: +12 points, 0 -> 12|" "$RC|$OUT|$ERR"
run_capture "$LEAL" card read --reader "sim:$T/pia.json"
check_eq "the desk reads the Classic 4K: 12 points" \
    "card         $PIA (classic-4k, UID 04a2195d)|points       12" \
    "$(head -1 <<<"$OUT")|$(grep '^points ' <<<"$OUT")"
"$LEAL" card block "$LUIS" --reason "stolen bag" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p2.lpkg" >/dev/null
"$LT" load "$T/p2.lpkg" --data "$D" >/dev/null
run_capture "$LT" tap --earn 5 --reader "sim:$T/luis.json" --data "$D" --json
check_eq "the blocked card, hot-listed by package 2: refused, exit 3" "3 LEAL_E_TERMINAL_HOT_LISTED 0" \
    "$RC $(field '["reason"]["name"]' <<<"$OUT") $(field '["points_after"]' <<<"$OUT")"

# Through the real pcscd (vpcd) in front of Ana's card: a reader named by PC/SC.
if pcscd_start "$T"; then
    "$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/ana.json" 2>"$T/serve.log" &
    SIM_PID=$!
    if pcscd_wait present; then
        run_capture "$LT" tap --earn 1,00 --reader "pcsc:$PCSC_READER" --data "$D" --json
        check_eq "pcscd: the virtual reader refused without --allow-virtual (exit 1)" 1 "$RC"
        run_capture "$LT" tap --earn 1,00 --reader "pcsc:$PCSC_READER" --allow-virtual --data "$D" --json
        check_eq "pcscd: earn 1,00 on Ana's card: +1, 23 -> 24, taps 4 -> 5" "0 done 1 23 24 4 5" \
            "$RC $(field '["outcome"]' <<<"$OUT") $(field '["points"]' <<<"$OUT") $(field '["points_before"]' <<<"$OUT") $(field '["points_after"]' <<<"$OUT") $(field '["taps_before"]' <<<"$OUT") $(field '["taps_after"]' <<<"$OUT")"
    else
        fail "the virtual card present in pcscd" "$(pcscd_card_state)"
    fi
fi
finish
