#!/bin/bash
# sync_kill.sh - `leal sync import` killed with SIGKILL at every entry, one
# run per entry (issue 14, "a kill at every entry"): tests/tools/sync_kill is
# `leal sync` that kills itself right after the Nth terminal_entry row is
# written (inside that file's transaction). Two terminals' journals (real
# journal code, tests/tools/journal_gen), each exported twice without an ack
# so the second export overlaps the first: t1a t2a t1b t2b, 28 new entries
# (each journal opens with its start entry).
# For N = 1..28 the ledger starts from the same state, the import is killed
# at entry N; then the ledger verifies and holds exactly what the files
# before N's file put there (a reference import of those files), no entry
# of N's file; then a clean import takes exactly the rest and the ledger
# holds the journals' totals, checked against values worked out by hand.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-sync-kill-XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="sync kill passphrase"
DB=$XDG_DATA_HOME/leal/ledger.db
GEN=$LEAL_BUILD/tests/tools/journal_gen
KILL=$LEAL_BUILD/tests/tools/sync_kill
t_start=$(date +%s)

"$LEAL" keys init --issuer Kill --program 7 >/dev/null
"$LEAL" program create --code k --name Kill --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code k --name K --tz Europe/Madrid >/dev/null
for t in 1 2; do "$LEAL" terminal add --store 1 --name "t$t" >/dev/null; done
for c in 1 2 3 4; do
    "$LEAL" customer add --program 7 --name "c$c" >/dev/null
    "$LEAL" account add-card $((10 + c)) --card-id $((1000 + c)) --uid "0411223344556$c" \
        --tech desfire-ev2 --status active >/dev/null
    "$LEAL" ledger post --account $((10 + c)) --asset EUR --amount 50 --counter cash \
        --reason start --operator t >/dev/null
done
START=$T/start.db
sqlite3 "$DB" ".backup $START"

# Terminal 1 on cards 1001 and 1002, terminal 2 on 1003 and 1004 (each card
# at one terminal, so reconciliation has nothing to say about the counters).
cat >"$T/s1" <<EOF
card 1001 desfire 0 5000
card 1002 desfire 0 5000
earn 1001 1000 10
earn 1002 2350 23
pay 1001 300
stamp 1002 1 1
earn 1001 500 5
payearn 1002 700 700 7
void 1002
export $T/t1a
redeem 1001 1 5
earn 1001 1200 12
pay 1002 150
stamp 1001 2 1
earn 1002 900 9
balance 1001
export $T/t1b
EOF
cat >"$T/s2" <<EOF
card 1003 desfire 0 5000
card 1004 desfire 0 5000
earn 1003 4000 40
pay 1004 1250
earn 1004 800 8
stamp 1003 1 2
redeem 1003 1 15
pay 1003 500
export $T/t2a
earn 1003 300 3
void 1003
payearn 1004 1000 1000 10
earn 1004 200 2
stamp 1004 1 1
pay 1004 99
balance 1004
export $T/t2b
EOF
for t in 1 2; do
    "$GEN" --keystore "$XDG_DATA_HOME/leal/keystore" --program 7 --terminal $t --units 16 \
        --time $((1796290000 + t)) <"$T/s$t" || echo "journal_gen failed for terminal $t"
done
FILES=("$T/t1a" "$T/t2a" "$T/t1b" "$T/t2b")

state() {
    sqlite3 "$1" "select group_concat(account_id || ':' || asset || ':' || amount, ' ') from (select * from balance order by account_id, asset);
        select count(*), sum(length(content_hash)) from entry;
        select count(*) from line;
        select group_concat(terminal_id || '/' || seq || '/' || outcome || '/' || hex(mac), ' ') from (select * from terminal_entry order by terminal_id, seq);
        select count(*) from lot; select sum(remaining) from lot"
}

# References: the start, then each prefix of the files imported whole.
# B[k] is how many entries the first k files hold.
B=(0)
cp "$START" "$T/ref0.db"
for k in 1 2 3 4; do
    cp "$START" "$T/ref$k.db"
    "$LEAL" sync import "${FILES[@]:0:k}" --no-reconcile --db "$T/ref$k.db" >/dev/null ||
        echo "# reference import of $k file(s) failed"
    B+=("$(sqlite3 "$T/ref$k.db" 'select count(*) from terminal_entry')")
