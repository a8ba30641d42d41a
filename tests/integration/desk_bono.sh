#!/bin/bash
# desk_bono.sh - bonos at the desk (cardlayout/LAYOUT.md 4) through sim: and
# the real pcscd (vpcd) in front of the virtual card: a new card is made at
# version 2 (state 02, file 06 with no bonos); `leal bono sell` writes the
# bono file (exact bytes) and posts the euros against the bonos_sold
# liability and the sessions onto the account (exact balances, ledger verify
# clean); `leal bono use` takes one session off card and ledger and
# recognises its revenue, refused in one line at zero; `leal card read`
# shows the layout version and the bonos (text and --json); a card showing
# more sessions than the ledger is blocked; a Classic card is refused
# untouched; a version-1 card is upgraded at its next desk read with exact
# round trips and nothing of its value moved; `leal bono expire` takes a bono
# past its last day to breakage, once; `leal reward redeem` owes a cashback
# that `leal card top-up --cashback` loads; a state version nobody knows is
# refused in one line; through pcscd a sale torn at its commit's answer is
# posted by the next read, exactly once.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"
clear_of_midnight 120 UTC Europe/Madrid # the bonos' last day, reckoned once

pcscd_fixture bono
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="bono test passphrase"
json() { $PY -c "import json,sys; d=json.load(sys.stdin); print(*[json.dumps(d[k]) if isinstance(d[k], (list, dict)) else d[k] for k in sys.argv[1:]])" "$@"; }
# card_file CARD NO: file NO of the leal application of the virtual card, its data in hex.
card_file() {
    $PY -c '
import json, sys
app = [a for a in json.load(open(sys.argv[1]))["apps"] if a["aid"] == "41454c"][0]
f = [f for f in app["files"] if f["no"] == int(sys.argv[2])]
print(f[0]["data"] if f else "none")' "$1" "$2"
}
# set_card CARD STATE-VERSION-BYTE BONOS-HEX|drop: the card file edited as only
# leal's keys could (the state's first byte; file 06's data, or file 06 gone).
set_card() {
    $PY -c '
import json, sys
path, ver, bonos = sys.argv[1], sys.argv[2], sys.argv[3]
card = json.load(open(path))
app = [a for a in card["apps"] if a["aid"] == "41454c"][0]
st = [f for f in app["files"] if f["no"] == 2][0]
st["data"] = ver + st["data"][2:]
if bonos == "drop":
    app["files"] = [f for f in app["files"] if f["no"] != 6]
else:
    [f for f in app["files"] if f["no"] == 6][0]["data"] = bonos
json.dump(card, open(path, "w"))' "$1" "$2" "$3"
}

run_capture "$LEAL" keys init --issuer "Café Sol" --program 7
check_eq "keystore" 0 "$RC"
run_capture "$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1
check_eq "program 7" 0 "$RC"
"$LEAL" customer add --program 7 --name Ana >/dev/null
"$LEAL" customer add --program 7 --name Luis >/dev/null
"$LEAL" customer add --program 7 --name Marta >/dev/null
run_capture "$LEAL" bono add --program 7 --name "10 masajes" --sessions 10 --price 45 \
    --valid-days 365 --reason "bonos"
check_eq "bono kind 1 defined" "0|bono 1 added (program 7, rule set version 1)" "$RC|$OUT"

# --- a new card: version 2, no bonos -------------------------------------------
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
run_capture "$LEAL" card issue --customer 1 --topup 20 --reader "sim:$T/ana.json" --json
check_eq "issued: round trips (LAYOUT.md 4.4: 30 + 8)" "0|38" "$RC|$(json round_trips <<<"$OUT")"
ANA=$(json card_id <<<"$OUT")
check_eq "on the card: state 02, file 06 with no bonos (02 04, four free slots)" \
    "02 0204$(printf '0%.0s' {1..64})" \
    "$(card_file "$T/ana.json" 2 | cut -c1-2) $(card_file "$T/ana.json" 6)"

