#!/bin/bash
# sync_import.sh - `leal sync import` and `leal sync ack` end to end (issue
# 14): journals made by the real journal code (build/*/tests/tools/journal_gen,
# the keystore's journal master derived per terminal) are verified and posted
# exactly once by (terminal, epoch, sequence), with exact balances; the same
# file twice and an overlapping file post nothing twice; a changed byte takes
# nothing from the entry it breaks on and names it; a gap, a key taken with
# another MAC, an unknown terminal, a restarted epoch, a torn append, an
# operation whose commit had no answer and its settle, a card showing more than its account
# holds and a post the ledger refuses each do what JOURNAL.md says; the ack
# is the one the terminal's own journal accepts. LEAL_TEST_BACKEND=pg runs
# every case on PostgreSQL (sync_pg.sh; tests/lib/backend.sh).
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/backend.sh

backend_fixture sync "sync test passphrase"
GEN=$LEAL_BUILD/tests/tools/journal_gen
gen() { "$GEN" --keystore "$KS" --program 7 "$@"; }

"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
for t in 1 2 3 4; do "$LEAL" terminal add --store 1 --name "caja $t" >/dev/null; done
# Accounts 11, 12, 13 (the program's own are 1..10: 1 cash, 3 points_issued,
# 4 points_redeemed, 8 adjustments, 9 stamps_issued, 10 stamps_redeemed).
for a in 1 2 3; do "$LEAL" account add --program 7 >/dev/null; done
"$LEAL" account add-card 11 --card-id 1001 --uid 04112233445566 --tech desfire-ev2 --status active >/dev/null
"$LEAL" account add-card 12 --card-id 1002 --uid 04a2195c --tech classic-1k --status active >/dev/null
"$LEAL" account add-card 13 --card-id 1003 --uid 04112233445577 --tech desfire-ev2 --status active >/dev/null
"$LEAL" ledger post --account 11 --asset EUR --amount 20,00 --counter cash --reason start --operator t >/dev/null
"$LEAL" ledger post --account 11 --asset PTS --amount 100 --reason start --operator t >/dev/null
"$LEAL" ledger post --account 12 --asset BONO:3 --amount 5 --reason start --operator t >/dev/null
run_capture "$LEAL" reward add --program 7 --name "Café gratis" --kind product --value 1001 --cost 100 \
    --reason catálogo --operator Marta
check_eq "reward add" "0|reward 1 added (program 7, rule set version 1)" "$RC|$OUT"
run_capture "$LEAL" stamp add --program 7 --name Café --per item --goal 3 --reward 1 --reason café \
    --operator Marta
check_eq "stamp add" 0 "$RC"
check_eq "ids as the test assumes" "cash points_issued points_redeemed adjustments stamps_issued stamps_redeemed" \
    "$(rows "select name from account where id in (1, 3, 4, 8, 9, 10) order by id")"

# Terminal 1: every operation that moves something, and some that do not.
gen --terminal 1 --time 1796290000 --state "$T/t1.state" <<EOF
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
export $T/e1
earn 1002 2000 20
void 1002
bono 1002 3
export $T/e2
EOF
check_eq "journal_gen made the exports" "0|1200|1584" "$?|$(stat -c %s "$T/e1")|$(stat -c %s "$T/e2")"

run_capture "$LEAL" sync import --no-reconcile "$T/e1"
check_eq "import e1" "0|$T/e1: terminal 1, epoch 1796290000, sequences 1 to 9: 9 taken (6 posted, 3 recorded without movement, 0 held, 0 undone by a settle), 0 already there|" "$RC|$OUT|$ERR"
check_eq "e1: account 11 PTS 100+12+10-50, EUR 20.00-5.00-3.00; 12: 2 stamps" "72|1200|0|2" \
    "$(bal 11 PTS)|$(bal 11 EUR)|$(bal 12 PTS)|$(bal 12 STAMP:1)"
check_eq "e1: the program's side" "-1200|-22|50|-100|-2" \
    "$(bal 1 EUR)|$(bal 3 PTS)|$(bal 4 PTS)|$(bal 8 PTS)|$(bal 9 STAMP:1)"
check_eq "e1: one ledger entry per posted operation, keyed by terminal, epoch, sequence" \
    "earn:2:1250 spend:3:0 spend:4:1000 earn:5:0 earn:6:0 redeem:7:0" \
    "$(rows "select kind || ':' || terminal_seq || ':' || spend_cents from entry where terminal_id = 1 and terminal_epoch = 1796290000 order by terminal_seq")"
