#!/bin/bash
# desk_pg.sh - the issuance desk on PostgreSQL (issue 20): desk_ledger.sh,
# each case written once, run with LEAL_TEST_BACKEND=pg (tests/lib/
# backend.sh: a private PostgreSQL 15 cluster of its own, tests/lib/pg.sh)
# and the same exact expectations as on SQLite: a DESFire and a Classic
# issued, topped up, earning at the terminal with the journal imported once,
# read, synced, blocked and replaced, the PIN and holder, `leal desk
# --stdio`, `leal account history`, a QR code issued and revoked, and the
# ledger copied to a file and back with the desk's rows. Each check is
# printed with the script's name and counted here.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/backend.sh

backend_pg_suites desk_ledger
finish
