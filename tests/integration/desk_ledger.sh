#!/bin/bash
# desk_ledger.sh - the issuance desk on either ledger backend (issue 20;
# LEAL_TEST_BACKEND=pg runs it on PostgreSQL, desk_pg.sh; tests/lib/
# backend.sh), every command against the ledger the test names, with the
# same exact expectations on both: a DESFire EV1 and a MIFARE Classic 1K
# issued through sim: (welcome points, a top-up), a top-up, both cards
# earning at leal-terminal and the journal imported by `leal sync import`
# (once: the same file again takes nothing), the desk's reads (the verified
# view, the ledger agreeing), points posted by hand brought to the card by
# `leal card sync`, a block (a top-up refused, the reason on the customer's
# record, the history and the hot list), the replacement onto an EV3 with
# the balances, the PIN and the holder with their audit lines, `leal desk
# --stdio`, `leal account history`, a static QR code issued and revoked, the
# desk agent (started with the passphrase, a read through it with none, stopped), a
# customer erased with his cards blocked (his card's holder and PIN go with
# him), and `ledger verify`; on PostgreSQL also the ledger copied to a file and from it
# to a new database, the desk's rows (cards, their history, holder, PIN, QR
# text, audit) the same on all three.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/backend.sh
clear_of_midnight 120 UTC # "posted by hand on DAY", reckoned once

backend_fixture desk-ledger "desk ledger test passphrase"
export LEAL_BUNDLE_PASSPHRASE="desk ledger bundle pass phrase"
json() { $PY -c "import json,sys; d=json.load(sys.stdin); print(*[d[k] for k in sys.argv[1:]])" "$@"; }
l() { run_capture "$LEAL" "$@"; }
s() { "$LEAL" "$@" >/dev/null || fail "$BK: set-up: $*"; }
s program create --code sol --name "Café Sol" --id 7 --points-per-euro 1
s store add --program 7 --code centro --name Centro --tz Europe/Madrid
s terminal add --store 1 --name "caja 1"
s customer add --program 7 --name Ana
s customer add --program 7 --name Luis
acct() { q "select account_id from customer where id = $1"; }
ACC_ANA=$(acct 1) ACC_LUIS=$(acct 2)

# --- a DESFire and a Classic issued, a top-up -----------------------------------
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
"$CARDSIM" new --type classic-1k --uid 04a2195c -o "$T/luis.json" >/dev/null
l card issue --customer 1 --reader "sim:$T/ana.json" --welcome-points 50 --topup 20 --json
check_eq "$BK: DESFire issued: purse, points, taps, agreement, round trips" \
    "0|desfire-ev1 2000 50 1 True 38" \
    "$RC|$(json technology purse_cents points taps agrees round_trips <<<"$OUT")"
ANA=$(json card_id <<<"$OUT")
l card issue --customer 2 --reader "sim:$T/luis.json" --welcome-points 5 --json
check_eq "$BK: Classic issued: purse, points, state, agreement, round trips" \
    "0|classic-1k 0 5 1 True 49" \
    "$RC|$(json technology purse_cents points state_seq agrees round_trips <<<"$OUT")"
LUIS=$(json card_id <<<"$OUT")
check_eq "$BK: both cards active on their accounts, with their UIDs" \
    "$ANA|$ACC_ANA|desfire-ev1|active|04112233445566 $LUIS|$ACC_LUIS|classic-1k|active|04a2195c" \
    "$(rows "select card_id || '|' || account_id || '|' || tech || '|' || status || '|' || $(sql_hex uid) from card order by account_id")"
l card top-up 12,50 --reader "sim:$T/ana.json"
check_eq "$BK: top-up 12,50" "0|purse        32.50" "$RC|$(grep '^purse ' <<<"$OUT")"
check_eq "$BK: the ledger: Ana 32.50 EUR and 50 points, Luis 5 points" "3250 50 5" \
    "$(bal "$ACC_ANA" EUR) $(bal "$ACC_ANA" PTS) $(bal "$ACC_LUIS" PTS)"
