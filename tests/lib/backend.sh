# backend.sh - the ledger backend an integration test runs its cases on
# (sourced after testlib.sh), so that a case is written once for both:
# LEAL_TEST_BACKEND=sqlite (the default: the ledger file under XDG_DATA_HOME)
# or pg (a private PostgreSQL 15 cluster of the test's own, tests/lib/pg.sh;
# sync_pg.sh runs sync_import.sh and reconcile_cli.sh so, sale_pg.sh
# sale.sh, rules.sh and package_ledger.sh: backend_pg_suites).
# backend_fixture NAME PASSPHRASE: T (a temporary folder /tmp/leal-NAME-*,
# removed at exit, the cluster stopped), XDG_DATA_HOME under it,
# LEAL_PASSPHRASE, KS (the keystore of issuer "Café Sol" with program 7: a
# file on both backends, made before LEAL_DB is set), BK (sqlite or
# pg), DB (the ledger: the default file, or the cluster's URI, exported as
# LEAL_DB so that every leal command of the test finds it), the ledger
# initialised (one check).
# Then q SQL (the rows, one a line), rows SQL [SEP] (the rows on one line,
# joined by SEP, a space by default), bal ACCOUNT ASSET (0 without a row) and
# ledger_snapshot NAME (the ledger as it is now copied into another one,
# $T/NAME.db or the cluster's database NAME; prints its --db) work on either;
# so do backend_dump (every row of the ledger, for "nothing written"
# checks), sql_blob HEX (a blob literal in the backend's SQL) and sql_hex
# EXPR (a blob as lower-case hex).
#
# Both backends in one script (ledger_pg.sh, customers_pg.sh): backend_both
# NAME CASES makes T (/tmp/leal-NAME-*, removed at exit, the cluster
# stopped) and XDG_DATA_HOME under it, then runs the function CASES twice:
# with BK=sqlite and DB the file $T/ledger.db, in the background while the
# cluster starts (its output follows the PostgreSQL run's, its checks counted
# then), and with BK=pg and DB the cluster's database "leal" (LEAL_TEST_PG),
# which stay set after it (q, rows and bal read DB). Without PostgreSQL 15, or when the cluster does not
# start, one failed check says so and the script finishes there.
# backend_pg_db NAME [OPTIONS]: a new database NAME on the cluster (CREATE
# DATABASE NAME OPTIONS); prints its URI.
# backend_copy_both_ways WHAT RESULT [sorted]: `leal ledger copy` of the SQLite
# file $T/ledger.db into a new database "chain" of the cluster (CHAIN, its
# URI), then from CHAIN into the new file $T/back.db; three checks: "WHAT to
# PostgreSQL" and "copy back to a file" (exit 0 and the line RESULT, "copied
# N rows; ..."), and the file that comes back is the file that left (their
# .dump; line by line in sorted order with "sorted").
# backend_pg_suites SUITE...: each tests/integration/SUITE.sh run with
# LEAL_TEST_BACKEND=pg, its checks printed with the suite's name ("ok -
# SUITE: ...") and counted in this script's T_PASS and T_FAIL; a suite that
# ends without its count of checks is one failed check. Two suites or more
# (and no LEAL_TEST_PG_HOST) share one cluster started here instead of an
# initdb each: LEAL_TEST_PG_SHARED names it to the suite, whose
# backend_fixture drops every database an earlier one left and creates
# "leal" anew, and never stops it; one suite alone starts its own.
# backend_pg_suites_at_once SUITE...: the same, the suites at once.
# backend_db NAME (a script of one backend run by a *_pg.sh suite, e.g.
# segment.sh and mail_cli.sh from customers_pg.sh): with LEAL_TEST_BACKEND=pg,
# DB becomes a new database NAME, initialised, on the caller's cluster
# (LEAL_TEST_PG_HOST, its socket's folder: the caller stops it) or on a
# cluster of the script's own (an EXIT trap stops it, backend_db_stop, and
# removes T; a script with a trap of its own calls backend_db_stop in it);
# BK is sqlite or pg. 1 after a failed check when the cluster or database
# is not there.
backend_db() {
    BK=${LEAL_TEST_BACKEND:-sqlite}
    [ "$BK" = pg ] || return 0
    if [ -n "${LEAL_TEST_PG_HOST:-}" ]; then
        PG_DIR=$LEAL_TEST_PG_HOST
        DB=$(backend_pg_db "$1") || {
            fail "pg: database $1 not created"
            return 1
        }
    else
        backend_pg_start || return 1
        BACKEND_OWN_PG=1
        trap 'backend_db_stop; rm -rf "$T"' EXIT
        DB=$LEAL_TEST_PG
    fi
    "$LEAL" ledger init --db "$DB" >/dev/null || {
        fail "pg: ledger init"
        return 1
    }
}
# The cluster backend_db started, stopped (never the caller's).
backend_db_stop() { [ -z "${BACKEND_OWN_PG:-}" ] || pg_stop; }