# --- a bono sold, shown, used ----------------------------------------------------
DB=$XDG_DATA_HOME/leal/ledger.db
q() { sqlite3 "$DB" "$1"; }
# bal ACCOUNT-NAME|ID ASSET: a program account's (by name) or an account's balance.
bal() {
    case "$1" in
    [0-9]*) q "SELECT coalesce((SELECT amount FROM balance WHERE account_id = $1 AND asset = '$2'), 0)" ;;
    *) q "SELECT coalesce((SELECT b.amount FROM balance b JOIN account a ON a.id = b.account_id WHERE a.program_id = 7 AND a.name = '$1' AND b.asset = '$2'), 0)" ;;
    esac
}
ANA_ACC=$(q "SELECT account_id FROM card WHERE card_id = $ANA")
LAST=$(date -u -d '+10 days' +%F)
LASTHEX=$(printf '%04x' $(( $(date -u -d "$LAST" +%s) / 86400 )))
run_capture "$LEAL" bono sell --kind "10 masajes" --expires "$LAST" --reader "sim:$T/ana.json"
check_eq "bono sold, in words" "0|bono sold: 10 masajes, 10 sessions for 45.00 EUR on card $ANA (account $ANA_ACC)
card         10 sessions left, until $LAST; the ledger holds 10" "$RC|$OUT"
check_eq "on the card: file 06 = 02 04, bono 1, 10 sessions (000a), last day, three free slots" \
    "020400000001000a$LASTHEX$(printf '0%.0s' {1..48})" "$(card_file "$T/ana.json" 6)"
check_eq "ledger: cash -20.00 -45.00, bonos_sold +45.00, Ana BONO:1 10, bonos_issued -10, Ana EUR 20.00" \
    "-6500 4500 10 -10 2000" \
    "$(bal cash EUR) $(bal bonos_sold EUR) $(bal "$ANA_ACC" BONO:1) $(bal bonos_issued BONO:1) $(bal "$ANA_ACC" EUR)"
check_eq "the sale's entry: kind, request id (the card's taps after), lines" \
    "transfer|card:$ANA:bono:2|4" \
    "$(q "SELECT e.kind || '|' || e.request_id || '|' || (SELECT count(*) FROM line WHERE entry_id = e.id) FROM entry e WHERE e.card_id = $ANA AND e.reason = 'bono sold at the desk'")"
check_eq "nothing left in flight" 0 "$(q 'SELECT count(*) FROM card_pending_bono')"
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "card read --json: agrees, layout version, bonos, round trips (9: the bono file read)" \
    "0|True 2 [{\"id\": 1, \"name\": \"10 masajes\", \"sessions\": 10, \"last_day\": \"$LAST\"}] 9" \
    "$RC|$(json agrees layout_version bonos round_trips <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/ana.json"
check_eq "card read in words: layout version, each bono, its sessions and last day" \
    "layout       version 2
bonos        10 masajes: 10 sessions left, until $LAST" "$(grep -A1 '^layout' <<<"$OUT")"
run_capture "$LEAL" bono use --kind 1 --reader "sim:$T/ana.json" --json
check_eq "bono use --json: revenue 4.50, 9 left on the card and in the ledger, 12 RT" \
    "0|bono-used 450 9 9 True 12" \
    "$RC|$(json result revenue_cents sessions_left ledger_sessions agrees round_trips <<<"$OUT")"
check_eq "ledger: bonos_sold 40.50, bonos_revenue 4.50, Ana BONO:1 9, bonos_used 1" \
    "4050 450 9 1 -6500" \
    "$(bal bonos_sold EUR) $(bal bonos_revenue EUR) $(bal "$ANA_ACC" BONO:1) $(bal bonos_used BONO:1) $(bal cash EUR)"
for i in 2 3 4 5 6 7 8 9 10; do "$LEAL" bono use --kind "10 masajes" --reader "sim:$T/ana.json" >/dev/null || fail "use $i"; done
check_eq "ten uses: the liability all earned, no sessions left" "0 4500 0 10" \
    "$(bal bonos_sold EUR) $(bal bonos_revenue EUR) $(bal "$ANA_ACC" BONO:1) $(bal bonos_used BONO:1)"
