# messages.sh - the world of the `leal messages` tests that send through a
# real SMTP server (sourced after testlib.sh): a ledger with one program and
# its store, tests/lib/smtp_sink.py on 127.0.0.1 and the program's mail
# settings pointing at it (messages_bounces.sh, messages_run_all.sh,
# messages_occasions.sh, messages_tier.sh).

source tests/lib/backend.sh

# messages_fixture NAME ZONE [OPTION...]: T (a temporary directory
# /tmp/leal-NAME-*, removed at exit once the server and RUN_PID, a
# background `leal` the script may start, are stopped), DB (the ledger file
# in it), XDG_DATA_HOME under it and USER=tester; program 7 "Café Sol" (code
# sol; the OPTIONs are added to `leal program create`), its store 1 (code c1,
# "Sol Centro", in ZONE); the SMTP server (its own end after 15 minutes, in
# case the script dies without its trap: longer than a run on a loaded
# machine, several suites at once) writing each message it receives as
# $T/inbox/N.eml with its envelope (sender, then the recipients) as N.env,
# SINK_PID its process; the program's mail settings: that server, no TLS,
# from club@sol.example ("Café Sol"). Exits 1 if any of it fails. With
# LEAL_TEST_BACKEND=pg (customers_pg.sh) DB is instead a new database NAME
# on a PostgreSQL cluster (tests/lib/backend.sh's backend_db; q reads it).
messages_fixture() {
    local name=$1 zone=$2
    shift 2
    T=$(mktemp -d "/tmp/leal-$name-XXXXXX")
    SINK_PID=
    RUN_PID=
    DB=$T/ledger.db
    export XDG_DATA_HOME=$T/xdg USER=tester
    backend_db "$name" || {
        finish
        exit
    }
    trap messages_cleanup EXIT
    "$LEAL" program create --db "$DB" --code sol --name "Café Sol" --id 7 "$@" >/dev/null || exit 1
    "$LEAL" store add --db "$DB" --program 7 --code c1 --name "Sol Centro" --tz "$zone" \
        >/dev/null || exit 1
    mkdir "$T/inbox"
    $PY tests/lib/smtp_sink.py --dir "$T/inbox" --port-file "$T/port" --lifetime 900 &
    SINK_PID=$!
    for _ in $(seq 600); do [ -s "$T/port" ] && break; sleep 0.05; done
    "$LEAL" mail set --db "$DB" --program 7 --server 127.0.0.1 --port "$(cat "$T/port")" \
        --tls none --from club@sol.example --from-name "Café Sol" >/dev/null || exit 1
    echo 0 >"$T/seen"
}

# The EXIT trap messages_fixture sets.
messages_cleanup() {
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
    [ -n "$RUN_PID" ] && kill -9 "$RUN_PID" 2>/dev/null
    wait 2>/dev/null
    backend_db_stop
    rm -rf "$T"
}

# new_rcpts: the recipients of the messages received since the last call,
# sorted (the mark is kept in a file: callers run this in a subshell).
new_rcpts() {
    local seen all
    seen=$(cat "$T/seen")
    all=$(ls "$T"/inbox/*.env 2>/dev/null | sort)
    echo "$all" | grep -c . >"$T/seen"
    echo "$all" | tail -n +$((seen + 1)) | grep . | while read -r f; do tail -n +2 "$f"; done | sort
}
