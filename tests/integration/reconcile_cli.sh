#!/bin/bash
# reconcile_cli.sh - `leal reconcile` end to end (issue 14): journals made by
# the real journal code (build/*/tests/tools/journal_gen) in which card
# 1001's counter is seen twice (terminal 1 takes it from 10 to 12, terminal
# 2 later from 10 again): the import after the second says so, the finding
# is one row naming both entries, the card is blocked with an event naming
# them, --json gives the same, accept records why (once), --all keeps it;
# a card whose points disagree with its account once everything is in is a
# balance finding (not fraud, not blocked), but not the points the host
# added that still wait for the card (card 1001's 100 by hand: its
# terminals' packages did not carry them); bad arguments are usage errors.
# LEAL_TEST_BACKEND=pg runs every case on PostgreSQL (sync_pg.sh;
# tests/lib/backend.sh), then copies the ledger to a file and back to a new
# database with every finding.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/backend.sh

backend_fixture reconcile "reconcile test passphrase"
GEN=$LEAL_BUILD/tests/tools/journal_gen
gen() { "$GEN" --keystore "$KS" --program 7 "$@"; }

"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
for t in 1 2; do "$LEAL" terminal add --store 1 --name "caja $t" >/dev/null; done
# Account 11 (the program's own are 1..10).
"$LEAL" account add --program 7 >/dev/null
"$LEAL" account add-card 11 --card-id 1001 --uid 04112233445566 --tech desfire-ev2 --status active >/dev/null
"$LEAL" ledger post --account 11 --asset EUR --amount 20,00 --counter cash --reason start --operator t >/dev/null
# 100 points by hand: they wait for the card (no package carried them to
# terminals 1 and 2), so the card shows 100 fewer than the account.
"$LEAL" ledger post --account 11 --asset PTS --amount 100 --reason start --operator t >/dev/null
gen --terminal 1 --time 1796290000 <<EOF
card 1001 desfire 0 2000
earn 1001 500 5
earn 1001 300 3
export $T/t1
EOF
gen --terminal 2 --time 1796290100 <<EOF
card 1001 desfire 0 2000
earn 1001 700 7
export $T/t2
EOF
check_eq "journal_gen made both exports" 0 "$?"

run_capture "$LEAL" sync import "$T/t1"
check_eq "terminal 1: the counter from 10 to 12; card 8 points, account 108 of which 100 wait for the card: they agree, nothing to say" \
    "0|$T/t1: terminal 1, epoch 1796290000, sequences 1 to 3: 3 taken (2 posted, 1 recorded without movement, 0 held, 0 undone by a settle), 0 already there|" \
    "$RC|$OUT|$ERR"
run_capture "$LEAL" reconcile --card 1001 --json
check_eq "the 100 points wait for card 1001; its account holds 108; no finding" \
    '0|{"cards":1,"new":0,"fraud":0,"blocked":0,"resolved":0,"open":0,"findings":[],"waiting":[{"card_id":1001,"points":100,"entries":1,"upto_entry":2,"taps":12,"sent_taps":null,"seen_taps":0,"state":"unsent","error":null,"why":"no package carried them yet: the next package carries them to the card (at 12 taps), or leal card sync at the desk"}]}|108' \
    "$RC|$OUT|$(q "select amount from balance where account_id = 11 and asset = 'PTS'")"
run_capture "$LEAL" sync import "$T/t2"
check_eq "terminal 2: counter 10 again; the import says what reconciliation found" \
    "0|$T/t2: terminal 2, epoch 1796290100, sequences 1 to 2: 2 taken (1 posted, 1 recorded without movement, 0 held, 0 undone by a settle), 0 already there
reconcile: 1 new finding(s) (1 fraud, 1 card(s) blocked), 1 open: leal reconcile lists them|" \
    "$RC|$OUT|$ERR"