source tests/lib/pg.sh

backend_pg_suites() {
    local t shared=
    if [ -z "${LEAL_TEST_PG_HOST:-}" ] && [ $# -gt 1 ]; then
        backend_pg_start || return 0 # one failed check says why
        shared=$PG_DIR
    fi
    for t in "$@"; do
        backend_pg_suite_count "$t" \
            "$(LEAL_TEST_BACKEND=pg LEAL_TEST_PG_SHARED=$shared bash "tests/integration/$t.sh" 2>&1)"
    done
    [ -z "$shared" ] || pg_stop
}
# backend_pg_suites_at_once SUITE...: as backend_pg_suites, the suites run
# at the same time (their output in $T/suite-SUITE.out), then counted in
# their order: for suites that spend their time waiting on a server.
backend_pg_suites_at_once() {
    local t pids=()
    for t in "$@"; do
        LEAL_TEST_BACKEND=pg bash "tests/integration/$t.sh" >"$T/suite-$t.out" 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}"
    for t in "$@"; do
        backend_pg_suite_count "$t" "$(cat "$T/suite-$t.out")"
    done
}
# backend_pg_suite_count SUITE OUTPUT: its checks printed with its name and
# counted.
backend_pg_suite_count() {
    local t=$1 out=$2 line
    sed -E "s/^(not )?ok - /&$t: /" <<<"$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -1)
    if [ -z "$line" ]; then
        fail "$t on PostgreSQL: it ended without its count of checks"
        return
    fi
    T_PASS=$((T_PASS + ${line%% passed*}))
    T_FAIL=$((T_FAIL + $(sed 's/.*, \([0-9]*\) failed/\1/' <<<"$line")))
}

backend_fixture() {
    T=$(mktemp -d "/tmp/leal-$1-XXXXXX")
    trap backend_cleanup EXIT
    export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="$2"
    KS=$XDG_DATA_HOME/leal/keystore
    BK=${LEAL_TEST_BACKEND:-sqlite}
    "$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
    case $BK in
    sqlite) DB=$XDG_DATA_HOME/leal/ledger.db ;;
    pg)
        if [ -n "${LEAL_TEST_PG_SHARED:-}" ]; then
            backend_pg_shared || {
                finish
                exit
            }
        else
            backend_pg_start || {
                finish
                exit
            }
            trap backend_cleanup EXIT # pg_start set its own
        fi
        DB=$LEAL_TEST_PG
        export LEAL_DB=$DB
        ;;
    *)
        echo "LEAL_TEST_BACKEND is sqlite or pg, not $BK" >&2
        exit 2
        ;;
    esac
    run_capture "$LEAL" ledger init
    check_eq "$BK: ledger init" 0 "$RC"
}
backend_cleanup() {
    [ "$BK" != pg ] || [ -n "${LEAL_TEST_PG_SHARED:-}" ] || pg_stop # never the caller's
    rm -rf "$T"
}
q() {
    if [ "$BK" = pg ]; then "$PG_BIN/psql" "$DB" -qAtX -c "$1"; else sqlite3 "$DB" "$1"; fi
}
rows() { q "$1" | paste -sd "${2:- }"; }
bal() { q "select coalesce((select amount from balance where account_id = $1 and asset = '$2'), 0)"; }
ledger_snapshot() {
    if [ "$BK" = pg ]; then
        backend_pg_db "$1" "TEMPLATE leal"
    else
        sqlite3 "$DB" ".backup $T/$1.db"
        echo "$T/$1.db"
    fi
}