BEFORE=$(card_file "$T/ana.json" 6)
run_capture "$LEAL" bono use --kind "10 masajes" --reader "sim:$T/ana.json"
check_eq "the eleventh use refused in one line, exit 2, nothing written" \
    "2|leal: using the bono refused: card $ANA has no sessions of 10 masajes left; sell a new one ('leal bono sell --kind 10 masajes'); nothing was written|$BEFORE" \
    "$RC|$ERR|$(card_file "$T/ana.json" 6)"
run_capture "$LEAL" bono sell --kind masaje --reader "sim:$T/ana.json"
check_eq "an unknown kind refused before the card is touched" \
    "2|leal: --kind 'masaje': program 7 has no such bono kind; 'leal bono list --program 7' shows them, 'leal bono add' defines one; nothing was written" \
    "$RC|$ERR"
run_capture "$LEAL" ledger verify
check_eq "ledger verify clean" 0 "$RC"
# A kind the rule set no longer has: the card names it by its id.
"$LEAL" bono add --program 7 --name "5 sesiones" --sessions 5 --price 20 --reason "otro" >/dev/null
"$LEAL" bono sell --kind "5 sesiones" --reader "sim:$T/ana.json" >/dev/null || fail "bono 2 sold"
"$LEAL" bono remove 2 --program 7 --reason "retirado" >/dev/null
run_capture "$LEAL" card read --reader "sim:$T/ana.json"
check_eq "card read: a used-up bono and one no longer in the rule set, in words" \
    "bonos        10 masajes: 0 sessions left, until $LAST
             bono 2: 5 sessions left" "$(grep -A1 '^bonos' <<<"$OUT")"

# --- a card showing more sessions than the ledger: blocked, never believed -------
set_card "$T/ana.json" 02 "0204000000010000${LASTHEX}0000000200060000$(printf '0%.0s' {1..32})"
run_capture "$LEAL" card read --reader "sim:$T/ana.json"
check_eq "6 sessions of bono 2 where the ledger sold 5: blocked in one line, exit 1" \
    "1|leal: card $ANA is blocked: it shows 6 sessions of bono 2, more than the 5 the ledger holds for account $ANA_ACC (sold less used); nothing was posted; keep the card ('leal card history $ANA' shows why)" \
    "$RC|$ERR"
check_eq "the card blocked in the ledger, nothing posted" "blocked 5" \
    "$(q "SELECT status FROM card WHERE card_id = $ANA") $(bal "$ANA_ACC" BONO:2)"

# --- leal desk --stdio: bono sell and bono use, as leal bono sell|use ------------
"$LEAL" customer add --program 7 --name Eva >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04334455667788 -o "$T/eva.json" >/dev/null
EVA=$("$LEAL" card issue --customer 4 --reader "sim:$T/eva.json" --json | json card_id)
EVA_ACC=$(q "SELECT account_id FROM card WHERE card_id = $EVA")
YEAR=$(date -d '+365 days' +%F)
YEARHEX=$(printf '%04x' $(( $(date -u -d "$YEAR" +%s) / 86400 )))
run_capture "$LEAL" desk --stdio --reader "sim:$T/eva.json" <<<"bono sell 10 masajes
bono use 1
bono use
bono use nada
bono lend 1
quit"
EVA_LINE="card $EVA (desfire-ev1, UID 04334455667788): account $EVA_ACC, card active, purse 0.00, points 0, stamps 0 0 0 0"
check_eq "desk --stdio: bono sell and bono use, one answer line each" \
    "0|ready: reading commands (read, topup EUR, bono sell|use KIND, upgrade, quit) for sim:$T/eva.json