EV="t1/e1796290000/s2 and t2/e1796290100/s2 at counter 10"
check_eq "card 1001 blocked, its event naming the entries" \
    "blocked|reconcile clone: $EV|reconcile" \
    "$(q "select c.status || '|' || e.reason || '|' || e.operator from card c join card_event e on e.card_id = c.card_id where c.card_id = 1001 order by e.id desc limit 1")"

run_capture "$LEAL" reconcile
check_eq "leal reconcile: nothing new, the open finding listed" "0|2|" "$RC|$(echo "$OUT" | wc -l)|$ERR"
check_eq "its summary" "reconciled 1 card(s): 0 new finding(s) (0 fraud, 0 card(s) blocked), 0 resolved, 1 open" \
    "$(echo "$OUT" | head -1)"
check_match "its row: id, time, kind, fraud, state, what, evidence" \
    "^finding 1  [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]+.*  clone    FRAUD open  card 1001: counter 10 seen twice with different contents \(t1/e1796290000/s2 and t2/e1796290100/s2, counter already at 12\): a copy of the card or a restored dump; card blocked  \(evidence: $EV\)$" \
    "$(echo "$OUT" | tail -1)"
run_capture "$LEAL" reconcile --card 1001 --json
check_match "--json" "^\{\"cards\":1,\"new\":0,\"fraud\":0,\"blocked\":0,\"resolved\":0,\"open\":1,\"findings\":\[\{\"id\":1,\"program\":7,\"card\":1001,\"terminal\":2,\"kind\":\"clone\",\"fraud\":true,\"state\":\"open\",\"found_at\":[0-9]+,\"evidence\":\"$EV\",.*\"reason\":\"\",\"operator\":\"\"\}\],\"waiting\":\[\]\}$" "$OUT"
check_eq "--json: one line, exit 0" "0|1" "$RC|$(echo "$OUT" | wc -l)"

run_capture "$LEAL" reconcile accept 1 --reason "merged after review" --operator Marta
check_eq "accept" "0|finding 1 accepted: merged after review|" "$RC|$OUT|$ERR"
run_capture "$LEAL" reconcile accept 1 --reason again
check_eq "accept again: exit 1, one line" "1||leal: finding 1: not open: accepted or resolved already" "$RC|$OUT|$ERR"
run_capture "$LEAL" reconcile accept 9 --reason none
check_eq "no such finding: exit 1" "1||leal: finding 9: no such finding (leal reconcile --all lists them)" "$RC|$OUT|$ERR"
run_capture "$LEAL" reconcile
check_eq "nothing open once accepted" "0|reconciled 1 card(s): 0 new finding(s) (0 fraud, 0 card(s) blocked), 0 resolved, 0 open" "$RC|$OUT"
run_capture "$LEAL" reconcile --all
check_match "--all keeps it, with who and why" "  clone    FRAUD accepted  card 1001: .*  \[accepted by Marta: merged after review\]  \(evidence: $EV\)$" "$OUT"
check_eq "the row in the ledger" "accepted|merged after review|Marta" \
    "$(q "select state || '|' || reason || '|' || operator from reconcile_finding where id = 1")"

run_capture "$LEAL" reconcile accept 1
check_eq "accept without --reason: usage, exit 2" "2" "$RC"
run_capture "$LEAL" reconcile --card abc
check_eq "a bad --card: usage, exit 2" "2" "$RC"
run_capture "$LEAL" reconcile extra
check_eq "an unexpected word: usage, exit 2" "2" "$RC"
run_capture "$LEAL" reconcile --help
check_match "--help" "^usage: leal reconcile " "$OUT"
# Card and ledger that disagree once everything is in: card 1003
# (its account 12 holds nothing) shows 40 points at terminal 3's first read
# and earns 5: card 45, account 5. A balance finding naming terminal 3's
# entry, not fraud: the card stays active, blocked by no one.
"$LEAL" terminal add --store 1 --name "caja 3" >/dev/null
"$LEAL" account add --program 7 >/dev/null
"$LEAL" account add-card 12 --card-id 1003 --uid 04112233445588 --tech desfire-ev2 --status active >/dev/null
gen --terminal 3 --time 1796290200 <<EOF
card 1003 desfire 40 0
earn 1003 500 5
export $T/t3
EOF
run_capture "$LEAL" sync import "$T/t3"
check_eq "terminal 3: one finding, no fraud" \
    "0|reconcile: 1 new finding(s) (0 fraud, 0 card(s) blocked), 1 open: leal reconcile lists them" \
    "$RC|$(grep '^reconcile' <<<"$OUT")"
