#!/bin/bash
# sync_pg.sh - terminal journals and reconciliation on both backends (issue
# 20): the main cases of sync_import.sh and reconcile_cli.sh with the same
# expected output on an SQLite file and on a private PostgreSQL 15 cluster
# (tests/lib/pg.sh): journals made by the real journal code
# (build/*/tests/tools/journal_gen) imported exactly once with exact
# balances; the same file twice and an overlapping file post nothing twice;
# a changed byte takes nothing from the entry it breaks on and flags the
# terminal; the same key with another MAC, an unknown terminal, commits
# without answer and their settles, a torn append, a card showing more than
# its account, a held redeem posted later; the ack; a card's counter seen
# twice (a clone) found, the card blocked, the finding accepted once, the
# findings on PostgreSQL those on SQLite. (sync_pg_concurrency.sh: importers
# and the desk at once on PostgreSQL.)
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/pg.sh

T=$(mktemp -d /tmp/leal-sync-pg-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; pg_stop; rm -rf "$T"; }
trap cleanup EXIT
export LEAL_PASSPHRASE="sync pg passphrase"
GEN=$LEAL_BUILD/tests/tools/journal_gen
PSQL="$PG_BIN/psql"

# The backend under test: BK (sqlite|pg), DB (the --db value), q SQL (rows,
# one a line), bal ACCOUNT ASSET (0 without a row), l ARGS (leal on DB).
q() {
    if [ "$BK" = sqlite ]; then sqlite3 "$DB" "$1"; else "$PSQL" "$DB" -qAtX -c "$1"; fi
}
rows() { q "$1" | tr '\n' ' ' | sed 's/ $//'; }
bal() { q "select coalesce((select amount from balance where account_id = $1 and asset = '$2'), 0)"; }
l() { run_capture "$LEAL" "$@" --db "$DB"; }
gen() { "$GEN" --keystore "$XDG_DATA_HOME/leal/keystore" --program 7 "$@"; }

