#!/bin/bash
# desk_gift.sh - gift cards at the desk (`leal card issue --gift EUR`): a new
# gift account (no customer), the card issued to it and the gift written to
# its purse as the opening top-up, posted as a gift sale (kind gift_sale from
# the program's gift_sold, as `leal ledger post --kind gift_sale` makes it);
# through sim: and through the real pcscd (vpcd) in front of the virtual card,
# with exact purse, balances and counter, `leal ledger verify`, and every
# refusal in one line with its exit code and nothing written.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"

pcscd_fixture gift
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="gift test passphrase"
DB=$XDG_DATA_HOME/leal/ledger.db
q() { sqlite3 "$DB" "$1" 2>&1; }
# What a refusal must leave as it was: accounts, cards, entries.
books() { q "SELECT (SELECT count(*) FROM account) || ' ' || (SELECT count(*) FROM card) || ' ' || (SELECT count(*) FROM entry)"; }
json() { $PY -c "import json,sys; d=json.load(sys.stdin); print(*[d[k] for k in sys.argv[1:]])" "$@"; }
balance() { "$LEAL" account show "$1" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["balances"].get("EUR", 0))'; }

run_capture "$LEAL" keys init --issuer "Café Sol" --program 7
check_eq "keystore" 0 "$RC"
run_capture "$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 --purse-cap 150
check_eq "program 7, purse cap 150.00" 0 "$RC"
"$LEAL" customer add --program 7 --name Ana >/dev/null
SOLD=$(q "SELECT id FROM account WHERE program_id = 7 AND name = 'gift_sold'")
check_eq "the program's gift_sold account" 6 "$SOLD"

# --- refusals before any card: one line, nothing written ----------------------
usage() { # NAME EXPECTED-ERR ARGS...
    local name=$1 want=$2 before
    shift 2
    before=$(books)
    run_capture "$LEAL" card "$@" --reader "sim:$T/none.json"
    check_eq "$name" "2|$want|$before" "$RC|$ERR|$(books)"
}
both="leal: card issue --gift takes no --customer, --account, --topup, --welcome-points or --over-limit: a gift card has no customer and its purse is the gift (see 'leal --help')"
usage "--gift with --customer" "$both" issue --gift 25 --customer 1
usage "--gift with --account" "$both" issue --gift 25 --account 11
usage "--gift with --topup" "$both" issue --gift 25 --topup 5
usage "--gift with --welcome-points" "$both" issue --gift 25 --welcome-points 10
usage "--gift with --over-limit (it was taken and ignored)" "$both" issue --gift 25 --over-limit
usage "a gift of 0" "leal: bad --gift '0': write euros like 25 or 12,50 (see 'leal --help')" issue --gift 0
usage "a gift of 0,00" "leal: bad --gift '0,00': write euros like 25 or 12,50 (see 'leal --help')" issue --gift 0,00
usage "a gift that is not euros" "leal: bad --gift '25e': write euros like 25 or 12,50 (see 'leal --help')" issue --gift 25e
usage "a replacement is no gift" \
    "leal: card replace takes no --gift (the new card keeps the old card's account) (see 'leal --help')" \
    replace --old 123456789012 --gift 25
BEFORE=$(books)
run_capture "$LEAL" card issue --gift 150,01 --reader "sim:$T/none.json"
check_eq "a gift over the program's purse cap: refused before a card is asked for" \
    "1|leal: issuing the card refused: the new card's purse would hold more than the program's purse cap of 150.00; nothing was written|$BEFORE" \
    "$RC|$ERR|$(books)"

# --- sim: a gift of 150.00 (the cap exactly) -----------------------------------
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/cap.json" >/dev/null
run_capture "$LEAL" card issue --gift 150 --reader "sim:$T/cap.json" --json
check_eq "sim: a gift of the cap exactly: purse, gift card, taps, agrees, round trips" \
    "0|15000 True 1 True 38" "$RC|$(json purse_cents gift_card taps agrees round_trips <<<"$OUT")"
CAP_ACCT=$(json account_id <<<"$OUT")
check_eq "sim: the gift account is new, with no customer" "gift||7" \
    "$(q "SELECT kind || '|' || ifnull(customer_id, '') || '|' || program_id FROM account WHERE id = $CAP_ACCT")"
check_eq "sim: the gift account holds 150.00, gift_sold moved by -150.00" "15000 -15000" \
    "$(balance "$CAP_ACCT") $(balance "$SOLD")"

