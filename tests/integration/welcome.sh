#!/bin/bash
# welcome.sh - one welcome per account (RULES.md 3) through `leal card issue`,
# `leal sale` and `leal card replace` on sim: cards and a real ledger: desk
# welcome points are refused while the program's rules give a welcome of their
# own; an account welcomed at the desk never gets the rules' welcome, even
# when a welcome rule comes later, nor through its replacement card; an
# account never welcomed gets the rules' welcome once. Exact points.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-welcome-XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="welcome test passphrase"
DB=$XDG_DATA_HOME/leal/ledger.db
q() { sqlite3 "$DB" "$1" 2>&1; }
books() { q "SELECT (SELECT count(*) FROM card) || ' ' || (SELECT count(*) FROM entry)"; }
field() { $PY -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
pts() { q "SELECT coalesce(sum(amount), 0) FROM balance WHERE account_id = $1 AND asset = 'PTS'"; }
acct() { "$LEAL" customer show "$1" --json | field account; }

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1,2 >/dev/null
"$LEAL" store add --program 7 --code centro --name "Sol Centro" --tz Europe/Madrid >/dev/null
for n in Ana Luis; do "$LEAL" customer add --program 7 --name "$n" >/dev/null; done
ANA_ACCT=$(acct 1)
LUIS_ACCT=$(acct 2)

# Rule set version 0: no welcome in the rules, so the desk gives Ana 20.
"$CARDSIM" new --type desfire-ev1 --uid 04aa0000000001 -o "$T/ana.json" >/dev/null
run_capture "$LEAL" card issue --customer 1 --welcome-points 20 --reader "sim:$T/ana.json" --json
check_eq "desk welcome without a rules' welcome" "0|20" "$RC|$(field points <<<"$OUT")"
ANA=$(field card_id <<<"$OUT")

# The rules now give 50 at the first sale (version 1, set with leal rule welcome).
run_capture "$LEAL" rule welcome --program 7 --points 50 --reason "welcome campaign" --operator Marta --json
check_eq "rules' welcome set: version 1" \
    '0|{"program":7,"version":1,"what":"welcome set to 50 points","welcome_points":50}' "$RC|$OUT"
"$CARDSIM" new --type desfire-ev1 --uid 04aa0000000002 -o "$T/luis.json" >/dev/null
blank=$(sha256sum <"$T/luis.json")
before=$(books)
run_capture "$LEAL" card issue --customer 2 --welcome-points 20 --reader "sim:$T/luis.json"
check_eq "desk welcome refused while the rules give one" \
    "2|leal: --welcome-points: program 7's rules (version 1) give 50 welcome points at the account's first sale; issue the card without --welcome-points (one welcome per account)|$before" \
    "$RC|$ERR|$(books)"
check_eq "... the blank card untouched" "$blank" "$(sha256sum <"$T/luis.json")"
run_capture "$LEAL" card issue --customer 2 --reader "sim:$T/luis.json" --json
check_eq "issued without them" "0|0" "$RC|$(field points <<<"$OUT")"
LUIS=$(field card_id <<<"$OUT")

# Wednesday 9 December, 11:00 in Madrid: 20,00 is 24 base points.
sale() { run_capture "$LEAL" sale --card-id "$1" --amount 20 --store 1 --at 2026-12-09T10:00:00Z --request-id "$2" --json; }
sale "$LUIS" luis1
check_eq "never welcomed: the rules' welcome, once" "0|74|1|0|24 3|0|50" \
    "$RC|$(field points <<<"$OUT")|$(q "select group_concat(source || '|' || rule_id || '|' || points, ' ') from sale_line where sale_id = (select id from sale where request_id = 'luis1')")"
sale "$LUIS" luis2
check_eq "... and not twice" "0|24" "$RC|$(field points <<<"$OUT")"
sale "$ANA" ana1
check_eq "welcomed at the desk: no rules' welcome" "0|24|44" "$RC|$(field points <<<"$OUT")|$(pts "$ANA_ACCT")"
check_eq "... no welcome line" "0" "$(q "select count(*) from sale_line where source = 3 and sale_id in (select id from sale where account_id = $ANA_ACCT)")"

# Ana's card is lost; its replacement brings no second welcome, and keeps her
# tier and spend: silver from 15 euros (x1: the points below stay as they were).
run_capture "$LEAL" tier add --program 7 --name Plata --threshold 15 --reason "plata" --operator Marta
check_eq "tier 1 from 15 euros (version 2)" "0|tier 1 added (program 7, rule set version 2)" "$RC|$OUT"
"$LEAL" card block "$ANA" --reason "lost" >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04aa0000000003 -o "$T/ana2.json" >/dev/null
run_capture "$LEAL" card replace --old "$ANA" --reader "sim:$T/ana2.json" --json
check_eq "replacement: the account's 44 points" "0|44" "$RC|$(field points <<<"$OUT")"
ANA2=$(field card_id <<<"$OUT")
# The new card's state file, from the ledger: version 02, its id, seq 0, 44 points, tier 1,
# no stamps, period 324 (December 2026) with 20 euros in its bucket (Ana's sale of 9 December).
check_eq "replacement's state: tier 1 and the account's buckets" \
    "02$(printf '%016x' "$ANA2")000000000000002c010000000001440014000000000000" \
    "$($PY -c '
import json, sys
app = [a for a in json.load(open(sys.argv[1]))["apps"] if a["aid"] == "41454c"][0]
print([f for f in app["files"] if f["no"] == 2][0]["data"].lower())' "$T/ana2.json")"
check_eq "... and the view says tier 1" "1" "$(field tier <<<"$OUT")"
sale "$ANA2" ana2
check_eq "the replacement card's first sale: no welcome" "0|24|68" "$RC|$(field points <<<"$OUT")|$(pts "$ANA_ACCT")"
check_eq "Luis: 50 welcome and 2 x 24" "98" "$(pts "$LUIS_ACCT")"
run_capture "$LEAL" ledger verify
check_eq "ledger verify" 0 "$RC"

finish
