#!/bin/bash
# desk_classic.sh - the issuance desk on MIFARE Classic 1K and 4K end to end through
# `leal card ...`: issue, read, block, unblock, replace (Classic <-> Classic, DESFire
# <-> Classic) and erase, on the sim: reader, through the real pcscd (vpcd, PC/SC
# part 3 storage-card APDUs) and through the real libnfc (pn532_uart on the emulated
# PN532), with 4- and 7-byte UIDs. Then libnfc's nfc-mfclassic dumps an issued card
# with a keys file whose keys come from `openssl mac` (KEYS.md's inputs, not leal's
# code), and classic_dump_state.py (python3-cryptography's AES-SIV, from LAYOUT.md
# alone) opens the sealed records of the dump and prints the points.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"

pcscd_fixture cdesk
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="classic desk test passphrase"
export LIBNFC_AUTO_SCAN=false LIBNFC_LOG_LEVEL=0
DB=$XDG_DATA_HOME/leal/ledger.db

run_capture "$LEAL" keys init --issuer "Café Sol" --program 7
check_eq "keystore" 0 "$RC"
run_capture "$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1
check_eq "program 7" 0 "$RC"
for n in Ana Luis Marta Nuno Olga; do "$LEAL" customer add --program 7 --name "$n" >/dev/null; done
acct() { "$LEAL" customer show "$1" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["account"])'; }
field() { $PY -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
# Fields of a JSON answer, space-separated.
fields() { $PY -c 'import json,sys; d=json.load(sys.stdin); print(*(d[k] for k in sys.argv[1:]))' "$@"; }
status() { sqlite3 "$DB" "SELECT status FROM card WHERE card_id = $1" 2>&1; }
# EUR cents and points of a customer's account in the ledger.
balances() {
    "$LEAL" account show "$(acct "$1")" --json |
        $PY -c 'import json,sys; b=json.load(sys.stdin)["balances"]; print(b.get("EUR", 0), b.get("PTS", 0))'
}
# The verified view's second line: account and the card's status.
status_line() { sed -n 2p <<<"$1"; }
# The verified view of an active Classic card (layout version 1) with no stamps or taps:
# view CARD-ID TECHNOLOGY UID CUSTOMER POINTS
view() {
    printf '%-12s %s (%s, UID %s)\n%-12s %s, card active\n%-12s 0.00\n%-12s %s\n' \
        card "$1" "$2" "$3" account "$(acct "$4")" purse points "$5"
    printf '%-12s 0 0 0 0\n%-12s 0\n%-12s version 1\n%-12s agrees' stamps taps layout ledger
}
# The verified view without its last operations, and those with dates as DATE.
card_view() { sed '/^last /,$d' <<<"$1"; }
last_ops() { sed -n '/^last /,$p' <<<"$1" | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}/DATE/'; }
# The hot list of program 7 (terminals refuse these cards), "card:status" sorted.
hot() {
    "$LEAL" card hotlist --program 7 --json |
        $PY -c 'import json,sys; print(*sorted("%s:%s" % (c["card_id"], c["status"]) for c in json.load(sys.stdin)["cards"]))'
}
sorted() { printf '%s\n' "$@" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'; }
# A card's history from its issuance on: "status|reason|operator" a line.
history() {
    "$LEAL" card history "$1" --json |
        $PY -c 'import json,sys; [print("%s|%s|%s" % (e["status"], e["reason"], e["operator"])) for e in json.load(sys.stdin)["events"]]'
}

# --- sim: ---------------------------------------------------------------------
"$CARDSIM" new --type classic-1k --uid 04a2195c -o "$T/ana.json" >/dev/null
run_capture "$LEAL" card issue --customer 1 --reader "sim:$T/ana.json" --welcome-points 50 --json
check_eq "issue (Classic 1K) exits 0" 0 "$RC"
ANA=$(field card_id <<<"$OUT")
check_match "issued card id has 12 digits" "^[1-9][0-9]{11}$" "$ANA"
check_eq "issued: technology, purse, points, seq, agreement, round trips (6 + 24 + 19)" \
    "classic-1k 0 50 1 True 49" "$(fields technology purse_cents points state_seq agrees round_trips <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/ana.json"
check_eq "read exits 0" 0 "$RC"
check_eq "read: the verified view" "$(view "$ANA" classic-1k 04a2195c 1 50)" "$(card_view "$OUT")"
check_eq "read: the account's last operations" "last         DATE  earn     +50 points  welcome points" "$(last_ops "$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "read: 19 round trips (LAYOUT.md 3.3)" 19 "$(field round_trips <<<"$OUT")"
run_capture "$LEAL" card top-up 10 --reader "sim:$T/ana.json"
check_eq "top-up on Classic refused in one line" "1|leal: topping up the card: stored value is off on MIFARE Classic cards (Classic money can be copied); keep the money in the account or issue a DESFire card" "$RC|$ERR"
run_capture "$LEAL" card issue --customer 2 --reader "sim:$T/ana.json"
check_eq "an issued Classic card is refused, with whose it is" "leal: this card is already issued: card $ANA, account $(acct 1) (active); use a blank card, or 'leal card read' to see it" "$ERR"
"$CARDSIM" new --type classic-1k --uid 04a2195d -o "$T/topup.json" >/dev/null
run_capture "$LEAL" card issue --customer 2 --reader "sim:$T/topup.json" --topup 5
check_eq "an opening top-up on Classic is refused" 1 "$RC"
run_capture "$LEAL" card read --reader "sim:$T/topup.json"
check_eq "... and the card was not touched" "leal: reading the card: this card was not issued by leal" "$ERR"
# A bit flipped in the state slot with a terminal's key A: tampered.
cp "$T/ana.json" "$T/tampered.json"
$PY - "$T/tampered.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
b = bytearray.fromhex(d["blocks"][17]); b[5] ^= 1; d["blocks"][17] = b.hex()
json.dump(d, open(sys.argv[1], "w"))
PYEOF
run_capture "$LEAL" card read --reader "sim:$T/tampered.json"
check_eq "a flipped bit in the sealed state reads as TAMPERED" "1|leal: card $ANA does not verify: TAMPERED (its data or keys are not what leal wrote); keep the card and block it" "$RC|$ERR"

# Block and unblock: the ledger's hot list (the card is not written); the reason
# goes on the customer's record.
run_capture "$LEAL" card block "$ANA" --reason "lost at the market"
check_eq "block (Classic)" "0|card $ANA blocked; it goes on the hot list of the next terminal package" "$RC|$OUT"
run_capture "$LEAL" card read --reader "sim:$T/ana.json"
check_eq "a blocked Classic card reads as blocked" "0|account      $(acct 1), card blocked" "$RC|$(status_line "$OUT")"
check_eq "... and is on the hot list" "$ANA:blocked" "$(hot)"
run_capture "$LEAL" card issue --customer 2 --reader "sim:$T/ana.json"
check_eq "a blocked Classic card is refused at issuance, as blocked" "leal: this card is already issued: card $ANA, account $(acct 1) (blocked); use a blank card, or 'leal card read' to see it" "$ERR"
run_capture "$LEAL" card block "$ANA" --reason "twice"
check_eq "blocking a blocked card is refused" "2|leal: blocking the card: card $ANA is blocked: a card cannot change to that status from its current one" "$RC|$ERR"
run_capture "$LEAL" card unblock "$ANA" --reason "found in the bag"
check_eq "unblock (Classic)" "0|card $ANA unblocked" "$RC|$OUT"
run_capture "$LEAL" card read --reader "sim:$T/ana.json"
check_eq "unblocked, it reads as active again" "0|account      $(acct 1), card active" "$RC|$(status_line "$OUT")"
check_eq "both reasons are on the customer's record" "desk|card $ANA blocked: lost at the market
desk|card $ANA unblocked: found in the bag" \
    "$(sqlite3 "$DB" "SELECT author, text FROM customer_note WHERE text LIKE 'card $ANA %' ORDER BY id")"
check_eq "... and in the card's history in the ledger" "pending|issued|
active|verified at the desk|desk
blocked|lost at the market|desk
active|found in the bag|desk" "$(history "$ANA")"
check_eq "unblocked, it is off the hot list" "" "$(hot)"

# Erase: back to the transport state; the ledger keeps the card, as lost.
run_capture "$LEAL" card erase --yes --reader "sim:$T/ana.json"
check_eq "erase (Classic)" "erased card $ANA: factory state; its history stays in the ledger" "$OUT"
run_capture "$LEAL" card info --reader "sim:$T/ana.json"
check_match "every sector opens with the transport key A again" "factory key A \(FFFFFFFFFFFF\): 0-15" "$(echo $OUT)"
run_capture "$LEAL" card read --reader "sim:$T/ana.json"
check_eq "the erased card is nobody's" "leal: reading the card: this card was not issued by leal" "$ERR"
check_eq "the ledger keeps it, lost" "lost" "$(status "$ANA")"

# Replace Classic 1K -> Classic 4K with a 7-byte UID: the new card takes the points.
"$CARDSIM" new --type classic-4k --uid 04112233445566 -o "$T/ana4k.json" >/dev/null
run_capture "$LEAL" card replace --old "$ANA" --reader "sim:$T/ana4k.json" --json
check_eq "replace Classic -> Classic 4K (7-byte UID): result, technology, UID, points, purse, round trips" \
    "0 replaced classic-4k 04112233445566 50 0 49" \
    "$RC $(fields result technology uid points purse_cents round_trips <<<"$OUT")"
ANA4K=$(field card_id <<<"$OUT")
check_eq "the old card is replaced (hot list), the new one active" "replaced active" \
    "$(status "$ANA") $(status "$ANA4K")"
check_eq "the account keeps 0.00 EUR and 50 points" "0 50" "$(balances 1)"
run_capture "$LEAL" card read --reader "sim:$T/ana4k.json"
check_eq "read (Classic 4K, 7-byte UID)" "$(view "$ANA4K" classic-4k 04112233445566 1 50)" "$(card_view "$OUT")"
run_capture "$LEAL" card replace --old "$ANA" --reader "sim:$T/topup.json"
check_eq "a replaced card is not replaced twice" "2|leal: card $ANA was already replaced: a card cannot change to that status from its current one" "$RC|$ERR"
run_capture "$LEAL" card erase --yes --reader "sim:$T/ana4k.json" --json
check_eq "erase (Classic 4K): 52 round trips (LAYOUT.md 3.3)" "0 erased $ANA4K classic-4k 52" \
    "$RC $(fields result card_id technology round_trips <<<"$OUT")"
run_capture "$LEAL" card info --reader "sim:$T/ana4k.json"
check_match "every 4K sector opens with the transport key A again" "factory key A \(FFFFFFFFFFFF\): 0-39" "$(echo $OUT)"
check_eq "the ledger: 4K card lost, points kept" "lost|0 50" "$(status "$ANA4K")|$(balances 1)"

# DESFire holding money -> Classic: refused in one line before anything is
# written (stored value is off on Classic).
"$CARDSIM" new --type desfire-ev1 --uid 04d1d2d3d4d5d6 -o "$T/nuno-df.json" >/dev/null
run_capture "$LEAL" card issue --customer 4 --reader "sim:$T/nuno-df.json" --welcome-points 20 --topup 12,50 --json
NUNO_DF=$(field card_id <<<"$OUT")
check_eq "DESFire issued with 12.50 and 20 points" "0 1250 20" "$RC $(fields purse_cents points <<<"$OUT")"
"$CARDSIM" new --type classic-1k --uid 04d1d2d3 -o "$T/nuno-c.json" >/dev/null
run_capture "$LEAL" card replace --old "$NUNO_DF" --reader "sim:$T/nuno-c.json"
check_eq "DESFire with money -> Classic is refused in one line" "1|leal: card $NUNO_DF holds 12.50 EUR and stored value is off on MIFARE Classic cards (Classic money can be copied); replace it with a DESFire card (nothing was written)" "$RC|$ERR"
run_capture "$LEAL" card info --reader "sim:$T/nuno-c.json"
check_match "... the Classic card is still blank" "factory key A \(FFFFFFFFFFFF\): 0-15" "$(echo $OUT)"
check_eq "... the ledger: the DESFire card active and alone, 12.50 EUR and 20 points" "active|1|1250 20" \
    "$(status "$NUNO_DF")|$(sqlite3 "$DB" "SELECT count(*) FROM card WHERE account_id = $(acct 4)")|$(balances 4)"

# DESFire without money -> Classic -> DESFire: the points travel both ways.
"$CARDSIM" new --type desfire-ev3 --uid 04e1e2e3e4e5e6 -o "$T/olga-df.json" >/dev/null
run_capture "$LEAL" card issue --customer 5 --reader "sim:$T/olga-df.json" --welcome-points 30 --json
OLGA_DF=$(field card_id <<<"$OUT")
"$CARDSIM" new --type classic-1k --uid 04e1e2e3 -o "$T/olga-c.json" >/dev/null
run_capture "$LEAL" card replace --old "$OLGA_DF" --reader "sim:$T/olga-c.json" --json
check_eq "replace DESFire (no money) -> Classic: technology, points, purse, agreement" \
    "0 classic-1k 30 0 True" "$RC $(fields technology points purse_cents agrees <<<"$OUT")"
OLGA_C=$(field card_id <<<"$OUT")
"$CARDSIM" new --type desfire-ev1 --uid 04f1f2f3f4f5f6 -o "$T/olga-df2.json" >/dev/null
run_capture "$LEAL" card replace --old "$OLGA_C" --reader "sim:$T/olga-df2.json" --json
check_eq "replace Classic -> DESFire: technology, points, purse, agreement" \
    "0 desfire-ev1 30 0 True" "$RC $(fields technology points purse_cents agrees <<<"$OUT")"
OLGA_DF2=$(field card_id <<<"$OUT")
check_eq "the ledger: replaced, replaced, active; 0.00 EUR and 30 points" "replaced replaced active|0 30" \
    "$(status "$OLGA_DF") $(status "$OLGA_C") $(status "$OLGA_DF2")|$(balances 5)"
run_capture "$LEAL" card read --reader "sim:$T/olga-c.json"
# Issue 10 §1: a replaced card still carrying points is a disagreement, with
# the card that took them over, recorded in its history; nothing moves.
check_eq "the replaced Classic card still holding its points reads as a difference" \
    "1|account      $(acct 5), card replaced|ledger       DIFFERS: the card was replaced by card $OLGA_DF2 and still holds 30 points, which the ledger moved to that card: keep it" \
    "$RC|$(status_line "$OUT")|$(grep "^ledger " <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/olga-df.json"
check_eq "... and so does the replaced DESFire card" \
    "1|account      $(acct 5), card replaced|ledger       DIFFERS: the card was replaced by card $OLGA_C and still holds 30 points, which the ledger moved to that card: keep it" \
    "$RC|$(status_line "$OUT")|$(grep "^ledger " <<<"$OUT")"
check_eq "the ledger still holds 0.00 EUR and 30 points" "0 30" "$(balances 5)"
check_eq "the hot list: every replaced and lost card, not the live ones" \
    "$(sorted "$ANA:replaced" "$ANA4K:lost" "$OLGA_DF:replaced" "$OLGA_C:replaced")" "$(hot)"
check_eq "the history says which card replaced which, and what the old card still holds" \
    "replaced|replaced by card $OLGA_DF2|desk / replaced|the card was replaced by card $OLGA_DF2 and still holds 30 points, which the ledger moved to that card: keep it|desk" \
    "$(history "$OLGA_C" | tail -2 | paste -sd/ | sed 's|/| / |')"

# --- pcscd --------------------------------------------------------------------
if pcscd_start "$T"; then
    pass "pcscd with a vpcd reader on port $VPCD_PORT"
    PC=(--reader "pcsc:$PCSC_READER" --allow-virtual)
    "$CARDSIM" new --type classic-1k --uid 04010203 -o "$T/luis.json" >/dev/null
    "$CARDSIM" new --type classic-4k --uid 04717273747576 -o "$T/luis4k.json" >/dev/null
    "$CARDSIM" serve --vpcd "$VPCD_PORT" --control "$T/ctl" "$T/luis.json" 2>"$T/serve.log" &
    SIM_PID=$!
    pcscd_wait present || fail "card present in pcscd" "$(pcscd_card_state)"
    run_capture "$LEAL" card issue --customer 2 "${PC[@]}" --welcome-points 5 --json
    check_eq "issue (Classic) through pcscd" "0 classic-1k 5 49" "$RC $(fields technology points round_trips <<<"$OUT")"
    LUIS=$(field card_id <<<"$OUT")
    run_capture "$LEAL" card read "${PC[@]}"
    check_eq "read through pcscd exits 0" 0 "$RC"
    PCSC_READ=$OUT
    "$LEAL" card block "$LUIS" --reason "stolen" >/dev/null
    run_capture "$LEAL" card read "${PC[@]}"
    check_eq "blocked, read through pcscd" "0|account      $(acct 2), card blocked" "$RC|$(status_line "$OUT")"
    "$LEAL" card unblock "$LUIS" --reason "it was in the car" >/dev/null
    run_capture "$LEAL" card read "${PC[@]}"
    check_eq "unblocked, read through pcscd equals the first read" "$PCSC_READ" "$OUT"
    run_capture "$LEAL" card erase --yes "${PC[@]}" --json
    check_eq "erase (Classic) through pcscd: 52 round trips" "0 erased $LUIS classic-1k 52" \
        "$RC $(fields result card_id technology round_trips <<<"$OUT")"
    run_capture "$LEAL" card read "${PC[@]}"
    check_eq "erased, read through pcscd" "leal: reading the card: this card was not issued by leal" "$ERR"
    # Another card in the reader: a Classic 4K with a 7-byte UID.
    echo remove >"$T/ctl"
    pcscd_wait absent || fail "card removed in pcscd" "$(pcscd_card_state)"
    echo "load $T/luis4k.json" >"$T/ctl"
    pcscd_wait present || fail "the 4K card present in pcscd" "$(pcscd_card_state)"
    run_capture "$LEAL" card replace --old "$LUIS" "${PC[@]}" --json
    check_eq "replace Classic -> Classic 4K (7-byte UID) through pcscd" "0 classic-4k 04717273747576 5 49" \
        "$RC $(fields technology uid points round_trips <<<"$OUT")"
    LUIS4K=$(field card_id <<<"$OUT")
    check_eq "the ledger: old replaced, new active, 5 points" "replaced active|0 5" \
        "$(status "$LUIS") $(status "$LUIS4K")|$(balances 2)"
    check_match "the old card is on the hot list, the new one is not" "(^| )$LUIS:replaced( |$)" \
        "$(hot | grep -v "$LUIS4K")"
    run_capture "$LEAL" card read "${PC[@]}"
    check_eq "read (Classic 4K) through pcscd exits 0" 0 "$RC"
    PCSC_READ=$OUT
    stop_sim
    run_capture "$LEAL" card read --reader "sim:$T/luis4k.json"
    check_eq "read through pcscd equals read through sim:" "$PCSC_READ" "$OUT"
    run_capture "$LEAL" card info --reader "sim:$T/luis.json"
    check_match "the erased 1K card is in the transport state" "factory key A \(FFFFFFFFFFFF\): 0-15" "$(echo $OUT)"
else
    fail "a pcscd with a vpcd reader" "no pcscd could be started"
fi

# --- libnfc, then nfc-mfclassic and Python ------------------------------------
# serve_pn CARD.json: the card behind a fresh emulated PN532 (LIBNFC_DEVICE set).
serve_pn() {
    stop_sim
    rm -f "$T/pn532"
    "$CARDSIM" serve --pn532 "$T/pn532" "$1" >>"$T/pn532.log" 2>&1 &
    SIM_PID=$!
    for _ in $(seq 50); do [ -L "$T/pn532" ] && break; sleep 0.1; done
    export LIBNFC_DEVICE="pn532_uart:$(readlink "$T/pn532")"
    NFC=(--reader "nfc:$LIBNFC_DEVICE")
}
"$CARDSIM" new --type classic-1k --uid 04c0ffee -o "$T/pn.json" >/dev/null
serve_pn "$T/pn.json"
run_capture "$LEAL" card issue --customer 3 "${NFC[@]}" --welcome-points 7 --json
check_eq "issue (Classic) through libnfc and the PN532" "0 classic-1k 7 49" \
    "$RC $(fields technology points round_trips <<<"$OUT")"
PN=$(field card_id <<<"$OUT")
run_capture "$LEAL" card read "${NFC[@]}"
check_match "read through libnfc" "^card         $PN \(classic-1k, UID 04c0ffee\)" "$OUT"

# Sector keys outside leal: key A of sector s = the first 6 bytes of
# CMAC(classic-a master, 01 || UID || 4C 01 s || "LEAL" || issuer || program)
# (LAYOUT.md 3.1; 01 || M is 20 bytes, so CMAC's padding is AN10922's).
DEC=$(PASS="$LEAL_PASSPHRASE" $PY tests/integration/keystore_decode.py "$XDG_DATA_HOME/leal/keystore")
MA=$(sed -n 's/^key classic-a 1 //p' <<<"$DEC")
MS=$(sed -n 's/^key classic-seal 1 //p' <<<"$DEC")
ISSUER=$(sed -n 's/^issuer_id //p' <<<"$DEC")
ckey() {
    $PY -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' \
        "0104c0ffee4c01$(printf %02x "$1")4c45414c${ISSUER}00000007" |
        openssl mac -cipher AES-128-CBC -macopt "hexkey:$MA" CMAC | cut -c1-12 | tr 'A-F' 'a-f'
}
# The keys file: nfc-mfclassic takes key A of a sector from bytes 0-5 of its trailer.
KEYS_HEX=""
for s in $(seq 0 15); do
    case $s in
    0) KA=a0a1a2a3a4a5 ;;
    [1-5]) KA=$(ckey "$s") ;;
    *) KA=ffffffffffff ;;
    esac
    if [ "$s" = 0 ]; then KEYS_HEX+="04c0ffee$(printf '%024d' 0)"; else KEYS_HEX+=$(printf '%032d' 0); fi
    KEYS_HEX+="$(printf '%064d' 0)${KA}ff078069ffffffffffff"