check_eq "$BK: nothing left in flight" 0 "$(q 'select count(*) from card_pending_topup')"
l card top-up 990 --reader "sim:$T/ana.json"
check_eq "$BK: over the purse cap refused, nothing written" \
    "1|leal: top-up of card $ANA refused: 32.50 on the card plus 990.00 would pass the program's purse cap of 1000.00; nothing was written|3250" \
    "$RC|$ERR|$(bal "$ACC_ANA" EUR)"

# --- both earn at the terminal; the journal imported once -----------------------
LEAL_DB=$DB s keys export-terminal --terminal 1 --program 7 --expires "$(date -u -d '+30 days' +%F)" -o "$T/t1.ltb"
s terminal package --terminal 1 -o "$T/p1.lpkg"
LT="$LEAL_BUILD/bin/leal-terminal"
"$LT" init --bundle "$T/t1.ltb" --data "$T/till" >/dev/null || fail "$BK: leal-terminal init"
"$LT" load "$T/p1.lpkg" --data "$T/till" >/dev/null || fail "$BK: leal-terminal load"
run_capture "$LT" tap --earn 10,00 --reader "sim:$T/ana.json" --data "$T/till"
check_eq "$BK: the DESFire earns at the terminal" "0|card $ANA earn: +10 points, 50 -> 60" "$RC|$OUT"
run_capture "$LT" tap --earn 7,00 --reader "sim:$T/luis.json" --data "$T/till"
check_eq "$BK: the Classic earns at the terminal" "0|card $LUIS earn: +7 points, 5 -> 12" "$RC|$OUT"
"$LT" journal export -o "$T/j1" --data "$T/till" >/dev/null || fail "$BK: journal export"
l sync import "$T/j1"
check_eq "$BK: sync import takes the earns" \
    "0|3 taken (2 posted, 1 recorded without movement, 0 held, 0 undone by a settle), 0 already there" \
    "$RC|${OUT##*: }"
l sync import "$T/j1"
check_eq "$BK: the same journal again takes nothing" \
    "0|0 taken (0 posted, 0 recorded without movement, 0 held, 0 undone by a settle), 3 already there" \
    "$RC|${OUT##*: }"
check_eq "$BK: the ledger: Ana 60 points, Luis 12" "60 12" "$(bal "$ACC_ANA" PTS) $(bal "$ACC_LUIS" PTS)"

# --- the desk reads both ---------------------------------------------------------
l card read --reader "sim:$T/ana.json"
check_eq "$BK: read: the verified view" "0|card         $ANA (desfire-ev1, UID 04112233445566)
account      $ACC_ANA, card active
purse        32.50
points       60
stamps       0 0 0 0
taps         3
layout       version 2
ledger       agrees
last         DATE  earn     +10 points  terminal earn
             DATE  topup    +12.50 EUR  purse top-up at the desk
             DATE  topup    +20.00 EUR  purse top-up at the desk" \
    "$RC|$(sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}/DATE/' <<<"$OUT")"
l card read --reader "sim:$T/luis.json" --json
check_eq "$BK: read (Classic): points, state, taps, the ledger's, agreement" \
    "0|classic-1k 12 2 1 12 True" \
    "$RC|$(json technology points state_seq taps ledger_points agrees <<<"$OUT")"

# --- the desk agent: the passphrase once, then card commands with none ----------
mkdir -m 700 "$T/run"
printf '%s\n' "$LEAL_PASSPHRASE" >"$T/pass"
chmod 600 "$T/pass"
# No passphrase in the environment and no terminal to ask on: only the agent's keys.
na() { RC=0; OUT=$(XDG_RUNTIME_DIR=$T/run setsid -w env -u LEAL_PASSPHRASE "$LEAL" "$@" \
    </dev/null 2>"$T/na.err") || RC=$?; ERR=$(cat "$T/na.err"); }
na agent start --passphrase-file "$T/pass" --json
check_eq "$BK: agent start: program 7, its socket" "0|7 $T/run/leal/agent.sock" \
    "$RC|$(json program socket <<<"$OUT")"
