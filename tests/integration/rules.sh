#!/bin/bash
# rules.sh - a program's rules defined from the command line (leal rule, tier,
# reward, stamp, bono; host/cli/cmd_rules.c) on a real ledger: each change a
# new version with who, when, why and what; lists and --json exact; every bad
# value and every set the rules check refuses named in one line, exit 2, and
# the database row for row as it was (its dump compared). LEAL_TEST_BACKEND=pg
# runs every case on PostgreSQL (sale_pg.sh; tests/lib/backend.sh).
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/backend.sh

backend_fixture rules "rules test passphrase"
export USER=marta
l() { run_capture "$LEAL" "$@" --db "$DB"; }
dump() { backend_dump | sha256sum; }
# refused NAME EXPECTED-STDERR CMD...: exit 2, that one line, nothing changed.
refused() {
    local name=$1 want=$2 before
    shift 2
    before=$(dump)
    l "$@"
    check_eq "$name" "2|$want|" "$RC|$ERR|$OUT"
    check_eq "$name: nothing stored" "$before" "$(dump)"
}

"$LEAL" program create --code cafe --name "Café Sol" --points-per-euro 1,2 --db "$DB" >/dev/null
"$LEAL" program create --code libros --name "Libros" --db "$DB" >/dev/null

l rule list --program 1
check_eq "no rules yet: version 0" "0|program 1, rule set version 0: 0 rules" "$RC|$OUT"
l rule add --program 1 --name "Martes doble" --multiplier 2 --best --days tue \
    --time 16:00-20:00 --from 2026-12-01 --to 2026-12-31 --stores 1,2 --cap-sale 500 \
    --reason "campaña de diciembre"
check_eq "rule add" "0|rule 1 added (program 1, rule set version 1)" "$RC|$OUT"
# Categories are the program's one table, named with leal sale category (the engine keeps 3).
refused "a category no one defined" \
    "leal: --categories: program 1 has no category 'cafe'; add it with 'leal sale category add cafe --program 1'" \
    rule add --program 1 --id 7 --bonus 10 --categories cafe --reason "café"
"$LEAL" sale category add cafe --program 1 --code 3 --db "$DB" >/dev/null
refused "a category by its number is not its name" \
    "leal: --categories: program 1 has no category '3'; add it with 'leal sale category add 3 --program 1'" \
    rule add --program 1 --id 7 --bonus 10 --categories cafe,3 --reason "café"
refused "a stamp card's category too" \
    "leal: --category: program 1 has no category 'te'; add it with 'leal sale category add te --program 1'" \
    stamp add --program 1 --name x --per item --category te --goal 5 --reward 1 --reason x
refused "one category for a stamp card" \
    "leal: --category 'cafe,te': up to 1 category names, like cafe,te (leal sale category list) (see 'leal --help')" \
    stamp add --program 1 --name x --per item --category cafe,te --goal 5 --reward 1 --reason x
l rule add --program 1 --id 7 --name "Café +10" --bonus 10 --categories cafe --min-spend 5 \
    --cap-day 30 --reason "café" --operator jon --json
check_eq "rule add --json" '0|{"program":1,"version":2,"what":"rule 7 added","id":7}' "$RC|$OUT"
l tier add --program 1 --name Oro --threshold 500 --multiplier 2 --reason "clientes oro"
check_eq "tier add" "0|tier 1 added (program 1, rule set version 3)" "$RC|$OUT"
l tier add --program 1 --name Plata --threshold 200 --multiplier 1,5 --reason "plata"
check_eq "tier add below: number 1" "0|tier 1 added (program 1, rule set version 4)" "$RC|$OUT"
l reward add --program 1 --name "Café gratis" --kind product --value 1001 --cost 100 \
    --reason "catálogo"
check_eq "reward add" "0|reward 1 added (program 1, rule set version 5)" "$RC|$OUT"
l reward add --program 1 --name "10 % dto" --kind percent --value 12,5 --cost 400 \
    --min-tier 2 --reason "catálogo"
check_eq "reward add percent" "0|reward 2 added (program 1, rule set version 6)" "$RC|$OUT"
l stamp add --program 1 --name "Café" --per item --category cafe --goal 10 --reward 1 \
    --reason "tarjeta café"
check_eq "stamp add" "0|stamp card 1 added (program 1, rule set version 7)" "$RC|$OUT"
l bono add --program 1 --name "10 masajes" --sessions 10 --price 45 --valid-days 365 \
    --reason "bonos"
check_eq "bono add" "0|bono 1 added (program 1, rule set version 8)" "$RC|$OUT"

