#!/bin/bash
# ledger_import.sh - `leal ledger import` refuses a batch whole: a line that
# would take an account below zero in the middle of a batch is named by its
# line number, nothing of that batch is kept (not the good lines before it),
# the batches committed before it stay, and the balance the check uses is the
# one the earlier lines of the same batch and the earlier batches left.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-import-XXXXXX)
trap 'rm -rf "$T"' EXIT
DB=$T/ledger.db
q() { sqlite3 "$DB" "$1"; }

"$LEAL" program create --db "$DB" --code imp --name Import >/dev/null
"$LEAL" account add --program 1 --db "$DB" >/dev/null
"$LEAL" account add --program 1 --db "$DB" >/dev/null

# Batches of 4: lines 1-4 commit (account 11 holds 5.00); in lines 5-8, line 7
# takes account 11 from 2.00 (5.00 + 1.00 - 4.00 left by lines 5 and 6) to -1.00.
cat >"$T/in.csv" <<'EOF'
i1,11,2,EUR,200,t,robot
i2,12,2,EUR,50,t,robot
i3,11,2,EUR,300,t,robot
i4,12,2,EUR,50,t,robot
i5,11,2,EUR,100,t,robot
i6,11,2,EUR,-400,t,robot
i7,11,2,EUR,-300,t,robot
i8,12,2,EUR,100,t,robot
EOF
run_capture "$LEAL" ledger import "$T/in.csv" --batch 4 --db "$DB"
check_eq "a negative balance in the middle of a batch is refused" \
    "2|committed 4|leal: $T/in.csv line 7: account 11 would hold -100 EUR: balance too low for this movement
leal: $T/in.csv: 1 line(s) refused; 4 entries committed before line 7, nothing from it on: fix the lines named and import again (committed lines are recognised by their request ids)" \
    "$RC|$OUT|$ERR"
check_eq "only the first batch is kept" "4|i1 i2 i3 i4" \
    "$(q 'select count(*) from entry')|$(q 'select group_concat(request_id, " ") from entry')"
check_eq "balances are the first batch's" "11:500 12:100 2:-600" \
    "$(q "select group_concat(account_id || ':' || amount, ' ') from (select * from balance order by account_id <> 11, account_id <> 12, account_id)")"
run_capture "$LEAL" ledger verify --db "$DB"
check_eq "verify after the refused batch" "0|ledger ok: 4 entries, 8 lines, 12 accounts" "$RC|$OUT"

# The same file with line 7 taking 2.00 instead: all 8 lines, the first 4 replayed.
sed -i 's/^i7,11,2,EUR,-300/i7,11,2,EUR,-200/' "$T/in.csv"
run_capture "$LEAL" ledger import "$T/in.csv" --batch 4 --db "$DB"
check_eq "the corrected file imports" "0|committed 4
committed 8
imported 8 entries (4 already there)" "$RC|$OUT"
check_eq "account 11 down to exactly 0" "0" \
    "$(q "select amount from balance where account_id = 11 and asset = 'EUR'")"

# A batch refused at its last line by a balance an earlier batch left.
printf 'j1,11,2,EUR,100,t,robot\nj2,11,2,EUR,-101,t,robot\n' >"$T/j.csv"
run_capture "$LEAL" ledger import "$T/j.csv" --batch 2 --db "$DB"
check_eq "refused against the committed balance" \
    "2||leal: $T/j.csv line 2: account 11 would hold -1 EUR: balance too low for this movement
leal: $T/j.csv: 1 line(s) refused; 0 entries committed before line 2, nothing from it on: fix the lines named and import again (committed lines are recognised by their request ids)" \
    "$RC|$OUT|$ERR"
check_eq "nothing of it kept" "8" "$(q 'select count(*) from entry')"
run_capture "$LEAL" ledger verify --db "$DB"
check_eq "verify at the end" "0|ledger ok: 8 entries, 16 lines, 12 accounts" "$RC|$OUT"
finish