na agent status --json
check_eq "$BK: agent status: running, program 7" "0|True 7" "$RC|$(json running program <<<"$OUT")"
if [ "$BK" = pg ]; then
    check_eq "$BK: the agent holds no connection to the database" 0 \
        "$(q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")"
fi
na card read --reader "sim:$T/luis.json" --json
check_eq "$BK: a card read through the agent, no passphrase: the same read" \
    "0|classic-1k 12 2 1 12 True" \
    "$RC|$(json technology points state_seq taps ledger_points agrees <<<"$OUT")"
na agent stop
check_eq "$BK: agent stop" 0 "$RC"
na card read --reader "sim:$T/luis.json" --json
check_eq "$BK: without the agent the same read has no keys: refused" 1 "$([ "$RC" -ne 0 ] && echo 1)"

# --- points posted by hand: the read says so, leal card sync brings them --------
s ledger post --account "$ACC_LUIS" --asset PTS --amount 40 --reason "spring campaign" --operator Marta
l card read --reader "sim:$T/luis.json"
check_eq "$BK: the read explains the difference in words, exit 1" \
    "1|ledger       DIFFERS: the ledger has 40 points the card does not (1 entry, posted by hand on $(date -u +%F)); run leal card sync" \
    "$RC|$(grep '^ledger ' <<<"$OUT")"
syncd() { json result synced_points points agrees; }
l card sync --reader "sim:$T/luis.json" --json
check_eq "$BK: sync brings the 40 points: 52 on the card, agreeing" "0|synced 40 52 True" "$RC|$(syncd <<<"$OUT")"
l card sync --reader "sim:$T/luis.json" --json
check_eq "$BK: sync again: nothing to bring" "0|synced 0 52 True" "$RC|$(syncd <<<"$OUT")"
check_eq "$BK: Luis 52 points in the ledger, nothing in flight" "52 0" \
    "$(bal "$ACC_LUIS" PTS) $(q 'select count(*) from card_pending_sync')"

# --- block, history, hot list; the replacement -----------------------------------
l card block "$ANA" --reason "lost at the gym"
check_eq "$BK: block" "0|card $ANA blocked; it goes on the hot list of the next terminal package" "$RC|$OUT"
l card top-up 5 --reader "sim:$T/ana.json"
check_eq "$BK: a blocked card takes no top-up" "1|leal: topping up the card: this card is blocked" "$RC|$ERR"
check_eq "$BK: the reason is on the customer's record" "desk|card $ANA blocked: lost at the gym" \
    "$(rows "select author || '|' || text from customer_note")"
events() { $PY -c 'import json,sys; print(" / ".join("|".join([str(e["card_id"]), e["status"], e["reason"], e["operator"]]) for e in json.load(sys.stdin)[sys.argv[1]]))' "$1"; }
l card history "$ANA" --json
check_eq "$BK: history: issued, verified, blocked with why and who" \
    "0|$ANA|pending|issued| / $ANA|active|verified at the desk|desk / $ANA|blocked|lost at the gym|desk" \
    "$RC|$(events events <<<"$OUT")"
l card hotlist --program 7 --json
check_eq "$BK: the hot list holds the blocked card" "0|$ANA|blocked|lost at the gym|desk" "$RC|$(events cards <<<"$OUT")"
l card history 123456789012
check_eq "$BK: history of an unknown card (exit 2)" \
    "2|leal: reading the card's history: card 123456789012: no such id" "$RC|$ERR"
l card block "$LUIS" --reason prueba --json
check_eq "$BK: block --json" "0|{\"card_id\":$LUIS,\"status\":\"blocked\"}" "$RC|$OUT"
l card unblock "$LUIS" --reason prueba --json
check_eq "$BK: unblock --json" "0|{\"card_id\":$LUIS,\"status\":\"active\"}" "$RC|$OUT"
"$CARDSIM" new --type desfire-ev3 --uid 04a1a2a3a4a5a6 -o "$T/ana2.json" >/dev/null
l card replace --old "$ANA" --reader "sim:$T/ana2.json" --json
check_eq "$BK: replaced onto an EV3: purse 32.50, 60 points, agreeing" "0|desfire-ev3 3250 60 True" \
    "$RC|$(json technology purse_cents points agrees <<<"$OUT")"
