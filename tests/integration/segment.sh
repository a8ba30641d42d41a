#!/bin/bash
# segment.sh - `leal segment` end to end (issue 17, Segments): 12 generated
# customers (birthdays, consent granted and withdrawn, tags, sales with and
# without a card at two stores over the last 200 days, a voided sale, a tier,
# points by hand, one customer erased); each filter's members checked twice,
# against the id set the plan gives and against tests/integration/
# segment_check.py, which works it out in Python from the raw rows; exports
# read back (Python's csv, openpyxl) with consent honoured per purpose and no
# personal field in an analysis unless named; files 0600; bad filters and
# exports refused in one line with exit 2 and nothing written. The same
# cases and expectations on PostgreSQL with LEAL_TEST_BACKEND=pg (customers_pg.sh),
# and there the tags and segments copied to a file and back.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
clear_of_midnight 60 UTC Europe/Madrid # days ago from now, reckoned once

T=$(mktemp -d /tmp/leal-segment-XXXXXX)
trap 'rm -rf "$T"' EXIT
DB=$T/ledger.db
export XDG_DATA_HOME=$T/xdg USER=tester
CHECK="$PY tests/integration/segment_check.py"
# On PostgreSQL (LEAL_TEST_BACKEND=pg, customers_pg.sh): a database of the
# cluster (tests/lib/backend.sh); q reads either backend.
source tests/lib/backend.sh
backend_db segment || {
    finish
    exit
}
q() { if [ "$BK" = pg ]; then "$PG_BIN/psql" "$DB" -qAtX -F ' ' -c "$1"; else sqlite3 -separator ' ' "$DB" "$1"; fi; }
NOW=$(date +%s)
ago() { date -u -d "@$((NOW - $1 * 86400))" +%Y-%m-%dT%H:%M:%SZ; }
day_ago() { date -u -d "@$((NOW - $1 * 86400))" +%Y-%m-%d; }
L() { "$LEAL" "$@" --db "$DB"; }

L program create --code sol --name Sol --id 7 >/dev/null || exit 1
L store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null || exit 1
L store add --program 7 --code playa --name Playa --tz Europe/Madrid >/dev/null || exit 1
L tier add --program 7 --name Oro --threshold 100 --reason test >/dev/null || exit 1

# id name birth email phone | email consent | sms consent | tags
while IFS='|' read -r n birth email phone ec sc tags; do
    id=$(L customer add --program 7 --name "$n" --surname Test --birth-date "$birth" \
        --email "$email" --phone "$phone" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    for g in $ec; do L customer consent "$id" --channel email --granted "$g" --method form --by t >/dev/null; done
    for g in $sc; do L customer consent "$id" --channel sms --granted "$g" --method form --by t >/dev/null; done
    for t in $tags; do L customer tag "$id" "$t" >/dev/null; done
    acc=$(q "SELECT id FROM account WHERE customer_id = $id")
    L account add-card "$acc" --card-id $((500 + id)) --uid "04a1b2c3d4e5$(printf %02x "$id")" \
        --tech desfire-ev2 --status active >/dev/null
done <<'EOF'
Ana|1990-03-04|ana@x.es|600000001|yes||vip
Bea|1985-03-20|bea@x.es|600000002|yes no|yes|
Carlos|1979-07-01|carlos@x.es|600000003||yes|vip late
Dani||dani@x.es|600000004|yes|yes|
Eva|2000-12-31|eva@x.es|600000005|yes||vip
Fran|1995-07-15|fran@x.es|600000006|no||
Gema|1970-01-01||600000007|yes|yes|
Hugo|1988-03-03|hugo@x.es|600000008||yes no|late
Ines|1992-11-11|ines@x.es|600000009|yes||vip
Juan|1990-03-05|juan@x.es|600000010|yes|yes|vip
Kike|1999-05-05|kike@x.es|600000011|yes||
Luz|1993-03-30|luz@x.es|600000012|yes|yes|
EOF
check_eq "12 customers, ids 1..12" "12 1 12" "$(q 'SELECT count(*), min(id), max(id) FROM customer')"

# customer | card or account | store | days ago | euros
sale() {
    if [ "$2" = card ]; then L sale --card-id $((500 + $1)) --amount "$5" --store "$3" --at "$(ago "$4")" --json
    else L sale --account "$(q "SELECT id FROM account WHERE customer_id = $1")" \
        --amount "$5" --store "$3" --at "$(ago "$4")" --json; fi >"$T/sale.json" || echo "sale $* failed"
}
sale 1 card 1 5 60
sale 1 card 1 20 50
sale 2 card 2 40 30
sale 3 account 1 3 200
sale 5 card 2 10 120
sale 5 card 1 100 10
sale 6 card 1 2 25
sale 6 card 1 1 80
VOID=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["entry"])' "$T/sale.json")
L ledger void "$VOID" --reason "wrong card" --operator t >/dev/null || echo "void failed"
sale 8 card 2 200 500
sale 9 card 1 15 40
sale 9 card 2 12 45
sale 10 card 1 5 300
sale 12 card 1 60 70
L ledger post --account "$(q 'SELECT id FROM account WHERE customer_id = 11')" \
    --asset PTS --amount 500 --reason gift --operator t >/dev/null || echo "post failed"
