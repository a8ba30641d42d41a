#!/bin/bash
# chain.sh - a simulated chain on both ledger backends (issue 20): N
# terminals, C carded customers and a period of offline taps as the
# terminals' journal exports (tests/tools/chain_gen: the ledger through the
# ledger API, an SQLite file, the journals by the real journal code under
# each terminal's journal key from a keystore made by `leal keys init`).
# The SQLite ledger is measured first; then the same file is moved with
# `leal ledger copy` to a private PostgreSQL 15 cluster the bench starts
# (tests/lib/pg.sh) with the server's safe defaults (fsync, synchronous_commit
# and full_page_writes on; they are printed), and measured the same way.
# Each figure against a reference measured in the same run, on the same
# backend:
#   import      `leal sync import --no-reconcile` of every export by IMPORTERS
#               (8) importers at once, each its share of the files, against
#               one importer taking them all (the reference) into a copy of
#               the same ledger; all copies, on both backends, must end with
#               the same entries and balances (an importer is one process per
#               256 files, the most `leal sync import` takes, one after the
#               other); on PostgreSQL also where the time goes: the
#               statements and their time in the server (pg_stat_statements),
#               the WAL's fsyncs (pg_stat_wal) and, sampled every half second,
#               what the importers' connections are doing (pg_stat_activity:
#               waiting for the one advisory lock, in a statement, between
#               statements of a transaction, outside one);
#   reconcile   `leal reconcile` over the result against one pass of the
#               database over the rows it reads (the taken entries by card);
#   reports     each `leal report` over the period against a bare
#               SELECT count(*) of the program's entries joined to their lines;
#   latency     customer search (GET /api/customers?q=cNNN) and the account
#               view (GET /api/customers/ID: the customer, balances and cards)
#               through `leal serve` on the ledger the IMPORTERS processes are
#               writing, CLIENTS/2 keep-alive clients each
#               (tests/bench/web_load.py), p50/p99 against the same on the
#               idle ledger just before. A backend `leal serve` does not run
#               on yet says so in one line instead.
# Last, the main figures of both backends side by side.
# Sizes (environment): LEAL_BENCH_CHAIN_TERMINALS (100), _CARDS (100000),
# _ENTRIES (1000000), _DAYS (7), _IMPORTERS (8), _CLIENTS (4), _SECONDS (10 a
# latency phase); LEAL_BENCH_CHAIN_BACKENDS ("sqlite pg"). The defaults are
# the issue's chain scaled down by 10, what `make bench` runs (most of an
# hour on 2 cores, PostgreSQL's imports most of it; _CARDS=2000
# _ENTRIES=10000 takes a few minutes). `make bench-scale` runs it at the
# issue's size. Without PostgreSQL 15 installed, SQLite only
# (and one line saying so). Reports only.
set -u
cd "$(dirname "$0")/../.." || exit 1
: "${LEAL_BUILD:=build/release}"
LEAL=$LEAL_BUILD/bin/leal
PY=/usr/bin/python3
N=${LEAL_BENCH_CHAIN_TERMINALS:-100}
C=${LEAL_BENCH_CHAIN_CARDS:-100000}
E=${LEAL_BENCH_CHAIN_ENTRIES:-1000000}
DAYS=${LEAL_BENCH_CHAIN_DAYS:-7}
P=${LEAL_BENCH_CHAIN_IMPORTERS:-8}
CLIENTS=${LEAL_BENCH_CHAIN_CLIENTS:-4}
SECS=${LEAL_BENCH_CHAIN_SECONDS:-10}
BACKENDS=${LEAL_BENCH_CHAIN_BACKENDS:-sqlite pg}
GEN=$LEAL_BUILD/tests/tools/chain_gen
[ -x "$GEN" ] || GEN=build/asan/tests/tools/chain_gen
. tests/lib/pg.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/leal-bench-chain-XXXXXX")
SPID='' WPID=''
IPIDS=()
cleanup() {
    for p in "${IPIDS[@]}" $SPID $WPID; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    pg_stop
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="chain bench passphrase"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
declare -A FIG # FIG[backend,figure]: the side-by-side table's cells

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
"$LEAL" keys init --issuer Chain --program 7 >/dev/null || exit 1
t0=$(now)
GENOUT=$("$GEN" --keystore "$XDG_DATA_HOME/leal/keystore" --db "$T/base.db" --out "$T/j" \
    --terminals "$N" --cards "$C" --entries "$E" --days "$DAYS") || exit 1
ENTRIES=$(echo "$GENOUT" | awk '{ print $6 }')
echo "generated: $GENOUT (ledger and journals in $(secs "$t0" "$(now)") s; journals $(du -sm "$T/j" | cut -f1) MB)"
FILES=()
for t in $(seq 1 "$N"); do FILES+=("$T/j/t$t.journal"); done

# The backend being measured: BK (sqlite or pg), NAME (its name in the
# output). dbnew NAME: a copy of the generated ledger, its --db in DBV (a
# file beside the base; on PostgreSQL a database made from the copied base
# as its template). q DB SQL...: each statement's rows, unaligned.
pguri() { echo "postgresql:///$1?host=$PG_DIR&user=postgres"; }
dbnew() {
    if [ "$BK" = sqlite ]; then
        cp "$T/base.db" "$T/$1.db"
        DBV=$T/$1.db
    else
        "$PG_BIN/psql" "$(pguri postgres)" -qAtX -c "CREATE DATABASE $1 TEMPLATE base" || return 1
        DBV=$(pguri "$1")
    fi
}
q() {
    local db=$1 a=()
    shift
    if [ "$BK" = sqlite ]; then
        sqlite3 "$db" "$@"
    else
        for s in "$@"; do a+=(-c "$s"); done
        "$PG_BIN/psql" "$db" -qAtX "${a[@]}"
    fi
}
# pgq SQL...: on the cluster's postgres database (its statistics).
pgq() {
    local a=()
    for s in "$@"; do a+=(-c "$s"); done
    "$PG_BIN/psql" "$(pguri postgres)" -qAtX "${a[@]}"
}

# import_seq DB FILES...: one importer after the other, each at most the 256
# files `leal sync import` takes, all of FILES into DB.
import_seq() {
    local db=$1
    shift
    while [ $# -gt 0 ]; do
        local n=$(($# < 256 ? $# : 256))
        "$LEAL" sync import --no-reconcile "${@:1:$n}" --db "$db" || return 1
        shift "$n"
    done
}

# importers OUT DB: IMPORTERS processes at once into DB, each its share of
# the files (round robin); their pids in IPIDS, their outputs in OUT.K.
importers() {
    for k in $(seq 0 $((P - 1))); do
        share=()
        for ((i = k; i < N; i += P)); do share+=("${FILES[$i]}"); done
        [ ${#share[@]} -gt 0 ] || continue
        import_seq "$2" "${share[@]}" >"$1.$k" 2>&1 &
        IPIDS+=($!)
    done
}
fails=0
reap() {
    for p in "${IPIDS[@]}"; do wait "$p" || fails=$((fails + 1)); done
    IPIDS=()
}
taken() { sed -n 's/.*: \([0-9]*\) taken.*/\1/p' "$@" | awk '{ s += $1 } END { print s + 0 }'; }
# The terminal entries and the customers' balances per asset, one line.
state() {
    local agg="group_concat(asset || '=' || s, ' ')"
    [ "$BK" = sqlite ] || agg="string_agg(asset || '=' || s, ' ' ORDER BY asset)"
    q "$1" "select count(*) from terminal_entry" \
        "select $agg from (select asset, sum(amount) s from balance b join account a on a.id = b.account_id where a.kind = 'customer' group by asset order by asset) x" |
        tr '\n' ' '
}
rate() { awk -v n="$ENTRIES" -v t="$1" 'BEGIN { printf "%.0f", n / t }'; }

# PostgreSQL's side of an import: pg_reset_stats before it, pg_where NAME DB
# WALL after it (the statements of DB's database and their time in the
# server, the WAL's fsyncs and their time, the commits).
pg_reset_stats() {
    pgq "select pg_stat_statements_reset()" "select pg_stat_reset_shared('wal')" >/dev/null
}
pg_where() {
    local s lock="query like '%pg_advisory_xact_lock%'"
    s=$(pgq "select coalesce(sum(calls) filter (where not $lock), 0), round(coalesce(sum(total_exec_time + total_plan_time) filter (where not $lock), 0)::numeric / 1000, 2), coalesce(sum(calls) filter (where $lock), 0), round(coalesce(sum(total_exec_time) filter (where $lock), 0)::numeric / 1000, 2) from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = '$2'" \
        "select wal_sync, round(wal_sync_time::numeric / 1000, 2), pg_size_pretty(wal_bytes) from pg_stat_wal" | tr '\n|' '  ')
    # shellcheck disable=SC2086
    set -- "$1" "$3" $s
    echo "$NAME: where the time goes, $1: $3 statements ($(awk -v s="$3" -v n="$ENTRIES" 'BEGIN { printf "%.1f", s / n }') an entry) executing $4 s in the server of the $2 s; $5 write transactions waiting $6 s in all for the advisory lock; WAL $9 ${10} written, $7 fsyncs taking $8 s"
}
# Every half second, what the importers' connections to DB are doing
# (pg_stat_activity), into OUT: waiting for the advisory lock, in a
# statement, between statements in a transaction, connected outside one.
pg_sample() {
    while :; do
        pgq "select count(*) filter (where wait_event_type = 'Lock' and wait_event = 'advisory'), count(*) filter (where state = 'active' and wait_event_type is distinct from 'Lock'), count(*) filter (where state like 'idle in transaction%'), count(*) filter (where state = 'idle') from pg_stat_activity where datname = '$1' and backend_type = 'client backend'" >>"$2" 2>/dev/null
        sleep 0.5
    done
}

# The server on a copy of the base ledger, its latency idle, then while the
# IMPORTERS processes import the same files into it. Sets LAT (the lines
# to print) and, when it ran, the latency figures.
latency() {
    local lat=$1 port cookie half s
    "$LEAL" serve --listen 127.0.0.1:0 --db "$lat" --init-admin bench --password-file "$T/pw" \
        >"$T/$BK.serve.out" 2>"$T/$BK.serve.err" &
    SPID=$!
    for _ in $(seq 400); do
        grep -q '^listening on' "$T/$BK.serve.out" 2>/dev/null && break
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.05
    done
    port=$(sed -n 's/^listening on http:\/\/127.0.0.1://p' "$T/$BK.serve.out")
    if [ -z "$port" ]; then
        wait "$SPID"
        s=$?
        SPID=
        if [ "$s" = 2 ] && grep -q 'does not run on a PostgreSQL ledger yet' "$T/$BK.serve.err"; then
            LAT="$NAME: latency not measured: serve does not run on PostgreSQL yet"
            return 0
        fi
        echo "chain: $NAME: leal serve did not start: $(cat "$T/$BK.serve.err")"
        return 1
    fi
    curl -s -c "$T/jar" -H 'Content-Type: application/json' \
        -d '{"name":"bench","password":"bench password 1"}' "http://127.0.0.1:$port/api/session" >/dev/null
    cookie="leal_session=$(awk '$6 == "leal_session" { print $7 }' "$T/jar")"
    half=$(((CLIENTS + 1) / 2))
    phase() { # OUT: a search load and a view load at once, SECS seconds each
        $PY tests/bench/web_load.py 127.0.0.1 "$port" "$SECS" "$half" "$cookie" "${SEARCH[@]}" >"$1.search" &
        s=$!
        $PY tests/bench/web_load.py 127.0.0.1 "$port" "$SECS" "$half" "$cookie" "${VIEW[@]}" >"$1.view"
        wait "$s"
    }
    phase "$T/$BK.idle"
    importers "$T/$BK.lat" "$lat"
    phase "$T/$BK.busy"
    local running=0
    for p in "${IPIDS[@]}"; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
    reap
    kill "$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
    SPID=
    row() {
        local n e p50 p99 u i99
        read -r n e _ p50 p99 u <"$2"
        read -r _ _ _ _ i99 _ <"$3"
        printf '%s: %-6s %-4s %6d answered %3d errors %3d unanswered  p50 %7.1f ms  p99 %7.1f ms  p99 ratio to idle %s\n' \
            "$NAME" "$1" "$4" "$n" "$e" "$u" "$p50" "$p99" "$(ratio "$p99" "$i99")"
    }
    latfig() {
        local p50 p99
        read -r _ _ _ p50 p99 _ <"$2"
        FIG[$BK,$1]=$(printf '%.1f / %.1f ms' "$p50" "$p99")
    }
    LAT="$NAME: the $P importers under the latency load: $(taken "$T/$BK".lat.*) taken, $running of $P still running when the $SECS s phase ended
$(row search "$T/$BK.idle.search" "$T/$BK.idle.search" idle)
$(row search "$T/$BK.busy.search" "$T/$BK.idle.search" busy)
$(row view "$T/$BK.idle.view" "$T/$BK.idle.view" idle)
$(row view "$T/$BK.busy.view" "$T/$BK.idle.view" busy)"
    latfig "search idle" "$T/$BK.idle.search"
    latfig "search busy" "$T/$BK.busy.search"
    latfig "view idle" "$T/$BK.idle.view"
    latfig "view busy" "$T/$BK.busy.view"
    SL=$(state "$lat")
}

printf 'bench password 1\n' >"$T/pw"
SEARCH=() VIEW=()
for i in $(seq 7 "$(((C + 199) / 200))" "$C" | head -200); do
    SEARCH+=("/api/customers?q=c$i")
    VIEW+=("/api/customers/$((i + 1))")
done

# measure: every figure on the backend BK.
measure() {
    local t0 one par lat
    fails=0
    dbnew one || return 1
    one=$DBV
    # The reference: one importer takes every export.
    [ "$BK" = pg ] && pg_reset_stats
    t0=$(now)
    import_seq "$one" "${FILES[@]}" >"$T/$BK.one.out" 2>&1 ||
        { echo "chain: $NAME: the single import failed: $(tail -1 "$T/$BK.one.out")"; return 1; }
    T1=$(secs "$t0" "$(now)")
    [ "$BK" = pg ] && W1=$(pg_where "1 importer" one "$T1")
    # What a process pays before its first entry (start, keystore open with
    # its passphrase KDF, ledger open): the same import again, which takes
    # nothing.
    t0=$(now)
    "$LEAL" sync import --no-reconcile "${FILES[0]}" --db "$one" >/dev/null 2>&1
    T0=$(secs "$t0" "$(now)")

    dbnew par || return 1
    par=$DBV
    if [ "$BK" = pg ]; then
        pg_reset_stats
        pg_sample par "$T/pg.sample" &
        WPID=$!
    fi
    t0=$(now)
    importers "$T/$BK.par" "$par"
    reap
    TP=$(secs "$t0" "$(now)")
    if [ "$BK" = pg ]; then
        kill "$WPID" 2>/dev/null
        wait "$WPID" 2>/dev/null
        WPID=
        WP=$(pg_where "$P importers" par "$TP")
    fi

    dbnew lat || return 1
    lat=$DBV
    LAT='' SL=''
    latency "$lat" || return 1
    [ "$fails" = 0 ] || {
        echo "chain: $NAME: $fails importers failed: $(tail -qn1 "$T/$BK".par.* "$T/$BK".lat.* 2>/dev/null | sort -u | head -3)"
        return 1
    }
    echo "$NAME: import, 1 importer (reference): $(taken "$T/$BK.one.out") entries taken in $T1 s = $(rate "$T1") entries/s"
    echo "$NAME: import, $P importers at once: $(taken "$T/$BK".par.*) entries taken in $TP s = $(rate "$TP") entries/s"
    echo "$NAME: ratio $P importers/1 importer: $(ratio "$T1" "$TP") in entries/s; each process's fixed cost (start, keystore KDF, ledger open; an import that takes nothing): $T0 s"
    FIG[$BK,import1]="$(rate "$T1") entries/s"
    FIG[$BK,importP]="$(rate "$TP") entries/s"
    FIG[$BK,ratio]=$(ratio "$T1" "$TP")
    FIG[$BK,fixed]="$T0 s"
    local s1 sp
    s1=$(state "$one") sp=$(state "$par")
    [ -n "$SL" ] || SL=$sp
    echo "$NAME: same terminal entries and customer balances after every import: $([ "$s1" = "$sp" ] && [ "$s1" = "$SL" ] && echo yes || echo "NO ($s1 / $sp / $SL)") ($sp)"
    STATE[$BK]=$s1
    if [ "$BK" = pg ]; then
        echo "$W1"
        echo "$WP"
        awk -v p="$P" -F'|' '{ w += $1; a += $2; t += $3; i += $4; n++ }
            END { if (n) printf "%s: the %d importers'"'"' connections, sampled every 0.5 s (%d samples), on average: %.1f waiting for the advisory lock, %.1f in a statement, %.1f between statements of a transaction, %.1f connected outside a transaction (the rest starting: keystore KDF, or done)\n", name, p, n, w / n, a / n, t / n, i / n }' \
            name="$NAME" "$T/pg.sample"
    fi
    [ -z "$LAT" ] || case $LAT in *"not measured"*) ;; *) echo "$LAT" | head -1 ;; esac

    # Reconciliation of the result.
    local tr trr rows ref t
    t0=$(now)
    "$LEAL" reconcile --db "$par" >"$T/$BK.rec.out" 2>&1 ||
        { echo "chain: $NAME: reconcile failed: $(tail -1 "$T/$BK.rec.out")"; return 1; }
    tr=$(secs "$t0" "$(now)")
    t0=$(now)
    q "$par" "select count(*) from (select card_id, count(*), max(seq) from terminal_entry group by card_id) x" >/dev/null
    trr=$(secs "$t0" "$(now)")
    echo "$NAME: reconcile: $tr s ($(grep -c '^waiting' "$T/$BK.rec.out") waiting lines, $(q "$par" "select count(*) from sync_finding") import findings, $(q "$par" "select count(*) from reconcile_finding") reconciliation findings); one pass over the taken entries by card (reference): $trr s; ratio $(ratio "$tr" "$trr")"
    FIG[$BK,reconcile]="$tr s ($(ratio "$tr" "$trr"))"

    # The reports over the period.
    local w=(--program 7 --from 2026-12-01 --to 2026-12-31 --db "$par")
    t0=$(now)
    rows=$(q "$par" "SELECT count(*) FROM entry e JOIN line l ON l.entry_id = e.id WHERE e.program_id = 7")
    ref=$(secs "$t0" "$(now)")
    echo "$NAME: reports over $rows lines; reference SELECT count(*) over them: $ref s"
    for r in activity liabilities redemptions breakage customers retention; do
        t0=$(now)
        "$LEAL" report "$r" "${w[@]}" --json >/dev/null 2>"$T/rep.err" || echo "$NAME: report $r failed: $(head -1 "$T/rep.err")"
        t=$(secs "$t0" "$(now)")
        echo "$NAME: report $r: $t s, ratio $(ratio "$t" "$ref") to the count"
        FIG[$BK,report $r]="$t s ($(ratio "$t" "$ref"))"
    done

    # Latency, idle against during the imports.
    if [ -n "$LAT" ]; then
        echo "$LAT" | sed 1d
        case $LAT in *"not measured"*) echo "$LAT" ;; esac
    fi
    if [ "$BK" = sqlite ]; then
        echo "$NAME: ledger file $(($(stat -c %s "$par") / 1048576)) MB after the import"
    else
        echo "$NAME: database $(($(q "$par" "select pg_database_size('par')") / 1048576)) MB after the import"
    fi
}

declare -A STATE
for BK in $BACKENDS; do
    if [ "$BK" = sqlite ]; then
        NAME=sqlite
        measure || exit 1
        continue
    fi
    NAME=postgresql
    if ! pg_available; then
        echo "postgresql: not measured: PostgreSQL 15 is not installed (make deps installs it)"
        continue
    fi
    # The server's safe defaults, whatever pg.sh sets for the tests' own
    # throw-away clusters; pg_stat_statements and the WAL's fsync timing for
    # where the time goes.
    PG_START_OPTS="-c fsync=on -c synchronous_commit=on -c full_page_writes=on \
-c shared_preload_libraries=pg_stat_statements -c track_wal_io_timing=on"
    pg_start >"$T/pg.start" 2>&1 || { echo "chain: postgresql: the cluster did not start: $(tail -3 "$T/pg.start")"; exit 1; }
    trap cleanup EXIT # pg_start set its own
    pgq "CREATE EXTENSION pg_stat_statements" "CREATE DATABASE base" >/dev/null || exit 1
    echo "postgresql: a private PostgreSQL $(pgq "show server_version" | cut -d' ' -f1) cluster on a Unix socket: fsync=$(pgq "show fsync"), synchronous_commit=$(pgq "show synchronous_commit"), full_page_writes=$(pgq "show full_page_writes"), wal_sync_method=$(pgq "show wal_sync_method"), shared_buffers=$(pgq "show shared_buffers") (the server's defaults)"
    t0=$(now)
    "$LEAL" ledger copy --from "sqlite:$T/base.db" --to "$(pguri base)" >"$T/copy.out" 2>&1 ||
        { echo "chain: postgresql: the ledger copy failed: $(tail -1 "$T/copy.out")"; exit 1; }
    echo "postgresql: the generated ledger moved there by leal ledger copy in $(secs "$t0" "$(now)") s: $(tail -1 "$T/copy.out")"
    measure || exit 1
done

# Both backends side by side.
if [ -n "${STATE[sqlite]:-}" ] && [ -n "${STATE[pg]:-}" ]; then
    echo "same terminal entries and customer balances on both backends: $([ "${STATE[sqlite]}" = "${STATE[pg]}" ] && echo yes || echo "NO (${STATE[sqlite]} / ${STATE[pg]})")"
fi
printf '%-26s %-22s %s\n' "side by side" sqlite postgresql
for f in import1 importP ratio fixed reconcile "report activity" "report liabilities" \
    "report redemptions" "report breakage" "report customers" "report retention" \
    "search idle" "search busy" "view idle" "view busy"; do
    case $f in
    import1) l="import, 1 importer" ;;
    importP) l="import, $P importers" ;;
    ratio) l="ratio $P/1 importers" ;;
    fixed) l="a process's fixed cost" ;;
    reconcile) l="reconcile (ratio)" ;;
    report*) l="$f (ratio)" ;;
    *) l="$f p50 / p99" ;;
    esac
    printf '%-26s %-22s %s\n' "$l" "${FIG[sqlite,$f]:--}" "${FIG[pg,$f]:--}"
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