ANA2=$(json card_id <<<"$OUT")
l card top-up 5 --reader "sim:$T/ana.json"
check_eq "$BK: the replaced card is refused" "1|leal: topping up the card: this card is blocked" "$RC|$ERR"
l card hotlist --program 7 --json
check_eq "$BK: the hot list: the old card replaced, and what it still holds" \
    "0|$ANA|replaced|the card was replaced by card $ANA2 and still holds 32.50 EUR and 60 points, which the ledger moved to that card: keep it|desk" \
    "$RC|$(events cards <<<"$OUT")"
check_eq "$BK: the account's cards and its balances as before" \
    "$ANA|replaced $ANA2|active|3250|60" \
    "$(rows "select card_id || '|' || status from card where account_id = $ACC_ANA order by issued_at, card_id" | sed "s/ $ANA2|active/ $ANA2|active|$(bal "$ACC_ANA" EUR)|$(bal "$ACC_ANA" PTS)/")"
l card erase --yes --reader "sim:$T/ana2.json"
check_eq "$BK: erase refuses a card with money" \
    "1|leal: card $ANA2 holds money; replace it ('leal card replace') or spend it first" "$RC|$ERR"

# --- the PIN, the holder, and their audit lines ----------------------------------
echo 1234 >"$T/pin"
l card pin set "$ANA2" --pin-file "$T/pin" --json
check_eq "$BK: pin set --json" "0|{\"card_id\":$ANA2,\"pin\":true}" "$RC|$OUT"
l card holder "$ANA2" "Ana junior"
check_eq "$BK: the holder named" "0|card $ANA2: held by Ana junior" "$RC|$OUT"
check_eq "$BK: the PIN's hash and the holder kept" "\$argon2id\$|0|desk Ana junior" \
    "$(q "select substr(pin_hash, 1, 10) || '|' || fails || '|' || set_by from card_pin where card_id = $ANA2") $(q "select name from card_holder where card_id = $ANA2")"
check_eq "$BK: one audit line each, by the desk, naming the card" \
    "desk|card $ANA2 desk|card $ANA2" "$(rows "select actor || '|' || object from audit order by id")"
l card pin clear "$ANA2"
check_eq "$BK: pin clear" "0 0" "$RC $(q "select count(*) from card_pin where card_id = $ANA2")"

# --- leal desk --stdio, the account's history ------------------------------------
printf 'read\ntopup 2,50\nquit\n' >"$T/desk.in"
run_capture "$LEAL" desk --stdio --reader "sim:$T/ana2.json" <"$T/desk.in"
check_eq "$BK: desk --stdio: a read and a top-up" "0|ready: reading commands (read, topup EUR, bono sell|use KIND, upgrade, quit) for sim:$T/ana2.json
read card $ANA2 (desfire-ev3, UID 04a1a2a3a4a5a6): account $ACC_ANA, card active, purse 32.50, points 60, stamps 0 0 0 0, taps 1, TMC 1; ledger agrees
topped-up card $ANA2 (desfire-ev3, UID 04a1a2a3a4a5a6): account $ACC_ANA, card active, purse 35.00, points 60, stamps 0 0 0 0, taps 2, TMC 1; ledger agrees
bye: the desk ends" "$RC|$OUT"
l account history "$ACC_ANA" --json
check_eq "$BK: account history: every movement, newest first" \
    "0|topup EUR 250 desk|earn PTS 10 |topup EUR 1250 desk|topup EUR 2000 desk|earn PTS 50 desk" \
    "$RC|$($PY -c 'import json,sys; print("|".join("%s %s %d %s" % (m["kind"], m["asset"], m["amount"], m["operator"]) for m in json.load(sys.stdin)["movements"]))' <<<"$OUT")"