l rule list --program 1
check_eq "rule list" "0|program 1, rule set version 8: 2 rules
rule 1 \"Martes doble\": x2, best only, tue, 16:00-20:00, from 2026-12-01, until 2026-12-31, stores 1,2, at most 500 a sale
rule 7 \"Café +10\": +10 points, stacks, categories cafe, spend at least 5.00, at most 30 a card a day" "$RC|$OUT"
l tier list --program 1
check_eq "tier list" "0|program 1, rule set version 8: 2 tiers
tier 1 \"Plata\": from 200 euros spent in the window, points x1.5
tier 2 \"Oro\": from 500 euros spent in the window, points x2" "$RC|$OUT"
l reward list --program 1
check_eq "reward list: the tier followed Oro to 2" "0|program 1, rule set version 8: 2 rewards
reward 1 \"Café gratis\": product 1001 for 100 points
reward 2 \"10 % dto\": 12.50 % off the sale for 400 points, tier 2 and up" "$RC|$OUT"
l stamp list --program 1
check_eq "stamp list" "0|program 1, rule set version 8: 1 stamp card
stamp card 1 \"Café\": a stamp per item of category cafe, 10 stamps give reward 1" "$RC|$OUT"
l stamp list --program 1 --json
check_eq "stamp list --json: the code and its name" '0|{"program":1,"version":8,"stamp_cards":[{"stamp_card":1,"name":"Café","per":"item","category":3,"category_name":"cafe","goal":10,"reward":1,"min_spend_cents":0}]}' "$RC|$OUT"
l rule show 7 --program 1 --json
check_eq "rule show --json: codes and names" '0|{"program":1,"version":8,"rule":{"id":7,"name":"Café +10","kind":"bonus","combine":"stack","multiplier_milli":0,"bonus_points":10,"from":null,"to":null,"days":[],"start_minute":0,"end_minute":0,"stores":[],"categories":[3],"category_names":["cafe"],"min_spend_cents":500,"cap_per_sale":0,"cap_per_day":30}}' "$RC|$OUT"
# Version 7's set (RULES.md 7): header 18, tiers 16, rule 1 49 bytes, rule 7 43 ending with
# its category; then stamp card 1: per, category.
check_eq "the engine keeps the number: rule 7's and stamp card 1's category in the stored set" \
    "0003|0003" \
    "$(q "select $(sql_hex "substr(encoded, 18 + 16 + 49 + 42, 2)") || '|' || $(sql_hex "substr(encoded, 18 + 16 + 49 + 43 + 2, 2)") from rule_set where version = 7")"
l bono list --program 1 --json
check_eq "bono list --json" '0|{"program":1,"version":8,"bonos":[{"id":1,"name":"10 masajes","sessions":10,"valid_days":365,"price_cents":4500}]}' "$RC|$OUT"
l rule show 1 --program 1 --json
check_eq "rule show --json" '0|{"program":1,"version":8,"rule":{"id":1,"name":"Martes doble","kind":"multiplier","combine":"best","multiplier_milli":2000,"bonus_points":0,"from":"2026-12-01","to":"2026-12-31","days":["tue"],"start_minute":960,"end_minute":1200,"stores":[1,2],"categories":[],"category_names":[],"min_spend_cents":0,"cap_per_sale":500,"cap_per_day":0}}' "$RC|$OUT"
l reward show 2 --program 1 --json
check_eq "reward show --json" '0|{"program":1,"version":8,"reward":{"id":2,"name":"10 % dto","kind":"percent","cost_points":400,"value":1250,"min_tier":2}}' "$RC|$OUT"
l rule end 1 --on 2026-12-24 --program 1 --reason "acaba en Nochebuena"
check_eq "rule end" "0|rule 1 ends on 2026-12-24 (program 1, rule set version 9)" "$RC|$OUT"
l rule show 1 --program 1
check_eq "rule show after end" "0|rule 1 \"Martes doble\": x2, best only, tue, 16:00-20:00, from 2026-12-01, until 2026-12-24, stores 1,2, at most 500 a sale" "$RC|$OUT"
l rule show 1 --program 1 --version 8
check_eq "rule show --version 8: as it was" "0|rule 1 \"Martes doble\": x2, best only, tue, 16:00-20:00, from 2026-12-01, until 2026-12-31, stores 1,2, at most 500 a sale" "$RC|$OUT"

# Who, when, why, what: one row per version.
l rule history --program 1
check_eq "history, times aside" "0|version 1  T UTC  marta  rule 1 added: campaña de diciembre
version 2  T UTC  jon  rule 7 added: café
version 3  T UTC  marta  tier 1 added: clientes oro
version 4  T UTC  marta  tier 1 added: plata
version 5  T UTC  marta  reward 1 added: catálogo
version 6  T UTC  marta  reward 2 added: catálogo
version 7  T UTC  marta  stamp card 1 added: tarjeta café
version 8  T UTC  marta  bono 1 added: bonos
version 9  T UTC  marta  rule 1 ends on 2026-12-24: acaba en Nochebuena" \
    "$RC|$(printf '%s\n' "$OUT" | sed -E 's/  [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC  /  T UTC  /')"