done
check_eq "the files hold 8, 7, 6 and 7 new entries (each journal opens with its start entry)" "0 8 15 21 28" "${B[*]}"

# The journals' totals, by hand from the scripts above (a void undoes the
# operation before it on that card; a pay + earn pays and earns).
# 1001: +10 +5 -5 +12 = 22 points; 50 - 3,00 = 47,00. 1002: +23 (+7 voided)
# +9 = 32 points; 50 - 1,50 = 48,50. 1003: +40 -15 (+3 voided) = 25 points;
# 50 - 5,00 = 45,00. 1004: +8 +10 +2 = 20 points; 50 - 12,50 - 10,00 - 0,99
# = 26,51 (the ledger counts cents).
totals() {
    sqlite3 "$1" "select group_concat(account_id || ':' || asset || ':' || amount, ' ') from
        (select * from balance where asset in ('PTS','EUR') and account_id between 11 and 14
         order by account_id, asset)"
}
check_eq "the uninterrupted import holds the journals' totals" \
    "11:EUR:4700 11:PTS:22 12:EUR:4850 12:PTS:32 13:EUR:4500 13:PTS:25 14:EUR:2651 14:PTS:20" \
    "$(totals "$T/ref4.db")"
REF_ALL=$(state "$T/ref4.db")

killed=0 verified=0 as_ref=0 rest_taken=0 whole=0 totals_ok=0 summary=
for ((n = 1; n <= B[4]; n++)); do
    sqlite3 "$DB" ".restore $START"
    LEAL_SYNC_KILL_AT=$n "$KILL" import "${FILES[@]}" >/dev/null 2>"$T/kill.err"
    rc=$?
    [ $rc = 137 ] && killed=$((killed + 1))
    # The files before entry n's file are in, nothing of its file.
    k=0
    while [ "${B[k + 1]}" -lt "$n" ]; do k=$((k + 1)); done
    "$LEAL" ledger verify >/dev/null 2>&1 && verified=$((verified + 1))
    [ "$(state "$DB")" = "$(state "$T/ref$k.db")" ] && as_ref=$((as_ref + 1))
    # A clean import afterwards takes exactly the rest.
    out=$("$LEAL" sync import "${FILES[@]}" --json 2>/dev/null)
    taken=$(echo "$out" | sed -n 's/.*"taken":\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s }')
    [ "$taken" = $((B[4] - B[k])) ] && rest_taken=$((rest_taken + 1))
    [ "$(state "$DB")" = "$REF_ALL" ] && whole=$((whole + 1))
    [ "$(totals "$DB")" = "$(totals "$T/ref4.db")" ] &&
        "$LEAL" ledger verify >/dev/null 2>&1 && totals_ok=$((totals_ok + 1))
    summary+="$n:$rc/$k/$taken "
done
echo "# kill at entry:exit/files in before the clean import/taken by it: $summary"
check_eq "SIGKILLed at each of the 28 entries (exit 137)" 28 "$killed"
check_eq "ledger verify after each kill" 28 "$verified"
check_eq "after each kill: exactly the files before the killed entry's, nothing of its own" \
    28 "$as_ref"
check_eq "each clean import after a kill takes exactly the entries not in" 28 "$rest_taken"
check_eq "after each clean import: every balance, entry, line, lot and taken entry as the uninterrupted import" \
    28 "$whole"
check_eq "after each clean import: the journals' totals and ledger verify" 28 "$totals_ok"
check_match "the tool says why it died" "SIGKILL after a terminal_entry row" "$(cat "$T/kill.err")"

# Without the variable it is leal sync: nothing new to take.
run_capture "$KILL" import "${FILES[@]}" --json
check_eq "sync_kill without LEAL_SYNC_KILL_AT is leal sync import (nothing twice)" "0|0 0 0 0" \
    "$RC|$(echo "$OUT" | sed -n 's/.*"taken":\([0-9]*\).*/\1/p' | tr '\n' ' ' | sed 's/ $//')"
echo "# $((B[4])) kills and clean imports in $(($(date +%s) - t_start)) s"
finish
