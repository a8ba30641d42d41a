#!/bin/bash
# settle.sh - `leal settle` end to end on a real SQLite ledger (issue 14,
# host/ledger/ledger_settle.h): a collective of three shops whose November
# sales and a refund (leal sale, --at) settle at the program's point value
# (leal settle value) to exact figures in words, --json and --csv (RFC 4180,
# byte for byte: CRLF, a name with a comma and quotes quoted, quotes
# doubled); the rows sum to zero; who owes whom (the matrix: the two shops
# that owe pay the pool); the settled month is closed (a sale posted later
# with a November time goes to December); refusals in one line.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-settle-XXXXXX)
trap 'rm -rf "$T"' EXIT
DB=$T/ledger.db
export XDG_DATA_HOME=$T/xdg USER=tester

l() { run_capture "$LEAL" "$@" --db "$DB"; }

l program create --code mercado --name Mercado --kind collective --points-per-euro 1
check_eq "program" 0 "$RC"
l store add --program 1 --code pan --name 'Panadería "La Espiga", centro' --tz Europe/Madrid
l store add --program 1 --code fru --name Frutas --tz Europe/Madrid
l store add --program 1 --code pes --name Pescados --tz Europe/Madrid
l customer add --program 1 --name Ana
check_eq "customer" "customer 1 added, account 11" "$OUT"
l sale --account 11 --amount 30 --store 1 --at 2026-11-05T10:00:00Z
l sale --account 11 --amount 12,50 --store 2 --at 2026-11-06T10:00:00Z
l sale refund --sale 1 --amount 10 --at 2026-11-07T10:00:00Z
check_eq "sales and a refund" "0 30 12" "$RC $(sqlite3 "$DB" 'SELECT group_concat(points, " ") FROM sale')"

l settle --period 2026-11 --preview
check_eq "no point value yet: refused in one line, exit 2" \
    "2|leal: settling 2026-11: the program has no point value for settlement; set it first ('leal settle value --program ID --point-value EUR'); nothing was settled" \
    "$RC|$ERR"
l settle value --point-value 0,02
check_eq "settle value" "0|program 1 settles points at 0.02 EUR a point from now on" "$RC|$OUT"

l settle --period 2026-11 --preview
check_eq "preview in words: collected 20 at the bakery (30 less the refund's 10), 12 at the fruit shop" \
    "0|program 1, period 2026-11 (UTC): preview, not settled; a point is worth 0.02 EUR
shop                      collected   paid out   loaded EUR    spent EUR  balance
Panadería \"La Espiga\", centro / pan         20          0         0.00         0.00  owes 0.40 EUR
Frutas / fru                     12          0         0.00         0.00  owes 0.24 EUR
Pescados / pes                    0          0         0.00         0.00  is owed 0.00 EUR
no shop                           0          0         0.00         0.00  is owed 0.00 EUR
collective pool                 -32          0         0.00         0.00  is owed 0.64 EUR
who owes whom (EUR; the row pays the column):
                      pan          fru          pes      no-shop         pool
pan                     -            -            -            -         0.40
fru                     -            -            -            -         0.24
pes                     -            -            -            -            -
no-shop                 -            -            -            -            -
pool                    -            -            -            -            -" \
    "$RC|$OUT"
l settle --period 2026-11 --preview --json
NOV_JSON='"point_value_cents":2,"upto_entry":3,"rows":[{"row":"shop","store":1,"code":"pan","name":"Panadería \"La Espiga\", centro","points_collected":20,"points_paid_out":0,"purse_loaded_cents":0,"purse_spent_cents":0,"balance_cents":-40},{"row":"shop","store":2,"code":"fru","name":"Frutas","points_collected":12,"points_paid_out":0,"purse_loaded_cents":0,"purse_spent_cents":0,"balance_cents":-24},{"row":"shop","store":3,"code":"pes","name":"Pescados","points_collected":0,"points_paid_out":0,"purse_loaded_cents":0,"purse_spent_cents":0,"balance_cents":0},{"row":"no-shop","store":null,"code":"","name":"no shop","points_collected":0,"points_paid_out":0,"purse_loaded_cents":0,"purse_spent_cents":0,"balance_cents":0},{"row":"pool","store":null,"code":"","name":"collective pool","points_collected":-32,"points_paid_out":0,"purse_loaded_cents":0,"purse_spent_cents":0,"balance_cents":64}],"owes":[{"from":"pan","to":"pool","cents":40},{"from":"fru","to":"pool","cents":24}],"total_cents":0}'
check_eq "preview --json, exact" \
    "0|{\"program\":1,\"period\":\"2026-11\",\"closed\":false,\"closed_now\":false,$NOV_JSON" "$RC|$OUT"
