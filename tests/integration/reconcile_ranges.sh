#!/bin/bash
# reconcile_ranges.sh - reconciliation over more cards than one range (it
# reads the card table 512 ids at a time, each range's findings read once
# with it): a generated chain of 3 terminals and 1,100 carded customers
# (tests/tools/chain_gen) imported, then three accounts, one in each range,
# given 7 points the cards never saw. The first run finds the three balances;
# a second sees the same three again and records nothing new; with the
# accounts put back the next run resolves them; tampered again, they open
# again, the same three findings, no new one.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-reconcile-ranges-XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="reconcile ranges passphrase"
DB=$T/ledger.db
J=$T/journals

"$LEAL" keys init --issuer Chain --program 7 >/dev/null
run_capture "$LEAL_BUILD/tests/tools/chain_gen" --keystore "$XDG_DATA_HOME/leal/keystore" \
    --db "$DB" --out "$J" --terminals 3 --cards 1100 --entries 4500
check_match "the generator: 1,100 cards" "^chain 3 terminals 1100 cards " "$OUT"
run_capture "$LEAL" sync import --no-reconcile "$J/t1.journal" "$J/t2.journal" "$J/t3.journal" \
    --db "$DB"
check_eq "the import" "0" "$RC"
summary() { "$LEAL" reconcile --db "$DB" | grep '^reconciled'; }
walked=$(sqlite3 "$DB" "select count(distinct card_id) from terminal_entry where card_id is not null")
check_eq "the first reconciliation: every tapped card, nothing found" \
    "reconciled $walked card(s): 0 new finding(s) (0 fraud, 0 card(s) blocked), 0 resolved, 0 open" \
    "$(summary)"

# A tapped card in each of the three ranges (ids 100001-100512, 100513-101024,
# 101025-101100), its account's points moved behind the ledger's back.
CARDS=$(sqlite3 "$DB" "select min(card_id) from terminal_entry where card_id >= 100001;
    select min(card_id) from terminal_entry where card_id >= 100600;
    select min(card_id) from terminal_entry where card_id >= 101050" | tr '\n' ' ')
set -- $CARDS
check_eq "three tapped cards, one in each range" "1|1|1" \
    "$([ "$1" -le 100512 ] && echo 1)|$([ "$2" -gt 100512 ] && [ "$2" -le 101024 ] && echo 1)|$([ "$3" -gt 101024 ] && echo 1)"
tamper() { # POINTS: added to the three accounts' points
    for c in $CARDS; do
        sqlite3 "$DB" "update balance set amount = amount + $1 where asset = 'PTS' and
            account_id = (select account_id from card where card_id = $c)"
    done
}
findings() {
    sqlite3 "$DB" "select group_concat(card_id || ':' || kind || ':' || state, ' ') from
        (select card_id, kind, state from reconcile_finding order by card_id)"
}
tamper 7
check_eq "7 points in three accounts: three balance findings, one a range" \
    "reconciled $walked card(s): 3 new finding(s) (0 fraud, 0 card(s) blocked), 0 resolved, 3 open" \
    "$(summary)"
check_eq "the three, open" "$1:balance:open $2:balance:open $3:balance:open" "$(findings)"
check_eq "again: the same three, none new" \
    "reconciled $walked card(s): 0 new finding(s) (0 fraud, 0 card(s) blocked), 0 resolved, 3 open" \
    "$(summary)"
check_eq "three findings in all" "3" "$(sqlite3 "$DB" "select count(*) from reconcile_finding")"
tamper -7
check_eq "the accounts put back: the three resolved" \
    "reconciled $walked card(s): 0 new finding(s) (0 fraud, 0 card(s) blocked), 3 resolved, 0 open" \
    "$(summary)"
check_eq "the three, resolved" "$1:balance:resolved $2:balance:resolved $3:balance:resolved" \
    "$(findings)"
tamper 7
check_eq "tampered again: the same three open again, none new" \
    "reconciled $walked card(s): 0 new finding(s) (0 fraud, 0 card(s) blocked), 0 resolved, 3 open" \
    "$(summary)"
check_eq "the three, open again, still three in all" \
    "$1:balance:open $2:balance:open $3:balance:open|3" \
    "$(findings)|$(sqlite3 "$DB" "select count(*) from reconcile_finding")"
finish