AT9="strftime('%Y-%m-%d %H:%M', at, 'unixepoch')"
[ "$BK" = pg ] && AT9="to_char(to_timestamp(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"
check_eq "history: the times are the ledger's" "$(q "select $AT9 from rule_set where version = 9")" \
    "$(printf '%s\n' "$OUT" | tail -1 | cut -c12-27)"
check_eq "ledger: 9 versions, 2 of the other program's 0" "9|0" \
    "$(q 'select count(*) from rule_set where program_id = 1')|$(q 'select count(*) from rule_set where program_id = 2')"
check_eq "each version's set stored: 67 bytes (one rule) to 186 (v9)" "67|186" \
    "$(q 'select min(length(encoded)), max(length(encoded)) from rule_set')"
check_eq "names per version: v9's 8" "8" "$(q 'select count(*) from rule_set_name where version = 9')"
l rule list --program 2 --json
check_eq "the other program: none" '0|{"program":2,"version":0,"rules":[]}' "$RC|$OUT"

# Refused: contradictory sets, named; nothing stored.
refused "two best-only rules with one scope" \
    "leal: rule add: rule 8 has the same scope as rule 1 and both are best-only: only the one giving more points would ever apply; make one of them stack or change its scope" \
    rule add --program 1 --multiplier 3 --best --days tue --time 16:00-20:00 --from 2026-12-01 \
    --to 2026-12-24 --stores 2,1 --reason prueba
refused "a repeated rule id" "leal: rule add: rule 7: another rule has this id" \
    rule add --program 1 --id 7 --bonus 5 --reason x
refused "a tier a reward asks for" "leal: reward 2 asks for tier 2; remove it or the tier stays" \
    tier remove 2 --program 1 --reason x
refused "a reward a stamp card hands over" "leal: stamp card 1 hands over reward 1; remove it or the reward stays" \
    reward remove 1 --program 1 --reason x
refused "a stamp card's reward must exist" \
    "leal: there is no reward 9 for the stamp card to hand over" \
    stamp add --program 1 --name x --per sale --goal 5 --reward 9 --reason x
refused "two tiers at one threshold" "leal: tier 2 already starts at 500 euros" \
    tier add --program 1 --name Otro --threshold 500 --reason x
refused "reward above the tiers" "leal: reward add: reward 3 asks for tier 3 and the program has 2" \
    reward add --program 1 --name x --kind voucher --value 5 --cost 10 --min-tier 3 --reason x
refused "end of an unknown rule" "leal: program 1 has no rule 99" \
    rule end 99 --program 1 --reason x
refused "end before the rule starts" "leal: rule 1 starts on 2026-12-01, after the end asked for" \
    rule end 1 --on 2026-11-30 --program 1 --reason x
refused "end after the rule's end: never extends it" \
    "leal: rule 1 already ends on 2026-12-24: 'rule end' only brings its end earlier, not to 2026-12-25; add a new rule for the days after" \
    rule end 1 --on 2026-12-25 --program 1 --reason x
refused "only the last stamp card" "leal: there is no stamp card 2" \
    stamp remove 2 --program 1 --reason x
refused "unknown program" "leal: rule add: program 5: no such id" \
    rule add --program 5 --bonus 5 --reason x

# Bad values: refused before the ledger is opened.
refused "no reason" "leal: leal rule add needs --reason TEXT: why the rules change (see 'leal --help')" \
    rule add --program 1 --bonus 5
refused "multiplier and bonus" "leal: leal rule add needs --multiplier X or --bonus POINTS (one of them) (see 'leal --help')" \
    rule add --program 1 --bonus 5 --multiplier 2 --reason x
refused "multiplier of 1" "leal: --multiplier '1': a factor from 1.010 to 20 like 2 or 1,5 (see 'leal --help')" \
    rule add --program 1 --multiplier 1 --reason x
refused "a weekday" "leal: --days 'mon,tues': weekdays like mon,tue,sat, each once (see 'leal --help')" \
    rule add --program 1 --bonus 5 --days mon,tues --reason x
refused "a time window" "leal: --time '16:00-24:30': a window HH:MM-HH:MM, like 16:00-20:00 (the end not included) (see 'leal --help')" \
    rule add --program 1 --bonus 5 --time 16:00-24:30 --reason x
refused "a date" "leal: --from '2027-02-29': a date YYYY-MM-DD from 2000-01-01 to 2199-12-31 (see 'leal --help')" \
    rule add --program 1 --bonus 5 --from 2027-02-29 --reason x