check_eq "--json: the balances sum to zero" 0 \
    "$($PY -c 'import json,sys; print(sum(r["balance_cents"] for r in json.load(sys.stdin)["rows"]))' <<<"$OUT")"

# Settled with --csv: RFC 4180, compared byte for byte.
"$LEAL" settle --period 2026-11 --csv --db "$DB" >"$T/nov.csv"
check_eq "settled: exit 0" 0 "$?"
printf '%s\r\n' 'period,row,store,code,name,points_collected,points_paid_out,purse_loaded,purse_spent,balance,pays_pan,pays_fru,pays_pes,pays_no-shop,pays_pool' \
    '2026-11,shop,1,pan,"Panadería ""La Espiga"", centro",20,0,0.00,0.00,-0.40,0.00,0.00,0.00,0.00,0.40' \
    '2026-11,shop,2,fru,Frutas,12,0,0.00,0.00,-0.24,0.00,0.00,0.00,0.00,0.24' \
    '2026-11,shop,3,pes,Pescados,0,0,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00' \
    '2026-11,no-shop,,,no shop,0,0,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00' \
    '2026-11,pool,,,collective pool,-32,0,0.00,0.00,0.64,0.00,0.00,0.00,0.00,0.00' >"$T/want.csv"
check_eq "--csv: RFC 4180, byte for byte" "" "$(cmp "$T/want.csv" "$T/nov.csv" 2>&1)"
check_eq "--csv: python's csv module reads it back: the bakery's name, 6 rows of 15 fields (10 and the 5 of the matrix)" \
    'Panadería "La Espiga", centro 6 15' \
    "$($PY -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1], newline=""), strict=True)); print(r[1][4], len(r), len({len(x) for x in r}) * len(r[0]))' "$T/nov.csv")"
check_eq "the settlement recorded: period, entries up to 3, value, who" "2026-11|3|2|tester" \
    "$(sqlite3 "$DB" 'SELECT period, upto_entry, point_value_cents, operator FROM settlement')"

# Closed: a sale posted now with a November time goes to December.
l sale --account 11 --amount 7 --store 3 --at 2026-11-20T10:00:00Z
l settle --period 2026-11 --json
check_eq "November again: the same figures, closed before" \
    "0|{\"program\":1,\"period\":\"2026-11\",\"closed\":true,\"closed_now\":false,$NOV_JSON" "$RC|$OUT"
l settle --period 2026-11
check_match "November in words: settled, when and by whom" \
    "^program 1, period 2026-11 \(UTC\): settled on 20[0-9-]+ [0-9:]+ by tester; a point is worth 0.02 EUR" "$OUT"
l settle --period 2026-12 --preview --json
check_eq "December so far: the late sale's 7 points at the fish shop" "0|0 0 7 -14 14" \
    "$RC|$($PY -c 'import json,sys; r=json.load(sys.stdin)["rows"]; print(r[0]["points_collected"], r[1]["points_collected"], r[2]["points_collected"], r[2]["balance_cents"], r[4]["balance_cents"])' <<<"$OUT")"

# Refusals: one line each, exit 2, nothing settled.
l settle --period 2026-10
check_eq "a period before the last settled one" \
    "2|leal: settling 2026-10: period 2026-11 is settled already, after 2026-10; periods are settled in order; nothing was settled" \
    "$RC|$ERR"
l settle --period 2099-01
check_eq "a period not ended" \
    "2|leal: settling 2099-01: the period has not ended; settle it once it has (--preview shows it so far); nothing was settled" \
    "$RC|$ERR"
l settle --period 2026-13
check_eq "a bad period" "2|leal: leal settle needs --period YYYY-MM, like 2026-11 (see 'leal --help')" \
    "$RC|$ERR"
l settle --period 2026-11 --json --csv
check_eq "--json and --csv: refused (a JSON error, as --json asks)" \
    "2|{\"error\":{\"code\":303,\"name\":\"LEAL_E_USAGE\",\"message\":\"--json or --csv, not both\"}}" \
    "$RC|$OUT"
l program create --code sol --name Sol --kind single --points-per-euro 1
l settle --period 2026-11 --program 2
check_eq "a program that is not a collective" \
    "2|leal: settling 2026-11: settlement is between the shops of a collective program; this program is not one; nothing was settled" \
    "$RC|$ERR"
check_eq "one settlement recorded" 1 "$(sqlite3 "$DB" 'SELECT count(*) FROM settlement')"
l ledger verify
check_eq "ledger verify" 0 "$RC"
finish
