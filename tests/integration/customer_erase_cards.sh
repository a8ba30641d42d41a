#!/bin/bash
# customer_erase_cards.sh - `leal customer erase ID --cards block|keep`
# (issue 17: "the cards blocked or kept by decision", logged). Each customer
# has QR cards issued by `leal qr issue` (real cards of the ledger, no reader
# needed). The decision is required; with block every active card of the
# customer becomes blocked in the same transaction (its history saying why
# and by whom, on the hot list terminals refuse), a card lost before keeps
# its status, other customers' cards are untouched; with keep nothing
# changes; the note records the decision; `ledger verify` holds.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

program_fixture erasecards "erase cards test passphrase"
ANA=$("$LEAL" customer add --program 7 --name Ana --email ana@example.org --json | field id)
BEA=$("$LEAL" customer add --program 7 --name Bea --email bea@example.org --json | field id)
acct() { "$LEAL" customer show "$1" --json | field account; }
card() { "$LEAL" qr issue --account "$1" -o "$T/c$RANDOM.png" --valid-days 30 --json | field virtual_card; }
A1=$(card "$(acct "$ANA")")
A2=$(card "$(acct "$ANA")")
A3=$(card "$(acct "$ANA")")
B1=$(card "$(acct "$BEA")")
"$LEAL" card block "$A3" --reason "lost phone" >/dev/null || exit 1
sqlite3 "$DB" "UPDATE card SET status = 'lost' WHERE card_id = $A3" # lost before the erasure
# Card ids are random: lists are compared sorted by card id.
statuses() { sqlite3 "$DB" "SELECT card_id || ':' || status FROM card ORDER BY card_id" | tr '\n' ' '; }
sorted() { tr ' ' '\n' | sed '/^$/d' | sort -t: -k1,1n | tr '\n' ' '; }
BEFORE=$(statuses)
check_eq "fixture: Ana's two active cards and a lost one, Bea's active one" \
    "$(sorted <<<"$A1:active $A2:active $A3:lost $B1:active ")" "$BEFORE"

run_capture "$LEAL" customer erase "$ANA" --confirm
check_eq "no decision: exit 2, one line saying what to give" \
    "2|leal: leal customer erase needs the decision on the customer's cards: --cards block (terminals refuse them) or --cards keep (they go on working, anonymously) (see 'leal --help')" \
    "$RC|$(head -1 <<<"$ERR")"
run_capture "$LEAL" customer erase "$ANA" --confirm --cards maybe
check_eq "a bad decision: exit 2" 2 "$RC"
run_capture "$LEAL" customer export "$ANA" --cards keep
check_eq "--cards with export: exit 2" 2 "$RC"
check_eq "refusals: nothing erased, no card changed" "|$BEFORE" \
    "$(sqlite3 "$DB" "SELECT erased_at FROM customer WHERE id = $ANA")|$(statuses)"

run_capture "$LEAL" customer erase "$ANA" --confirm --cards block --operator dpo --json
check_eq "block: Ana's two active cards blocked (--json)" \
    "0|{\"customer\":$ANA,\"erased\":true,\"cards\":\"block\",\"cards_blocked\":2}" "$RC|$OUT"
check_eq "block: her active cards blocked, the lost one lost, Bea's active" \
    "$(sorted <<<"$A1:blocked $A2:blocked $A3:lost $B1:active ")" "$(statuses)"
check_eq "block: each blocked card's history says why and by whom" \
    "$(printf '%s|blocked|customer erased: cards blocked by decision|dpo\n' "$A1" "$A2" | sort -n)" \
    "$(sqlite3 "$DB" "SELECT card_id, status, reason, operator FROM card_event WHERE reason LIKE 'customer erased%' ORDER BY card_id")"
check_eq "block: the note logs the erasure and the decision" \
    "dpo|personal data erased at the customer's request (leal customer erase); cards blocked by decision: 2" \
    "$(sqlite3 "$DB" "SELECT author, text FROM customer_note WHERE customer_id = $ANA")"
check_eq "block: the hot list terminals get names both cards and the lost one" \
    "$(printf '%s\n' "$A1" "$A2" "$A3" | sort -n | tr '\n' ' ')" \
    "$("$LEAL" card hotlist --program 7 --json | $PY -c '
import json,sys
print("".join(str(c["card_id"]) + " " for c in sorted(json.load(sys.stdin)["cards"], key=lambda c: c["card_id"])), end="")')"

run_capture "$LEAL" customer erase "$BEA" --confirm --cards keep --operator dpo
check_eq "keep: erased, the cards kept" \
    "0|customer $BEA: personal data erased; the ledger keeps their entries; their cards kept" "$RC|$OUT"
check_eq "keep: Bea's card still active, nothing in its history" "$B1:active|0" \
    "$(sqlite3 "$DB" "SELECT card_id || ':' || status FROM card WHERE card_id = $B1")|$(sqlite3 "$DB" "SELECT count(*) FROM card_event WHERE card_id = $B1 AND reason LIKE 'customer erased%'")"
check_eq "keep: the note logs the decision" \
    "personal data erased at the customer's request (leal customer erase); cards kept by decision" \
    "$(sqlite3 "$DB" "SELECT text FROM customer_note WHERE customer_id = $BEA")"
run_capture "$LEAL" customer erase "$ANA" --confirm --cards block
check_eq "erased twice: exit 2, no card changed" "2|$(sorted <<<"$A1:blocked $A2:blocked $A3:lost $B1:active")" "$RC|$(statuses)"
run_capture "$LEAL" ledger verify
check_eq "ledger verify after both erasures" 0 "$RC"
check_eq "no name or address of theirs left in the file" "0" \
    "$(cat "$DB" "$DB-wal" 2>/dev/null | grep -c -a -E 'ana@example.org|bea@example.org')"
finish