refused "from after to" "leal: leal rule add: --from 2026-12-02 is after --to 2026-12-01 (see 'leal --help')" \
    rule add --program 1 --bonus 5 --from 2026-12-02 --to 2026-12-01 --reason x
refused "euros" "leal: --min-spend '5,555': write euros like 5 or 12,50 (see 'leal --help')" \
    rule add --program 1 --bonus 5 --min-spend 5,555 --reason x
refused "percent over 100" "leal: --value '100,01': write euros like 5 or 12,50 (see 'leal --help')" \
    reward add --program 1 --name x --kind percent --value 100,01 --cost 5 --reason x
refused "stamp goal 1" "leal: --goal '1': stamps from 2 to 255 (see 'leal --help')" \
    stamp add --program 1 --name x --per sale --goal 1 --reward 1 --reason x
refused "bono of 0 sessions" "leal: --sessions '0': sessions from 1 to 65535 (see 'leal --help')" \
    bono add --program 1 --name x --sessions 0 --price 5 --reason x
refused "an option of add on list" "leal: --bonus is not an option of 'leal rule list' (see 'leal --help')" \
    rule list --program 1 --bonus 5
refused "an unknown subcommand" "leal: leal tier: expected one of: add list remove  (see 'leal --help')" \
    tier show 1 --program 1
refused "a name too long" "leal: --name '$(printf 'x%.0s' $(seq 64))': at most 63 bytes (see 'leal --help')" \
    bono add --program 1 --name "$(printf 'x%.0s' $(seq 64))" --sessions 1 --price 5 --reason x

# Removing, then --json errors.
l bono remove 1 --program 1 --reason "ya no"
check_eq "bono remove" "0|bono 1 removed (program 1, rule set version 10)" "$RC|$OUT"
l rule show 5 --program 1 --json
check_eq "show an unknown rule --json" '2|{"error":{"code":256,"name":"LEAL_E_UNKNOWN_ID","message":"program 1 has no rule 5"}}' "$RC|$OUT"
# The welcome points (leal rule welcome): shown, set as a version of their own with who
# and why (the rest of the set kept), read back from an earlier version, refused unchanged.
l rule welcome --program 1
check_eq "welcome: none yet" "0|program 1, rule set version 10: no welcome points" "$RC|$OUT"
set_json() { "$LEAL" rule list --program 1 --json --db "$DB" | sed -E 's/"version":[0-9]+/"version":V/'; }
before_set=$(set_json)
l rule welcome --program 1 --points 50 --reason "bienvenida" --json
check_eq "welcome set --json" \
    '0|{"program":1,"version":11,"what":"welcome set to 50 points","welcome_points":50}' "$RC|$OUT"
check_eq "... the rest of the set as it was" "$before_set" "$(set_json)"
l rule welcome --program 1
check_eq "welcome shown" \
    "0|program 1, rule set version 11: 50 welcome points at an account's first earn" "$RC|$OUT"
l rule welcome --program 1 --version 10 --json
check_eq "welcome of version 10 --json" '0|{"program":1,"version":10,"welcome_points":0}' "$RC|$OUT"
l rule history --program 1
check_eq "welcome in the history" "version 11  T UTC  marta  welcome set to 50 points: bienvenida" \
    "$(printf '%s\n' "$OUT" | tail -1 | sed -E 's/  [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC  /  T UTC  /')"
refused "the same welcome again" \
    "leal: program 1's rules (version 11) already give 50 welcome points; nothing changed" \
    rule welcome --program 1 --points 50 --reason x
refused "welcome over the engine's bound" \
    "leal: --points '1000001': a whole number from 0 to 1000000 (see 'leal --help')" \
    rule welcome --program 1 --points 1000001 --reason x
refused "welcome without a reason" \
    "leal: leal rule welcome needs --reason TEXT: why the rules change (see 'leal --help')" \
    rule welcome --program 1 --points 5
refused "welcome with an option it does not take" \
    "leal: --on is not an option of 'leal rule welcome' (see 'leal --help')" \
    rule welcome --program 1 --points 5 --on 2026-12-01 --reason x
l rule welcome --program 1 --points 0 --reason "sin bienvenida"
check_eq "welcome removed" "0|welcome removed (program 1, rule set version 12)" "$RC|$OUT"
check_eq "... and stored: version 12 gives none, 11 gave 50" "0|50" \
    "$("$LEAL" rule welcome --program 1 --json --db "$DB" | sed -E 's/.*"welcome_points":([0-9]+).*/\1/')|$("$LEAL" rule welcome --program 1 --version 11 --json --db "$DB" | sed -E 's/.*"welcome_points":([0-9]+).*/\1/')"

for c in rule tier reward stamp bono; do
    run_capture "$LEAL" $c --help
    check_match "$c --help" "^usage: leal $c add " "$OUT"
    check_eq "$c --help exits 0" 0 "$RC"
done
finish
