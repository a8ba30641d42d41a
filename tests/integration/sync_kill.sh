#!/bin/bash
# sync_kill.sh - `leal sync import` killed with SIGKILL at every point, one
# run per point (issue 14, "a kill at every point"): tests/tools/sync_kill is
# `leal sync` that kills itself right after the Nth SQL statement of a kind
# (LEAL_SYNC_KILL_ON: insert, commit, write, stmt; a text filter; counting
# from a step's first statement). Its serve mode opens the keystore once and
# forks a child per run, so the scrypt of the keystore is paid once, not per
# kill point. Six parts, each point: exit 137, ledger verify, the ledger
# equal to the state before the interrupted step or after it (said per
# point), and a clean re-run converging to the uninterrupted state, whose
# totals are worked out by hand here:
#   1. every terminal_entry row (inside its file's batch: before the batch);
#   2. every COMMIT and RELEASE of a 4-file import with reconciliation (a
#      RELEASE is a savepoint inside a batch: before the batch; a COMMIT:
#      after it);
#   3. every statement of the held-entry retry (an unknown card the desk has
#      since registered, a bono session the account lacked): before the retry
#      up to its COMMIT, after it from there;
#   4. every write statement of reconciliation (a cloned card: findings, the
#      card blocked with its event): before up to its COMMIT, after from there;
#   5. every COMMIT and RELEASE of a tampered import (a changed byte);
#   6. every write statement of a re-import whose file carries new entries
#      after the ones an earlier import took (t1b after t1a): before up to
#      its batch's COMMIT, after from there; never an old entry twice.
# Journals: two terminals (real journal code, tests/tools/journal_gen), each
# exported twice without an ack so the second export overlaps the first:
# t1a t2a t1b t2b, 28 new entries (each journal opens with its start entry).
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-sync-kill-XXXXXX)
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="sync kill passphrase"
DB=$XDG_DATA_HOME/leal/ledger.db
GEN=$LEAL_BUILD/tests/tools/journal_gen
KILL=$LEAL_BUILD/tests/tools/sync_kill
t_start=$(date +%s)

"$LEAL" keys init --issuer Kill --program 7 >/dev/null
"$LEAL" program create --code k --name Kill --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code k --name K --tz Europe/Madrid >/dev/null
for t in 1 2 3 4 5 6; do "$LEAL" terminal add --store 1 --name "t$t" >/dev/null; done
for c in 1 2 3 4; do
    "$LEAL" customer add --program 7 --name "c$c" >/dev/null
    "$LEAL" account add-card $((10 + c)) --card-id $((1000 + c)) --uid "0411223344556$c" \
        --tech desfire-ev2 --status active >/dev/null
    "$LEAL" ledger post --account $((10 + c)) --asset EUR --amount 50 --counter cash \
        --reason start --operator t >/dev/null
done
# Account 15: no card yet (part 3's desk registers card 1005 on it).
"$LEAL" customer add --program 7 --name c5 >/dev/null
START=$T/start.db
sqlite3 "$DB" ".backup $START"

