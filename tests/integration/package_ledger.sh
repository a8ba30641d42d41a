#!/bin/bash
# package_ledger.sh - `leal terminal package` built from the ledger alone (no
# card read at a desk: the cards are added to their accounts), on either
# backend: LEAL_TEST_BACKEND=pg runs every case on PostgreSQL (sale_pg.sh;
# tests/lib/backend.sh). The program's rule set byte for byte, the names, the
# hot list, the floors, a card's host changes netted into one pending record,
# a phone's points held as a QR allowance at the tier its account's sales give
# it this month, the site and the caps, read back by tests/lib/package_decode.py
# (PACKAGE.md, independent of leal's C code); what the build records in the
# ledger (the terminal's package version, its caps and rule-set version, the
# host changes sent); the version going up; an unknown terminal refused; a
# reward redeemed at the host, once per request.
# package.sh covers the cards a desk issued, replaced and read.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/backend.sh

backend_fixture package-ledger "package ledger passphrase"
decode() { $PY tests/lib/package_decode.py "$1"; }
l() { run_capture "$LEAL" "$@"; }

"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
for n in Ana Luis Pilar; do l customer add --program 7 --name "$n"; done
check_eq "$BK: three customers, accounts 11 to 13" "customer 3 added, account 13" "$OUT"
# Ana and Luis have a DESFire card each, Pilar one and a phone (its virtual card).
"$LEAL" account add-card 11 --card-id 101 --uid 04112233445566 --tech desfire-ev1 >/dev/null
"$LEAL" account add-card 12 --card-id 102 --uid 04112233445577 --tech desfire-ev1 >/dev/null
"$LEAL" account add-card 13 --card-id 103 --uid 04112233445588 --tech desfire-ev2 >/dev/null
l account add-card 13 --card-id 104 --uid 51525354 --tech virtual-qr
check_eq "$BK: the cards" "0|101 desfire-ev1 active,102 desfire-ev1 active,103 desfire-ev2 active,104 virtual-qr active" \
    "$RC|$(rows "select card_id || ' ' || tech || ' ' || status from card order by card_id" ,)"
# Luis's card blocked (the desk's `card block` does not run on PostgreSQL: the row as it leaves it).
q "update card set status = 'blocked', updated_at = 1796000000 where card_id = 102"

# The program's rules: a rule, a tier, a reward, a stamp card and a bono kind (version 5).
"$LEAL" sale category add cafe --program 7 --code 3 >/dev/null
"$LEAL" rule add --program 7 --bonus 10 --categories cafe --reason "café" >/dev/null
"$LEAL" tier add --program 7 --name Oro --threshold 500 --multiplier 1,5 --reason oro >/dev/null
"$LEAL" reward add --program 7 --name "Café gratis" --kind product --value 1001 --cost 100 \
    --reason "catálogo" >/dev/null
"$LEAL" stamp add --program 7 --name "Café" --per item --category cafe --goal 10 --reward 1 \
    --reason "café" >/dev/null
l bono add --program 7 --name "10 masajes" --sessions 10 --price 45 --reason bonos
check_eq "$BK: the rules at version 5" "0|bono 1 added (program 7, rule set version 5)" "$RC|$OUT"

# Ana's host changes: a birthday bonus of 40 and a correction of -5 net to +35; a euro
# correction never travels. Pilar's phone holds 30 points for its offline redeems.
"$LEAL" ledger post --account 11 --asset PTS --amount 40 --reason "cumpleaños" \
    --operator Marta --reference "bonus:cumpleaños" >/dev/null
"$LEAL" ledger post --account 11 --asset PTS --amount -5 --reason "corrección" \
    --operator Marta >/dev/null
"$LEAL" ledger post --account 11 --asset EUR --amount 5 --reason "corrección" \
    --operator Marta >/dev/null
