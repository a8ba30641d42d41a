# firmware.sh - the Cortex-M3 board (build/firmware/leal-cm3.elf) in QEMU for an
# integration test: its opening lines and one run with UART1 on the emulated
# PN532. Sourced after testlib.sh and pn532.sh; uses the caller's T and sets
# ELF and PROVISION.
ELF=build/firmware/leal-cm3.elf
PROVISION=$LEAL_BUILD/tests/tools/fw_provision
check_eq "qemu-system-arm, the firmware and fw_provision are there (make deps, make firmware)" \
    "yes yes yes" "$(command -v qemu-system-arm >/dev/null && echo yes) $([ -f "$ELF" ] && echo yes) \
$([ -x "$PROVISION" ] && echo yes)"
# The board's lines up to a loaded package (fw_lines' TIME, SEED, BUNDLE, FORMAT, LOAD).
FW_HEAD="leal terminal core on Cortex-M3 (mps2-an385), 256 KiB flash, 64 KiB RAM, no heap
self-test aes128 69c4e0d86a7b0430d8cdb78070b4c55a ok
self-test sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad ok
self-test cmac bb1d6929e95937287fa37d129b756746 ok
self-test passed
till: ready
ok time
ok seed
ok bundle
ok format
ok package"
# fw_lines BUNDLE PACKAGE: the till's first lines (NOW, the seed and bundle from
# fw_provision, a blank flash, the package); sets NOW.
fw_lines() {
    NOW=$(date +%s)
    echo "TIME $NOW"
    "$PROVISION" "$1" || echo "PROVISION FAILED"
    echo "FORMAT"
    echo "LOAD $(hex "$2")"
}
# The board's lines on a restart from its flash (no FORMAT, no LOAD).
FW_RESTART_HEAD=$(sed '/^ok format$/,$d' <<<"$FW_HEAD")
# fw_provision TERMINAL: one opening of its sealed bundle $T/tN.ltb in $T/provN
# for every run (the seed repeats; each run is a new boot).
fw_provision() {
    "$PROVISION" "$T/t$1.ltb" >"$T/prov$1" || echo "PROVISION FAILED" >"$T/prov$1"
}
# fw_restart TERMINAL LINES...: a later run's lines: the clock, the keys
# (fw_provision), no FORMAT, no LOAD, then LINES.
fw_restart() {
    local t=$1
    shift
    echo "TIME $(date +%s)"
    cat "$T/prov$t"
    printf '%s\n' "$@"
}
# fw_run NAME CARD LINES: one QEMU run with CARD in the emulated PN532's field and
# the file LINES on UART0; RC, OUT (UART0, carriage returns taken out).
# FW_QEMU_OPTS adds QEMU options (make bench: -icount shift=0). FW_FLASH=FILE keeps
# the board's flash in FILE across runs, FW_CUT=N cuts the power after its N-th
# flash word (board.h; the run then ends with exit 5), FW_TCUT=N cuts it N CPU
# cycles into the run's first tap (board.h tcut=; run it under -icount shift=0),
# FW_ACUT=N N cycles into that tap's journal append (acut=).
fw_run() {
    serve "$2"
    # shellcheck disable=SC2086 # FW_QEMU_OPTS is a list of options
    run_capture timeout 300 qemu-system-arm -M mps2-an385 -display none -monitor none \
        -semihosting-config "enable=on,target=native${FW_FLASH:+,arg=leal-cm3,arg=flash=$FW_FLASH}${FW_CUT:+,arg=cut=$FW_CUT}${FW_TCUT:+,arg=tcut=$FW_TCUT}${FW_ACUT:+,arg=acut=$FW_ACUT}" \
        ${FW_QEMU_OPTS:-} -kernel "$ELF" -serial stdio -serial "$(readlink "$T/pn532")" <"$3"
    unserve
    if [ -n "${FW_TCUT:-}${FW_ACUT:-}" ]; then
        check_eq "$1: the power cut stopped the board in the tap, exit 5" 5 "$RC"
    elif [ -n "${FW_CUT:-}" ]; then
        check_eq "$1: the power cut stopped the board after flash word $FW_CUT, exit 5" 5 "$RC"
    else
        check_eq "$1: QEMU ran the board to END, exit 0" 0 "$RC"
    fi
    OUT=$(tr -d '\r' <<<"$OUT")
}
# till_export FILE: the export of the "ok export" line in OUT (the board's or
# leal-terminal serve's) into FILE, as bytes.
till_export() {
    sed -n 's/^ok export //p' <<<"$OUT" |
        $PY -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' >"$1"
}
# fw_export_of FILE: till_export FILE, then OUT without its "ok export" line.
fw_export_of() {
    till_export "$1"
    OUT=$(grep -v '^ok export ' <<<"$OUT")
}

