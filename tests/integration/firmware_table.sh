#!/bin/bash
# firmware_table.sh - one table of taps drives both terminal ports: the POSIX
# one (leal-terminal tap --reader sim:, and the same till lines the board
# takes through leal-terminal serve --stdio) and the bare-metal Cortex-M3
# board in QEMU (build/firmware/leal-cm3.elf, its till lines on UART0, UART1
# wired to `leal-cardsim serve --pn532`). Each row is a till line, the same tap as
# leal-terminal options, the exact operator line both must print and the card's
# points after it. A DESFire EV1 (20.00 on its purse, a bono of 10 sessions)
# and a MIFARE Classic 1K (the program allows 50.00 of Classic stored value;
# 20.00 on it) each start as two identical copies of the card issued at the
# desk, one per port (three: tap, serve, board); each row runs on all: earn, earn with a category line,
# pay, pay + earn, redeem, stamp, bono, void, a second void and a payment
# beyond the purse refused, bono refused on Classic, balance. Checked: the
# operator lines and exit codes (POSIX) and UART lines (board, with the journal
# entry each tap made) and serve --stdio's answer lines exactly; lines no tap
# takes, put after each table's first row, get the same one-line refusal from
# the board and from serve (and serve refuses the board's own TIME and LOAD
# and a NUL byte), with nothing on the card or in the journal; the desk reads
# the same card state from all three copies; the three journals hold the same
# entries field for field (decoded by tests/integration/journal_decode.py;
# only the epoch and the time differ), and serve's are the exact entries
# worked out below; the board's export goes through `leal sync import`, after
# which card and ledger agree at exact balances. QEMU missing is a failure,
# never a skip.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

# leal-terminal tap's sentences for the table's refusals (keys/base/err.c).
declare -A SENTENCE=(
    [LEAL_E_TERMINAL_NOTHING_TO_VOID]="nothing to void: only this terminal's own last operation on this card, while the card has done nothing since"
    [LEAL_E_TERMINAL_FUNDS]="the card's purse holds less than the payment; nothing was taken"
    [LEAL_E_TERMINAL_NO_BONO]="the card holds no bono of that kind")
source tests/lib/pn532.sh
pn532_fixture fw-table "firmware table"
source tests/lib/firmware.sh
clear_of_midnight 120 Europe/Madrid # this month's tier period, reckoned once

terminal_program 2 --classic-stored-value-cap 50
terminal_catalogue
pn532_cards --bono --marta-topup ana marta
for c in ana marta; do
    cp "$T/$c.json" "$T/$c-posix.json" && cp "$T/$c.json" "$T/$c-serve.json" && mv "$T/$c.json" "$T/$c-board.json"
done
# Terminal t's folder for tap (till) and one for serve (serve): two copies of
# the terminal, as the board is a third.
pn532_bundles 2
for t in 1 2; do
    pn532_till $t "$T/till$t"
    pn532_till $t "$T/serve$t"
done

# The table: TILL LINE | leal-terminal tap options | the operator's line after "card N " | points after.
# A line whose words start with REFUSED is a refusal (exit 3, "ok refused"): the board and serve
# --stdio name its code (the till protocol carries no sentences), leal-terminal tap gives the
# sentence (SENTENCE below).
DESFIRE_TABLE="EARN 2350|--earn 23,50|earn: +23 points, 0 -> 23|23
PAY 300|--pay 3,00|pay: paid 3.00, 17.00 euros left|23
PAYEARN 200 1000|--pay 2,00 --earn 10,00|pay+earn: paid 2.00, 15.00 euros left; +10 points, 23 -> 33|33
REDEEM $REWARD|--redeem $REWARD|redeem: reward redeemed: 33 -> 13 points|13
STAMP 1|--stamp 1|stamp: stamped: stamps 1 0 0 0|13
BONO $BONO|--bono $BONO|bono: bono session used: 9 left|13
VOID|--void|void: voided the session of bono $BONO (10 masajes): 10 left|13
VOID|--void|void: REFUSED: LEAL_E_TERMINAL_NOTHING_TO_VOID|13
PAY 5000|--pay 50,00|pay: REFUSED: LEAL_E_TERMINAL_FUNDS|13
BALANCE|--balance|balance: 13 points, 15.00 euros, stamps 1 0 0 0|13"
CLASSIC_TABLE="EARN 2350|--earn 23,50|earn: +23 points, 0 -> 23|23
EARN 1000 3=320|--earn 10,00 --category 3=3,20|earn: +10 points, 23 -> 33|33
PAY 300|--pay 3,00|pay: paid 3.00, 17.00 euros left|33
PAYEARN 200 1000|--pay 2,00 --earn 10,00|pay+earn: paid 2.00, 15.00 euros left; +10 points, 33 -> 43|43
VOID|--void|void: voided the pay+earn: 2.00 euros back, 17.00 left; 43 -> 33 points|33
REDEEM $REWARD|--redeem $REWARD|redeem: reward redeemed: 33 -> 13 points|13
STAMP 1|--stamp 1|stamp: stamped: stamps 2 0 0 0|13
BONO $BONO|--bono $BONO|bono: REFUSED: LEAL_E_TERMINAL_NO_BONO|13
VOID|--void|void: voided the stamp on card 1: stamps 1 0 0 0|13
BALANCE|--balance|balance: 13 points, 17.00 euros, stamps 1 0 0 0|13"