l ledger post --account 13 --asset PTS-HOLD:104 --amount 30 --reason "retenidos" --operator Marta
check_eq "$BK: the phone's hold posted" 0 "$RC"
UPTO=$(q "select max(e.id) from entry e join line n on n.entry_id = e.id where n.account_id = 11 and n.asset = 'PTS'")
HOLD=$(q "select max(entry_id) from line where account_id = 13 and asset = 'PTS-HOLD:104'")
check_eq "$BK: entries 1 and 2 for Ana's points, 4 for the hold" "2|4" "$UPTO|$HOLD"

# Pilar's sale of 600,00 now earns 600 points (a host change for her card) and puts her
# at tier 1 (Oro, from 500 euros in the window) this month: the phone's allowance carries
# that tier for the month the package is built in.
clear_of_midnight 60 Europe/Madrid
l sale --account 13 --amount 600 --store 1 --request-id pilar-1 --json
check_match "$BK: Pilar's sale: entry 5, 600 points, tier 0 -> 1" \
    '^\{"sale":1,"entry":5,"account":13,.*"points":600,.*"tier_before":0,"tier":1,' "$OUT"

l terminal package --terminal 1 -o "$T/p1.lpkg" --valid-days 3 --json
check_eq "$BK: terminal package exits 0, nothing on stderr" "0|" "$RC|$ERR"
SIZE=$(stat -c %s "$T/p1.lpkg")
ISSUED=$(od -An -tu8 --endian=big -j20 -N8 "$T/p1.lpkg" | tr -d ' ')
UNTIL=$(od -An -tu8 --endian=big -j28 -N8 "$T/p1.lpkg" | tr -d ' ')
RULES=$(q "select length(encoded) from rule_set where program_id = 7 and version = 5")
check_eq "$BK: size: header, rules, 1 hot, 2 floors, 3 pending, the names (Oro, Café, Café gratis, 10 masajes, Centro), site, caps, signature" \
    $((60 + RULES + 9 + 2 * 28 + 3 * 24 + 5 * 6 + 3 + 5 + 12 + 10 + 6 + 32 + 8 + 64)) "$SIZE"
check_eq "$BK: build --json" "{\"file\":\"$T/p1.lpkg\",\"program\":7,\"terminal\":1,\"version\":1,\"issued_at\":$ISSUED,\"valid_until_at\":$UNTIL,\"hot_list\":1,\"floors\":2,\"pending\":3,\"store\":1,\"classic_purse_cap\":\"0.00\",\"key_version\":1,\"bytes\":$SIZE}" "$OUT"
DEC=$(decode "$T/p1.lpkg")
check_eq "$BK: the rules section is the ledger's version 5, byte for byte" \
    "rules $(q "select $(sql_hex encoded) from rule_set where program_id = 7 and version = 5")" \
    "$(grep '^rules ' <<<"$DEC")"
check_eq "$BK: rules head: format 1, version 5, rate 1000, 1 tier, 1 rule, 1 stamp card, 1 reward, 1 bono" \
    "rules-head 1 5 1000 1 1 1 1 1" "$(grep '^rules-head' <<<"$DEC")"
check_eq "$BK: hot list: Luis's card" "hot 102 blocked" "$(grep '^hot' <<<"$DEC")"
check_eq "$BK: floors: the active DESFire cards, never seen (0 taps), the EV2 one marked (flag 2)" \
    "floor 101 desfire 0 0 0 0000000000000000
floor 103 desfire 2 0 0 0000000000000000" "$(grep '^floor' <<<"$DEC")"
PERIOD=$(TZ=Europe/Madrid date -d "@$ISSUED" '+%Y %m' | awk '{print ($1 - 2000) * 12 + $2}')
check_eq "$BK: pending: Ana +35 at 0 taps up to entry 2 (adjustment and bonus), Pilar's card +600 up to entry 5 (earned), her phone's 30 held up to entry 4 at tier 1 this month" \
    "pending 101 0 $UPTO 35 3 0 0