bono-sold $EVA_LINE, taps 1; ledger agrees; bono: bono 1 sold, 45.00 EUR paid; the ledger holds 10 session(s)
bono-used $EVA_LINE, taps 2; ledger agrees; bono: bono 1 used, 4.50 EUR earned; the ledger holds 9 session(s)
error: bono needs sell or use and a bono kind (its name or id): bono use 10 masajes
error: program 7 has no bono kind 'nada' ('leal bono list --program 7' shows them); nothing was written
error: bono needs sell or use and a bono kind (its name or id): bono use 10 masajes
bye: the desk ends" "$RC|$OUT"
check_eq "desk --stdio: on the card: bono 1, 9 sessions, its last day a year on" \
    "0204000000010009$YEARHEX$(printf '0%.0s' {1..48})" "$(card_file "$T/eva.json" 6)"
check_eq "desk --stdio: Eva BONO:1 9, bonos_used 11 (Ana's 10 and this one), 40.50 deferred" \
    "9 11 4050" \
    "$(bal "$EVA_ACC" BONO:1) $(bal bonos_used BONO:1) $(q "SELECT deferred_cents FROM bono_holding WHERE account_id = $EVA_ACC")"
run_capture "$LEAL" desk --stdio --json --reader "sim:$T/eva.json" <<<"bono use 10 masajes"
check_eq "desk --stdio --json: the use's card view with its bono" \
    "0|bono-used 3 True {\"id\": 1, \"cents\": 450, \"ledger_sessions\": 8} [{\"id\": 1, \"name\": \"10 masajes\", \"sessions\": 8, \"last_day\": \"$YEAR\"}]" \
    "$RC|$(sed -n 2p <<<"$OUT" | json result taps agrees bono bonos)"
run_capture "$LEAL" ledger verify
check_eq "desk --stdio: ledger verify clean" 0 "$RC"

# --- bonos past their last day: deferred euros to breakage (RULES.md 5) ---------
AFTER=$(date -u -d "$YEAR +1 day" +%F)
run_capture "$LEAL" bono expire --program 7 --operator test --today "$YEAR"
check_eq "bono expire on the last day: nothing expires" \
    "0|bonos expired: 0 (0 sessions unused), 0.00 EUR to breakage" "$RC|$OUT"
run_capture "$LEAL" bono expire --program 7 --operator test --today "$AFTER" --json
check_eq "bono expire the day after: Eva's 8 sessions, 36.00 to breakage" \
    '0|{"program_id":7,"bonos_expired":1,"sessions":8,"breakage_cents":3600}' "$RC|$OUT"
check_eq "ledger: Eva BONO:1 0, bonos_expired 8, breakage 36.00, bonos_sold 20.00 (Ana's bono 2, no last day)" \
    "0 8 3600 2000 0" \
    "$(bal "$EVA_ACC" BONO:1) $(bal bonos_expired BONO:1) $(bal breakage EUR) $(bal bonos_sold EUR) $(q "SELECT deferred_cents FROM bono_holding WHERE account_id = $EVA_ACC")"
run_capture "$LEAL" bono expire --program 7 --operator test --today "$AFTER"
check_eq "bono expire again: nothing moves" \
    "0|bonos expired: 0 (0 sessions unused), 0.00 EUR to breakage 3600" "$RC|$OUT $(bal breakage EUR)"
run_capture "$LEAL" bono expire --program 7 --today "$AFTER"
check_eq "bono expire without --operator: usage, exit 2" \
    "2|leal: leal bono expire needs --operator NAME (who swept) (see 'leal --help')" "$RC|$ERR"
run_capture "$LEAL" card read --reader "sim:$T/eva.json"
check_eq "Eva's card still shows its 8 expired sessions and agrees" "0" "$RC"
run_capture "$LEAL" ledger verify
check_eq "after the sweep: ledger verify clean" 0 "$RC"

# --- a cashback reward redeemed at the host, loaded at the desk (issue 12) -------
"$LEAL" reward add --program 7 --name vuelta --kind cashback --cost 100 --value 5 \
    --reason "cashback" >/dev/null || fail "cashback reward added"
"$LEAL" ledger post --account "$EVA_ACC" --asset PTS --amount 250 --reason "regalo" \
    --operator test >/dev/null || fail "points for Eva"
