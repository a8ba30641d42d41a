#!/bin/bash
# sale.sh - `leal sale`, `leal sale refund`, `leal sale category` and `leal
# rules simulate` end to end on a real ledger: exact output (text and
# --json), the store's local time (Europe/Madrid's repeated hour),
# idempotent retries, refunds whole and in part, owed points, and every bad
# input exiting 2 with one line and the database exactly as it was;
# `ledger verify` finding a sale whose entry does not move what it records;
# `leal report` over these sales, every report with exact figures (on SQLite
# from the summaries, on PostgreSQL from the entries; settlement refused for a
# program that is not a collective, ledger_pg.sh settles one).
# LEAL_TEST_BACKEND=pg runs every case on PostgreSQL (sale_pg.sh;
# tests/lib/backend.sh), which also copies the ledger to an SQLite file and
# back to PostgreSQL with every sale, refund and rule set.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/backend.sh

backend_fixture sale "sale test passphrase"

l() { run_capture "$LEAL" "$@" --db "$DB"; }
dump() { backend_dump | sha256sum; }

# bad NAME EXIT EXPECTED_ERR_REGEX ARGS...: that exit, the error in one line, nothing written.
bad() {
    local name=$1 code=$2 re=$3 before
    shift 3
    before=$(dump)
    l "$@"
    check_eq "$name: exit $code" "$code" "$RC"
    check_match "$name: error" "$re" "$ERR"
    check_eq "$name: one line" 1 "$(printf '%s\n' "$ERR" | wc -l)"
    check_eq "$name: nothing written" "$before" "$(dump)"
}

l program create --code sol --name "Café Sol" --kind single --points-per-euro 1,2 \
    --points-expiry-days 365
check_eq "program" 0 "$RC"
l program create --code otro --name "Otro" --kind single --points-per-euro 1
l store add --program 1 --code centro --name Centro --tz Europe/Madrid
l store add --program 2 --code lisboa --name Lisboa --tz Europe/Lisbon
l customer add --program 1 --name Alicia
check_eq "customer" "customer 1 added, account 21" "$OUT"
l account add-card 21 --card-id 77 --uid 04A1B2C3D4E5F6 --tech desfire-ev2
check_eq "card" 0 "$RC"

# Categories, named per program.
l sale category add cafe --program 1
check_eq "category add" "category 1 is cafe" "$OUT"
l sale category add libros --program 1 --code 40 --json
check_eq "category add json" '{"code":40,"name":"libros"}' "$OUT"
l sale category list --program 1
check_eq "category list" "$(printf '      1 cafe\n     40 libros')" "$OUT"
bad "category twice" 2 "^leal: sale category add: program 1 already has a category 'cafe'" \
    sale category add cafe --program 1
bad "category name" 2 "^leal: sale category add: a category name is 1 to 32 of a-z 0-9 _ -" \
    sale category add Café --program 1

# A sale on the account: 17:00 in Madrid; 1,2 points a euro on 23,50 is 28.
l sale --account 21 --amount 23,50 --category cafe=3x3,20 --store 1 \
    --at 2026-12-01T16:00:00Z --request-id t1 --operator Marta
check_eq "sale exit" 0 "$RC"
check_eq "sale" "$(printf '%s\n' \
    'sale 1: account 21, 23.50 EUR at 2026-12-01 17:00:00 (store 1)' \
    '  base                +28' \
    'points +28, balance 28' \
    'tier 0 -> 0 (23 EUR in the window)')" "$OUT"
check_eq "sale entry" "earn|sale:t1|Marta|2350|1" \
    "$(q "select kind, request_id, operator, spend_cents, store_id from entry where id = 1")"
check_eq "sale items" "1|3|320" "$(q "select category, quantity, amount_cents from sale_item")"
check_eq "points lot expires a year on" "28|1827676800" \
    "$(q "select original, expires_at from lot")"

# The same request again posts nothing; with other content it is refused.
before=$(dump)
l sale --account 21 --amount 23,50 --category cafe=3x3,20 --store 1 \
    --at 2026-12-01T16:00:00Z --request-id t1 --operator Marta --json
