# backend.sh - the ledger backend an integration test runs its cases on
# (sourced after testlib.sh), so that a case is written once for both:
# LEAL_TEST_BACKEND=sqlite (the default: the ledger file under XDG_DATA_HOME)
# or pg (a private PostgreSQL 15 cluster of the test's own, tests/lib/pg.sh;
# sync_pg.sh runs sync_import.sh and reconcile_cli.sh so).
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
        source tests/lib/pg.sh
        if ! pg_available; then
            fail "PostgreSQL 15 is not installed (make deps installs postgresql-15)"
            finish
            exit
        fi
        pg_start || {
            fail "pg: the test cluster did not start"
            finish
            exit
        }
        trap backend_cleanup EXIT # pg_start set its own
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
    [ "$BK" != pg ] || pg_stop
    rm -rf "$T"
}
q() {
    if [ "$BK" = pg ]; then "$PG_BIN/psql" "$DB" -qAtX -c "$1"; else sqlite3 "$DB" "$1"; fi
}
rows() { q "$1" | paste -sd "${2:- }"; }
bal() { q "select coalesce((select amount from balance where account_id = $1 and asset = '$2'), 0)"; }
ledger_snapshot() {
    if [ "$BK" = pg ]; then
        "$PG_BIN/psql" "postgresql:///postgres?host=$PG_DIR&user=postgres" -qAtX \
            -c "CREATE DATABASE $1 TEMPLATE leal" >/dev/null
        echo "postgresql:///$1?host=$PG_DIR&user=postgres"
    else
        sqlite3 "$DB" ".backup $T/$1.db"
        echo "$T/$1.db"
    fi
}
backend_dump() {
    # pg_dump's \restrict line carries a new random key each time; its warning
    # about the customer and account tables naming each other is expected.
    if [ "$BK" = pg ]; then
        "$PG_BIN/pg_dump" --data-only -d "$DB" 2>"$T/pg_dump.err" | sed '/^\\\(un\)\{0,1\}restrict /d'
    else
        sqlite3 "$DB" .dump
    fi
}
sql_blob() { if [ "$BK" = pg ]; then echo "decode('$1', 'hex')"; else echo "x'$1'"; fi; }
sql_hex() { if [ "$BK" = pg ]; then echo "encode($1, 'hex')"; else echo "lower(hex($1))"; fi; }