# Lines no tap takes, sent after a table's first row to the board and to serve
# --stdio, each with the one answer line both give (an empty line has none):
# a zero amount, a word no till line has, a word in lower case, VOID with an
# argument, 17 category lines (16 at most), arguments of 200 bytes (159 at
# most), END followed by a word.
CATS=$(for i in $(seq 1 17); do printf ' %d=1' "$i"; done)
BAD_LINES="EARN 0|error LEAL_E_FORMAT
TOPUP 500|error LEAL_E_USAGE
earn 2350|error LEAL_E_USAGE
VOID 1|error LEAL_E_FORMAT
EARN 100$CATS|error LEAL_E_TOO_LARGE
PAY $(printf '1%.0s' $(seq 1 200))|error LEAL_E_TOO_LARGE
END now|error LEAL_E_USAGE
|"
# till_lines TABLE: the table's till lines, BAD_LINES after its first.
till_lines() {
    head -1 <<<"$1" | cut -d'|' -f1
    cut -d'|' -f1 <<<"$BAD_LINES"
    tail -n +2 <<<"$1" | cut -d'|' -f1
}
# till_answers CARD_ID TABLE EPOCH [EXTRA]: the answers to till_lines (EXTRA,
# more answer lines, after BAD_LINES'): each row's operator line and the
# journal entry it made.
till_answers() {
    local line opts words points seq=1
    while IFS='|' read -r line opts words points; do
        seq=$((seq + 1))
        echo "show card $1 $words"
        echo "ok $([[ $words == *": REFUSED: "* ]] && echo refused || echo 'done') card $1 points $points entry $3/$seq"
        if [ $seq = 2 ]; then
            sed -n 's/^[^|]*|\(.\)/\1/p' <<<"$BAD_LINES"
            [ -z "${4:-}" ] || echo "$4"
        fi
    done <<<"$2"
}

# posix NAME TERM CARD TABLE: each row through leal-terminal tap on CARD's POSIX copy.
posix() {
    local name=$1 term=$2 card=$3 table=$4 line opts words points rc
    while IFS='|' read -r line opts words points; do
        rc=0
        [[ $words == *": REFUSED: "* ]] && rc=3
        # shellcheck disable=SC2086 # opts is a list of options
        run_capture "$LT" tap $opts --reader "sim:$T/$card-posix.json" --data "$T/till$term"
        [ $rc = 0 ] || words="${words%%: REFUSED: *}: REFUSED: ${SENTENCE[${words##*: REFUSED: }]}"
        check_eq "$name POSIX: $line" "$rc|card $card_id $words|" "$RC|$OUT|$ERR"
    done <<<"$table"
}