check_eq "replay json" '{"sale":1,"entry":1,"account":21,"card":0,"replayed":true,"local":"2026-12-01 17:00:00","amount_cents":2350,"points":28,"points_settled":0,"lines":[{"source":"base","id":0,"name":"","points":28}],"balance":28,"tier_before":0,"tier":0,"stamps":[]}' "$OUT"
check_eq "replay wrote nothing" "$before" "$(dump)"
bad "same request, other sale" 2 \
    "^leal: sale: request id 't1' is sale 1's, with other content: " \
    sale --account 21 --amount 23,60 --store 1 --at 2026-12-01T16:00:00Z --request-id t1

# By card, in the repeated hour of 25 October: 00:30 and 01:30 UTC are both 02:30.
l sale --card-id 77 --amount 10 --store 1 --at 2026-10-25T00:30:00Z --request-id t2
check_eq "card sale, first 02:30" \
    "sale 2: account 21, 10.00 EUR at 2026-10-25 02:30:00 (store 1)" "$(head -1 <<<"$OUT")"
l sale --card-id 77 --amount 10 --store 1 --at 2026-10-25T01:30:00Z --request-id t3 --json
check_match "card sale, second 02:30" '"local":"2026-10-25 02:30:00","amount_cents":1000,"points":12' "$OUT"
check_eq "card on the entries" "2" "$(q "select count(*) from entry where card_id = 77")"

# Refunds: 7,00 of sale 1 takes floor(28 x 700 / 2350) = 8 points and 6 euros of spend.
l sale refund --sale 1 --amount 7,00 --at 2026-12-02T10:00:00Z --request-id r1 --operator Marta
check_eq "partial refund" "$(printf '%s\n' \
    'refund 1 of sale 1: 7.00 of 23.50 EUR (0.00 refunded before)' \
    'points -8 (0 short), tier spend -6 EUR')" "$OUT"
before=$(dump)
l sale refund --sale 1 --amount 7,00 --at 2026-12-02T10:00:00Z --request-id r1 --operator Marta
check_eq "refund replay" "refund 1 (already posted: same request id) of sale 1: 7.00 of 23.50 EUR (0.00 refunded before)" "$(head -1 <<<"$OUT")"
check_eq "refund replay wrote nothing" "$before" "$(dump)"
bad "refund more than left" 2 \
    "^leal: sale refund: sale 1 has 16.50 left to refund, not 20.00: " \
    sale refund --sale 1 --amount 20 --request-id r2
l sale refund --sale 1 --at 2026-12-02T10:05:00Z --request-id r3 --json
check_eq "the rest" '{"refund":2,"sale":1,"entry":5,"account":21,"replayed":false,"amount_cents":1650,"already_cents":700,"sale_cents":2350,"points_back":20,"points_short":0,"points_owed":0,"units_back":17,"stamps":[]}' "$OUT"
bad "refunded in full" 2 "^leal: sale refund: sale 1 \(23.50\) is refunded in full: " \
    sale refund --sale 1 --request-id r4
check_eq "refund entries" "refund|1|-700|1
refund|1|-1650|1" "$(q "select kind, reverses, spend_cents, store_id from entry where kind = 'refund' order by id")"
l account show 21 --json
check_match "balance: the card sales only" '"balances":\{"PTS":24\}' "$OUT"

# The period replayed under the program's rules gives what the sales gave.
l rules simulate --program 1 --from 2026-10-01 --to 2026-12-31
check_eq "simulate" "$(printf '%s\n' \
    "program 1, 2026-10-01 to 2026-12-31, replayed under the program's current rules (version 0)" \
    '   account customer  sales refunds       real  simulated  difference' \
    '        21        1      3       2         24         24          +0' \
    'total points: real 24, simulated 24 (+0)' \
    'liability at 0.01 EUR a point (the program has no voucher reward): real 0.24 EUR, simulated 0.24 EUR (0.00)')" "$OUT"
