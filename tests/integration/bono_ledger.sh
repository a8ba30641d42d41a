#!/bin/bash
# bono_ledger.sh - bonos sold and used at the desk, swept past their last day,
# and portal codes honoured, on either ledger backend (issue 20;
# LEAL_TEST_BACKEND=pg runs it on PostgreSQL, sale_pg.sh; tests/lib/
# backend.sh): a shop's ledger made on a file (its program, customer, bono
# kind and a DESFire card issued through sim:), on PostgreSQL copied there
# with `leal ledger copy`; then `leal bono sell` and `leal bono use` on the
# card in the reader (exact output, card bytes, balances, the deferred euros,
# nothing left in flight), a sale torn after the card took it settled by the
# next desk read exactly once, `leal bono expire` to breakage once, `leal
# reward honour` once (a second time and an unknown code refused, nothing
# written), ledger verify clean, and on PostgreSQL the ledger copied back to
# a file with its holdings, intents and codes. The same expectations on both.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/backend.sh
clear_of_midnight 120 UTC # the bonos' last day, reckoned once

backend_fixture bono-ledger "bono ledger test passphrase"
export USER=marta
json() { $PY -c "import json,sys; d=json.load(sys.stdin); print(*[d[k] for k in sys.argv[1:]])" "$@"; }
card_file() {
    $PY -c '
import json, sys
app = [a for a in json.load(open(sys.argv[1]))["apps"] if a["aid"] == "41454c"][0]
print([f for f in app["files"] if f["no"] == int(sys.argv[2])][0]["data"])' "$1" "$2"
}
# pbal NAME ASSET: a program account's balance (0 without a row).
pbal() { q "select coalesce((select b.amount from balance b join account a on a.id = b.account_id where a.program_id = 7 and a.name = '$1' and b.asset = '$2'), 0)"; }

# --- the shop's ledger, on a file; on PostgreSQL copied to the chain's server --
SHOP=$DB
[ "$BK" = sqlite ] || SHOP=$T/shop.db
s() { "$LEAL" "$@" --db "$SHOP" >/dev/null || fail "shop: $*"; }
s program create --code sol --name "Café Sol" --id 7 --points-per-euro 1
s customer add --program 7 --name Ana
s bono add --program 7 --name "10 masajes" --sessions 10 --price 45 --valid-days 365 --reason bonos
s reward add --program 7 --name "Café gratis" --kind product --value 1001 --cost 100 --reason catálogo
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
run_capture "$LEAL" card issue --customer 1 --reader "sim:$T/ana.json" --json --db "$SHOP"
check_eq "$BK: card issued on the shop's file" 0 "$RC"
ANA=$(json card_id <<<"$OUT")
if [ "$BK" = pg ]; then
    run_capture "$LEAL" ledger copy --from "sqlite:$SHOP" --to "$DB"
    check_eq "$BK: the shop's ledger copied to PostgreSQL" \
        "0|copied 26 rows; 0 entries compared with the source; the copy's books are ok" "$RC|$OUT"
fi
l() { run_capture "$LEAL" "$@" --db "$DB"; }
ACC=$(q "select account_id from card where card_id = $ANA")

# --- a bono sold and used on the card in the reader ------------------------------
LAST=$(date -u -d '+10 days' +%F)
LASTHEX=$(printf '%04x' $(($(date -u -d "$LAST" +%s) / 86400)))
l bono sell --kind "10 masajes" --expires "$LAST" --reader "sim:$T/ana.json"
check_eq "$BK: bono sold, in words" "0|bono sold: 10 masajes, 10 sessions for 45.00 EUR on card $ANA (account $ACC)
card         10 sessions left, until $LAST; the ledger holds 10" "$RC|$OUT"
check_eq "$BK: on the card: file 06 with bono 1, 10 sessions, its last day" \
    "020400000001000a$LASTHEX$(printf '0%.0s' {1..48})" "$(card_file "$T/ana.json" 6)"