# board NAME TERM CARD TABLE: one QEMU run as that terminal (its bundle, its
# package, a blank flash) with CARD's board copy in the emulated PN532's field
# and the table's till lines; every UART0 line checked; $T/board-CARD.ljx the export.
board() {
    local name=$1 term=$2 card=$3 table=$4
    {
        fw_lines "$T/t$term.ltb" "$T/p$term.lpkg"
        till_lines "$table"
        echo "EXPORT"
        echo "END"
    } >"$T/lines"
    fw_run "$name board" "$T/$card-board.json" "$T/lines"
    EPOCH=$(sed -nE 's#^ok [a-z-]+ .* entry ([0-9]+)/2$#\1#p' <<<"$OUT")
    check_eq "$name board: the journal's epoch is the board's clock at its first open (TIME + at most 60 s)" \
        yes "$([ -n "$EPOCH" ] && [ "$EPOCH" -ge "$NOW" ] && [ "$EPOCH" -le $((NOW + 60)) ] && echo yes)"
    check_eq "$name board: UART0 answers to the table's lines and the refused ones, exact (the export aside)" \
        "$FW_HEAD
$(till_answers "$card_id" "$table" "$EPOCH")
ok end" "$(grep -v '^ok export ' <<<"$OUT")"
    till_export "$T/board-$card.ljx"
}