done
$PY -c 'import sys; open(sys.argv[1], "wb").write(bytes.fromhex(sys.argv[2]))' "$T/keys.mfd" "$KEYS_HEX"
check_match "openssl mac computed sector 4's key A" "^[0-9a-f]{12}$" "$(ckey 4)"
serve_pn "$T/pn.json"
run_capture nfc-mfclassic r a u "$T/dump.mfd" "$T/keys.mfd" f
check_eq "nfc-mfclassic dumps the issued card with the openssl keys" 0 "$RC"
check_eq "the dump holds 64 blocks" 1024 "$(stat -c %s "$T/dump.mfd" 2>/dev/null)"
run_capture $PY tests/integration/classic_dump_state.py "$T/dump.mfd" "$MS" "$ISSUER" 7
check_eq "Python (AES-SIV from LAYOUT.md) opens the dump's sealed records" \
    "card $PN seq 1 points 7" "$OUT"

# Block, unblock, erase, and replace Classic -> DESFire -> Classic 4K (7-byte
# UID) through libnfc.
serve_pn "$T/pn.json"
"$LEAL" card block "$PN" --reason "left at the till" >/dev/null
run_capture "$LEAL" card read "${NFC[@]}"
check_eq "blocked, read through libnfc" "0|account      $(acct 3), card blocked" "$RC|$(status_line "$OUT")"
"$LEAL" card unblock "$PN" --reason "collected" >/dev/null
run_capture "$LEAL" card read "${NFC[@]}"
check_eq "unblocked, read through libnfc" "0|account      $(acct 3), card active" "$RC|$(status_line "$OUT")"
run_capture "$LEAL" card erase --yes "${NFC[@]}" --json
check_eq "erase (Classic) through libnfc: 52 round trips" "0 erased $PN classic-1k 52" \
    "$RC $(fields result card_id technology round_trips <<<"$OUT")"
