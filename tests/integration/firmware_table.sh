#!/bin/bash
# firmware_table.sh - one table of taps drives both terminal ports: the POSIX
# one (leal-terminal tap --reader sim:) and the bare-metal Cortex-M3 board in
# QEMU (build/firmware/leal-cm3.elf, its till lines on UART0, UART1 wired to
# `leal-cardsim serve --pn532`). Each row is a till line, the same tap as
# leal-terminal options, the exact operator line both must print and the card's
# points after it. A DESFire EV1 (20.00 on its purse, a bono of 10 sessions)
# and a MIFARE Classic 1K (the program allows 50.00 of Classic stored value;
# 20.00 on it) each start as two identical copies of the card issued at the
# desk, one per port; each row runs on both: earn, earn with a category line,
# pay, pay + earn, redeem, stamp, bono, void, a second void and a payment
# beyond the purse refused, bono refused on Classic, balance. Checked: the
# operator lines and exit codes (POSIX) and UART lines (board, with the journal
# entry each tap made) exactly; the desk reads the same card state from both
# copies; the two journals hold the same entries field for field (decoded by
# tests/integration/journal_decode.py; only the epoch and the time differ); the
# board's export goes through `leal sync import`, after which card and ledger
# agree at exact balances. QEMU missing is a failure, never a skip.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-fw-table-XXXXXX)
SPID=
cleanup() {
    if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="firmware table passphrase"
export LEAL_BUNDLE_PASSPHRASE="firmware table bundle pass phrase"
LT="$LEAL_BUILD/bin/leal-terminal"
NOTHING="nothing to void: only this terminal's own last operation on this card, while the card has done nothing since"
field() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }
source tests/lib/pn532.sh
source tests/lib/firmware.sh

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 \
    --classic-stored-value-cap 50 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
"$LEAL" terminal add --store 1 --name "caja 2" >/dev/null
REWARD=$("$LEAL" reward add --program 7 --name "Café gratis" --kind product --value 1001 \
    --cost 20 --reason catálogo --operator Marta --json | field '["id"]')
"$LEAL" sale category add cafe --program 7 --code 3 >/dev/null
"$LEAL" stamp add --program 7 --name Café --per item --category cafe --goal 10 --reward 1 \
    --reason tarjeta --operator Marta >/dev/null
BONO=$("$LEAL" bono add --program 7 --name "10 masajes" --sessions 10 --price 45 --valid-days 365 \
    --reason bonos --json | field '["id"]')
"$LEAL" customer add --program 7 --name Ana >/dev/null
"$LEAL" customer add --program 7 --name Marta >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
"$CARDSIM" new --type classic-1k --uid 04a2195c -o "$T/marta.json" >/dev/null
ANA=$("$LEAL" card issue --customer 1 --reader "sim:$T/ana.json" --topup 20 --json | field '["card_id"]')
"$LEAL" bono sell --kind "10 masajes" --reader "sim:$T/ana.json" >/dev/null
MARTA=$("$LEAL" card issue --customer 2 --reader "sim:$T/marta.json" --topup 20 --json | field '["card_id"]')
for c in ana marta; do cp "$T/$c.json" "$T/$c-posix.json" && mv "$T/$c.json" "$T/$c-board.json"; done
for t in 1 2; do
    "$LEAL" keys export-terminal --terminal $t --program 7 --expires 2027-06-01 -o "$T/t$t.ltb" >/dev/null
    "$LEAL" terminal package --terminal $t -o "$T/p$t.lpkg" >/dev/null
    "$LT" init --bundle "$T/t$t.ltb" --data "$T/till$t" >/dev/null
    "$LT" load "$T/p$t.lpkg" --data "$T/till$t" >/dev/null
done