# serve NAME TERM CARD TABLE: leal-terminal serve --stdio as that terminal (a
# folder of its own) with CARD's serve copy on sim:, the board's lines on its
# standard input, then the board's own TIME and LOAD and a line with a NUL
# byte (refused), EXPORT, END, and a tap after END that is never read;
# $T/serve-CARD.ljx the export.
serve_stdio() {
    local name=$1 term=$2 card=$3 table=$4 board_line
    board_line="error LEAL_E_TILL_BOARD_LINE"
    {
        till_lines "$table" | head -n $((1 + $(wc -l <<<"$BAD_LINES")))
        echo "TIME $(date +%s)"
        echo "LOAD 00"
        printf 'PAY 3\x0000\r\n'
        till_lines "$table" | tail -n +$((2 + $(wc -l <<<"$BAD_LINES")))
        echo "EXPORT"
        echo "END"
        echo "EARN 100"
    } >"$T/serve-lines"
    run_capture "$LT" serve --stdio --reader "sim:$T/$card-serve.json" --data "$T/serve$term" <"$T/serve-lines"
    SEPOCH=$(sed -nE 's#^ok [a-z-]+ .* entry ([0-9]+)/2$#\1#p' <<<"$OUT")
    check_eq "$name serve --stdio: exit 0, nothing on standard error, every line's answer exact (the export aside)" \
        "0|till: ready
$(till_answers "$card_id" "$table" "$SEPOCH" "$board_line
$board_line
error LEAL_E_FORMAT")
ok end|" "$RC|$(grep -v '^ok export ' <<<"$OUT")|$ERR"
    till_export "$T/serve-$card.ljx"
}

pn532_keys
# entries FILE TERM: the export's entries as journal_decode.py prints them, with
# the epoch and the time taken out (all that may differ between two terminals
# doing the same taps).
entries() {
    local dec epoch
    dec=$(pn532_decode "$2" "$(hex "$1")")
    epoch=$(sed -nE 's/^export .* epoch ([0-9]+) .*/\1/p' <<<"$dec")
    sed -E '/^export /d; s/ time [-+0-9]+ / /; s# ref '"$epoch"'/# ref EPOCH/#' <<<"$dec"
    grep -c '^export ok$' <<<"$dec"
}

# table NAME TERM CARD CARD_ID TABLE PURSE STAMP IMPORTED ENTRIES
table() {
    local name=$1 term=$2 card=$3 table=$5 purse=$6 stamp=$7 imported=$8 n
    card_id=$4
    n=$(wc -l <<<"$table")
    posix "$name" "$term" "$card" "$table"
    board "$name" "$term" "$card" "$table"
    serve_stdio "$name" "$term" "$card" "$table"
    for port in posix board serve; do
        run_capture "$LEAL" card read --reader "sim:$T/$card-$port.json" --json
        check_eq "$name $port: the desk reads the card: 13 points, $purse cents, stamp card 1 at $stamp" \
            "13 $purse $stamp" \
            "$(fields '["points"]' '["purse_cents"]' '["stamps"][0]' <<<"$OUT")"
    done
    "$LT" journal export -o "$T/posix-$card.ljx" --data "$T/till$term" >/dev/null
    P=$(entries "$T/posix-$card.ljx" "$term")
    B=$(entries "$T/board-$card.ljx" "$term")
    check_eq "$name: the POSIX journal holds the EPOCH and the $n taps, and verifies" \
        "$((n + 1)) 1" "$(grep -c '^seq ' <<<"$P") $(tail -1 <<<"$P")"
    check_eq "$name: the board's journal holds the same entries, field for field (epoch and time aside)" \
        "$P" "$B"
    S=$(entries "$T/serve-$card.ljx" "$term")
    check_eq "$name: serve --stdio's journal holds the same entries, field for field (epoch and time aside)" \
        "$P" "$S"
    check_eq "$name: serve --stdio's journal: the EPOCH and the $n taps, field by field as worked out, verified" \
        "$9|1" "$(grep '^seq ' <<<"$S")|$(tail -1 <<<"$S")"
    run_capture "$LEAL" sync import "$T/board-$card.ljx"
    check_eq "$name: leal sync import takes the board's export: $imported" \
        "0|$T/board-$card.ljx: terminal $term, epoch $EPOCH, sequences 1 to $((n + 1)): $((n + 1)) taken ($imported, 0 held, 0 undone by a settle), 0 already there|" \
        "$RC|$OUT|$ERR"
    run_capture "$LEAL" card read --reader "sim:$T/$card-board.json" --json
    check_eq "$name: after the import card and ledger agree: 13 points, $purse cents" "13 $purse True" \
        "$(fields '["ledger_points"]' '["ledger_eur_cents"]' '["agrees"]' <<<"$OUT")"
}

# The entries each terminal journals for its table (journal_decode.py's
# words; time and epoch out, a void's reference to its entry as EPOCH/SEQ).
# Reasons: 466 nothing to void, 465 the purse holds less than the payment,
# 467 no such bono on the card. The DESFire counter starts at 2 (the desk's
# issue and top-up; selling the bono writes the bono file only); the Classic
# seq at 2 (issue, top-up). A refusal and a balance leave them. On an earn and
# a pay + earn, "before" is the card's state as the terminal read it (points,
# tier, stamps, the period in months since 1999-12 in Madrid, 0 before the
# card's first earn, and the euros spent in it; the state seq: DESFire's state
# file counts its own writes from 0 at the issue, Classic's record seq is the
# counter). A void's purse is what it gave back and its amount 0 (no sale;
# JOURNAL.md). Purse after is what the tap read: never on a DESFire earn,
# redeem, stamp or bono, always on a Classic (its sealed state holds it).
A=$(printf %x "$ANA")
M=$(printf %x "$MARTA")
P=$(TZ=Europe/Madrid date +'%Y %m' | awk '{ print ($1 - 2000) * 12 + $2 }')
Z="ref 0/0 item 0 amount 0 purse 0 points 0 qty 0 bono 0"
EPOCH_ENTRY="seq 1 EPOCH kind 0 card 0 counter 0->0 package 0 $Z after 0/0/0 stamps 0.0.0.0 reason 0 lines "
DESFIRE_ENTRIES="$EPOCH_ENTRY
seq 2 earn kind 1 card $A counter 2->3 package 1 ref 0/0 item 0 amount 2350 purse 0 points 23 qty 0 bono 0 after 23/0/0 stamps 0.0.0.0 reason 0 before 0/0/0.0.0.0 period 0 buckets 0.0.0.0 seq 0 lines 1:0:0:23
seq 3 pay kind 1 card $A counter 3->4 package 1 ref 0/0 item 0 amount 0 purse 300 points 0 qty 0 bono 0 after 23/1700/0 stamps 0.0.0.0 reason 0 lines 
seq 4 pay+earn kind 1 card $A counter 4->5 package 1 ref 0/0 item 0 amount 1000 purse 200 points 10 qty 0 bono 0 after 33/1500/0 stamps 0.0.0.0 reason 0 before 23/0/0.0.0.0 period $P buckets 23.0.0.0 seq 2 lines 1:0:0:10
seq 5 redeem kind 1 card $A counter 5->6 package 1 ref 0/0 item $REWARD amount 0 purse 0 points -20 qty 0 bono 0 after 13/0/0 stamps 0.0.0.0 reason 0 lines 
seq 6 stamp kind 1 card $A counter 6->7 package 1 ref 0/0 item 0 amount 0 purse 0 points 0 qty 1 bono 0 after 13/0/0 stamps 1.0.0.0 reason 0 lines 
seq 7 bono kind 1 card $A counter 7->8 package 1 ref 0/0 item $BONO amount 0 purse 0 points 0 qty 1 bono 9 after 13/0/0 stamps 1.0.0.0 reason 0 lines 
seq 8 void kind 1 card $A counter 8->9 package 1 ref EPOCH/7 item $BONO amount 0 purse 0 points 0 qty -1 bono 10 after 13/0/0 stamps 1.0.0.0 reason 0 lines 
seq 9 refusal kind 1 card $A counter 9->9 package 1 ref 0/0 item 7 amount 0 purse 0 points 0 qty 0 bono 0 after 13/0/0 stamps 1.0.0.0 reason 466 lines 
seq 10 refusal kind 1 card $A counter 9->9 package 1 ref 0/0 item 2 amount 0 purse 5000 points 0 qty 0 bono 0 after 13/1500/0 stamps 1.0.0.0 reason 465 lines 
seq 11 balance kind 1 card $A counter 9->9 package 1 $Z after 13/1500/0 stamps 1.0.0.0 reason 0 lines "
CLASSIC_ENTRIES="$EPOCH_ENTRY
seq 2 earn kind 2 card $M counter 2->3 package 1 ref 0/0 item 0 amount 2350 purse 0 points 23 qty 0 bono 0 after 23/2000/0 stamps 0.0.0.0 reason 0 before 0/0/0.0.0.0 period 0 buckets 0.0.0.0 seq 2 lines 1:0:0:23
seq 3 earn kind 2 card $M counter 3->4 package 1 ref 0/0 item 0 amount 1000 purse 0 points 10 qty 1 bono 0 after 33/2000/0 stamps 1.0.0.0 reason 0 before 23/0/0.0.0.0 period $P buckets 23.0.0.0 seq 3 lines 1:0:0:10
seq 4 pay kind 2 card $M counter 4->5 package 1 ref 0/0 item 0 amount 0 purse 300 points 0 qty 0 bono 0 after 33/1700/0 stamps 1.0.0.0 reason 0 lines 
seq 5 pay+earn kind 2 card $M counter 5->6 package 1 ref 0/0 item 0 amount 1000 purse 200 points 10 qty 0 bono 0 after 43/1500/0 stamps 1.0.0.0 reason 0 before 33/0/1.0.0.0 period $P buckets 33.0.0.0 seq 5 lines 1:0:0:10
seq 6 void kind 2 card $M counter 6->7 package 1 ref EPOCH/5 item 0 amount 0 purse 200 points -10 qty 0 bono 0 after 33/1700/0 stamps 1.0.0.0 reason 0 lines 
seq 7 redeem kind 2 card $M counter 7->8 package 1 ref 0/0 item $REWARD amount 0 purse 0 points -20 qty 0 bono 0 after 13/1700/0 stamps 1.0.0.0 reason 0 lines 
seq 8 stamp kind 2 card $M counter 8->9 package 1 ref 0/0 item 0 amount 0 purse 0 points 0 qty 1 bono 0 after 13/1700/0 stamps 2.0.0.0 reason 0 lines 
seq 9 refusal kind 2 card $M counter 9->9 package 1 ref 0/0 item 6 amount 0 purse 0 points 0 qty 0 bono 0 after 13/1700/0 stamps 2.0.0.0 reason 467 lines 
seq 10 void kind 2 card $M counter 9->10 package 1 ref EPOCH/8 item 0 amount 0 purse 0 points 0 qty -1 bono 0 after 13/1700/0 stamps 1.0.0.0 reason 0 lines 
seq 11 balance kind 2 card $M counter 10->10 package 1 $Z after 13/1700/0 stamps 1.0.0.0 reason 0 lines "

# DESFire: 7 taps moved value (earn to void), the EPOCH, 2 refusals and the balance did not.
table DESFire 1 ana "$ANA" "$DESFIRE_TABLE" 1500 1 "7 posted, 4 recorded without movement" "$DESFIRE_ENTRIES"
# Classic: 8 moved value (the two earns to the stamp's void), the EPOCH, the bono refused, the balance.
table Classic 2 marta "$MARTA" "$CLASSIC_TABLE" 1700 1 "8 posted, 3 recorded without movement" "$CLASSIC_ENTRIES"
finish
