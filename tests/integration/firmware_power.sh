#!/bin/bash
# firmware_power.sh - the Cortex-M3 terminal's flash outlives a run, and its
# journal outlives power cuts (issue 18). QEMU keeps the board's flash in a
# host file through semihosting (firmware/port/cortex-m/board.h: the
# arguments flash=FILE and cut=N), so:
# - a first run (blank flash, the package, an earn) leaves a flash image; a
#   second run started from it, with neither FORMAT nor LOAD, finds the
#   package and the first run's journal: its earn is the next sequence of
#   the same epoch, and the export holds the three entries;
# - power cuts: from the first run's image, an earn is cut after its N-th
#   flash word (the append goes word by word, the power goes right after
#   word N lands, before the card's commit), then the board restarts from
#   the image and taps a balance. Every committed entry is still there, a
#   torn append is never accepted: it becomes a RECOVERY entry (reason 439)
#   with the lost sequence, and a whole append whose commit never came stays
#   as the earn, which the next tap settles "not done" from the card's
#   counter (JOURNAL.md "Power loss", firmware/core/port.h). The card keeps
#   23 points and 20.00 in every case; each journal is decoded field by
#   field by journal_decode.py, with its exact entries.
#   The cut points: words 1, 2, every tenth, the last but one and the last
#   (LEAL_FW_CUTS=all cuts at every word, LEAL_FW_CUTS="3 7" at those; not in make test). A cut during the
#   RECOVERY entry's own append costs one more slot and recovers the same.
# - after the last-word cut, `leal sync import` of the board's export and
#   the card agree.
# - a flash file of the wrong size is refused at reset with one line.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

source tests/lib/pn532.sh
pn532_fixture fw-power "firmware power"
source tests/lib/firmware.sh

terminal_program 1
pn532_cards ana
pn532_bundles 1
pn532_keys
fw_provision 1
# decode FILE: the export's entries as journal_decode.py prints them (the time
# taken out, the epoch written EPOCH), then the count of "export ok".
decode() {
    local dec
    dec=$(pn532_decode 1 "$(hex "$1")")
    sed -E '/^export /d; /^refused: ack /d; s/ time [-+0-9]+ / /; s#'"$E"'/#EPOCH/#g' <<<"$dec"
    grep -c '^export ok$' <<<"$dec"
}

# --- the first run: a blank flash in a new file ----------------------------------------
{
    fw_lines "$T/t1.ltb" "$T/p1.lpkg"
    echo "EARN 2350"
    echo "EXPORT"
    echo "END"
} >"$T/lines"
FW_FLASH=$T/first.img fw_run "first run" "$T/ana.json" "$T/lines"
fw_export_of "$T/out.ljx"
E=$(sed -nE 's#^ok done .* entry ([0-9]+)/2$#\1#p' <<<"$OUT")
check_eq "first run: UART0 answers, exact" "$FW_HEAD
show card $ANA earn: +23 points, 0 -> 23
ok done card $ANA points 23 entry $E/2
ok end" "$OUT"
check_eq "first run: the flash file is the storages' 48 KiB" 49152 "$(stat -c %s "$T/first.img")"
cp "$T/ana.json" "$T/ana-first.json"
FIRST=$(decode "$T/out.ljx")

# --- the second run: the first's flash ---------------------------------------------------
cp "$T/first.img" "$T/second.img"
fw_restart 1 "EARN 1000" "WORDS" "EXPORT" "END" >"$T/lines"
FW_FLASH=$T/second.img fw_run "second run" "$T/ana.json" "$T/lines"
fw_export_of "$T/out.ljx"
W=$(sed -n 's/^ok words //p' <<<"$OUT")
check_eq "second run, from the first's flash without FORMAT or LOAD: the package is there, the earn is sequence 3 of the first run's epoch" \
    "$FW_RESTART_HEAD
show card $ANA earn: +10 points, 23 -> 33
ok done card $ANA points 33 entry $E/3
ok words $W
ok end" "$OUT"
SECOND=$(decode "$T/out.ljx")
check_eq "second run: the export holds the first run's EPOCH and earn, then this earn, and verifies" \
    "$(sed '$d' <<<"$FIRST")
$(grep '^seq 3 ' <<<"$SECOND")
1" "$SECOND"
EARN3=$(grep '^seq 3 ' <<<"$SECOND")
check_eq "second run: the earn's append is one program of whole words (30 to 110 of them)" yes \
    "$([ "${W:-0}" -ge 30 ] && [ "$W" -le 110 ] && echo yes)"
echo "# an earn's append: $W flash words"

# --- power cuts during the earn's append ------------------------------------------------
FIRST_ENTRIES=$(sed '$d' <<<"$FIRST")
# cut N SEQ: the earn cut after flash word N, then a restart with a balance (its
# entry SEQ); sets DEC.
cut() {
    local n=$1
    cp "$T/first.img" "$T/cut.img"
    cp "$T/ana-first.json" "$T/ana-cut.json"
    fw_restart 1 "EARN 1000" "END" >"$T/lines"
    FW_FLASH=$T/cut.img FW_CUT=$n fw_run "cut at word $n" "$T/ana-cut.json" "$T/lines"
    check_eq "cut at word $n: UART0 stops at the cut (no operator line, no answer)" "$FW_RESTART_HEAD
power: cut after flash word $n" "$OUT"
    fw_restart 1 "BALANCE" "EXPORT" "END" >"$T/lines"
    FW_FLASH=$T/cut.img fw_run "cut at word $n, restart" "$T/ana-cut.json" "$T/lines"
    fw_export_of "$T/out.ljx"
    check_eq "cut at word $n, restart: the card has 23 points and 20.00 (its commit never came); the balance is sequence $2" \
        "$FW_RESTART_HEAD
show card $ANA balance: 23 points, 20.00 euros, stamps 0 0 0 0
ok done card $ANA points 23 entry $E/$2
ok end" "$OUT"
    DEC=$(decode "$T/out.ljx")
}
POINTS="1 2"
for ((i = 10; i < W - 1; i += 10)); do POINTS+=" $i"; done
POINTS+=" $((W - 1))"
case ${LEAL_FW_CUTS:-} in
    all) POINTS=$(seq 1 $((W - 1))) ;;
    ?*) POINTS=$LEAL_FW_CUTS ;;