run_capture "$LEAL" reward redeem --program 7 --reward vuelta --card "$EVA" --request eva-1 --json
check_eq "reward redeem: 100 points for 5.00 owed, 150 left" "0|False cashback 100 500 150 500" \
    "$RC|$(json replayed kind points cashback_cents points_after cashback_owed_cents <<<"$OUT")"
run_capture "$LEAL" reward redeem --program 7 --reward vuelta --card "$EVA" --request eva-1 --json
check_eq "the same --request again: replayed, nothing moves" "0|True 150 500" \
    "$RC|$(json replayed points_after cashback_owed_cents <<<"$OUT")"
run_capture "$LEAL" reward redeem --program 7 --reward vuelta --account "$EVA_ACC" --request eva-2
run_capture "$LEAL" reward redeem --program 7 --reward vuelta --account "$EVA_ACC" --request eva-3
check_eq "below its cost: refused in one line, exit 1" \
    "1|leal: the account has too few points for this reward; nothing was posted" "$RC|$ERR"
check_eq "ledger: Eva PTS 50, CASHBACK 10.00, purse 0.00" "50 1000 0" \
    "$(bal "$EVA_ACC" PTS) $(bal "$EVA_ACC" CASHBACK) $(bal "$EVA_ACC" EUR)"
run_capture "$LEAL" card sync --reader "sim:$T/eva.json" --json
check_eq "card sync: the redeems' points reach the card (250 - 200)" "0|50 True" \
    "$RC|$(json points agrees <<<"$OUT")"
run_capture "$LEAL" card top-up --cashback --reader "sim:$T/eva.json"
check_eq "card top-up --cashback: 10.00 onto the purse" "0|cashback     10.00 EUR loaded onto the purse" \
    "$RC|$(grep '^cashback' <<<"$OUT")"
check_eq "ledger: Eva EUR 10.00, CASHBACK 0, program cashback -10.00" "1000 0 -1000" \
    "$(bal "$EVA_ACC" EUR) $(bal "$EVA_ACC" CASHBACK) $(bal cashback EUR)"
run_capture "$LEAL" card top-up --cashback --reader "sim:$T/eva.json"
check_eq "nothing owed: refused in one line, nothing written" \
    "1|leal: account $EVA_ACC is owed no cashback; nothing was written 1000" "$RC|$ERR $(bal "$EVA_ACC" EUR)"
run_capture "$LEAL" ledger verify
check_eq "after the cashback: ledger verify clean" 0 "$RC"

# --- MIFARE Classic: no bonos (LAYOUT.md 4.5) ------------------------------------
"$CARDSIM" new --type classic-1k --uid 04c0ffee -o "$T/classic.json" >/dev/null
run_capture "$LEAL" card issue --customer 3 --reader "sim:$T/classic.json"
check_eq "a Classic card issued" 0 "$RC"
BEFORE=$(cat "$T/classic.json")
run_capture "$LEAL" bono sell --kind "10 masajes" --reader "sim:$T/classic.json"
check_eq "bono sell on Classic: refused in one line naming why and what to do, exit 1" \
    "1|leal: selling the bono refused: the card in the reader is a MIFARE Classic card, and bonos are not on MIFARE Classic cards yet (they stay at layout version 1, LAYOUT.md 4.5); sell the bono on a DESFire card; nothing was written" \
    "$RC|$ERR"
check_eq "the Classic card is left as it was" "$BEFORE" "$(cat "$T/classic.json")"

# --- a version-1 card upgraded at its next desk read ----------------------------
"$CARDSIM" new --type desfire-ev1 --uid 04223344556677 -o "$T/luis.json" >/dev/null
run_capture "$LEAL" card issue --customer 2 --topup 10 --welcome-points 30 --reader "sim:$T/luis.json" --json
check_eq "Luis's card issued" 0 "$RC"
set_card "$T/luis.json" 01 drop
check_eq "made a version-1 card: state 01, no file 06" "01 none" \
    "$(card_file "$T/luis.json" 2 | cut -c1-2) $(card_file "$T/luis.json" 6)"