check_eq "the balance finding: terminal 3's entry, the card's points; the card still active, blocked by no one; the account 5 points" \
    "balance|1003|3|0|open|counter 11 at t3/e1796290200/s2: 45 points 0 cents|active|0|5" \
    "$(rows "select kind || '|' || card_id || '|' || terminal_id || '|' || fraud || '|' || state || '|' || evidence from reconcile_finding where card_id = 1003")|$(q "select status from card where card_id = 1003")|$(q "select count(*) from card_event where card_id = 1003 and operator = 'reconcile'")|$(q "select amount from balance where account_id = 12 and asset = 'PTS'")"
run_capture "$LEAL" reconcile --card 1003
check_match "its row says what each side holds" \
    "  balance  open  card 1003 shows 45 points \(0 cents not read\) after t3/e1796290200/s2; its account 12 holds 5 points and 0 cents: find the operation missing on one side  \(evidence: " \
    "$OUT"

# A torn earn (issue 19): card 1004's earn at terminal 4 had no answer and
# the card, back there, was at its counter after (settled: the old item
# done, read as unknown); terminal 5's earn, answered, took the same step
# from counter 10. Terminal 4's commit cannot have reached the card: the
# import after terminal 5's reverses it (a void keyed by terminal 4's
# settle, operator reconcile) and records the doubt resolved with that
# reversal; the account ends at the card's 5 points, the card active.
# Imported and reconciled again: nothing changes.
for t in 4 5; do "$LEAL" terminal add --store 1 --name "caja $t" >/dev/null; done
"$LEAL" account add --program 7 >/dev/null
"$LEAL" account add-card 13 --card-id 1004 --uid 04112233445599 --tech desfire-ev2 --status active >/dev/null
gen --terminal 4 --time 1796290300 <<EOF
card 1004 desfire 0 0
doubt 1004 500 5
settle 1004 done
balance 1004
export $T/t4
EOF
gen --terminal 5 --time 1796290400 <<EOF
card 1004 desfire 0 0
earn 1004 500 5
export $T/t5
EOF
run_capture "$LEAL" sync import "$T/t4"
check_eq "terminal 4: its earn posted, nothing to say yet; the account 5 points" \
    "0||5" "$RC|$(grep '^reconcile' <<<"$OUT")|$(q "select amount from balance where account_id = 13 and asset = 'PTS'")"
run_capture "$LEAL" sync import "$T/t5"
check_eq "terminal 5: one finding, resolved at once (the open one is card 1003's balance)" \
    "0|reconcile: 1 new finding(s) (0 fraud, 0 card(s) blocked), 1 open: leal reconcile lists them" \
    "$RC|$(grep '^reconcile' <<<"$OUT")"
EV4="t4/e1796290300/s2 then t5/e1796290400/s2 at counter 10"
REV=$(q "select id from entry where terminal_id = 4 and terminal_seq = 3")
check_eq "the reversal: a void of terminal 4's earn keyed by its settle, operator reconcile, in the account's history" \
    "void|-5|reconcile|reconcile: t4/e1796290300/s2 never reached the card: its commit had no answer and t5/e1796290400/s2, answered, took the same step (counter 10)|$(q "select id from entry where terminal_id = 4 and terminal_seq = 2")" \
    "$(q "select e.kind || '|' || n.amount || '|' || e.operator || '|' || e.reason || '|' || e.reverses from entry e join line n on n.entry_id = e.id where e.id = $REV and n.account_id = 13")"
