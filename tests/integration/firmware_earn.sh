#!/bin/bash
# firmware_earn.sh - real transactions on the bare-metal Cortex-M3 terminal
# (build/firmware/leal-cm3.elf in QEMU's mps2-an385): UART1 is wired to
# `leal-cardsim serve --pn532` (its pseudo-terminal), so the board's own PN532
# driver talks to the emulated PN532 holding a card issued by the desk: a
# DESFire EV1 in one run, a MIFARE Classic 1K in a second. UART0 carries the
# till's lines (firmware/port/cortex-m/till.c): the clock, a seed, the
# terminal's bundle (opened on the PC by tests/tools/fw_provision and sent in
# plaintext, as a provisioning jig would), a blank flash, the package from
# `leal terminal package`, one earn (on the DESFire card then a pay of 3,00
# and a balance), the journal export. Checked: every answer
# line exact, the card's points read by the desk through sim: afterwards, the
# board's export imported by `leal sync import`, after which card and ledger
# agree. QEMU missing is a failure (make deps installs qemu-system-arm),
# never a skip. For make bench (tests/bench/firmware_size.sh):
# FW_QEMU_OPTS adds QEMU options (-icount shift=0) and FW_BOARD_LOG collects
# the board's STACK and COST answers.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

source tests/lib/pn532.sh
pn532_fixture fw-earn "firmware earn"
source tests/lib/firmware.sh

terminal_program 2
pn532_cards ana marta
pn532_bundles 2

# board NAME TERMINAL CARD CENTS [LINES]: one run of the board as that terminal (its
# bundle, its package, a blank flash) with CARD in the emulated PN532's field
# and an earn of CENTS (then LINES); BOARD holds UART0 (the export, STACK and COST lines
# aside), $T/board.ljx the export. The flash lives in QEMU's memory, so each
# run is a new terminal: one terminal per run keeps each journal whole.
board() {
    local name=$1 term=$2 card=$3 cents=$4 more=${5:-}
    {
        fw_lines "$T/t$term.ltb" "$T/p$term.lpkg"
        echo "STACK" # since reset: the deepest of the bundle's and the package's load
        echo "EARN $cents"
        echo "STACK"
        echo "COST"
        [ -z "$more" ] || printf '%s\n' "$more"
        echo "EXPORT"
        echo "END"
    } >"$T/lines"
    fw_run "$name" "$card" "$T/lines"
    if [ -n "${FW_BOARD_LOG:-}" ]; then
        grep -E '^ok (stack|cost) ' <<<"$OUT" | sed "s/^/$name /" >>"$FW_BOARD_LOG"
    fi
    BOARD=$(grep -vE '^ok (export|stack|cost) ' <<<"$OUT")
    till_export "$T/board.ljx"
}
HEAD=$FW_HEAD
# epoch_of: the journal epoch in the board's "ok done" line (its clock at the first open).
epoch_of() { sed -nE 's#^ok done .* entry ([0-9]+)/2$#\1#p' <<<"$BOARD"; }

# --- DESFire EV1: earn 23,50 ---------------------------------------------------------
board "DESFire" 1 "$T/ana.json" 2350 "PAY 300
BALANCE"
E1=$(epoch_of)
check_eq "DESFire: UART0 answers, exact (export, stack and cost aside)" "$HEAD
show card $ANA earn: +23 points, 0 -> 23
ok done card $ANA points 23 entry $E1/2
show card $ANA pay: paid 3.00, 17.00 euros left
ok done card $ANA points 23 entry $E1/3
show card $ANA balance: 23 points, 17.00 euros, stamps 0 0 0 0
ok done card $ANA points 23 entry $E1/4
ok end" "$BOARD"
check_eq "DESFire: the journal's epoch is the board's clock at its first open (TIME + at most 60 s)" \
    yes "$([ -n "$E1" ] && [ "$E1" -ge "$NOW" ] && [ "$E1" -le $((NOW + 60)) ] && echo yes)"
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "DESFire: the desk reads the card through sim: 23 points, 17.00 on the purse" "23 1700" \
    "$(fields '["points"]' '["purse_cents"]' <<<"$OUT")"
run_capture "$LEAL" sync import "$T/board.ljx"
check_eq "DESFire: leal sync import takes the board's export: EPOCH, the earn, the pay, the balance" \
    "0|$T/board.ljx: terminal 1, epoch $E1, sequences 1 to 4: 4 taken (2 posted, 2 recorded without movement, 0 held, 0 undone by a settle), 0 already there|" \
    "$RC|$OUT|$ERR"
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "DESFire: after the import card and ledger agree (23 points, 17.00), the pay and the earn booked from the board's entries" \
    "23 1700 True spend -300 terminal purse payment|earn 23 terminal earn" \
    "$(fields '["ledger_points"]' '["ledger_eur_cents"]' '["agrees"]' '["last_operations"][0]["kind"]' '["last_operations"][0]["amount"]' '["last_operations"][0]["reason"]' <<<"$OUT")|$(fields '["last_operations"][1]["kind"]' '["last_operations"][1]["amount"]' '["last_operations"][1]["reason"]' <<<"$OUT")"

# --- MIFARE Classic 1K: earn 10,00 on terminal 2 ---------------------------------------
board "Classic" 2 "$T/marta.json" 1000
E2=$(epoch_of)
check_eq "Classic: the journal's epoch is the board's clock at its first open (TIME + at most 60 s)" \
    yes "$([ -n "$E2" ] && [ "$E2" -ge "$NOW" ] && [ "$E2" -le $((NOW + 60)) ] && echo yes)"
check_eq "Classic: UART0 answers, exact (export, stack and cost aside)" "$HEAD
show card $MARTA earn: +10 points, 0 -> 10
ok done card $MARTA points 10 entry $E2/2
ok end" "$BOARD"
run_capture "$LEAL" card read --reader "sim:$T/marta.json" --json
check_eq "Classic: the desk reads the card through sim: 10 points" "10" "$(field '["points"]' <<<"$OUT")"
run_capture "$LEAL" sync import "$T/board.ljx"
check_eq "Classic: leal sync import takes the board's export" \
    "0|$T/board.ljx: terminal 2, epoch $E2, sequences 1 to 2: 2 taken (1 posted, 1 recorded without movement, 0 held, 0 undone by a settle), 0 already there|" \
    "$RC|$OUT|$ERR"
run_capture "$LEAL" card read --reader "sim:$T/marta.json" --json
check_eq "Classic: after the import card and ledger agree at 10 points" "10 True earn 10" \
    "$(fields '["ledger_points"]' '["agrees"]' '["last_operations"][0]["kind"]' '["last_operations"][0]["amount"]' <<<"$OUT")"
finish
