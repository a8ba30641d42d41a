#!/bin/bash
# trace.sh - LEAL_TRACE=apdu and --verbose (issue 11 section 7). A DESFire EV1
# and a MIFARE Classic 1K are issued with the trace on, through the real pcscd
# (vpcd) and through the real libnfc (pn532_uart on the emulated PN532).
# trace_secrets.py then looks in each trace for every key of the keystore
# (keystore_decode.py, from KEYS.md alone), every diversified key the card
# holds afterwards, every file, record and block the card stores and the
# plaintext of the sealed Classic records, and finds none; while the trace
# shows the commands of an issuance (GetVersion with its answer, AES
# authentication, ChangeKey, WriteData, Credit, CommitTransaction; Classic
# authentications, reads and writes) with one line pair per round trip.
# --verbose shows pcsc-lite's own text where its error entered.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"

pcscd_fixture trace
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="trace test passphrase"
export LIBNFC_AUTO_SCAN=false LIBNFC_LOG_LEVEL=0

run_capture "$LEAL" keys init --issuer "Café Sol" --program 7
check_eq "keystore" 0 "$RC"
run_capture "$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1
check_eq "program 7" 0 "$RC"
for n in Ana Luis Marta Nuno; do "$LEAL" customer add --program 7 --name "$n" >/dev/null; done
PASS=$LEAL_PASSPHRASE $PY tests/integration/keystore_decode.py "$XDG_DATA_HOME/leal/keystore" >"$T/keys.txt"
check_eq "the keystore decodes with KEYS.md alone: 12 keys" 12 "$(grep -c '^key ' "$T/keys.txt")"
round_trips() { $PY -c 'import json,sys; print(json.load(sys.stdin)["round_trips"])'; }
# exchanges TRACE: the commands in a trace (one "> " line each).
exchanges() { grep -c '^leal: trace: > ' "$1"; }
# has TRACE NAME LINE: the trace holds LINE (a whole line, fixed string).
has() { if grep -qxF -- "leal: trace: $3" "$1"; then pass "$2"; else fail "$2" "no line: $3"; fi; }

# check_desfire NAME TRACE CARD.json ISSUE-JSON SECRETS (how many trace_secrets.py finds to look for;
# a layout-version-2 card adds its bono file)
check_desfire() {
    local rt
    rt=$(round_trips <<<"$4")
    check_eq "$1: one traced exchange per round trip, nothing else on stderr" \
        "$rt 0" "$(exchanges "$2") $(grep -vc '^leal: trace: [<>] ' "$2")"
    has "$2" "$1: GetVersion shown before authentication" "> 90 60 00 00 [0]"
    has "$2" "$1: its answer shown" "< 91 AF [7] 04 01 01 01 00 18 05"
    has "$2" "$1: AES authentication, its data hidden" "> 90 AA 00 00 [1 hidden]"
    has "$2" "$1: its challenge hidden" "< 91 AF [16 hidden]"
    check_eq "$1: ChangeKey, CreateApplication, WriteData, WriteRecord, Credit, their data hidden" \
        "C4 CA 3D 3B 0C" "$(for c in C4 CA 3D 3B 0C; do grep -qE "^leal: trace: > 90 $c 00 00 \[[0-9]+ hidden\]$" "$2" && printf '%s ' $c; done | sed 's/ $//')"
    has "$2" "$1: CommitTransaction, its MAC hidden" "< 91 00 [8 hidden]"
    has "$2" "$1: CommitTransaction" "> 90 C7 00 00 [0]"
    check_nomatch "$1: after the first authentication no frame shows data" '\] [0-9A-F]{2}' \
        "$(sed -n '/> 90 AA/,$p' "$2")"
    run_capture $PY tests/integration/trace_secrets.py "$2" "$T/keys.txt" "$3"
    check_eq "$1: no key, diversified key, file or record of the card in the trace" \
        "0|checked $5 secrets: none in the trace" "$RC|$OUT"
}

# check_classic NAME TRACE CARD.json ISSUE-JSON SECRETS
check_classic() {
    local rt
    rt=$(round_trips <<<"$4")
    check_eq "$1: one traced exchange per round trip, nothing else on stderr" \
        "$rt 0" "$(exchanges "$2") $(grep -vc '^leal: trace: [<>] ' "$2")"
    check_eq "$1: an authentication with key A in each of sectors 0-5, keys hidden" \
        "00 04 08 0C 10 14" "$(sed -n 's/^leal: trace: > 60 \(..\) \[key hidden\]$/\1/p' "$2" | sort -u | paste -sd' ')"
    has "$2" "$1: sector 1's trailer written (new keys), its bytes hidden" "> A0 07 [16 hidden]"
    has "$2" "$1: a block read, its bytes hidden" "< [16 hidden]"
    check_nomatch "$1: no Classic data shown" '\] [0-9A-F]{2}' "$(cat "$2")"
    run_capture $PY tests/integration/trace_secrets.py "$2" "$T/keys.txt" "$3"
    check_eq "$1: no key, diversified key, block or record plaintext of the card in the trace" \
        "0|checked $5 secrets: none in the trace" "$RC|$OUT"
}