l rules simulate --program 1 --from 2026-12-01 --to 2026-12-31 --point-value 0,05 --json
check_eq "simulate json" '{"program":1,"from":"2026-12-01","to":"2026-12-31","rules_version":0,"with":null,"accounts":[{"account":21,"customer":1,"sales":1,"refunds":2,"real_points":0,"sim_points":0}],"totals":{"accounts":1,"sales":1,"refunds":2,"real_points":0,"sim_points":0,"real_liability_cents":0,"sim_liability_cents":0,"point_value":"0.05 EUR a point (--point-value)"}}' "$OUT"
# A proposed set (RULES.md 7: format 1, version 7, rate 2400, nothing else): 2,4 points a euro.
printf '\001\000\000\000\007\000\000\011\140\000\000\000\000\000\000\000\000\000' >"$T/double.rules"
l rules simulate --program 1 --from 2026-10-01 --to 2026-12-31 --with "$T/double.rules"
check_eq "simulate with a proposed set" "$(printf '%s\n' \
    "program 1, 2026-10-01 to 2026-12-31, replayed under the rules in $T/double.rules (version 7)" \
    '   account customer  sales refunds       real  simulated  difference' \
    '        21        1      3       2         24         48         +24' \
    'total points: real 24, simulated 48 (+24)' \
    'liability at 0.01 EUR a point (the program has no voucher reward): real 0.24 EUR, simulated 0.48 EUR (0.24)')" "$OUT"
head -c 17 "$T/double.rules" >"$T/short.rules"
bad "simulate with a short set" 2 "^leal: --with $T/short.rules: not a rule set \(RULES.md 7\): " \
    rules simulate --program 1 --from 2026-10-01 --to 2026-12-31 --with "$T/short.rules"
bad "simulate dates" 2 "^leal: --to 2026-11-30 is before --from 2026-12-01" \
    rules simulate --program 1 --from 2026-12-01 --to 2026-11-30
bad "simulate date" 2 "^leal: --from '2026-13-01' \(YYYY-MM-DD\): " \
    rules simulate --program 1 --from 2026-13-01 --to 2026-12-31
bad "simulate program" 2 "^leal: program: program 7: no such id" \
    rules simulate --program 7 --from 2026-12-01 --to 2026-12-31

# A whole refund without a request id has one key per sale: run twice, it posts once.
l sale refund --sale 2 --at 2026-12-03T10:00:00Z
check_eq "whole refund" "$(printf '%s\n' \
    'refund 3 of sale 2: 10.00 of 10.00 EUR (0.00 refunded before)' \
    'points -12 (0 short), tier spend -10 EUR')" "$OUT"
before=$(dump)
l sale refund --sale 2 --at 2026-12-03T10:00:00Z
check_eq "whole refund again" "refund 3 (already posted: same request id) of sale 2: 10.00 of 10.00 EUR (0.00 refunded before)" "$(head -1 <<<"$OUT")"
check_eq "whole refund again wrote nothing" "$before" "$(dump)"
check_eq "its key" "sale-2-rest" "$(q "select request_id from sale_refund where id = 3")"

# Bad input: exit 2, one line, nothing written.
bad "card and account" 2 "^leal: leal sale needs --card-id or --account \(one of them\)" \
    sale --card-id 77 --account 21 --amount 1 --store 1
bad "amount" 2 "^leal: --amount '12.345' \(euros, 0 to 1000000.00, like 23,50\): " \
    sale --account 21 --amount 12.345 --store 1
bad "category syntax" 2 "^leal: --category 'cafe' is NAME=EUR or NAME=NxEUR" \
    sale --account 21 --amount 1 --store 1 --category cafe
bad "unknown category" 2 \
    "^leal: --category: program 1 has no category 'te'; add it with 'leal sale category add te --program 1'$" \
    sale --account 21 --amount 5 --store 1 --category te=1
bad "items above the sale" 2 "^leal: sale: the rules engine refused the sale: " \
    sale --account 21 --amount 1 --store 1 --category cafe=2
bad "time" 2 "^leal: --at '2026-12-01 16:00' \(2026-12-01T16:00:00Z or @UNIXSECONDS\): " \
    sale --account 21 --amount 1 --store 1 --at "2026-12-01 16:00"
bad "unknown store" 2 "^leal: sale: store 9: no such id" sale --account 21 --amount 1 --store 9
bad "other program's store" 2 "^leal: sale: store 2 is not in account 21's program 1: " \
    sale --account 21 --amount 1 --store 2
