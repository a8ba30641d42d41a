#!/bin/bash
# chain.sh - a simulated chain on the SQLite ledger (issue 20): N terminals,
# C carded customers and a period of offline taps as the terminals' journal
# exports (tests/tools/chain_gen: the ledger through the ledger API, the
# journals by the real journal code under each terminal's journal key from a
# keystore made by `leal keys init`), then, each figure against a reference
# measured in the same run:
#   import      `leal sync import --no-reconcile` of every export by IMPORTERS
#               (8) importers at once, each its share of the files, against
#               one importer taking them all (the reference) into a copy of
#               the same ledger; all copies must end with the same balances
#               (an importer is one process per 256 files, the most
#               `leal sync import` takes, one after the other);
#   reconcile   `leal reconcile` over the result against one sqlite3 pass
#               over the rows it reads (the taken entries grouped by card);
#   reports     each `leal report` over the period against a bare
#               SELECT count(*) of the program's entries joined to their lines;
#   latency     customer search (GET /api/customers?q=cNNN) and the account
#               view (GET /api/customers/ID: the customer, balances and cards)
#               through `leal serve` on the ledger the IMPORTERS processes are
#               writing, CLIENTS/2 keep-alive clients each
#               (tests/bench/web_load.py), p50/p99 against the same on the
#               idle ledger just before.
# Sizes (environment): LEAL_BENCH_CHAIN_TERMINALS (100), _CARDS (10000),
# _ENTRIES (100000), _DAYS (7), _IMPORTERS (8), _CLIENTS (4), _SECONDS (10 a
# latency phase). `make bench-scale` runs it at the issue's size. Reports only.
set -u
cd "$(dirname "$0")/../.."
: "${LEAL_BUILD:=build/release}"
LEAL=$LEAL_BUILD/bin/leal
PY=/usr/bin/python3
N=${LEAL_BENCH_CHAIN_TERMINALS:-100}
C=${LEAL_BENCH_CHAIN_CARDS:-10000}
E=${LEAL_BENCH_CHAIN_ENTRIES:-100000}
DAYS=${LEAL_BENCH_CHAIN_DAYS:-7}
P=${LEAL_BENCH_CHAIN_IMPORTERS:-8}
CLIENTS=${LEAL_BENCH_CHAIN_CLIENTS:-4}
SECS=${LEAL_BENCH_CHAIN_SECONDS:-10}
GEN=$LEAL_BUILD/tests/tools/chain_gen
[ -x "$GEN" ] || GEN=build/asan/tests/tools/chain_gen
T=$(mktemp -d "${TMPDIR:-/tmp}/leal-bench-chain-XXXXXX")
SPID=
IPIDS=()
cleanup() {
    for p in "${IPIDS[@]}" $SPID; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="chain bench passphrase"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
"$LEAL" keys init --issuer Chain --program 7 >/dev/null || exit 1
t0=$(now)
GENOUT=$("$GEN" --keystore "$XDG_DATA_HOME/leal/keystore" --db "$T/base.db" --out "$T/j" \
    --terminals "$N" --cards "$C" --entries "$E" --days "$DAYS") || exit 1
ENTRIES=$(echo "$GENOUT" | awk '{ print $6 }')
echo "generated: $GENOUT (ledger and journals in $(secs "$t0" "$(now)") s; journals $(du -sm "$T/j" | cut -f1) MB)"
FILES=()
for t in $(seq 1 "$N"); do FILES+=("$T/j/t$t.journal"); done

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

# The reference: one importer takes every export.
cp "$T/base.db" "$T/one.db"
t0=$(now)
import_seq "$T/one.db" "${FILES[@]}" >"$T/one.out" 2>&1 ||
    { echo "chain: the single import failed: $(tail -1 "$T/one.out")"; exit 1; }
T1=$(secs "$t0" "$(now)")

# What a process pays before its first entry (start, keystore open with its
# passphrase KDF, ledger open): the same import again, which takes nothing.
t0=$(now)
"$LEAL" sync import --no-reconcile "${FILES[0]}" --db "$T/one.db" >/dev/null 2>&1
T0=$(secs "$t0" "$(now)")

# IMPORTERS processes at once into DB, each its share of the files (round
# robin); their pids in IPIDS, their outputs in DB.K.
importers() {
    for k in $(seq 0 $((P - 1))); do
        share=()
        for ((i = k; i < N; i += P)); do share+=("${FILES[$i]}"); done
        [ ${#share[@]} -gt 0 ] || continue
        import_seq "$1" "${share[@]}" >"$1.$k" 2>&1 &
        IPIDS+=($!)
    done
}
fails=0
reap() {
    for p in "${IPIDS[@]}"; do wait "$p" || fails=$((fails + 1)); done
    IPIDS=()
}
cp "$T/base.db" "$T/par.db"
t0=$(now)
importers "$T/par.db"
reap
TP=$(secs "$t0" "$(now)")

# The server on a third copy, its latency idle, then while the IMPORTERS
# processes import the same files into it.
cp "$T/base.db" "$T/lat.db"
printf 'bench password 1\n' >"$T/pw"
"$LEAL" serve --listen 127.0.0.1:0 --db "$T/lat.db" --init-admin bench --password-file "$T/pw" \
    >"$T/serve.out" 2>"$T/serve.err" &
SPID=$!
for _ in $(seq 400); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.05; done
PORT=$(sed -n 's/^listening on http:\/\/127.0.0.1://p' "$T/serve.out")
[ -n "$PORT" ] || { echo "chain: leal serve did not start: $(cat "$T/serve.err")"; exit 1; }
curl -s -c "$T/jar" -H 'Content-Type: application/json' \
    -d '{"name":"bench","password":"bench password 1"}' "http://127.0.0.1:$PORT/api/session" >/dev/null
COOKIE="leal_session=$(awk '$6 == "leal_session" { print $7 }' "$T/jar")"
SEARCH=() VIEW=()
for i in $(seq 7 "$(((C + 199) / 200))" "$C" | head -200); do
    SEARCH+=("/api/customers?q=c$i")
    VIEW+=("/api/customers/$((i + 1))")
done
half=$(((CLIENTS + 1) / 2))
phase() { # OUT: a search load and a view load at once, SECS seconds each
    local s
    $PY tests/bench/web_load.py 127.0.0.1 "$PORT" "$SECS" "$half" "$COOKIE" "${SEARCH[@]}" >"$1.search" &
    s=$!
    $PY tests/bench/web_load.py 127.0.0.1 "$PORT" "$SECS" "$half" "$COOKIE" "${VIEW[@]}" >"$1.view"
    wait "$s"
}
phase "$T/idle"
importers "$T/lat.db"
phase "$T/busy"
running=0
for p in "${IPIDS[@]}"; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
reap
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=
[ "$fails" = 0 ] || { echo "chain: $fails importers failed: $(tail -qn1 "$T"/par.db.* "$T"/lat.db.* | sort -u | head -3)"; exit 1; }
taken() { sed -n 's/.*: \([0-9]*\) taken.*/\1/p' "$@" | awk '{ s += $1 } END { print s + 0 }'; }
state() { sqlite3 "$1" "select count(*) from terminal_entry; select group_concat(asset || '=' || s, ' ') from (select asset, sum(amount) s from balance b join account a on a.id = b.account_id where a.kind = 'customer' group by asset order by asset)" | tr '\n' ' '; }
rate() { awk -v n="$ENTRIES" -v t="$1" 'BEGIN { printf "%.0f", n / t }'; }
echo "import, 1 importer (reference): $(taken "$T/one.out") entries taken in $T1 s = $(rate "$T1") entries/s"
echo "import, $P importers at once: $(taken "$T"/par.db.*) entries taken in $TP s = $(rate "$TP") entries/s"
echo "ratio $P importers/1 importer: $(ratio "$T1" "$TP") in entries/s; each process's fixed cost (start, keystore KDF, ledger open; an import that takes nothing): $T0 s"
S1=$(state "$T/one.db") SP=$(state "$T/par.db") SL=$(state "$T/lat.db")
echo "same terminal entries and customer balances after all three: $([ "$S1" = "$SP" ] && [ "$S1" = "$SL" ] && echo yes || echo "NO ($S1 / $SP / $SL)") ($SP)"
echo "the $P importers under the latency load: $(taken "$T"/lat.db.*) taken, $running of $P still running when the $SECS s phase ended"

# Reconciliation of the result.
t0=$(now)
"$LEAL" reconcile --db "$T/par.db" >"$T/rec.out" 2>&1 || { echo "chain: reconcile failed: $(tail -1 "$T/rec.out")"; exit 1; }
TR=$(secs "$t0" "$(now)")
t0=$(now)
sqlite3 "$T/par.db" "select count(*) from (select card_id, count(*), max(seq) from terminal_entry group by card_id)" >/dev/null
TRR=$(secs "$t0" "$(now)")
echo "reconcile: $TR s ($(grep -c '^waiting' "$T/rec.out") waiting lines, $(sqlite3 "$T/par.db" "select count(*) from sync_finding") findings); one pass over the taken entries by card (reference): $TRR s; ratio $(ratio "$TR" "$TRR")"

# The reports over the period.
W=(--program 7 --from 2026-12-01 --to 2026-12-31 --db "$T/par.db")
t0=$(now)
ROWS=$(sqlite3 "$T/par.db" "SELECT count(*) FROM entry e JOIN line l ON l.entry_id = e.id WHERE e.program_id = 7")
REF=$(secs "$t0" "$(now)")
echo "reports over $ROWS lines; reference SELECT count(*) over them: $REF s"
for r in activity liabilities redemptions breakage customers retention; do
    t0=$(now)
    "$LEAL" report "$r" "${W[@]}" --json >/dev/null 2>"$T/rep.err" || echo "report $r failed: $(head -1 "$T/rep.err")"
    t=$(secs "$t0" "$(now)")
    echo "report $r: $t s, ratio $(ratio "$t" "$REF") to the count"
done

# Latency, idle against during the imports.
row() {
    read -r n e _ p50 p99 u <"$2"
    read -r _ _ _ i50 i99 _ <"$3"
    printf '%-6s %-6s %6d answered %3d errors %3d unanswered  p50 %8.1f ms  p99 %8.1f ms  p99 ratio to idle %s\n' \
        "$1" "$4" "$n" "$e" "$u" "$p50" "$p99" "$(ratio "$p99" "$i99")"
}
row search "$T/idle.search" "$T/idle.search" idle
row search "$T/busy.search" "$T/idle.search" busy
row view "$T/idle.view" "$T/idle.view" idle
row view "$T/busy.view" "$T/idle.view" busy
echo "ledger file: $(($(stat -c %s "$T/par.db") / 1048576)) MB after the import; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