# The table: TILL LINE | leal-terminal tap options | the operator's line after "card N " | points after.
# A line whose words start with REFUSED is a refusal (exit 3, "ok refused").
DESFIRE_TABLE="EARN 2350|--earn 23,50|earn: +23 points, 0 -> 23|23
PAY 300|--pay 3,00|pay: paid 3.00, 17.00 euros left|23
PAYEARN 200 1000|--pay 2,00 --earn 10,00|pay+earn: paid 2.00, 15.00 euros left; +10 points, 23 -> 33|33
REDEEM $REWARD|--redeem $REWARD|redeem: reward redeemed: 33 -> 13 points|13
STAMP 1|--stamp 1|stamp: stamped: stamps 1 0 0 0|13
BONO $BONO|--bono $BONO|bono: bono session used: 9 left|13
VOID|--void|void: voided the session of bono $BONO (10 masajes): 10 left|13
VOID|--void|void: REFUSED: $NOTHING|13
PAY 5000|--pay 50,00|pay: REFUSED: the card's purse holds less than the payment; nothing was taken|13
BALANCE|--balance|balance: 13 points, 15.00 euros, stamps 1 0 0 0|13"
CLASSIC_TABLE="EARN 2350|--earn 23,50|earn: +23 points, 0 -> 23|23
EARN 1000 3=320|--earn 10,00 --category 3=3,20|earn: +10 points, 23 -> 33|33
PAY 300|--pay 3,00|pay: paid 3.00, 17.00 euros left|33
PAYEARN 200 1000|--pay 2,00 --earn 10,00|pay+earn: paid 2.00, 15.00 euros left; +10 points, 33 -> 43|43
VOID|--void|void: voided the pay+earn: 2.00 euros back, 17.00 left; 43 -> 33 points|33
REDEEM $REWARD|--redeem $REWARD|redeem: reward redeemed: 33 -> 13 points|13
STAMP 1|--stamp 1|stamp: stamped: stamps 2 0 0 0|13
BONO $BONO|--bono $BONO|bono: REFUSED: the card holds no bono of that kind|13
VOID|--void|void: voided the stamp on card 1: stamps 1 0 0 0|13
BALANCE|--balance|balance: 13 points, 17.00 euros, stamps 1 0 0 0|13"

# posix NAME TERM CARD TABLE: each row through leal-terminal tap on CARD's POSIX copy.
posix() {
    local name=$1 term=$2 card=$3 table=$4 line opts words points rc
    while IFS='|' read -r line opts words points; do
        rc=0
        [[ $words == *": REFUSED: "* ]] && rc=3
        # shellcheck disable=SC2086 # opts is a list of options
        run_capture "$LT" tap $opts --reader "sim:$T/$card-posix.json" --data "$T/till$term"
        check_eq "$name POSIX: $line" "$rc|card $card_id $words|" "$RC|$OUT|$ERR"
    done <<<"$table"
}

# board NAME TERM CARD TABLE: one QEMU run as that terminal (its bundle, its
# package, a blank flash) with CARD's board copy in the emulated PN532's field
# and the table's till lines; every UART0 line checked; $T/board-CARD.ljx the export.
board() {
    local name=$1 term=$2 card=$3 table=$4 line opts words points seq=1 expect
    {
        fw_lines "$T/t$term.ltb" "$T/p$term.lpkg"
        cut -d'|' -f1 <<<"$table"
        echo "EXPORT"
        echo "END"
    } >"$T/lines"
    fw_run "$name board" "$T/$card-board.json" "$T/lines"
    EPOCH=$(sed -nE 's#^ok [a-z-]+ .* entry ([0-9]+)/2$#\1#p' <<<"$OUT")
    check_eq "$name board: the journal's epoch is the board's clock at its first open (TIME + at most 60 s)" \
        yes "$([ -n "$EPOCH" ] && [ "$EPOCH" -ge "$NOW" ] && [ "$EPOCH" -le $((NOW + 60)) ] && echo yes)"
    expect=$FW_HEAD
    while IFS='|' read -r line opts words points; do
        seq=$((seq + 1))
        expect+="
show card $card_id $words
ok $([[ $words == *": REFUSED: "* ]] && echo refused || echo 'done') card $card_id points $points entry $EPOCH/$seq"
    done <<<"$table"
    check_eq "$name board: UART0 answers to the table's lines, exact (the export aside)" \
        "$expect
ok end" "$(grep -v '^ok export ' <<<"$OUT")"
    sed -n 's/^ok export //p' <<<"$OUT" |
        $PY -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' \
            >"$T/board-$card.ljx"
}