bad "unknown card" 2 "^leal: sale: card 78: no such id" sale --card-id 78 --amount 1 --store 1
bad "program's own account" 2 "^leal: sale: account 1 is the program's own, not a customer's: " \
    sale --account 1 --amount 1 --store 1
bad "unknown sale" 2 "^leal: sale refund: sale 9: no such id" sale refund --sale 9
l sale --account 21 --amount 1 --store 1 --json --bogus
check_eq "unknown option json" '{"error":{"code":303,"name":"LEAL_E_USAGE","message":"unknown option '"'"'--bogus'"'"'"}}' "$OUT"
# The program's stored rules, as the rules commands keep them (rule_set version 3: the golden
# set of tests/vectors/leal_rules_set.txt, with names): a new customer's Tuesday-afternoon
# sale of 20,00 with two teas (category 3) at store 1 earns 24 base, 50 welcome, 24 for
# double points on Tuesdays 16:00-20:00, 10 for 5,00 of category 3; a stamp per tea.
SET=$(sed -n 's/^SET = //p' tests/vectors/leal_rules_set.txt)
q "insert into rule_set values (1, 3, 1796000000, 'Marta', 'test', 'golden set', $(sql_blob "$SET"));
insert into rule_set_name values (1, 3, 3, 1, 'Doble martes'), (1, 3, 3, 2, 'Diez por té'),
(1, 3, 2, 1, 'Plata'), (1, 3, 4, 1, 'Cafés');"
l customer add --program 1 --name Beatriz
l sale category add te --program 1 --code 3
l sale --account 22 --amount 20 --category te=2x6,00 --store 1 --at 2026-12-08T16:00:00Z \
    --request-id t4
check_eq "sale under stored rules" "$(printf '%s\n' \
    'sale 4: account 22, 20.00 EUR at 2026-12-08 17:00:00 (store 1)' \
    '  base                +24' \
    '  welcome             +50' \
    '  rule    1           +24  Doble martes' \
    '  rule    2           +10  Diez por té' \
    'points +108, balance 108' \
    'tier 0 -> 0 (20 EUR in the window)' \
    'stamp card 1 (Cafés): +2, 2 now')" "$OUT"
check_eq "the sale's rules version" "3" "$(q "select rules_version from sale where id = 4")"
check_eq "per-rule lines" "1|0|24 3|0|50 4|1|24 4|2|10" \
    "$(q "select source, rule_id, points from sale_line where sale_id = 4 order by n" | tr '\n' ' ' | sed 's/ $//')"
check_eq "stamps as STAMP:1" "2" "$(q "select amount from balance where account_id = 22 and asset = 'STAMP:1'")"
l rules simulate --program 1 --from 2026-12-01 --to 2026-12-31
check_eq "simulate under stored rules" "$(printf '%s\n' \
    "program 1, 2026-12-01 to 2026-12-31, replayed under the program's current rules (version 3)" \
    '   account customer  sales refunds       real  simulated  difference' \
    '        21        1      1       3        -12        -12          +0' \
    '        22        2      1       0        108        108          +0' \
    'total points: real 96, simulated 96 (+0)' \
    "liability at reward 8's rate (5.00 EUR for 250 points): real 1.92 EUR, simulated 1.92 EUR (0.00)")" "$OUT"
# RULES.md 6: points a refund cannot take back (spent since the sale) are owed by the account,
# never a negative balance, and its next sales settle them first (Thursdays: base 1,2 a euro).
l ledger post --account 22 --asset PTS --amount -100 --reason "canjeados en caja" --operator Marta
l sale refund --sale 4 --at 2026-12-09T10:00:00Z --request-id r9
check_eq "a refund of spent points: 8 back, 100 owed" "0|$(printf '%s\n' \
    'refund 4 of sale 4: 20.00 of 20.00 EUR (0.00 refunded before)' \
    'points -8 (100 short), tier spend -20 EUR' \
    'account 22 owes 100 points a refund could not take back: its next sales settle them first' \
    'stamp card 1: -2 (0 rewards reversed, 0 short)')|0" "$RC|$OUT|$(q "select amount from balance where account_id = 22 and asset = 'PTS'")"
