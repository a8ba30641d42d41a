# pg.sh - a private PostgreSQL 15 cluster for one test (sourced). pg_start
# makes a cluster in a temporary directory (initdb, trust authentication, a
# Unix socket in that directory, no TCP, fsync off and initdb -N: the cluster is thrown
# away), starts it and creates the database "leal"; it exports LEAL_TEST_PG,
# the connection URI (postgresql:///leal?host=DIR). pg_stop stops that server
# (by its own data directory, never by name) and removes the directory; an
# EXIT trap calls it. initdb and postgres refuse to run as root, and CI runs
# as root: then both run as the `postgres` user Debian's package creates,
# with the directory owned by it. pg_available says whether PostgreSQL 15 is
# installed (make deps installs it). PG_START_OPTS (empty by default): more
# server options after those (a later -c wins), for a bench that keeps the
# server's safe defaults (-c fsync=on ...) or adds its statistics. pg_up
# starts the server of PG_DIR again (after a test stopped it with pg_ctl stop
# to see leal do without it).
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=

pg_available() { [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ]; }

# As the owner of the cluster: root hands the command to `postgres`.
pg_as() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_stop() {
    [ -n "$PG_DIR" ] || return 0
    if [ -f "$PG_DIR/data/postmaster.pid" ]; then
        pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
    fi
    rm -rf "$PG_DIR"
    PG_DIR=
}

# pg_up: pg_start's server started (again) on its data directory, waited for.
pg_up() {
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
        -o "-c listen_addresses= -c unix_socket_directories=$PG_DIR -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=40 ${PG_START_OPTS:-}" start \
        >/dev/null
}

pg_start() {
    PG_DIR=$(mktemp -d /tmp/leal-pg-XXXXXX) || return 1
    chmod 0755 "$PG_DIR"
    [ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
    trap 'pg_stop' EXIT
    pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 --no-locale -N \
        >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log"; return 1; }
    pg_up || { cat "$PG_DIR/server.log"; return 1; }
    "$PG_BIN/psql" -h "$PG_DIR" -U postgres -d postgres -qAtX -c "CREATE DATABASE leal" \
        >/dev/null || return 1
    export LEAL_TEST_PG="postgresql:///leal?host=$PG_DIR&user=postgres"
}

# pg_sql SQL: runs SQL in the test database, unaligned output.
pg_sql() { "$PG_BIN/psql" "$LEAL_TEST_PG" -qAtX -c "$1"; }

# pg_reset: an empty database "leal" again (between cases).
pg_reset() {
    "$PG_BIN/psql" "postgresql:///postgres?host=$PG_DIR&user=postgres" -qAtX \
        -c "DROP DATABASE IF EXISTS leal WITH (FORCE)" -c "CREATE DATABASE leal" >/dev/null
}