run_capture "$LEAL" customer erase 10 --confirm --cards keep --operator t --db "$DB"
check_eq "customer 10 erased" 0 "$RC"

# segment_check.py reads an SQLite file: on PostgreSQL, the ledger's copy
# (the customers, consent and tags as they are now; the segments added below
# do not change them).
RAW=$DB
if [ "$BK" = pg ]; then
    RAW=$T/raw.db
    "$LEAL" ledger copy --from "$DB" --to "sqlite:$RAW" >/dev/null || fail "pg: ledger copy to $RAW"
fi

# Each filter: a saved segment, its members by an analysis export of ids,
# against the plan and against segment_check.py.
members() {
    L segment export "$1" --purpose analysis --fields id --csv "$T/$1.csv" >/dev/null &&
        $PY -c 'import csv,sys; print(" ".join(r[0] for r in list(csv.reader(open(sys.argv[1])))[1:]))' "$T/$1.csv"
}
k=0
seg() { # EXPECTED CHECK_JSON OPTIONS...
    local want=$1 spec=$2 got indep
    shift 2
    k=$((k + 1))
    run_capture "$LEAL" segment add "f$k" --program 7 "$@" --db "$DB"
    got=$(members "f$k")
    indep=$($CHECK expect "$RAW" "$spec")
    check_eq "segment $*: members $want, as computed from the raw rows" "$want|$want" "$got|$indep"
}
BEFORE=$(day_ago 30)
B=$(date -u -d "$BEFORE" +%s)
seg "1 3 5 9" '{"tag":"vip"}' --tag vip
seg "1 2 8 12" '{"month":3}' --birthday-month 3
seg "1 4 5 7 9 11 12" '{"consent":"email"}' --consent email
seg "2 3 4 7 12" '{"consent":"sms"}' --consent sms
seg "2 5 8 9" '{"store":2}' --store 2
seg "1 5 9" '{"spend_min":8000,"spend_window":30}' --spend-min 80 --spend-window 30
seg "1 5 9 12" '{"spend_min":5000,"spend_window":90}' --spend-min 50 --spend-window 90
seg "2 8 12" "{\"before\":$B}" --last-visit-before "$BEFORE"
seg "1 3 5 6 9" "{\"after\":$B}" --last-visit-after "$BEFORE"
seg "3 5 8 11" '{"above":110}' --points-above 110
seg "1 2 4 6 7 9 12" '{"below":111}' --points-below 111
seg "3 5 8" '{"tier":1}' --tier 1 # 6's newest sale, tier 1, was voided
seg "1 2 4 6 7 9 11 12" '{"tier":0}' --tier 0
seg "1" '{"tag":"vip","consent":"email","month":3}' --tag vip --consent email --birthday-month 3
seg "" '{"tag":"nobody"}' --tag nobody
seg "1 2 3 4 5 6 7 8 9 11 12" '{}'

# show, list and count.
run_capture "$LEAL" segment show f1 --db "$DB" --json
check_eq "show --json: the filter and the live count" \
    '0|{"segment":"f1","program":7,"filter":{"tag":"vip"},"count":4}' "$RC|$OUT"