l sale --account 22 --amount 50 --store 1 --at 2026-12-10T10:00:00Z --request-id t9
check_eq "the next sale settles 60 of them" "$(printf '%s\n' \
    'sale 5: account 22, 50.00 EUR at 2026-12-10 11:00:00 (store 1)' \
    '  base                +60' \
    '  owed settled        -60  (owed: a refund could not take them back)' \
    'points +0, balance 0' \
    'tier 0 -> 0 (50 EUR in the window)' \
    'stamp card 1 (Cafés): +0, 0 now')" "$OUT"
l sale --account 22 --amount 50 --store 1 --at 2026-12-10T11:00:00Z --request-id t10 --json
check_eq "the one after settles the last 40 and credits 20" \
    '{"sale":6,"entry":10,"account":22,"card":0,"replayed":false,"local":"2026-12-10 12:00:00","amount_cents":5000,"points":60,"points_settled":40,"lines":[{"source":"base","id":0,"name":"","points":60}],"balance":20,"tier_before":0,"tier":0,"stamps":[{"card":1,"name":"Cafés","given":0,"now":0,"rewards":0,"reward_id":7}]}' "$OUT"
check_eq "owed: 100 short, 100 settled; balance 20" "100|100|20" \
    "$(q "select sum(points_short) from sale_refund where account_id = 22")|$(q "select sum(owed_settled) from sale where account_id = 22")|$(q "select amount from balance where account_id = 22 and asset = 'PTS'")"
# Tills at once: the same request from two processes is one sale (the other process replays
# it), two other sales to the same account both land, and the balance moves by exactly what
# the three sales credited (no update lost between the writers).
PTS0=$(bal 22 PTS)
for i in 1 2; do
    "$LEAL" sale --account 22 --amount 10 --store 1 --at 2026-12-11T10:00:00Z --request-id same \
        --json --db "$DB" >"$T/same$i" 2>&1 &
    "$LEAL" sale --account 22 --amount 5 --store 1 --at "2026-12-11T10:0$i:00Z" \
        --request-id "other$i" --db "$DB" >/dev/null 2>&1 &
done
wait
check_eq "at once: one sale for the shared request id, one reply its replay; both others" \
    "1|1|1|2" "$(q "select count(*) from sale where request_id = 'same'")|$(cat "$T/same1" "$T/same2" | grep -c '"replayed":false')|$(cat "$T/same1" "$T/same2" | grep -c '"replayed":true')|$(q "select count(*) from sale where request_id in ('other1', 'other2')")"
check_eq "at once: the balance moved by what the three sales credited" \
    "$(q "select $PTS0 + sum(points - owed_settled) from sale where request_id in ('same', 'other1', 'other2')")" \
    "$(bal 22 PTS)"

# The reports (issue 17) read these sales the same on both backends (issue 20): on SQLite a
# window of whole days reads the summaries the ledger keeps, on PostgreSQL the entries. The
# customers joined on fixed days; the window ends before today's entries (the manual post).
q "update customer set created_at = 1790812800 where id = 1; update customer set created_at = 1794700800 where id = 2"
W=(--program 1 --from 2026-10-01 --to 2026-12-04)
l report activity "${W[@]}" --csv
check_eq "report activity: per day, card sales, points issued and taken back by refunds" "0|$(printf '%s\r\n' \
    day,store,sales_card,sales_qr,sales_no_card,points_issued,points_redeemed,points_expired,points_adjusted,purse_loaded,purse_spent \
    2026-10-25,centro,2,0,0,24,0,0,0,0.00,0.00 2026-12-01,centro,0,0,1,28,0,0,0,0.00,0.00 \
    2026-12-02,centro,0,0,0,-28,0,0,0,0.00,0.00 2026-12-03,centro,0,0,0,-12,0,0,0,0.00,0.00)" "$RC|$OUT"
l report activity "${W[@]}" --store centro --csv --part refused
check_eq "report activity at the store: nothing refused" "0|$(printf '%s\r\n' day,store,reason,taps)" "$RC|$OUT"
l report liabilities "${W[@]}" --point-value 0,01 --csv
check_eq "report liabilities at the end of 4 December: 12 points, 0.12 EUR" \
    "0|$(printf '%s\r\n' asset,holders,units,value PTS,1,12,0.12)" "$RC|$OUT"
