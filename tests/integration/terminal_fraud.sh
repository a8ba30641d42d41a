#!/bin/bash
# terminal_fraud.sh - restored dumps end to end through the real binaries
# (issues 13 and 14): a DESFire EV1 and a MIFARE Classic 1K (Classic stored
# value on), each with 20.00, are dumped (their card files copied); each pays
# 5,00 at terminal 1 and shows its balance there; the dumps are put back in
# the cards' place. Terminal 1's journal is imported, so terminal 3's next
# package carries each card's floor from terminal 1's reads (the host's
# floor is the higher of the desk's last read and the counters terminals
# read): there the restored dumps are refused (exit 3, behind the floor).
# Terminal 2, not synced since its first package, takes 7,00 from each
# restored dump. Terminal 3's journal imported: each refusal shows its card
# back at the dump's counter, a clone naming terminal 1's payment and the
# refusal, each card blocked with an event naming them; terminal 2's journal
# then adds a clone per card naming its payment. Terminal 1's next package
# hot-lists both, and leal-terminal with that package refuses the genuine
# cards (exit 3, hot-listed), journaled; `ledger verify` holds. sim: only.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/terminal_cards.sh
terminal_cards_fixture fraud 3

cp "$T/ana.json" "$T/ana.dump"
cp "$T/marta.json" "$T/marta.dump"
tap 1 ana --pay 5
check_eq "terminal 1: Ana's DESFire pays 5,00" "0|card $ANA pay: paid 5.00, 15.00 euros left|" "$RC|$OUT|$ERR"
tap 1 ana --balance
check_eq "terminal 1: Ana's balance (the card read past the payment)" \
    "0|card $ANA balance: 0 points, 15.00 euros, stamps 0 0 0 0|" "$RC|$OUT|$ERR"
tap 1 marta --pay 5
check_eq "terminal 1: Marta's Classic pays 5,00" "0|card $MARTA pay: paid 5.00, 15.00 euros left|" "$RC|$OUT|$ERR"
tap 1 marta --balance
check_eq "terminal 1: Marta's balance" \
    "0|card $MARTA balance: 0 points, 15.00 euros, stamps 0 0 0 0|" "$RC|$OUT|$ERR"
"$LT" journal export -o "$T/e1.ljx" --data "$T/till1" >/dev/null
run_capture "$LEAL" sync import "$T/e1.ljx"
check_eq "terminal 1's journal in: nothing to reconcile" "0|" "$RC|$(grep '^reconcile' <<<"$OUT")"
check_eq "the ledger: 15.00 each" "1500 1500" "$(bal "$ANA_ACC" EUR) $(bal "$MARTA_ACC" EUR)"
cp "$T/ana.json" "$T/ana.real"
cp "$T/marta.json" "$T/marta.real"
cp "$T/ana.dump" "$T/ana.json"
cp "$T/marta.dump" "$T/marta.json"

# Terminal 3's next package carries the floors the ledger saw (terminal 1's
# reads: DESFire 2 taps, Classic seq 3, 2 taps): the dumps are refused.
run_capture "$LEAL" terminal package --terminal 3 -o "$T/p3b.lpkg" --json
check_eq "terminal 3's package: a floor per card, no hot list" "0 2 0" \
    "$RC $(field floors <<<"$OUT") $(field hot_list <<<"$OUT")"
"$LT" load "$T/p3b.lpkg" --data "$T/till3" >/dev/null
tap 3 ana --pay 7 --json
check_eq "terminal 3: Ana's restored DESFire dump refused behind its floor, exit 3, nothing taken" \
    "3 refused LEAL_E_TERMINAL_BEHIND_FLOOR 20.00" \
    "$RC $(jfield '["outcome"]' <<<"$OUT") $(jfield '["reason"]["name"]' <<<"$OUT") $(jfield '["purse_after"]' <<<"$OUT")"
tap 3 marta --pay 7 --json
check_eq "terminal 3: Marta's restored Classic dump refused behind its floor, exit 3" \
    "3 refused LEAL_E_TERMINAL_BEHIND_FLOOR" \
    "$RC $(jfield '["outcome"]' <<<"$OUT") $(jfield '["reason"]["name"]' <<<"$OUT")"

# Terminal 2 still runs its first package (no floors): it takes the dumps' money.
tap 2 ana --pay 7
check_eq "terminal 2 (not synced): the restored DESFire dump pays 7,00 from its 20.00" \
    "0|card $ANA pay: paid 7.00, 13.00 euros left|" "$RC|$OUT|$ERR"
tap 2 marta --pay 7
check_eq "terminal 2 (not synced): the restored Classic dump pays 7,00 from its 20.00" \
    "0|card $MARTA pay: paid 7.00, 13.00 euros left|" "$RC|$OUT|$ERR"