# --- a static QR code issued and revoked ----------------------------------------
l qr issue --account "$ACC_LUIS" -o "$T/luis.svg" --json
check_eq "$BK: qr issue" "0|$ACC_LUIS 7 static" "$RC|$(json account program kind <<<"$OUT")"
VC=$(json virtual_card <<<"$OUT")
check_eq "$BK: its virtual card and its text kept" "$ACC_LUIS|active|virtual-qr $(json text <<<"$OUT")" \
    "$(q "select account_id || '|' || status || '|' || tech from card where card_id = $VC") $(q "select text from qr_static_text where card_id = $VC")"
l qr revoke "$VC" --reason "reissued"
check_eq "$BK: qr revoke" "0|lost" "$RC|$(q "select status from card where card_id = $VC")"

# --- Luis erased, his cards blocked: his card's holder and PIN go, Ana's stay ----
s card holder "$LUIS" "Luis padre"
s card pin set "$LUIS" --pin-file "$T/pin"
l customer erase 2 --confirm --cards block --operator marta --json
check_eq "$BK: Luis erased, his active card blocked (his revoked QR code stays lost)" \
    '0|{"customer":2,"erased":true,"cards":"block","cards_blocked":1}' "$RC|$OUT"
check_eq "$BK: his card's holder and PIN gone, Ana's holder kept" "$ANA2|Ana junior 0" \
    "$(rows "select card_id || '|' || name from card_holder") $(q "select count(*) from card_pin where card_id = $LUIS")"
check_eq "$BK: his cards: blocked with why and who, the QR code as it was; the note" \
    "$LUIS|blocked|customer erased: cards blocked by decision|marta $VC|lost|reissued| marta|personal data erased at the customer's request (leal customer erase); cards blocked by decision: 1" \
    "$(rows "select c.card_id || '|' || c.status || '|' || e.reason || '|' || e.operator from card c join card_event e on e.id = (select max(id) from card_event where card_id = c.card_id) where c.account_id = $ACC_LUIS order by c.card_id <> $LUIS") $(rows "select author || '|' || text from customer_note where customer_id = 2")"
l card hotlist --program 7 --json
check_eq "$BK: the hot list: the erased customer's card and QR code with Ana's old card" \
    "0|$LUIS|blocked $VC|lost $ANA|replaced" \
    "$RC|$($PY -c 'import json,sys; print(" ".join("%d|%s" % (c["card_id"], c["status"]) for c in sorted(json.load(sys.stdin)["cards"], key=lambda c: (c["card_id"] != '"$LUIS"', c["card_id"] != '"$VC"'))))' <<<"$OUT")"

l ledger verify
check_eq "$BK: ledger verify clean" 0 "$RC"

# --- on PostgreSQL: the ledger copied to a file, the desk's rows with it ----------
if [ "$BK" = pg ]; then
    s card pin set "$ANA2" --pin-file "$T/pin"
    l ledger copy --from "$DB" --to "sqlite:$T/back.db"
    check_eq "$BK: copied to a file" 0 "$RC"
    CHAIN=$(backend_pg_db chain)
    l ledger copy --from "sqlite:$T/back.db" --to "$CHAIN"
    check_eq "$BK: and from the file to a new database" "0|" "$RC|$ERR"
    for sel in "card_id, account_id, status, seen_seq, seen_purse, seen_points from card" \
        "id, card_id, status, reason, operator from card_event" "card_id, name from card_holder" \
        "card_id, pin_hash, fails, set_at, set_by from card_pin" \
        "card_id, text, expires_at from qr_static_text" \
        "id, at, user_id, actor, action, object, before, after from audit"; do
        rows_of=$(q "select $sel order by 1" | sha256sum)
        check_eq "$BK: ${sel##* } there and back, row for row" "$rows_of $rows_of" \
            "$(sqlite3 "$T/back.db" "select $sel order by 1" | sha256sum) $(DB=$CHAIN q "select $sel order by 1" | sha256sum)"
    done
fi
finish
