#!/bin/bash
# desk_ev2.sh - the issuance desk on DESFire EV2 and EV3 under EV2 secure
# messaging (issue 19), through each reader leal has: the virtual card
# in-process (sim:), the real pcscd in front of leal-cardsim's vpcd (pcsc:)
# and libnfc 1.8's pn532_uart driver on leal-cardsim's emulated PN532 (nfc:).
# On each, an EV2 and an EV3 (originality-signed with the test key): issued
# with 20.00, topped up 12,50, a bono of 10 sessions sold, every key role
# rotated and the card re-keyed by the next read, read again; each with its
# exact figures, and with LEAL_TRACE=apdu showing AuthenticateEV2First (71)
# and never AuthenticateAES (AA) on the card. Through pcscd, the independent
# Python EV2 client (tests/interop/ev2_client.py) then reads the card;
# `leal desk --stdio` reads and tops up one under EV2 too. A
# clone of the EV2 answering 71 as an EV1 is refused. An EV1 beside them
# keeps AA and never sees 71. Every process this starts, it stops.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"

pcscd_fixture desk-ev2 SPID
export LIBNFC_AUTO_SCAN=false LIBNFC_LOG_LEVEL=0
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="desk ev2 passphrase"
json() { $PY -c "import json,sys; d=json.load(sys.stdin); print(' '.join(str(d[k]) for k in sys.argv[1:]))" "$@"; }
source tests/lib/pn532.sh

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
run_capture "$LEAL" bono add --program 7 --name "10 masajes" --sessions 10 --price 45 \
    --valid-days 365 --reason "bonos"
check_eq "bono kind 1 defined" "0|bono 1 added (program 7, rule set version 1)" "$RC|$OUT"
N=0
for c in sim-ev2 sim-ev3 pcsc-ev2 pcsc-ev3 nfc-ev2 nfc-ev3 sim-ev1; do
    N=$((N + 1))
    "$LEAL" customer add --program 7 --name "c$N" >/dev/null
    "$CARDSIM" new --type "desfire-${c##*-}" --uid "0455667788990$N" -o "$T/$c.json" >/dev/null
done
VER=1
KS=$XDG_DATA_HOME/leal/keystore
source tests/lib/terminal_key.sh
card_file() { # CARD.json FILE-NO: the file's data as the virtual card stores it
    $PY -c '
import json, sys
app = [a for a in json.load(open(sys.argv[1]))["apps"] if a["aid"] == "41454c"][0]
print([f for f in app["files"] if f["no"] == int(sys.argv[2])][0]["data"])' "$1" "$2"
}

# sm: the AuthenticateEV2First and AuthenticateAES commands in the
# trace on $ERR, and whether it holds ChangeKey: "71 AA C4".
sm() {
    printf '%s %s %s' "$(grep -c '^leal: trace: > 90 71 00 00' <<<"$ERR")" \
        "$(grep -c '^leal: trace: > 90 AA 00 00' <<<"$ERR")" \
        "$(grep -c '^leal: trace: > 90 C4 00 00' <<<"$ERR")"
}

# story WHERE CARD CUSTOMER READER...: the desk's operations on one card.
story() {
    local w=$1 c=$2 n=$3
    shift 3
    LEAL_TRACE=apdu run_capture "$LEAL" card issue --customer "$n" "$@" --topup 20 --json
    check_eq "$w $c: issued with 20.00 (exit, purse, stored value)" "0 2000 True" \
        "$RC $(json purse_cents stored_value <<<"$OUT")"
    # 71 for key 0 (files), the terminal key (verify) and key 1 (the top-up); the
    # factory DES key opens the PICC and its ChangeKey makes the PICC key
    # leal's; keys 2, 1, 0 changed under EV2.
    check_eq "$w $c: issuance under EV2 (71, AA, C4 sent)" "3 0 4" "$(sm)"
    LEAL_TRACE=apdu run_capture "$LEAL" card top-up 12,50 "$@" --json
    check_eq "$w $c: top-up 12,50 -> 32.50, the ledger agrees" "0 3250 True" \
        "$RC $(json purse_cents agrees <<<"$OUT")"
    check_eq "$w $c: top-up under EV2 (terminal key, then key 1)" "2 0 0" "$(sm)"
    LEAL_TRACE=apdu run_capture "$LEAL" bono sell --kind "10 masajes" "$@" --json
    check_eq "$w $c: a bono sold (10 sessions, the ledger's 10, 10 + 3 RT: the read with its TMC)" "0|bono-sold 10 10 13" \
        "$RC|$(json result sessions_left ledger_sessions round_trips <<<"$OUT")"
    check_eq "$w $c: bono sale under EV2" "1 0 0" "$(sm)"
    VER=$((VER + 1))
    for role in terminal app-master purse-credit picc-master; do
        run_capture "$LEAL" keys rotate "$role"
        check_match "$w $c: rotate $role" "^program 7: $role is now at version $VER " "$OUT"
    done
    LEAL_TRACE=apdu run_capture "$LEAL" card read "$@" --json
    check_eq "$w $c: the read re-keys the card (4 keys), 32.50, agrees" "0 4 3250 True" \
        "$RC $(json keys_updated purse_cents agrees <<<"$OUT")"
    # The read (71 with the terminal key at its old version: refused, then
    # GetKeyVersion and the one it names), key 0 (ChangeKey 2, 1, 0), the
    # PICC master key (ChangeKey 80): every one under EV2.
    check_eq "$w $c: the re-key under EV2 (71 sent, no AA, 4 ChangeKey)" "0 4" \
        "$(grep -c '^leal: trace: > 90 AA 00 00' <<<"$ERR") $(grep -c '^leal: trace: > 90 C4 00 00' <<<"$ERR")"
    LEAL_TRACE=apdu run_capture "$LEAL" card read "$@" --json
    check_eq "$w $c: read again: nothing to re-key, 32.50, 10 sessions, agrees, 10 RT (9 + the Transaction MAC file)" \
        "0 0 3250 True 10 10" \
        "$RC $(json keys_updated purse_cents agrees round_trips <<<"$OUT") $($PY -c 'import json,sys; print(json.load(sys.stdin)["bonos"][0]["sessions"])' <<<"$OUT")"
    check_eq "$w $c: the read under EV2" "1 0 0" "$(sm)"
}