l report liabilities --program 1 --from 2026-10-01 --to 2026-10-31 --csv
check_eq "report liabilities at the end of October: no point value" \
    "0|$(printf '%s\r\n' asset,holders,units,value PTS,1,24,)" "$RC|$OUT"
l report breakage "${W[@]}" --point-value 0,01 --csv
check_eq "report breakage: per month" "0|$(printf '%s\r\n' \
    month,points_issued,points_redeemed,points_expired,expired_value 2026-10,24,0,0,0.00 \
    2026-12,-12,0,0,0.00)" "$RC|$OUT"
l report customers "${W[@]}" --json
check_eq "report customers: two joined, one active" \
    "0|$(printf '%s' '{"report":"customers","program":1,"store":null,"from":"2026-10-01","to":"2026-12-04",' \
        '"point_value":null,"parts":{"customers":[{"customers":2,"new":2,"active":1,"lapsed":0}],' \
        '"tiers":[{"tier":0,"customers":1}]}}')" "$RC|$OUT"
l report customers --program 1 --from 2026-12-05 --to 2026-12-11 --store centro --csv
check_eq "report customers at the store in December's second week: one active, one lapsed" \
    "0|$(printf '%s\r\n' customers,new,active,lapsed 2,0,1,1)" "$RC|$OUT"
l report retention "${W[@]}" --csv
check_eq "report retention: October's cohort active in October and December" "0|$(printf '%s\r\n' \
    cohort,joined,month,active 2026-10,1,2026-10,1 2026-10,1,2026-12,1)" "$RC|$OUT"
l report redemptions "${W[@]}" --csv
check_eq "report redemptions: none" "0|$(printf '%s\r\n' reward,asset,redemptions,units)" "$RC|$OUT"
l report campaigns --program 1 --from 2026-12-08 --to 2026-12-11 --csv
check_eq "report campaigns: the two rules of sale 4 by their names, against all sales" \
    "0|$(printf '%s\r\n' rule,name,points,sales_with_rule,amount_with_rule,sales,amount,sales_before,amount_before \
        '1,Doble martes,24,1,20.00,6,140.00,0,0.00' '2,Diez por té,10,1,20.00,6,140.00,0,0.00')" "$RC|$OUT"
bad "report at another program's store" 2 "^leal: report activity: .*store" \
    report activity "${W[@]}" --store lisboa
bad "report settlement of a program that is not a collective" 2 \
    "^leal: report settlement: 2026-10: .*collective" report settlement "${W[@]}"
if [ "$BK" = pg ]; then
    # Text in byte order whatever the database's collation: in one collated for Spanish (ICU,
    # 'alfa' before 'Zeta') the stores still come as SQLite orders them.
    ES=$(backend_pg_db es "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'es' LOCALE 'C' \
ENCODING 'UTF8'")
    for c in "ledger init" "program create --code es --name Es --kind single --points-per-euro 1" \
        "store add --program 1 --code alfa --name Alfa --tz UTC" \
        "store add --program 1 --code Zeta --name Zeta --tz UTC" "customer add --program 1 --name Ana" \
        "sale --account 11 --amount 1 --store 1 --at 2026-12-01T10:00:00Z" \
        "sale --account 11 --amount 2 --store 2 --at 2026-12-01T11:00:00Z"; do
        # shellcheck disable=SC2086 # each command's words
        run_capture "$LEAL" $c --db "$ES"
    done
    check_eq "pg: the Spanish database's own order puts alfa first" "alfa Zeta" \
        "$("$PG_BIN/psql" "$ES" -qAtX -c "SELECT code FROM store ORDER BY code" | paste -sd ' ')"
    run_capture "$LEAL" report activity --program 1 --from 2026-12-01 --to 2026-12-01 --csv --db "$ES"
    check_eq "pg: report activity in byte order there: Zeta, then alfa" "0|$(printf '%s\r\n' \
        day,store,sales_card,sales_qr,sales_no_card,points_issued,points_redeemed,points_expired,points_adjusted,purse_loaded,purse_spent \
        2026-12-01,Zeta,0,0,1,2,0,0,0,0.00,0.00 2026-12-01,alfa,0,0,1,1,0,0,0,0.00,0.00)" "$RC|$OUT"