KEYS=$(PASS=$LEAL_PASSPHRASE $PY tests/integration/keystore_decode.py "$XDG_DATA_HOME/leal/keystore")
# entries FILE TERM: the export's entries as journal_decode.py prints them, with
# the epoch and the time taken out (all that may differ between two terminals
# doing the same taps).
entries() {
    local dec epoch
    dec=$($PY tests/integration/journal_decode.py "$(sed -n 's/^key journal 1 //p' <<<"$KEYS")" \
        "0x$(sed -n 's/^issuer_id //p' <<<"$KEYS")" 7 "$2" "$(hex "$1")" 00 2>&1)
    epoch=$(sed -nE 's/^export .* epoch ([0-9]+) .*/\1/p' <<<"$dec")
    sed -E '/^export /d; s/ time [-+0-9]+ / /; s# ref '"$epoch"'/# ref EPOCH/#' <<<"$dec"
    grep -c '^export ok$' <<<"$dec"
}

# table NAME TERM CARD CARD_ID TABLE PURSE STAMP IMPORTED
table() {
    local name=$1 term=$2 card=$3 table=$5 purse=$6 stamp=$7 imported=$8 n
    card_id=$4
    n=$(wc -l <<<"$table")
    posix "$name" "$term" "$card" "$table"
    board "$name" "$term" "$card" "$table"
    for port in posix board; do
        run_capture "$LEAL" card read --reader "sim:$T/$card-$port.json" --json
        check_eq "$name $port: the desk reads the card: 13 points, $purse cents, stamp card 1 at $stamp" \
            "13 $purse $stamp" \
            "$(field '["points"]' <<<"$OUT") $(field '["purse_cents"]' <<<"$OUT") $(field '["stamps"][0]' <<<"$OUT")"
    done
    "$LT" journal export -o "$T/posix-$card.ljx" --data "$T/till$term" >/dev/null
    P=$(entries "$T/posix-$card.ljx" "$term")
    B=$(entries "$T/board-$card.ljx" "$term")
    check_eq "$name: the POSIX journal holds the EPOCH and the $n taps, and verifies" \
        "$((n + 1)) 1" "$(grep -c '^seq ' <<<"$P") $(tail -1 <<<"$P")"
    check_eq "$name: the board's journal holds the same entries, field for field (epoch and time aside)" \
        "$P" "$B"
    run_capture "$LEAL" sync import "$T/board-$card.ljx"
    check_eq "$name: leal sync import takes the board's export: $imported" \
        "0|$T/board-$card.ljx: terminal $term, epoch $EPOCH, sequences 1 to $((n + 1)): $((n + 1)) taken ($imported, 0 held, 0 undone by a settle), 0 already there|" \
        "$RC|$OUT|$ERR"
    run_capture "$LEAL" card read --reader "sim:$T/$card-board.json" --json
    check_eq "$name: after the import card and ledger agree: 13 points, $purse cents" "13 $purse True" \
        "$(field '["ledger_points"]' <<<"$OUT") $(field '["ledger_eur_cents"]' <<<"$OUT") $(field '["agrees"]' <<<"$OUT")"
}

# DESFire: 7 taps moved value (earn to void), the EPOCH, 2 refusals and the balance did not.
table DESFire 1 ana "$ANA" "$DESFIRE_TABLE" 1500 1 "7 posted, 4 recorded without movement"
# Classic: 8 moved value (the two earns to the stamp's void), the EPOCH, the bono refused, the balance.
table Classic 2 marta "$MARTA" "$CLASSIC_TABLE" 1700 1 "8 posted, 3 recorded without movement"
finish
