#!/bin/bash
# qr_redeem.sh - a phone's spending code redeems rewards offline
# (cardlayout/qr/QR.md "Redeeming with a spending code"). `leal qr enrol
# --redeem-allowance 150` holds 150 of the account's 200 points for the phone
# (PTS-HOLD:<virtual card>); the package carries the hold as a QR allowance
# record; each terminal redeems within it, counted from its own journal;
# `leal sync import` books the redeems from the hold, exactly once; two
# terminals that together pass the hold give a qr_over_redeem finding: the
# excess entry held, the phone blocked and hot-listed in the next package.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-qrredeem-XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="qr redeem test passphrase"
export LEAL_BUNDLE_PASSPHRASE="bundle pass phrase"
DB=$XDG_DATA_HOME/leal/ledger.db
LT="$LEAL_BUILD/bin/leal-terminal"
field() { $PY -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
q() { sqlite3 "$DB" "$1"; }
bal() { q "select coalesce((select amount from balance where account_id = $1 and asset = '$2'), 0)"; }
prog() { q "select coalesce((select b.amount from balance b join account a on a.id = b.account_id where a.name = '$1' and a.program_id = 7 and b.asset = '$2'), 0)"; }
code() { "$LEAL" qr device code --key "$T/$1.key" --cert "$T/$1.cert"; }
# redeem TERMINAL REWARD [OPTION]: a fresh code of the phone redeems at TERMINAL.
redeem() { run_capture "$LT" tap --qr "$(code phone)" --redeem "$2" --data "$T/d$1" "${@:3}"; }
# fresh_redeem TERMINAL KEY CERT REWARD: TERMINAL loads a package built now,
# then the phone with KEY and CERT redeems REWARD there.
fresh_redeem() {
    "$LEAL" terminal package --terminal "$1" -o "$T/fresh.lpkg" >/dev/null
    "$LT" load "$T/fresh.lpkg" --data "$T/d$1" >/dev/null
    run_capture "$LT" tap --qr "$("$LEAL" qr device code --key "$T/$2.key" --cert "$T/$3")" \
        --redeem "$4" --data "$T/d$1"
}

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
"$LEAL" terminal add --store 1 --name "caja 2" >/dev/null
"$LEAL" reward add --program 7 --name "Café gratis" --kind product --value 1001 --cost 100 \
    --reason catálogo --operator Marta >/dev/null
"$LEAL" reward add --program 7 --name "Galleta" --kind product --value 1002 --cost 30 \
    --reason catálogo --operator Marta >/dev/null
ACCT=$("$LEAL" customer add --program 7 --name Ana --json | field account)
"$LEAL" ledger post --account "$ACCT" --asset PTS --amount 200 --reason regalo --operator t >/dev/null
STATIC=$("$LEAL" qr issue --account "$ACCT" -o "$T/code.png" --json | field text)
"$LEAL" qr device keygen -o "$T/phone.key" >/dev/null
"$LEAL" qr device keygen -o "$T/greedy.key" >/dev/null

run_capture "$LEAL" qr enrol --account "$ACCT" --pubkey "$T/greedy.key.pub" -o "$T/greedy.cert" \
    --redeem-allowance 201
check_eq "an allowance above the account's 200 points: refused, nothing written" \
    "2|0|0|200" "$RC|$([ -e "$T/greedy.cert" ] && echo 1 || echo 0)|$(q "select count(*) from card where tech = 'virtual-qr' and layout_version = 2")|$(bal "$ACCT" PTS)"
check_eq "its one-line reason names the shortfall and what to do" \
    "leal: qr enrol: --redeem-allowance 201 is more than the 200 points account $ACCT holds; nothing enrolled: hold fewer points" "$ERR"
PHONE=$("$LEAL" qr enrol --account "$ACCT" --pubkey "$T/phone.key.pub" -o "$T/phone.cert" \
    --redeem-allowance 150 --json | field virtual_card)
check_eq "enrol --redeem-allowance 150: 50 points left, 150 held for the phone, in one entry" \
    "50|150|1" "$(bal "$ACCT" PTS)|$(bal "$ACCT" "PTS-HOLD:$PHONE")|$(q "select count(*) from entry where request_id = 'qrhold:$PHONE'")"
for t in 1 2; do
    "$LEAL" keys export-terminal --terminal $t --program 7 --expires 2027-06-01 -o "$T/t$t.ltb" >/dev/null
    "$LEAL" terminal package --terminal $t -o "$T/p$t.lpkg" >/dev/null
    "$LT" init --bundle "$T/t$t.ltb" --data "$T/d$t" >/dev/null
    "$LT" load "$T/p$t.lpkg" --data "$T/d$t" >/dev/null
done

OVER="the reward costs more than this phone may still redeem offline here; redeem it at the desk or with the card"
redeem 1 1
check_eq "terminal 1: reward 1 (100 points) within the 150 held" \
    "0|QR spending $PHONE redeem: reward 1 redeemed, -100 points (50 left to redeem here)|" "$RC|$OUT|$ERR"
redeem 1 1 --json
check_eq "terminal 1: reward 1 again passes what is left here (50): refused, its own reason" \
    "3|LEAL_E_QR_REDEEM_ALLOWANCE|$OVER" \
    "$RC|$($PY -c 'import json,sys; r=json.load(sys.stdin)["reason"]; print(r["name"] + "|" + r["message"])' <<<"$OUT")"
run_capture "$LT" tap --qr "$STATIC" --redeem 2 --data "$T/d1"
check_eq "a static code never redeems: refused, its own reason" \
    "3|QR static $(q "select card_id from card where layout_version = 1") redeem: REFUSED: a static QR code never redeems a reward; the customer shows their phone's spending code, or redeems at the desk" \
    "$RC|$OUT"
redeem 1 2
check_eq "terminal 1: reward 2 (30 points) fits: 20 left here" \
    "0|QR spending $PHONE redeem: reward 2 redeemed, -30 points (20 left to redeem here)" "$RC|$OUT"
redeem 2 1
check_eq "terminal 2 counts its own journal only: reward 1 (100) within its 150" \
    "0|QR spending $PHONE redeem: reward 1 redeemed, -100 points (50 left to redeem here)" "$RC|$OUT"

"$LT" journal export -o "$T/e1" --data "$T/d1" >/dev/null
"$LT" journal export -o "$T/e2" --data "$T/d2" >/dev/null
run_capture "$LEAL" sync import "$T/e1"
check_match "terminal 1's import: its 2 redeems posted" "2 posted, .* 0 held" "$OUT"
check_eq "booked from the hold: PTS 50 untouched, hold 150-130 = 20, points_redeemed 130" \
    "50|20|130" "$(bal "$ACCT" PTS)|$(bal "$ACCT" "PTS-HOLD:$PHONE")|$(prog points_redeemed PTS)"
check_eq "each redeem an entry of kind redeem keyed by terminal 1's sequence" \
    "redeem:2:-100 redeem:5:-30" \
    "$(q "select group_concat(x, ' ') from (select e.kind || ':' || e.terminal_seq || ':' || l.amount as x from entry e join line l on l.entry_id = e.id where e.terminal_id = 1 and l.account_id = $ACCT and l.asset = 'PTS-HOLD:$PHONE' order by e.terminal_seq)")"
run_capture "$LEAL" sync import "$T/e1"
check_match "the same export again books nothing" "0 taken .* already there" "$OUT"
check_eq "balances unchanged" "50|20|130" \
    "$(bal "$ACCT" PTS)|$(bal "$ACCT" "PTS-HOLD:$PHONE")|$(prog points_redeemed PTS)"
run_capture "$LEAL" sync import "$T/e2"
check_match "terminal 2's redeem passes the 20 left: held" "0 posted, .* 1 held" "$OUT"
check_eq "the finding: qr_over_redeem on the phone at terminal 2, seq 2 (a held finding)" \
    "held|$PHONE|2|2|qr_over_redeem: QR redeem of reward 1 (100 points) by virtual card $PHONE passes the points held for it (terminals together redeemed more than its allowance); entry held, phone blocked" \
    "$(q "select kind, card_id, terminal_id, seq, detail from sync_finding")"
check_eq "the card's history says why it was blocked" "blocked|qr_over_redeem: redeems passed the points held|sync import" \
    "$(q "select status, reason, operator from card_event where card_id = $PHONE order by id desc limit 1")"
check_eq "the phone is blocked; nothing came from PTS; the 20 left in its hold go back to PTS" \
    "blocked|70|0|130|1" \
    "$(q "select status from card where card_id = $PHONE")|$(bal "$ACCT" PTS)|$(bal "$ACCT" "PTS-HOLD:$PHONE")|$(prog points_redeemed PTS)|$(q "select count(*) from entry where request_id = 'qrhold:$PHONE:release'")"
"$LEAL" terminal package --terminal 1 -o "$T/p1b.lpkg" >/dev/null
"$LT" load "$T/p1b.lpkg" --data "$T/d1" >/dev/null
redeem 1 2
check_eq "the next package hot-lists the phone: terminal 1 refuses its fresh code" \
    "3|QR spending $PHONE redeem: REFUSED: QR code revoked (a lost phone or a re-issued code); the customer gets a new one at the desk" \
    "$RC|$OUT"

# A revoke gives back what the hold has left at once; a redeem a terminal
# took before it and imports after finds the hold empty: held, never from PTS.
"$LEAL" qr device keygen -o "$T/second.key" >/dev/null
SECOND=$("$LEAL" qr enrol --account "$ACCT" --pubkey "$T/second.key.pub" -o "$T/second.cert" \
    --redeem-allowance 60 --json | field virtual_card)
fresh_redeem 1 second second.cert 2
check_eq "a second phone with 60 held redeems reward 2 (30) at terminal 1, not yet synced" \
    "0|QR spending $SECOND redeem: reward 2 redeemed, -30 points (30 left to redeem here)" "$RC|$OUT"
run_capture "$LEAL" qr revoke "$SECOND" --reason "phone lost"
check_eq "revoke: the 60 held go back to the account at once" \
    "0|virtual card $SECOND revoked; it goes on the hot list of the next terminal package; 60 points held for it went back to account $ACCT" \
    "$RC|$OUT"
check_eq "after the revoke: PTS 70 + 60 - 60 = 70, hold 0, one release entry" "70|0|1" \
    "$(bal "$ACCT" PTS)|$(bal "$ACCT" "PTS-HOLD:$SECOND")|$(q "select count(*) from entry where request_id = 'qrhold:$SECOND:release'")"
"$LT" journal export -o "$T/e1b" --data "$T/d1" >/dev/null
run_capture "$LEAL" sync import "$T/e1b"
check_match "terminal 1's redeem from before the revoke: held" "0 posted, .* 1 held" "$OUT"
check_eq "its finding says the hold was given back" \
    "held|$SECOND|1|qr_over_redeem: QR redeem of reward 2 (30 points) by virtual card $SECOND imported after the phone was lost and its hold given back; entry held" \
    "$(q "select kind, card_id, terminal_id, detail from sync_finding where card_id = $SECOND")"
check_eq "nothing booked from PTS or the hold: 70|0|130, the phone stays lost" "70|0|130|lost" \
    "$(bal "$ACCT" PTS)|$(bal "$ACCT" "PTS-HOLD:$SECOND")|$(prog points_redeemed PTS)|$(q "select status from card where card_id = $SECOND")"

# A re-enrol with --replaces: the old phone replaced, its hold given back
# before the new one is held, in one transaction.
"$LEAL" qr device keygen -o "$T/third.key" >/dev/null
THIRD=$("$LEAL" qr enrol --account "$ACCT" --pubkey "$T/third.key.pub" -o "$T/third.cert" \
    --redeem-allowance 40 --json | field virtual_card)
run_capture "$LEAL" qr enrol --account "$ACCT" --pubkey "$T/third.key.pub" -o "$T/x.cert" \
    --replaces "$(q "select card_id from card where layout_version = 1")"
check_eq "--replaces a static code: exit 2, one line, nothing enrolled" \
    "2|leal: --replaces $(q "select card_id from card where layout_version = 1"): not a phone of account $ACCT (the virtual card 'leal qr enrol' printed for it); nothing enrolled|no|3" \
    "$RC|$ERR|$([ -e "$T/x.cert" ] && echo yes || echo no)|$(q "select count(*) from card where layout_version = 2")"
NEW=$("$LEAL" qr enrol --account "$ACCT" --pubkey "$T/third.key.pub" -o "$T/third2.cert" \
    --replaces "$THIRD" --redeem-allowance 70 --json | field virtual_card)
check_eq "re-enrol: old phone replaced, its 40 back (PTS 30+40), then 70 held for the new one" \
    "replaced|0|0|70|re-enrolled: replaced by virtual card $NEW|qr enrol" \
    "$(q "select status from card where card_id = $THIRD")|$(bal "$ACCT" "PTS-HOLD:$THIRD")|$(bal "$ACCT" PTS)|$(bal "$ACCT" "PTS-HOLD:$NEW")|$(q "select reason || '|' || operator from card_event where card_id = $THIRD order by id desc limit 1")"
run_capture "$LEAL" qr enrol --account "$ACCT" --pubkey "$T/third.key.pub" -o "$T/x.cert" \
    --replaces "$THIRD" --redeem-allowance 1
check_eq "replacing it again: refused, nothing enrolled, balances unchanged" "2|leal: qr enrol: card $THIRD is replaced: a card cannot change to that status from its current one|no|0|70" \
    "$RC|$ERR|$([ -e "$T/x.cert" ] && echo yes || echo no)|$(bal "$ACCT" PTS)|$(bal "$ACCT" "PTS-HOLD:$NEW")"

# A cashback reward by QR: 50 points from the new phone's hold, 5.00 owed to
# the account (CASHBACK), valued by the rule set of the package it ran.
"$LEAL" reward add --program 7 --name vuelta --kind cashback --cost 50 --value 5 \
    --reason "cashback en caja" >/dev/null
fresh_redeem 2 third third2.cert 3
check_eq "the new phone redeems cashback reward 3 (50 of its 70) at terminal 2" \
    "0|QR spending $NEW redeem: reward 3 redeemed, -50 points (20 left to redeem here)" "$RC|$OUT"
"$LT" journal export -o "$T/e2b" --data "$T/d2" >/dev/null
run_capture "$LEAL" sync import "$T/e2b"
check_eq "booked: hold 70-50 = 20, PTS 0, points_redeemed 130+50, 5.00 CASHBACK owed" \
    "20|0|180|500|-500" \
    "$(bal "$ACCT" "PTS-HOLD:$NEW")|$(bal "$ACCT" PTS)|$(prog points_redeemed PTS)|$(bal "$ACCT" CASHBACK)|$(prog cashback_owed CASHBACK)"

run_capture "$LEAL" ledger verify
check_eq "ledger verify: exit 0" 0 "$RC"
finish