# The cluster started (tests/lib/pg.sh's pg_start), or 1 after a failed
# check saying why.
backend_pg_start() {
    if ! pg_available; then
        fail "PostgreSQL 15 is not installed (make deps installs postgresql-15)"
        return 1
    fi
    pg_start || {
        fail "pg: the test cluster did not start"
        return 1
    }
}
# backend_pg_shared: backend_fixture on the cluster of LEAL_TEST_PG_SHARED
# (backend_pg_suites', which runs one suite at a time on it): every database
# an earlier suite left dropped, "leal" created anew, LEAL_TEST_PG naming it;
# or 1 after a failed check.
backend_pg_shared() {
    PG_DIR=$LEAL_TEST_PG_SHARED
    "$PG_BIN/psql" "postgresql:///postgres?host=$PG_DIR&user=postgres" -qAtX -v ON_ERROR_STOP=1 \
        >/dev/null <<'SQL' || {
SELECT format('DROP DATABASE %I WITH (FORCE)', datname) FROM pg_database
WHERE datname NOT IN ('postgres', 'template0', 'template1') \gexec
CREATE DATABASE leal;
SQL
        fail "pg: the shared cluster's databases not made anew ($PG_DIR)"
        return 1
    }
    export LEAL_TEST_PG="postgresql:///leal?host=$PG_DIR&user=postgres"
}
backend_pg_db() {
    "$PG_BIN/psql" "postgresql:///postgres?host=$PG_DIR&user=postgres" -qAtX \
        -c "CREATE DATABASE $1 ${2:-}" >/dev/null
    echo "postgresql:///$1?host=$PG_DIR&user=postgres"
}

backend_both() {
    local both_cases=$2 both_sqlite both_up
    T=$(mktemp -d "/tmp/leal-$1-XXXXXX")
    trap 'pg_stop; rm -rf "$T"' EXIT
    export XDG_DATA_HOME=$T/xdg
    # The script's time is mostly leal starting: the SQLite cases need not
    # wait for the cluster.
    (BK=sqlite DB=$T/ledger.db; T_PASS=0 T_FAIL=0; "$both_cases") >"$T/sqlite.log" 2>&1 &
    both_sqlite=$!
    backend_pg_start
    both_up=$?
    trap 'pg_stop; rm -rf "$T"' EXIT # pg_start set its own
    if [ $both_up -ne 0 ]; then
        wait $both_sqlite
        finish
        exit
    fi
    BK=pg DB=$LEAL_TEST_PG
    "$both_cases"
    wait $both_sqlite
    cat "$T/sqlite.log"
    T_PASS=$((T_PASS + $(grep -c '^ok - ' "$T/sqlite.log")))
    T_FAIL=$((T_FAIL + $(grep -c '^not ok - ' "$T/sqlite.log")))
}

backend_copy_both_ways() {
    local order=cat
    [ "${3:-}" != sorted ] || order=sort
    CHAIN=$(backend_pg_db chain)
    run_capture "$LEAL" ledger copy --from "sqlite:$T/ledger.db" --to "$CHAIN"
    check_eq "$BK: $1 to PostgreSQL" "0|$2" "$RC|$OUT"
    run_capture "$LEAL" ledger copy --from "$CHAIN" --to "sqlite:$T/back.db"
    check_eq "$BK: copy back to a file" "0|$2" "$RC|$OUT"
    check_eq "$BK: the file that comes back is the file that left" \
        "$(sqlite3 "$T/ledger.db" .dump | $order | sha256sum)" \
        "$(sqlite3 "$T/back.db" .dump | $order | sha256sum)"
}

# On PostgreSQL: what pg_dump --data-only holds (every row of every table, in
# the order COPY gives them, each sequence's state, the large objects), from
# one psql and one connection; pg_dump's catalog queries cost three times that
# (0.24 s of CPU a dump, server included). A failed dump never equals another.
BACKEND_DUMP_SQL="SELECT CASE c.relkind WHEN 'S' THEN format('SELECT %L, last_value, is_called FROM %I.%I', \
c.relname, n.nspname, c.relname) ELSE format('COPY %I.%I TO STDOUT', n.nspname, c.relname) END \
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'S') \
AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%' ORDER BY n.nspname, c.relname \gexec
SELECT oid, lomowner FROM pg_largeobject_metadata ORDER BY oid;
SELECT loid, pageno, md5(data) FROM pg_largeobject ORDER BY loid, pageno;"
backend_dump() {
    if [ "$BK" = pg ]; then
        "$PG_BIN/psql" "$DB" -qAtX -v ON_ERROR_STOP=1 <<<"$BACKEND_DUMP_SQL" ||
            echo "backend_dump: psql failed ($?) at $(date +%s.%N)"
    else
        sqlite3 "$DB" .dump
    fi
}
sql_blob() { if [ "$BK" = pg ]; then echo "decode('$1', 'hex')"; else echo "x'$1'"; fi; }
sql_hex() { if [ "$BK" = pg ]; then echo "encode($1, 'hex')"; else echo "lower(hex($1))"; fi; }