run_capture "$LEAL" card read "${NFC[@]}"
check_eq "erased, read through libnfc" "leal: reading the card: this card was not issued by leal" "$ERR"
"$CARDSIM" new --type desfire-ev1 --uid 04818283848586 -o "$T/pn-df.json" >/dev/null
serve_pn "$T/pn-df.json"
run_capture "$LEAL" card replace --old "$PN" "${NFC[@]}" --json
check_eq "replace Classic -> DESFire through libnfc" "0 desfire-ev1 7 0" \
    "$RC $(fields technology points purse_cents <<<"$OUT")"
PN_DF=$(field card_id <<<"$OUT")
"$CARDSIM" new --type classic-4k --uid 04919293949596 -o "$T/pn4k.json" >/dev/null
serve_pn "$T/pn4k.json"
run_capture "$LEAL" card replace --old "$PN_DF" "${NFC[@]}" --json
check_eq "replace DESFire -> Classic 4K (7-byte UID) through libnfc" "0 classic-4k 04919293949596 7 49" \
    "$RC $(fields technology uid points round_trips <<<"$OUT")"
PN4K=$(field card_id <<<"$OUT")
run_capture "$LEAL" card read "${NFC[@]}"
check_eq "read (Classic 4K) through libnfc" "$(view "$PN4K" classic-4k 04919293949596 3 7)" "$(card_view "$OUT")"
run_capture "$LEAL" card erase --yes "${NFC[@]}" --json
check_eq "erase (Classic 4K) through libnfc: 52 round trips" "0 erased $PN4K classic-4k 52" \
    "$RC $(fields result card_id technology round_trips <<<"$OUT")"
check_eq "the ledger: replaced, replaced, lost; 0.00 EUR and 7 points" "replaced replaced lost|0 7" \
    "$(status "$PN") $(status "$PN_DF") $(status "$PN4K")|$(balances 3)"
check_match "both replaced cards on the hot list" "$PN:replaced .*$PN_DF:replaced|$PN_DF:replaced .*$PN:replaced" "$(hot)"
check_match "... the 4K card too" "(^| )$PN4K:lost( |$)" "$(hot)"
stop_sim

run_capture "$LEAL" ledger verify
check_eq "the ledger verifies" 0 "$RC"
finish