pending 103 0 5 600 2 0 0
pending 104 0 $HOLD 30 16 1 $PERIOD" "$(grep '^pending' <<<"$DEC")"
check_eq "$BK: names: tier, stamp card, reward, bono, store, in (kind, item) order" \
    "name tier 1 Oro
name stamp 0 Café
name reward 1 Café gratis
name bono 1 10 masajes
name store 1 Centro" "$(grep '^name' <<<"$DEC")"
check_eq "$BK: site: store 1, Classic off, Europe/Madrid's rules" \
    "site 1 0 60 120 1 3 5 0 7200 10 5 0 10800" "$(grep '^site' <<<"$DEC")"
check_eq "$BK: caps" "caps 5000 20000" "$(grep '^caps' <<<"$DEC")"
check_eq "$BK: the ledger: version 1, its caps and rule-set version, the cards' changes sent at 0 taps up to entries 2 and 5 (a phone's hold is not a change)" \
    "1|1 5000 20000|1 5|101 0 $UPTO,103 0 5" \
    "$(q "select package_version from terminal where id = 1")|$(rows "select version || ' ' || cap_day_cents || ' ' || cap_sync_cents from package_caps where terminal_id = 1")|$(rows "select version || ' ' || rules_version from package_rules where terminal_id = 1")|$(rows "select card_id || ' ' || taps || ' ' || upto_entry from card_host_change_sent order by card_id" ,)"
l package show "$T/p1.lpkg"
check_match "$BK: show: the signature verifies" "^signature +verifies against the keystore's public key$" "$OUT"

l terminal package --terminal 1 -o "$T/p2.lpkg" --day-cap 20 --sync-cap 80,50
check_match "$BK: second build: version 2, its caps" "^wrote terminal package $T/p2.lpkg: terminal 1, program 7, store 1, version 2, 1 cards hot-listed, 2 floors, 3 cards with host changes, caps 20.00 a day and 80.50 between syncs, Classic purse off, valid until .* UTC, signed with package key version 1 \($SIZE bytes\)$" "$OUT"
check_eq "$BK: p2 caps, recorded" "caps 2000 8050|2 2000 8050" \
    "$(decode "$T/p2.lpkg" | grep '^caps')|$(q "select version || ' ' || cap_day_cents || ' ' || cap_sync_cents from package_caps where terminal_id = 1 and version = 2")"
l terminal package --terminal 9 -o "$T/p9.lpkg"
check_eq "$BK: an unknown terminal: exit 2, no file, no version taken" \
    "2|leal: terminal package: terminal 9: no such id|absent|2" \
    "$RC|$ERR|$([ -e "$T/p9.lpkg" ] && echo present || echo absent)|$(q "select package_version from terminal where id = 1")"
# A reward redeemed at the host against the ledger's points (no card present), once per
# request; an account with too few points is refused with nothing posted.
json() { $PY -c "import json,sys; d=json.load(sys.stdin); print(*[d[k] for k in sys.argv[1:]])" "$@"; }
l reward redeem --program 7 --reward "Café gratis" --account 13 --request pilar-r1 --json
check_eq "$BK: reward redeem: 100 of Pilar's 600 points" "0|False product 100 500" \
    "$RC|$(json replayed kind points points_after <<<"$OUT")"
l reward redeem --program 7 --reward "Café gratis" --account 13 --request pilar-r1 --json
check_eq "$BK: the same request again: replayed, nothing moves" "0|True 500|500" \
    "$RC|$(json replayed points_after <<<"$OUT")|$(bal 13 PTS)"
l reward redeem --program 7 --reward 1 --account 11 --request ana-r1
check_eq "$BK: Ana's 35 points are too few: refused, nothing posted" \
    "1|leal: the account has too few points for this reward; nothing was posted|35|0" \
    "$RC|$ERR|$(bal 11 PTS)|$(q "select count(*) from entry where request_id like '%ana-r1%'")"
l ledger verify
check_eq "$BK: ledger verify" 0 "$RC"
finish