run_capture "$LEAL" card read --reader "sim:$T/luis.json" --json
check_eq "read upgrades it: purse, points, taps, state seq, agrees, round trips (8 + 6)" \
    "0|1000 30 1 1 True 14" \
    "$RC|$(json purse_cents points taps state_seq agrees round_trips <<<"$OUT")"
check_eq "on the card: state 02, file 06 with no bonos" "02 0204$(printf '0%.0s' {1..64})" \
    "$(card_file "$T/luis.json" 2 | cut -c1-2) $(card_file "$T/luis.json" 6)"
run_capture "$LEAL" card read --reader "sim:$T/luis.json"
check_eq "the next read: nothing to upgrade, no note" "0|layout       version 2" "$RC|$(grep '^layout' <<<"$OUT")"
set_card "$T/luis.json" 01 drop
run_capture "$LEAL" card read --reader "sim:$T/luis.json"
check_eq "the upgrade said in words" \
    "0|layout       version 2
layout       card upgraded to layout version 2 (room for bonos)" "$RC|$(grep '^layout' <<<"$OUT")"

# --- a state version nobody knows: refused, the card left as it is --------------
set_card "$T/luis.json" 04 "0204$(printf '0%.0s' {1..64})"
BEFORE=$(cat "$T/luis.json")
run_capture "$LEAL" card read --reader "sim:$T/luis.json"
check_eq "unknown layout version refused in one line, exit 1" 1 "$RC"
check_match "the refusal names the layout version" "layout version" "$ERR"
check_eq "one line" 1 "$(wc -l <<<"$ERR")"
check_eq "the card is left as it was" "$BEFORE" "$(cat "$T/luis.json")"

# --- through the real pcscd: the upgrade and the bonos shown ---------------------
if pcscd_start "$T"; then
    set_card "$T/luis.json" 01 drop
    mkfifo "$T/ctl"
    "$CARDSIM" serve --vpcd "$VPCD_PORT" --control "$T/ctl" "$T/luis.json" 2>"$T/serve.log" &
    SIM_PID=$!
    exec 3<>"$T/ctl"
    if pcscd_wait present; then
        PC=(--reader "pcsc:$PCSC_READER" --allow-virtual)
        run_capture "$LEAL" card read "${PC[@]}" --json
        check_eq "pcscd: read upgrades a version-1 card (8 + 6 RT)" "0|1000 14" \
            "$RC|$(json purse_cents round_trips <<<"$OUT")"
        check_eq "pcscd: on the card: state 02, file 06 with no bonos" \
            "02 0204$(printf '0%.0s' {1..64})" \
            "$(card_file "$T/luis.json" 2 | cut -c1-2) $(card_file "$T/luis.json" 6)"
        run_capture "$LEAL" card read "${PC[@]}" --json
        check_eq "pcscd: then a version-2 read (9 RT)" "0|9 True" \
            "$RC|$(json round_trips agrees <<<"$OUT")"
        LUIS=$(json card_id <<<"$OUT")
        LUIS_ACC=$(json account_id <<<"$OUT")
        run_capture "$LEAL" bono sell --kind "10 masajes" "${PC[@]}" --json
        check_eq "pcscd: a bono sold (9 + 3 RT)" "0|bono-sold 10 10 12" \
            "$RC|$(json result sessions_left ledger_sessions round_trips <<<"$OUT")"
        # The next sale torn at its 12th exchange's answer (the commit): the
        # card took it, the desk never heard; the card leaves the field.
        echo "tear before-answer 12" >&3
        run_capture "$LEAL" bono sell --kind "10 masajes" "${PC[@]}"
        check_eq "pcscd: the sale torn at its commit's answer fails, the intent kept" "1|1" \
            "$RC|$(q "SELECT count(*) FROM card_pending_bono WHERE card_id = $LUIS")"
        pcscd_wait absent
        echo insert >&3
        pcscd_wait present
        run_capture "$LEAL" card read "${PC[@]}" --json
        # bonos_sold: Luis's 90.00 + 20.00 of bono 2 (Eva's 36.00 went to breakage above).
        check_eq "pcscd: the next read posts it: 20 sessions on card and ledger, agrees" \
            "0|1 True [{\"id\": 1, \"name\": \"10 masajes\", \"sessions\": 20, \"last_day\": \"$(date -u -d '+365 days' +%F)\"}]|20 11000 0" \
            "$RC|$(json bonos_settled agrees bonos <<<"$OUT")|$(bal "$LUIS_ACC" BONO:1) $(bal bonos_sold EUR) $(q 'SELECT count(*) FROM card_pending_bono')"
        run_capture "$LEAL" card read "${PC[@]}" --json
        check_eq "pcscd: read again: nothing settled twice" "0|0 20" \
            "$RC|$(json bonos_settled <<<"$OUT") $(bal "$LUIS_ACC" BONO:1)"
        run_capture "$LEAL" bono use --kind "10 masajes" "${PC[@]}" --json
        check_eq "pcscd: a use (revenue 90.00 / 20)" "0|450 19 19" \
            "$RC|$(json revenue_cents sessions_left ledger_sessions <<<"$OUT")"
        run_capture "$LEAL" ledger verify
        check_eq "pcscd: ledger verify clean" 0 "$RC"
    else
        fail "the virtual card present in pcscd" "$(pcscd_card_state)"
    fi