check_eq "e1: every entry taken with its outcome" \
    "1:16:recorded 2:1:posted 3:2:posted 4:3:posted 5:5:posted 6:5:posted 7:4:posted 8:8:recorded 9:9:recorded" \
    "$(rows "select seq || ':' || op || ':' || outcome from terminal_entry order by seq")"
# On PostgreSQL the import took more than a tenth of the entries the planner
# had counted (none: never counted), so it ANALYZEd what it grew
# (ledger_stats_refresh; autovacuum's, a minute later at best, would show in
# last_autoanalyze, not here).
[ "$BK" != pg ] || check_eq "e1: the planner's statistics of what the import grew, refreshed" \
    "balance:true entry:true line:true lot:true terminal_entry:true" \
    "$(rows "select relname || ':' || (last_analyze is not null) from pg_stat_user_tables where relname in ('entry', 'line', 'lot', 'terminal_entry', 'balance') order by relname")"
run_capture "$LEAL" sync import --no-reconcile "$T/e1"
check_eq "e1 twice: nothing taken" "0|$T/e1: terminal 1, epoch 1796290000, sequences 1 to 9: 0 taken (0 posted, 0 recorded without movement, 0 held, 0 undone by a settle), 9 already there" "$RC|$OUT"

run_capture "$LEAL" sync import --no-reconcile "$T/e2" "$T/e1" "$T/e2" --json
check_eq "the overlapping e2, then e1 and e2 again: only e2's three new entries are taken" "0|{\"file\":\"$T/e2\",\"program\":7,\"terminal\":1,\"epoch\":1796290000,\"first_seq\":1,\"last_seq\":12,\"taken\":3,\"posted\":3,\"recorded\":0,\"held\":0,\"undone\":0,\"already_there\":9,\"held_posted\":0,\"cards_flagged\":0,\"terminal_flagged\":false}
{\"file\":\"$T/e1\",\"program\":7,\"terminal\":1,\"epoch\":1796290000,\"first_seq\":1,\"last_seq\":9,\"taken\":0,\"posted\":0,\"recorded\":0,\"held\":0,\"undone\":0,\"already_there\":9,\"held_posted\":0,\"cards_flagged\":0,\"terminal_flagged\":false}
{\"file\":\"$T/e2\",\"program\":7,\"terminal\":1,\"epoch\":1796290000,\"first_seq\":1,\"last_seq\":12,\"taken\":0,\"posted\":0,\"recorded\":0,\"held\":0,\"undone\":0,\"already_there\":12,\"held_posted\":0,\"cards_flagged\":0,\"terminal_flagged\":false}" "$RC|$OUT"
VOIDED=$(q "select id from entry where terminal_id = 1 and terminal_seq = 10")
check_eq "e2: the earn of 20 and its void (reversing that entry); a bono session used (5 - 1)" \
    "0|2|void:$VOIDED|12|posted|4|1" \
    "$(bal 12 PTS)|$(bal 12 STAMP:1)|$(q "select kind || ':' || reverses from entry where terminal_id = 1 and terminal_seq = 11")|$(q 'select count(*) from terminal_entry')|$(q 'select outcome from terminal_entry where seq = 12')|$(bal 12 BONO:3)|$(q "select amount from balance b join account a on a.id = b.account_id where a.name = 'bonos_used' and b.asset = 'BONO:3'")"
check_eq "9 terminal entries in the ledger, each key once; nothing flagged" "9|0" \
    "$(q 'select count(*) from entry where terminal_id is not null')|$(q 'select count(*) from sync_finding')"
run_capture "$LEAL" ledger verify
check_match "ledger verify after the imports" "^ledger ok: 12 entries" "$OUT"

# The ack: the terminal's own journal accepts it (and only once).
run_capture "$LEAL" sync ack --terminal 1 -o "$T/ack1" --json
check_eq "sync ack --json" "0|{\"file\":\"$T/ack1\",\"program\":7,\"terminal\":1,\"epoch\":1796290000,\"seq\":12,\"key_version\":1,\"bytes\":56}" "$RC|$OUT"
check_eq "ack file: 56 bytes, 0600, LJAK" "56|600|4c4a414b" \
    "$(stat -c %s "$T/ack1")|$(stat -c %a "$T/ack1")|$(head -c4 "$T/ack1" | od -An -tx1 | tr -d ' ')"
printf 'ack %s\ncard 1001 desfire 72 1200\nearn 1001 700 7\ncard 1002 classic 0 0\nfill 1002 0\nexport %s\n' "$T/ack1" "$T/e3" |
    gen --terminal 1 --state "$T/t1.state"
check_eq "the terminal applied the ack and exports only what came after" 0 "$?"
run_capture "$LEAL" sync import --no-reconcile "$T/e3"
check_eq "e3: the terminal's ACK entry (recorded), a new earn, the third stamp (its reward: the goal, 3, used)" "0|$T/e3: terminal 1, epoch 1796290000, sequences 13 to 15: 3 taken (2 posted, 1 recorded without movement, 0 held, 0 undone by a settle), 0 already there|79|0|3|-3" \
    "$RC|$OUT|$(bal 11 PTS)|$(bal 12 STAMP:1)|$(bal 10 STAMP:1)|$(bal 9 STAMP:1)"
printf 'ack %s\n' "$T/ack1" | gen --terminal 1 --state "$T/t1.state" 2>/dev/null
check_eq "the same ack again is refused by the terminal" 1 "$?"

# Terminal 2: a changed byte in entry 4 takes entries 1-3 and names 4.
gen --terminal 2 --time 1796300000 <<EOF
card 1001 desfire 79 1200
earn 1001 100 1
earn 1001 200 2
earn 1001 400 4
earn 1001 800 8
export $T/t2
EOF
OFF=$((32 + 3 * 128 + 70))
cp "$T/t2" "$T/t2.bad"
flip_byte "$T/t2.bad" $OFF
run_capture "$LEAL" sync import --no-reconcile "$T/t2.bad"
check_eq "a changed byte in sequence 4: exit 1, one line naming it" "1||leal: $T/t2.bad: terminal 2, epoch 1796300000, sequence 4: its MAC does not verify (altered, damaged, or not this terminal's key): nothing taken from it on (the 3 before it verify); 3 new entries taken before it; terminal 2 flagged" \
    "$RC|$OUT|$ERR"
check_eq "entries 1-3 taken (79+1+2), 4 and 5 not; the terminal flagged, the card of 4 named" \
    "82|3|mac:4:1001" \
    "$(bal 11 PTS)|$(q 'select count(*) from terminal_entry where terminal_id = 2')|$(rows "select kind || ':' || seq || ':' || coalesce(cast(card_id as text), '-') from sync_finding where terminal_id = 2 order by seq")"
run_capture "$LEAL" sync import --no-reconcile "$T/t2"
check_eq "the good export takes the rest" "0|2 taken|94" \
    "$RC|$(echo "$OUT" | grep -o '[0-9]* taken')|$(bal 11 PTS)"
# The export's own MAC changed: nothing taken, the export named (sequence 0).
gen --terminal 3 --time 1796310000 <<EOF
card 1001 desfire 94 1200
earn 1001 100 1
export $T/t3
EOF
cp "$T/t3" "$T/t3.bad"
flip_byte "$T/t3.bad" $(($(stat -c %s "$T/t3") - 1))
run_capture "$LEAL" sync import --no-reconcile "$T/t3.bad"
check_eq "the export's MAC changed: nothing taken, sequence 0 named" "1|leal: $T/t3.bad: terminal 3, epoch 1796310000, sequence 0: the export's own MAC does not verify (sequences 1 to 2): nothing of it taken; 0 new entries taken before it; terminal 3 flagged|0|94" \
    "$RC|$ERR|$(q 'select count(*) from terminal_entry where terminal_id = 3')|$(bal 11 PTS)"

# A gap: another ledger took terminal 4's first entries and acked them; its
# next export starts at sequence 4, which this ledger cannot chain.
OTHER=$(ledger_snapshot other)
gen --terminal 4 --time 1796320000 --state "$T/t4.state" <<EOF
card 1003 desfire 0 0
earn 1003 100 1
earn 1003 100 1
export $T/t4a
EOF
"$LEAL" sync import --no-reconcile "$T/t4a" --db "$OTHER" >/dev/null
"$LEAL" sync ack --terminal 4 -o "$T/ack4" --db "$OTHER" >/dev/null
printf 'ack %s\ncard 1003 desfire 2 0\nearn 1003 100 1\nexport %s\n' "$T/ack4" "$T/t4b" |
    gen --terminal 4 --state "$T/t4.state"
run_capture "$LEAL" sync import --no-reconcile "$T/t4b"
check_eq "a gap: exit 1, named, nothing taken" "1|leal: $T/t4b: terminal 4, epoch 1796320000, sequence 4: sequence 3 was never taken: import it first; 0 new entries taken before it; terminal 4 flagged|0|gap:4" \
    "$RC|$ERR|$(q 'select count(*) from terminal_entry where terminal_id = 4')|$(q "select kind || ':' || seq from sync_finding where terminal_id = 4")"
run_capture "$LEAL" sync import --no-reconcile "$T/t4a" "$T/t4b"
check_eq "with the first export before it, both are taken" "0|5|3" \
    "$RC|$(q 'select count(*) from terminal_entry where terminal_id = 4')|$(bal 13 PTS)"

# A key taken with another MAC: terminal 3's storage wiped with its clock
# back, so the same epoch holds other entries (its EPOCH entry is the same).
gen --terminal 3 --time 1796310000 <<EOF
card 1001 desfire 94 1200
earn 1001 100 1
export $T/t3
EOF
"$LEAL" sync import --no-reconcile "$T/t3" >/dev/null
gen --terminal 3 --time 1796310000 <<EOF
card 1001 desfire 94 1200
earn 1001 999 9
export $T/t3other
EOF
run_capture "$LEAL" sync import --no-reconcile "$T/t3other"
check_eq "the same key with another MAC: a conflict, named, nothing taken" "1|leal: $T/t3other: terminal 3, epoch 1796310000, sequence 2: an entry with this key but another MAC was taken before (a wiped storage, or a forgery); 0 new entries taken before it; terminal 3 flagged|conflict:2" \
    "$RC|$ERR|$(rows "select kind || ':' || seq from sync_finding where terminal_id = 3 and kind = 'conflict'" ',')"

# An unknown terminal: one line, exit 2, nothing written.
gen --terminal 9 <<EOF
export $T/t9
EOF
before=$(q "select count(*) from terminal_entry")
run_capture "$LEAL" sync import --no-reconcile "$T/t9"
check_eq "unknown terminal, nothing written" "2|leal: $T/t9: terminal 9 is not registered in the ledger; add it with 'leal terminal add' (or import into the ledger it belongs to)|$before" \
    "$RC|$ERR|$(q "select count(*) from terminal_entry")"

# Terminal 2 goes on: two commits without answer, one settled done (it stays
# posted) and one not done (its settle reverses it), a torn append (RECOVERY), a card showing more points than its
# account holds, a redeem the ledger refuses (held), then its storage wiped
# (a new epoch).
gen --terminal 2 --time 1796330000 <<EOF
card 1001 desfire 95 1200
card 1003 desfire 500 0
doubt 1001 1000 10
settle 1001 done
doubt 1001 3000 30
settle 1001 notdone
tear
redeem 1003 2 300
export $T/t2b
EOF
run_capture "$LEAL" sync import --no-reconcile "$T/t2b"
check_eq "two commits without answer settled, a tear, a card over its account, a refused redeem" "0|$T/t2b: terminal 2, epoch 1796330000, sequences 1 to 7: 7 taken (3 posted, 3 recorded without movement, 1 held, 1 undone by a settle), 0 already there; 1 card(s) flagged for reconciliation; terminal 2 flagged" "$RC|$OUT"
E4=$(q 'select entry_id from terminal_entry where terminal_id = 2 and epoch = 1796330000 and seq = 4')
check_eq "the earn settled done stays posted; the one not done is reversed by its settle; 1003 untouched" \
    "105|posted|undone|void:$E4:-30|held|3" \
    "$(bal 11 PTS)|$(q 'select outcome from terminal_entry where terminal_id = 2 and epoch = 1796330000 and seq = 2')|$(q 'select outcome from terminal_entry where terminal_id = 2 and epoch = 1796330000 and seq = 4')|$(q "select e.kind || ':' || e.reverses || ':' || n.amount from entry e join line n on n.entry_id = e.id where e.terminal_id = 2 and e.terminal_epoch = 1796330000 and e.terminal_seq = 5 and n.account_id = 11")|$(q 'select outcome from terminal_entry where terminal_id = 2 and epoch = 1796330000 and seq = 7')|$(bal 13 PTS)"
check_eq "findings: the new epoch, the recovery, the held redeem, the card" \
    "epoch:1:|recovery:6:|held:7:1003|card_excess:7:1003" \
    "$(rows "select kind || ':' || seq || ':' || coalesce(cast(card_id as text), '') from sync_finding where terminal_id = 2 and epoch = 1796330000 order by id" '|')"
# The held redeem: once account 13 holds the points (posted by hand here, a
# terminal's journal in life), the next import posts it under its own key.
"$LEAL" ledger post --account 13 --asset PTS --amount 400 --reason "points from elsewhere" \
    --operator t >/dev/null
run_capture "$LEAL" sync import --no-reconcile "$T/t2b"
check_eq "a later import posts what was held" "0|$T/t2b: terminal 2, epoch 1796330000, sequences 1 to 7: 0 taken (0 posted, 0 recorded without movement, 0 held, 0 undone by a settle), 7 already there; 1 entry held before now posted|103|posted|redeem" \
    "$RC|$OUT|$(bal 13 PTS)|$(q 'select outcome from terminal_entry where terminal_id = 2 and epoch = 1796330000 and seq = 7')|$(q 'select kind from entry where terminal_id = 2 and terminal_epoch = 1796330000 and terminal_seq = 7')"
# A posted entry's terminal_entry row: on PostgreSQL written by the entry's
# own statement (ledger_post.c, one round trip an entry less), on SQLite by
# its own insert; the same row either way, and a refusal of it names its
# table and keeps nothing of the batch.
"$LEAL" terminal add --store 1 --name "caja 5" >/dev/null
gen --terminal 5 --time 1796350000 <<EOF
card 1001 desfire 105 1200
earn 1001 100 1
balance 1001
earn 1001 200 2
export $T/t5
EOF
q "CREATE UNIQUE INDEX one_posted_card ON terminal_entry(card_id) WHERE terminal_id = 5 AND outcome = 'posted'"
run_capture "$LEAL" sync import --no-reconcile "$T/t5"
refused="UNIQUE constraint failed: terminal_entry.card_id"
[ "$BK" != pg ] || refused='adding to terminal_entry: PostgreSQL 23505: duplicate key value violates unique constraint "one_posted_card"'
check_eq "a terminal_entry row refused: exit 2, its table (and index) named, nothing of the batch kept" \
    "2|leal: $T/t5: $refused|0|0|105" \
    "$RC|$ERR|$(q 'select count(*) from terminal_entry where terminal_id = 5')|$(q 'select count(*) from entry where terminal_id = 5')|$(bal 11 PTS)"
q "DROP INDEX one_posted_card"
[ "$BK" != pg ] || q "CREATE TABLE te_by(seq BIGINT, what TEXT); CREATE FUNCTION te_by() RETURNS trigger LANGUAGE plpgsql AS \$f\$ BEGIN INSERT INTO te_by VALUES (NEW.seq, split_part(current_query(), ' ', 1)); RETURN NULL; END \$f\$; CREATE TRIGGER te_by AFTER INSERT ON terminal_entry FOR EACH ROW EXECUTE FUNCTION te_by()"
run_capture "$LEAL" sync import --no-reconcile "$T/t5"
check_eq "then taken: the posted entries' rows name their entries" \
    "0|$T/t5: terminal 5, epoch 1796350000, sequences 1 to 4: 4 taken (2 posted, 2 recorded without movement, 0 held, 0 undone by a settle), 0 already there|108|1:recorded:0 2:posted:1 3:recorded:0 4:posted:1" \
    "$RC|$OUT|$(bal 11 PTS)|$(rows "select x.seq || ':' || x.outcome || ':' || count(e.id) from terminal_entry x left join entry e on e.id = x.entry_id and e.terminal_id = x.terminal_id and e.terminal_epoch = x.epoch and e.terminal_seq = x.seq where x.terminal_id = 5 group by x.seq, x.outcome order by x.seq")"
if [ "$BK" = pg ]; then
    check_eq "pg: each posted entry's terminal_entry row written by the entry's own statement (WITH), the others by an INSERT" \
        "1:INSERT 2:WITH 3:INSERT 4:WITH" "$(rows "select seq || ':' || what from te_by order by seq")"
    q "DROP TRIGGER te_by ON terminal_entry; DROP FUNCTION te_by(); DROP TABLE te_by"
fi

run_capture "$LEAL" ledger verify
check_match "ledger verify at the end" "^ledger ok" "$OUT"

finish