# --- pcscd --------------------------------------------------------------------
if pcscd_start "$T"; then
    pass "pcscd with a vpcd reader on port $VPCD_PORT"
    PC=(--reader "pcsc:$PCSC_READER" --allow-virtual)
    "$CARDSIM" new --type desfire-ev1 --uid 04010203040506 -o "$T/df.json" >/dev/null
    "$CARDSIM" serve --vpcd "$VPCD_PORT" --control "$T/ctl" "$T/df.json" 2>"$T/serve.log" &
    SIM_PID=$!
    pcscd_wait present || fail "card present in pcscd" "$(pcscd_card_state)"
    LEAL_TRACE=apdu "$LEAL" card issue --customer 1 "${PC[@]}" --welcome-points 5 --topup 7,50 --json \
        >"$T/df.out" 2>"$T/df.trace"
    check_eq "DESFire issued through pcscd with LEAL_TRACE=apdu" "0" "$?"
    run_capture "$LEAL" card read "${PC[@]}"
    check_eq "read without LEAL_TRACE: nothing on stderr" "0|" "$RC|$ERR"
    echo remove >"$T/ctl"
    pcscd_wait absent || fail "card removed in pcscd" "$(pcscd_card_state)"
    "$CARDSIM" new --type classic-1k --uid 04C0FFEE -o "$T/cl.json" >/dev/null
    echo "load $T/cl.json" >"$T/ctl"
    pcscd_wait present || fail "the Classic card present in pcscd" "$(pcscd_card_state)"
    LEAL_TRACE=apdu "$LEAL" card issue --customer 2 "${PC[@]}" --welcome-points 5 --json \
        >"$T/cl.out" 2>"$T/cl.trace"
    check_eq "Classic issued through pcscd with LEAL_TRACE=apdu" "0" "$?"
    stop_sim
    check_desfire "pcscd DESFire" "$T/df.trace" "$T/df.json" "$(cat "$T/df.out")" 53
    check_classic "pcscd Classic" "$T/cl.trace" "$T/cl.json" "$(cat "$T/cl.out")" 64
    pcscd_stop
    run_capture "$LEAL" --verbose card read "${PC[@]}"
    check_eq "pcscd gone, --verbose: pcsc-lite's text where it entered, then the one-line error" \
        "1|leal: debug: pcsc: SCardEstablishContext: Service not available. -> no card reader found; plug one in or name it with --reader
leal: opening the reader pcsc:$PCSC_READER: no card reader found; plug one in or name it with --reader" "$RC|$ERR"
else
    fail "a pcscd with a vpcd reader" "no pcscd could be started"
fi

# --- libnfc -------------------------------------------------------------------
serve_pn() {
    stop_sim
    rm -f "$T/pn532"
    "$CARDSIM" serve --pn532 "$T/pn532" "$1" >>"$T/pn532.log" 2>&1 &
    SIM_PID=$!
    for _ in $(seq 50); do [ -L "$T/pn532" ] && break; sleep 0.1; done
    NFC=(--reader "nfc:pn532_uart:$(readlink "$T/pn532")")
}
"$CARDSIM" new --type desfire-ev1 --uid 04111213141516 -o "$T/pn-df.json" >/dev/null
serve_pn "$T/pn-df.json"
LEAL_TRACE=apdu "$LEAL" card issue --customer 3 "${NFC[@]}" --welcome-points 5 --topup 7,50 --json \
    >"$T/pn-df.out" 2>"$T/pn-df.trace"
check_eq "DESFire issued through libnfc with LEAL_TRACE=apdu" "0" "$?"
"$CARDSIM" new --type classic-1k --uid 04C0FFE1 -o "$T/pn-cl.json" >/dev/null
serve_pn "$T/pn-cl.json"
LEAL_TRACE=apdu "$LEAL" card issue --customer 4 "${NFC[@]}" --welcome-points 5 --json \
    >"$T/pn-cl.out" 2>"$T/pn-cl.trace"
check_eq "Classic issued through libnfc with LEAL_TRACE=apdu" "0" "$?"
stop_sim
check_desfire "libnfc DESFire" "$T/pn-df.trace" "$T/pn-df.json" "$(cat "$T/pn-df.out")" 53
check_classic "libnfc Classic" "$T/pn-cl.trace" "$T/pn-cl.json" "$(cat "$T/pn-cl.out")" 64

run_capture env LEAL_TRACE=apdu,keys "$LEAL" readers
check_eq "an unknown trace is refused (exit 2), naming the one there is" \
    "2|leal: LEAL_TRACE=apdu,keys: unknown trace; the one there is: LEAL_TRACE=apdu (see 'leal --help')" "$RC|$ERR"
finish