"$LT" journal export -o "$T/e2.ljx" --data "$T/till2" >/dev/null
"$LT" journal export -o "$T/e3.ljx" --data "$T/till3" >/dev/null
E1=$(q "select epoch from terminal_entry where terminal_id = 1 limit 1")
run_capture "$LEAL" sync import "$T/e3.ljx"
E3=$(q "select epoch from terminal_entry where terminal_id = 3 limit 1")
check_eq "terminal 3's refusals in: each shows its card back at the dump's counter, a clone; both cards blocked" \
    "0|reconcile: 2 new finding(s) (2 fraud, 2 card(s) blocked), 2 open: leal reconcile lists them" \
    "$RC|$(grep '^reconcile' <<<"$OUT")"
check_eq "the two refusals recorded, nothing moved" "2|1500 1500" \
    "$(q "select count(*) from terminal_entry where terminal_id = 3 and outcome = 'recorded' and op = 9")|$(bal "$ANA_ACC" EUR) $(bal "$MARTA_ACC" EUR)"
check_eq "both cards blocked, each event naming terminal 1's payment and terminal 3's refusal at the dump's counter" \
    "blocked|reconcile clone: t1/e$E1/s2 and t3/e$E3/s2 at counter 1
blocked|reconcile clone: t1/e$E1/s4 and t3/e$E3/s3 at counter 2" \
    "$(q "select c.status || '|' || (select reason from card_event e where e.card_id = c.card_id order by e.id desc limit 1) from card c where c.card_id in ($ANA, $MARTA) order by c.card_id = $MARTA")"
run_capture "$LEAL" sync import "$T/e2.ljx"
E2=$(q "select epoch from terminal_entry where terminal_id = 2 limit 1")
check_eq "terminal 2's journal in: its payments from the dumps, two clones more (the cards blocked already)" \
    "0|reconcile: 2 new finding(s) (2 fraud, 0 card(s) blocked), 4 open: leal reconcile lists them" \
    "$RC|$(grep '^reconcile' <<<"$OUT")"
check_eq "the findings: per card, terminal 1's payment against terminal 3's refusal and terminal 2's payment" \
    "clone|$ANA|3|t1/e$E1/s2 and t3/e$E3/s2 at counter 1
clone|$ANA|2|t1/e$E1/s2 and t2/e$E2/s2 at counter 1
clone|$MARTA|3|t1/e$E1/s4 and t3/e$E3/s3 at counter 2
clone|$MARTA|2|t1/e$E1/s4 and t2/e$E2/s3 at counter 2" \
    "$(q "select kind || '|' || card_id || '|' || terminal_id || '|' || evidence from reconcile_finding order by card_id = $MARTA, id")"
check_eq "the ledger took both dumps' payments: 20.00 - 5.00 - 7.00 each" "800 800" \
    "$(bal "$ANA_ACC" EUR) $(bal "$MARTA_ACC" EUR)"

# Terminal 1's next package hot-lists both; leal-terminal refuses them.
run_capture "$LEAL" terminal package --terminal 1 -o "$T/p1b.lpkg" --json
check_eq "terminal 1's next package: both cards hot-listed" "0 2" "$RC $(field hot_list <<<"$OUT")"
"$LT" load "$T/p1b.lpkg" --data "$T/till1" >/dev/null
cp "$T/ana.real" "$T/ana.json"
cp "$T/marta.real" "$T/marta.json"
tap 1 ana --pay 1 --json
check_eq "terminal 1: the genuine DESFire card refused, hot-listed, exit 3, nothing taken" \
    "3 refused LEAL_E_TERMINAL_HOT_LISTED 15.00" \
    "$RC $(jfield '["outcome"]' <<<"$OUT") $(jfield '["reason"]["name"]' <<<"$OUT") $(jfield '["purse_after"]' <<<"$OUT")"
tap 1 marta --pay 1 --json
check_eq "terminal 1: the genuine Classic card refused, hot-listed, exit 3" \
    "3 refused LEAL_E_TERMINAL_HOT_LISTED" \
    "$RC $(jfield '["outcome"]' <<<"$OUT") $(jfield '["reason"]["name"]' <<<"$OUT")"
"$LT" journal export -o "$T/e1b.ljx" --data "$T/till1" >/dev/null
run_capture "$LEAL" sync import "$T/e1b.ljx"
check_eq "the two refusals journaled and recorded, nothing moved" "0|2|800 800" \
    "$RC|$(q "select count(*) from terminal_entry where terminal_id = 1 and outcome = 'recorded' and op = 9")|$(bal "$ANA_ACC" EUR) $(bal "$MARTA_ACC" EUR)"
run_capture "$LEAL" ledger verify
check_match "ledger verify" "^ledger ok" "$OUT"
finish
