#!/bin/bash
# ledger_pg_failover.sh - the ledger on PostgreSQL survives losing its server:
# a primary and a synchronous standby on loopback (initdb, pg_basebackup -R,
# synchronous_standby_names naming the standby, synchronous_commit=on), four
# writers posting with `leal ledger post` (two per account, each writing
# down every request id leal acknowledged with exit 0, and the one it had in
# flight when the server went away), the primary and all its processes
# killed with SIGKILL at a seeded random moment, the standby promoted with
# pg_ctl promote. On the promoted node: every acknowledged request id is
# there exactly once, each in-flight one retried by its writer there is
# either replayed (it had committed) or posted now, again exactly once, each
# balance is exactly its entries, and `leal ledger verify` passes. Then a
# new standby is made from the promoted node and the next round kills that
# one: three rounds, the books carried through all of them. Stops only the
# servers it started (by their data directories and the pids they wrote).
# LEAL_FAILOVER_SEED picks the kill moments (printed for a rerun).
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/pg.sh

ROUNDS=3
WRITERS=4
SEED=${LEAL_FAILOVER_SEED:-20}
RANDOM=$SEED
echo "# seed $SEED"

T=$(mktemp -d /tmp/leal-pg-failover-XXXXXX)
chmod 0755 "$T"
[ "$(id -u)" = 0 ] && chown postgres: "$T"
WPIDS=
NODES=

# Stops what this script started: the writers, then each node by its data
# directory (pg_ctl reads the pid the server wrote there).
cleanup() {
    local w d
    for w in $WPIDS; do kill "$w" 2>/dev/null; done
    for d in $NODES; do
        [ -f "$d/postmaster.pid" ] &&
            pg_as "$PG_BIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
    done
    rm -rf "$T"
}
trap cleanup EXIT

if ! pg_available || [ ! -x "$PG_BIN/pg_basebackup" ]; then
    fail "PostgreSQL 15 is not installed (make deps installs postgresql-15)"
    finish; exit $?
fi