# --- sim: (in-process)
story sim sim-ev2 1 --reader "sim:$T/sim-ev2.json"
story sim sim-ev3 2 --reader "sim:$T/sim-ev3.json"

# LAYOUT.md 2.9: each EV2/EV3 holds the Transaction MAC file 0x0F (MACed,
# access F02F), keyed with the tmac role's version 1 as another implementation
# diversifies it for the card; its TMC is 3: the opening top-up, the top-up and
# the bono sale committed, the issuance (file made after its commit), the
# re-keying and the reads did not.
tmac_file() { # CARD.json: comm access key_version key data of file 0x0F, or "none"
    $PY -c '
import json, sys
app = [a for a in json.load(open(sys.argv[1]))["apps"] if a["aid"] == "41454c"][0]
f = [f for f in app["files"] if f["no"] == 15]
print("none" if not f else "%d %04x %d %s %s" % (f[0]["comm"], f[0]["access"], f[0]["key_version"], f[0]["key"], f[0]["data"][:8]))' "$1"
}
check_eq "sim EV2: the Transaction MAC file, the card's tmac key, TMC 3" \
    "1 2ff0 1 $(card_role_key tmac 1 04556677889901) 03000000" "$(tmac_file "$T/sim-ev2.json")"
check_eq "sim EV3: the Transaction MAC file, the card's tmac key, TMC 3" \
    "1 2ff0 1 $(card_role_key tmac 1 04556677889902) 03000000" "$(tmac_file "$T/sim-ev3.json")"

# The desk's card loop (leal desk --stdio) on the EV2: a read and a top-up
# of 1,00 under EV2 messaging, never AA. The EV3's story rotated every key
# again, so the read re-keys the card first: 71 for the terminal key, key 0
# and the PICC master key, then the terminal key and key 1 for the top-up.
LEAL_TRACE=apdu run_capture timeout 60 "$LEAL" desk --stdio --reader "sim:$T/sim-ev2.json" \
    <<<$'read\ntopup 1\nquit'
check_eq "leal desk --stdio on the EV2: re-key, read, top-up 1,00 -> 33.50 (exit, 71, AA)" "0 5 0" \
    "$RC $(sm | cut -d' ' -f1,2)"
check_match "... the top-up's line" "^topped-up card [0-9]+ \(desfire-ev2, UID 04556677889901\): .*purse 33\.50, .*ledger agrees$" "$OUT"

# A clone that answers 71 as an EV1 would (the EV2's file with its type
# changed: the same keys and files): the ledger records an EV2, so the desk
# refuses it rather than fall back to AA, and writes nothing.
$PY -c 'import json, sys; d = json.load(open(sys.argv[1])); d["type"] = "desfire-ev1"
json.dump(d, open(sys.argv[2], "w"))' "$T/sim-ev2.json" "$T/downgrade.json"
cp "$T/downgrade.json" "$T/downgrade.before"
LEAL_TRACE=apdu run_capture "$LEAL" card read --reader "sim:$T/downgrade.json"
check_eq "an EV2 on record answering 71 as an EV1: refused, AA never sent" \
    "1|1 0|leal: reading the card: card does not support this command" \
    "$RC|$(sm | cut -d' ' -f1,2)|$(grep -v '^leal: trace: ' <<<"$ERR")"