# The server: one keystore open for every run below. sk OUT ON AT SQL FROM
# COMMAND...: one run in a child of its own, its output in OUT; RC its exit
# status (137: killed), COUNT the statements that counted.
coproc SK { exec "$KILL" serve 2>"$T/serve.err"; }
SK_IN=${SK[1]} SK_OUT=${SK[0]}
sk() {
    local IFS=$'\t'
    printf '%s\n' "$*" >&"$SK_IN"
    IFS=' ' read -r RC COUNT <&"$SK_OUT"
}
cleanup() {
    exec {SK_IN}>&-
    wait "$SK_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
verified() { sk "$T/verify.out" none 0 - - ledger verify && [ "$RC" = 0 ]; }
# taken_of OUT: the entries a --json import took, summed over its files.
taken_of() { sed -n 's/.*"taken":\([0-9]*\).*/\1/p' "$1" | awk '{ s += $1 } END { print s + 0 }'; }
# commits_in TRACE N: how many of the first N counted statements are COMMITs
# (a write outside a transaction, committed by itself, is traced as one).
commits_in() { sed -n 's/^sync_kill: #\([0-9]*\) COMMIT.*/\1/p' "$1" | awk -v n="$2" '$1 <= n' | wc -l; }
# first_commit TRACE: the number of the first counted COMMIT.
first_commit() { sed -n 's/^sync_kill: #\([0-9]*\) COMMIT.*/\1/p' "$1" | head -1; }
# words TRACE: each counted statement's first words, for the log.
words() {
    awk '/^sync_kill: #/ { w = $3; if (w == "INSERT" || w == "DELETE") w = w " " $5; else if (w == "UPDATE") w = w " " $4
           sub(/\(.*/, "", w); printf "%s%s", (NR > 1 ? ", " : ""), w }' "$1"
}

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
# Part 3: terminal 3 takes card 1005 (not yet registered) and a bono session
# of card 1002, whose account holds none: both held at the first import.
cat >"$T/s3" <<EOF
card 1005 desfire 0 0
card 1002 desfire 0 5000
earn 1005 1500 15
bono 1002 3
earn 1005 800 8
export $T/h3
EOF
# Part 4: card 1001 at terminal 4 (counter stepped twice), then at terminal 5
# from the same counter again (a copy of the card): a clone.
cat >"$T/s4" <<EOF
card 1001 desfire 0 5000
earn 1001 500 5
earn 1001 300 3
export $T/r4
EOF
cat >"$T/s5" <<EOF
card 1001 desfire 0 5000
earn 1001 700 7
export $T/r5
EOF
# Part 5: terminal 6's journal, exported after its third entry (x6a) and at
# its end (x6); x6.bad is x6 with a byte of entry 4 (card 1004's earn)
# changed: entries 1-3 are taken, 4 is named (card 1004) and 5 (card 1003)
# too, in the import's findings; reconciliation blocks both cards.
cat >"$T/s6" <<EOF
card 1003 desfire 0 5000
card 1004 desfire 0 5000
earn 1003 100 1
earn 1003 200 2
export $T/x6a
earn 1004 400 4
earn 1003 800 8
earn 1004 300 3
export $T/x6
EOF
for t in 1 2 3 4 5 6; do
    "$GEN" --keystore "$XDG_DATA_HOME/leal/keystore" --program 7 --terminal $t --units 16 \
        --time $((1796290000 + t)) <"$T/s$t" || echo "journal_gen failed for terminal $t"
done
FILES=("$T/t1a" "$T/t2a" "$T/t1b" "$T/t2b")
# Entries of 128 bytes after a header of 32 (sync_import.sh does the same).
cp "$T/x6" "$T/x6.bad"
flip_byte "$T/x6.bad" $((32 + 3 * 128 + 70))

# Everything a kill could leave half-done: balances, entries, lines, taken
# entries, lots, the import's and reconciliation's findings, cards and their
# events (no ids, no clock times).
state() {
    sqlite3 "$1" "select group_concat(account_id || ':' || asset || ':' || amount, ' ') from (select * from balance order by account_id, asset);
        select count(*), sum(length(content_hash)) from entry;
        select count(*) from line;
        select group_concat(terminal_id || '/' || seq || '/' || outcome || '/' || hex(mac), ' ') from (select * from terminal_entry order by terminal_id, seq);
        select count(*) from lot; select sum(remaining) from lot;
        select group_concat(terminal_id || '/' || seq || '/' || kind || '/' || coalesce(card_id, ''), ' ') from (select * from sync_finding order by terminal_id, epoch, seq, kind);
        select group_concat(kind || '/' || coalesce(card_id, '') || '/' || coalesce(terminal_id, '') || '/' || fraud || '/' || evidence || '/' || state, ' ') from (select * from reconcile_finding order by kind, card_id, evidence);
        select group_concat(card_id || ':' || status, ' ') from (select * from card order by card_id);
        select group_concat(card_id || ':' || status || ':' || reason || ':' || operator, ' ') from (select * from card_event order by id)"
}
# Each customer account's points, euros, bono sessions and stamps.
totals() {
    sqlite3 "$1" "select group_concat(account_id || ':' || asset || ':' || amount, ' ') from
        (select * from balance where account_id between 11 and 15 and amount != 0
         order by account_id, asset)"
}
# kills_checked PART M WHAT: each of the part's M runs killed (exit 137), the
# ledger verifying after each.
kills_checked() {
    check_eq "part $1: SIGKILLed after each of the $2 $3 (exit 137)" "$2" "$killed"
    check_eq "part $1: ledger verify after each kill" "$2" "$verified"
}
# restore FILE: the ledger as FILE holds it.
restore() { sqlite3 "$DB" ".restore $1"; }
# kill_point FILE ON N SQL FROM COMMAND...: the ledger as FILE holds it, then
# one run killed at point N (rc its exit status); counts the kills (exit 137)
# and the ledgers that verify after them.
kill_point() {
    restore "$1"
    shift
    sk "$T/kill.out" "$@"
    rc=$RC
    [ "$rc" = 137 ] && killed=$((killed + 1))
    verified && verified=$((verified + 1))
}

# ---- Part 1: a kill after every terminal_entry row ----
# References: the start, then each prefix of the files imported whole.
# B[k] is how many entries the first k files hold.
B=(0)
cp "$START" "$T/ref0.db"
for k in 1 2 3 4; do
    cp "$START" "$T/ref$k.db"
    sk "$T/ref.out" none 0 - - sync import "${FILES[@]:0:k}" --no-reconcile --db "$T/ref$k.db"
    [ "$RC" = 0 ] || echo "# reference import of $k file(s) failed: $(cat "$T/ref.out")"
    B+=("$(sqlite3 "$T/ref$k.db" 'select count(*) from terminal_entry')")
done
check_eq "the files hold 8, 7, 6 and 7 new entries (each journal opens with its start entry)" "0 8 15 21 28" "${B[*]}"
# The uninterrupted import, reconciliation included.
cp "$START" "$T/refall.db"
sk "$T/ref.out" none 0 - - sync import "${FILES[@]}" --db "$T/refall.db"

# The journals' totals, by hand from the scripts above (a void undoes the
# operation before it on that card; a pay + earn pays and earns; a redeem
# takes its points off).
# 1001: +10 +5 -5 +12 = 22 points; 50 - 3,00 = 47,00. 1002: +23 (+7 voided)
# +9 = 32 points; 50 - 1,50 = 48,50. 1003: +40 -15 (+3 voided) = 25 points;
# 50 - 5,00 = 45,00. 1004: +8 +10 +2 = 20 points; 50 - 12,50 - 10,00 - 0,99
# = 26,51 (the ledger counts cents).
pts_eur() {
    sqlite3 "$1" "select group_concat(account_id || ':' || asset || ':' || amount, ' ') from
        (select * from balance where asset in ('PTS','EUR') and account_id between 11 and 14
         order by account_id, asset)"
}
ALL_TOTALS="11:EUR:4700 11:PTS:22 12:EUR:4850 12:PTS:32 13:EUR:4500 13:PTS:25 14:EUR:2651 14:PTS:20"
check_eq "the uninterrupted import holds the journals' totals" "$ALL_TOTALS" "$(pts_eur "$T/refall.db")"
check_eq "the uninterrupted import: reconciliation finds nothing, the state is the import's without it" \
    "$(state "$T/ref4.db")" "$(state "$T/refall.db")"
REF_ALL=$(state "$T/refall.db")

killed=0 verified=0 as_ref=0 rest_taken=0 whole=0 totals_ok=0 summary=
for ((n = 1; n <= B[4]; n++)); do
    kill_point "$START" insert "$n" "INSERT INTO terminal_entry(" - sync import "${FILES[@]}"
    # The files before entry n's file are in, nothing of its file.
    k=0
    while [ "${B[k + 1]}" -lt "$n" ]; do k=$((k + 1)); done
    [ "$(state "$DB")" = "$(state "$T/ref$k.db")" ] && as_ref=$((as_ref + 1))
    # A clean import afterwards takes exactly the rest.
    sk "$T/clean.out" none 0 - - sync import "${FILES[@]}" --json
    taken=$(taken_of "$T/clean.out")
    [ "$taken" = $((B[4] - B[k])) ] && rest_taken=$((rest_taken + 1))
    [ "$(state "$DB")" = "$REF_ALL" ] && whole=$((whole + 1))
    [ "$(pts_eur "$DB")" = "$ALL_TOTALS" ] && verified && totals_ok=$((totals_ok + 1))
    summary+="$n:$rc/$k/$taken "
done
echo "# part 1, kill at entry:exit/files in before the clean import/taken by it: $summary"
check_eq "part 1: SIGKILLed at each of the 28 entries (exit 137)" 28 "$killed"
check_eq "part 1: ledger verify after each kill" 28 "$verified"
check_eq "part 1: after each kill: exactly the files before the killed entry's, nothing of its own" \
    28 "$as_ref"
check_eq "part 1: each clean import after a kill takes exactly the entries not in" 28 "$rest_taken"
check_eq "part 1: after each clean import: every balance, entry, line, lot, finding and taken entry as the uninterrupted import" \
    28 "$whole"
check_eq "part 1: after each clean import: the journals' totals and ledger verify" 28 "$totals_ok"
check_match "the tool says where it died" \
    "^sync_kill: SIGKILL after statement #28: INSERT INTO terminal_entry\(" "$(cat "$T/kill.out")"

# ---- Part 2: a kill after every COMMIT and RELEASE ----
# What counts, without a kill: each file's batch (RELEASE of each savepoint
# inside it, then COMMIT), each file's held retry (COMMIT), reconciliation
# (COMMIT).
restore "$START"
sk "$T/trace2" commit 0 - - sync import "${FILES[@]}"
M2=$COUNT
check_eq "part 2: counting without a kill is the import (exit 0, the uninterrupted state)" \
    "0|$REF_ALL" "$RC|$(state "$DB")"
check_eq "part 2: 9 COMMITs: each file's batch and its held retry, then reconciliation" \
    9 "$(commits_in "$T/trace2" "$M2")"
# After c COMMITs the ledger holds: c = 0 the start; 2k - 1 (file k's batch)
# and 2k (its retry, nothing held) the first k files; 9 (reconciliation) the
# uninterrupted import.
ref_after() {
    if [ "$1" = 9 ]; then echo "$T/refall.db"; else echo "$T/ref$((($1 + 1) / 2)).db"; fi
}
killed=0 verified=0 as_ref=0 rest_taken=0 whole=0 totals_ok=0 n_commit=0 summary=
for ((n = 1; n <= M2; n++)); do
    kill_point "$START" commit "$n" - - sync import "${FILES[@]}"
    # A COMMIT: its step is in (after); a RELEASE: the batch around it is
    # not (before): both are the state after the COMMITs so far.
    c=$(commits_in "$T/trace2" "$n")
    grep -q "^sync_kill: #$n COMMIT" "$T/trace2" && n_commit=$((n_commit + 1))
    ref=$(ref_after "$c")
    [ "$(state "$DB")" = "$(state "$ref")" ] && as_ref=$((as_ref + 1))
    sk "$T/clean.out" none 0 - - sync import "${FILES[@]}" --json
    taken=$(taken_of "$T/clean.out")
    [ "$taken" = $((B[4] - $(sqlite3 "$ref" 'select count(*) from terminal_entry'))) ] &&
        rest_taken=$((rest_taken + 1))
    [ "$(state "$DB")" = "$REF_ALL" ] && whole=$((whole + 1))
    [ "$(pts_eur "$DB")" = "$ALL_TOTALS" ] && verified && totals_ok=$((totals_ok + 1))
    summary+="$n:$rc/$c/$taken "
done
echo "# part 2, kill at COMMIT or RELEASE:exit/COMMITs in/taken by the clean import: $summary"
check_eq "part 2: SIGKILLed after each of the $M2 COMMITs and RELEASEs (exit 137; 9 COMMITs)" \
    "$M2 9" "$killed $n_commit"
check_eq "part 2: ledger verify after each kill" "$M2" "$verified"
check_eq "part 2: after each kill: the state after the COMMITs before it (a RELEASE: before its batch; a COMMIT: after its step)" \
    "$M2" "$as_ref"
check_eq "part 2: each clean import after a kill takes exactly the entries not in" "$M2" "$rest_taken"
check_eq "part 2: after each clean import: the uninterrupted state" "$M2" "$whole"
check_eq "part 2: after each clean import: the journals' totals and ledger verify" "$M2" "$totals_ok"

# ---- Part 3: a kill after every statement of the held-entry retry ----
restore "$START"
sk "$T/h.out" none 0 - - sync import "$T/h3" --no-reconcile
check_eq "part 3: the first import holds card 1005's two earns and card 1002's bono session" \
    "0|$T/h3: terminal 3, epoch 1796290003, sequences 1 to 4: 4 taken (0 posted, 1 recorded without movement, 3 held, 0 undone by a settle), 0 already there" \
    "$RC|$(cat "$T/h.out")"
# The desk fixes the causes: card 1005 registered on account 15, a bono of 5
# sessions sold to account 12 (posted by hand here).
"$LEAL" account add-card 15 --card-id 1005 --uid 04112233445565 --tech desfire-ev2 \
    --status active >/dev/null
"$LEAL" ledger post --account 12 --asset BONO:3 --amount 5 --reason "bono sold" --operator t >/dev/null
HELD=$T/held.db
sqlite3 "$DB" ".backup $HELD"
cp "$HELD" "$T/heldref.db"
sk "$T/h.out" none 0 - - sync import "$T/h3" --no-reconcile --db "$T/heldref.db"
check_eq "part 3: the next import (the same file) posts the three held entries" \
    "0|$T/h3: terminal 3, epoch 1796290003, sequences 1 to 4: 0 taken (0 posted, 0 recorded without movement, 0 held, 0 undone by a settle), 4 already there; 3 entries held before now posted" \
    "$RC|$(cat "$T/h.out")"
# By hand: 1005 earned 15 + 8 = 23 points; account 12: 5 sessions - 1 = 4.
HELD_TOTALS="11:EUR:5000 12:BONO:3:4 12:EUR:5000 13:EUR:5000 14:EUR:5000 15:PTS:23"
check_eq "part 3: the retried entries' totals (worked out by hand)" \
    "11:EUR:5000 12:BONO:3:5 12:EUR:5000 13:EUR:5000 14:EUR:5000|$HELD_TOTALS" \
    "$(totals "$HELD")|$(totals "$T/heldref.db")"
HELD_BEFORE=$(state "$HELD") HELD_AFTER=$(state "$T/heldref.db")
restore "$HELD"
sk "$T/trace3" stmt 0 - "WHERE x.outcome = 'held'" sync import "$T/h3" --no-reconcile
M3=$COUNT C3=$(first_commit "$T/trace3")
echo "# part 3, the retry's statements: $(words "$T/trace3")"
check_eq "part 3: counting without a kill is the import" "0|$HELD_AFTER" "$RC|$(state "$DB")"
killed=0 verified=0 as_ref=0 rest_posted=0 whole=0 totals_ok=0 summary=
for ((n = 1; n <= M3; n++)); do
    kill_point "$HELD" stmt "$n" - "WHERE x.outcome = 'held'" sync import "$T/h3" --no-reconcile
    # Before the retry's COMMIT: none of it; from its COMMIT on: all of it.
    if [ "$n" -lt "$C3" ]; then ref=$HELD_BEFORE want=3; else ref=$HELD_AFTER want=0; fi
    [ "$(state "$DB")" = "$ref" ] && as_ref=$((as_ref + 1))
    sk "$T/clean.out" none 0 - - sync import "$T/h3" --no-reconcile --json
    posted=$(sed -n 's/.*"held_posted":\([0-9]*\).*/\1/p' "$T/clean.out")
    [ "$posted" = "$want" ] && rest_posted=$((rest_posted + 1))
    [ "$(state "$DB")" = "$HELD_AFTER" ] && whole=$((whole + 1))
    [ "$(totals "$DB")" = "$HELD_TOTALS" ] && verified && totals_ok=$((totals_ok + 1))
    summary+="$n:$rc/$posted "
done
echo "# part 3, kill at retry statement:exit/held entries the clean import posted (COMMIT is #$C3): $summary"
kills_checked 3 "$M3" "statements of the retry"
check_eq "part 3: after each kill: none of the retry before its COMMIT, all of it from there" \
    "$M3" "$as_ref"
check_eq "part 3: each clean import posts what the killed retry did not" "$M3" "$rest_posted"
check_eq "part 3: after each clean import: the uninterrupted state" "$M3" "$whole"
check_eq "part 3: after each clean import: the totals and ledger verify" "$M3" "$totals_ok"

# ---- Part 4: a kill after every write of reconciliation ----
RUN="max(run), 0) + 1 FROM reconcile_finding"
cp "$START" "$T/rec0.db"
sk "$T/r.out" none 0 - - sync import "$T/r4" "$T/r5" --no-reconcile --db "$T/rec0.db"
cp "$START" "$T/rec1.db"
sk "$T/r.out" none 0 - - sync import "$T/r4" "$T/r5" --db "$T/rec1.db"
check_match "part 4: the uninterrupted import's reconciliation finds the clone and blocks the card" \
    "reconcile: 1 new finding\(s\) \(1 fraud, 1 card\(s\) blocked\), 1 open" "$(cat "$T/r.out")"
# By hand: card 1001 earned 5 + 3 + 7 = 15 points; it is blocked, with an
# event by reconcile; the finding names terminal 5's entry.
check_eq "part 4: before and after reconciliation" \
    "11:EUR:5000 11:PTS:15 12:EUR:5000 13:EUR:5000 14:EUR:5000||1001:active|11:EUR:5000 11:PTS:15 12:EUR:5000 13:EUR:5000 14:EUR:5000|clone/1001/5/1|1001:blocked|blocked:reconcile" \
    "$(totals "$T/rec0.db")|$(sqlite3 "$T/rec0.db" "select group_concat(kind) from reconcile_finding")|$(sqlite3 "$T/rec0.db" "select card_id || ':' || status from card where card_id = 1001")|$(totals "$T/rec1.db")|$(sqlite3 "$T/rec1.db" "select kind || '/' || card_id || '/' || terminal_id || '/' || fraud from reconcile_finding")|$(sqlite3 "$T/rec1.db" "select card_id || ':' || status from card where card_id = 1001")|$(sqlite3 "$T/rec1.db" "select status || ':' || operator from card_event where card_id = 1001 order by id desc limit 1")"
REC_BEFORE=$(state "$T/rec0.db") REC_AFTER=$(state "$T/rec1.db")
restore "$START"
sk "$T/trace4" write 0 - "$RUN" sync import "$T/r4" "$T/r5"
M4=$COUNT C4=$(first_commit "$T/trace4")
echo "# part 4, reconciliation's writes: $(words "$T/trace4")"
check_eq "part 4: counting without a kill is the import" "0|$REC_AFTER" "$RC|$(state "$DB")"
killed=0 verified=0 as_ref=0 whole=0 summary=
for ((n = 1; n <= M4; n++)); do
    kill_point "$START" write "$n" - "$RUN" sync import "$T/r4" "$T/r5"
    if [ "$n" -lt "$C4" ]; then ref=$REC_BEFORE; else ref=$REC_AFTER; fi
    [ "$(state "$DB")" = "$ref" ] && as_ref=$((as_ref + 1))
    sk "$T/clean.out" none 0 - - sync import "$T/r4" "$T/r5"
    [ "$(state "$DB")" = "$REC_AFTER" ] && verified && whole=$((whole + 1))
    summary+="$n:$rc "
done
echo "# part 4, kill at reconciliation write:exit (COMMIT is #$C4 of $M4): $summary"
kills_checked 4 "$M4" "writes of reconciliation"
check_eq "part 4: after each kill: nothing of reconciliation before its COMMIT, all of it from there" \
    "$M4" "$as_ref"
check_eq "part 4: after each clean re-run: the uninterrupted state (the clone found once, the card blocked once) and ledger verify" \
    "$M4" "$whole"

# ---- Part 5: a kill after every COMMIT and RELEASE of a tampered import ----
# References: X1 the three good entries (x6a imported), X2 those and the
# import's findings (x6.bad without reconciliation), X3 all of it.
for x in 1 2 3; do cp "$START" "$T/x$x.db"; done
sk "$T/x.out" none 0 - - sync import "$T/x6a" --no-reconcile --db "$T/x1.db"
sk "$T/x.out" none 0 - - sync import "$T/x6.bad" --no-reconcile --db "$T/x2.db"
sk "$T/x.out" none 0 - - sync import "$T/x6.bad" --db "$T/x3.db"
check_eq "part 5: the tampered export: entries 1-3 taken, 4 named, exit 1" \
    "1|leal: $T/x6.bad: terminal 6, epoch 1796290006, sequence 4: its MAC does not verify (altered, damaged, or not this terminal's key): nothing taken from it on (the 3 before it verify); 3 new entries taken before it; terminal 6 flagged" \
    "$RC|$(grep -v '^reconcile' "$T/x.out")"
# By hand: card 1003 earned 1 + 2 = 3 points (its entry 5 is not taken);
# 1004 nothing; the findings name entry 4 (card 1004) and 5 (card 1003);
# reconciliation blocks both.
check_eq "part 5: the references (totals, findings, cards) worked out by hand" \
    "11:EUR:5000 12:EUR:5000 13:EUR:5000 13:PTS:3 14:EUR:5000||1003:active 1004:active|mac:4:1004 mac:5:1003|1003:blocked 1004:blocked|tamper tamper" \
    "$(totals "$T/x1.db")|$(sqlite3 "$T/x1.db" "select group_concat(kind) from sync_finding")|$(sqlite3 "$T/x2.db" "select group_concat(card_id || ':' || status, ' ') from card where card_id in (1003, 1004)")|$(sqlite3 "$T/x2.db" "select group_concat(kind || ':' || seq || ':' || card_id, ' ') from (select * from sync_finding order by seq)")|$(sqlite3 "$T/x3.db" "select group_concat(card_id || ':' || status, ' ') from card where card_id in (1003, 1004)")|$(sqlite3 "$T/x3.db" "select group_concat(kind, ' ') from reconcile_finding")"
restore "$START"
sk "$T/trace5" commit 0 - - sync import "$T/x6.bad"
M5=$COUNT
echo "# part 5, the COMMITs and RELEASEs: $(words "$T/trace5")"
check_eq "part 5: counting without a kill is the import; 4 COMMITs: the batch, its held retry, the findings, reconciliation" \
    "1|$(state "$T/x3.db")|4" "$RC|$(state "$DB")|$(commits_in "$T/trace5" "$M5")"
X_REF=("$T/start.db" "$T/x1.db" "$T/x1.db" "$T/x2.db" "$T/x3.db")
killed=0 verified=0 as_ref=0 whole=0 summary=
for ((n = 1; n <= M5; n++)); do
    kill_point "$START" commit "$n" - - sync import "$T/x6.bad"
    c=$(commits_in "$T/trace5" "$n")
    [ "$(state "$DB")" = "$(state "${X_REF[c]}")" ] && as_ref=$((as_ref + 1))
    sk "$T/clean.out" none 0 - - sync import "$T/x6.bad"
    [ "$RC|$(state "$DB")" = "1|$(state "$T/x3.db")" ] && verified && whole=$((whole + 1))
    summary+="$n:$rc/$c "
done
echo "# part 5, kill at COMMIT or RELEASE:exit/COMMITs in: $summary"
kills_checked 5 "$M5" "COMMITs and RELEASEs"
check_eq "part 5: after each kill: the state after the COMMITs before it (the findings of the fault all or none)" \
    "$M5" "$as_ref"
check_eq "part 5: after each clean re-run: exit 1 and the uninterrupted state, ledger verify" \
    "$M5" "$whole"

# ---- Part 6: a kill after every write of a re-import that carries new entries ----
# Terminal 1's first export (t1a, 8 entries) is in, reconciled; its second
# (t1b) holds those 8 again and the 6 after them. Each write of the t1b
# import (the batch's rows and savepoints, its retry, reconciliation) is a
# kill point: before the batch's COMMIT the ledger is t1a's, from it on
# t1b's (nothing held, nothing to reconcile: the later COMMITs change
# nothing); a clean re-run takes exactly the 6 when the kill came before the
# COMMIT, none after, and never one of the 8 again.
cp "$START" "$T/re0.db"
sk "$T/re.out" none 0 - - sync import "$T/t1a" --db "$T/re0.db"
cp "$T/re0.db" "$T/re1.db"
sk "$T/re.out" none 0 - - sync import "$T/t1b" --json --db "$T/re1.db"
check_eq "part 6: the re-import takes the 6 new entries, 8 already there" "0|6|8" \
    "$RC|$(taken_of "$T/re.out")|$(sed -n 's/.*"already_there":\([0-9]*\).*/\1/p' "$T/re.out")"
# By hand, t1a: 1001 +10 +5 points, 50 - 3,00; 1002 +23 (+7 voided), 50
# (the pay + earn voided). t1b adds: 1001 -5 +12 (a stamp, a balance),
# 1002 -1,50 +9.
check_eq "part 6: the references' totals (worked out by hand)" \
    "11:EUR:4700 11:PTS:15 12:EUR:5000 12:PTS:23 13:EUR:5000 14:EUR:5000|11:EUR:4700 11:PTS:22 12:EUR:4850 12:PTS:32 13:EUR:5000 14:EUR:5000" \
    "$(pts_eur "$T/re0.db")|$(pts_eur "$T/re1.db")"
RE_BEFORE=$(state "$T/re0.db") RE_AFTER=$(state "$T/re1.db") RE_TOTALS=$(pts_eur "$T/re1.db")
restore "$T/re0.db"
sk "$T/trace6" write 0 - - sync import "$T/t1b"
M6=$COUNT C6=$(first_commit "$T/trace6")
echo "# part 6, the re-import's writes: $(words "$T/trace6")"
check_eq "part 6: counting without a kill is the re-import (exit 0, its state)" \
    "0|$RE_AFTER" "$RC|$(state "$DB")"
check_eq "part 6: 6 terminal_entry rows written, none of the 8 already there" 6 \
    "$(grep -c '^sync_kill: #[0-9]* INSERT INTO terminal_entry(' "$T/trace6")"
killed=0 verified=0 as_ref=0 rest_taken=0 whole=0 totals_ok=0 summary=
for ((n = 1; n <= M6; n++)); do
    kill_point "$T/re0.db" write "$n" - - sync import "$T/t1b"
    if [ "$n" -lt "$C6" ]; then ref=$RE_BEFORE want=6; else ref=$RE_AFTER want=0; fi
    [ "$(state "$DB")" = "$ref" ] && as_ref=$((as_ref + 1))
    sk "$T/clean.out" none 0 - - sync import "$T/t1b" --json
    taken=$(taken_of "$T/clean.out")
    [ "$taken" = "$want" ] && rest_taken=$((rest_taken + 1))
    [ "$(state "$DB")" = "$RE_AFTER" ] && whole=$((whole + 1))
    [ "$(pts_eur "$DB")" = "$RE_TOTALS" ] && verified && totals_ok=$((totals_ok + 1))
    summary+="$n:$rc/$taken "
done
echo "# part 6, kill at write:exit/taken by the clean re-run (the batch's COMMIT is #$C6 of $M6): $summary"
kills_checked 6 "$M6" "writes of the re-import"
check_eq "part 6: after each kill: t1a's ledger before the batch's COMMIT, t1b's from it on" \
    "$M6" "$as_ref"
check_eq "part 6: each clean re-run takes the 6 new entries if the kill came before the COMMIT, none after" \
    "$M6" "$rest_taken"
check_eq "part 6: after each clean re-run: the uninterrupted state" "$M6" "$whole"
check_eq "part 6: after each clean re-run: the totals and ledger verify" "$M6" "$totals_ok"

# Without the variable it is leal sync: nothing new to take.
restore "$T/refall.db"
run_capture "$KILL" import "${FILES[@]}" --json
check_eq "sync_kill without LEAL_SYNC_KILL_AT is leal sync import (nothing twice)" "0|0 0 0 0" \
    "$RC|$(echo "$OUT" | sed -n 's/.*"taken":\([0-9]*\).*/\1/p' | tr '\n' ' ' | sed 's/ $//')"
LEAL_SYNC_KILL_AT=1 LEAL_SYNC_KILL_ON=commit run_capture "$KILL" import "${FILES[@]}"
check_eq "one run with the spec in the environment: killed after the first COMMIT" \
    "137|sync_kill: SIGKILL after statement #1: COMMIT" "$RC|$ERR"
check_eq "the server took every request" "" "$(cat "$T/serve.err")"
echo "# $((B[4] + M2 + M3 + M4 + M5 + M6)) kills and clean re-runs in $(($(date +%s) - t_start)) s"
finish