check_eq "$BK: cash -45.00, bonos_sold 45.00, Ana BONO:1 10, bonos_issued -10, deferred 45.00" \
    "-4500 4500 10 -10 4500" \
    "$(pbal cash EUR) $(pbal bonos_sold EUR) $(bal "$ACC" BONO:1) $(pbal bonos_issued BONO:1) $(q "select deferred_cents from bono_holding where account_id = $ACC and bono_id = 1")"
check_eq "$BK: the sale's entry (its request id the card's taps after), nothing in flight" \
    "transfer|card:$ANA:bono:1|desk|4|0" \
    "$(q "select e.kind || '|' || e.request_id || '|' || e.operator || '|' || (select count(*) from line where entry_id = e.id) from entry e where e.card_id = $ANA and e.reason = 'bono sold at the desk'")|$(q 'select count(*) from card_pending_bono')"
l bono use --kind 1 --reader "sim:$T/ana.json" --json
check_eq "$BK: bono use --json: revenue 4.50, 9 left on the card and in the ledger" \
    "0|bono-used 450 9 9 True" \
    "$RC|$(json result revenue_cents sessions_left ledger_sessions agrees <<<"$OUT")"
check_eq "$BK: bonos_sold 40.50, bonos_revenue 4.50, Ana BONO:1 9, bonos_used 1, deferred 40.50" \
    "4050 450 9 1 4050" \
    "$(pbal bonos_sold EUR) $(pbal bonos_revenue EUR) $(bal "$ACC" BONO:1) $(pbal bonos_used BONO:1) $(q "select deferred_cents from bono_holding where account_id = $ACC and bono_id = 1")"

# --- a sale torn after the card took it: the next desk read settles it, once -----
# The sale made on a copy of the ledger, so the card holds it; the ledger
# itself as a tear between the card's commit and the settle leaves it: the
# intent as the sale recorded it, nothing posted.
COPY=$(ledger_snapshot torn)
"$LEAL" bono sell --kind 1 --sessions 2 --price 5 --expires "$LAST" --reader "sim:$T/ana.json" --db "$COPY" >/dev/null ||
    fail "$BK: a second sale, on the copy"