cases() {
    local n=$BK
    export XDG_DATA_HOME=$T/$BK
    # The keystore is a file on both (the ledger's database holds no key).
    "$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
    l ledger init
    check_eq "$n: ledger init" 0 "$RC"
    l program create --code sol --name "Café Sol" --id 7 --points-per-euro 1
    l store add --program 7 --code centro --name Centro --tz Europe/Madrid
    for t in 1 2 3 4; do l terminal add --store 1 --name "caja $t"; done
    # Accounts 11, 12, 13 (the program's own are 1..10).
    for a in 1 2 3; do l account add --program 7; done
    l account add-card 11 --card-id 1001 --uid 04112233445566 --tech desfire-ev2 --status active
    l account add-card 12 --card-id 1002 --uid 04a2195c --tech classic-1k --status active
    l account add-card 13 --card-id 1003 --uid 04112233445577 --tech desfire-ev2 --status active
    l account add-card 13 --card-id 1004 --uid 04112233445588 --tech desfire-ev2 --status active
    l ledger post --account 11 --asset EUR --amount 20,00 --counter cash --reason start --operator t
    l ledger post --account 11 --asset PTS --amount 100 --reason start --operator t
    l ledger post --account 12 --asset BONO:3 --amount 5 --reason start --operator t
    l reward add --program 7 --name "Café gratis" --kind product --value 1001 --cost 100 \
        --reason catálogo --operator Marta
    check_eq "$n: reward add" "0|reward 1 added (program 7, rule set version 1)" "$RC|$OUT"
    l stamp add --program 7 --name Café --per item --goal 3 --reward 1 --reason café --operator Marta
    check_eq "$n: stamp add" 0 "$RC"
    check_eq "$n: ids as the test assumes" \
        "cash points_issued points_redeemed adjustments stamps_issued stamps_redeemed" \
        "$(rows "select name from account where id in (1, 3, 4, 8, 9, 10) order by id")"

    # Terminal 1: every operation that moves something, and some that do not.
    gen --terminal 1 --time 1796290000 --state "$T/$n-t1.state" <<EOF
card 1001 desfire 100 2000
card 1002 classic 0 0
earn 1001 1250 12
pay 1001 500
payearn 1001 300 1000 10
stamp 1002 0 1
stamp 1002 0 1
redeem 1001 5 50
balance 1002
refuse 1003 301 1
export $T/$n-e1
earn 1002 2000 20
void 1002
bono 1002 3
export $T/$n-e2
EOF
    check_eq "$n: journal_gen made the exports" "0|1200|1584" \
        "$?|$(stat -c %s "$T/$n-e1")|$(stat -c %s "$T/$n-e2")"
    l sync import --no-reconcile "$T/$n-e1"
    check_eq "$n: import e1" "0|$T/$n-e1: terminal 1, epoch 1796290000, sequences 1 to 9: 9 taken (6 posted, 3 recorded without movement, 0 held, 0 undone by a settle), 0 already there|" "$RC|$OUT|$ERR"
    check_eq "$n: e1: account 11 PTS 100+12+10-50, EUR 20.00-5.00-3.00; 12: 2 stamps" \
        "72|1200|0|2" "$(bal 11 PTS)|$(bal 11 EUR)|$(bal 12 PTS)|$(bal 12 STAMP:1)"
    check_eq "$n: e1: the program's side" "-1200|-22|50|-100|-2" \
        "$(bal 1 EUR)|$(bal 3 PTS)|$(bal 4 PTS)|$(bal 8 PTS)|$(bal 9 STAMP:1)"
    check_eq "$n: e1: one ledger entry per posted operation, keyed by terminal, epoch, sequence" \
        "earn:2:1250 spend:3:0 spend:4:1000 earn:5:0 earn:6:0 redeem:7:0" \
        "$(rows "select kind || ':' || terminal_seq || ':' || spend_cents from entry where \
terminal_id = 1 and terminal_epoch = 1796290000 order by terminal_seq")"
    check_eq "$n: e1: every entry taken with its outcome" \
        "1:16:recorded 2:1:posted 3:2:posted 4:3:posted 5:5:posted 6:5:posted 7:4:posted 8:8:recorded 9:9:recorded" \
        "$(rows "select seq || ':' || op || ':' || outcome from terminal_entry order by seq")"
    l sync import --no-reconcile "$T/$n-e1"
    check_eq "$n: e1 twice: nothing taken" "0|$T/$n-e1: terminal 1, epoch 1796290000, sequences 1 to 9: 0 taken (0 posted, 0 recorded without movement, 0 held, 0 undone by a settle), 9 already there" "$RC|$OUT"
    l sync import --no-reconcile "$T/$n-e2" "$T/$n-e1" "$T/$n-e2" --json
    check_eq "$n: the overlapping e2, then e1 and e2 again: only e2's three new entries" \
        "0|3:3:9 0:0:9 0:0:12" \
        "$RC|$(echo "$OUT" | sed 's/.*"taken":\([0-9]*\),"posted":\([0-9]*\),.*"already_there":\([0-9]*\),.*/\1:\2:\3/' | tr '\n' ' ' | sed 's/ $//')"
    VOIDED=$(q "select id from entry where terminal_id = 1 and terminal_seq = 10")
    check_eq "$n: e2: the earn of 20 and its void; a bono session used (5 - 1)" \
        "0|2|void:$VOIDED|12|posted|4" \
        "$(bal 12 PTS)|$(bal 12 STAMP:1)|$(q "select kind || ':' || reverses from entry where terminal_id = 1 and terminal_seq = 11")|$(q 'select count(*) from terminal_entry')|$(q 'select outcome from terminal_entry where seq = 12')|$(bal 12 BONO:3)"
    check_eq "$n: 9 terminal entries in the ledger, each key once; nothing flagged" "9|0" \
        "$(q 'select count(*) from entry where terminal_id is not null')|$(q 'select count(*) from sync_finding')"

    # The ack: the terminal's own journal accepts it (and only once).
    l sync ack --terminal 1 -o "$T/$n-ack1" --json
    check_eq "$n: sync ack --json" "0|{\"file\":\"$T/$n-ack1\",\"program\":7,\"terminal\":1,\"epoch\":1796290000,\"seq\":12,\"key_version\":1,\"bytes\":56}" "$RC|$OUT"
    printf 'ack %s\ncard 1001 desfire 72 1200\nearn 1001 700 7\ncard 1002 classic 0 0\nfill 1002 0\nexport %s\n' \
        "$T/$n-ack1" "$T/$n-e3" | gen --terminal 1 --state "$T/$n-t1.state"
    check_eq "$n: the terminal applied the ack" 0 "$?"
    l sync import --no-reconcile "$T/$n-e3"
    check_eq "$n: e3: the ACK entry, a new earn, the third stamp (its reward: the goal used)" \
        "0|$T/$n-e3: terminal 1, epoch 1796290000, sequences 13 to 15: 3 taken (2 posted, 1 recorded without movement, 0 held, 0 undone by a settle), 0 already there|79|0|3|-3" \
        "$RC|$OUT|$(bal 11 PTS)|$(bal 12 STAMP:1)|$(bal 10 STAMP:1)|$(bal 9 STAMP:1)"

    # Terminal 2: a changed byte in entry 4 takes entries 1-3 and names 4.
    gen --terminal 2 --time 1796300000 <<EOF
card 1001 desfire 79 1200
earn 1001 100 1
earn 1001 200 2
earn 1001 400 4
earn 1001 800 8
export $T/$n-t2
EOF
    cp "$T/$n-t2" "$T/$n-t2.bad"
    flip_byte "$T/$n-t2.bad" $((32 + 3 * 128 + 70))
    l sync import --no-reconcile "$T/$n-t2.bad"
    check_eq "$n: a changed byte in sequence 4: exit 1, one line naming it" "1||leal: $T/$n-t2.bad: terminal 2, epoch 1796300000, sequence 4: its MAC does not verify (altered, damaged, or not this terminal's key): nothing taken from it on (the 3 before it verify); 3 new entries taken before it; terminal 2 flagged" \
        "$RC|$OUT|$ERR"
    check_eq "$n: entries 1-3 taken (79+1+2), 4 and 5 not; the card of 4 named" "82|3|mac:4:1001" \
        "$(bal 11 PTS)|$(q 'select count(*) from terminal_entry where terminal_id = 2')|$(rows "select kind || ':' || seq || ':' || coalesce(card_id, 0) from sync_finding where terminal_id = 2 order by seq")"
    l sync import --no-reconcile "$T/$n-t2"
    check_eq "$n: the good export takes the rest" "0|2 taken|94" \
        "$RC|$(echo "$OUT" | grep -o '[0-9]* taken')|$(bal 11 PTS)"

    # The same key with another MAC: terminal 3's storage wiped, clock back.
    printf 'card 1001 desfire 94 1200\nearn 1001 100 1\nexport %s\n' "$T/$n-t3" |
        gen --terminal 3 --time 1796310000
    l sync import --no-reconcile "$T/$n-t3"
    printf 'card 1001 desfire 94 1200\nearn 1001 999 9\nexport %s\n' "$T/$n-t3other" |
        gen --terminal 3 --time 1796310000
    l sync import --no-reconcile "$T/$n-t3other"
    check_eq "$n: the same key with another MAC: a conflict, named, nothing taken" "1|leal: $T/$n-t3other: terminal 3, epoch 1796310000, sequence 2: an entry with this key but another MAC was taken before (a wiped storage, or a forgery); 0 new entries taken before it; terminal 3 flagged|conflict:2|95" \
        "$RC|$ERR|$(rows "select kind || ':' || seq from sync_finding where terminal_id = 3 and kind = 'conflict'")|$(bal 11 PTS)"

    # An unknown terminal: one line, exit 2, nothing written.
    gen --terminal 9 <<EOF
export $T/$n-t9
EOF
    before=$(q "select count(*) from terminal_entry")
    l sync import --no-reconcile "$T/$n-t9"
    check_eq "$n: unknown terminal, nothing written" "2|leal: $T/$n-t9: terminal 9 is not registered in the ledger; add it with 'leal terminal add' (or import into the ledger it belongs to)|$before" \
        "$RC|$ERR|$(q "select count(*) from terminal_entry")"

    # Terminal 2 again: commits without answer settled done and not done, a
    # torn append, a card over its account, a redeem the ledger refuses.
    gen --terminal 2 --time 1796330000 <<EOF
card 1001 desfire 95 1200
card 1003 desfire 500 0
doubt 1001 1000 10
settle 1001 done
doubt 1001 3000 30
settle 1001 notdone
tear
redeem 1003 2 300
export $T/$n-t2b
EOF
    l sync import --no-reconcile "$T/$n-t2b"
    check_eq "$n: settles, a tear, a card over its account, a held redeem" "0|$T/$n-t2b: terminal 2, epoch 1796330000, sequences 1 to 7: 7 taken (3 posted, 3 recorded without movement, 1 held, 1 undone by a settle), 0 already there; 1 card(s) flagged for reconciliation; terminal 2 flagged" "$RC|$OUT"
    E4=$(q 'select entry_id from terminal_entry where terminal_id = 2 and epoch = 1796330000 and seq = 4')
    check_eq "$n: the earn settled done stays; the one not done is reversed by its settle" \
        "105|posted|undone|void:$E4:-30|held|0" \
        "$(bal 11 PTS)|$(q 'select outcome from terminal_entry where terminal_id = 2 and epoch = 1796330000 and seq = 2')|$(q 'select outcome from terminal_entry where terminal_id = 2 and epoch = 1796330000 and seq = 4')|$(q "select e.kind || ':' || e.reverses || ':' || n.amount from entry e join line n on n.entry_id = e.id where e.terminal_id = 2 and e.terminal_epoch = 1796330000 and e.terminal_seq = 5 and n.account_id = 11")|$(q 'select outcome from terminal_entry where terminal_id = 2 and epoch = 1796330000 and seq = 7')|$(bal 13 PTS)"
    check_eq "$n: findings: the new epoch, the recovery, the held redeem, the card" \
        "epoch:1:0 recovery:6:0 held:7:1003 card_excess:7:1003" \
        "$(rows "select kind || ':' || seq || ':' || coalesce(card_id, 0) from sync_finding where terminal_id = 2 and epoch = 1796330000 order by id")"
    l ledger post --account 13 --asset PTS --amount 400 --reason "points from elsewhere" --operator t
    l sync import --no-reconcile "$T/$n-t2b"
    check_eq "$n: a later import posts what was held" "0|$T/$n-t2b: terminal 2, epoch 1796330000, sequences 1 to 7: 0 taken (0 posted, 0 recorded without movement, 0 held, 0 undone by a settle), 7 already there; 1 entry held before now posted|100|posted|redeem" \
        "$RC|$OUT|$(bal 13 PTS)|$(q 'select outcome from terminal_entry where terminal_id = 2 and epoch = 1796330000 and seq = 7')|$(q 'select kind from entry where terminal_id = 2 and terminal_epoch = 1796330000 and terminal_seq = 7')"

    # A clone: card 1004's counter taken from 10 to 12 by terminal 3, then
    # from 10 again by terminal 4. The import says so and blocks the card.
    printf 'card 1004 desfire 0 0\nearn 1004 500 5\nearn 1004 300 3\nexport %s\n' "$T/$n-c1" |
        gen --terminal 3 --time 1796340000
    printf 'card 1004 desfire 0 0\nearn 1004 700 7\nexport %s\n' "$T/$n-c2" |
        gen --terminal 4 --time 1796340100
    l sync import "$T/$n-c1"
    check_eq "$n: the card's first journal: taken" 0 "$RC"
    l sync import "$T/$n-c2"
    check_match "$n: its counter seen again: a fraud finding, the card blocked" \
        "^reconcile: 1 new finding\(s\) \(1 fraud, 1 card\(s\) blocked\)" "$(echo "$OUT" | tail -1)"
    EV="t3/e1796340000/s2 and t4/e1796340100/s2 at counter 10"
    check_eq "$n: card 1004 blocked, its event naming the entries" \
        "blocked|reconcile clone: $EV|reconcile" \
        "$(q "select c.status || '|' || e.reason || '|' || e.operator from card c join card_event e on e.card_id = c.card_id where c.card_id = 1004 order by e.id desc limit 1")"
    F=$(q "select id from reconcile_finding where kind = 'clone' and card_id = 1004")
    l reconcile --card 1004 --json
    check_match "$n: reconcile --json lists it" "\"id\":$F,\"program\":7,\"card\":1004,\"terminal\":4,\"kind\":\"clone\",\"fraud\":true,\"state\":\"open\"" "$OUT"
    l reconcile accept "$F" --reason "merged after review" --operator Marta
    check_eq "$n: accept" "0|finding $F accepted: merged after review|" "$RC|$OUT|$ERR"
    l reconcile accept "$F" --reason again
    check_eq "$n: accept again: exit 1, one line" "1||leal: finding $F: not open: accepted or resolved already" "$RC|$OUT|$ERR"
    check_eq "$n: the finding in the ledger" "accepted|merged after review|Marta" \
        "$(q "select state || '|' || reason || '|' || operator from reconcile_finding where id = $F")"
    [ "$BK" = pg ] && check_eq "$n: the reconciliation findings, as on SQLite" \
        "$(cat "$T/findings.expected")" \
        "$(rows "select kind || ':' || card_id || ':' || terminal_id || ':' || fraud || ':' || state from reconcile_finding order by kind, card_id, terminal_id")"
    l ledger verify
    check_match "$n: ledger verify at the end" "^ledger ok" "$OUT"
}

# The SQLite cases first (their findings are what PostgreSQL must find),
# while the cluster starts.
(BK=sqlite DB=$T/ledger.db; T_PASS=0 T_FAIL=0; cases) >"$T/sqlite.log" 2>&1 &
SQLITE_JOB=$!
if ! pg_available; then
    wait $SQLITE_JOB
    fail "PostgreSQL 15 is not installed (make deps installs postgresql-15)"
    finish; exit $?
fi
pg_start || { wait $SQLITE_JOB; fail "pg: the test cluster did not start"; finish; exit $?; }
trap cleanup EXIT # pg_start set its own
wait $SQLITE_JOB
cat "$T/sqlite.log"
T_PASS=$((T_PASS + $(grep -c '^ok - ' "$T/sqlite.log")))
T_FAIL=$((T_FAIL + $(grep -c '^not ok - ' "$T/sqlite.log")))
(BK=sqlite DB=$T/ledger.db; rows "select kind || ':' || card_id || ':' || terminal_id || ':' || \
fraud || ':' || state from reconcile_finding order by kind, card_id, terminal_id") >"$T/findings.expected"
BK=pg DB=$LEAL_TEST_PG
cases

finish