fi

# ledger verify holds each sale and refund to its entry: the points it records (less what it
# settled) are what its entry moves on the account, and its entry is the one its key names.
q "update sale set points = points + 1 where id = 1"
l ledger verify
check_eq "verify: a sale recording more than its entry credits" \
    "2|leal: ledger verify: sale 1 records 29 points for account 21 but its entry moves 28: ledger check failed: balances or entries disagree" \
    "$RC|$ERR"
q "update sale set points = points - 1 where id = 1; update sale_refund set points_back = 9 where id = 1"
l ledger verify
check_eq "verify: a refund recording more than its entry takes back" \
    "2|leal: ledger verify: refund 1 records -9 points for account 21 but its entry moves -8: ledger check failed: balances or entries disagree" \
    "$RC|$ERR"
q "update sale_refund set points_back = 8 where id = 1; update sale set entry_id = 2 where id = 1"
l ledger verify
check_eq "verify: a sale pointing at another sale's entry" \
    "2|leal: ledger verify: sale 1: entry 2 is not its entry: ledger check failed: balances or entries disagree" "$RC|$ERR"
q "update sale set entry_id = 1 where id = 1"
l ledger verify
check_eq "verify" 0 "$RC"

# PostgreSQL to an SQLite file and back to a new PostgreSQL database: every sale, its items,
# lines, stamps and refunds, the categories and the rule sets, row for row; the copy takes a
# replayed sale as the original does.
if [ "$BK" = pg ]; then
    # sale_rows DB: the sale tables' rows on either backend.
    sale_rows() {
        local h=lower\(hex\( e=\)\) run=(sqlite3 "$1")
        case $1 in postgresql://*) h="encode(" e=", 'hex')" run=("$PG_BIN/psql" "$1" -qAtX -c) ;; esac
        for s in "select * from sale_category order by program_id, code" \
            "select id, program_id, account_id, card_id, store_id, at, local_date, local_time, \
amount_cents, request_id, content_hash, entry_id, rules_version, points, period, units, \
period_after, tier_before, tier_after, ${h}state_after${e}, owed_settled from sale order by id" \
            "select * from sale_item order by sale_id, n" "select * from sale_line order by sale_id, n" \
            "select * from sale_refund order by id" \
            "select * from sale_stamp order by sale_id, refund_id, card" \
            "select program_id, version, at, operator, reason, what, ${h}encoded${e} from rule_set \
order by program_id, version" "select * from rule_set_name order by program_id, version, part, item"; do
            "${run[@]}" "$s"
        done
    }
    ORIG=$(sale_rows "$DB")
    check_eq "pg: 9 sales, 4 refunds and a rule set to copy" "9|4|1" \
        "$(q "select count(*) from sale")|$(q "select count(*) from sale_refund")|$(q "select count(*) from rule_set")"
    run_capture "$LEAL" ledger copy --from "$DB" --to "sqlite:$T/copy.db"
    check_eq "pg: ledger copy to an SQLite file" 0 "$RC"
    check_eq "pg: the SQLite copy's sales, row for row" "$ORIG" "$(sale_rows "$T/copy.db")"
    "$PG_BIN/psql" "postgresql:///postgres?host=$PG_DIR&user=postgres" -qAtX -c "CREATE DATABASE back"
    BACK="postgresql:///back?host=$PG_DIR&user=postgres"
    run_capture "$LEAL" ledger copy --from "sqlite:$T/copy.db" --to "$BACK"
    check_eq "pg: ledger copy back to PostgreSQL" 0 "$RC"
    check_eq "pg: the copy of the copy's sales, row for row" "$ORIG" "$(sale_rows "$BACK")"
    run_capture "$LEAL" sale --account 22 --amount 50 --store 1 --at 2026-12-10T11:00:00Z \
        --request-id t10 --json --db "$BACK"
    check_match "pg: the copy replays sale 6" '^\{"sale":6,"entry":10,"account":22,"card":0,"replayed":true,' "$OUT"
fi
l sale --help
check_match "help" "^usage: leal sale --card-id ID\|--account ID --amount EUR --store ID" "$OUT"
finish