check_eq "... and nothing written to it (its applications as before)" "same" \
    "$($PY -c 'import json, sys; a, b = (json.load(open(f))["apps"] for f in sys.argv[1:]); print("same" if a == b else "changed")' "$T/downgrade.before" "$T/downgrade.json")"

# --- pcsc: the real pcscd in front of leal-cardsim serve --vpcd
# After the story, tests/interop/ev2_client.py (pyscard, written from AN12196
# and AN12343 alone) opens the card with AuthenticateEV2First and the terminal
# key, reads the state file in MAC mode (36 bytes: an EV2/EV3 issued now is at
# layout 3, its purse mirror 3250 at the end, cardlayout/LAYOUT.md 2.10) and
# the purse in full mode; the
# previous version of the terminal key does not open it.
vpcd_story() {
    local uid="0455667788990$2" client= client_rc=
    "$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/pcsc-$1.json" 2>"$T/serve-$1.log" &
    SIM_PID=$!
    if pcscd_wait present; then
        story pcscd "pcsc-$1" "$2" --reader "pcsc:$PCSC_READER" --allow-virtual
        run_capture timeout 60 $PY tests/interop/ev2_client.py "$PCSC_READER" 4c4541 2 \
            "$(terminal_key "$VER" "$uid")" 2 36 3
        client=$OUT client_rc=$RC
        run_capture timeout 60 $PY tests/interop/ev2_client.py "$PCSC_READER" 4c4541 2 \
            "$(terminal_key "$((VER - 1))" "$uid")" 2 32 3
        check_eq "ev2_client $1: the previous terminal key is refused" \
            "1|ev2_client: AuthenticateEV2First: the card did not accept the key (91AE)" "$RC|$ERR"
    else
        fail "pcscd: the virtual $1 present" "$(pcscd_card_state)"
    fi
    kill "$SIM_PID"
    wait "$SIM_PID"
    check_eq "pcscd: cardsim $1 stopped cleanly" 0 "$?"
    SIM_PID=
    pcscd_wait absent || true
    check_eq "ev2_client $1: MAC-mode state file as the card stores it, purse 3250 in full mode" \
        "0|file 02 $(card_file "$T/pcsc-$1.json" 2)|value 03 3250|cmdctr 2" \
        "$client_rc|$(grep -v '^ti ' <<<"$client" | paste -sd'|')"
    check_match "ev2_client $1: a TI from the card" "^ti [0-9a-f]{8}$" "$(head -1 <<<"$client")"
}
if pcscd_start "$T"; then
    vpcd_story ev2 3
    vpcd_story ev3 4
else
    fail "pcscd started"
fi

# --- nfc: libnfc's pn532_uart and the emulated PN532
N=5
for k in ev2 ev3; do
    serve "$T/nfc-$k.json"
    story libnfc "nfc-$k" "$N" --reader "$NFC"
    unserve
    N=$((N + 1))
done

# An EV1 beside them: AA as before, 71 never sent.
LEAL_TRACE=apdu run_capture "$LEAL" card issue --customer 7 --reader "sim:$T/sim-ev1.json" --topup 20 --json
check_eq "sim EV1: issued with 20.00" "0 2000" "$RC $(json purse_cents <<<"$OUT")"
check_eq "sim EV1: issuance under AA (71, AA, C4 sent)" "0 3 4" "$(sm)"
check_eq "sim EV1: no Transaction MAC file" "none" "$(tmac_file "$T/sim-ev1.json")"
LEAL_TRACE=apdu run_capture "$LEAL" card read --reader "sim:$T/sim-ev1.json" --json
check_eq "sim EV1: read under AA (exit, 71, AA), 20.00, agrees" "0 0 1 2000 True" "$(sm | cut -d' ' -f1,2 | sed "s/^/$RC /") $(json purse_cents agrees <<<"$OUT")"

# The books: each EV2/EV3 account holds 32.50 and 10 sessions of bono 1.
DB=$XDG_DATA_HOME/leal/ledger.db
check_eq "ledger: five accounts at 32.50 EUR, the desk loop's at 33.50, six with BONO:1 10" "5 1 6" \
    "$(sqlite3 "$DB" "SELECT count(*) FROM balance WHERE asset = 'EUR' AND amount = 3250") $(sqlite3 "$DB" "SELECT count(*) FROM balance WHERE asset = 'EUR' AND amount = 3350") $(sqlite3 "$DB" "SELECT count(*) FROM balance WHERE asset = 'BONO:1' AND amount = 10")"
run_capture "$LEAL" ledger verify
check_eq "ledger verify" 0 "$RC"
finish
