# pn532.sh - leal-terminal through libnfc in an integration test: leal-cardsim's
# emulated PN532 on a pseudo-terminal, which libnfc 1.8's pn532_uart driver
# talks to (nfc:pn532_uart:PTY). Sourced after testlib.sh; uses the caller's
# T (its temporary folder), LT (leal-terminal), D (the terminal's data) and
# sets SPID (the cardsim's pid, for the caller's cleanup) and NFC (the reader).
# Below them, the world the tests that tap through it share (terminal_nfc.sh
# and firmware_*.sh): pn532_fixture, terminal_program, terminal_catalogue,
# pn532_cards, pn532_bundles, pn532_till, pn532_keys, pn532_decode.

# serve CARD: the emulated PN532 with CARD in its field (--empty: none), on a pty
# linked at $T/pn532.
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

# --- the world of the tests that tap through the emulated PN532 -------------

# pn532_fixture NAME WORDS: T (a temporary folder /tmp/leal-NAME-*, removed at
# exit after the cardsim SPID is stopped), XDG_DATA_HOME under it,
# LEAL_PASSPHRASE "WORDS passphrase", LEAL_BUNDLE_PASSPHRASE "WORDS bundle pass
# phrase", LT (leal-terminal) and field PATH (PATH of the JSON on stdin:
# field '["id"]').
pn532_fixture() {
    T=$(mktemp -d "/tmp/leal-$1-XXXXXX")
    SPID=
    trap pn532_cleanup EXIT
    export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="$2 passphrase"
    export LEAL_BUNDLE_PASSPHRASE="$2 bundle pass phrase"
    LT="$LEAL_BUILD/bin/leal-terminal"
    field() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }
    # fields PATH...: field's for each PATH, on one line, a space between:
    # one Python for several fields of the same JSON.
    fields() {
        $PY -c 'import json,sys
d = json.load(sys.stdin)
print(" ".join(str(eval("d" + p, {"d": d})) for p in sys.argv[1:]))' "$@"
    }
}
pn532_cleanup() {
    if [ -n "$SPID" ]; then
        kill "$SPID" 2>/dev/null
        wait "$SPID" 2>/dev/null
    fi
    rm -rf "$T"
}

# The program, its store and terminals, its catalogue: terminal_program
# and terminal_catalogue (tests/lib/terminal_setup.sh).
source tests/lib/terminal_setup.sh

# pn532_cards [--bono] [--marta-topup] DESFIRE [CLASSIC]: customer 1 Ana and
# her DESFire EV1 ($T/DESFIRE.json, UID 04112233445566; card id ANA) issued
# with 20.00 on its purse, --bono: then the bono of 10 masajes sold on it;
# with CLASSIC, customer 2 Marta (added before the cards) and her MIFARE
# Classic 1K ($T/CLASSIC.json, UID 04a2195c; MARTA), --marta-topup: issued
# with 20.00 too.
pn532_cards() {
    local bono='' topup=''
    while [ "${1:-}" = --bono ] || [ "${1:-}" = --marta-topup ]; do
        if [ "$1" = --bono ]; then bono=1; else topup=1; fi
        shift
    done
    "$LEAL" customer add --program 7 --name Ana >/dev/null
    [ -z "${2:-}" ] || "$LEAL" customer add --program 7 --name Marta >/dev/null
    "$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/$1.json" >/dev/null
    [ -z "${2:-}" ] || "$CARDSIM" new --type classic-1k --uid 04a2195c -o "$T/$2.json" >/dev/null
    ANA=$("$LEAL" card issue --customer 1 --reader "sim:$T/$1.json" --topup 20 --json | field '["card_id"]')
    [ -z "$bono" ] || "$LEAL" bono sell --kind "10 masajes" --reader "sim:$T/$1.json" >/dev/null
    [ -z "${2:-}" ] || MARTA=$("$LEAL" card issue --customer 2 --reader "sim:$T/$2.json" \
        ${topup:+--topup 20} --json | field '["card_id"]')
}

# pn532_bundles TERMINALS: for terminals 1..TERMINALS their bundle $T/tN.ltb
# (expiring 2027-06-01) and their package $T/pN.lpkg.
pn532_bundles() {
    local t
    for ((t = 1; t <= $1; t++)); do
        "$LEAL" keys export-terminal --terminal $t --program 7 --expires 2027-06-01 -o "$T/t$t.ltb" >/dev/null
        "$LEAL" terminal package --terminal $t -o "$T/p$t.lpkg" >/dev/null
    done
}

# pn532_till TERMINAL DIR: leal-terminal's data in DIR, initialised with the
# terminal's bundle and its package loaded.
pn532_till() {
    "$LT" init --bundle "$T/t$1.ltb" --data "$2" >/dev/null
    "$LT" load "$T/p$1.lpkg" --data "$2" >/dev/null
}

# pn532_keys: KEYS, the keystore as keystore_decode.py prints it.
pn532_keys() {
    KEYS=$(PASS=$LEAL_PASSPHRASE $PY tests/integration/keystore_decode.py "$XDG_DATA_HOME/leal/keystore")
}

# hex FILE: FILE's bytes in hex, one line.
hex() { od -An -tx1 -v "$1" | tr -d ' \n'; }

# pn532_decode TERMINAL HEX: journal_decode.py's reading of the journal export
# HEX of that terminal (its errors too), with the journal key and the issuer
# from KEYS (pn532_keys).
pn532_decode() {
    $PY tests/integration/journal_decode.py "$(sed -n 's/^key journal 1 //p' <<<"$KEYS")" \
        "0x$(sed -n 's/^issuer_id //p' <<<"$KEYS")" 7 "$1" "$2" 00 2>&1
}
