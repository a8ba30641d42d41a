#!/bin/bash
# report_formats.sh - `leal report` end to end (issue 17): a ledger of
# generated activity (tests/tools/report_gen: 3 shops, 30 customers, 60 days
# of earns, redemptions, top-ups, payments, adjustments, voids, expiries, all
# through the ledger API; report_test.c checks the figures against the
# ledger) plus a sale at a store whose code needs quoting; each report's
# --csv (RFC 4180; --locale es), --xlsx and --svg read back by independent
# readers (Python's csv, openpyxl, xml.etree: tests/integration/report_check.py)
# and compared figure by figure with the same report's --json, and every
# report's --json (settlement's on a collective's ledger) against the
# ledger's lines by a computation of the test's own (report_check.py
# ledger), over months, within one, at a store; files 0600,
# written whole; refusals in one line with exit 2; no personal field of any
# customer in any report's JSON, CSV or SVG.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-report-XXXXXX)
trap 'rm -rf "$T"' EXIT
DB=$T/ledger.db
export XDG_DATA_HOME=$T/xdg USER=tester
CHECK="$PY tests/integration/report_check.py"
# qc NAME MODE ARG...: a report_check.py check (MODE ARG... as $CHECK takes
# them) queued; checks_run runs the queue in one Python (report_check.py
# batch: one start, openpyxl imported once), and qr NAME then gives what
# $CHECK MODE ARG... would have printed (or why there is nothing).
mkdir -p "$T/qc"
: >"$T/qc.batch"
qc() {
    local n=$1
    shift
    (IFS=$'\t' && printf '%s\t%s\n' "$T/qc/$n" "$*") >>"$T/qc.batch"
}
checks_run() {
    rm -f "$T"/qc/*
    $CHECK batch "$T/qc.batch" >/dev/null 2>"$T/qc.err"
    : >"$T/qc.batch"
}
qr() {
    if [ -f "$T/qc/$1" ]; then cat "$T/qc/$1"; else echo "no result: $(head -c 400 "$T/qc.err")"; fi
}
W=(--program 7 --from 2026-01-01 --to 2026-03-01 --db "$DB")

run_capture "$LEAL_BUILD/tests/tools/report_gen" "$DB"
check_match "generated: over 900 entries" "^posted (9[0-9][0-9]|[1-9][0-9]{3})$" "$OUT"
run_capture "$LEAL" store add --program 7 --code 'pan,"centro"' --name Pan --tz Europe/Madrid --db "$DB"
ACC=$(sqlite3 "$DB" "SELECT min(id) FROM account WHERE program_id = 7 AND kind = 'customer'")
run_capture "$LEAL" sale --account "$ACC" --amount 20 --store 4 --at 2026-02-10T10:00:00Z --db "$DB"
check_eq "a sale at the store whose code has a comma and quotes" 0 "$RC"

# activity: JSON, then CSV (both locales), XLSX and SVG against it.
"$LEAL" report activity "${W[@]}" --json >"$T/activity.json"
check_eq "activity --json: exit 0" 0 "$?"
check_eq "activity --json: the quoted store's day: 20 points issued, one sale without card" \
    "1 20" "$($PY -c 'import json,sys; r=[x for x in json.load(open(sys.argv[1]))["parts"]["activity"] if x["store"] == "pan,\"centro\""]; print(len(r), r[0]["points_issued"] if r else -1)' "$T/activity.json")"
"$LEAL" report activity "${W[@]}" --csv >"$T/activity.csv"
check_eq "activity --csv: RFC 4180, every figure as in --json" ok "$($CHECK csv "$T/activity.json" "$T/activity.csv" activity)"
check_eq "activity --csv: the store code quoted, its quotes doubled" 1 \
    "$(grep -c '^2026-02-10,"pan,""centro""",0,0,1,20,' "$T/activity.csv")"
"$LEAL" report activity "${W[@]}" --csv --locale es >"$T/activity-es.csv"
check_eq "activity --csv --locale es: ';' and decimal comma" ok "$($CHECK csv "$T/activity.json" "$T/activity-es.csv" activity es)"
check_match "activity --csv --locale es: euros with a comma" "^20[0-9-]+;s[0-9];([0-9-]+;){7}[0-9]+,[0-9]{2};[0-9-]+,[0-9]{2}"$'\r'"$" "$(cat "$T/activity-es.csv")"
"$LEAL" report activity "${W[@]}" --csv --part refused >"$T/refused.csv"
check_eq "activity --csv --part refused" ok "$($CHECK csv "$T/activity.json" "$T/refused.csv" refused)"
"$LEAL" report activity "${W[@]}" --xlsx "$T/activity.xlsx"
check_eq "activity --xlsx: exit 0, nothing on stdout" 0 "$?"
check_eq "activity --xlsx: two sheets, typed cells, header frozen, every figure as in --json" ok \
    "$($CHECK xlsx "$T/activity.json" "$T/activity.xlsx")"
check_eq "activity --xlsx: mode 0600" 600 "$(stat -c %a "$T/activity.xlsx")"
"$LEAL" report activity "${W[@]}" --svg "$T/activity.svg"
check_eq "activity --svg: well-formed, points issued/redeemed/expired per day summed over stores" ok \
    "$($CHECK svg "$T/activity.json" "$T/activity.svg" activity day points_issued points_redeemed points_expired)"
check_eq "activity --svg: mode 0600" 600 "$(stat -c %a "$T/activity.svg")"

# campaigns: a rule for February, sales before it, during it and one made
# before the rule existed (the quoted store's, on 10 February: no rule line).
run_capture "$LEAL" rule add --program 7 --bonus 5 --id 1 --name Doble --from 2026-02-01 --to 2026-02-28 --reason test --db "$DB"
check_eq "rule 1 added" 0 "$RC"
for s in "10 1 2026-01-20" "30 1 2026-02-05" "12,50 2 2026-02-06"; do
    set -- $s
    "$LEAL" sale --account "$ACC" --amount "$1" --store "$2" --at "$3T10:00:00Z" --db "$DB" >/dev/null
done
run_capture "$LEAL" report campaigns --program 7 --from 2026-02-01 --to 2026-02-28 --db "$DB" --json
check_eq "campaigns --json: 10 points on 2 sales of 42.50; 3 sales of 62.50 in February, 1 of 10.00 in the 28 days before" \
    '0|{"report":"campaigns","program":7,"store":null,"from":"2026-02-01","to":"2026-02-28","point_value":0.02,"parts":{"campaigns":[{"rule":1,"name":"Doble","points":10,"sales_with_rule":2,"amount_with_rule":42.50,"sales":3,"amount":62.50,"sales_before":1,"amount_before":10.00}]}}' \
    "$RC|$OUT"
# A stamp card (a stamp a sale, the 3rd gives reward 1): the 3rd sale's
# refund undoes its reward, which the redemptions count against it (rep10:
# it counted +1 as 'sale refund') and gives back its stamps: 2 held, with
# no value in the liabilities (a blank cell in CSV and XLSX).
"$LEAL" reward add --program 7 --name Cafe --kind product --cost 50 --value 1 --reason test --db "$DB" >/dev/null
run_capture "$LEAL" stamp add --program 7 --name Sellos --per sale --goal 3 --reward 1 --reason test --db "$DB"
check_eq "stamp card 1 added" 0 "$RC"
for d in 03 04 05; do
    "$LEAL" sale --account "$ACC" --amount 5 --store 1 --at "2026-02-${d}T15:00:00Z" --db "$DB" >/dev/null
done
run_capture "$LEAL" sale refund --sale "$(sqlite3 "$DB" "SELECT max(id) FROM sale")" --at 2026-02-05T16:00:00Z --db "$DB"
check_match "the 3rd sale refunded: its reward undone, 2 stamps held" "1 rewards reversed" "$OUT"
check_eq "liabilities --json: 2 stamps held by one customer, no value" '{"asset":"STAMP:1","holders":1,"units":2,"value":null}' \
    "$("$LEAL" report liabilities "${W[@]}" --json | $PY -c 'import json,sys; print(*[json.dumps(r, separators=(",", ":")) for r in json.load(sys.stdin)["parts"]["liabilities"] if r["asset"] == "STAMP:1"])')"
check_eq "redemptions --json: the stamp card's reward given and undone, none left" '{"reward":"sale","asset":"STAMP:1","redemptions":0,"units":0}' \
    "$("$LEAL" report redemptions "${W[@]}" --json | $PY -c 'import json,sys; print(*[json.dumps(r, separators=(",", ":")) for r in json.load(sys.stdin)["parts"]["redemptions"] if r["asset"] != "PTS"])')"
run_capture "$LEAL" report settlement --program 7 --from 2026-02-01 --to 2026-02-28 --db "$DB"
check_eq "settlement of a chain: exit 2, one line" \
    "2|leal: report settlement: 2026-02: settlement is between the shops of a collective program; this program is not one" \
    "$RC|$ERR"

# Every report in every format (rep10): --json against a computation of
# its own from the ledger file (report_check.py ledger: each figure from
# the customers' lines and the rows they come from, summed in Python; not
# the report's SQL nor the ledger's report summaries), then --csv (each
# part, '.' and --locale es), --xlsx and --svg against that --json; the
# window spans months (the summaries answer). settlement on a collective's
# ledger of its own (program 7 here is a chain).
run_capture "$LEAL_BUILD/tests/tools/report_gen" "$T/coll.db" 1500 3 30 60 collective
check_eq "generated: a collective's ledger" 0 "$RC"
declare -A PARTS=([activity]="activity refused" [customers]="customers tiers")
declare -A SVG=([activity]="activity day points_issued points_redeemed points_expired"
    [liabilities]="liabilities asset value" [redemptions]="redemptions reward redemptions"
    [breakage]="breakage month points_issued points_redeemed points_expired"
    [customers]="tiers tier customers" [retention]="retention month active"
    [campaigns]="campaigns name points" [settlement]="settlement store balance")
REPORTS="activity liabilities redemptions breakage customers retention campaigns settlement"
for r in $REPORTS; do
    db=$DB
    [ $r = settlement ] && db=$T/coll.db
    A=(--program 7 --from 2026-01-01 --to 2026-03-01 --db "$db")
    "$LEAL" report $r "${A[@]}" --json >"$T/m-$r.json"
    qc "$r" ledger "$T/m-$r.json" "$db"
    for part in ${PARTS[$r]:-$r}; do
        "$LEAL" report $r "${A[@]}" --csv --part $part >"$T/m-$r-$part.csv"
        qc "$r-$part" csv "$T/m-$r.json" "$T/m-$r-$part.csv" $part
        "$LEAL" report $r "${A[@]}" --csv --part $part --locale es >"$T/m-$r-$part-es.csv"
        qc "$r-$part-es" csv "$T/m-$r.json" "$T/m-$r-$part-es.csv" $part es
    done
    "$LEAL" report $r "${A[@]}" --xlsx "$T/m-$r.xlsx"
    qc "$r-xlsx" xlsx "$T/m-$r.json" "$T/m-$r.xlsx"
    "$LEAL" report $r "${A[@]}" --svg "$T/m-$r.svg"
    # shellcheck disable=SC2086 # the part and columns are words
    qc "$r-svg" svg "$T/m-$r.json" "$T/m-$r.svg" ${SVG[$r]}
done
checks_run
for r in $REPORTS; do
    got="$(qr "$r")"
    want=ok
    for part in ${PARTS[$r]:-$r}; do
        got+=" $($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["parts"][sys.argv[2]]) > 0)' "$T/m-$r.json" $part)"
        got+=" $(qr "$r-$part")"
        got+=" $(qr "$r-$part-es")"
        want+=" True ok ok"
    done
    got+=" $(qr "$r-xlsx")"
    got+=" $(qr "$r-svg")"
    check_eq "$r: --json as the ledger's lines give it (every part with rows); --csv of each part, and with --locale es; --xlsx; --svg: all as --json" \
        "$want ok ok" "$got"
done
# January settled at 2 cents a point, then a point worth 3: January as
# settled (its entries only, at 2), February and March as previews of what
# no settled month took (at 3).
run_capture "$LEAL" settle --period 2026-01 --program 7 --db "$T/coll.db"
check_eq "January settled" 0 "$RC"
"$LEAL" settle value --point-value 0,03 --program 7 --db "$T/coll.db" >/dev/null
"$LEAL" report settlement --program 7 --from 2026-01-01 --to 2026-03-01 --db "$T/coll.db" --json >"$T/settled.json"
check_eq "settlement after January settled: --json as the ledger's lines give it" "ok 0.03" \
    "$($CHECK ledger "$T/settled.json" "$T/coll.db") $($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["point_value"])' "$T/settled.json")"
check_eq "liabilities --json: EUR and PTS, points valued at 2 cents" "EUR PTS True" \
    "$($PY -c 'import json,sys; p=json.load(open(sys.argv[1]))["parts"]["liabilities"]; print(p[0]["asset"], p[1]["asset"], abs(p[1]["value"] - p[1]["units"] * 0.02) < 1e-9)' "$T/m-liabilities.json")"
# Windows the entries answer (one store; within a month), --json against the ledger.
WINDOWS=("2026-01-10 2026-02-20 s2" "2026-02-03 2026-02-20 -" "2026-02-01 2026-02-01 s1" "2026-01-31 2026-02-01 s3")
WREPORTS="activity redemptions breakage customers retention campaigns"
for i in "${!WINDOWS[@]}"; do
    set -- ${WINDOWS[i]}
    S=()
    [ "$3" != - ] && S=(--store "$3")
    for r in $WREPORTS; do
        "$LEAL" report $r --program 7 --from "$1" --to "$2" "${S[@]}" --db "$DB" --json >"$T/w$i-$r.json"
        qc "w$i-$r" ledger "$T/w$i-$r.json" "$DB"
    done
done
MONTHS="2026-01-01 2026-01-31 2026-02-01 2026-02-14 2026-02-28"
for d in $MONTHS; do
    "$LEAL" report liabilities --program 7 --from 2026-01-01 --to $d --db "$DB" --json >"$T/l-$d.json"
    qc "l-$d" ledger "$T/l-$d.json" "$DB"
done
checks_run
for i in "${!WINDOWS[@]}"; do
    set -- ${WINDOWS[i]}
    got= want=
    for r in $WREPORTS; do
        got+="$r $(qr "w$i-$r") "
        want+="$r ok "
    done
    check_eq "from $1 to $2 at ${3/-/every store}: each report's --json as the ledger's lines give it" "$want" "$got"
done
got= want=
for d in $MONTHS; do
    got+="$d $(qr "l-$d") "
    want+="$d ok "
done
check_eq "liabilities at the end of month ends, firsts and a middle: --json as the ledger's lines give it" "$want" "$got"

# A person's export and erasure (report_privacy_test.c checks them in depth).
CUST=$(sqlite3 "$DB" "SELECT customer_id FROM account WHERE id = $ACC")
"$LEAL" customer edit "$CUST" --email ana.secret@example.org --db "$DB" >/dev/null
run_capture "$LEAL" customer export "$CUST" --db "$DB"
check_eq "customer export: JSON with their e-mail and their entries" "ana.secret@example.org yes" \
    "$($PY -c 'import json,sys; t=json.load(sys.stdin)["tables"]; print(t["customer_pii"][0]["email"], "yes" if len(t["entry"]) > 3 else "no")' <<<"$OUT")"
JSON_ENTRIES=$($PY -c 'import json,sys; print(len(json.load(sys.stdin)["tables"]["entry"]))' <<<"$OUT")
run_capture "$LEAL" customer export "$CUST" --text --db "$DB"
check_eq "customer export --text: exit 0, their e-mail on its line, as many entries as the JSON" \
    "0 1 entry: $JSON_ENTRIES rows" "$RC $(grep -c '^    email: ana.secret@example.org$' <<<"$OUT") $(grep '^entry: ' <<<"$OUT")"
# Personal data never leaves through a report: no report's JSON, CSV or SVG
# holds any customer's name, surname, e-mail or phone (the e-mail above too).
for r in activity liabilities redemptions breakage customers retention campaigns; do
    "$LEAL" report $r "${W[@]}" --json >"$T/pii-$r.json"
    "$LEAL" report $r "${W[@]}" --csv >"$T/pii-$r.csv"
    "$LEAL" report $r "${W[@]}" --svg "$T/pii-$r.svg"
done
check_eq "no report (7, as JSON, CSV and SVG) holds a personal field of any customer" \
    "21 files, 0 personal values found" \
    "$(sqlite3 "$DB" "SELECT name, surname, email, phone FROM customer_pii" | tr '|' '\n' |
        $PY -c 'import sys, glob
vals = {v.strip() for v in sys.stdin if len(v.strip()) >= 3}
assert "ana.secret@example.org" in vals
files = sorted(glob.glob(sys.argv[1] + "/pii-*"))
found = [(f, v) for f in files for v in vals if v in open(f, encoding="utf-8").read()]
print("%d files, %d personal values found" % (len(files), len(found)), *found)' "$T")"
run_capture "$LEAL" customer erase "$CUST" --cards keep --db "$DB"
check_eq "customer erase without --confirm: exit 2, nothing erased" "2 1" \
    "$RC $(grep -c ana.secret "$DB" "$DB-wal" 2>/dev/null | awk -F: '{s += $2} END {print (s > 0)}')"
run_capture "$LEAL" customer erase "$CUST" --confirm --cards keep --operator dpo --db "$DB"
check_eq "customer erase --confirm: exit 0" "0|customer $CUST: personal data erased; the ledger keeps their entries; their cards kept" "$RC|$OUT"
check_eq "the e-mail is gone from the file" 0 "$(cat "$DB" "$DB-wal" 2>/dev/null | grep -c ana.secret)"
run_capture "$LEAL" ledger verify --db "$DB"
check_eq "ledger verify after erasure" 0 "$RC"
run_capture "$LEAL" customer erase "$CUST" --confirm --cards keep --db "$DB"
check_eq "erased twice: exit 2" 2 "$RC"

# Refusals: one line, exit 2, no file written.
run_capture "$LEAL" report nonsense "${W[@]}"
check_eq "unknown report: exit 2, one line" "2|leal: report nonsense: no such report; 'leal report --help' lists them" "$RC|$ERR"
run_capture "$LEAL" report activity --program 7 --from 2026-03-01 --to 2026-01-01 --db "$DB"
check_eq "--to before --from: exit 2" 2 "$RC"
run_capture "$LEAL" report activity --program 7 --from 2026-02-30 --to 2026-03-01 --db "$DB"
check_eq "not a real date: exit 2" "2|leal: leal report needs --from and --to as YYYY-MM-DD, real dates (see 'leal --help')" "$RC|$ERR"
run_capture "$LEAL" report liabilities "${W[@]}" --store s1
check_match "liabilities with --store: exit 2, says why" "^2\|leal: report liabilities: .*covers the whole program" "$RC|$ERR"
run_capture "$LEAL" report activity "${W[@]}" --xlsx "$T/no/such/dir/a.xlsx"
check_eq "--xlsx into a missing folder: exit 1, nothing written" "1 no" "$RC $([ -e "$T/no" ] && echo yes || echo no)"
run_capture "$LEAL" report activity "${W[@]}" --json --csv
check_eq "--json and --csv: exit 2" 2 "$RC"
run_capture "$LEAL" report activity --program 7 --from 2026-01-01 --to 2026-01-02 --db "$T/none.db"
check_eq "no ledger: exit 2, nothing created" "2 no" "$RC $([ -e "$T/none.db" ] && echo yes || echo no)"
run_capture "$LEAL" report --help
check_match "--help lists every report" "activity.*liabilities.*redemptions.*breakage.*customers.*retention" "$(tr '\n' ' ' <<<"$OUT")"


# Retention from the command line (report_privacy_test checks who it erases).
WANT=$(sqlite3 "$DB" "SELECT count(*) FROM customer c WHERE c.program_id = 7 AND c.erased_at IS NULL AND coalesce((SELECT max(e.at) FROM entry e JOIN line l ON l.entry_id = e.id JOIN account a ON a.id = l.account_id WHERE a.customer_id = c.id), c.created_at) < strftime('%s', 'now') - 365 * 86400")
run_capture "$LEAL" customer retention --program 7 --years 1 --dry-run --db "$DB"
check_eq "customer retention --dry-run: the count the test's query gives, exit 0" \
    "0 program 7: $WANT customers inactive for 1 year would be erased" "$RC $OUT"
run_capture "$LEAL" customer retention --program 7 --years 1 --db "$DB"
check_eq "customer retention without --confirm or --dry-run: exit 2" 2 "$RC"
# Two customers who signed up 400 days ago and never came (the generated
# activity is all of this year's): --confirm erases exactly them.
for n in old1 old2; do
    "$LEAL" customer add --db "$DB" --program 7 --name "Retired $n" --email "$n.retired@example.org" >/dev/null
done
sqlite3 "$DB" "UPDATE customer SET created_at = strftime('%s', 'now') - 400 * 86400 WHERE id IN
 (SELECT customer_id FROM customer_pii WHERE email LIKE '%.retired@example.org')"
run_capture "$LEAL" customer retention --program 7 --years 1 --confirm --operator dpo --db "$DB"
check_eq "customer retention --confirm: the two inactive for a year erased, exit 0" \
    "0 program 7: $((WANT + 2)) customers inactive for 1 year erased" "$RC $OUT"
REST=$("$LEAL" customer retention --program 7 --years 1 --dry-run --db "$DB")
check_eq "their e-mails are gone from the file, ledger verify passes, none is left to erase" \
    "0|0|program 7: 0 customers inactive for 1 year would be erased" \
    "$(cat "$DB" "$DB-wal" 2>/dev/null | grep -c retired@example)|$("$LEAL" ledger verify --db "$DB" >/dev/null 2>&1; echo $?)|$REST"
finish