check_eq "the doubt resolved with the reversal; terminal 4's earn undone; account 5 points, the card's; card active" \
    "doubt|1004|4|0|resolved|$EV4|reconcile|reversed by entry $REV: t4/e1796290300/s2 had no answer, t5/e1796290400/s2 answered at the same step (counter 10)|undone|5|active" \
    "$(rows "select kind || '|' || card_id || '|' || terminal_id || '|' || fraud || '|' || state || '|' || evidence || '|' || operator || '|' || reason from reconcile_finding where card_id = 1004")|$(q "select outcome from terminal_entry where terminal_id = 4 and seq = 2")|$(q "select amount from balance where account_id = 13 and asset = 'PTS'")|$(q "select status from card where card_id = 1004")"
run_capture "$LEAL" reconcile --card 1004 --all
check_match "--all shows it resolved, by whom and why" \
    "  doubt    resolved  card 1004: .*  \[resolved by reconcile: reversed by entry $REV: .*\]  \(evidence: $EV4\)$" "$OUT"
run_capture "$LEAL" reconcile --card 1004 --all --json
check_match "--json: resolved, the reversal in its reason" \
    "\"kind\":\"doubt\",\"fraud\":false,\"state\":\"resolved\",.*\"evidence\":\"$EV4\",.*\"reason\":\"reversed by entry $REV: .*\",\"operator\":\"reconcile\"\}" "$OUT"
ENTRIES=$(q "select count(*) from entry")
run_capture "$LEAL" sync import "$T/t5"
run_capture "$LEAL" reconcile --card 1004 --json
check_eq "imported and reconciled again: nothing new, nothing moved" \
    "0|$ENTRIES|5|1" \
    "$RC|$(q "select count(*) from entry")|$(q "select amount from balance where account_id = 13 and asset = 'PTS'")|$(q "select count(*) from reconcile_finding where card_id = 1004")"
check_match "  again: no finding open" '^\{"cards":1,"new":0,"fraud":0,"blocked":0,"resolved":0,"open":0,' "$OUT"

run_capture "$LEAL" ledger verify
check_match "ledger verify at the end" "^ledger ok" "$OUT"

# PostgreSQL to an SQLite file and back to a new PostgreSQL database: the
# findings of the imports and of reconciliation, row for row (their ids,
# states, evidence, who accepted one and why), and the copy of the copy
# still knows the accepted one.
if [ "$BK" = pg ]; then
    # finding_rows DB: both finding tables' rows on either backend.
    finding_rows() {
        local run=(sqlite3 "$1")
        case $1 in postgresql://*) run=("$PG_BIN/psql" "$1" -qAtX -c) ;; esac
        "${run[@]}" "select * from sync_finding order by id"
        "${run[@]}" "select * from reconcile_finding order by id"
    }
    ORIG=$(finding_rows "$DB")
    check_eq "pg: findings to copy: sync, reconcile (one accepted, one resolved with its reversal)" "1|3|1" \
        "$(q "select count(*) from sync_finding")|$(q "select count(*) from reconcile_finding")|$(q "select count(*) from reconcile_finding where state = 'accepted'")"
    run_capture "$LEAL" ledger copy --from "$DB" --to "sqlite:$T/copy.db"
    check_eq "pg: ledger copy to an SQLite file" 0 "$RC"
    check_eq "pg: the SQLite copy's findings, row for row" "$ORIG" "$(finding_rows "$T/copy.db")"
    BACK=$(backend_pg_db back)
    run_capture "$LEAL" ledger copy --from "sqlite:$T/copy.db" --to "$BACK"
    check_eq "pg: ledger copy back to PostgreSQL" 0 "$RC"
    check_eq "pg: the copy of the copy's findings, row for row" "$ORIG" "$(finding_rows "$BACK")"
    run_capture "$LEAL" reconcile accept 1 --reason again --db "$BACK"
    check_eq "pg: the copy of the copy: finding 1 accepted already" \
        "1||leal: finding 1: not open: accepted or resolved already" "$RC|$OUT|$ERR"
fi

finish