run_capture "$LEAL" segment show f6 --db "$DB"
check_eq "show: the filter in words" "segment f6, program 7
filter: spent at least 80.00 with a card in 30 days
customers: 3" "$OUT"
run_capture "$LEAL" segment count --program 7 --tag vip --consent email --db "$DB"
check_eq "count of filters not saved" "0|3" "$RC|$OUT"
run_capture "$LEAL" segment count f3 --db "$DB" --json
check_eq "count of a saved segment, --json" '{"segment":"f3","program":7,"count":7}' "$OUT"
check_eq "list: 16 segments" 16 "$(L segment list --program 7 | wc -l)"
L customer tag 7 vip >/dev/null
check_eq "a tag added moves the live count" 5 "$(L segment count f1)"
L customer untag 7 vip >/dev/null
check_eq "and its removal" 4 "$(L segment count f1)"

# Exports: e-mail consent, SMS consent, analysis without personal fields.
L segment add todos --program 7 >/dev/null
run_capture "$LEAL" segment export todos --purpose email --csv "$T/email.csv" --db "$DB"
check_eq "export --purpose email: only latest e-mail grants with an address (not 2: withdrawn; 7: no address; 10: erased)" \
    "0|id,name,email|1,Ana Test,ana@x.es|4,Dani Test,dani@x.es|5,Eva Test,eva@x.es|9,Ines Test,ines@x.es|11,Kike Test,kike@x.es|12,Luz Test,luz@x.es" \
    "$RC|$($CHECK csv "$T/email.csv")"
check_eq "export file mode 0600" 600 "$(stat -c %a "$T/email.csv")"
check_eq "CSV lines end in CRLF (RFC 4180)" 7 "$(grep -c $'\r$' "$T/email.csv")"
run_capture "$LEAL" segment export todos --purpose sms --xlsx "$T/sms.xlsx" --db "$DB"
check_eq "export --purpose sms --xlsx: latest SMS grants, typed cells, header frozen (read by openpyxl)" \
    "0|customers|A2|id:str,name:str,phone:str|2:int,Bea Test:str,600000002:str|3:int,Carlos Test:str,600000003:str|4:int,Dani Test:str,600000004:str|7:int,Gema Test:str,600000007:str|12:int,Luz Test:str,600000012:str" \
    "$RC|$($CHECK xlsx "$T/sms.xlsx")"
check_eq "xlsx mode 0600" 600 "$(stat -c %a "$T/sms.xlsx")"
run_capture "$LEAL" segment export f12 --purpose analysis --xlsx "$T/tier.xlsx" --db "$DB"
check_eq "export --purpose analysis: no personal field by default; points, tier, last visit's store and day" \
    "customers|A2|points:str,tier:str,store:str,last_visit:str|200:int,1:int,centro:str,$(day_ago 3):datetime|130:int,1:int,playa:str,$(day_ago 10):datetime|500:int,1:int,playa:str,$(day_ago 200):datetime" \
    "$($CHECK xlsx "$T/tier.xlsx")"
run_capture "$LEAL" segment export todos --purpose analysis --csv "$T/an.csv" --db "$DB"
check_eq "analysis CSV: 11 customers, no name, e-mail or phone in the file" "12 0" \
    "$(wc -l <"$T/an.csv") $(grep -c -E '@|Test|6000000' "$T/an.csv")"
run_capture "$LEAL" segment export f1 --purpose analysis --fields email,id --csv "$T/an2.csv" --db "$DB"
check_eq "analysis with personal fields named: they come, in the usual order" \
    "id,email|1,ana@x.es|3,carlos@x.es|5,eva@x.es|9,ines@x.es" "$($CHECK csv "$T/an2.csv")"
run_capture "$LEAL" segment export f3 --purpose email --fields name --json --csv "$T/e3.csv" --db "$DB"
check_eq "export --json" "{\"segment\":\"f3\",\"purpose\":\"email\",\"customers\":6,\"file\":\"$T/e3.csv\"}" "$OUT"