# --- one QEMU run for many taps and power cuts (firmware_cuts.sh) -----------
# fw_session_start CARD FLASH: QEMU running the board from FLASH (flash=FILE),
# its UART0 on a coprocess the test writes lines to (fw_send, or >&"${FWQ[1]}")
# and reads answers from (fw_until), UART1 on the emulated PN532 with CARD
# (as serve does, SPID; its stderr on a FIFO read through FW_LOG, so that a
# power cycle is waited for without polling; FW_CYCLES counts them).
fw_session_start() {
    local line
    rm -f "$T/pn532" "$T/serve.fifo"
    mkfifo "$T/serve.fifo"
    "$CARDSIM" serve --pn532 "$T/pn532" "$1" 2>"$T/serve.fifo" &
    SPID=$!
    exec {FW_LOG}<"$T/serve.fifo"
    IFS= read -r -t 60 -u "$FW_LOG" line
    check_match "the emulated PN532 serves the card" "^leal-cardsim: serving " "$line"
    FW_CYCLES=0
    # shellcheck disable=SC2086 # FW_QEMU_OPTS is a list of options
    coproc FWQ {
        exec timeout 1800 qemu-system-arm -M mps2-an385 -display none -monitor none \
            -semihosting-config "enable=on,target=native,arg=leal-cm3,arg=flash=$2" \
            ${FW_QEMU_OPTS:-} -kernel "$ELF" -serial stdio -serial "$(readlink "$T/pn532")" \
            2>"$T/qemu.err"
    }
    FW_PID=$FWQ_PID
}
# fw_send LINE...: lines to the board's UART0.
fw_send() { printf '%s\n' "$@" >&"${FWQ[1]}"; }
# fw_until REGEX: reads the board's UART0 until a line matches REGEX (bash =~;
# carriage returns taken out); SOUT: the lines read, that one last. 1 when
# the board said nothing for 120 s or QEMU ended first. FW_TRACE=FILE: each
# line also goes there after the time it came (for finding where time goes).
fw_until() {
    local line
    SOUT=
    while IFS= read -r -t 120 line <&"${FWQ[0]}"; do
        line=${line%$'\r'}
        [ -z "${FW_TRACE:-}" ] || echo "$EPOCHREALTIME ${line:0:100}" >>"$FW_TRACE"
        SOUT+=$line$'\n'
        [[ $line =~ $1 ]] && return 0
    done
    return 1
}
# fw_pn532_cycle: SIGHUP to the emulated PN532 (serve_pn532.c: the line
# flushed, the PN532 and the card as at power-on, the card loaded again from
# its file); fw_pn532_cycled waits until it says it is done (1 if it does not).
fw_pn532_cycle() {
    FW_CYCLES=$((FW_CYCLES + 1))
    kill -HUP "$SPID"
}
fw_pn532_cycled() {
    local line
    while IFS= read -r -t 60 -u "$FW_LOG" line; do
        [ "$line" = "leal-cardsim: power cycle $FW_CYCLES" ] && return 0
    done
    fail "the emulated PN532 did not finish power cycle $FW_CYCLES" "$line"
    return 1
}
# fw_session_end NAME: END, then QEMU's exit (checked 0) and the PN532 stopped.
fw_session_end() {
    fw_send END
    fw_until '^ok end$'
    wait "$FW_PID"
    check_eq "$1: the board ran to END, QEMU exit 0" 0 "$?"
    FW_PID=
    unserve
    exec {FW_LOG}<&-
}
