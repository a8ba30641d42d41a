#!/bin/bash
# sale_pg.sh - sales, the rules commands, terminal packages and bonos at the
# desk on PostgreSQL (issue 20): sale.sh, rules.sh, package_ledger.sh and
# bono_ledger.sh, each case written once,
# run with LEAL_TEST_BACKEND=pg (tests/lib/backend.sh: a private PostgreSQL 15
# cluster, tests/lib/pg.sh, started once and each script's databases made
# anew on it) and the same exact
# expectations as on SQLite: sales and refunds with their exact output, local
# times, idempotent retries, owed points, `rules simulate`, `ledger verify`
# holding each sale to its entry, every report with the same
# figures (and in byte order in a database collated for Spanish), and the
# ledger copied to an SQLite file and back with every sale; every rule, tier, reward, stamp card and bono command
# with its versions and refusals; a terminal package built from the ledger
# (rules, names, hot list, floors, host changes, a phone's allowance at its
# tier, site, caps) and what the build records; a bono sold, used (a torn
# sale settled once) and swept to breakage on the card in the reader, a
# portal code honoured once. Each check is printed with
# the script's name and counted here.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/backend.sh

backend_pg_suites sale rules package_ledger bono_ledger
finish
