#!/bin/bash
# desk_classic_purse.sh - stored value per program: `leal program create|set|show`
# with --purse-cap and --classic-stored-value-cap (bad input refused in one line,
# exit 2, database unchanged; Classic stored value off unless asked for); the
# DESFire purse file's limit from the program's cap; and MIFARE Classic stored
# value end to end through sim:, the real pcscd (vpcd) and the real libnfc (the
# emulated PN532): the opening top-up and `leal card top-up` with exact purse,
# seq and ledger, the cap, pending top-ups settled by the next read (LAYOUT.md
# 3.3), and the round trips (23 for a top-up).
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"

pcscd_fixture cpurse
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="classic purse test passphrase"
export LIBNFC_AUTO_SCAN=false LIBNFC_LOG_LEVEL=0
DB=$XDG_DATA_HOME/leal/ledger.db
field() { $PY -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
caps() { sqlite3 "$DB" "SELECT purse_cap_cents || ' ' || classic_stored_value_cap_cents FROM program WHERE id = $1" 2>&1; }

# --- program settings ---------------------------------------------------------
run_capture "$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 --json
check_eq "program create: purse cap 1000.00 and Classic stored value off by default" \
    '0|{"id":7,"code":"sol","name":"Café Sol","kind":"single","points_per_euro_milli":1000,"points_expiry_days":0,"purse_cap_cents":100000,"classic_stored_value_cap_cents":0,"max_cents_per_operation":100000,"max_units_per_operation":100000,"locale":"en"}' \
    "$RC|$OUT"
run_capture "$LEAL" program create --code luna --name Luna --id 8 --purse-cap 200 --classic-stored-value-cap 12,50
check_eq "program create with both caps (12,50 accepted)" "0|program 8 created (luna)|20000 1250" "$RC|$OUT|$(caps 8)"
run_capture "$LEAL" program show 8
check_eq "program show" "program          8 (luna)
name             Luna
kind             single
locale           en
points           1.00 per euro
points expire    never
purse cap        200.00
Classic purse    on, up to 12.50 a card
one operation    1000.00 EUR, 100000 points or stamps" "$OUT"
run_capture "$LEAL" program set 7 --purse-cap 150 --classic-stored-value-cap 50 --json
check_eq "program set: both caps" "0 15000 5000 15000 5000" \
    "$RC $($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["purse_cap_cents"], d["classic_stored_value_cap_cents"])' <<<"$OUT") $(caps 7)"
run_capture "$LEAL" program set 7 --classic-stored-value-cap off
check_eq "program set: Classic stored value off again" "0|15000 0" "$RC|$(caps 7)"
check_match "... and show says so" "^Classic purse    off$" "$OUT"

# Bad input: one line, exit 2, nothing written.
bad() { # NAME EXPECTED-ERR ARGS...
    local name=$1 want=$2 before
    shift 2
    before=$(sqlite3 "$DB" "SELECT group_concat(id || ':' || purse_cap_cents || ':' || classic_stored_value_cap_cents) FROM program")
    run_capture "$LEAL" "$@"
    check_eq "$name" "2|$want|$before" \
        "$RC|$ERR|$(sqlite3 "$DB" "SELECT group_concat(id || ':' || purse_cap_cents || ':' || classic_stored_value_cap_cents) FROM program")"
}
bad "a thousands separator" \
    "leal: --purse-cap '1.000,00': write euros like 200 or 12,50 (0 to 21474836.47) (see 'leal --help')" \
    program create --code x --name X --purse-cap 1.000,00
bad "three decimals" \
    "leal: --classic-stored-value-cap '1,234': write euros like 200 or 12,50 (0 to 21474836.47), or off (see 'leal --help')" \
    program set 7 --classic-stored-value-cap 1,234
bad "a negative cap" \
    "leal: --purse-cap '-5': write euros like 200 or 12,50 (0 to 21474836.47) (see 'leal --help')" \
    program set 7 --purse-cap -5
bad "off is not a purse cap" \
    "leal: --purse-cap 'off': write euros like 200 or 12,50 (0 to 21474836.47) (see 'leal --help')" \
    program set 7 --purse-cap off
bad "a cap above a DESFire value file's range" \
    "leal: --purse-cap '21474836.48': write euros like 200 or 12,50 (0 to 21474836.47) (see 'leal --help')" \
    program create --code x --name X --purse-cap 21474836.48
bad "a Classic cap above the purse cap (create)" \
    "leal: --classic-stored-value-cap 300.00 is above the purse cap 200.00; raise --purse-cap or lower it (see 'leal --help')" \
    program create --code x --name X --purse-cap 200 --classic-stored-value-cap 300
bad "a Classic cap above the program's purse cap (set)" \
    "leal: --classic-stored-value-cap 150.01 is above the purse cap 150.00; raise --purse-cap or lower it (see 'leal --help')" \
    program set 7 --classic-stored-value-cap 150,01
bad "a purse cap below the program's Classic cap (set)" \
    "leal: --classic-stored-value-cap 12.50 is above the purse cap 10.00; raise --purse-cap or lower it (see 'leal --help')" \
    program set 8 --purse-cap 10
bad "set with nothing to set" \
    "leal: leal program set needs --purse-cap, --classic-stored-value-cap, --max-euros-per-operation or --max-points-per-operation (see 'leal --help')" \
    program set 7
bad "an unknown program" "leal: program: program 9: no such id" program set 9 --purse-cap 10
bad "a malformed program id" "leal: leal program show: bad program id 'x7' (see 'leal --help')" program show x7
check_eq "nothing was created by the refused commands" 2 "$(sqlite3 "$DB" 'SELECT count(*) FROM program')"

# --- DESFire: the purse file's upper limit is the program's cap ----------------
run_capture "$LEAL" keys init --issuer "Café Sol" --program 7
check_eq "keystore" 0 "$RC"
for n in Ana Luis Marta Pedro; do "$LEAL" customer add --program 7 --name "$n" >/dev/null; done
run_capture "$LEAL" program set 7 --purse-cap 200 --classic-stored-value-cap off
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/df.json" >/dev/null
run_capture "$LEAL" card issue --customer 4 --reader "sim:$T/df.json" --topup 200,01
check_eq "an opening top-up over the purse cap is refused before anything is written" \
    "1|leal: issuing the card refused: the new card's purse would hold more than the program's purse cap of 200.00; nothing was written|0" \
    "$RC|$ERR|$(sqlite3 "$DB" 'SELECT count(*) FROM card')"
run_capture "$LEAL" card issue --customer 4 --reader "sim:$T/df.json" --topup 150 --json
check_eq "DESFire issued under a 200.00 cap with 150.00" "0 15000" "$RC $(field purse_cents <<<"$OUT")"
DF=$(field card_id <<<"$OUT")
check_eq "the card file's purse upper limit is 20000 cents" 20000 \
    "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(*[f["upper"] for a in d["apps"] if a["aid"] == "41454c" for f in a["files"] if f["no"] == 3])' "$T/df.json")"
run_capture "$LEAL" card top-up 50,01 --reader "sim:$T/df.json"
check_eq "a top-up over the program's cap is refused in one line" \
    "1|leal: top-up of card $DF refused: 150.00 on the card plus 50.01 would pass the program's purse cap of 200.00; nothing was written" \
    "$RC|$ERR"
run_capture "$LEAL" program set 7 --purse-cap 500
run_capture "$LEAL" card top-up 60 --reader "sim:$T/df.json"
check_eq "raised cap: the card keeps its own limit and refuses" \
    "1|leal: top-up of card $DF refused by the card: 150.00 on it plus 60.00 passes the purse limit it was issued with (the program's cap is now 500.00); replace the card to raise it; nothing was written" \
    "$RC|$ERR"
run_capture "$LEAL" card read --reader "sim:$T/df.json" --json
check_eq "... the card and the ledger still hold 150.00" "0 15000 15000 True" \
    "$RC $($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["purse_cents"], d["ledger_eur_cents"], d["agrees"])' <<<"$OUT")"
run_capture "$LEAL" card top-up 50 --reader "sim:$T/df.json" --json
check_eq "up to the card's limit it is accepted" "0 20000" "$RC $(field purse_cents <<<"$OUT")"

# --- Classic on sim: -----------------------------------------------------------
# Customers 1 (Ana) .. 3 get Classic cards; 5 and 6 below.
for n in Sofia Juan; do "$LEAL" customer add --program 7 --name "$n" >/dev/null; done
acct() { "$LEAL" customer show "$1" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["account"])'; }
eur() { sqlite3 "$DB" "SELECT coalesce((SELECT amount FROM balance WHERE account_id = $(acct "$1") AND asset = 'EUR'), 0)"; }
view() { $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["purse_cents"], d["state_seq"], d["points"], d["ledger_eur_cents"], d["agrees"], d["stored_value"], d["round_trips"])'; }
pendings() { sqlite3 "$DB" "SELECT count(*) FROM card_pending_topup"; }

# Issued while the program has Classic stored value off: the card carries none.
"$CARDSIM" new --type classic-1k --uid 04a2195c -o "$T/ana.json" >/dev/null
run_capture "$LEAL" card issue --customer 1 --reader "sim:$T/ana.json" --json
check_eq "Classic issued with stored value off: no purse on it" "0 0 1 0 0 True False 49" "$RC $(view <<<"$OUT")"
run_capture "$LEAL" card issue --customer 2 --reader "sim:$T/ana.json" --topup 5
check_eq "the existing card refuses a second issuance" 1 "$RC"
"$CARDSIM" new --type classic-1k --uid 04a2195d -o "$T/luis.json" >/dev/null
run_capture "$LEAL" card issue --customer 2 --reader "sim:$T/luis.json" --topup 5
check_eq "an opening top-up on Classic while the program has it off: refused, nothing written" \
    "1|leal: issuing the card: stored value is off on MIFARE Classic cards (Classic money can be copied); keep the money in the account or issue a DESFire card|2" \
    "$RC|$ERR|$(sqlite3 "$DB" 'SELECT count(*) FROM card')"

# The program turns it on with a cap of 50,00.
run_capture "$LEAL" program set 7 --classic-stored-value-cap 50
check_eq "program set: Classic stored value up to 50.00" "0|50000 5000" "$RC|$(caps 7)"
run_capture "$LEAL" card top-up 10 --reader "sim:$T/ana.json"
check_eq "a card issued while it was off stays off (its signed flag)" \
    "1|leal: topping up the card: stored value is off on MIFARE Classic cards (Classic money can be copied); keep the money in the account or issue a DESFire card" \
    "$RC|$ERR"
run_capture "$LEAL" card issue --customer 2 --reader "sim:$T/luis.json" --topup 50,01
check_eq "an opening top-up over the Classic cap: refused before anything is written" \
    "1|leal: issuing the card refused: the new card's purse would hold more than the program's Classic stored-value cap of 50.00; nothing was written|2" \
    "$RC|$ERR|$(sqlite3 "$DB" 'SELECT count(*) FROM card')"
run_capture "$LEAL" card issue --customer 2 --reader "sim:$T/luis.json" --topup 10 --welcome-points 5 --json
check_eq "Classic issued with a 10.00 opening top-up: purse, seq, points, ledger, round trips (49 + 4)" \
    "0 1000 2 5 1000 True True 53" "$RC $(view <<<"$OUT")"
LUIS=$($PY -c 'import json,sys; print(json.load(sys.stdin)["card_id"])' <<<"$OUT")
run_capture "$LEAL" card top-up 12,50 --reader "sim:$T/luis.json" --json
check_eq "card top-up 12,50 on Classic: 23 round trips (LAYOUT.md 3.3)" \
    "0 2250 3 5 2250 True True 23" "$RC $(view <<<"$OUT")"
check_eq "the ledger's top-up entries carry the card's seq" "card:$LUIS:seq:2 card:$LUIS:seq:3" \
    "$(sqlite3 "$DB" "SELECT group_concat(request_id, ' ') FROM (SELECT request_id FROM entry WHERE card_id = $LUIS AND kind = 'topup' ORDER BY id)")"
run_capture "$LEAL" card top-up 27,51 --reader "sim:$T/luis.json"
check_eq "over the Classic cap: refused in one line, nothing written" \
    "1|leal: top-up of card $LUIS refused: 22.50 on the card plus 27.51 would pass the program's Classic stored-value cap of 50.00; nothing was written|2250|0" \
    "$RC|$ERR|$(eur 2)|$(pendings)"
run_capture "$LEAL" card read --reader "sim:$T/luis.json"
check_eq "the verified view" "card         $LUIS (classic-1k, UID 04a2195d)
account      $(acct 2), card active
purse        22.50
points       5
stamps       0 0 0 0
taps         2
layout       version 1
ledger       agrees" "$(head -8 <<<"$OUT")"
check_eq "... and its last operations: the two top-ups, the welcome points" "last         TIME  topup    +12.50 EUR  purse top-up at the desk
             TIME  topup    +10.00 EUR  purse top-up at the desk
             TIME  earn     +5 points  welcome points" \
    "$(sed -n '9,$p' <<<"$OUT" | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}/TIME/')"

# A top-up torn between the ledger's intent and the card write: the card never
# took it, so the next read drops it; one the card neither shows nor undid is
# named and blocks the next top-up (LAYOUT.md 3.3).
sqlite3 "$DB" "INSERT INTO card_pending_topup(card_id, seq_before, seq_after, purse_after, cents, request_id, created_at) VALUES ($LUIS, 3, 4, 2350, 100, 'card:$LUIS:seq:4', 1)"
run_capture "$LEAL" card read --reader "sim:$T/luis.json" --json
check_eq "a pending top-up the card never took is dropped by the read" "0 2250 3 1 0 0 True" \
    "$RC $($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["purse_cents"], d["state_seq"], d["dropped_topups"], d["recovered_topups"], '"$(pendings)"', d["agrees"])' <<<"$OUT")"
sqlite3 "$DB" "INSERT INTO card_pending_topup(card_id, seq_before, seq_after, purse_after, cents, request_id, created_at) VALUES ($LUIS, 7, 8, 2350, 100, 'card:$LUIS:seq:8', 1)"
run_capture "$LEAL" card read --reader "sim:$T/luis.json"
check_eq "one the card neither shows nor undid is named" \
    "1|ledger       DIFFERS: a top-up of 1.00 (seq 7 to 8, purse 23.50) is neither on the card nor undone: the card is at seq 3 with 22.50" \
    "$RC|$(grep '^ledger' <<<"$OUT")"
run_capture "$LEAL" card top-up 1 --reader "sim:$T/luis.json"
check_eq "... and refuses the next top-up" \
    "1|leal: topping up the card: an earlier top-up of this card was interrupted and the card does not show it as written or as not written; keep the card and settle it with the ledger by hand|2250" \
    "$RC|$ERR|$(eur 2)"
sqlite3 "$DB" "DELETE FROM card_pending_topup"

# A card holding money is not erased (as on DESFire).
run_capture "$LEAL" card erase --yes --reader "sim:$T/luis.json"
check_eq "erase refuses a Classic card holding money, nothing written" \
    "1|leal: card $LUIS holds money; replace it ('leal card replace') or spend it first|active" \
    "$RC|$ERR|$(sqlite3 "$DB" "SELECT status FROM card WHERE card_id = $LUIS")"

# The Classic cap cannot go below what a Classic card may hold.
bad "a Classic cap below a Classic card's money" \
    "leal: program set: 1 account(s) with a Classic card of program 7 hold more than 2000 cents: cards of this program may hold more than that cap; lower it once their money is spent" \
    program set 7 --classic-stored-value-cap 20

# --- pcscd --------------------------------------------------------------------
if pcscd_start "$T"; then
    pass "pcscd with a vpcd reader on port $VPCD_PORT"
    "$CARDSIM" new --type classic-1k --uid 04010203 -o "$T/marta.json" >/dev/null
    "$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/marta.json" 2>"$T/serve.log" &
    SIM_PID=$!
    pcscd_wait present || fail "card present in pcscd" "$(pcscd_card_state)"
    run_capture "$LEAL" card issue --customer 3 --reader "pcsc:$PCSC_READER" --allow-virtual --topup 5 --json
    check_eq "Classic issued with an opening top-up through pcscd" "0 500 2 0 500 True True 53" "$RC $(view <<<"$OUT")"
    run_capture "$LEAL" card top-up 2,50 --reader "pcsc:$PCSC_READER" --allow-virtual --json
    check_eq "Classic top-up through pcscd" "0 750 3 0 750 True True 23" "$RC $(view <<<"$OUT")"
    run_capture "$LEAL" card read --reader "pcsc:$PCSC_READER" --allow-virtual
    PCSC_READ=$OUT
    kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
    run_capture "$LEAL" card read --reader "sim:$T/marta.json"
    check_eq "read through pcscd equals read through sim:" "$PCSC_READ" "$OUT"
    check_match "... 7.50 on the card" "^purse        7.50$" "$OUT"
else
    fail "a pcscd with a vpcd reader" "no pcscd could be started"
fi

# --- libnfc and the emulated PN532 ----------------------------------------------
"$CARDSIM" new --type classic-1k --uid 04c0ffee -o "$T/pn.json" >/dev/null
rm -f "$T/pn532"
"$CARDSIM" serve --pn532 "$T/pn532" "$T/pn.json" >"$T/pn532.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 50); do [ -L "$T/pn532" ] && break; sleep 0.1; done
export LIBNFC_DEVICE="pn532_uart:$(readlink "$T/pn532")"
run_capture "$LEAL" card issue --customer 5 --reader "nfc:$LIBNFC_DEVICE" --topup 3 --json
check_eq "Classic issued with an opening top-up through libnfc" "0 300 2 0 300 True True 53" "$RC $(view <<<"$OUT")"
PN=$($PY -c 'import json,sys; print(json.load(sys.stdin)["card_id"])' <<<"$OUT")
run_capture "$LEAL" card top-up 1,25 --reader "nfc:$LIBNFC_DEVICE" --json
check_eq "Classic top-up through libnfc" "0 425 3 0 425 True True 23" "$RC $(view <<<"$OUT")"
run_capture "$LEAL" card top-up 45,76 --reader "nfc:$LIBNFC_DEVICE"
check_eq "over the cap through libnfc" \
    "1|leal: top-up of card $PN refused: 4.25 on the card plus 45.76 would pass the program's Classic stored-value cap of 50.00; nothing was written" \
    "$RC|$ERR"
kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
run_capture "$LEAL" card read --reader "sim:$T/pn.json" --json
check_eq "the card as libnfc left it" "0 425 3 0 425 True True 19" "$RC $(view <<<"$OUT")"

check_eq "no top-up left pending" 0 "$(pendings)"
run_capture "$LEAL" ledger verify
check_eq "the ledger verifies" 0 "$RC"
finish
