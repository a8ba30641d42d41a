# pn532.sh - leal-terminal through libnfc in an integration test: leal-cardsim's
# emulated PN532 on a pseudo-terminal, which libnfc 1.8's pn532_uart driver
# talks to (nfc:pn532_uart:PTY). Sourced after testlib.sh; uses the caller's
# T (its temporary folder), LT (leal-terminal), D (the terminal's data) and
# sets SPID (the cardsim's pid, for the caller's cleanup) and NFC (the reader).

# serve CARD: the emulated PN532 with CARD in its field, on a pty linked at $T/pn532.
serve() {
    rm -f "$T/pn532"
    "$CARDSIM" serve --pn532 "$T/pn532" "$1" >"$T/serve.log" 2>&1 &
    SPID=$!
    for _ in $(seq 100); do
        [ -L "$T/pn532" ] && break
        sleep 0.05
    done
    NFC="nfc:pn532_uart:$(readlink "$T/pn532")"
}
# unserve: stops it (SIGTERM: the card file saved).
unserve() {
    kill "$SPID"
    wait "$SPID"
    check_eq "cardsim stopped cleanly" 0 "$?"
    SPID=
}
# tap NAME EXPECTED-RC EXPECTED-LINE OPERATION...: one tap through libnfc.
tap() {
    local name=$1 rc=$2 line=$3
    shift 3
    run_capture timeout 60 "$LT" tap "$@" --reader "$NFC" --data "$D"
    check_eq "$name" "$rc|$line|" "$RC|$OUT|$ERR"
}