esac
RECOVERY3="seq 3 RECOVERY kind 0 card 0 counter 0->0 package 0 ref EPOCH/3 item 0 amount 0 purse 0 points 0 qty 0 bono 0 after 0/0/0 stamps 0.0.0.0 reason 439 lines "
CARDHEX=$(sed -nE 's/^seq 2 earn kind 1 card ([0-9a-f]+) .*/\1/p' <<<"$FIRST")
BALANCE4="seq 4 balance kind 1 card $CARDHEX counter 2->2 package 1 ref 0/0 item 0 amount 0 purse 0 points 0 qty 0 bono 0 after 23/2000/0 stamps 0.0.0.0 reason 0 lines "
for n in $POINTS; do
    cut "$n" 4
    check_eq "cut at word $n (of $W): the journal keeps the EPOCH and the first earn, the torn earn is a RECOVERY of sequence 3 (reason 439), then the balance (counter 2->2); it verifies" \
        "$FIRST_ENTRIES
$RECOVERY3
$BALANCE4
1" "$DEC"
done

# The last word: the append whole, the power gone before the card's commit.
cut "$W" 5
check_eq "cut at word $W (the last): the earn is in the journal whole (counter 2->3, as the second run wrote it); the balance's tap finds the card's counter still at 2 and settles it not done (item 2), then the balance" \
    "$FIRST_ENTRIES
$EARN3
seq 4 settle kind 1 card $CARDHEX counter 2->2 package 1 ref EPOCH/3 item 2 amount 0 purse 0 points 0 qty 0 bono 0 after 23/2000/0 stamps 0.0.0.0 reason 0 lines 
${BALANCE4/#seq 4 /seq 5 }
1" "$DEC"
run_capture "$LEAL" sync import "$T/out.ljx"
check_eq "cut at word $W: leal sync import of the restarted board's export" \
    "0|$T/out.ljx: terminal 1, epoch $E, sequences 1 to 5: 5 taken (3 posted, 2 recorded without movement, 0 held, 1 undone by a settle), 0 already there|" \
    "$RC|$OUT|$ERR"
run_capture "$LEAL" card read --reader "sim:$T/ana-cut.json" --json
check_eq "cut at word $W: card and ledger agree at 23 points and 20.00 (the earn that never reached the card is not booked)" \
    "23 2000 23 2000 True" \
    "$(fields '["points"]' '["purse_cents"]' '["ledger_points"]' '["ledger_eur_cents"]' '["agrees"]' <<<"$OUT")"

# A cut during the RECOVERY entry's own append (the first tap after a torn earn
# opens the journal and writes it): the next start recovers the same way, one
# slot further on.
cp "$T/first.img" "$T/cut.img"
cp "$T/ana-first.json" "$T/ana-cut.json"
fw_restart 1 "EARN 1000" "END" >"$T/lines"
FW_FLASH=$T/cut.img FW_CUT=5 fw_run "earn cut at word 5" "$T/ana-cut.json" "$T/lines"
fw_restart 1 "BALANCE" "END" >"$T/lines"
FW_FLASH=$T/cut.img FW_CUT=3 fw_run "its restart cut at word 3 (in the RECOVERY entry)" "$T/ana-cut.json" "$T/lines"
check_eq "the restart's cut: UART0 stops at it, before the balance's answer" "$FW_RESTART_HEAD
power: cut after flash word 3" "$OUT"
fw_restart 1 "BALANCE" "EXPORT" "END" >"$T/lines"
FW_FLASH=$T/cut.img fw_run "the second restart" "$T/ana-cut.json" "$T/lines"
fw_export_of "$T/out.ljx"
check_eq "the second restart: the balance is sequence 4" "$FW_RESTART_HEAD
show card $ANA balance: 23 points, 20.00 euros, stamps 0 0 0 0
ok done card $ANA points 23 entry $E/4
ok end" "$OUT"
check_eq "the second restart: EPOCH, earn, the RECOVERY of sequence 3, the balance; it verifies" \
    "$FIRST_ENTRIES
$RECOVERY3
$BALANCE4
1" "$(decode "$T/out.ljx")"

# A file that is not a flash image of this board: refused at reset, the file untouched.
head -c 4096 /dev/zero >"$T/short.img"
run_capture timeout 60 qemu-system-arm -M mps2-an385 -display none -monitor none \
    -semihosting-config "enable=on,target=native,arg=leal-cm3,arg=flash=$T/short.img" \
    -kernel "$ELF" -serial stdio </dev/null
check_eq "a 4096-byte flash file: one error line at reset, exit 1, the file left as it was" \
    "1|$(sed '/^till: ready$/,$d' <<<"$FW_HEAD")
flash: error LEAL_E_FW_FLASH_FILE|4096 0" \
    "$RC|$(tr -d '\r' <<<"$OUT")|$(stat -c %s "$T/short.img") $(tr -d '\0' <"$T/short.img" | wc -c)"
finish