fi

# --- the desk's store (--store): the sale's and the use's entries are its ------
"$LEAL" store add --program 7 --code sol --name Sol --tz Europe/Madrid >/dev/null
"$LEAL" store add --program 7 --code mar --name Mar --tz Europe/Madrid >/dev/null
SOL=$(q "SELECT id FROM store WHERE code = 'sol'")
MAR=$(q "SELECT id FROM store WHERE code = 'mar'")
"$LEAL" customer add --program 7 --name Sara >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04556677889900 -o "$T/sara.json" >/dev/null
SARA=$("$LEAL" card issue --customer 5 --store "$SOL" --reader "sim:$T/sara.json" --json | json card_id)
# store_of REASON: the store of the card's last entry with that reason ("none" without one).
store_of() { q "SELECT coalesce(store_id, 'none') FROM entry WHERE card_id = $SARA AND reason = '$1' ORDER BY id DESC LIMIT 1"; }
run_capture "$LEAL" bono sell --kind "10 masajes" --store "$MAR" --reader "sim:$T/sara.json"
check_eq "bono sell --store: sold, its entry at that store" "0|$MAR" "$RC|$(store_of 'bono sold at the desk')"
run_capture "$LEAL" bono use --kind "10 masajes" --store "$SOL" --reader "sim:$T/sara.json"
check_eq "bono use --store: used, its entry at that store" "0|$SOL" "$RC|$(store_of 'bono session used at the desk')"
run_capture "$LEAL" bono use --kind "10 masajes" --reader "sim:$T/sara.json"
check_eq "without --store, two stores: no store" "0|none" "$RC|$(store_of 'bono session used at the desk')"
BEFORE=$(cat "$T/sara.json")
N=$(q "SELECT count(*) FROM entry")
run_capture "$LEAL" bono use --kind "10 masajes" --store 99 --reader "sim:$T/sara.json"
check_eq "bono use --store 99 (no such store) refused, nothing written" \
    "2|1|$N|0" "$RC|$(wc -l <<<"$ERR")|$(q "SELECT count(*) FROM entry")|$([ "$BEFORE" = "$(cat "$T/sara.json")" ]; echo $?)"
check_match "the refusal names --store" "--store" "$ERR"
run_capture "$LEAL" bono sell --kind "10 masajes" --store abc --reader "sim:$T/sara.json"
check_eq "bono sell --store abc refused as usage, nothing written" "2|$N" "$RC|$(q "SELECT count(*) FROM entry")"
check_match "the refusal names --store" "--store 'abc'" "$ERR"
check_eq "Sara: 10 - 2 sessions" 8 "$(bal "$(q "SELECT account_id FROM card WHERE card_id = $SARA")" BONO:1)"
run_capture "$LEAL" ledger verify
check_eq "ledger verify clean after the stores' bonos" 0 "$RC"
finish
