#!/bin/bash
# sync_pg.sh - terminal journals and reconciliation on PostgreSQL (issue 20):
# sync_import.sh and reconcile_cli.sh, each case written once, run with
# LEAL_TEST_BACKEND=pg (tests/lib/backend.sh: a private PostgreSQL 15 cluster
# of each script's own, tests/lib/pg.sh) and the same exact expectations as on
# SQLite: journals made by the real journal code imported exactly once with
# exact balances; the same file twice and an overlapping file post nothing
# twice; a changed byte takes nothing from the entry it breaks on and flags
# the terminal; a changed export MAC, a gap, the same key with another MAC, an
# unknown terminal, commits without answer and their settles, a torn append,
# a card showing more than its account, a held redeem posted later; the ack;
# a card's counter seen twice (a clone) found, the card blocked, the finding
# accepted once; a balance finding. Each check is printed with the script's
# name and counted here. (sync_pg_concurrency.sh: importers and the desk at
# once on PostgreSQL.)
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

for t in sync_import reconcile_cli; do
    out=$(LEAL_TEST_BACKEND=pg bash "tests/integration/$t.sh" 2>&1)
    sed -E "s/^(not )?ok - /&$t: /" <<<"$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -1)
    if [ -z "$line" ]; then
        fail "$t on PostgreSQL: it ended without its count of checks"
        continue
    fi
    T_PASS=$((T_PASS + ${line%% passed*}))
    T_FAIL=$((T_FAIL + $(sed 's/.*, \([0-9]*\) failed/\1/' <<<"$line")))
done
finish