REQ=$(DB=$COPY q "select request_id from entry order by id desc limit 1")
AFTER=${REQ##*:}
q "insert into card_pending_bono(card_id, bono_id, seq_before, seq_after, sessions, cents, file_after, request_id, created_at)
   values ($ANA, 1, $((AFTER - 1)), $AFTER, 2, 500, $(sql_blob "$(card_file "$T/ana.json" 6)"), '$REQ', 1)" >/dev/null
l bono use --kind 1 --reader "sim:$T/ana.json" --json
check_eq "$BK: the next use's read settles the torn sale first, then uses one of 11" \
    "0|bono-used 413 10 10 True" \
    "$RC|$(json result revenue_cents sessions_left ledger_sessions agrees <<<"$OUT")"
check_eq "$BK: the sale posted once, as on the copy; deferred 45.50 - 4.13; nothing in flight" \
    "1 $(DB=$COPY q "select content_hash from entry where request_id = '$REQ'") 4137 0" \
    "$(q "select count(*) from entry where request_id = '$REQ'") $(q "select content_hash from entry where request_id = '$REQ'") $(q "select deferred_cents from bono_holding where account_id = $ACC") $(q 'select count(*) from card_pending_bono')"

# --- past the last day: swept to breakage, once ------------------------------------
AFTERLAST=$(date -u -d "$LAST +1 day" +%F)
l bono expire --program 7 --operator marta --today "$LAST"
check_eq "$BK: on its last day nothing expires" \
    "0|bonos expired: 0 (0 sessions unused), 0.00 EUR to breakage" "$RC|$OUT"
l bono expire --program 7 --operator marta --today "$AFTERLAST" --json
check_eq "$BK: the day after: 10 sessions and 41.37 EUR to breakage" \
    '0|{"program_id":7,"bonos_expired":1,"sessions":10,"breakage_cents":4137}' "$RC|$OUT"
check_eq "$BK: Ana BONO:1 0, bonos_expired 10, bonos_sold 0, breakage 41.37, deferred 0" \
    "0 10 0 4137 0" \
    "$(bal "$ACC" BONO:1) $(pbal bonos_expired BONO:1) $(pbal bonos_sold EUR) $(pbal breakage EUR) $(q "select deferred_cents from bono_holding where account_id = $ACC")"
check_eq "$BK: its entry: kind expire, by marta, its request id" \
    "expire|marta|bono-expire:$ACC:1:$(($(date -u -d "$LAST" +%s) / 86400))" \
    "$(q "select kind || '|' || operator || '|' || request_id from entry where kind = 'expire'")"
l bono expire --program 7 --operator marta --today "$AFTERLAST"
check_eq "$BK: swept again: nothing more" \
    "0|bonos expired: 0 (0 sessions unused), 0.00 EUR to breakage" "$RC|$OUT"

# --- a code redeemed from the portal, honoured once at the desk ------------------
"$LEAL" ledger post --account "$ACC" --asset PTS --amount 250 --reason regalo --operator test \
    --db "$DB" >/dev/null || fail "$BK: points for Ana"
l reward redeem --program 7 --reward 1 --account "$ACC" --request portal-1 --json
RE=$(json entry_id <<<"$OUT")
# The portal keeps the code beside the entry (ledger_redemption_keep).
q "insert into portal_redemption(code, entry_id, customer_id, reward_id, created_at)
   values ('K7QX-M2PA', $RE, 1, 1, 1700000000)" >/dev/null
BEFORE=$(backend_dump | sha256sum)
l reward honour k7qx-m2pa --operator ana-desk --json
check_eq "$BK: reward honour --json: what to give, for how many points" \
    "0|{\"code\":\"K7QX-M2PA\",\"entry_id\":$RE,\"customer_id\":1,\"reward_id\":1,\"name\":\"Café gratis\",\"kind\":\"product\",\"value\":1001,\"points\":100}" \
    "$RC|$OUT"
check_eq "$BK: honoured by ana-desk" "ana-desk" "$(q "select honoured_by from portal_redemption where honoured_at > 0")"
BEFORE=$(backend_dump | sha256sum)
l reward honour K7QX-M2PA
check_eq "$BK: a second time refused in one line, exit 1" \
    "1|leal: code K7QX-M2PA was honoured already (by ana-desk, at $(q "select honoured_at from portal_redemption")); the reward is not given twice" \
    "$RC|$ERR"
l reward honour ABCD-EFGH
check_eq "$BK: an unknown code refused in one line, exit 1" \
    "1|leal: no reward redeemed from the portal has code ABCD-EFGH; check it with the customer" \
    "$RC|$ERR"
check_eq "$BK: refused: nothing written" "$BEFORE" "$(backend_dump | sha256sum)"

l ledger verify
check_eq "$BK: ledger verify clean" 0 "$RC"

# --- on PostgreSQL: the ledger copied back to a file, all of it -------------------
if [ "$BK" = pg ]; then
    q "insert into card_pending_bono(card_id, bono_id, seq_before, seq_after, sessions, cents, file_after, request_id, created_at)
       values ($ANA, 1, 7, 8, -1, 0, $(sql_blob "$(card_file "$T/ana.json" 6)"), 'card:$ANA:bono:8', 1)" >/dev/null
    run_capture "$LEAL" ledger copy --from "$DB" --to "sqlite:$T/back.db"
    check_eq "$BK: copied back to a file" 0 "$RC"
    for sel in "account_id, bono_id, deferred_cents, last_day from bono_holding" \
        "card_id, request_id, sessions, cents, HEX(file_after) from card_pending_bono" \
        "code, entry_id, customer_id, reward_id, honoured_at, honoured_by from portal_redemption"; do
        check_eq "$BK: ${sel##* } came back" "$(q "select ${sel/HEX(file_after)/$(sql_hex file_after)}")" \
            "$(sqlite3 "$T/back.db" "select ${sel/HEX(file_after)/lower(hex(file_after))}")"
    done
fi
finish
