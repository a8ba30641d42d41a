#!/bin/bash
# sync_pg.sh - terminal journals and reconciliation on PostgreSQL (issue 20):
# sync_import.sh and reconcile_cli.sh, each case written once, run with
# LEAL_TEST_BACKEND=pg (tests/lib/backend.sh: a private PostgreSQL 15 cluster,
# tests/lib/pg.sh, started once and each script's databases made anew on it)
# and the same exact expectations as on
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
source tests/lib/backend.sh

backend_pg_suites sync_import reconcile_cli
finish