# --- pcscd: a gift of 25.00 on a DESFire EV3 through the real pcscd ----------
if pcscd_start "$T"; then
    pass "pcscd with a vpcd reader on port $VPCD_PORT"
    "$CARDSIM" new --type desfire-ev3 --uid 04010203040506 -o "$T/gift.json" >/dev/null
    "$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/gift.json" 2>"$T/serve.log" &
    SIM_PID=$!
    pcscd_wait present || fail "card present in pcscd" "$(pcscd_card_state)"
    ACCOUNTS=$(q "SELECT count(*) FROM account")
    run_capture "$LEAL" card issue --gift 25 --reader "pcsc:$PCSC_READER" --allow-virtual
    check_eq "pcscd: issued" 0 "$RC"
    GIFT=$(q "SELECT max(id) FROM account")
    check_eq "pcscd: one account more, a gift account" "$((ACCOUNTS + 1)) gift" \
        "$(q "SELECT count(*) FROM account") $(q "SELECT kind FROM account WHERE id = $GIFT")"
    check_eq "pcscd: the issue shows the account as a gift card and the gift on the purse" \
        "account      $GIFT (gift card), card active|purse        25.00|points       0|ledger       agrees" \
        "$(grep -E '^(account|purse|points|ledger) ' <<<"$OUT" | paste -sd'|')"
    run_capture "$LEAL" card read --reader "pcsc:$PCSC_READER" --allow-virtual --json
    check_eq "pcscd: read back: the purse holds the gift, the ledger agrees" \
        "0|2500 $GIFT True 2500 True" \
        "$RC|$(json purse_cents account_id gift_card ledger_eur_cents agrees <<<"$OUT")"
    check_eq "pcscd: the account's one entry is the gift sale" \
        "gift_sale EUR 2500 gift card sold at the desk" \
        "$($PY -c 'import json,sys; print(*["%s %s %d %s" % (o["kind"], o["asset"], o["amount"], o["reason"]) for o in json.load(sys.stdin)["last_operations"]], sep="|")' <<<"$OUT")"
    check_eq "pcscd: gift account +25.00, gift_sold -25.00 more, cash untouched" "2500 -17500 0" \
        "$(balance "$GIFT") $(balance "$SOLD") $(balance 1)"
    check_eq "pcscd: the entry has the shape 'leal ledger post --kind gift_sale' makes" \
        "gift_sale|$GIFT:2500,$SOLD:-2500" \
        "$(q "SELECT e.kind || '|' || group_concat(l.account_id || ':' || l.amount) FROM entry e JOIN line l ON l.entry_id = e.id WHERE e.id = (SELECT max(id) FROM entry) GROUP BY e.id")"
    kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
    run_capture "$LEAL" card read --reader "sim:$T/gift.json"
    check_eq "read through sim: after pcscd: purse 25.00" "0|purse        25.00" "$RC|$(grep '^purse' <<<"$OUT")"
else
    fail "pcscd with a vpcd reader" "pcscd did not start"
fi

# --- Classic with stored value off: refused as a Classic top-up is -----------
"$CARDSIM" new --type classic-1k --uid 04a2195c -o "$T/classic.json" >/dev/null
BEFORE=$(books)
run_capture "$LEAL" card issue --gift 5 --reader "sim:$T/classic.json"
check_eq "a gift on MIFARE Classic with stored value off: refused, nothing written" \
    "1|leal: issuing the card: stored value is off on MIFARE Classic cards (Classic money can be copied); keep the money in the account or issue a DESFire card|$BEFORE" \
    "$RC|$ERR|$(books)"

# The program turns Classic stored value on up to 20.00: its Classic cap bounds a gift there.
"$LEAL" program set 7 --classic-stored-value-cap 20 >/dev/null
BEFORE=$(books)
run_capture "$LEAL" card issue --gift 20,01 --reader "sim:$T/classic.json"
check_eq "a gift over the Classic stored-value cap: refused, nothing written" \
    "1|leal: issuing the card refused: the new card's purse would hold more than the program's Classic stored-value cap of 20.00; nothing was written|$BEFORE" \
    "$RC|$ERR|$(books)"
run_capture "$LEAL" card issue --gift 20 --reader "sim:$T/classic.json" --json
check_eq "Classic: a gift of 20.00 on the purse, a gift card, card and ledger agree" \
    "0|2000 True True" "$RC|$(json purse_cents gift_card agrees <<<"$OUT")"
check_eq "Classic: gift account +20.00, gift_sold -20.00 more" "2000 -19500" \
    "$(balance "$(json account_id <<<"$OUT")") $(balance "$SOLD")"
run_capture "$LEAL" card read --reader "sim:$T/classic.json"
check_eq "Classic: read back" "0|purse        20.00|ledger       agrees" \
    "$RC|$(grep -E '^(purse|ledger) ' <<<"$OUT" | paste -sd'|')"

run_capture "$LEAL" ledger verify
check_eq "ledger verify" "0|ledger ok: 3 entries, 6 lines, 14 accounts" "$RC|$OUT"
finish