# Refusals: one line, exit 2, nothing written.
bad() { # NAME ARGS...
    local name=$1
    shift
    run_capture "$LEAL" segment "$@" --db "$DB"
    check_eq "refused: $name (exit 2, one line)" "2 1" "$RC $(printf '%s\n' "$ERR" | wc -l)"
}
SUM=$(q 'SELECT count(*) FROM segment')
bad "birthday month 13" add x --program 7 --birthday-month 13
bad "spend without a window" add x --program 7 --spend-min 10
bad "a window of 0 days" add x --program 7 --spend-min 10 --spend-window 0
bad "points above 10 and below 5" add x --program 7 --points-above 10 --points-below 5
bad "after and before with no day between" add x --program 7 --last-visit-after 2026-01-02 --last-visit-before 2026-01-03
bad "an unknown consent channel" add x --program 7 --consent fax
bad "a tier that is not a number" add x --program 7 --tier gold
bad "a date that is not real" add x --program 7 --last-visit-before 2026-02-30
bad "a name with a space" add "a b" --program 7
bad "a tag with a quote" add x --program 7 --tag "o'neil"
bad "a store of no program of ours" add x --program 7 --store 99
bad "a name taken" add f1 --program 7 --tag vip
bad "an unknown program" add x --program 8
check_match "the taken name's error names it" "segment f1" "$(L segment add f1 --program 7 2>&1)"
check_eq "no segment stored by the refusals" "$SUM" "$(q 'SELECT count(*) FROM segment')"
bad "an unknown segment" show nosuch
bad "export without a purpose" export f1 --csv "$T/no1.csv"
bad "export with phone for e-mail" export f1 --purpose email --fields id,phone --csv "$T/no2.csv"
bad "export with e-mail for SMS" export f1 --purpose sms --fields email --csv "$T/no3.csv"
bad "export of an unknown field" export f1 --purpose analysis --fields id,address --csv "$T/no4.csv"
bad "export to two files" export f1 --purpose analysis --csv "$T/no5.csv" --xlsx "$T/no5.xlsx"
bad "export of an unknown segment" export nosuch --purpose analysis --csv "$T/no6.csv"
check_eq "no file written by the refused exports" "" "$(ls "$T" | grep '^no')"
run_capture "$LEAL" customer tag 3 "bad tag" --db "$DB"
check_eq "customer tag: a bad tag refused" 2 "$RC"
run_capture "$LEAL" customer tag 10 vip --db "$DB"
check_eq "customer tag: an erased customer refused" 1 "$RC"

# Privacy: tags are exported with the customer and go with erasure.
check_eq "customer export lists the tags" '[{"customer_id": 3, "tag": "late"}, {"customer_id": 3, "tag": "vip"}]' \
    "$(L customer export 3 | $PY -c 'import json,sys; print(json.dumps([{k: r[k] for k in ("customer_id", "tag")} for r in json.load(sys.stdin)["tables"]["customer_tag"]]))')"
check_eq "erasure removed customer 10's tags" 0 "$(q 'SELECT count(*) FROM customer_tag WHERE customer_id = 10')"
run_capture "$LEAL" ledger verify --db "$DB"
check_eq "ledger verify" 0 "$RC"

# On PostgreSQL: `leal ledger copy` carries the tags and segments to a file
# and from it to a new database, where the same segments find the same
# customers.
if [ "$BK" = pg ]; then
    run_capture "$LEAL" ledger copy --from "$DB" --to "sqlite:$T/back.db"
    check_eq "pg: copy with tags and segments to a file" 0 "$RC"
    BACK=$(backend_pg_db segment_back)
    run_capture "$LEAL" ledger copy --from "sqlite:$T/back.db" --to "$BACK"
    check_eq "pg: and from the file to a new database" 0 "$RC"
    check_eq "pg: the copy's tags and segments are the source's" \
        "$(q 'SELECT customer_id, tag, at FROM customer_tag ORDER BY 1, 2'; L segment list --program 7 --json)" \
        "$(DB=$BACK q 'SELECT customer_id, tag, at FROM customer_tag ORDER BY 1, 2'; DB=$BACK L segment list --program 7 --json)"
    check_eq "pg: a segment counted on the copy" "4|3 5 8" \
        "$(DB=$BACK L segment count f1)|$(DB=$BACK members f12)"
fi
finish