# Two free loopback ports (the OS hands them out; closed again at once).
read -r PORT_A PORT_B < <($PY -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

node_start() { # DIR PORT
    pg_as "$PG_BIN/pg_ctl" -D "$1" -l "$1.log" -w -t 30 -o "-p $2" start >/dev/null ||
        { cat "$1.log"; return 1; }
    NODES="$NODES $1"
}
sqlp() { "$PG_BIN/psql" "host=127.0.0.1 port=$1 user=postgres dbname=${3:-leal}" -qAtX -c "$2"; }
uri() { echo "postgresql://postgres@127.0.0.1:$1/leal"; }

# The first primary. fsync is off: what is tested is the loss of the server
# process, not of the machine, and the kernel keeps what was written (so
# initdb -N and pg_basebackup --no-sync below: no flush of the new data
# directory to the disk either, 1 to 3 s a base backup here).
P=$T/n0 PP=$PORT_A
pg_as "$PG_BIN/initdb" -D "$P" -A trust -U postgres -E UTF8 --no-locale -N >"$T/initdb.log" 2>&1 ||
    { cat "$T/initdb.log"; exit 1; }
cat >>"$P/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$T'
fsync = off
full_page_writes = off
synchronous_commit = on
wal_level = replica
max_wal_senders = 4
max_connections = 40
EOF
node_start "$P" "$PP" || exit 1
sqlp "$PP" "CREATE DATABASE leal" postgres >/dev/null
DB=$(uri "$PP")
run_capture "$LEAL" ledger init --db "$DB"
check_eq "ledger init on the primary" 0 "$RC"
"$LEAL" program create --code sol --name "Sol" --kind single --db "$DB" >/dev/null
"$LEAL" account add --program 1 --json --db "$DB" >"$T/acc1"
"$LEAL" account add --program 1 --json --db "$DB" >"$T/acc2"
A1=$(sed 's/[^0-9]//g' "$T/acc1") A2=$(sed 's/[^0-9]//g' "$T/acc2")
check_eq "two accounts" 1 "$([ -n "$A1" ] && [ -n "$A2" ] && [ "$A1" != "$A2" ] && echo 1)"

# writer W ROUND PORT: posts +1 (W's account: A1 for odd W, A2 for even)
# until leal fails; each acknowledged request id goes to ack-W, the one in
# flight at the failure to pending-W.
writer() {
    local w=$1 r=$2 i=0 acc=$A2 id
    [ $((w % 2)) = 1 ] && acc=$A1
    while :; do
        i=$((i + 1)) id="w$w-r$r-$i"
        if "$LEAL" ledger post --account "$acc" --asset PTS --amount 1 --reason failover \
            --operator "w$w" --request-id "$id" --db "$(uri "$3")" >/dev/null 2>"$T/err-$w"; then
            echo "$id $acc" >>"$T/ack-$w"
        else
            echo "$id $acc" >"$T/pending-$w"
            return
        fi
    done
}

S=
for r in $(seq 1 $ROUNDS); do
    # A synchronous standby of P: a base backup with the replication
    # settings written (-R), naming itself standby1, which P then waits for.
    SP=$PORT_A
    [ "$PP" = "$PORT_A" ] && SP=$PORT_B
    S=$T/n$r
    pg_as "$PG_BIN/pg_basebackup" -d "host=127.0.0.1 port=$PP user=postgres \
application_name=standby1" -D "$S" -R -X stream -c fast --no-sync >"$T/bb.log" 2>&1 ||
        { cat "$T/bb.log"; exit 1; }
    node_start "$S" "$SP" || exit 1
    sqlp "$PP" "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" >/dev/null
    sqlp "$PP" "SELECT pg_reload_conf()" >/dev/null
    state=
    for _ in $(seq 1 100); do
        state=$(sqlp "$PP" "SELECT application_name || ' ' || sync_state FROM pg_stat_replication")
        [ "$state" = "standby1 sync" ] && break
        sleep 0.1
    done
    check_eq "round $r: the standby replicates synchronously" "standby1 sync" "$state"

    rm -f "$T"/ack-* "$T"/pending-*
    WPIDS=
    for w in $(seq 1 $WRITERS); do
        writer "$w" "$r" "$PP" &
        WPIDS="$WPIDS $!"
    done
    # The kill: 0.8 to 2.3 s after the writers start, all of the primary's
    # processes at once (the postmaster and its children, by the pid it wrote).
    ms=$((800 + RANDOM % 1500))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    pm=$(head -1 "$P/postmaster.pid")
    # shellcheck disable=SC2046
    kill -KILL "$pm" $(pgrep -P "$pm") 2>/dev/null
    # shellcheck disable=SC2086
    wait $WPIDS
    WPIDS=
    # Its lock files too: the killed postmaster may linger as a zombie for a
    # moment (its parent is whatever reaps orphans here), and a node started
    # on its port then takes the socket's lock for another live postmaster's.
    rm -f "$P/postmaster.pid" "$T/.s.PGSQL.$PP.lock" "$T/.s.PGSQL.$PP"
    NODES=${NODES/ $P/}
    acked=$(cat "$T"/ack-* 2>/dev/null | wc -l)
    pending=$(cat "$T"/pending-* 2>/dev/null | wc -l)
    echo "# round $r: killed after ${ms} ms; $acked posts acknowledged, $pending in flight"
    check_eq "round $r: every writer was acknowledged, then cut off" "$WRITERS $WRITERS" \
        "$(ls "$T"/ack-* 2>/dev/null | wc -l) $pending"

    run_capture pg_as "$PG_BIN/pg_ctl" -D "$S" -w -t 30 promote
    check_eq "round $r: the standby is promoted" 0 "$RC"
    check_eq "round $r: it takes writes" "f" "$(sqlp "$SP" "SELECT pg_is_in_recovery()")"
    DB=$(uri "$SP")

    # Every acknowledged request id exactly once. join wants both files in
    # the order of their first field: a whole-line sort puts w1-r1-10|1
    # before w1-r1-1|1 (once a writer has ten posts) and join refuses it.
    sqlp "$SP" "SELECT request_id, count(*) FROM entry WHERE request_id LIKE '%-r$r-%' \
GROUP BY request_id" | LC_ALL=C sort -t'|' -k1,1 >"$T/found"
    cut -d' ' -f1 "$T"/ack-* | LC_ALL=C sort >"$T/acked"
    check_eq "round $r: every acknowledged post is on the promoted node, once" "" \
        "$(LC_ALL=C join -t'|' -v1 -o 1.1 "$T/acked" "$T/found"; grep -v '|1$' "$T/found")"
    # What it holds beyond them is at most the posts that were in flight.
    check_eq "round $r: nothing else but posts in flight" "" \
        "$(cut -d'|' -f1 "$T/found" | sort | comm -23 - <(cat "$T/acked" \
            <(cut -d' ' -f1 "$T"/pending-*) | sort))"
    # The tills retry what they had in flight: replayed if it had
    # committed, posted now if not, and either way there once.
    retried=0 replayed=0
    for f in "$T"/pending-*; do
        read -r id acc <"$f"
        was=$(sqlp "$SP" "SELECT count(*) FROM entry WHERE request_id = '$id'")
        # The same request as the writer's (its operator too: a different
        # movement under the same id is an idempotency conflict, rightly).
        run_capture "$LEAL" ledger post --account "$acc" --asset PTS --amount 1 \
            --reason failover --operator "${id%%-*}" --request-id "$id" --db "$DB" --json
        if [ "$RC" = 0 ] && { { [ "$was" = 1 ] && [[ "$OUT" == *'"replayed":true}' ]]; } ||
            { [ "$was" = 0 ] && [[ "$OUT" == *'"replayed":false}' ]]; }; }; then
            retried=$((retried + 1)) replayed=$((replayed + was))
        else
            echo "# retry of $id (there $was times before): $RC $OUT $ERR"
        fi
    done
    echo "# round $r: of the posts in flight $replayed had committed (replayed), $((retried - replayed)) had not"
    check_eq "round $r: the posts in flight, retried, are replayed or posted" "$WRITERS" "$retried"
    check_eq "round $r: no request id twice" "" \
        "$(sqlp "$SP" "SELECT request_id FROM entry GROUP BY request_id HAVING count(*) > 1")"
    # Each writer's account holds exactly one point per post made to it.
    for a in $A1 $A2; do
        check_eq "round $r: account $a's balance is its posts" \
            "$(sqlp "$SP" "SELECT count(*) FROM line l JOIN entry e ON e.id = l.entry_id WHERE \
l.account_id = $a AND e.request_id LIKE 'w%'")" \
            "$(sqlp "$SP" "SELECT coalesce(sum(amount), 0) FROM balance WHERE account_id = $a")"
    done
    run_capture "$LEAL" ledger verify --db "$DB"
    check_eq "round $r: ledger verify on the promoted node" 0 "$RC"
    [ "$RC" = 0 ] || echo "# $OUT $ERR"

    # The promoted node is the next round's primary (its own commits no
    # longer wait for a standby until the next one is attached).
    rm -rf "$P"
    P=$S PP=$SP
done
total=$(sqlp "$PP" "SELECT count(*) FROM entry WHERE request_id LIKE 'w%'")
echo "# $total posts across $ROUNDS failovers"
check_eq "every round's posts are on the last node" \
    "$(sqlp "$PP" "SELECT coalesce(sum(amount), 0) FROM balance WHERE account_id IN ($A1, $A2)")" \
    "$total"
finish
